package main

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmware/govmomi/vim25/types"

	"cutover/executor/journal"
	"cutover/providers/azure/azuresim"
	"cutover/providers/vcenter"
	"cutover/providers/vcenter/vcentersim"
)

// flakyFront fails a fraction of the requests to the vault before they
// reach it, as ARM's front door does under load: 429 with Retry-After,
// 503 with Retry-After, and 500/502/504 without one. The failures are
// transient: a request whose last try failed (here or in the vault,
// which throttles) goes through when retried, which keeps azcore's
// exponential back-off (1 s, 3 s, 7 s... counted over all tries) from
// making the test's duration a lottery.
type flakyFront struct {
	next   http.Handler
	mu     sync.Mutex
	rng    *rand.Rand
	rate   float64
	on     bool
	all    int
	hits   map[int]int
	failed map[string]bool // method and path of requests whose last try failed
}

func (f *flakyFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.all++
	status := 0
	key := r.Method + " " + r.URL.String()
	if f.on && !f.failed[key] && f.rng.Float64() < f.rate {
		status = []int{429, 429, 503, 500, 502, 504}[f.rng.IntN(6)]
		f.hits[status]++
	}
	f.failed[key] = status != 0
	f.mu.Unlock()
	if status == 0 {
		rec := &statusWriter{ResponseWriter: w}
		f.next.ServeHTTP(rec, r)
		if rec.status == http.StatusTooManyRequests || rec.status >= 500 {
			f.mu.Lock()
			f.failed[key] = true
			f.mu.Unlock()
		}
		return
	}
	code := map[int]string{429: "TooManyRequests", 500: "InternalServerError", 502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout"}[status]
	if status == 429 || status == 503 {
		w.Header().Set("Retry-After", "1")
		w.Header().Set("retry-after-ms", "30")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%q,"message":"injected transient failure %d"}}`, code, status)
}

// statusWriter keeps the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (f *flakyFront) counts() (all int, hits map[int]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	hits = map[int]int{}
	for k, v := range f.hits {
		hits[k] = v
	}
	return f.all, hits
}

// TestFaultTransient applies the 50-VM plan while about one request in
// ten fails transiently: the vault's front answers 429 or 5xx to a random
// 8% of requests, the vault itself throttles the first writes and fails
// the test failover of five VMs once with 503, and vCenter answers
// TaskInProgress to the shutdown or snapshot of five VMs. The apply must
// complete in one run, each operation accepted once.
func TestFaultTransient(t *testing.T) {
	began := time.Now()
	front := &flakyFront{rng: rand.New(rand.NewPCG(7, 11)), rate: 0.08, hits: map[int]int{}, failed: map[string]bool{}}
	w := newSimWorld(t, crashVMs, func(h http.Handler) http.Handler { front.next = h; return front })
	discardStdLog(t)

	// Transient vCenter faults on 10% of the VMs: the first call of their
	// shutdown (guest or hard) or snapshot finds another task running.
	var vcFaulted, vcSteps []string
	picked := map[string]int{}
	wants := map[string]int{"ShutdownGuest": 2, "PowerOffVM_Task": 2, "CreateSnapshot_Task": 1}
	for _, name := range w.names {
		var method string
		switch {
		case w.hardVMs[name]:
			method = "PowerOffVM_Task"
		case w.snapVMs[name] && picked["CreateSnapshot_Task"] < wants["CreateSnapshot_Task"]:
			method = "CreateSnapshot_Task"
		case w.snapVMs[name]:
			method = "ShutdownGuest" // the snap VMs shut down through vCenter
		default:
			continue // ASR shuts the plain VMs down itself
		}
		if picked[method] == wants[method] {
			continue
		}
		picked[method]++
		if err := w.vc.InjectFault(vcentersim.FaultRule{Method: method, Object: name, Fault: &types.TaskInProgress{}, Count: 1}); err != nil {
			t.Fatal(err)
		}
		vcFaulted = append(vcFaulted, name+":"+method)
		step := "shutdown"
		if method == "CreateSnapshot_Task" {
			step = "snapshot"
		}
		vcSteps = append(vcSteps, fmt.Sprintf("%s[%q].%s", groupOf(w, name), name, step))
	}
	// Transient vault faults: five VMs' test failover refused once with
	// 503, and the first 15 writes throttled.
	for _, name := range w.names[5:10] {
		w.az.InjectFault(azuresim.Fault{Operation: "testFailover", VM: name, Status: http.StatusServiceUnavailable,
			Code: "ServiceUnavailable", Message: "injected: the service is busy", Times: 1})
	}
	w.az.ThrottleNext(15, 30*time.Millisecond)
	front.mu.Lock()
	front.on = true
	front.mu.Unlock()

	c := w.startApply(t, 10)
	c.wait(t, 90*time.Second)
	out := c.output()
	if c.exitCode() != 0 {
		t.Fatalf("apply with transient faults: exit %d\n%s%s", c.exitCode(), out, c.stderr.String())
	}
	if !strings.Contains(out, fmt.Sprintf("Apply: %d succeeded, 0 already done, 0 failed", len(w.steps))) {
		t.Errorf("apply does not report all %d steps done:\n%s", len(w.steps), tail(out, 5))
	}

	all, hits := front.counts()
	var simRefused int
	sent, accepted := w.mutations()
	for _, r := range w.az.Requests() {
		if r.Status == http.StatusTooManyRequests || r.Status >= 500 {
			simRefused++
		}
	}
	var frontHits int
	var hitList []string
	for _, st := range []int{429, 500, 502, 503, 504} {
		frontHits += hits[st]
		hitList = append(hitList, fmt.Sprintf("%d×%d", hits[st], st))
	}
	frac := float64(frontHits+simRefused) / float64(all)
	t.Logf("%d vault requests, %d failed transiently (%.1f%%): front %s; vault itself %d (throttling, injected 503); vCenter TaskInProgress on %s",
		all, frontHits+simRefused, 100*frac, strings.Join(hitList, " "), simRefused, strings.Join(vcFaulted, " "))
	if frac < 0.07 {
		t.Errorf("only %.1f%% of requests failed; the test wants about 10%%", 100*frac)
	}
	t.Logf("slowest steps: %s", strings.Join(slowest(out, 8), ", "))
	// Each faulted vCenter call was refused once and retried after the
	// provider's back-off: the step took at least that long.
	took := stepDurations(out)
	for _, id := range vcSteps {
		if d, ok := took[id]; !ok || d < vcenter.DefaultRetry.Initial*3/4 {
			t.Errorf("%s took %s (found %v): the TaskInProgress fault did not fire or was not retried", id, d, ok)
		}
	}
	retries := strings.Count(out, ": retrying: ")
	t.Logf("steps retried by the executor: %d; wall time %s", retries, time.Since(began).Round(time.Millisecond))

	for m, n := range accepted {
		if n > 1 {
			t.Errorf("%s of %s (%s) accepted %d times (sent %d)", m.action, m.item, w.vmOfItem[m.item], n, sent[m])
		}
	}
	for item, vm := range w.vmOfItem {
		for _, a := range []string{"enable (PUT)", "testFailover", "testFailoverCleanup", "unplannedFailover"} {
			if accepted[mutation{item, a}] != 1 {
				t.Errorf("%s of %s (%s) accepted %d times, want once", a, item, vm, accepted[mutation{item, a}])
			}
		}
	}
	totals, acc := opTotals(sent), opTotals(accepted)
	var counts []string
	for _, a := range slices.Sorted(maps.Keys(totals)) {
		counts = append(counts, fmt.Sprintf("%s %d sent/%d accepted", a, totals[a], acc[a]))
	}
	t.Logf("vault mutations that reached it: %s", strings.Join(counts, ", "))
	w.checkGoal(t, w.names)
}

// TestFaultPermanent fails one VM's test failover permanently: its chain
// stops there, every other VM reaches the goal, the error names the VM,
// the step and the service's message; once the fault is gone, applying
// the same plan again completes that VM.
func TestFaultPermanent(t *testing.T) {
	began := time.Now()
	const n = 20
	w := newSimWorld(t, n, nil)
	discardStdLog(t)
	const bad = "app-007"
	const msg = "The subnet 'app' of virtual network 'prod-vnet' has no free addresses for the test failover of 'app-007'."
	w.az.InjectFault(azuresim.Fault{Operation: "testFailover", VM: bad, Status: http.StatusBadRequest, Code: "InvalidParameter", Message: msg})

	c := w.startApply(t, 10)
	c.wait(t, 90*time.Second)
	out, errOut := c.output(), c.stderr.String()
	if c.exitCode() != 1 {
		t.Fatalf("apply with a permanent fault: exit %d, want 1\n%s%s", c.exitCode(), out, errOut)
	}
	var errLine string
	for _, l := range strings.Split(errOut, "\n") {
		if strings.HasPrefix(l, "Error: ") {
			if errLine != "" {
				t.Errorf("more than one error:\n%s", errOut)
			}
			errLine = l
		}
	}
	for _, want := range []string{bad, "test_failover", "InvalidParameter", msg} {
		if !strings.Contains(errLine, want) {
			t.Errorf("the error does not name %q:\n%s", want, errLine)
		}
	}
	t.Logf("the failure as reported: %s", errLine)

	// The failed VM's chain stopped at its test failover; the others'
	// did not.
	var badSteps, okSteps []string
	for _, id := range w.steps {
		if strings.Contains(id, `"`+bad+`"`) {
			badSteps = append(badSteps, id)
		} else {
			okSteps = append(okSteps, id)
		}
	}
	states := w.stepStates(t)
	for _, id := range badSteps {
		kind := id[strings.LastIndex(id, ".")+1:]
		switch kind {
		case "enable_replication", "wait_protected":
			if states[id] != journal.StepSucceeded {
				t.Errorf("%s: %v, want step_succeeded", id, states[id])
			}
		case "test_failover":
			if states[id] != journal.StepFailed {
				t.Errorf("%s: %v, want step_failed", id, states[id])
			}
		default:
			if k, ok := states[id]; ok {
				t.Errorf("%s after the failed step was started: %v", id, k)
			}
		}
	}
	for _, id := range okSteps {
		if states[id] != journal.StepSucceeded {
			t.Errorf("%s: %v, want step_succeeded", id, states[id])
		}
	}
	var others []string
	for _, name := range w.names {
		if name != bad {
			others = append(others, name)
		}
	}
	w.checkGoal(t, others)
	if state, tfo, _ := w.az.ProtectionState(bad); state != azuresim.StateProtected || tfo != azuresim.TestFailoverNone {
		t.Errorf("%s: %s/%s after its failed test failover, want Protected/None", bad, state, tfo)
	}
	if ps := w.powerState(t, bad); ps != "poweredOn" {
		t.Errorf("%s: %s after its failed test failover; its shutdown must not have run", bad, ps)
	}
	badItem := ""
	for item, vm := range w.vmOfItem {
		if vm == bad {
			badItem = item
		}
	}
	sent, _ := w.mutations()
	if sent[mutation{badItem, "testFailover"}] != 1 || sent[mutation{badItem, "testFailoverCleanup"}]+sent[mutation{badItem, "unplannedFailover"}] != 0 {
		t.Errorf("%s: %d test failovers, %d cleanups, %d failovers sent; want 1, 0, 0", bad,
			sent[mutation{badItem, "testFailover"}], sent[mutation{badItem, "testFailoverCleanup"}], sent[mutation{badItem, "unplannedFailover"}])
	}

	// The fault is fixed: the same plan applies, finishing only the
	// failed VM's chain.
	w.az.ClearFaults()
	c = w.startApply(t, 10)
	c.wait(t, 90*time.Second)
	out, errOut = c.output(), c.stderr.String()
	if c.exitCode() != 0 {
		t.Fatalf("apply after the fault was removed: exit %d\n%s%s", c.exitCode(), out, errOut)
	}
	want := fmt.Sprintf("Apply: %d succeeded, %d already done, 0 failed, 0 blocked by a failure, 0 pending.", len(badSteps)-2, len(okSteps)+2)
	if !strings.Contains(out, want) {
		t.Errorf("second apply does not say %q:\n%s", want, tail(out, 12))
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasSuffix(l, ": started") && !strings.Contains(l, `"`+bad+`"`) {
			t.Errorf("the second apply started a step of another VM: %s", l)
		}
	}
	_, accepted := w.mutations()
	for m, n := range accepted {
		if n > 1 {
			t.Errorf("%s of %s (%s) accepted %d times", m.action, m.item, w.vmOfItem[m.item], n)
		}
	}
	w.checkGoal(t, w.names)
	t.Logf("wall time %s", time.Since(began).Round(time.Millisecond))
}

func groupOf(w *simWorld, name string) string {
	switch {
	case w.snapVMs[name]:
		return "vm.snap"
	case w.hardVMs[name]:
		return "vm.hard"
	}
	return "vm.plain"
}

// stepDurations reads "STEP: succeeded after D" lines of an apply's output.
func stepDurations(out string) map[string]time.Duration {
	m := map[string]time.Duration{}
	for _, l := range strings.Split(out, "\n") {
		i := strings.Index(l, ": succeeded after ")
		if i < 0 {
			continue
		}
		d, err := time.ParseDuration(l[i+len(": succeeded after "):])
		if err != nil {
			continue
		}
		f := strings.Fields(l[:i])
		m[f[len(f)-1]] = d
	}
	return m
}

// slowest returns the n slowest steps of an apply's output.
func slowest(out string, n int) []string {
	type took struct {
		step string
		d    time.Duration
	}
	var all []took
	for step, d := range stepDurations(out) {
		all = append(all, took{step, d})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].d > all[j].d })
	var s []string
	for _, t := range all[:min(n, len(all))] {
		s = append(s, t.step+" "+t.d.String())
	}
	return s
}

// lostResponse passes the first POST of one action to the vault and
// answers 502 as if the gateway lost the vault's 202.
type lostResponse struct {
	next   http.Handler
	action string
	mu     sync.Mutex
	left   int
}

func (l *lostResponse) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	hit := r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/"+l.action) && l.left > 0
	if hit {
		l.left--
	}
	l.mu.Unlock()
	if !hit {
		l.next.ServeHTTP(w, r)
		return
	}
	l.next.ServeHTTP(httptest.NewRecorder(), r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadGateway)
	fmt.Fprint(w, `{"error":{"code":"BadGateway","message":"injected: the response was lost"}}`)
}

// TestFaultLostResponse loses the vault's answer to three test failovers:
// the vault accepts each POST, the client gets a 502. Such an outcome is
// unknown, not failed: the apply must find the operation it started
// rather than send it again, and complete. Should a step fail anyway, the
// next apply must see from live state that it took effect. (It caught two
// bugs: the client resent such a POST on the 5xx, and a re-run did not ask
// live state whether a failed step took effect.)
func TestFaultLostResponse(t *testing.T) {
	lr := &lostResponse{action: "testFailover", left: 3}
	w := newSimWorld(t, 5, func(h http.Handler) http.Handler { lr.next = h; return lr })
	discardStdLog(t)
	c := w.startApply(t, 10)
	c.wait(t, 90*time.Second)
	if c.exitCode() != 0 {
		t.Errorf("apply with three lost responses: exit %d\n%s", c.exitCode(), c.stderr.String())
	}
	sent, accepted := w.mutations()
	for m, n := range sent {
		if n != 1 || accepted[m] != 1 {
			t.Errorf("%s of %s (%s) sent %d times, %d accepted", m.action, m.item, w.vmOfItem[m.item], n, accepted[m])
		}
	}
	if c.exitCode() != 0 {
		c = w.startApply(t, 10)
		select {
		case <-c.done:
		case <-time.After(30 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
			t.Fatalf("the next apply did not finish within 30 s:\n%s", tail(c.output(), 5))
		}
		if c.exitCode() != 0 {
			t.Fatalf("the next apply: exit %d\n%s", c.exitCode(), c.stderr.String())
		}
	}
	w.checkGoal(t, w.names)
}
