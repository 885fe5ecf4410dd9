package server

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/jackc/pgx/v5/pgproto3"
)

// bpfdb has no pg_catalog. psql's \dt, \dv, \d and \d NAME send catalog
// queries of a fixed shape; the server recognizes them by their text and
// answers them from the database's tables and views (bpfdb.DB.Objects),
// in the simple query protocol, which psql uses. Relations get OIDs from
// firstOID on in name order, in the schema "public", owned by the
// superuser "bpfdb". Queries of other clients' catalogs are not answered
// (they fail like any query of a table that does not exist).

// firstOID is the OID of the first relation, as PostgreSQL's first user
// object.
const firstOID = 16384

// catalogAnswer is the answer to a catalog query: text columns.
type catalogAnswer struct {
	names []string
	oids  []uint32
	rows  [][]*string // nil: NULL
}

func str(s string) *string { return &s }

func boolText(b bool) *string {
	if b {
		return str("t")
	}
	return str("f")
}

// relation is a table or view as the catalog queries show it.
type relation struct {
	oid  int
	obj  bpfdb.Object
	kind string // relkind: r or v
}

func (c *conn) relations() ([]relation, error) {
	objs, err := c.srv.db.Objects()
	if err != nil {
		return nil, err
	}
	out := make([]relation, len(objs))
	for i, o := range objs {
		out[i] = relation{oid: firstOID + i, obj: o, kind: "r"}
		if o.View {
			out[i].kind = "v"
		}
	}
	return out, nil
}

var (
	relkindList  = regexp.MustCompile(`c\.relkind IN \(([^)]*)\)`)
	relnameMatch = regexp.MustCompile(`c\.relname OPERATOR\(pg_catalog\.~\) '((?:[^']|'')*)'`)
	oidEquals    = regexp.MustCompile(`(?:c\.oid|a\.attrelid|pol\.polrelid|stxrelid|i\.inhrelid|i\.inhparent|pr\.prrelid) = '(\d+)'`)
)

// psqlCatalog answers sql if it is one of psql's catalog queries.
func (c *conn) psqlCatalog(ctx context.Context, sql string) (*catalogAnswer, bool, error) {
	if !strings.Contains(sql, "pg_catalog.") {
		return nil, false, nil
	}
	switch {
	case strings.Contains(sql, `pg_catalog.pg_get_userbyid(c.relowner) as "Owner"`) && relkindList.MatchString(sql):
		a, err := c.listRelations(sql)
		return a, true, err
	case strings.Contains(sql, "SELECT c.oid,\n  n.nspname,\n  c.relname\nFROM pg_catalog.pg_class c"):
		a, err := c.findRelations(sql)
		return a, true, err
	case strings.Contains(sql, "SELECT c.relchecks, c.relkind, c.relhasindex"):
		a, err := c.relationInfo(sql)
		return a, true, err
	case strings.Contains(sql, "FROM pg_catalog.pg_attribute a") && strings.Contains(sql, "a.attnum > 0 AND NOT a.attisdropped"):
		a, err := c.columnsOf(ctx, sql)
		return a, true, err
	}
	// The footers of \d NAME for what bpfdb does not have: row security
	// policies, extended statistics, publications, inheritance. They have
	// no rows.
	for _, from := range []string{"FROM pg_catalog.pg_policy pol", "FROM pg_catalog.pg_statistic_ext", "FROM pg_catalog.pg_publication",
		"FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i"} {
		if strings.Contains(sql, from) && oidEquals.MatchString(sql) {
			return &catalogAnswer{}, true, nil
		}
	}
	return nil, false, nil
}

// namePattern returns the psql name pattern of sql (a POSIX regular
// expression), nil when the query has none.
func namePattern(sql string) (*regexp.Regexp, error) {
	m := relnameMatch.FindStringSubmatch(sql)
	if m == nil {
		return nil, nil
	}
	re, err := regexp.Compile(strings.ReplaceAll(m[1], "''", "'"))
	if err != nil {
		return nil, fmt.Errorf("name pattern %q: %w", m[1], err)
	}
	return re, nil
}

// listRelations answers \dt, \dv and \d: schema, name, type, owner of the
// relations of the kinds the query lists.
func (c *conn) listRelations(sql string) (*catalogAnswer, error) {
	kinds := relkindList.FindStringSubmatch(sql)[1]
	re, err := namePattern(sql)
	if err != nil {
		return nil, err
	}
	rels, err := c.relations()
	if err != nil {
		return nil, err
	}
	a := &catalogAnswer{names: []string{"Schema", "Name", "Type", "Owner"}, oids: []uint32{oidText, oidText, oidText, oidText}}
	for _, r := range rels {
		if !strings.Contains(kinds, "'"+r.kind+"'") || re != nil && !re.MatchString(r.obj.Name) {
			continue
		}
		typ := "table"
		if r.obj.View {
			typ = "view"
		}
		a.rows = append(a.rows, []*string{str("public"), str(r.obj.Name), str(typ), str("bpfdb")})
	}
	return a, nil
}

