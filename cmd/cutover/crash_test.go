package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"cutover/executor/journal"
	"cutover/planner/planfile"
	"cutover/providers/azure/azuresim"
	"cutover/providers/vcenter"
	"cutover/providers/vcenter/vcentersim"
)

// The crash and fault tests run the simulators in the test process and
// every apply in a child process (this test binary re-executed into
// TestHelperApply), so that an apply can be killed with SIGKILL while the
// simulated vCenter and vault, and their request logs, live on.

const (
	helperPlanEnv  = "CUTOVER_TEST_HELPER_PLAN"
	helperParEnv   = "CUTOVER_TEST_HELPER_PARALLELISM"
	crashTokenEnv  = "CRASH_TEST_TOKEN"
	crashVMs       = 50
	crashWantKills = 20
)

// TestHelperApply is not a test: it is the child process of the crash and
// fault tests. It applies the plan file named by the environment and exits
// with apply's exit status.
func TestHelperApply(t *testing.T) {
	planPath := os.Getenv(helperPlanEnv)
	if planPath == "" {
		t.Skip("helper process of the crash and fault tests")
	}
	// A short settle keeps 24 resumes quick; requests of a killed child
	// land on loopback well within it.
	args := []string{"apply", planPath, "--settle-delay", "500ms"}
	if p := os.Getenv(helperParEnv); p != "" {
		args = append(args, "--parallelism", p)
	}
	os.Exit(run(args, strings.NewReader(""), os.Stdout, os.Stderr))
}

// simWorld is a simulated vCenter and vault with a runbook that migrates
// every VM of the vCenter, and a plan of that runbook saved once.
type simWorld struct {
	dir      string // the runbook
	planPath string
	vc       *vcentersim.Sim
	az       *azuresim.Sim
	names    []string          // source VM names
	vmOfItem map[string]string // protected item (machine) name -> VM name
	snapVMs  map[string]bool   // VMs that take a snapshot before cutover
	hardVMs  map[string]bool   // VMs shut down hard (PowerOffVM_Task)
	steps    []string          // the plan's step IDs
}

