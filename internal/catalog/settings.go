package catalog

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// A Setting is one setting of SET and SHOW, as Settings lists it.
type Setting struct {
	Name        string
	Value       string // as Setting returns it
	Description string
}

// settingValues are the session's settings other than memory_limit, which
// lives in the buffer manager. Guarded by Catalog.setMu.
type settingValues struct {
	threads            int
	disabledOptimizers string // normalized: lower case, ", " between names
	nullOrder          string
	order              string
	unlimited          bool // memory_limit 'none' or -1
}

func defaultSettings(threads int) settingValues {
	return settingValues{threads: threads, nullOrder: "nulls_last", order: "asc"}
}

// settingDef is one setting: how to show it and how to change it. get and
// set run with Catalog.setMu held; v is the value as given, trimmed.
type settingDef struct {
	name, desc string
	get        func(c *Catalog) string
	set        func(c *Catalog, v string) error
}

// settingDefs are the settings, by name. DuckDB has the same names and
// values.
var settingDefs = []settingDef{
	{
		name: "default_null_order",
		desc: "where ORDER BY puts NULLs when the query does not say: nulls_last, nulls_first, nulls_first_on_asc_last_on_desc or nulls_last_on_asc_first_on_desc",
		get:  func(c *Catalog) string { return c.settings.nullOrder },
		set: func(c *Catalog, v string) error {
			switch n := strings.ReplaceAll(strings.ToLower(v), " ", "_"); n {
			case "nulls_last", "nulls_first", "nulls_first_on_asc_last_on_desc", "nulls_last_on_asc_first_on_desc":
				c.settings.nullOrder = n
				return nil
			}
			return fmt.Errorf("%w: want nulls_last, nulls_first, nulls_first_on_asc_last_on_desc or nulls_last_on_asc_first_on_desc", ErrInvalidSetting)
		},
	},
	{
		name: "default_order",
		desc: "the direction of ORDER BY when the query does not say: asc or desc",
		get:  func(c *Catalog) string { return c.settings.order },
		set: func(c *Catalog, v string) error {
			switch strings.ToLower(v) {
			case "asc", "ascending":
				c.settings.order = "asc"
			case "desc", "descending":
				c.settings.order = "desc"
			default:
				return fmt.Errorf("%w: want asc or desc", ErrInvalidSetting)
			}
			return nil
		},
	},
	{
		name: "disabled_optimizers",
		desc: "optimizer passes not to run, a comma-separated list (the optimizer checks the names)",
		get:  func(c *Catalog) string { return c.settings.disabledOptimizers },
		set: func(c *Catalog, v string) error {
			var names []string
			for _, n := range strings.Split(v, ",") {
				if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
					names = append(names, n)
				}
			}
			c.settings.disabledOptimizers = strings.Join(names, ", ")
			return nil
		},
	},
	{
		name: "memory_limit",
		desc: "the buffer manager's memory limit: '256MB', '1GB' (powers of 1000), '2GiB' (powers of 1024), 'none'",
		get: func(c *Catalog) string {
			if c.settings.unlimited {
				return "none"
			}
			return FormatBytes(c.buf.Limit())
		},
		set: func(c *Catalog, v string) error {
			n, err := ParseMemoryLimit(v)
			if err != nil {
				return err
			}
			if err := c.buf.SetLimit(n); err != nil {
				return err
			}
			c.settings.unlimited = n == math.MaxInt64
			return nil
		},
	},
	{
		name: "threads",
		desc: "the number of worker threads queries run on",
		get:  func(c *Catalog) string { return strconv.Itoa(c.settings.threads) },
		set: func(c *Catalog, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxThreads {
				return fmt.Errorf("%w: want a whole number from 1 to %d", ErrInvalidSetting, maxThreads)
			}
			c.settings.threads = n
			return nil
		},
	},
}

// maxThreads bounds the threads setting.
const maxThreads = 1 << 12