// findRelations answers the first query of \d NAME: oid, schema and name
// of the relations whose name matches.
func (c *conn) findRelations(sql string) (*catalogAnswer, error) {
	re, err := namePattern(sql)
	if err != nil {
		return nil, err
	}
	rels, err := c.relations()
	if err != nil {
		return nil, err
	}
	a := &catalogAnswer{names: []string{"oid", "nspname", "relname"}, oids: []uint32{oidText, oidText, oidText}}
	for _, r := range rels {
		if re == nil || re.MatchString(r.obj.Name) {
			a.rows = append(a.rows, []*string{str(strconv.Itoa(r.oid)), str("public"), str(r.obj.Name)})
		}
	}
	return a, nil
}

// relationByOID finds the relation whose OID the query compares with.
func (c *conn) relationByOID(sql string) (relation, bool, error) {
	m := oidEquals.FindStringSubmatch(sql)
	if m == nil {
		return relation{}, false, nil
	}
	oid, _ := strconv.Atoi(m[1])
	rels, err := c.relations()
	if err != nil {
		return relation{}, false, err
	}
	i := slices.IndexFunc(rels, func(r relation) bool { return r.oid == oid })
	if i < 0 {
		return relation{}, false, nil
	}
	return rels[i], true, nil
}

// relationInfo answers \d NAME's second query: the relation's flags
// (no checks, indexes, rules, triggers, row security or partitions).
func (c *conn) relationInfo(sql string) (*catalogAnswer, error) {
	a := &catalogAnswer{
		names: []string{"relchecks", "relkind", "relhasindex", "relhasrules", "relhastriggers", "relrowsecurity", "relforcerowsecurity",
			"relhasoids", "relispartition", "reloptions", "reltablespace", "reloftype", "relpersistence", "relreplident", "amname"},
	}
	for range a.names {
		a.oids = append(a.oids, oidText)
	}
	r, ok, err := c.relationByOID(sql)
	if err != nil || !ok {
		return a, err
	}
	f := boolText(false)
	am := str("heap")
	if r.obj.View {
		am = nil
	}
	a.rows = append(a.rows, []*string{str("0"), str(r.kind), f, f, f, f, f, f, f, str(""), str("0"), str(""), str("p"), str("d"), am})
	return a, nil
}

// formatType is PostgreSQL's format_type of a bpfdb type.
func formatType(t types.Type) string {
	switch t.ID() {
	case types.Boolean:
		return "boolean"
	case types.Integer:
		return "integer"
	case types.BigInt:
		return "bigint"
	case types.Double:
		return "double precision"
	case types.Decimal:
		return fmt.Sprintf("numeric(%d,%d)", t.Precision(), t.Scale())
	case types.Date:
		return "date"
	}
	return "character varying"
}

// columnsOf answers \d NAME's column query: name, type, default (none),
// NOT NULL, collation, identity and generation (none).
func (c *conn) columnsOf(ctx context.Context, sql string) (*catalogAnswer, error) {
	a := &catalogAnswer{names: []string{"attname", "format_type", "pg_get_expr", "attnotnull", "attcollation", "attidentity", "attgenerated"},
		oids: []uint32{oidText, oidText, oidText, oidBool, oidText, oidText, oidText}}
	r, ok, err := c.relationByOID(sql)
	if err != nil || !ok {
		return a, err
	}
	names, ts, err := c.srv.db.Describe(ctx, "SELECT * FROM "+ast.QuoteIdent(r.obj.Name))
	if err != nil {
		return nil, err
	}
	notNull := map[string]bool{}
	if stmts, err := parser.Parse(r.obj.SQL); err == nil && len(stmts) == 1 {
		if ct, ok := stmts[0].(*ast.CreateTableStmt); ok {
			for _, col := range ct.Columns {
				notNull[strings.ToLower(col.Name)] = col.NotNull || col.PrimaryKey
			}
			for _, k := range ct.PrimaryKey {
				notNull[strings.ToLower(k)] = true
			}
		}
	}
	for i, name := range names {
		a.rows = append(a.rows, []*string{str(name), str(formatType(ts[i])), nil, boolText(notNull[strings.ToLower(name)]), nil, str(""), str("")})
	}
	return a, nil
}

// sendCatalog sends a catalog answer as a query's result.
func (c *conn) sendCatalog(a *catalogAnswer) {
	rd := &pgproto3.RowDescription{Fields: make([]pgproto3.FieldDescription, len(a.names))}
	for j, n := range a.names {
		size := int16(-1)
		if a.oids[j] == oidBool {
			size = 1
		}
		rd.Fields[j] = pgproto3.FieldDescription{Name: []byte(n), DataTypeOID: a.oids[j], DataTypeSize: size, TypeModifier: -1}
	}
	c.be.Send(rd)
	for _, row := range a.rows {
		vals := make([][]byte, len(row))
		for j, v := range row {
			if v != nil {
				vals[j] = append([]byte{}, *v...) // empty, not nil (NULL)
			}
		}
		c.be.Send(&pgproto3.DataRow{Values: vals})
	}
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(fmt.Sprintf("SELECT %d", len(a.rows)))})
}
