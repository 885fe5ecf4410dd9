package types

import (
	"fmt"
)

// A DATE is stored as an int32 count of days since 1970-01-01 in the
// proleptic Gregorian calendar (negative before it). Literals and text
// cover the years 0001 to 9999.

// MinDateYear and MaxDateYear bound the years DATE literals may name.
const (
	MinDateYear = 1
	MaxDateYear = 9999
)

// isLeap reports whether y is a Gregorian leap year.
func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// DaysInMonth returns the number of days of month m (1..12) of year y.
func DaysInMonth(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil counts days from 1970-01-01 to y-m-d. The calendar repeats
// every 400 years (146097 days); years are shifted to start in March so
// that the leap day is the last day of a year.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400                             // 0..399
	mp := (m + 9) % 12                             // March = 0
	doy := (153*mp+2)/5 + d - 1                    // 0..365
	doe := yoe*365 + yoe/4 - yoe/100 + doy         // 0..146096
	return int64(era)*146097 + int64(doe) - 719468 // 719468 = days 0000-03-01 → 1970-01-01
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := int(z - era*146097)                             // 0..146096
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // 0..399
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // 0..365
	mp := (5*doy + 2) / 153                                // March = 0
	d = doy - (153*mp+2)/5 + 1
	m = (mp+2)%12 + 1
	y = yoe + int(era)*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

// DateFromCivil returns the DATE of year y, month m, day d, or ErrSyntax
// wrapped in a message naming the field if the date does not exist or the
// year is outside 1..9999.
func DateFromCivil(y, m, d int) (int32, error) {
	switch {
	case y < MinDateYear || y > MaxDateYear:
		return 0, fmt.Errorf("date %04d-%02d-%02d: year outside %d..%d: %w", y, m, d, MinDateYear, MaxDateYear, ErrSyntax)
	case m < 1 || m > 12:
		return 0, fmt.Errorf("date %04d-%02d-%02d: month outside 1..12: %w", y, m, d, ErrSyntax)
	case d < 1 || d > DaysInMonth(y, m):
		return 0, fmt.Errorf("date %04d-%02d-%02d: day outside 1..%d: %w", y, m, d, DaysInMonth(y, m), ErrSyntax)
	}
	return int32(daysFromCivil(y, m, d)), nil
}

// DateCivil returns the year, month (1..12) and day (1..31) of a DATE.
func DateCivil(date int32) (y, m, d int) { return civilFromDays(int64(date)) }

// ParseDate parses a DATE literal "YYYY-MM-DD" (a four-digit year; month
// and day with one or two digits). Errors name the literal and wrap
// ErrSyntax.
func ParseDate(s string) (int32, error) {
	i := 0
	num := func(minDigits, maxDigits int) (int, bool) {
		v, n := 0, 0
		for i < len(s) && n < maxDigits && s[i] >= '0' && s[i] <= '9' {
			v = v*10 + int(s[i]-'0')
			i++
			n++
		}
		return v, n >= minDigits
	}
	sep := func() bool {
		if i < len(s) && s[i] == '-' {
			i++
			return true
		}
		return false
	}
	y, ok := num(4, 4)
	if !ok || !sep() {
		return 0, fmt.Errorf("parse date %q: want YYYY-MM-DD: %w", s, ErrSyntax)
	}
	m, ok := num(1, 2)
	if !ok || !sep() {
		return 0, fmt.Errorf("parse date %q: want YYYY-MM-DD: %w", s, ErrSyntax)
	}
	d, ok := num(1, 2)
	if !ok || i != len(s) {
		return 0, fmt.Errorf("parse date %q: want YYYY-MM-DD: %w", s, ErrSyntax)
	}
	date, err := DateFromCivil(y, m, d)
	if err != nil {
		return 0, fmt.Errorf("parse date %q: %w", s, err)
	}
	return date, nil
}

// FormatDate returns "YYYY-MM-DD" for a DATE. Years outside 0..9999 are
// printed with as many digits as they need and a sign if negative.
func FormatDate(date int32) string { return string(AppendDate(nil, date)) }

// AppendDate appends FormatDate(date) to dst.
func AppendDate(dst []byte, date int32) []byte {
	y, m, d := DateCivil(date)
	if y < 0 || y > 9999 {
		return fmt.Appendf(dst, "%d-%02d-%02d", y, m, d)
	}
	return append(dst,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-',
		byte('0'+d/10), byte('0'+d%10))
}

// AddMonths adds n months to a DATE. A day past the end of the resulting
// month is clamped to its last day (2024-01-31 + 1 month = 2024-02-29), as
// PostgreSQL and DuckDB do for interval arithmetic. It fails with
// ErrOverflow when the result leaves the years 1..9999.
func AddMonths(date int32, n int64) (int32, error) {
	if n > 12*MaxDateYear || n < -12*MaxDateYear {
		return 0, fmt.Errorf("%s + %d months: %w", FormatDate(date), n, ErrOverflow)
	}
	y, m, d := DateCivil(date)
	total := y*12 + (m - 1) + int(n)
	ny, nm := total/12, total%12+1
	if total < 0 || ny < MinDateYear || ny > MaxDateYear {
		return 0, fmt.Errorf("%s + %d months: %w", FormatDate(date), n, ErrOverflow)
	}
	return int32(daysFromCivil(ny, nm, min(d, DaysInMonth(ny, nm)))), nil
}

// AddDays adds n days to a DATE (date ± interval 'n' day), failing with
// ErrOverflow when the result leaves the years 1..9999.
func AddDays(date int32, n int64) (int32, error) {
	lo, hi := daysFromCivil(MinDateYear, 1, 1), daysFromCivil(MaxDateYear, 12, 31)
	if n < lo-hi || n > hi-lo {
		return 0, fmt.Errorf("%s + %d days: %w", FormatDate(date), n, ErrOverflow)
	}
	r := int64(date) + n
	if r < lo || r > hi {
		return 0, fmt.Errorf("%s + %d days: %w", FormatDate(date), n, ErrOverflow)
	}
	return int32(r), nil
}