func lookupSetting(name string) (*settingDef, error) {
	for i := range settingDefs {
		if settingDefs[i].name == strings.ToLower(name) {
			return &settingDefs[i], nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownSetting, name)
}

// Set changes a setting (names without regard to case). Settings belong to
// the open database, not to its file: they are not persisted, and every Open
// starts from the defaults (threads and memory_limit from Options). Setting
// memory_limit applies it to the buffer manager at once, evicting; if what
// is pinned does not fit, the old limit stays and the error wraps
// buffer.ErrOutOfMemory.
func (c *Catalog) Set(name, value string) error {
	d, err := lookupSetting(name)
	if err != nil {
		return err
	}
	c.setMu.Lock()
	defer c.setMu.Unlock()
	if err := d.set(c, strings.TrimSpace(value)); err != nil {
		return fmt.Errorf("set %s to %q: %w", d.name, strings.TrimSpace(value), err)
	}
	return nil
}

// Setting returns the value of a setting, in a form Set accepts.
func (c *Catalog) Setting(name string) (string, error) {
	d, err := lookupSetting(name)
	if err != nil {
		return "", err
	}
	c.setMu.Lock()
	defer c.setMu.Unlock()
	return d.get(c), nil
}

// Settings returns every setting, by name.
func (c *Catalog) Settings() []Setting {
	c.setMu.Lock()
	defer c.setMu.Unlock()
	out := make([]Setting, len(settingDefs))
	for i, d := range settingDefs {
		out[i] = Setting{Name: d.name, Value: d.get(c), Description: d.desc}
	}
	return out
}

// Threads returns the threads setting.
func (c *Catalog) Threads() int {
	c.setMu.Lock()
	defer c.setMu.Unlock()
	return c.settings.threads
}

// memoryUnits are the units of memory_limit, as DuckDB spells them.
var memoryUnits = map[string]float64{
	"b": 1, "byte": 1, "bytes": 1,
	"k": 1e3, "kb": 1e3, "kilobyte": 1e3, "kilobytes": 1e3,
	"m": 1e6, "mb": 1e6, "megabyte": 1e6, "megabytes": 1e6,
	"g": 1e9, "gb": 1e9, "gigabyte": 1e9, "gigabytes": 1e9,
	"t": 1e12, "tb": 1e12, "terabyte": 1e12, "terabytes": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// ParseMemoryLimit parses a memory_limit value: a number (decimals allowed)
// and a unit, with or without a space: '256MB', '1.5 GB' (powers of 1000),
// '2GiB' (powers of 1024), '100 bytes'; case does not matter. 'none' and
// '-1' mean no limit (math.MaxInt64). Errors wrap ErrInvalidSetting and say
// what is wrong, not the value (the caller names it).
func ParseMemoryLimit(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "none" || t == "-1" {
		return math.MaxInt64, nil
	}
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	x, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, fmt.Errorf("%w: want a number and a unit such as '256MB' or '2GiB'", ErrInvalidSetting)
	}
	mult, ok := memoryUnits[unit]
	if !ok {
		return 0, fmt.Errorf("%w: unknown unit %q (KB, MB, GB, TB for powers of 1000; KiB, MiB, GiB, TiB for powers of 1024)", ErrInvalidSetting, unit)
	}
	n := x * mult
	switch {
	case n < 1:
		return 0, fmt.Errorf("%w: below one byte", ErrInvalidSetting)
	case n >= math.MaxInt64:
		return 0, fmt.Errorf("%w: too large", ErrInvalidSetting)
	}
	return int64(n), nil
}

// FormatBytes formats a byte count as DuckDB shows memory_limit: "512
// bytes", then one decimal in KiB, MiB, GiB, TiB or PiB ("1.0 GiB",
// "953.6 MiB"). ParseMemoryLimit reads it back (to that precision).
func FormatBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	f, unit := float64(n), ""
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		f /= 1024
		unit = u
		if f < 1024 {
			break
		}
	}
	return fmt.Sprintf("%.1f %s", f, unit)
}
