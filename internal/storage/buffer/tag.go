package buffer

import "fmt"

// A Tag says what a block's memory is used for; memory is accounted per tag
// (Metrics.Tags) so that a policy can, say, give hash tables a quota.
type Tag uint8

// The tags.
const (
	TagBaseTable  Tag = iota // column segments of stored tables
	TagHashTable             // hash join and hash aggregate tables
	TagSort                  // sort runs and their keys
	TagColumnData            // materialized intermediate results
	TagMetadata              // storage metadata (row group and segment descriptions)
	TagOther                 // anything else
	NumTags                  // the number of tags
)

var tagNames = [NumTags]string{"base table", "hash table", "sort", "column data", "metadata", "other"}

// String returns the tag's name, as used in metrics ("hash table").
func (t Tag) String() string {
	if t < NumTags {
		return tagNames[t]
	}
	return fmt.Sprintf("Tag(%d)", t)
}

// ParseTag returns the tag named s (a name String returns, or the same with
// '-' for ' ').
func ParseTag(s string) (Tag, error) {
	for t := range NumTags {
		if n := tagNames[t]; s == n || s == dashed(n) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown memory tag %q", s)
}

func dashed(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == ' ' {
			b[i] = '-'
		}
	}
	return string(b)
}