// newSimWorld starts the simulators, writes the runbook and saves its plan.
// front, if not nil, wraps the vault's handler (to fail requests before
// they reach it).
func newSimWorld(t *testing.T, n int, front func(http.Handler) http.Handler) *simWorld {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := &simWorld{dir: t.TempDir(), vmOfItem: map[string]string{}, snapVMs: map[string]bool{}, hardVMs: map[string]bool{}}

	seed := azuresim.DefaultSeed(0)
	var vms []vcentersim.VM
	var plain, snap, hard []string
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("app-%03d", i)
		w.names = append(w.names, name)
		vms = append(vms, vcentersim.VM{Name: name, PowerState: "poweredOn", GuestID: "otherGuest64",
			Disks: []vcentersim.Disk{{SizeGB: 40}}, NICs: []vcentersim.NIC{{}}})
		m := azuresim.NumberedMachine(i)
		m.DisplayName = name
		seed.Machines = append(seed.Machines, m)
		w.vmOfItem[m.Name] = name
		switch i % 5 {
		case 0:
			snap = append(snap, name)
			w.snapVMs[name] = true
		case 1:
			hard = append(hard, name)
			w.hardVMs[name] = true
		default:
			plain = append(plain, name)
		}
	}
	var err error
	w.vc, err = vcentersim.Start(ctx, vcentersim.World{Datacenters: []vcentersim.Datacenter{{
		Name:       "DC0",
		Clusters:   []vcentersim.Cluster{{Name: "DC0_C0", Hosts: []string{"DC0_C0_H0", "DC0_C0_H1"}}},
		Datastores: []string{"LocalDS_0"},
		VMs:        vms,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.vc.Close)

	// Millisecond jobs (enable 4 ms, initial replication 20 ms, failovers
	// 8 ms), on a clock that also moves 25 ms with every request: the
	// provider polls a replicating item every 15 s (see WaitForState), so
	// initial replication must be over by the first poll that follows the
	// enable job's end, whatever the machine's load.
	var ticks atomic.Int64
	vc := w.vc
	w.az, err = azuresim.New(seed, azuresim.Options{TimeScale: 0.001, PollAfter: 20 * time.Millisecond,
		Now: func() time.Time { return time.Now().Add(time.Duration(ticks.Add(1)) * 25 * time.Millisecond) },
		// ASR's own shutdown of the source (performShutdown "true").
		OnSourceShutdown: func(machine string) { _ = vc.PowerOffByName(context.Background(), machine) }})
	if err != nil {
		t.Fatal(err)
	}
	var handler http.Handler = w.az
	if front != nil {
		handler = front(w.az)
	}
	srvURL, caPEM := serveTLS(t, handler)
	writeFile(t, w.dir, "vault-ca.pem", string(caPEM))

	vault := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s",
		seed.SubscriptionID, seed.ResourceGroup, seed.Vault)
	net := fmt.Sprintf("/subscriptions/%s/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/prod-vnet", seed.SubscriptionID)
	logs := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/migratelogs01", seed.SubscriptionID, seed.ResourceGroup)
	writeFile(t, w.dir, "main.hcl", fmt.Sprintf(`
vcenter "dc1" {
  url      = %q
  username = %q
  password = %q
  insecure = true
}

azure "az" {
  endpoint    = %q
  ca_file     = "vault-ca.pem"
  vault       = %q
  appliance   = %q
  credential  = "token"
  token_env   = %q
}

defaults {
  replication {
    policy              = %q
    disk_type           = "Premium_LRS"
    log_storage_account = %q
  }
  target {
    resource_group = "app-prod"
    network        = %q
    subnet         = "app"
    test_network   = "test-vnet"
  }
}

vm "plain" {
  for_each = toset(%s)
  stage    = "migrated"
}

vm "snap" {
  for_each = toset(%s)
  stage    = "migrated"
  source {
    snapshot_before_cutover = true
    shutdown                = "guest"
  }
}

vm "hard" {
  for_each = toset(%s)
  stage    = "migrated"
  source {
    shutdown = "hard"
  }
}
`, w.vc.URL.String(), w.vc.Username, w.vc.Password, srvURL, vault, seed.Appliance, crashTokenEnv,
		seed.Policies[0], logs, net, hclList(plain), hclList(snap), hclList(hard)))

	t.Setenv(crashTokenEnv, "simulated-token")
	w.planPath = filepath.Join(w.dir, "migrate.plan")
	code, out, errOut := runCLI(t, "plan", w.dir, "--out", w.planPath)
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	p, _, err := planfile.Load(w.planPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Steps {
		w.steps = append(w.steps, s.ID)
	}
	return w
}

func hclList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// child is one apply running in a child process.
type child struct {
	cmd     *exec.Cmd
	started time.Time
	mu      sync.Mutex
	out     bytes.Buffer
	lines   chan string
	stderr  bytes.Buffer
	done    chan struct{}
	err     error
}

// startApply runs `cutover apply PLAN` in a child process.
func (w *simWorld) startApply(t *testing.T, parallelism int) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperApply$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), helperPlanEnv+"="+w.planPath, helperParEnv+"="+strconv.Itoa(parallelism))
	c := &child{cmd: cmd, lines: make(chan string, 4096), done: make(chan struct{})}
	cmd.Stderr = &c.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.started = time.Now()
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			c.out.WriteString(line + "\n")
			c.mu.Unlock()
			select {
			case c.lines <- line:
			default:
			}
		}
		close(c.lines)
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c
}

// wait waits for the child to end, at most d.
func (c *child) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(d):
		_ = c.cmd.Process.Kill()
		<-c.done
		t.Fatalf("apply did not finish within %s:\n%s%s", d, c.output(), c.stderr.String())
	}
}

func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// exitCode is the child's exit status; -1 when a signal ended it.
func (c *child) exitCode() int {
	return c.cmd.ProcessState.ExitCode()
}

