package azure

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"cutover/providers/azure/azuresim"
)

// waits collects what the budget policy reports.
type waits struct {
	mu  sync.Mutex
	all []BudgetWait
}

func (w *waits) observe(b BudgetWait) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all = append(w.all, b)
}

func (w *waits) throttled() []BudgetWait {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []BudgetWait
	for _, b := range w.all {
		if b.Throttled {
			out = append(out, b)
		}
	}
	return out
}

// enableAll enables every discovered machine at once, one goroutine each,
// and waits for every job.
func enableAll(t *testing.T, ctx context.Context, c *Client, machines []Machine) {
	t.Helper()
	var err error
	if machines == nil {
		if machines, err = c.ListMachines(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pol, err := c.Policy(ctx, "24-hour-replication-policy")
	if err != nil {
		t.Fatal(err)
	}
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
}

func statuses(reqs []azuresim.Request, write bool) map[int]int {
	out := map[int]int{}
	for _, r := range reqs {
		if (r.Method != http.MethodGet) == write {
			out[r.Status]++
		}
	}
	return out
}

// TestBudget: all writes of a wave draw from one bucket per subscription.
// When the client's budget matches ARM's, nothing is refused; when ARM's is
// smaller than configured (someone else spends it), the 429s are absorbed
// (every VM is enabled with a retry policy that allows a single retry) and
// reported as waits carrying ARM's error code.
func TestBudget(t *testing.T) {
	t.Parallel()
	const vms = 24
	cases := []struct {
		name      string
		arm       azuresim.Throttle
		client    BudgetSettings
		want429   bool
		minWallMs int
	}{
		// (24 − 4) writes at 40 per s: at least 0.5 s of pacing.
		{"paced within ARM's budget", azuresim.Throttle{Burst: 4, WritesPerSecond: 40}, BudgetSettings{Burst: 4, PerSecond: 40}, false, 480},
		{"ARM's budget smaller than configured", azuresim.Throttle{Burst: 2, WritesPerSecond: 20, RetryAfter: 100 * time.Millisecond}, BudgetSettings{Burst: 50, PerSecond: 200}, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, azuresim.DefaultSeed(vms), azuresim.Options{})
			w.sim.SetThrottle(tc.arm)
			cfg := w.config()
			cfg.WriteBurst, cfg.WritesPerSecond = tc.client.Burst, tc.client.PerSecond
			c, err := New(cfg, &Options{PollInterval: 5 * time.Millisecond, Budgets: NewBudgets(),
				Retry: &policy.RetryOptions{MaxRetries: 1, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 50 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			var seen waits
			ctx := WithBudgetObserver(ctx(t), seen.observe)
			w.sim.ResetRequests()
			began := time.Now()
			enableAll(t, ctx, c, nil)
			wall := time.Since(began)
			got := statuses(w.sim.Requests(), true)
			t.Logf("writes by status %v, %d waits reported, wall %v", got, len(seen.all), wall)
			if got[http.StatusAccepted] != vms {
				t.Fatalf("%d writes accepted, want %d", got[http.StatusAccepted], vms)
			}
			// Pacing alone keeps ARM from refusing more than the odd
			// write that arrived before ARM's token did, when its
			// predecessors were slower on the wire (without the budget,
			// 20 of the 24 are refused at once, and their retries too).
			if n := got[http.StatusTooManyRequests]; tc.want429 && n == 0 || !tc.want429 && n > vms/4 {
				t.Fatalf("%d writes refused with 429, want some: %v", n, tc.want429)
			}
			if wall < time.Duration(tc.minWallMs)*time.Millisecond {
				t.Fatalf("wave took %v: faster than the budget allows", wall)
			}
			if len(seen.all) == 0 {
				t.Fatal("no wait for the budget was reported")
			}
			th := seen.throttled()
			if tc.want429 && len(th) == 0 {
				t.Fatalf("%d throttled waits reported", len(th))
			}
			for _, b := range th {
				if b.Code != "SubscriptionRequestsThrottled" || b.RetryAfter < 100*time.Millisecond || b.Subscription != w.seed.SubscriptionID {
					t.Fatalf("throttled wait %+v", b)
				}
			}
		})
	}
}

// TestBudgetSharedBetweenClients: two clients of one subscription draw
// from one bucket: together they stay within it.
func TestBudgetSharedBetweenClients(t *testing.T) {
	t.Parallel()
	w := newWorld(t, azuresim.DefaultSeed(16), azuresim.Options{})
	w.sim.SetThrottle(azuresim.Throttle{Burst: 4, WritesPerSecond: 40})
	budgets := NewBudgets()
	cfg := w.config()
	cfg.WriteBurst, cfg.WritesPerSecond = 4, 40
	var clients []*Client
	for range 2 {
		c, err := New(cfg, &Options{PollInterval: 5 * time.Millisecond, Budgets: budgets})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	ctx := ctx(t)
	machines, err := clients[0].ListMachines(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.sim.ResetRequests()
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			enableAll(t, ctx, c, machines[i*len(machines)/2:(i+1)*len(machines)/2])
		}()
	}
	wg.Wait()
	got := statuses(w.sim.Requests(), true)
	if got[http.StatusTooManyRequests] > 4 {
		t.Fatalf("writes by status %v: two clients overspent one budget", got)
	}
}

// TestBudgetFollowsTheMeter: with the default budget, writes are held
// back only once the endpoint shows it meters them (a remaining-writes
// header or a 429, as ARM sends): a wave of 60 against an endpoint that
// does not throttle waits for nothing, although it exceeds the 10 per
// second refill; against one that meters like ARM (a small budget here),
// the same wave is paced and every write lands.
func TestBudgetFollowsTheMeter(t *testing.T) {
	t.Parallel()
	const vms = 60
	for _, metered := range []bool{false, true} {
		t.Run(fmt.Sprintf("metered=%v", metered), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, azuresim.DefaultSeed(vms), azuresim.Options{})
			if metered {
				w.sim.SetThrottle(azuresim.Throttle{Burst: 20, WritesPerSecond: 40})
			}
			c, err := New(w.config(), &Options{PollInterval: 5 * time.Millisecond, Budgets: NewBudgets()})
			if err != nil {
				t.Fatal(err)
			}
			var seen waits
			enableAll(t, WithBudgetObserver(ctx(t), seen.observe), c, nil)
			got := statuses(w.sim.Requests(), true)
			t.Logf("writes by status %v, %d waits reported", got, len(seen.all))
			if got[http.StatusAccepted] != vms {
				t.Fatalf("%d writes accepted", got[http.StatusAccepted])
			}
			if !metered && len(seen.all) > 0 {
				t.Fatalf("waited for the budget of an endpoint that does not meter writes: %+v", seen.all[0])
			}
			if metered && len(seen.all) == 0 {
				t.Fatal("a metered endpoint's budget was never waited for")
			}
		})
	}
}
