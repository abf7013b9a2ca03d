package vcenter_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"cutover/providers/vcenter"
	"cutover/providers/vcenter/vcentersim"
)

// TestReattachToRunningRelocate plays a process killed mid-relocate: the
// handle journaled at start is all a new process needs to follow the task
// to its end. Not parallel: task delays are process-global in vcsim.
func TestReattachToRunningRelocate(t *testing.T) {
	restore := vcentersim.SetTaskDelay(map[string]time.Duration{"RelocateVm": 1500 * time.Millisecond})
	defer restore()

	s := startSim(t, testWorld())
	first := connect(t, s)
	inv := discover(t, first)
	web := mustVM(t, inv, vcenter.Selector{Name: "web01"})
	to := vcenter.Placement{
		Host: mustResolve(t, inv, vcenter.KindHost, vcenter.Selector{Name: "h3"}).MoRef,
		Pool: mustResolve(t, inv, vcenter.KindPool, vcenter.Selector{Path: "C2/Resources"}).MoRef,
	}

	journal := make(chan []byte, 1)
	ctx, kill := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := first.Relocate(ctx, web.Ref(), to, vcenter.Watch{Started: func(h vcenter.Handle) {
			b, _ := json.Marshal(h)
			journal <- b
			kill() // the process dies right after journaling the handle
		}})
		done <- err
	}()
	var saved []byte
	select {
	case saved = <-journal:
	case <-time.After(10 * time.Second):
		t.Fatal("relocate never started")
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("first process: %v, want it cut off", err)
	}

	var h vcenter.Handle
	if err := json.Unmarshal(saved, &h); err != nil {
		t.Fatal(err)
	}
	second := connect(t, s)
	if moved := mustVM(t, discover(t, second), vcenter.Selector{MoRef: web.MoRef}); moved.Host == to.Host {
		t.Fatal("relocation finished before re-attaching; the test proves nothing")
	}
	var states []string
	if _, err := second.Wait(context.Background(), h, func(p vcenter.Progress) { states = append(states, p.State) }); err != nil {
		t.Fatal(err)
	}
	if len(states) < 2 || states[len(states)-1] != "success" {
		t.Fatalf("observed states %v; want running then success", states)
	}
	got := mustVM(t, discover(t, second), vcenter.Selector{MoRef: web.MoRef})
	if got.Host != to.Host || got.Pool != to.Pool {
		t.Fatalf("placement after re-attach: host %s pool %s, want %+v", got.Host, got.Pool, to)
	}
}

// TestShutdownGuestBoundedWait: a guest slow to shut down is waited for
// only as long as asked, then powered off if allowed. Not parallel: task
// delays are process-global in vcsim.
func TestShutdownGuestBoundedWait(t *testing.T) {
	restore := vcentersim.SetTaskDelay(map[string]time.Duration{"ShutdownGuest": 1500 * time.Millisecond})
	defer restore()
	ctx := context.Background()
	s := startSim(t, testWorld())
	c := connect(t, s)
	inv := discover(t, c)
	state := func(vm *vcenter.VM) string {
		return mustVM(t, discover(t, c), vcenter.Selector{MoRef: vm.MoRef}).PowerState
	}

	web := mustVM(t, inv, vcenter.Selector{Name: "web01"})
	start := time.Now()
	_, err := c.ShutdownGuest(ctx, web.Ref(), vcenter.Shutdown{Timeout: 200 * time.Millisecond}, vcenter.Watch{})
	var oe *vcenter.OpError
	if !errors.As(err, &oe) || !errors.Is(err, vcenter.ErrShutdownTimeout) || oe.Fault != "Timedout" || oe.Op != vcenter.OpShutdownGuest {
		t.Fatalf("slow guest without fallback: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("waited %s for a 200ms bound", d)
	}
	if state(web) != "poweredOn" {
		t.Fatal("VM off before the guest finished, without a fallback")
	}

	other := mustVM(t, inv, vcenter.Selector{Path: "dc2/vm/app"})
	var rec recorder
	start = time.Now()
	undo, err := c.ShutdownGuest(ctx, other.Ref(), vcenter.Shutdown{Timeout: 200 * time.Millisecond, FallbackPowerOff: true}, rec.watch())
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 1400*time.Millisecond {
		t.Fatalf("fallback waited for the guest (%s)", d)
	}
	if state(other) != "poweredOff" || undo.PowerState != "poweredOn" || len(rec.started) != 1 || rec.started[0].Op != vcenter.OpPowerOff {
		t.Fatalf("fallback: state %s, undo %+v, handles %+v", state(other), undo, rec.started)
	}
	time.Sleep(1500 * time.Millisecond) // let the delayed shutdown tasks finish before the simulator closes
}

// TestResumeSnapshot: a snapshot's moref is known only when its task ends,
// so a process that died while it ran learns it by resuming the handle.
func TestResumeSnapshot(t *testing.T) {
	s := startSim(t, testWorld()) // before the delay: the world has snapshots too
	restore := vcentersim.SetTaskDelay(map[string]time.Duration{"CreateSnapshotEx": time.Second})
	defer restore()
	first := connect(t, s)
	web := mustVM(t, discover(t, first), vcenter.Selector{Name: "web01"})

	var (
		before vcenter.Undo
		handle vcenter.Handle
	)
	ctx, kill := context.WithCancel(context.Background())
	_, err := first.Snapshot(ctx, web.Ref(), "pre-cutover", "", false, vcenter.Watch{
		Before:  func(u vcenter.Undo) { before = u },
		Started: func(h vcenter.Handle) { handle = h; kill() },
	})
	if !errors.Is(err, context.Canceled) || before.Snapshot != "" || handle.Task == "" {
		t.Fatalf("first process: %v, before %+v, handle %+v", err, before, handle)
	}

	second := connect(t, s)
	undo, err := second.Resume(context.Background(), handle, before, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, ok := mustVM(t, discover(t, second), vcenter.Selector{MoRef: web.MoRef}).FindSnapshot("pre-cutover")
	if !ok || undo.Snapshot != id {
		t.Fatalf("resumed undo %+v, snapshot in tree %q", undo, id)
	}
	if err := second.Undo(context.Background(), undo, vcenter.Watch{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := mustVM(t, discover(t, second), vcenter.Selector{MoRef: web.MoRef}).FindSnapshot("pre-cutover"); ok {
		t.Fatal("snapshot still there after the resumed undo")
	}
}
