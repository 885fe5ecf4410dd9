// Package dbgen generates the eight TPC-H tables exactly as the official
// TPC-H dbgen 2.14 does, for any scale factor, in pure Go.
//
// "Exactly" means byte for byte: the same keys, the same random values, the
// same pseudo-text comments. dbgen is deterministic: every column draws from
// its own Park–Miller "minimum standard" random stream (x ← x·16807 mod
// 2³¹−1) with a fixed initial seed, and every row consumes a fixed budget of
// draws from each stream (unused draws are skipped at the end of the row).
// That makes row N's random state computable without generating rows 1..N−1:
// advance each stream by (N−1)·budget draws with modular exponentiation. This
// package uses that to generate any chunk of a table independently, so a
// table is written by several goroutines at once.
//
// Comments are windows into one 300 MiB "text pool" of grammar-generated
// sentences, built once per process from its own stream (seed 933588178) and
// shared read-only. Building it costs about 1.5 s of CPU; checkpoints.go
// (where every 256 KiB of the pool starts, and the stream state there) lets
// all cores build pieces of it at once.
//
// Use: [New] makes a [Generator] for a scale factor and [Format];
// [Generator.Rows] counts a table's rows without generating them;
// [Generator.AppendRows] appends the rows of any range of driving rows (see
// below), [Generator.AppendOrdersLineitems] both of those tables at once,
// [Generator.WriteTable] one table and [Generator.WriteDir] all eight .tbl
// files, generating chunks on all cores.
//
//	table      driving row        rows at SF 1   streams per driving row
//	region     region             5              comment: 2 draws
//	nation     nation             25             comment: 2 draws
//	supplier   supplier           10,000         address 9, nation 1, phone 3, ...
//	customer   customer           150,000        address 9, nation 1, phone 3, ...
//	part       part               200,000        name 92, mfgr 1, brand 1, ...
//	partsupp   part (4 per part)  800,000        qty 4, cost 4, comment 8
//	orders     order              1,500,000      custkey 1, date 1, ...
//	lineitem   order (1..7 each)  ~6,000,000     7 per column, comment 14
//
// Two output formats exist ([Format]): dbgen's own (every field followed by
// '|', l_quantity an integer) and the format of DuckDB's export that
// ../shared/tpch holds (no trailing '|', l_quantity as a decimal "17.00").
//
// The distribution data (word lists and weights of dists.dss) is embedded in
// dists.go. This package imports only the standard library; it must not import
// other bpfdb packages, so that the generator stays usable on its own.
package dbgen
