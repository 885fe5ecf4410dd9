package dbgen

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Table names one of the eight TPC-H tables.
type Table int

// The TPC-H tables, in the order WriteDir writes them.
const (
	Region Table = iota
	Nation
	Supplier
	Customer
	Part
	PartSupp
	Orders
	Lineitem
)

// Tables returns every table in the order WriteDir writes them.
func Tables() []Table {
	return []Table{Region, Nation, Supplier, Customer, Part, PartSupp, Orders, Lineitem}
}

var tableNames = [...]string{"region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"}

// String returns the table's SQL name ("lineitem"); its file is String()+".tbl".
func (t Table) String() string {
	if t < 0 || int(t) >= len(tableNames) {
		return "Table(" + strconv.Itoa(int(t)) + ")"
	}
	return tableNames[t]
}

// ErrUnknownTable is returned by ParseTable for a name that is not a TPC-H table.
var ErrUnknownTable = errors.New("unknown TPC-H table")

// ParseTable returns the table with the given SQL name.
func ParseTable(name string) (Table, error) {
	for i, n := range tableNames {
		if n == name {
			return Table(i), nil
		}
	}
	return 0, fmt.Errorf("parse table %q: %w", name, ErrUnknownTable)
}

// Format selects how rows are printed.
type Format int

const (
	// FormatDuckDB prints fields separated by '|' with nothing after the last
	// one, and l_quantity as a decimal ("17.00"): the format of the files in
	// ../shared/tpch, exported from DuckDB.
	FormatDuckDB Format = iota
	// FormatDbgen prints what dbgen itself writes: every field followed by
	// '|', l_quantity as an integer ("17").
	FormatDbgen
)

