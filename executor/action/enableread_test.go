package action_test

import (
	"strings"
	"testing"

	"cutover/planner"
	"cutover/providers/azure/azuresim"
)

// TestEnableReadsItemFromListing checks what an enable reads before its
// PUT: the run's one listing of the container stands in for a GET of the
// item while that listing shows none, but a second start of the same
// enable in the same run (a retry after a lost response) and a start in a
// new run after a crash both find the item the first PUT made and send no
// second PUT.
func TestEnableReadsItemFromListing(t *testing.T) {
	t.Parallel()
	rb := loadExample(t, "quickstart")
	f := openWorld(t, rb, 0.05)
	ctx := ctxT(t)
	sim := f.w.Vaults["migrate"]
	r, env := f.runner(t)
	p := f.plan(t, env)
	enable := step(t, p, "vm.db01", planner.StepEnableReplication)

	itemGETs := func(reqs []azuresim.Request) int {
		n := 0
		for _, q := range reqs {
			if q.Method == "GET" && strings.Contains(q.Path, "/replicationProtectedItems/") {
				n++
			}
		}
		return n
	}
	puts := func(reqs []azuresim.Request) int {
		n := 0
		for _, q := range reqs {
			if q.Method == "PUT" && strings.Contains(q.Path, "/replicationProtectedItems/") {
				n++
			}
		}
		return n
	}

	before := len(sim.Requests())
	if _, err := r.Start(ctx, enable); err != nil {
		t.Fatalf("first start: %v", err)
	}
	first := sim.Requests()[before:]
	if n := puts(first); n != 1 {
		t.Fatalf("first start sent %d PUTs, want 1", n)
	}
	if n := itemGETs(first); n != 0 {
		t.Fatalf("first start read the item %d times before enabling, want 0 (the listing shows none)", n)
	}

	// A retry in the same run: the listing is stale now, so the item is
	// read and the running enable attached to.
	before = len(sim.Requests())
	if _, err := r.Start(ctx, enable); err != nil {
		t.Fatalf("retry in the same run: %v", err)
	}
	retry := sim.Requests()[before:]
	if n := puts(retry); n != 0 {
		t.Fatalf("a retry in the same run sent %d more PUTs", n)
	}
	if n := itemGETs(retry); n == 0 {
		t.Fatalf("a retry in the same run did not read the item")
	}

	// A new run after a crash lists the container afresh and finds it.
	fresh, _ := f.runner(t)
	before = len(sim.Requests())
	if _, err := fresh.Start(ctx, enable); err != nil {
		t.Fatalf("start in a new run: %v", err)
	}
	if n := puts(sim.Requests()[before:]); n != 0 {
		t.Fatalf("a new run sent %d more PUTs for an item the first run enabled", n)
	}
}
