package dbgen

// dbgen's random numbers: Park and Miller's "minimum standard" generator
// (CACM 31(10), 1988), x ← x·16807 mod (2³¹−1), one independent stream per
// column. A stream's state is its last value; a draw in [lo, hi] scales the
// new value into the range in double precision, as dbgen's UnifInt does.

const (
	rngMul     = 16807
	rngMod     = 2147483647 // 2³¹−1
	numStreams = 48
)

// Stream numbers (dbgen's *_SD constants) used by this package.
const (
	sPartMfgr      = 0
	sPartBrand     = 1
	sPartType      = 2
	sPartSize      = 3
	sPartContainer = 4
	sTextPool      = 5
	sPartComment   = 6
	sPSQty         = 7
	sPSCost        = 8
	sPSComment     = 9
	sOrderClerk    = 11
	sOrderComment  = 12
	sOrderDate     = 13
	sLineQty       = 14
	sLineDiscount  = 15
	sLineTax       = 16
	sLineInstruct  = 17
	sLineMode      = 18
	sLinePart      = 19
	sLineSupp      = 20
	sLineShipDate  = 21
	sLineCommit    = 22
	sLineReceipt   = 23
	sLineFlag      = 24
	sLineComment   = 25
	sCustAddress   = 26
	sCustNation    = 27
	sCustPhone     = 28
	sCustBalance   = 29
	sCustSegment   = 30
	sCustComment   = 31
	sSuppAddress   = 32
	sSuppNation    = 33
	sSuppPhone     = 34
	sSuppBalance   = 35
	sSuppComment   = 36
	sPartName      = 37
	sOrderPriority = 38
	sOrderCust     = 40
	sNationComment = 41
	sRegionComment = 42
	sOrderLines    = 43
	sBBBOffset     = 44
	sBBBType       = 45
	sBBBComment    = 46
	sBBBJunk       = 47
)

// streamDef is a stream's fixed definition: the table whose rows consume it,
// its initial seed, and the number of draws each driving row is charged
// ("boundary" in dbgen): a row that uses fewer draws skips the rest, so every
// row starts at a computable point of the sequence.
type streamDef struct {
	table  Table
	seed   int64
	perRow int64
}

// noTable marks the text-pool stream, which belongs to no table.
const noTable Table = -1

// streamDefs are dbgen's initial seeds (the Seed array of its dss.h) and
// per-row draw budgets, indexed by stream number. Streams of partsupp are
// driven by part rows and streams of lineitem by order rows (7 lines at most,
// so 7 draws, or 14 for a comment).
var streamDefs = [numStreams]streamDef{
	{Part, 1, 1},               // 0 p_mfgr
	{Part, 46831694, 1},        // 1 p_brand
	{Part, 1841581359, 1},      // 2 p_type
	{Part, 1193163244, 1},      // 3 p_size
	{Part, 727633698, 1},       // 4 p_container
	{noTable, 933588178, 1},    // 5 text pool
	{Part, 804159733, 2},       // 6 p_comment
	{PartSupp, 1671059989, 4},  // 7 ps_availqty
	{PartSupp, 1051288424, 4},  // 8 ps_supplycost
	{PartSupp, 1961692154, 8},  // 9 ps_comment
	{Orders, 1227283347, 1},    // 10 (unused)
	{Orders, 1171034773, 1},    // 11 o_clerk
	{Orders, 276090261, 2},     // 12 o_comment
	{Orders, 1066728069, 1},    // 13 o_orderdate
	{Lineitem, 209208115, 7},   // 14 l_quantity
	{Lineitem, 554590007, 7},   // 15 l_discount
	{Lineitem, 721958466, 7},   // 16 l_tax
	{Lineitem, 1371272478, 7},  // 17 l_shipinstruct
	{Lineitem, 675466456, 7},   // 18 l_shipmode
	{Lineitem, 1808217256, 7},  // 19 l_partkey
	{Lineitem, 2095021727, 7},  // 20 l_suppkey
	{Lineitem, 1769349045, 7},  // 21 l_shipdate
	{Lineitem, 904914315, 7},   // 22 l_commitdate
	{Lineitem, 373135028, 7},   // 23 l_receiptdate
	{Lineitem, 717419739, 7},   // 24 l_returnflag
	{Lineitem, 1095462486, 14}, // 25 l_comment
	{Customer, 881155353, 9},   // 26 c_address
	{Customer, 1489529863, 1},  // 27 c_nationkey
	{Customer, 1521138112, 3},  // 28 c_phone
	{Customer, 298370230, 1},   // 29 c_acctbal
	{Customer, 1140279430, 1},  // 30 c_mktsegment
	{Customer, 1335826707, 2},  // 31 c_comment
	{Supplier, 706178559, 9},   // 32 s_address
	{Supplier, 110356601, 1},   // 33 s_nationkey
	{Supplier, 884434366, 3},   // 34 s_phone
	{Supplier, 962338209, 1},   // 35 s_acctbal
	{Supplier, 1341315363, 2},  // 36 s_comment
	{Part, 709314158, 92},      // 37 p_name
	{Orders, 591449447, 1},     // 38 o_orderpriority
	{Lineitem, 431918286, 1},   // 39 (unused)
	{Orders, 851767375, 1},     // 40 o_custkey
	{Nation, 606179079, 2},     // 41 n_comment
	{Region, 1500869201, 2},    // 42 r_comment
	{Orders, 1434868289, 1},    // 43 number of lines
	{Supplier, 263032577, 1},   // 44 "Customer ... Complaints" offset
	{Supplier, 753643799, 1},   // 45 complaint or recommendation
	{Supplier, 202794285, 1},   // 46 whether the comment is altered
	{Supplier, 715851524, 1},   // 47 gap between the two words
}

