// Package planner turns parsed SQL queries into logical plans: the binder
// resolves names to typed columns (errors name the position in the SQL
// text), builds bound expressions with package expr's constructors, and
// decorrelates subqueries into joins; the plan is a tree of Nodes (Get,
// Filter, Project, Aggregate, Join, Order, TopN, Limit, Union, Values)
// whose expressions refer to columns by ColumnID.
//
// The package imports types, sql/ast, sql/parser, exec/expr and
// storage/table of bpfdb (for the tables a Get reads); it must not import
// operators, the scheduler or the eBPF runtime.
package planner
