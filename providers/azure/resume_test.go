package azure

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cutover/providers/azure/azuresim"
)

const (
	childEnv       = "CUTOVER_AZURE_RESUME_CHILD"
	childConfigEnv = "CUTOVER_AZURE_RESUME_CONFIG"
	childHandleEnv = "CUTOVER_AZURE_RESUME_HANDLE"
)

// TestResumeInAnotherProcess starts a test failover, keeps only the
// serialized handle and the simulator's state file, restarts the simulator
// from that file and lets a separate OS process, with a client built from
// scratch, re-attach and wait the operation out.
func TestResumeInAnotherProcess(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "world.json")
	opts := azuresim.Options{TimeScale: 0.25, PollAfter: 20 * time.Millisecond, StateFile: state}
	w := newWorld(t, bigSeed(2), opts)
	c := w.client(t)
	ctx := ctx(t)
	it, err := c.GetProtectedItem(ctx, "machine-0002")
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.TestFailover(ctx, it, TestFailoverInput{})
	if err != nil {
		t.Fatal(err)
	}
	handleJSON, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(handleJSON, []byte(testToken)) {
		t.Fatal("handle carries the bearer token")
	}
	addr := w.srv.Listener.Addr().String()
	w.srv.Close()
	before := len(w.sim.Requests())

	// A new simulator that knows only the state file, on the same address.
	sim2, err := azuresim.New(azuresim.Seed{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if st, tfo, ok := sim2.ProtectionState("vm-0002"); !ok || st != azuresim.StateProtected || tfo != azuresim.TestFailoverInProgress {
		t.Fatalf("state file lost the running test failover: %q %q %v", st, tfo, ok)
	}
	srv2 := httptest.NewUnstartedServer(sim2)
	ln, err := listenAgain(addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	srv2.Listener = ln
	srv2.StartTLS()
	defer srv2.Close()

	cfg, _ := json.Marshal(struct{ Endpoint, CAFile, Vault, Appliance, TokenEnv string }{
		w.config().Endpoint, w.caFile, w.config().Vault, w.seed.Appliance, w.env})
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestResumeChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1", childConfigEnv+"="+string(cfg), childHandleEnv+"="+string(handleJSON))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "RESUMED state=Protected tfo=WaitingForCompletion") {
		t.Fatalf("child did not finish the operation:\n%s", out)
	}
	if !strings.Contains(string(out), "saw=InProgress") {
		t.Fatalf("child never saw the operation in progress; the test proves nothing:\n%s", out)
	}
	if len(w.sim.Requests()) != before {
		t.Fatal("the first simulator was contacted after it stopped")
	}
	polls := 0
	for _, r := range sim2.Requests() {
		if r.Method == http.MethodGet && strings.Contains(r.Path, "/replicationOperationStatus/") {
			polls++
		}
	}
	if polls == 0 {
		t.Fatal("the restarted simulator saw no polling")
	}
	if st, tfo, _ := sim2.ProtectionState("vm-0002"); st != azuresim.StateProtected || tfo != azuresim.TestFailoverWaiting {
		t.Fatalf("world after resume: %s %s", st, tfo)
	}
}

func listenAgain(addr string) (net.Listener, error) {
	var err error
	for i := 0; i < 50; i++ {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, err
}

// TestResumeChild is the second process of TestResumeInAnotherProcess.
func TestResumeChild(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		t.Skip("helper process for TestResumeInAnotherProcess")
	}
	var cfg struct{ Endpoint, CAFile, Vault, Appliance, TokenEnv string }
	if err := json.Unmarshal([]byte(os.Getenv(childConfigEnv)), &cfg); err != nil {
		t.Fatal(err)
	}
	var h Handle
	if err := json.Unmarshal([]byte(os.Getenv(childHandleEnv)), &h); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Name: "child", Endpoint: cfg.Endpoint, CAFile: cfg.CAFile, Vault: cfg.Vault, Appliance: cfg.Appliance,
		Credential: CredentialToken, TokenEnv: cfg.TokenEnv}, &Options{PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	saw := map[string]bool{}
	it, err := c.Wait(ctx(t), h, func(p Progress) { saw[p.Status] = true })
	if err != nil {
		t.Fatal(err)
	}
	seen := ""
	if saw["InProgress"] {
		seen = "InProgress"
	}
	os.Stdout.WriteString("RESUMED state=" + it.ProtectionState + " tfo=" + it.TestFailoverState + " saw=" + seen + "\n")
}
