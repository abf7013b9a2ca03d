package planner_test

import (
	"context"
	"reflect"
	"testing"

	"cutover/planner"
)

// TestRefreshEachReadsWhatRefreshReads reads each example's world both
// ways: every VM's live state and matched vCenter record handed out by
// RefreshEach, batch by batch, must equal what Refresh reads in one go
// (apply re-plans from it and compares with a plan made from Refresh), and
// every VM must be handed out once, in the order asked for.
func TestRefreshEachReadsWhatRefreshReads(t *testing.T) {
	for _, tc := range []struct {
		example string
		whole   bool // the vCenter reader can only Discover
	}{{"quickstart", false}, {"multi-tier", false}, {"rehearsal", false}, {"csv-wave", false}, {"csv-wave", true}} {
		example := tc.example
		name := example
		if tc.whole {
			name += "/discover only"
		}
		t.Run(name, func(t *testing.T) {
			rb := loadExample(t, example)
			_, src := simSources(t, rb)
			if tc.whole {
				for name, r := range src.VCenters {
					src.VCenters[name] = discoverOnly{r}
				}
			}
			ctx := context.Background()
			whole, problems, err := planner.Refresh(ctx, rb, src)
			if err != nil || len(problems) > 0 {
				t.Fatalf("refresh: %v %v", err, problems)
			}
			// Asked for in reverse runbook order, so that the order is
			// the caller's and not the runbook's.
			var order []string
			for i := len(rb.VMs) - 1; i >= 0; i-- {
				order = append(order, rb.VMs[i].Address)
			}
			var got []string
			identified := false
			snap, err := planner.RefreshEach(ctx, rb, src, planner.Stream{
				Order: order,
				Identified: func(s *planner.Snapshot) error {
					identified = true
					if len(s.Live) != 0 || len(s.VCenters) == 0 || len(s.Azures) == 0 {
						t.Errorf("identified snapshot: %d live, %d vCenters, %d vaults", len(s.Live), len(s.VCenters), len(s.Azures))
					}
					return nil
				},
				Ready: func(b planner.Batch) error {
					if !identified {
						t.Error("a batch came before Identified")
					}
					if len(b.Problems) > 0 {
						t.Errorf("problems: %v", b.Problems)
					}
					var addrs []string
					for addr := range b.Live {
						addrs = append(addrs, addr)
					}
					// Within a batch the map has no order; batches follow
					// the asked order, so each batch is the next slice.
					next := order[len(got) : len(got)+len(addrs)]
					for _, addr := range next {
						if _, ok := b.Live[addr]; !ok {
							t.Errorf("batch %v is not the next part of the order %v", addrs, next)
						}
					}
					got = append(got, next...)
					for addr, l := range b.Live {
						if !reflect.DeepEqual(l, whole.Live[addr]) {
							t.Errorf("%s: live state differs from Refresh's:\n each  %+v\n whole %+v", addr, l, whole.Live[addr])
						}
						if !reflect.DeepEqual(b.Matched[addr].VM, whole.Matched[addr].VM) {
							t.Errorf("%s: matched vCenter record differs from Refresh's", addr)
						}
					}
					return nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, order) {
				t.Errorf("handed out %v, want %v", got, order)
			}
			if !reflect.DeepEqual(snap.Live, whole.Live) {
				t.Error("the returned snapshot's live state differs from Refresh's")
			}
		})
	}
}

// discoverOnly hides every method of a vCenter reader but Discover.
type discoverOnly struct{ planner.VCenterReader }
