package azure

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"cutover/providers/azure/azuresim"
)

// TestWaitJobSharesOnePoller: thirty enables followed at once cost one
// paged list of the vault's jobs per round (three pages of ten), not a
// read per operation; no operation-status URL is polled; a job that fails
// after acceptance fails only its own wait, with the service's message.
func TestWaitJobSharesOnePoller(t *testing.T) {
	t.Parallel()
	const vms = 30
	w := newWorld(t, azuresim.DefaultSeed(vms), azuresim.Options{PageSize: 10})
	w.sim.InjectFault(azuresim.Fault{Operation: "create", VM: "vm-0007", Async: true, Code: "ProviderError", Message: "The appliance lost the machine."})
	c := w.client(t)
	ctx := ctx(t)
	machines, pol := machinesAndPolicy(t, ctx, c)
	var handles []Handle
	for _, m := range machines {
		h, err := c.EnableReplication(ctx, testEnable(m, pol.ID))
		if err != nil {
			t.Fatal(err)
		}
		if h.JobID == "" {
			t.Fatalf("%s: the enable's handle names no job", m.DisplayName)
		}
		handles = append(handles, h)
	}
	w.sim.ResetRequests()
	errs := make(chan error, len(handles))
	for _, h := range handles {
		go func() { errs <- c.WaitJob(ctx, h, nil) }()
	}
	failed := 0
	for range handles {
		if err := <-errs; err != nil {
			failed++
			if !strings.Contains(err.Error(), "The appliance lost the machine.") || !strings.Contains(err.Error(), "vm-0007") {
				t.Errorf("failed job: %v", err)
			}
		}
	}
	if failed != 1 {
		t.Fatalf("%d waits failed, want the one injected", failed)
	}
	var jobReads, opReads int
	for _, r := range w.sim.Requests() {
		switch {
		case strings.Contains(r.Path, "/replicationJobs"):
			jobReads++
		case strings.Contains(r.Path, "/replicationOperation"):
			opReads++
		}
	}
	c.jobPoll.mu.Lock()
	rounds, lists, gets := c.jobPoll.rounds, c.jobPoll.lists, c.jobPoll.gets
	c.jobPoll.mu.Unlock()
	t.Logf("%d rounds, %d lists, %d single reads, %d job requests for %d operations", rounds, lists, gets, jobReads, vms)
	if opReads != 0 {
		t.Errorf("%d operation-status reads: operations were polled one by one", opReads)
	}
	// The list served the waits: far fewer job requests than one read per
	// operation. (How many single reads come first depends on how fast the
	// waiters arrive, so the count is bounded, not exact.)
	if lists == 0 {
		t.Errorf("the vault's job list was never read (%d single reads)", gets)
	}
	if jobReads >= vms {
		t.Errorf("%d job requests for %d operations: not shared", jobReads, vms)
	}
}

// TestWaitForStateSharesOnePoller: twenty-five steps waiting for their
// items' state are served by the container's item list (three pages of
// ten) each round, not by a read per item; an item that does not exist
// fails only its own wait, as not found.
func TestWaitForStateSharesOnePoller(t *testing.T) {
	t.Parallel()
	const vms = 25
	w := newWorld(t, bigSeed(vms), azuresim.Options{PageSize: 10})
	c := w.client(t)
	ctx := ctx(t)
	items, err := c.ListProtectedItems(ctx)
	if err != nil || len(items) != vms {
		t.Fatalf("%d items, %v", len(items), err)
	}
	w.sim.ResetRequests()
	errs := make(chan error, vms+1)
	for _, it := range items {
		go func() {
			_, err := c.WaitForState(ctx, it.Name, nil, "Protected")
			errs <- err
		}()
	}
	go func() {
		_, err := c.WaitForState(ctx, "machine-9999", nil, "Protected")
		errs <- err
	}()
	notFound := 0
	for range vms + 1 {
		if err := <-errs; err != nil {
			if KindOf(err) != KindNotFound {
				t.Fatalf("wait: %v", err)
			}
			notFound++
		}
	}
	if notFound != 1 {
		t.Fatalf("%d waits failed as not found, want 1", notFound)
	}
	c.itemPoll.mu.Lock()
	rounds, lists, gets := c.itemPoll.rounds, c.itemPoll.lists, c.itemPoll.gets
	c.itemPoll.mu.Unlock()
	reads := len(w.sim.Requests())
	t.Logf("%d rounds, %d lists, %d single reads, %d requests for %d waits", rounds, lists, gets, reads, vms+1)
	// The list served the waits: fewer requests than one read per wait.
	// (Single reads serve the first few waiters, before there are enough
	// to list, and how many arrive first depends on the scheduler.)
	if lists == 0 {
		t.Errorf("the container's item list was never read (%d single reads)", gets)
	}
	if reads >= vms+1 {
		t.Errorf("%d requests for %d waits: items were read one by one", reads, vms+1)
	}
}

