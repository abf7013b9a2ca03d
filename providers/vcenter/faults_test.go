package vcenter_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"cutover/providers/vcenter"
	"cutover/providers/vcenter/vcentersim"
)

func countingClient(t *testing.T, s *vcentersim.Sim) (*vcenter.Client, *callCounter) {
	counter := &callCounter{n: map[string]int{}}
	c := connect(t, s, interposed(counter, &counter.next))
	return c, counter
}

func TestTransientFaultsAreRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault types.BaseMethodFault
	}{
		{"TaskInProgress", &types.TaskInProgress{}},
		{"HostNotConnected", &types.HostNotConnected{}}, // a HostCommunication
		{"Timedout", &types.Timedout{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := startSim(t, testWorld())
			c, counter := countingClient(t, s)
			inv := discover(t, c)
			web := mustVM(t, inv, vcenter.Selector{Name: "web01"})
			h2 := mustResolve(t, inv, vcenter.KindHost, vcenter.Selector{Name: "h2"}).MoRef
			if err := s.InjectFault(vcentersim.FaultRule{Method: "RelocateVM_Task", Object: "web01", Fault: tt.fault, Count: 2}); err != nil {
				t.Fatal(err)
			}
			var rec recorder
			if _, err := c.Relocate(ctx, web.Ref(), vcenter.Placement{Host: h2}, rec.watch()); err != nil {
				t.Fatal(err)
			}
			if n := counter.count("RelocateVM_Task"); n != 3 {
				t.Fatalf("RelocateVM_Task sent %d times, want 3 (two faults, then success)", n)
			}
			var retries int
			for _, p := range rec.progress {
				if p.Retry != nil {
					retries++
					if !p.Retry.Transient || p.Retry.Fault != tt.name {
						t.Errorf("retry reported %+v", p.Retry)
					}
				}
			}
			if retries != 2 {
				t.Fatalf("%d retries reported, want 2", retries)
			}
			if got := mustVM(t, discover(t, c), vcenter.Selector{MoRef: web.MoRef}); got.Host != h2 {
				t.Fatalf("VM on %s after retries, want %s", got.Host, h2)
			}
		})
	}
}

func TestTransientFaultsGiveUp(t *testing.T) {
	t.Parallel()
	s := startSim(t, testWorld())
	c, counter := countingClient(t, s)
	web := mustVM(t, discover(t, c), vcenter.Selector{Name: "web01"})
	if err := s.InjectFault(vcentersim.FaultRule{Method: "CreateSnapshot_Task", Fault: &types.TaskInProgress{}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Snapshot(context.Background(), web.Ref(), "s", "", false, vcenter.Watch{})
	var oe *vcenter.OpError
	if !errors.As(err, &oe) || !oe.Transient || oe.Fault != "TaskInProgress" {
		t.Fatalf("got %v", err)
	}
	if n := counter.count("CreateSnapshot_Task"); n != fastRetry.Attempts {
		t.Fatalf("%d attempts, want %d", n, fastRetry.Attempts)
	}
}

func TestPermanentFaultsSurface(t *testing.T) {
	t.Parallel()
	s := startSim(t, testWorld())
	c, counter := countingClient(t, s)
	inv := discover(t, c)
	web := mustVM(t, inv, vcenter.Selector{Name: "web01"})
	app := mustVM(t, inv, vcenter.Selector{Path: "apps/app"})
	h3 := mustResolve(t, inv, vcenter.KindHost, vcenter.Selector{Name: "h3"}).MoRef
	ctx := context.Background()

	tests := []struct {
		fault  types.BaseMethodFault
		name   string
		method string
		vm     *vcenter.VM
		op     vcenter.Op
		call   func() error
	}{
		{&types.InvalidPowerState{}, "InvalidPowerState", "PowerOnVM_Task", app, vcenter.OpPowerOn, func() error {
			_, err := c.PowerOn(ctx, app.Ref(), vcenter.Watch{})
			return err
		}},
		{&types.InvalidArgument{}, "InvalidArgument", "RelocateVM_Task", web, vcenter.OpRelocate, func() error {
			_, err := c.Relocate(ctx, web.Ref(), vcenter.Placement{Host: h3}, vcenter.Watch{})
			return err
		}},
		{&types.MigrationFault{}, "MigrationFault", "RelocateVM_Task", web, vcenter.OpRelocate, func() error {
			_, err := c.Relocate(ctx, web.Ref(), vcenter.Placement{Host: h3}, vcenter.Watch{})
			return err
		}},
		{&types.InsufficientResourcesFault{}, "InsufficientResourcesFault", "CloneVM_Task", web, vcenter.OpClone, func() error {
			_, err := c.Clone(ctx, web.Ref(), vcenter.CloneSpec{Name: "x"}, vcenter.Watch{})
			return err
		}},
		{&types.NoPermission{}, "NoPermission", "CreateSnapshot_Task", web, vcenter.OpSnapshot, func() error {
			_, err := c.Snapshot(ctx, web.Ref(), "s", "", false, vcenter.Watch{})
			return err
		}},
		{&types.InvalidState{}, "InvalidState", "PowerOffVM_Task", web, vcenter.OpPowerOff, func() error {
			_, err := c.PowerOff(ctx, web.Ref(), vcenter.Watch{})
			return err
		}},
		{&types.NotSupported{}, "NotSupported", "Destroy_Task", app, vcenter.OpDestroy, func() error {
			return c.Destroy(ctx, app.Ref(), vcenter.Watch{})
		}},
	}
	for _, tt := range tests {
		s.ClearFaults()
		if err := s.InjectFault(vcentersim.FaultRule{Method: tt.method, Fault: tt.fault}); err != nil {
			t.Fatal(err)
		}
		counter.reset()
		err := tt.call()
		var oe *vcenter.OpError
		if !errors.As(err, &oe) {
			t.Errorf("%s: want *OpError, got %v", tt.name, err)
			continue
		}
		if oe.Transient || oe.Fault != tt.name || oe.Op != tt.op || !vcenter.IsFault(err, tt.fault) {
			t.Errorf("%s: got %+v", tt.name, oe)
		}
		msg := err.Error()
		for _, want := range []string{tt.vm.Name, tt.vm.MoRef, string(tt.op), tt.name} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: message %q does not name %q", tt.name, msg, want)
			}
		}
		if n := counter.count(tt.method); n != 1 {
			t.Errorf("%s: %s sent %d times; permanent faults are not retried", tt.name, tt.method, n)
		}
	}
}

func TestSessionTerminatedMidRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startSim(t, testWorld())
	c, counter := countingClient(t, s)
	inv := discover(t, c)
	web := mustVM(t, inv, vcenter.Selector{Name: "web01"})
	key, err := c.SessionKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.TerminateSession(ctx, key); err != nil {
		t.Fatal(err)
	}
	counter.reset()
	inv = discover(t, c)
	if len(inv.VMs) == 0 {
		t.Fatal("no VMs after re-login")
	}
	if c.Relogins() != 1 || counter.count("Login") != 1 {
		t.Fatalf("relogins %d, Login calls %d; want exactly one", c.Relogins(), counter.count("Login"))
	}
	newKey, err := c.SessionKey(ctx)
	if err != nil || newKey == key {
		t.Fatalf("session key after re-login %q (was %q): %v", newKey, key, err)
	}
	// Operations keep working on the new session, and so does a second
	// termination (one re-login per NotAuthenticated).
	if err := s.TerminateSession(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Snapshot(ctx, web.Ref(), "after-relogin", "", false, vcenter.Watch{}); err != nil {
		t.Fatal(err)
	}
	if c.Relogins() != 2 {
		t.Fatalf("relogins %d, want 2", c.Relogins())
	}
}

// sessionKiller terminates the client's session just before the first
// call of a given method goes out: a session lost mid-operation.
type sessionKiller struct {
	next   soap.RoundTripper
	method string
	kill   func(context.Context) error
	once   sync.Once
	err    error
}

func (k *sessionKiller) RoundTrip(ctx context.Context, req, res soap.HasFault) error {
	if k.method != "" && typeName(req) == "*methods."+k.method+"Body" {
		k.once.Do(func() { k.err = k.kill(ctx) })
	}
	return k.next.RoundTrip(ctx, req, res)
}

func TestDiscoverySurvivesSessionLossMidway(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startSim(t, testWorld())
	var key string
	views := 0
	killer := &sessionKiller{kill: func(ctx context.Context) error {
		return s.TerminateSession(ctx, key)
	}}
	c := connect(t, s, vcenter.WithTransport(func(rt soap.RoundTripper) soap.RoundTripper {
		killer.next = countViews{rt, &views}
		return killer
	}))
	key, err := c.SessionKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	killer.method = "RetrievePropertiesEx" // armed: the next property read finds the session gone
	inv, err := c.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if killer.err != nil {
		t.Fatal(killer.err)
	}
	if len(inv.VMs) != 8 {
		t.Fatalf("%d VMs after re-login, want 8", len(inv.VMs))
	}
	if c.Relogins() != 1 || views != 2 {
		t.Fatalf("relogins %d, container views %d; want 1 and 2", c.Relogins(), views)
	}
}

