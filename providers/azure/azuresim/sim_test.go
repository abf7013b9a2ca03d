package azuresim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func base(s Seed) string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers", s.SubscriptionID, s.ResourceGroup)
}

func do(t *testing.T, c *http.Client, method, url, token, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	_ = json.Unmarshal(b, &v)
	return resp, v
}

func armError(v map[string]any) (code, message string) {
	e, _ := v["error"].(map[string]any)
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	return
}

// TestWireContract checks the ARM behaviours clients rely on, with a plain
// HTTP client so nothing of the SDK hides a mistake.
func TestWireContract(t *testing.T) {
	t.Parallel()
	seed := DefaultSeed(5)
	seed.Items = []ProtectedItem{{Name: "machine-0001", Machine: "machine-0001", TargetVMName: "a", TargetResourceGroupID: "/subscriptions/x/resourceGroups/t", TargetNetworkID: "/n"}}
	sim, err := New(seed, Options{PageSize: 2, TimeScale: 0.001, PollAfter: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(sim)
	defer srv.Close()
	c := srv.Client()
	vault := srv.URL + base(seed) + "/Microsoft.RecoveryServices/vaults/" + seed.Vault
	site := srv.URL + base(seed) + "/Microsoft.OffAzure/VMwareSites/" + seed.Site

	cases := []struct {
		name, method, url, token, body string
		status                         int
		code                           string
	}{
		{"no token", "GET", vault + "/replicationFabrics?api-version=" + SiteRecoveryAPIVersion, "", "", 401, "AuthenticationFailed"},
		{"wrong api-version", "GET", vault + "/replicationFabrics?api-version=2025-08-01", "tok", "", 400, "InvalidApiVersionParameter"},
		{"missing api-version", "GET", site + "/machines", "tok", "", 400, "InvalidApiVersionParameter"},
		{"OffAzure with the ASR version", "GET", site + "/machines?api-version=" + SiteRecoveryAPIVersion, "tok", "", 400, "InvalidApiVersionParameter"},
		{"unknown item", "GET", vault + "/replicationFabrics/" + seed.Fabric + "/replicationProtectionContainers/" + seed.Containers[0] + "/replicationProtectedItems/nope?api-version=" + SiteRecoveryAPIVersion, "tok", "", 404, "ResourceNotFound"},
		{"action outside allowedOperations", "POST", vault + "/replicationFabrics/" + seed.Fabric + "/replicationProtectionContainers/" + seed.Containers[0] + "/replicationProtectedItems/machine-0001/failoverCommit?api-version=" + SiteRecoveryAPIVersion, "tok", "{}", 409, "OperationNotAllowed"},
		{"enable without disks", "PUT", vault + "/replicationFabrics/" + seed.Fabric + "/replicationProtectionContainers/" + seed.Containers[0] + "/replicationProtectedItems/machine-0002?api-version=" + SiteRecoveryAPIVersion, "tok",
			`{"properties":{"policyId":"x/replicationPolicies/24-hour-replication-policy","providerSpecificDetails":{"instanceType":"InMageRcm","fabricDiscoveryMachineId":"m","processServerId":"p","targetResourceGroupId":"r"}}}`, 400, "InvalidParameter"},
		{"NIC flag as a JSON bool", "PATCH", vault + "/replicationFabrics/" + seed.Fabric + "/replicationProtectionContainers/" + seed.Containers[0] + "/replicationProtectedItems/machine-0001?api-version=" + SiteRecoveryAPIVersion, "tok",
			`{"properties":{"providerSpecificDetails":{"instanceType":"InMageRcm","vmNics":[{"nicId":"4000-0001","isPrimaryNic":true}]}}}`, 400, "InvalidRequestContent"},
	}
	for _, tc := range cases {
		resp, v := do(t, c, tc.method, tc.url, tc.token, tc.body)
		code, msg := armError(v)
		if resp.StatusCode != tc.status || code != tc.code || msg == "" {
			t.Errorf("%s: %d %q %q, want %d %q with a message", tc.name, resp.StatusCode, code, msg, tc.status, tc.code)
		}
	}

	// Paging: follow nextLink to the end, collect every machine once.
	next := site + "/machines?api-version=" + OffAzureAPIVersion
	var names []string
	pages := 0
	for next != "" {
		resp, v := do(t, c, "GET", next, "tok", "")
		if resp.StatusCode != 200 {
			t.Fatalf("page %d: %d", pages, resp.StatusCode)
		}
		pages++
		for _, m := range v["value"].([]any) {
			names = append(names, m.(map[string]any)["properties"].(map[string]any)["displayName"].(string))
		}
		next, _ = v["nextLink"].(string)
	}
	if pages != 3 || strings.Join(names, ",") != "vm-0001,vm-0002,vm-0003,vm-0004,vm-0005" {
		t.Fatalf("%d pages: %v", pages, names)
	}

	// A long-running action: 202 with the three ARM headers, then status.
	item := vault + "/replicationFabrics/" + seed.Fabric + "/replicationProtectionContainers/" + seed.Containers[0] + "/replicationProtectedItems/machine-0001"
	resp, v := do(t, c, "POST", item+"/testFailover?api-version="+SiteRecoveryAPIVersion, "tok",
		`{"properties":{"failoverDirection":"PrimaryToRecovery","providerSpecificDetails":{"instanceType":"InMageRcm"}}}`)
	if resp.StatusCode != 202 || resp.Header.Get("Azure-AsyncOperation") == "" || resp.Header.Get("Location") == "" ||
		resp.Header.Get("Retry-After") != "1" || resp.Header.Get("retry-after-ms") != "250" {
		t.Fatalf("202 headers: %d %v", resp.StatusCode, resp.Header)
	}
	if v["type"] != "Microsoft.RecoveryServices/vaults/replicationJobs" {
		t.Fatalf("202 body is not the job: %v", v)
	}
	time.Sleep(20 * time.Millisecond)
	_, st := do(t, c, "GET", resp.Header.Get("Azure-AsyncOperation"), "tok", "")
	if st["status"] != "Succeeded" {
		t.Fatalf("operation status %v", st)
	}
	_, job := do(t, c, "GET", srv.URL+strings.TrimPrefix(strings.Replace(v["id"].(string), "/Subscriptions/", "/subscriptions/", 1), "")+"?api-version="+SiteRecoveryAPIVersion, "tok", "")
	// A test failover's job waits for the cleanup (ReplicationJobs_Resume.json).
	if p := job["properties"].(map[string]any); p["state"] != "Suspended" || p["stateDescription"] != "WaitingForStopTestFailover" {
		t.Fatalf("job %v", job)
	}

	for _, r := range sim.Requests() {
		if strings.Contains(fmt.Sprint(r), "tok") && !strings.Contains(r.Path, "tok") {
			t.Fatalf("request log holds the token: %+v", r)
		}
	}
}

// TestStateFileSharesTheWorld: two simulators on one state file see each
// other's changes, as two processes would.
func TestStateFileSharesTheWorld(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "world.json")
	seed := DefaultSeed(2)
	seed.Items = []ProtectedItem{{Name: "machine-0001", Machine: "machine-0001", TargetVMName: "a", TargetResourceGroupID: "/r", TargetNetworkID: "/n"}}
	a, err := New(seed, Options{StateFile: state, TimeScale: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Seed{}, Options{StateFile: state, TimeScale: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	sa, sb := httptest.NewTLSServer(a), httptest.NewTLSServer(b)
	defer sa.Close()
	defer sb.Close()
	path := base(seed) + "/Microsoft.RecoveryServices/vaults/" + seed.Vault + "/replicationFabrics/" + seed.Fabric +
		"/replicationProtectionContainers/" + seed.Containers[0] + "/replicationProtectedItems/machine-0001"
	resp, _ := do(t, sa.Client(), "POST", sa.URL+path+"/testFailover?api-version="+SiteRecoveryAPIVersion, "tok",
		`{"properties":{"providerSpecificDetails":{"instanceType":"InMageRcm"}}}`)
	if resp.StatusCode != 202 {
		t.Fatalf("test failover: %d", resp.StatusCode)
	}
	time.Sleep(30 * time.Millisecond)
	_, v := do(t, sb.Client(), "GET", sb.URL+path+"?api-version="+SiteRecoveryAPIVersion, "tok", "")
	if got := v["properties"].(map[string]any)["testFailoverState"]; got != TestFailoverWaiting {
		t.Fatalf("second simulator sees test failover state %v", got)
	}
}

func TestServeLoopbackOnly(t *testing.T) {
	t.Parallel()
	sim, err := New(DefaultSeed(1), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Serve(context.Background(), "0.0.0.0:0", sim); err == nil {
		t.Fatal("served on a non-loopback address")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := Serve(ctx, "", sim)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(srv.CAPEM) {
		t.Fatal("CAPEM holds no certificate")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, _ := do(t, c, "GET", srv.URL+base(sim.Seed())+"/Microsoft.OffAzure/VMwareSites/"+sim.Seed().Site+"/runasaccounts?api-version="+OffAzureAPIVersion, "tok", "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// TestStateFileNoLostUpdates: concurrent writes through two simulators on
// one state file all land.
func TestStateFileNoLostUpdates(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "world.json")
	seed := DefaultSeed(12)
	a, err := New(seed, Options{StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Seed{}, Options{StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	sa, sb := httptest.NewTLSServer(a), httptest.NewTLSServer(b)
	defer sa.Close()
	defer sb.Close()
	items := base(seed) + "/Microsoft.RecoveryServices/vaults/" + seed.Vault + "/replicationFabrics/" + seed.Fabric +
		"/replicationProtectionContainers/" + seed.Containers[0] + "/replicationProtectedItems"
	errs := make(chan error, len(seed.Machines))
	for i, m := range seed.Machines {
		srv := sa
		if i%2 == 1 {
			srv = sb
		}
		body := fmt.Sprintf(`{"properties":{"policyId":"x/replicationPolicies/%s","providerSpecificDetails":{"instanceType":"InMageRcm",
			"fabricDiscoveryMachineId":"/subscriptions/%s/resourceGroups/%s/providers/Microsoft.OffAzure/VMwareSites/%s/machines/%s",
			"processServerId":"%s","targetResourceGroupId":"/r","disksDefault":{"diskType":"Standard_LRS","logStorageAccountId":"/s"}}}}`,
			seed.Policies[0], seed.SubscriptionID, seed.ResourceGroup, seed.Site, m.Name, seed.ProcessServerID)
		go func() {
			resp, v := do(t, srv.Client(), "PUT", srv.URL+items+"/"+m.Name+"?api-version="+SiteRecoveryAPIVersion, "tok", body)
			if resp.StatusCode != 202 {
				errs <- fmt.Errorf("%s: %d %v", m.Name, resp.StatusCode, v)
				return
			}
			errs <- nil
		}()
	}
	for range seed.Machines {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	_, v := do(t, sa.Client(), "GET", sa.URL+items+"?api-version="+SiteRecoveryAPIVersion, "tok", "")
	if n := len(v["value"].([]any)); n != len(seed.Machines) {
		t.Fatalf("%d items after %d concurrent enables through two simulators", n, len(seed.Machines))
	}
}

// TestCutOffRequestIsNotActedOn: a client that dies halfway through its
// request body (a killed apply) leaves nothing behind but a 499 in the
// log; the item it was about to change is untouched.
func TestCutOffRequestIsNotActedOn(t *testing.T) {
	t.Parallel()
	seed := DefaultSeed(1)
	seed.Items = []ProtectedItem{{Name: "machine-0001", Machine: "machine-0001", TargetVMName: "a", TargetResourceGroupID: "/subscriptions/x/resourceGroups/t", TargetNetworkID: "/n"}}
	sim, err := New(seed, Options{TimeScale: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(sim)
	srv.StartTLS()
	defer srv.Close()
	path := base(seed) + "/Microsoft.RecoveryServices/vaults/" + seed.Vault + "/replicationFabrics/" + seed.Fabric +
		"/replicationProtectionContainers/" + seed.Containers[0] + "/replicationProtectedItems/machine-0001/testFailover?api-version=" + SiteRecoveryAPIVersion
	conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"properties":{"failoverDirection":"PrimaryToRecovery","networkType":"VmNetworkAsInput","providerSpecificDetails":{"instanceType":"InMageRcm","networkId":"/n"}}}`
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer tok\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", path, len(body), body[:len(body)/2])
	_ = conn.Close()

	var got []Request
	for deadline := time.Now().Add(5 * time.Second); len(got) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		got = sim.Requests()
	}
	if len(got) != 1 || got[0].Status != StatusClientClosedRequest || got[0].Method != "POST" {
		t.Fatalf("request log %+v, want the one POST as %d", got, StatusClientClosedRequest)
	}
	if _, tfo, _ := sim.ProtectionState("a"); tfo != TestFailoverNone {
		t.Fatalf("a request that never arrived whole changed the item: test failover state %q", tfo)
	}
}
