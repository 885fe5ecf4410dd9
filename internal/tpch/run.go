package tpch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bpfdb/bpfdb"
)

// Run runs q on db and returns its result and how long the query took
// (SQL alone: Setup and Teardown are not timed). When Setup succeeded,
// Teardown runs even if the query failed, so that a view the setup made
// does not outlive the run; its error joins the query's.
func Run(ctx context.Context, db *bpfdb.DB, q Query) (*bpfdb.Result, time.Duration, error) {
	if q.Setup != "" {
		if err := db.Exec(ctx, q.Setup); err != nil {
			return nil, 0, fmt.Errorf("%s: setup: %w", q.Name(), err)
		}
	}
	start := time.Now()
	res, err := db.Query(ctx, q.SQL)
	d := time.Since(start)
	if err != nil {
		err = fmt.Errorf("%s: %w", q.Name(), err)
		res = nil
	}
	if q.Teardown != "" {
		if terr := db.Exec(ctx, q.Teardown); terr != nil {
			err = errors.Join(err, fmt.Errorf("%s: teardown: %w", q.Name(), terr))
		}
	}
	if err != nil {
		return nil, d, err
	}
	return res, d, nil
}
