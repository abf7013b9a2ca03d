package azure

import (
	"errors"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"net/http"
	"strings"
	"testing"
	"time"

	"cutover/providers/azure/azuresim"
)

// protectedWorld seeds n protected machines and returns the first item.
func protectedWorld(t *testing.T, n int, opts azuresim.Options) (*world, *Client, *ProtectedItem) {
	t.Helper()
	w := newWorld(t, bigSeed(n), opts)
	c := w.client(t)
	it, err := c.GetProtectedItem(ctx(t), "machine-0001")
	if err != nil {
		t.Fatal(err)
	}
	return w, c, it
}

// TestThrottleHonoursRetryAfter: 429s with Retry-After are retried after
// at least the advertised delay and the operation completes.
func TestThrottleHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		retryAfter time.Duration
		throttled  int
	}{
		{"one second header", time.Second, 1},
		{"sub-second header twice", 300 * time.Millisecond, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, c, it := protectedWorld(t, 1, azuresim.Options{})
			ctx := ctx(t)
			w.sim.ThrottleNext(tc.throttled, tc.retryAfter)
			w.sim.ResetRequests()
			h, err := c.TestFailover(ctx, it, TestFailoverInput{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Wait(ctx, h, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.TestFailoverState != azuresim.TestFailoverWaiting {
				t.Fatalf("test failover state %s", got.TestFailoverState)
			}
			var posts []azuresim.Request
			for _, r := range w.sim.Requests() {
				if r.Method == http.MethodPost {
					posts = append(posts, r)
				}
			}
			if len(posts) != tc.throttled+1 {
				t.Fatalf("POSTs %+v: want %d throttled and one accepted", posts, tc.throttled)
			}
			for i := 0; i < tc.throttled; i++ {
				if posts[i].Status != http.StatusTooManyRequests {
					t.Fatalf("request %d status %d, want 429", i, posts[i].Status)
				}
				gap := posts[i+1].Time.Sub(posts[i].Time)
				if gap < tc.retryAfter-10*time.Millisecond {
					t.Fatalf("retried after %v, before the Retry-After of %v", gap, tc.retryAfter)
				}
				if gap > tc.retryAfter+900*time.Millisecond {
					t.Fatalf("retried after %v, far beyond the Retry-After of %v", gap, tc.retryAfter)
				}
				t.Logf("429 with Retry-After %v: retried after %v", tc.retryAfter, gap)
			}
			if posts[tc.throttled].Status != http.StatusAccepted {
				t.Fatalf("final POST status %d", posts[tc.throttled].Status)
			}
		})
	}
}

// TestThrottleRateLimitedWave: enabling a wave against a write limit
// finishes every VM.
func TestThrottleRateLimitedWave(t *testing.T) {
	t.Parallel()
	w := newWorld(t, azuresim.DefaultSeed(6), azuresim.Options{})
	w.sim.SetThrottle(azuresim.Throttle{WritesPerSecond: 3, RetryAfter: 250 * time.Millisecond})
	c := w.client(t)
	ctx := ctx(t)
	machines, pol := machinesAndPolicy(t, ctx, c)
	errs := make(chan error, len(machines))
	for _, m := range machines {
		go func() {
			h, err := c.EnableReplication(ctx, testEnable(m, pol.ID))
			if err == nil {
				_, err = c.Wait(ctx, h, nil)
			}
			errs <- err
		}()
	}
	for range machines {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	throttled := 0
	for _, r := range w.sim.Requests() {
		if r.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled == 0 {
		t.Fatal("the write limit never throttled: the test proves nothing")
	}
	items, err := c.ListProtectedItems(ctx)
	if err != nil || len(items) != len(machines) {
		t.Fatalf("%d items, err %v", len(items), err)
	}
}

// TestServiceErrorsAreTyped: permanent failures name VM, operation and the
// service's message, and never the token.
func TestServiceErrorsAreTyped(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		prepare func(w *world)
		run     func(c *Client, it *ProtectedItem) error
		kind    Kind
		code    string
		message string
	}{
		{
			name: "invalid parameter on the request",
			prepare: func(w *world) {
				w.sim.InjectFault(azuresim.Fault{Operation: "testFailover", VM: "vm-0001", Status: 400, Code: "InvalidParameter", Message: "The test network 'vnet-x' does not exist."})
			},
			run: func(c *Client, it *ProtectedItem) error {
				_, err := c.TestFailover(ctx(t), it, TestFailoverInput{})
				return err
			},
			kind: KindInvalidParameter, code: "InvalidParameter", message: "The test network 'vnet-x' does not exist.",
		},
		{
			name:    "replication not healthy",
			prepare: func(w *world) { _ = w.sim.MarkUnhealthy("vm-0001", "No data received for 45 minutes.") },
			run: func(c *Client, it *ProtectedItem) error {
				_, err := c.UnplannedFailover(ctx(t), it, UnplannedFailoverInput{})
				return err
			},
			kind: KindReplicationNotHealthy, code: "ReplicationNotHealthy", message: "No data received for 45 minutes.",
		},
		{
			name:    "recovery point not found",
			prepare: func(*world) {},
			run: func(c *Client, it *ProtectedItem) error {
				_, err := c.TestFailover(ctx(t), it, TestFailoverInput{RecoveryPointID: it.ID + "/recoveryPoints/rp-gone"})
				return err
			},
			kind: KindRecoveryPointNotFound, code: "RecoveryPointNotFound", message: "rp-gone",
		},
		{
			name: "job fails after acceptance",
			prepare: func(w *world) {
				w.sim.InjectFault(azuresim.Fault{Operation: "unplannedFailover", VM: "vm-0001", Async: true, Code: "ProviderError", Message: "Failed to create the virtual machine in the target region."})
			},
			run: func(c *Client, it *ProtectedItem) error {
				h, err := c.UnplannedFailover(ctx(t), it, UnplannedFailoverInput{})
				if err != nil {
					return err
				}
				_, err = c.Wait(ctx(t), h, nil)
				return err
			},
			kind: KindOther, code: "ProviderError", message: "Failed to create the virtual machine in the target region.",
		},
		{
			name: "server error that never clears",
			prepare: func(w *world) {
				w.sim.InjectFault(azuresim.Fault{Operation: "failoverCancel", Status: 503, Code: "ServiceUnavailable", Message: "The service is temporarily unavailable."})
				w.sim.InjectFault(azuresim.Fault{Operation: "testFailoverCleanup", Status: 503, Code: "ServiceUnavailable", Message: "The service is temporarily unavailable."})
			},
			run: func(c *Client, it *ProtectedItem) error {
				h, err := c.TestFailover(ctx(t), it, TestFailoverInput{})
				if err != nil {
					return err
				}
				if it, err = c.Wait(ctx(t), h, nil); err != nil {
					return err
				}
				_, err = c.TestFailoverCleanup(ctx(t), it, "")
				return err
			},
			kind: KindTransient, code: "ServiceUnavailable", message: "temporarily unavailable",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, c, it := protectedWorld(t, 2, azuresim.Options{})
			tc.prepare(w)
			err := tc.run(c, it)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("want *Error, got %T %v", err, err)
			}
			if e.Kind != tc.kind || e.Code != tc.code {
				t.Fatalf("kind %v code %q, want %v %q (%v)", e.Kind, e.Code, tc.kind, tc.code, err)
			}
			msg := err.Error()
			for _, want := range []string{"vm-0001-az", e.Operation, tc.message} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			if strings.Contains(msg, testToken) {
				t.Fatal("error leaks the bearer token")
			}
		})
	}
}