// TestStaggeredLongWaitsShareTicks: forty items whose waits begin 4 ms
// apart, none reaching the awaited state, are read again on the poller's
// shared ticks (every 40 ms): after their first reads they come due
// together and one list per tick serves them all, not a read per item per
// period. The waits run until the poller has listed the items six times
// (about 240 ms when the machine keeps up; the count, not the clock, ends
// them, so that a slow machine or -race reads the same number of ticks).
func TestStaggeredLongWaitsShareTicks(t *testing.T) {
	t.Parallel()
	const (
		vms   = 40
		pages = 4 // the simulator's page size is 10
		ticks = 6
	)
	w := newWorld(t, bigSeed(vms), azuresim.Options{PageSize: vms / pages})
	c, err := New(w.config(), &Options{
		PollInterval: 40 * time.Millisecond,
		Retry:        &policy.RetryOptions{MaxRetries: 5, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 2 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	items, err := c.ListProtectedItems(ctx(t))
	if err != nil || len(items) != vms {
		t.Fatalf("%d items, %v", len(items), err)
	}
	w.sim.ResetRequests()
	wctx, cancel := context.WithTimeout(ctx(t), 20*time.Second)
	defer cancel()
	listed := func() int {
		c.itemPoll.mu.Lock()
		defer c.itemPoll.mu.Unlock()
		return c.itemPoll.lists
	}
	go func() {
		for wctx.Err() == nil && listed() < ticks {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	errs := make(chan error, vms)
	for _, it := range items {
		go func() {
			_, err := c.WaitForState(wctx, it.Name, nil, "NeverReached")
			errs <- err
		}()
		time.Sleep(4 * time.Millisecond)
	}
	for range vms {
		if err := <-errs; err == nil {
			t.Fatal("a wait for a state no item reaches returned without error")
		}
	}
	c.itemPoll.mu.Lock()
	rounds, lists, gets := c.itemPoll.rounds, c.itemPoll.lists, c.itemPoll.gets
	c.itemPoll.mu.Unlock()
	reads := len(w.sim.Requests())
	t.Logf("%d rounds, %d lists, %d single reads, %d requests for %d waits", rounds, lists, gets, reads, vms)
	if lists < ticks {
		t.Fatalf("%d item lists in 20 s (%d single reads): repeated reads were not shared", lists, gets)
	}
	// First reads may be single (a few waits come due on each early
	// tick); after that the list serves every wait.
	if gets > 2*vms {
		t.Errorf("%d single item reads for %d waits: repeated reads were not shared", gets, vms)
	}
	// Every request is a single read or a page of a list (the last list
	// may have been cut short when the waits ended).
	if reads > gets+pages*lists {
		t.Errorf("%d requests for %d single reads and %d lists of %d pages", reads, gets, lists, pages)
	}
}

// TestWaitJobFewReadOneByOne: a handful of operations followed at once
// (fewer than fewWaiters) are read one job at a time on each one's own
// schedule, never through the vault's job list, whose pages would be read
// on a shared clock and see each end up to a period late.
func TestWaitJobFewReadOneByOne(t *testing.T) {
	t.Parallel()
	const vms = 5
	w := newWorld(t, azuresim.DefaultSeed(vms), azuresim.Options{PageSize: 2})
	c := w.client(t)
	ctx := ctx(t)
	machines, pol := machinesAndPolicy(t, ctx, c)
	w.sim.ResetRequests()
	errs := make(chan error, vms)
	for _, m := range machines {
		h, err := c.EnableReplication(ctx, testEnable(m, pol.ID))
		if err != nil {
			t.Fatal(err)
		}
		go func() { errs <- c.WaitJob(ctx, h, nil) }()
	}
	for range vms {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	lists, singles := 0, 0
	for _, r := range w.sim.Requests() {
		switch {
		case strings.HasSuffix(r.Path, "/replicationJobs"):
			lists++
		case strings.Contains(r.Path, "/replicationJobs/"):
			singles++
		}
	}
	if lists != 0 || singles < vms {
		t.Errorf("%d job list pages and %d single job reads for %d operations: want single reads only, at least one each", lists, singles, vms)
	}
}

// TestWaitJobReadsAtTypicalAge: once the poller has seen an enable job
// end, the next enable's job is first read when enables typically end,
// not a period after its start: a job lasting many periods then costs one
// read instead of one per period. The first job, before anything was
// learned, is read from a period after its acceptance on.
func TestWaitJobReadsAtTypicalAge(t *testing.T) {
	t.Parallel()
	const vms = 4
	// Enable jobs last 4 s × 0.02 = 80 ms; the service asks for a read
	// every 5 ms: sixteen periods.
	const job = 80 * time.Millisecond
	w := newWorld(t, azuresim.DefaultSeed(vms), azuresim.Options{TimeScale: 0.02, PollAfter: 5 * time.Millisecond})
	c := w.client(t)
	ctx := ctx(t)
	machines, pol := machinesAndPolicy(t, ctx, c)
	// reads returns when each read of the job arrived at the service.
	reads := func(job string) []time.Time {
		var out []time.Time
		for _, r := range w.sim.Requests() {
			if strings.HasSuffix(r.Path, "/replicationJobs/"+job) {
				out = append(out, r.Time)
			}
		}
		return out
	}
	for i, m := range machines {
		h, err := c.EnableReplication(ctx, testEnable(m, pol.ID))
		if err != nil {
			t.Fatal(err)
		}
		if h.AcceptedAt.IsZero() || h.AcceptedAt.Before(h.StartedAt) {
			t.Fatalf("handle accepted at %v, started at %v: want the time the service's answer arrived", h.AcceptedAt, h.StartedAt)
		}
		if err := c.WaitJob(ctx, h, nil); err != nil {
			t.Fatal(err)
		}
		got := reads(h.JobID[strings.LastIndex(h.JobID, "/")+1:])
		if len(got) == 0 {
			t.Fatalf("job %d was never read", i+1)
		}
		first := got[0].Sub(h.AcceptedAt)
		t.Logf("job %d: %d reads, the first %v after acceptance", i+1, len(got), first.Round(time.Millisecond))
		if i == 0 {
			continue
		}
		// One read at the typical age (a second is allowed for a
		// scheduler that woke early), never one per period from the
		// start.
		if first < job*3/4 || len(got) > 2 {
			t.Errorf("job %d: %d reads, the first %v after acceptance: want one, about %v after (when enables typically end)", i+1, len(got), first, job)
		}
	}
}

func TestDurationsTypical(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	for _, tc := range []struct {
		name string
		add  []time.Duration
		want time.Duration
		ok   bool
	}{
		{"none", nil, 0, false},
		{"one", []time.Duration{80 * ms}, 80 * ms, true},
		{"median of odd", []time.Duration{90 * ms, 10 * ms, 80 * ms}, 80 * ms, true},
		{"an outlier does not move it", []time.Duration{80 * ms, 80 * ms, 5 * time.Second, 80 * ms, 1 * ms}, 80 * ms, true},
		// Only the last sixteen count: the service's jobs got slower.
		{"old ones age out", append(repeat(10*ms, 16), repeat(50*ms, 16)...), 50 * ms, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d *durations
			if tc.add != nil {
				d = &durations{}
				for _, v := range tc.add {
					d.add(v)
				}
			}
			got, ok := d.typical()
			if got != tc.want || ok != tc.ok {
				t.Errorf("typical() = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}
