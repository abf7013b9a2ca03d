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