func (c *child) killed() bool {
	ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// store opens the runbook's journal.
func (w *simWorld) store(t *testing.T) *journal.FileStore {
	t.Helper()
	s, err := journal.OpenFile(filepath.Join(w.dir, journal.DefaultDir), "state")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// stepStates folds the journal into the last step record of each step.
func (w *simWorld) stepStates(t *testing.T) map[string]journal.Kind {
	t.Helper()
	s, err := journal.OpenFile(filepath.Join(w.dir, journal.DefaultDir), "state")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rep, err := s.Replay(context.Background())
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	last := map[string]journal.Kind{}
	for _, r := range rep.Records {
		if r.StepID != "" && r.Kind != journal.BeforeImage {
			last[r.StepID] = r.Kind
		}
	}
	return last
}

// runState says where the last run in the journal stood: whether a run
// newer than the given count of runs started, how many steps of the plan
// have succeeded, and how many steps that run left pending (request about
// to go out or possibly sent) or started (operation running).
type runState struct {
	runs                  int
	newRun                bool
	done, pending, inFlow int
	kinds                 []string // kinds of the steps left pending or started
}

func (w *simWorld) runState(t *testing.T, runsBefore int) runState {
	t.Helper()
	s, err := journal.OpenFile(filepath.Join(w.dir, journal.DefaultDir), "state")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rep, err := s.Replay(context.Background())
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	var st runState
	var lastRun string
	for _, r := range rep.Records {
		if r.Kind == journal.RunStarted {
			st.runs++
			lastRun = r.RunID
		}
	}
	st.newRun = st.runs > runsBefore
	last, inRun := map[string]journal.Kind{}, map[string]journal.Kind{}
	for _, r := range rep.Records {
		if r.StepID == "" || r.Kind == journal.BeforeImage {
			continue
		}
		last[r.StepID] = r.Kind
		if st.newRun && r.RunID == lastRun {
			inRun[r.StepID] = r.Kind
		}
	}
	for _, k := range last {
		if k == journal.StepSucceeded {
			st.done++
		}
	}
	for id, k := range inRun {
		switch k {
		case journal.StepPending, journal.StepUnknown:
			st.pending++
		case journal.StepStarted:
			st.inFlow++
		default:
			continue
		}
		st.kinds = append(st.kinds, id[strings.LastIndex(id, ".")+1:]+"/"+k.String())
	}
	return st
}

// mutation is one mutating request of the vault's log, by item and action.
type mutation struct{ item, action string }

// mutations tallies the vault's mutating requests per item and action:
// sent (any status) and accepted (2xx).
func (w *simWorld) mutations() (sent, accepted map[mutation]int) {
	sent, accepted = map[mutation]int{}, map[mutation]int{}
	for _, r := range w.az.Requests() {
		m, ok := parseMutation(r)
		if !ok || r.Status == azuresim.StatusClientClosedRequest {
			// Cut off by the kill before it arrived whole: never received.
			continue
		}
		sent[m]++
		if r.Status >= 200 && r.Status < 300 {
			accepted[m]++
		}
	}
	return sent, accepted
}

func parseMutation(r azuresim.Request) (mutation, bool) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return mutation{}, false
	}
	segs := strings.Split(strings.Trim(r.Path, "/"), "/")
	for i, s := range segs {
		if !strings.EqualFold(s, "replicationProtectedItems") || i+1 >= len(segs) {
			continue
		}
		item := segs[i+1]
		switch {
		case i+2 == len(segs) && r.Method == http.MethodPut:
			return mutation{item, "enable (PUT)"}, true
		case i+2 == len(segs) && r.Method == http.MethodPatch:
			return mutation{item, "update (PATCH)"}, true
		case i+2 == len(segs) && r.Method == http.MethodDelete:
			return mutation{item, "purge (DELETE)"}, true
		case i+3 == len(segs) && r.Method == http.MethodPost:
			return mutation{item, segs[i+2]}, true
		}
	}
	return mutation{}, false
}

// opTotals sums counts per action.
func opTotals(m map[mutation]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k.action] += v
	}
	return out
}

