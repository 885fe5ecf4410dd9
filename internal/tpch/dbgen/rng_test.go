package dbgen

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// TestDrawExact checks the integer shortcuts of stream.next and stream.draw
// against dbgen's formulas (a division for the step, double precision for
// the scaling) on random and extreme seeds and widths below 2²¹. Seed from
// DBGEN_TEST_SEED, else random; it is logged.
func TestDrawExact(t *testing.T) {
	seed := rand.Uint64()
	if v := os.Getenv("DBGEN_TEST_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("DBGEN_TEST_SEED=%d", seed)
	r := rand.New(rand.NewPCG(seed, seed))
	widths := []int64{1, 2, 3, 5, 7, 11, 18, 25, 90, 92, 174, 262, 289, 340, 456, 9999, 99901, 1099999, 1<<21 - 1}
	values := []int64{1, 2, rngMod - 1, rngMod - 2, rngMod / 2, rngMod/2 + 1}
	for range 200000 {
		values = append(values, 1+r.Int64N(rngMod-1))
	}
	for _, v := range values {
		s := stream{seed: v}
		s.next()
		if want := v * rngMul % rngMod; s.seed != want {
			t.Fatalf("next(%d) = %d, want %d", v, s.seed, want)
		}
		for _, w := range widths {
			s := stream{seed: v}
			got := s.draw(7, 7+w-1)
			want := 7 + int64(float64(s.seed)/rngMod*float64(w)) // s.seed: the value drawn
			if got != want {
				t.Fatalf("draw with value %d, width %d: %d, want %d", s.seed, w, got, want)
			}
		}
	}
}