// String returns "duckdb" or "dbgen".
func (f Format) String() string {
	switch f {
	case FormatDuckDB:
		return "duckdb"
	case FormatDbgen:
		return "dbgen"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// ErrUnknownFormat is returned by ParseFormat for a name that is not a format.
var ErrUnknownFormat = errors.New("unknown output format")

// ParseFormat returns the format named "duckdb" or "dbgen".
func ParseFormat(name string) (Format, error) {
	for _, f := range []Format{FormatDuckDB, FormatDbgen} {
		if f.String() == name {
			return f, nil
		}
	}
	return 0, fmt.Errorf("parse format %q: %w (want duckdb or dbgen)", name, ErrUnknownFormat)
}

// ErrScaleFactor is returned for a scale factor dbgen cannot generate.
var ErrScaleFactor = errors.New("invalid scale factor")

// Generator produces the rows of one scale factor. It holds no random state
// (every call starts its streams from the requested row), so one Generator
// may be used by many goroutines at once.
type Generator struct {
	sf     float64
	format Format
	scale  int64 // dbgen's integer scale: 1 below SF 1
	// Row counts of the driving tables and the key ranges derived from them.
	suppliers, customers, parts, orders int64
	clerks                              int64
	// duckdbVariant makes the text of DuckDB's copy of dbgen instead of the
	// official one's (see variant.go); the tests use it to compare with
	// DuckDB's published query answers.
	duckdbVariant bool
}

// Base row counts at scale factor 1 (dbgen's tdefs).
const (
	baseParts     = 200000
	baseSuppliers = 10000
	baseCustomers = 150000
	baseOrders    = 150000 * 10
)

// New returns a generator for scale factor sf. Below 1, sf is used in steps
// of 0.001 as dbgen does (SF 0.01 has 100 suppliers); from 1 on, it must be
// a whole number below 30000 (beyond that dbgen switches to a different
// random generator for keys, which this package does not implement).
func New(sf float64, format Format) (*Generator, error) {
	if math.IsNaN(sf) || sf <= 0 || sf >= 30000 {
		return nil, fmt.Errorf("scale factor %v: %w (want 0 < sf < 30000)", sf, ErrScaleFactor)
	}
	if format != FormatDuckDB && format != FormatDbgen {
		return nil, fmt.Errorf("new generator: unknown format %d", int(format))
	}
	g := &Generator{sf: sf, format: format, scale: 1}
	scaled := func(base int64) int64 { return base }
	if sf < 1 {
		milli := int64(1000 * sf) // dbgen truncates the same way
		scaled = func(base int64) int64 { return max(milli*base/1000, 1) }
	} else {
		if sf != math.Trunc(sf) {
			return nil, fmt.Errorf("scale factor %v: %w (above 1 it must be a whole number)", sf, ErrScaleFactor)
		}
		g.scale = int64(sf)
	}
	g.parts = scaled(baseParts) * g.scale
	g.suppliers = scaled(baseSuppliers) * g.scale
	g.customers = scaled(baseCustomers) * g.scale
	g.orders = scaled(baseOrders) * g.scale
	g.clerks = max(g.scale*1000, 1000)
	return g, nil
}

// ScaleFactor returns the scale factor the generator was made for.
func (g *Generator) ScaleFactor() float64 { return g.sf }

// DrivingRows returns the number of driving rows of table t: its row count,
// except for partsupp (4 rows per part: the part count) and lineitem (1 to 7
// rows per order: the order count). AppendRows takes ranges of driving rows.
func (g *Generator) DrivingRows(t Table) int64 {
	switch t {
	case Region:
		return int64(len(distRegions))
	case Nation:
		return int64(len(distNations))
	case Supplier:
		return g.suppliers
	case Customer:
		return g.customers
	case Part, PartSupp:
		return g.parts
	case Orders, Lineitem:
		return g.orders
	}
	return 0
}

// Rows returns the number of rows of table t. For lineitem it draws the
// number of lines of every order (one draw per order, no other work).
func (g *Generator) Rows(t Table) int64 {
	switch t {
	case PartSupp:
		return 4 * g.parts
	case Lineitem:
		s := stream{seed: streamDefs[sOrderLines].seed}
		var n int64
		for range g.orders {
			n += s.draw(1, 7) // one draw per order: no skipping needed
		}
		return n
	}
	return g.DrivingRows(t)
}

// driver returns the table whose rows drive t's random streams.
func driver(t Table) Table {
	switch t {
	case PartSupp:
		return Part
	case Lineitem:
		return Orders
	}
	return t
}

// rowStreams lists, per driving table, the streams whose unused draws are
// skipped at the end of each row.
var rowStreams = func() (r [8][]int) {
	for i, d := range streamDefs {
		switch d.table {
		case noTable:
		case PartSupp:
			r[Part] = append(r[Part], i)
		case Lineitem:
			r[Orders] = append(r[Orders], i)
		default:
			r[d.table] = append(r[d.table], i)
		}
	}
	return r
}()

// AppendRows appends to dst the rows of table t generated by driving rows
// first .. first+n-1 (1-based; see DrivingRows), one line each, and returns
// the extended buffer.
func (g *Generator) AppendRows(dst []byte, t Table, first, n int64) []byte {
	if t < 0 || int(t) >= len(tableNames) {
		panic(fmt.Sprintf("BUG: dbgen: AppendRows of unknown table %d", int(t)))
	}
	var b [2][]byte
	b[0] = dst
	want := [2]bool{true, false}
	if t == Lineitem {
		b, want = [2][]byte{nil, dst}, [2]bool{false, true}
	}
	b = g.appendRows(b, want, driver(t), t, first, n)
	if t == Lineitem {
		return b[1]
	}
	return b[0]
}

// AppendOrdersLineitems appends to orders and lineitems the rows of both
// tables driven by orders first .. first+n-1, generating each order once.
func (g *Generator) AppendOrdersLineitems(orders, lineitems []byte, first, n int64) ([]byte, []byte) {
	b := g.appendRows([2][]byte{orders, lineitems}, [2]bool{true, true}, Orders, Orders, first, n)
	return b[0], b[1]
}

// appendRows generates driving rows first..first+n-1 of table d. For orders,
// want says which of orders (b[0]) and lineitem (b[1]) to produce; for the
// other tables t is the one produced into b[0].
func (g *Generator) appendRows(b [2][]byte, want [2]bool, d, t Table, first, n int64) [2][]byte {
	ss := streamsAt(d, first)
	pool := g.textPool()
	var scratch []byte
	fill := [2]textFiller{{poolSize: len(pool)}, {poolSize: len(pool)}}
	for row := first; row < first+n; row++ {
		switch t {
		case Region:
			b[0] = g.appendRegion(&fill[0], b[0], &ss, row)
		case Nation:
			b[0] = g.appendNation(&fill[0], b[0], &ss, row)
		case Supplier:
			b[0], scratch = g.appendSupplier(b[0], scratch, &ss, row)
		case Customer:
			b[0] = g.appendCustomer(&fill[0], b[0], &ss, row)
		case Part, PartSupp:
			b[0] = g.appendPart(&fill[0], b[0], &ss, row, t == PartSupp)
		case Orders, Lineitem:
			b = g.appendOrder(&fill, b, want, &ss, row)
		}
		for _, i := range rowStreams[d] {
			ss[i].endRow()
		}
		for i := range fill {
			if len(fill[i].refs) >= fillBatch {
				fill[i].fill(b[i], pool)
			}
		}
	}
	for i := range fill {
		fill[i].fill(b[i], pool)
	}
	return b
}

// endRow finishes a line: dbgen format keeps the '|' after the last field,
// DuckDB format drops it.
func (g *Generator) endRow(b []byte) []byte {
	if g.format == FormatDuckDB {
		b = b[:len(b)-1]
	}
	return append(b, '\n')
}

func appendField(b []byte, s string) []byte {
	return append(append(b, s...), '|')
}

func appendIntField(b []byte, v int64) []byte {
	return append(strconv.AppendInt(b, v, 10), '|')
}

// appendMoney appends cents as dbgen prints money: "-12.05", "0.04".
func appendMoney(b []byte, cents int64) []byte {
	if cents < 0 {
		b = append(b, '-')
		cents = -cents
	}
	b = strconv.AppendInt(b, cents/100, 10)
	c := cents % 100
	return append(b, '.', byte('0'+c/10), byte('0'+c%10), '|')
}

// appendPadded appends prefix and v zero-padded to width digits.
func appendPadded(b []byte, prefix string, v int64, width int) []byte {
	b = append(b, prefix...)
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], v, 10)
	for i := len(d); i < width; i++ {
		b = append(b, '0')
	}
	return append(append(b, d...), '|')
}