// TestRefusedBeforeAnyRequest: an operation outside allowedOperations is
// refused locally, naming the state and what is allowed.
func TestRefusedBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	w, c, it := protectedWorld(t, 1, azuresim.Options{})
	ctx := ctx(t)
	cases := []struct {
		name string
		run  func() (Handle, error)
	}{
		{"commit while protected", func() (Handle, error) { return c.FailoverCommit(ctx, it) }},
		{"cancel while protected", func() (Handle, error) { return c.FailoverCancel(ctx, it) }},
		{"cleanup without a test failover", func() (Handle, error) { return c.TestFailoverCleanup(ctx, it, "") }},
		{"enable without disks", func() (Handle, error) {
			return c.EnableReplication(ctx, EnableInput{Machine: Machine{ID: "/x/machines/m", DisplayName: "vm-0001"}, PolicyID: "p", Target: TargetSettings{ResourceGroupID: "rg"}})
		}},
	}
	for _, tc := range cases {
		w.sim.ResetRequests()
		_, err := tc.run()
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: want *Error, got %v", tc.name, err)
		}
		if n := len(w.sim.Requests()); n != 0 {
			t.Fatalf("%s: %d requests sent before refusing", tc.name, n)
		}
		if !strings.Contains(err.Error(), "vm-0001") {
			t.Errorf("%s: error does not name the VM: %v", tc.name, err)
		}
		if strings.HasPrefix(tc.name, "enable") {
			if e.Kind != KindInvalidParameter {
				t.Errorf("%s: kind %v", tc.name, e.Kind)
			}
			continue
		}
		if e.Kind != KindNotAllowed || !strings.Contains(err.Error(), "protection state Protected") || !strings.Contains(err.Error(), "UnplannedFailover, DisableProtection, TestFailover") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// and the gate closes while a test failover awaits cleanup
	h, err := c.TestFailover(ctx, it, TestFailoverInput{})
	if err != nil {
		t.Fatal(err)
	}
	waiting, err := c.Wait(ctx, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.sim.ResetRequests()
	_, err = c.UnplannedFailover(ctx, waiting, UnplannedFailoverInput{})
	if KindOf(err) != KindNotAllowed || !strings.Contains(err.Error(), "test failover WaitingForCompletion") || !strings.Contains(err.Error(), "allowed operations: TestFailoverCleanup") {
		t.Fatalf("failover during pending cleanup: %v", err)
	}
	if n := len(w.sim.Requests()); n != 0 {
		t.Fatalf("%d requests sent before refusing", n)
	}
}

// TestThrottleBeyondMaxDelay: a Retry-After longer than the retry policy's
// MaxRetryDelay is waited for, not surfaced: a 429 never fails a request.
// The wait is reported to the request's budget observer with ARM's code.
func TestThrottleBeyondMaxDelay(t *testing.T) {
	t.Parallel()
	w, _, it := protectedWorld(t, 1, azuresim.Options{})
	c, err := New(w.config(), &Options{PollInterval: 5 * time.Millisecond,
		Retry: &policy.RetryOptions{MaxRetries: 1, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	const retryAfter = 700 * time.Millisecond
	w.sim.ThrottleNext(2, retryAfter)
	var seen waits
	began := time.Now()
	_, err = c.TestFailover(WithBudgetObserver(ctx(t), seen.observe), it, TestFailoverInput{})
	if err != nil {
		t.Fatalf("throttled request failed: %v", err)
	}
	if d := time.Since(began); d < 2*retryAfter {
		t.Fatalf("done after %v, before two Retry-Afters of %v", d, retryAfter)
	}
	th := seen.throttled()
	if len(th) != 2 || th[0].Code != "SubscriptionRequestsThrottled" || th[0].RetryAfter != retryAfter || th[0].Wait < retryAfter-50*time.Millisecond {
		t.Fatalf("throttled waits %+v, want two of %v", th, retryAfter)
	}
}
