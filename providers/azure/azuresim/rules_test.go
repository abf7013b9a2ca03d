package azuresim

import (
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"
)

// TestRulesReachAnotherProcess arms a counted fault rule through one Sim and
// checks that another Sim serving the same state file fails the matching
// request with the rule's code (a failed job, as ASR reports most
// failures), only once, and that the rule is gone afterwards for both.
func TestRulesReachAnotherProcess(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "world.json")
	seed := DefaultSeed(2)
	seed.Items = []ProtectedItem{{Name: "machine-0001", Machine: "machine-0001", TargetVMName: "a", TargetResourceGroupID: "/r", TargetNetworkID: "/n"}}
	admin, err := New(seed, Options{StateFile: state, TimeScale: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	served, err := New(Seed{}, Options{StateFile: state, TimeScale: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.AddRule(Fault{Operation: "testFailover", VM: "a", Code: "InternalError", Message: "An internal error occurred.", Async: true, Times: 1}); err != nil {
		t.Fatal(err)
	}
	if rules, err := served.Rules(); err != nil || len(rules) != 1 || rules[0].Code != "InternalError" {
		t.Fatalf("rules seen by the other simulator: %v %v", rules, err)
	}
	srv := httptest.NewTLSServer(served)
	defer srv.Close()
	path := srv.URL + base(seed) + "/Microsoft.RecoveryServices/vaults/" + seed.Vault + "/replicationFabrics/" + seed.Fabric +
		"/replicationProtectionContainers/" + seed.Containers[0] + "/replicationProtectedItems/machine-0001"
	resp, _ := do(t, srv.Client(), "POST", path+"/testFailover?api-version="+SiteRecoveryAPIVersion, "tok",
		`{"properties":{"providerSpecificDetails":{"instanceType":"InMageRcm"}}}`)
	if resp.StatusCode != 202 {
		t.Fatalf("test failover: %d", resp.StatusCode)
	}
	op := resp.Header.Get("Azure-AsyncOperation")
	var status map[string]any
	for range 200 {
		_, status = do(t, srv.Client(), "GET", op, "tok", "")
		if status["status"] != "InProgress" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if status["status"] != "Failed" {
		t.Fatalf("operation with an armed fault: %v", status)
	}
	if rules, _ := admin.Rules(); len(rules) != 0 {
		t.Errorf("a rule for one request is still armed: %v", rules)
	}
	if n, err := admin.ClearRules(""); err != nil || n != 0 {
		t.Errorf("clear: %d %v", n, err)
	}
}