func (g *Generator) appendRegion(o *textFiller, b []byte, ss *[numStreams]stream, row int64) []byte {
	b = appendIntField(b, row-1)
	b = appendField(b, distRegions[row-1].text)
	b = o.text(b, &ss[sRegionComment], 72)
	return g.endRow(append(b, '|'))
}

func (g *Generator) appendNation(o *textFiller, b []byte, ss *[numStreams]stream, row int64) []byte {
	var region int64
	for _, m := range distNations[:row] {
		region += m.weight
	}
	b = appendIntField(b, row-1)
	b = appendField(b, distNations[row-1].text)
	b = appendIntField(b, region)
	b = o.text(b, &ss[sNationComment], 72)
	return g.endRow(append(b, '|'))
}

// appendPhone appends a phone number: the country code 10+nation, then
// three random groups.
func appendPhone(b []byte, s *stream, nation int64) []byte {
	area := s.draw(100, 999)
	exchange := s.draw(100, 999)
	number := s.draw(1000, 9999)
	cc := 10 + nation%90
	b = append(b, byte('0'+cc/10), byte('0'+cc%10), '-')
	b = strconv.AppendInt(b, area, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, exchange, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, number, 10)
	return append(b, '|')
}

// Supplier comments: 10 per scale-factor unit (one in a thousand rows) get
// "Customer " and, after a random gap, "Complaints" or "Recommends" written
// over their text (TPC-H clause 4.2.3; query 16 looks for them).
const (
	bbbBase = "Customer "
	bbbLen  = 19 // len("Customer ") + len("Complaints")
)

func (g *Generator) appendSupplier(b, scratch []byte, ss *[numStreams]stream, row int64) ([]byte, []byte) {
	b = appendIntField(b, row)
	b = appendPadded(b, "Supplier#", row, 9)
	b = append(appendRandomString(b, &ss[sSuppAddress], 25, !g.duckdbVariant), '|')
	nation := ss[sSuppNation].draw(0, int64(len(distNations))-1)
	b = appendIntField(b, nation)
	b = appendPhone(b, &ss[sSuppPhone], nation)
	b = appendMoney(b, ss[sSuppBalance].draw(-99999, 999999))
	scratch = appendText(scratch[:0], &ss[sSuppComment], 63, g.textPool())
	n := int64(len(scratch))
	bad := ss[sBBBComment].draw(1, 10000)
	kind := ss[sBBBType].draw(0, 100)
	gap := ss[sBBBJunk].draw(0, n-bbbLen)
	off := ss[sBBBOffset].draw(0, n-(bbbLen+gap))
	if bad <= 10 {
		copy(scratch[off:], bbbBase)
		word := "Recommends"
		if kind < 50 {
			word = "Complaints"
		}
		copy(scratch[off+int64(len(bbbBase))+gap:], word)
	}
	b = append(b, scratch...)
	return g.endRow(append(b, '|')), scratch
}