type countViews struct {
	next soap.RoundTripper
	n    *int
}

func (c countViews) RoundTrip(ctx context.Context, req, res soap.HasFault) error {
	if typeName(req) == "*methods.CreateContainerViewBody" {
		*c.n++
	}
	return c.next.RoundTrip(ctx, req, res)
}

// flakyNetwork fails the first call of a method with a network timeout, as
// a dropped connection to vCenter would.
type flakyNetwork struct {
	next   soap.RoundTripper
	method string
	failed bool
	mu     sync.Mutex
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func (f *flakyNetwork) RoundTrip(ctx context.Context, req, res soap.HasFault) error {
	f.mu.Lock()
	fail := !f.failed && f.method != "" && typeName(req) == "*methods."+f.method+"Body"
	f.failed = f.failed || fail
	f.mu.Unlock()
	if fail {
		return timeoutError{}
	}
	return f.next.RoundTrip(ctx, req, res)
}

func TestNetworkTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	s := startSim(t, testWorld())
	flaky := &flakyNetwork{method: "PowerOffVM_Task"}
	c := connect(t, s, interposed(flaky, &flaky.next))
	web := mustVM(t, discover(t, c), vcenter.Selector{Name: "web01"})
	var rec recorder
	if _, err := c.PowerOff(context.Background(), web.Ref(), rec.watch()); err != nil {
		t.Fatal(err)
	}
	if !flaky.failed || len(rec.started) != 1 {
		t.Fatalf("timeout injected %v, tasks started %d", flaky.failed, len(rec.started))
	}
	var retried bool
	for _, p := range rec.progress {
		retried = retried || (p.Retry != nil && p.Retry.Transient && p.Retry.Fault == "")
	}
	if !retried {
		t.Fatal("the timeout was not reported as a retried transient error")
	}
	if got := mustVM(t, discover(t, c), vcenter.Selector{MoRef: web.MoRef}); got.PowerState != "poweredOff" {
		t.Fatalf("power state %s after retry", got.PowerState)
	}
}

func TestWaitRidesOutAFailedPoll(t *testing.T) {
	t.Parallel()
	s := startSim(t, testWorld())
	flaky := &flakyNetwork{}
	c := connect(t, s, interposed(flaky, &flaky.next))
	web := mustVM(t, discover(t, c), vcenter.Selector{Name: "web01"})
	var rec recorder
	w := rec.watch()
	started := w.Started
	w.Started = func(h vcenter.Handle) {
		started(h)
		flaky.mu.Lock()
		flaky.method = "RetrievePropertiesEx" // the first poll of the task times out
		flaky.mu.Unlock()
	}
	if _, err := c.PowerOff(context.Background(), web.Ref(), w); err != nil {
		t.Fatal(err)
	}
	if !flaky.failed || len(rec.started) != 1 {
		t.Fatalf("poll failure injected %v; tasks started %d, want 1 (no restart)", flaky.failed, len(rec.started))
	}
}

// lostReply lets the first call of a method reach vCenter but loses the
// answer: the caller cannot know whether the operation started.
type lostReply struct {
	next   soap.RoundTripper
	method string
	mu     sync.Mutex
	lost   bool
	sent   int
}