// checkGoal checks the live state against the plan's goal for the given
// VMs: the item failed over, the source powered off with at most one
// snapshot, and exactly the snapshot the runbook asks for.
func (w *simWorld) checkGoal(t *testing.T, vms []string) {
	t.Helper()
	want := map[string]bool{}
	for _, n := range vms {
		want[n] = true
	}
	for _, n := range vms {
		state, tfo, ok := w.az.ProtectionState(n)
		if !ok || state != azuresim.StateFailedOver || tfo != azuresim.TestFailoverCleaned {
			t.Errorf("%s: protection state %q, test failover %q (found %v); want %s after a completed test failover",
				n, state, tfo, ok, azuresim.StateFailedOver)
		}
	}
	ctx := context.Background()
	c, err := vcenter.Connect(ctx, vcenter.Config{Name: "check", URL: w.vc.URL.String(),
		Username: w.vc.Username, Password: w.vc.Password, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()
	inv, err := c.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, vm := range inv.VMs {
		if !want[vm.Name] {
			continue
		}
		seen++
		if vm.PowerState != "poweredOff" {
			t.Errorf("%s: power state %q, want poweredOff", vm.Name, vm.PowerState)
		}
		snaps := countSnapshots(vm.Snapshots)
		wantSnaps := 0
		if w.snapVMs[vm.Name] {
			wantSnaps = 1
		}
		if snaps != wantSnaps {
			t.Errorf("%s: %d snapshots, want %d", vm.Name, snaps, wantSnaps)
		}
	}
	if seen != len(vms) {
		t.Errorf("found %d of %d VMs in vCenter", seen, len(vms))
	}
}

// powerState reads one VM's power state from the simulated vCenter.
func (w *simWorld) powerState(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	c, err := vcenter.Connect(ctx, vcenter.Config{Name: "check", URL: w.vc.URL.String(),
		Username: w.vc.Username, Password: w.vc.Password, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()
	inv, err := c.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, vm := range inv.VMs {
		if vm.Name == name {
			return vm.PowerState
		}
	}
	t.Fatalf("VM %s not found in vCenter", name)
	return ""
}

func countSnapshots(s []vcenter.Snapshot) int {
	n := len(s)
	for _, c := range s {
		n += countSnapshots(c.Children)
	}
	return n
}

// TestCrashResume kills `cutover apply` of a 50-VM plan with SIGKILL at
// no fewer than 20 points, resumes it each time, and checks that no
// mutating request reached the vault twice for one VM, that every step of
// the plan succeeded exactly as journaled, and that the live state is the
// plan's goal.
func TestCrashResume(t *testing.T) {
	began := time.Now()
	w := newSimWorld(t, crashVMs, nil)
	total := len(w.steps)
	t.Logf("plan: %d steps for %d VMs (%d with a snapshot, %d shut down hard); set up in %s",
		total, crashVMs, len(w.snapVMs), len(w.hardVMs), time.Since(began).Round(time.Millisecond))
	discardStdLog(t)
	// vCenter tasks take a while, so that kills land while they run.
	restore := vcentersim.SetTaskDelay(map[string]time.Duration{"PowerOff": 150 * time.Millisecond, "CreateSnapshot": 150 * time.Millisecond})
	t.Cleanup(restore)

	rng := rand.New(rand.NewPCG(20261124, 1))
	// Kill points: most when the apply has finished a number of steps
	// that grows from kill to kill, spread over the whole apply (then at
	// once or after a random 0-40 ms); some at a random moment of the
	// start-up (refresh, lock, replay) or just after it.
	const attempts = 24
	type killPoint struct {
		mode  string
		after time.Duration
		state runState
	}
	var kills []killPoint
	var notKilled, locksLeft, runs int
	killedPIDs := map[int]bool{}
	for i := 0; i < attempts; i++ {
		par := 10
		if i%4 == 3 {
			par = 1 // one step at a time: kills land between steps too
		}
		c := w.startApply(t, par)
		mode := "progress"
		switch {
		case i%6 == 5:
			mode = "startup"
		case rng.IntN(3) == 0:
			mode = "progress+0"
		}
		jitter := time.Duration(rng.IntN(40)) * time.Millisecond
		startupDelay := time.Duration(5+rng.IntN(300)) * time.Millisecond
		done := 0
		if len(kills) > 0 {
			done = kills[len(kills)-1].state.done
		}
		target := done + 1 + rng.IntN(2*max(1, (total-done)/(attempts-i+1)))
		if par == 1 {
			target = done + 1 + rng.IntN(3)
		}
		fired := make(chan struct{})
		go func() {
			defer close(fired)
			if mode == "startup" {
				select {
				case <-time.After(startupDelay):
					_ = c.cmd.Process.Signal(syscall.SIGKILL)
				case <-c.done:
				}
				return
			}
			base, count := -1, 0
			for line := range c.lines {
				if base < 0 {
					if _, err := fmt.Sscanf(afterString(line, "run started: "), "%d steps, %d already done", new(int), &base); err != nil {
						base = -1
					}
					continue
				}
				if strings.Contains(line, ": succeeded") {
					count++
				}
				if base+count >= target {
					if mode == "progress" {
						time.Sleep(jitter)
					}
					_ = c.cmd.Process.Signal(syscall.SIGKILL)
					return
				}
			}
		}()
		c.wait(t, 60*time.Second)
		<-fired
		if !c.killed() {
			notKilled++
			t.Logf("apply %d (%s, target %d) ended by itself: exit %d", i+1, mode, target, c.exitCode())
			if c.exitCode() != 0 {
				t.Fatalf("apply %d failed:\n%s%s", i+1, c.output(), c.stderr.String())
			}
			runs = w.runState(t, runs).runs
			continue
		}
		kp := killPoint{mode: mode, after: time.Since(c.started), state: w.runState(t, runs)}
		runs = kp.state.runs
		kills = append(kills, kp)
		if testing.Verbose() {
			t.Logf("kill %d: %s (parallelism %d, target %d) after %s: run started %v, %d steps done, this run left %d pending and %d started",
				len(kills), mode, par, target, kp.after.Round(time.Millisecond), kp.state.newRun, kp.state.done, kp.state.pending, kp.state.inFlow)
		}

		// A killed apply's lock file stays and names it, but the
		// kernel released its OS lock: the next apply takes the lock
		// over without anyone running force-unlock.
		if held, err := w.store(t).CurrentLock(context.Background()); err != nil {
			t.Fatalf("reading the lock: %v", err)
		} else if held != nil {
			// An apply killed before it locked leaves the file of
			// one killed earlier.
			killedPIDs[c.cmd.Process.Pid] = true
			if !killedPIDs[held.PID] || !held.OSLock {
				t.Fatalf("the lock left behind is %s (os lock %v), want a killed apply's", held, held.OSLock)
			}
			locksLeft++
		}
	}

	final := w.startApply(t, 10)
	final.wait(t, 60*time.Second)
	out := final.output()
	if final.exitCode() != 0 {
		t.Fatalf("final apply: exit %d\n%s%s", final.exitCode(), out, final.stderr.String())
	}
	var succ, skipped, failed, blocked, pending int
	if _, err := fmt.Sscanf(afterString(out, "\nApply: "), "%d succeeded, %d already done, %d failed, %d blocked by a failure, %d pending",
		&succ, &skipped, &failed, &blocked, &pending); err != nil || succ+skipped != total || failed+blocked+pending != 0 {
		t.Fatalf("final apply does not report all %d steps done (%v):\n%s", total, err, out)
	}

	// At least crashWantKills kills of a running apply, spread over the
	// apply, with steps in flight and none.
	var during, between, beforeRun, withPending int
	var summary []string
	inFlight := map[string]int{}
	for _, k := range kills {
		for _, kind := range k.state.kinds {
			inFlight[kind]++
		}
		switch {
		case !k.state.newRun:
			beforeRun++
		case k.state.pending+k.state.inFlow > 0:
			during++
		default:
			between++
		}
		if k.state.pending > 0 {
			withPending++
		}
		summary = append(summary, fmt.Sprintf("%d/%d/%d", k.state.done, k.state.pending, k.state.inFlow))
	}
	t.Logf("%d kills (%d more applies ended by themselves), %d stale locks released: %d during steps (%d with a step between pending and started), %d between steps, %d before the run started",
		len(kills), notKilled, locksLeft, during, withPending, between, beforeRun)
	t.Logf("kill points (steps done/pending/started): %s", strings.Join(summary, " "))
	var kinds []string
	for _, k := range slices.Sorted(maps.Keys(inFlight)) {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, inFlight[k]))
	}
	t.Logf("steps in flight at the kills (kind/last record): %s", strings.Join(kinds, ", "))
	if len(kills) < crashWantKills {
		t.Errorf("only %d kills of a running apply, want at least %d", len(kills), crashWantKills)
	}
	if during == 0 || between == 0 {
		t.Errorf("kills during steps: %d, between steps: %d; want both", during, between)
	}
	if kills[0].state.done > total/4 || kills[len(kills)-1].state.done < total/2 {
		t.Errorf("kills do not spread over the apply: first at %d, last at %d of %d steps", kills[0].state.done, kills[len(kills)-1].state.done, total)
	}

	// Every step of the plan succeeded, as journaled.
	states := w.stepStates(t)
	for _, id := range w.steps {
		if states[id] != journal.StepSucceeded {
			t.Errorf("step %s: last journal record %v, want step_succeeded", id, states[id])
		}
	}

	// No mutating request sent twice for one VM: a POST or DELETE is
	// never resent; a PUT or PATCH may be retried (it is idempotent) but
	// accepted once.
	sent, accepted := w.mutations()
	for m, n := range sent {
		idempotent := strings.Contains(m.action, "PUT") || strings.Contains(m.action, "PATCH")
		if !idempotent && n > 1 || accepted[m] > 1 {
			t.Errorf("%s of %s (%s) sent %d times, %d accepted", m.action, m.item, w.vmOfItem[m.item], n, accepted[m])
			w.explain(t, m.item)
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
	cut := 0
	for _, r := range w.az.Requests() {
		if r.Status == azuresim.StatusClientClosedRequest {
			cut++
		}
	}
	t.Logf("vault mutations: %s; %d requests in all, %d cut off by a kill before they arrived whole", strings.Join(counts, ", "), len(w.az.Requests()), cut)

	w.checkGoal(t, w.names)
	t.Logf("wall time %s", time.Since(began).Round(time.Millisecond))
}

func afterString(s, prefix string) string {
	if i := strings.Index(s, prefix); i >= 0 {
		return s[i+len(prefix):]
	}
	return ""
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n") + "\n"
}

// serveTLS serves h over TLS on loopback and returns its URL and the PEM
// of its certificate, for the runbook's ca_file.
func serveTLS(t *testing.T, h http.Handler) (string, []byte) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	// Killed clients leave half-done handshakes; they are expected here.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return srv.URL, caPEM
}

// discardStdLog silences the standard logger for the test, through which
// vcsim reports the connections a killed client leaves half open.
func discardStdLog(t *testing.T) {
	prev := log.Writer()
	log.SetOutput(io.Discard)
	t.Cleanup(func() { log.SetOutput(prev) })
}

// explain logs what the vault and the journal saw of one item, to tell
// how a request came to be sent twice.
func (w *simWorld) explain(t *testing.T, item string) {
	t.Helper()
	for _, r := range w.az.Requests() {
		if strings.Contains(strings.ToLower(r.Path), strings.ToLower(item)) {
			t.Logf("  vault: %s %s %s -> %d", r.Time.Format("15:04:05.000000"), r.Method, r.Path[strings.LastIndex(r.Path, "replicationProtectedItems"):], r.Status)
		}
	}
	vm := w.vmOfItem[item]
	s, err := journal.OpenFile(filepath.Join(w.dir, journal.DefaultDir), "state")
	if err != nil {
		return
	}
	defer s.Close()
	rep, _ := s.Replay(context.Background())
	for _, r := range rep.Records {
		if r.StepID == "" && r.Kind != journal.RunStarted || r.StepID != "" && !strings.Contains(r.StepID, `"`+vm+`"`) {
			continue
		}
		t.Logf("  journal: %s run %s %s %s attempt %d %s", r.Time.Format("15:04:05.000000"), r.RunID, r.Kind, r.StepID, r.Attempt, r.Error)
	}
}