func (g *Generator) appendCustomer(o *textFiller, b []byte, ss *[numStreams]stream, row int64) []byte {
	b = appendIntField(b, row)
	b = appendPadded(b, "Customer#", row, 9)
	b = append(appendRandomString(b, &ss[sCustAddress], 25, !g.duckdbVariant), '|')
	nation := ss[sCustNation].draw(0, int64(len(distNations))-1)
	b = appendIntField(b, nation)
	b = appendPhone(b, &ss[sCustPhone], nation)
	b = appendMoney(b, ss[sCustBalance].draw(-99999, 999999))
	b = appendField(b, dSegments.words[dSegments.pick(&ss[sCustSegment])])
	b = o.text(b, &ss[sCustComment], 73)
	return g.endRow(append(b, '|'))
}

// retailPrice is p_retailprice in cents, a function of the part key.
func retailPrice(partkey int64) int64 {
	return 90000 + (partkey/10)%20001 + (partkey%1000)*100
}

// partSupplier returns the key of the i-th (0..3) supplier of a part:
// suppliers are spread so that each supplies about 80 parts per SF unit.
func (g *Generator) partSupplier(partkey, i int64) int64 {
	n := g.suppliers
	return (partkey+i*(n/4+(partkey-1)/n))%n + 1
}

func (g *Generator) appendPart(o *textFiller, b []byte, ss *[numStreams]stream, row int64, supp bool) []byte {
	if supp {
		for i := int64(0); i < 4; i++ {
			b = appendIntField(b, row)
			b = appendIntField(b, g.partSupplier(row, i))
			b = appendIntField(b, ss[sPSQty].draw(1, 9999))
			b = appendMoney(b, ss[sPSCost].draw(100, 100000))
			b = o.text(b, &ss[sPSComment], 124)
			b = g.endRow(append(b, '|'))
		}
		return b
	}
	// p_name: five distinct colors, the first five of a random permutation
	// (dbgen shuffles all 92 colors, Fisher–Yates from the front; steps after
	// the fifth never touch the first five places, so they are left to the
	// end-of-row skip, which consumes their draws).
	var perm [92]uint8
	for i := range perm {
		perm[i] = uint8(i)
	}
	s := &ss[sPartName]
	for i := int64(0); i < 5; i++ {
		j := s.draw(i, int64(len(perm))-1)
		perm[i], perm[j] = perm[j], perm[i]
	}
	b = appendIntField(b, row)
	for i := 0; i < 5; i++ {
		b = append(b, distColors[perm[i]].text...)
		b = append(b, ' ')
	}
	b[len(b)-1] = '|'
	mfgr := ss[sPartMfgr].draw(1, 5)
	brand := ss[sPartBrand].draw(1, 5)
	b = append(b, "Manufacturer#"...)
	b = appendIntField(b, mfgr)
	b = appendPadded(b, "Brand#", mfgr*10+brand, 2)
	b = appendField(b, dTypes.words[dTypes.pick(&ss[sPartType])])
	b = appendIntField(b, ss[sPartSize].draw(1, 50))
	b = appendField(b, dContainers.words[dContainers.pick(&ss[sPartContainer])])
	b = appendMoney(b, retailPrice(row))
	b = o.text(b, &ss[sPartComment], 14)
	return g.endRow(append(b, '|'))
}

// Dates are days since 1992-01-01 (dbgen's STARTDATE). Orders are placed up
// to 151 days before the end of the 2557-day range so that every line ships
// and arrives within it; "now" (CURRENTDATE) is 1995-06-17.
const (
	totalDays    = 2557
	lastOrderDay = totalDays - (121 + 30) - 1
)

var (
	startDate  = time.Date(1992, 1, 1, 0, 0, 0, 0, time.UTC)
	currentDay = int64(time.Date(1995, 6, 17, 0, 0, 0, 0, time.UTC).Sub(startDate).Hours() / 24)
	dateText   = func() (d [totalDays][10]byte) {
		for i := range d {
			copy(d[i][:], startDate.AddDate(0, 0, i).Format(time.DateOnly))
		}
		return d
	}()
)

func appendDate(b []byte, day int64) []byte {
	return append(append(b, dateText[day][:]...), '|')
}