// stream is one random stream's state within a generator.
type stream struct {
	seed   int64 // last value drawn (or the initial seed)
	usage  int64 // draws made in the current row
	perRow int64 // draws each row is charged
}

// draw returns the next value of the stream scaled into [lo, hi]: dbgen
// computes lo + ⌊(v/M)·w⌋ in double precision, v the new value, M = 2³¹−1
// and w = hi−lo+1.
//
// For w < 2²¹ the exact integer ⌊v·w/M⌋ is the same number, and cheaper.
// Proof: the two roundings of (v/M)·w err by a factor within 1 ± 2⁻⁵², so by
// less than w·2⁻⁵² < 2⁻³¹ < 1/M in absolute terms; and v·w/M is never closer
// than 1/M to an integer, because M is prime and 0 < v, w < M, so v·w is not
// a multiple of M. No integer lies between the two, so their floors agree.
// TestDrawExact checks it on samples.
func (s *stream) draw(lo, hi int64) int64 {
	s.next()
	if w := hi - lo + 1; w < 1<<21 {
		return lo + s.seed*w/rngMod
	}
	return lo + int64(float64(s.seed)/rngMod*float64(hi-lo+1))
}

// next advances the stream: seed·16807 mod (2³¹−1), reduced with
// 2³¹ ≡ 1 (mod 2³¹−1) instead of a division.
func (s *stream) next() {
	x := s.seed * rngMul
	x = x&rngMod + x>>31
	if x >= rngMod {
		x -= rngMod
	}
	s.seed = x
	s.usage++
}

// drawBits is dbgen's draw in the full range [0, 2³¹−1], the source of the
// characters of random strings. dbgen computes this range's width as the
// 32-bit sum hi−lo+1, which overflows to −2³¹, so the official dbgen's draws
// come out negative (about −value), and the characters come from the low
// bits of those negative numbers (the reference data has them that way).
// The DuckDB variant (variant.go) computes the width in 64 bits:
// overflow=false.
func (s *stream) drawBits(overflow bool) int64 {
	s.next()
	width := 2147483648.0
	if overflow {
		width = -2147483648.0
	}
	return int64(float64(s.seed) / rngMod * width)
}

// endRow skips the draws the row did not use, as dbgen's row_stop does.
func (s *stream) endRow() {
	if s.usage < s.perRow {
		s.seed = skip(s.seed, s.perRow-s.usage)
	}
	s.usage = 0
}

// skip returns the stream value n draws after seed: seed·16807ⁿ mod (2³¹−1),
// by square-and-multiply.
func skip(seed, n int64) int64 {
	mult := int64(rngMul)
	for n > 0 {
		if n&1 == 1 {
			seed = seed * mult % rngMod
		}
		n >>= 1
		mult = mult * mult % rngMod
	}
	return seed
}

// streamsAt returns the state of all streams of table t (and of its child
// table, partsupp for part and lineitem for orders) at the start of driving
// row `row` (1-based).
func streamsAt(t Table, row int64) [numStreams]stream {
	var ss [numStreams]stream
	for i, d := range streamDefs {
		ss[i] = stream{seed: d.seed, perRow: d.perRow}
		if d.table == t || (t == Part && d.table == PartSupp) || (t == Orders && d.table == Lineitem) {
			ss[i].seed = skip(d.seed, (row-1)*d.perRow)
		}
	}
	return ss
}
