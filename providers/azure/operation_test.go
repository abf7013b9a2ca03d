package azure

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"cutover/providers/azure/azuresim"
)

// TestFailoverCancelIsTheInverse: an uncommitted failover is undone by
// FailoverCancel and the VM is protected again (rollback's path).
func TestFailoverCancelIsTheInverse(t *testing.T) {
	t.Parallel()
	w, c, it := protectedWorld(t, 1, azuresim.Options{})
	if err := w.sim.SetAllowCancelFailover(true); err != nil {
		t.Fatal(err)
	}
	ctx := ctx(t)
	h, err := c.UnplannedFailover(ctx, it, UnplannedFailoverInput{PerformShutdown: false})
	if err != nil {
		t.Fatal(err)
	}
	if it, err = c.Wait(ctx, h, nil); err != nil {
		t.Fatal(err)
	}
	mustAllow(t, "failed over", it, azuresim.StateFailedOver, "", "Commit", "CancelFailover", "CompleteMigration", "DisableProtection", "ChangePit", "SwitchProtection")
	if h, err = c.FailoverCancel(ctx, it); err != nil {
		t.Fatal(err)
	}
	if it, err = c.Wait(ctx, h, nil); err != nil {
		t.Fatal(err)
	}
	mustAllow(t, "cancelled", it, azuresim.StateProtected, "None", "TestFailover", "UnplannedFailover", "DisableProtection")
}

// TestPurgeOnlyWhenAsked: the default disable is POST .../remove; the
// DELETE purge is sent only with DisableOptions.Purge.
func TestPurgeOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	for _, purge := range []bool{false, true} {
		w, c, it := protectedWorld(t, 1, azuresim.Options{})
		ctx := ctx(t)
		w.sim.ResetRequests()
		h, err := c.DisableReplication(ctx, it, DisableOptions{Purge: purge})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Wait(ctx, h, nil); err != nil {
			t.Fatal(err)
		}
		first := w.sim.Requests()[0]
		wantMethod, wantRemove := http.MethodPost, true
		if purge {
			wantMethod, wantRemove = http.MethodDelete, false
		}
		if first.Method != wantMethod || strings.HasSuffix(first.Path, "/remove") != wantRemove {
			t.Fatalf("purge=%v sent %s %s", purge, first.Method, first.Path)
		}
		if _, _, ok := w.sim.ProtectionState("vm-0001"); ok {
			t.Fatalf("purge=%v: item still exists", purge)
		}
	}
}

// TestWaitOnJobOnly: a handle that carries only the ASR job ID (no resume
// token) is followed through replicationJobs.
func TestWaitOnJobOnly(t *testing.T) {
	t.Parallel()
	w, c, it := protectedWorld(t, 1, azuresim.Options{})
	ctx := ctx(t)
	h, err := c.TestFailover(ctx, it, TestFailoverInput{})
	if err != nil {
		t.Fatal(err)
	}
	h.ResumeToken = ""
	b, _ := json.Marshal(h)
	var back Handle
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	w.sim.ResetRequests()
	var states []string
	got, err := w.client(t).Wait(ctx, back, func(p Progress) { states = append(states, p.Status) })
	if err != nil {
		t.Fatal(err)
	}
	if got.TestFailoverState != azuresim.TestFailoverWaiting || len(states) == 0 || states[len(states)-1] != azuresim.JobSuspended {
		t.Fatalf("state %s, progress %v", got.TestFailoverState, states)
	}
	jobGets := 0
	for _, r := range w.sim.Requests() {
		if strings.Contains(r.Path, "/replicationJobs/") {
			jobGets++
		}
	}
	if jobGets == 0 {
		t.Fatal("the job was not read")
	}
}

// TestWaitOnJobOnlyFailure: a failed job surfaces the service's error.
func TestWaitOnJobOnlyFailure(t *testing.T) {
	t.Parallel()
	w, c, it := protectedWorld(t, 1, azuresim.Options{})
	ctx := ctx(t)
	w.sim.InjectFault(azuresim.Fault{Operation: "testFailover", Async: true, Code: "TestNetworkUnavailable", Message: "The test network has no free addresses."})
	h, err := c.TestFailover(ctx, it, TestFailoverInput{})
	if err != nil {
		t.Fatal(err)
	}
	h.ResumeToken = ""
	_, err = c.Wait(ctx, h, nil)
	var e *Error
	if !errorsAs(err, &e) || e.Code != "TestNetworkUnavailable" || !strings.Contains(err.Error(), "no free addresses") || !strings.Contains(err.Error(), "vm-0001") {
		t.Fatalf("error %v", err)
	}
	j, err := c.Job(ctx, h.JobID)
	if err != nil || j.State != "Failed" || j.Scenario != "TestFailover" || len(j.Errors) != 1 {
		t.Fatalf("job %+v, err %v", j, err)
	}
}
func errorsAs(err error, target any) bool { return errors.As(err, target) }

// TestFirstPollWaitsForRetryAfter: Wait does not poll an operation before
// the Retry-After of the response that accepted it, and a handle resumed
// after that time polls at once.
func TestFirstPollWaitsForRetryAfter(t *testing.T) {
	t.Parallel()
	const pollAfter = 150 * time.Millisecond
	for _, late := range []bool{false, true} {
		w, c, it := protectedWorld(t, 1, azuresim.Options{PollAfter: pollAfter, TimeScale: 0.02})
		ctx := ctx(t)
		w.sim.ResetRequests()
		h, err := c.TestFailover(ctx, it, TestFailoverInput{})
		if err != nil {
			t.Fatal(err)
		}
		if h.PollNotBefore.IsZero() {
			t.Fatal("the handle does not carry the accepted response's Retry-After")
		}
		if late {
			time.Sleep(pollAfter)
		}
		waitBegan := time.Now()
		if _, err := c.Wait(ctx, h, nil); err != nil {
			t.Fatal(err)
		}
		reqs := w.sim.Requests()
		var accepted, firstPoll time.Time
		for _, r := range reqs {
			switch {
			case r.Method == http.MethodPost && accepted.IsZero():
				accepted = r.Time
			case r.Method == http.MethodGet && strings.Contains(r.Path, "/replicationOperationStatus/") && firstPoll.IsZero():
				firstPoll = r.Time
			}
		}
		if accepted.IsZero() || firstPoll.IsZero() {
			t.Fatalf("late=%v: no accepted POST or no poll in %d requests", late, len(reqs))
		}
		if gap := firstPoll.Sub(accepted); gap < pollAfter {
			t.Fatalf("late=%v: first poll %v after the request, before its Retry-After of %v", late, gap, pollAfter)
		}
		if wait := firstPoll.Sub(waitBegan); late && wait > pollAfter/2 {
			t.Fatalf("a handle resumed after its Retry-After waited %v before polling", wait)
		}
	}
}