// orderKey spreads order numbers over the key space as dbgen does: the low
// three bits are kept and two zero bits are inserted above them, so only 8 of
// every 32 keys are used.
func orderKey(i int64) int64 {
	return (i>>3)<<5 | i&7
}

// line is one lineitem row of the order being generated.
type line struct {
	partkey, suppkey, qty, discount, tax, price int64
	ship, commit, receipt                       int64
	flag, status                                byte
	instruct, mode                              string
	commentOff, commentLen                      int64 // l_comment's place in the text pool
}

// appendOrder generates one order and its lines, appending the order to
// out[0] if want[0] and its lines to out[1] if want[1].
func (g *Generator) appendOrder(fill *[2]textFiller, out [2][]byte, want [2]bool, ss *[numStreams]stream, row int64) [2][]byte {
	lines := want[1]
	key := orderKey(row)
	cust := ss[sOrderCust].draw(1, g.customers)
	// A third of the customers (keys divisible by 3) place no orders.
	for delta := int64(1); cust%3 == 0; delta = -delta {
		cust = min(cust+delta, g.customers)
	}
	day := ss[sOrderDate].draw(0, lastOrderDay)
	priority := dPriorities.words[dPriorities.pick(&ss[sOrderPriority])]
	clerk := ss[sOrderClerk].draw(1, g.clerks)
	var ls [7]line
	n := ss[sOrderLines].draw(1, 7)
	var total, shipped int64
	for i := range ls[:n] {
		l := &ls[i]
		l.qty = ss[sLineQty].draw(1, 50)
		l.discount = ss[sLineDiscount].draw(0, 10)
		l.tax = ss[sLineTax].draw(0, 8)
		l.instruct = dInstructions.words[dInstructions.pick(&ss[sLineInstruct])]
		l.mode = dShipModes.words[dShipModes.pick(&ss[sLineMode])]
		if lines {
			l.commentOff, l.commentLen = drawText(&ss[sLineComment], 27, fill[1].poolSize)
		}
		l.partkey = ss[sLinePart].draw(1, g.parts)
		l.suppkey = g.partSupplier(l.partkey, ss[sLineSupp].draw(0, 3))
		l.price = retailPrice(l.partkey) * l.qty
		total += l.price * (100 - l.discount) / 100 * (100 + l.tax) / 100
		l.ship = day + ss[sLineShipDate].draw(1, 121)
		l.commit = day + ss[sLineCommit].draw(30, 90)
		l.receipt = l.ship + ss[sLineReceipt].draw(1, 30)
		l.flag = 'N'
		if l.receipt <= currentDay {
			l.flag = dReturnFlags.words[dReturnFlags.pick(&ss[sLineFlag])][0]
		}
		l.status = 'O'
		if l.ship <= currentDay {
			l.status = 'F'
			shipped++
		}
	}
	if lines {
		o, b := &fill[1], out[1]
		for i := range ls[:n] {
			l := &ls[i]
			b = appendIntField(b, key)
			b = appendIntField(b, l.partkey)
			b = appendIntField(b, l.suppkey)
			b = appendIntField(b, int64(i+1))
			b = strconv.AppendInt(b, l.qty, 10)
			if g.format == FormatDuckDB {
				b = append(b, ".00"...)
			}
			b = append(b, '|')
			b = appendMoney(b, l.price)
			b = appendMoney(b, l.discount)
			b = appendMoney(b, l.tax)
			b = append(b, l.flag, '|', l.status, '|')
			b = appendDate(b, l.ship)
			b = appendDate(b, l.commit)
			b = appendDate(b, l.receipt)
			b = appendField(b, l.instruct)
			b = appendField(b, l.mode)
			b = o.reserve(b, l.commentOff, l.commentLen)
			b = g.endRow(append(b, '|'))
		}
		out[1] = b
	}
	if !want[0] {
		return out
	}
	status := byte('O')
	if shipped == n {
		status = 'F'
	} else if shipped > 0 {
		status = 'P'
	}
	o, b := &fill[0], out[0]
	b = appendIntField(b, key)
	b = appendIntField(b, cust)
	b = append(b, status, '|')
	b = appendMoney(b, total)
	b = appendDate(b, day)
	b = appendField(b, priority)
	b = appendPadded(b, "Clerk#", clerk, 9)
	b = append(b, '0', '|')
	b = o.text(b, &ss[sOrderComment], 49)
	out[0] = g.endRow(append(b, '|'))
	return out
}