func (l *lostReply) RoundTrip(ctx context.Context, req, res soap.HasFault) error {
	err := l.next.RoundTrip(ctx, req, res)
	if typeName(req) != "*methods."+l.method+"Body" {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent++
	if !l.lost {
		l.lost = true
		time.Sleep(100 * time.Millisecond) // the task finishes meanwhile
		return timeoutError{}
	}
	return err
}

func TestLostReplyDoesNotRepeatTheOperation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method string
		op     func(t *testing.T, c *vcenter.Client, inv *vcenter.Inventory) error
		check  func(t *testing.T, inv *vcenter.Inventory) bool
	}{
		{"PowerOffVM_Task", func(t *testing.T, c *vcenter.Client, inv *vcenter.Inventory) error {
			_, err := c.PowerOff(context.Background(), mustVM(t, inv, vcenter.Selector{Name: "web01"}).Ref(), vcenter.Watch{})
			return err
		}, func(t *testing.T, inv *vcenter.Inventory) bool {
			return mustVM(t, inv, vcenter.Selector{Name: "web01"}).PowerState == "poweredOff"
		}},
		{"RelocateVM_Task", func(t *testing.T, c *vcenter.Client, inv *vcenter.Inventory) error {
			h3 := mustResolve(t, inv, vcenter.KindHost, vcenter.Selector{Name: "h3"}).MoRef
			_, err := c.Relocate(context.Background(), mustVM(t, inv, vcenter.Selector{Name: "web01"}).Ref(), vcenter.Placement{Host: h3}, vcenter.Watch{})
			return err
		}, func(t *testing.T, inv *vcenter.Inventory) bool {
			return mustVM(t, inv, vcenter.Selector{Name: "web01"}).Host == mustResolve(t, inv, vcenter.KindHost, vcenter.Selector{Name: "h3"}).MoRef
		}},
		{"MakePrimaryVM_Task", func(t *testing.T, c *vcenter.Client, inv *vcenter.Inventory) error {
			_, err := c.MakePrimary(context.Background(), mustVM(t, inv, vcenter.Selector{Name: "db01 (secondary)"}).Ref(), vcenter.Watch{})
			return err
		}, func(t *testing.T, inv *vcenter.Inventory) bool {
			return mustVM(t, inv, vcenter.Selector{Name: "db01 (secondary)"}).FTRole == 1
		}},
		{"Destroy_Task", func(t *testing.T, c *vcenter.Client, inv *vcenter.Inventory) error {
			return c.Destroy(context.Background(), mustVM(t, inv, vcenter.Selector{Path: "apps/app"}).Ref(), vcenter.Watch{})
		}, func(t *testing.T, inv *vcenter.Inventory) bool {
			_, err := inv.MatchVM(vcenter.Selector{Path: "apps/app"})
			return err != nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			t.Parallel()
			s := startSim(t, testWorld())
			lost := &lostReply{method: tt.method}
			c := connect(t, s, interposed(lost, &lost.next))
			if err := tt.op(t, c, discover(t, c)); err != nil {
				t.Fatal(err)
			}
			if lost.sent != 1 {
				t.Fatalf("%s sent %d times; the first took effect", tt.method, lost.sent)
			}
			if !tt.check(t, discover(t, c)) {
				t.Fatal("operation did not take effect")
			}
		})
	}
}

func TestLostReplyAdoptsTheCreatedObject(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startSim(t, testWorld())
	lost := &lostReply{method: "CreateSnapshot_Task"}
	c := connect(t, s, interposed(lost, &lost.next))
	web := mustVM(t, discover(t, c), vcenter.Selector{Name: "web01"})
	undo, err := c.Snapshot(ctx, web.Ref(), "pre-cutover", "", false, vcenter.Watch{})
	if err != nil {
		t.Fatal(err)
	}
	after := mustVM(t, discover(t, c), vcenter.Selector{Name: "web01"})
	if id, ok := after.FindSnapshot("pre-cutover"); !ok || id != undo.Snapshot || lost.sent != 1 {
		t.Fatalf("snapshot %q adopted as %q, sent %d times", id, undo.Snapshot, lost.sent)
	}

	lost.mu.Lock()
	lost.method, lost.lost, lost.sent = "CloneVM_Task", false, 0
	lost.mu.Unlock()
	undo, err = c.Clone(ctx, web.Ref(), vcenter.CloneSpec{Name: "web01-copy"}, vcenter.Watch{})
	if err != nil {
		t.Fatal(err)
	}
	clone, err := discover(t, c).MatchVM(vcenter.Selector{Name: "web01-copy"})
	if err != nil || undo.Clone == nil || clone.MoRef != undo.Clone.MoRef || lost.sent != 1 {
		t.Fatalf("clone %v adopted as %+v, sent %d times: %v", clone, undo.Clone, lost.sent, err)
	}
	// A second clone of the same name is refused rather than adopted.
	_, err = c.Clone(ctx, web.Ref(), vcenter.CloneSpec{Name: "web01-copy"}, vcenter.Watch{})
	var oe *vcenter.OpError
	if !errors.As(err, &oe) || oe.Fault != "DuplicateName" {
		t.Fatalf("clone over an existing name: %v", err)
	}
}
