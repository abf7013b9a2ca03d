package azuresim

import (
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestComputeWireContract checks the Microsoft.Compute surface with a plain
// HTTP client: api-version, not-found codes, the list's $expand rule, the
// 202 of an action with its three headers and an empty body, the status
// and monitor URLs, and the instance view's PowerState code.
func TestComputeWireContract(t *testing.T) {
	t.Parallel()
	seed := DefaultSeed(1)
	rgID := "/subscriptions/" + seed.SubscriptionID + "/resourceGroups/target-rg"
	seed.Items = []ProtectedItem{{Name: "machine-0001", Machine: "machine-0001", TargetVMName: "app-az", TargetResourceGroupID: rgID}}
	now := time.Date(2026, 12, 4, 5, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	state := filepath.Join(t.TempDir(), "world.json")
	sim, err := New(seed, Options{TimeScale: 1, PollAfter: 250 * time.Millisecond, Now: clock, StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(sim)
	defer srv.Close()
	c := srv.Client()
	rg := srv.URL + rgID + "/providers/Microsoft.Compute/virtualMachines"
	v := "?api-version=" + ComputeAPIVersion

	cases := []struct {
		name, method, url string
		status            int
		code              string
	}{
		{"ASR api-version on compute", "GET", rg + "/app-az?api-version=" + SiteRecoveryAPIVersion, 400, "InvalidApiVersionParameter"},
		{"VM before failover", "GET", rg + "/app-az" + v + "&$expand=instanceView", 404, "ResourceNotFound"},
		{"unknown resource group", "GET", srv.URL + "/subscriptions/" + seed.SubscriptionID + "/resourceGroups/nope/providers/Microsoft.Compute/virtualMachines" + v, 404, "ResourceGroupNotFound"},
		{"list expand without filter", "GET", rg + v + "&$expand=instanceView", 400, "InvalidParameter"},
		{"deallocate before failover", "POST", rg + "/app-az/deallocate" + v, 404, "ResourceNotFound"},
	}
	for _, tc := range cases {
		resp, body := do(t, c, tc.method, tc.url, "tok", "")
		code, msg := armError(body)
		if resp.StatusCode != tc.status || code != tc.code || msg == "" {
			t.Errorf("%s: %d %q %q, want %d %q with a message", tc.name, resp.StatusCode, code, msg, tc.status, tc.code)
		}
	}

	// An unplanned failover that completes creates the VM, running.
	vault := srv.URL + base(seed) + "/Microsoft.RecoveryServices/vaults/" + seed.Vault
	item := vault + "/replicationFabrics/" + seed.Fabric + "/replicationProtectionContainers/" + seed.Containers[0] + "/replicationProtectedItems/machine-0001"
	resp, _ := do(t, c, "POST", item+"/unplannedFailover?api-version="+SiteRecoveryAPIVersion, "tok",
		`{"properties":{"failoverDirection":"PrimaryToRecovery","providerSpecificDetails":{"instanceType":"InMageRcm"}}}`)
	if resp.StatusCode != 202 {
		t.Fatalf("unplanned failover: %d", resp.StatusCode)
	}
	if _, _, ok := sim.AzureVM("app-az"); ok {
		t.Fatal("the VM exists while the failover job runs")
	}
	now = now.Add(time.Minute)
	resp, vm := do(t, c, "GET", rg+"/app-az"+v+"&$expand=instanceView", "tok", "")
	if resp.StatusCode != 200 || powerCode(vm) != "PowerState/running" || vm["properties"].(map[string]any)["vmId"] == "" {
		t.Fatalf("VM after failover: %d %v", resp.StatusCode, vm)
	}
	resp, plain := do(t, c, "GET", rg+"/app-az"+v, "tok", "")
	if resp.StatusCode != 200 || plain["properties"].(map[string]any)["instanceView"] != nil {
		t.Fatalf("VM without $expand carries an instance view: %v", plain)
	}

	// Deallocate: 202, empty body, ARM's three headers on Compute's URLs.
	req, _ := do(t, c, "POST", rg+"/app-az/deallocate"+v, "tok", "")
	async, loc := req.Header.Get("Azure-AsyncOperation"), req.Header.Get("Location")
	if req.StatusCode != 202 || !strings.Contains(async, "/providers/Microsoft.Compute/locations/"+seed.Location+"/operations/") ||
		!strings.Contains(loc, "monitor=true") || req.Header.Get("Retry-After") != "1" {
		t.Fatalf("deallocate 202: %d %v", req.StatusCode, req.Header)
	}
	if resp, _ := do(t, c, "POST", rg+"/app-az/start"+v, "tok", ""); resp.StatusCode != 409 {
		t.Errorf("start during a deallocate: %d, want 409", resp.StatusCode)
	}
	_, st := do(t, c, "GET", async, "tok", "")
	_, iv := do(t, c, "GET", rg+"/app-az/instanceView"+v, "tok", "")
	if st["status"] != "InProgress" || statusCode(iv["statuses"], "PowerState/") != "PowerState/deallocating" {
		t.Fatalf("while deallocating: status %v, instance view %v", st, iv)
	}
	if resp, _ := do(t, c, "GET", loc, "tok", ""); resp.StatusCode != 202 {
		t.Fatalf("monitor URL while running: %d", resp.StatusCode)
	}
	now = now.Add(time.Minute)
	_, st = do(t, c, "GET", async, "tok", "")
	if st["status"] != "Succeeded" || st["endTime"] == nil {
		t.Fatalf("after the deallocate: %v", st)
	}
	if resp, _ := do(t, c, "GET", loc, "tok", ""); resp.StatusCode != 200 {
		t.Fatalf("monitor URL when done: %d", resp.StatusCode)
	}
	// A second simulator on the same state file sees the deallocated VM.
	sim2, err := New(Seed{}, Options{StateFile: state, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if p, id, ok := sim2.AzureVM("app-az"); !ok || p != PowerDeallocated || id == "" {
		t.Fatalf("state file: %q %q %v", p, id, ok)
	}
	hist := sim2.AzureVMHistory("app-az")
	var states []string
	for _, h := range hist {
		states = append(states, h.State)
	}
	if strings.Join(states, ",") != "running,deallocating,deallocated" {
		t.Fatalf("history %v", states)
	}
}

func powerCode(vm map[string]any) string {
	p, _ := vm["properties"].(map[string]any)
	iv, _ := p["instanceView"].(map[string]any)
	return statusCode(iv["statuses"], "PowerState/")
}

func statusCode(list any, prefix string) string {
	l, _ := list.([]any)
	for _, s := range l {
		m, _ := s.(map[string]any)
		if c, _ := m["code"].(string); strings.HasPrefix(c, prefix) {
			return c
		}
	}
	return ""
}
