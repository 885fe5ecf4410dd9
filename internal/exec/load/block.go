package load

import (
	"errors"
	"fmt"

	"github.com/bpfdb/bpfdb/internal/vector"
)

// parseBlock parses the records of b into chunks of up to vector.Size rows.
// It stops at the first bad record; the error's line is relative to the
// block.
func (l *loader) parseBlock(b block) parsed {
	p := parsed{seq: b.seq}
	s := &splitter{delim: l.delim, quoting: l.quoting}
	sinks := make([]sink, len(l.cols))
	var c *vector.Chunk
	n := 0 // rows in c
	flush := func() {
		if c != nil {
			c.SetLen(n)
			p.chunks = append(p.chunks, c)
			c = nil
		}
	}
	ncols := len(l.cols)
	data := b.data
	line := 0 // newlines before the current record
	skipHeader := l.opts.Header && b.seq == 0
	for pos := 0; pos < len(data); {
		end, lines, serr := s.next(data, pos)
		recLine := line + 1
		pos, line = end, line+lines
		if serr != nil {
			p.err = l.rowError(recLine, serr.field, nil, serr.msg)
			break
		}
		if skipHeader {
			skipHeader = false
			continue
		}
		fields := s.fields
		if len(fields) == ncols+1 && !l.quoting && fields[ncols].start == fields[ncols].end {
			fields = fields[:ncols] // dbgen's trailing '|'
		}
		if len(fields) != ncols {
			p.err = l.fieldCountError(recLine, len(fields))
			break
		}
		if c == nil {
			c = l.getChunk()
			for j := range sinks {
				sinks[j].bind(c.Col(j))
			}
			n = 0
		}
		for j, f := range fields {
			f := data[f.start:f.end:f.end]
			if err := l.cols[j].parseField(&sinks[j], n, f, fields[j].quoted); err != nil {
				p.err = l.rowError(recLine, j, f, l.valueMsg(j, err))
				p.err.value = err != errNotNull
				break
			}
		}
		if p.err != nil {
			break
		}
		n++
		if n == vector.Size {
			flush()
		}
	}
	if p.err != nil {
		for _, c := range p.chunks {
			l.chunks.Put(c)
		}
		p.chunks = nil
		if c != nil {
			l.chunks.Put(c)
		}
		return p
	}
	flush()
	p.lines = line
	return p
}

// valueMsg says what is wrong with a field column j refused with err.
func (l *loader) valueMsg(j int, err error) string {
	c := &l.cols[j]
	switch {
	case errors.Is(err, errInvalid):
		return "invalid " + c.typ.String()
	case errors.Is(err, errRange):
		return "out of range for " + c.typ.String()
	}
	return err.Error()
}

// rowError describes a bad field j (0-based) of the record at line.
func (l *loader) rowError(line, j int, field []byte, msg string) *RowError {
	e := &RowError{Input: l.name, Line: line, Column: j + 1, Field: string(field), Msg: msg}
	if j < len(l.cols) {
		e.Name = l.cols[j].name
	}
	return e
}

// fieldCountError describes a record of got fields.
func (l *loader) fieldCountError(line, got int) *RowError {
	want := len(l.cols)
	if got < want {
		return l.rowError(line, got, nil, fmt.Sprintf("missing: the line has %d fields, the table %d columns", got, want))
	}
	return l.rowError(line, want, nil, fmt.Sprintf("extra field: the line has %d fields, the table %d columns", got, want))
}
