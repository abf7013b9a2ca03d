package azuresim

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// sdkModule is the SDK module whose example files hold the service's own
// response bodies.
const sdkModule = "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/recoveryservices/armrecoveryservicessiterecovery/v2"

// exampleFields are the lifecycle fields of one example's response body.
type exampleFields struct {
	ProtectionState, TestFailoverState, Scenario string
	Allowed                                      []string
}

var (
	reFunc     = regexp.MustCompile(`(?m)^func (Example\w+)\(\) \{`)
	reState    = regexp.MustCompile(`ProtectionState: to\.Ptr\("(\w+)"\)`)
	reTFO      = regexp.MustCompile(`TestFailoverState: to\.Ptr\("(\w+)"\)`)
	reScenario = regexp.MustCompile(`ScenarioName: to\.Ptr\("(\w+)"\)`)
	reAllowed  = regexp.MustCompile(`AllowedOperations: \[\]\*string\{([^}]*)\}`)
	rePtr      = regexp.MustCompile(`to\.Ptr\("(\w+)"\)`)
)

// readExamples parses the SDK's example file for protected items: each
// Example function's response comment, read by its field names. It reads
// the module from the module cache, so the test compares against the
// service's published bodies, not against a copy of ours.
func readExamples(t *testing.T, file string) map[string]exampleFields {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", sdkModule).Output()
	if err != nil {
		t.Fatalf("locating %s: %v", sdkModule, err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), file))
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	locs := reFunc.FindAllStringSubmatchIndex(src, -1)
	ex := map[string]exampleFields{}
	for i, l := range locs {
		end := len(src)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		body := src[l[1]:end]
		var f exampleFields
		if m := reState.FindStringSubmatch(body); m != nil {
			f.ProtectionState = m[1]
		}
		if m := reTFO.FindStringSubmatch(body); m != nil {
			f.TestFailoverState = m[1]
		}
		if m := reScenario.FindStringSubmatch(body); m != nil {
			f.Scenario = m[1]
		}
		if m := reAllowed.FindStringSubmatch(body); m != nil {
			for _, p := range rePtr.FindAllStringSubmatch(m[1], -1) {
				f.Allowed = append(f.Allowed, p[1])
			}
		}
		ex[src[l[2]:l[3]]] = f
	}
	return ex
}

// delta is how the simulator's InMageRcm allowedOperations differ from a
// generic example, and the source that says so.
type delta struct {
	add, remove []string
	why         string
}

// inMageRcmProtected: the examples of a Protected item come from Hyper-V
// and list PlannedFailover too; the InMageRcm example (_UpdateAppliance.json)
// lists UnplannedFailover, DisableProtection, TestFailover, and the SDK has no
// planned failover input for forward InMageRcm replication
// (PlannedFailoverProviderSpecificFailoverInput: HyperVReplicaAzure,
// HyperVReplicaAzureFailback, InMageRcmFailback only).
var inMageRcmProtected = delta{remove: []string{"PlannedFailover"},
	why: "InMageRcm: _UpdateAppliance.json's list; no InMageRcm planned failover"}

func (d delta) apply(ops []string) []string {
	var out []string
	for _, o := range ops {
		if !slices.Contains(d.remove, o) {
			out = append(out, o)
		}
	}
	return append(out, d.add...)
}

// exampleWorld drives one simulated item over plain HTTPS.
type exampleWorld struct {
	t    *testing.T
	sim  *Sim
	c    *http.Client
	item string
}

func newExampleWorld(t *testing.T, seeded bool, allowCancel bool) *exampleWorld {
	seed := DefaultSeed(2)
	seed.AllowCancelFailover = allowCancel
	if seeded {
		seed.Items = []ProtectedItem{{Name: "machine-0001", Machine: "machine-0001", TargetVMName: "vm-0001",
			TargetResourceGroupID: "/subscriptions/x/resourceGroups/t", TargetNetworkID: "/n"}}
	}
	sim, err := New(seed, Options{TimeScale: 0.0005, PollAfter: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(sim)
	t.Cleanup(srv.Close)
	item := srv.URL + base(seed) + "/Microsoft.RecoveryServices/vaults/" + seed.Vault + "/replicationFabrics/" + seed.Fabric +
		"/replicationProtectionContainers/" + seed.Containers[0] + "/replicationProtectedItems/machine-0001"
	return &exampleWorld{t: t, sim: sim, c: srv.Client(), item: item}
}

func (w *exampleWorld) url(suffix string) string {
	return w.item + suffix + "?api-version=" + SiteRecoveryAPIVersion
}

// call sends one request and waits for its async operation to end.
func (w *exampleWorld) call(method, suffix, body string) {
	w.t.Helper()
	resp, v := do(w.t, w.c, method, w.url(suffix), "tok", body)
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusAccepted {
		code, msg := armError(v)
		w.t.Fatalf("%s %s: %d %s %s", method, suffix, resp.StatusCode, code, msg)
	}
	op := resp.Header.Get("Azure-AsyncOperation")
	for op != "" {
		_, st := do(w.t, w.c, "GET", op, "tok", "")
		switch st["status"] {
		case "Succeeded":
			return
		case "Failed", "Canceled":
			w.t.Fatalf("%s %s: operation %v", method, suffix, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// get reads the item's lifecycle fields; nil when it is gone.
func (w *exampleWorld) get() *exampleFields {
	w.t.Helper()
	resp, v := do(w.t, w.c, "GET", w.url(""), "tok", "")
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	p := v["properties"].(map[string]any)
	f := &exampleFields{ProtectionState: p["protectionState"].(string), TestFailoverState: p["testFailoverState"].(string)}
	f.Scenario, _ = p["currentScenario"].(map[string]any)["scenarioName"].(string)
	for _, a := range p["allowedOperations"].([]any) {
		f.Allowed = append(f.Allowed, a.(string))
	}
	return f
}

// settle waits until initial replication has made the item Protected.
func (w *exampleWorld) settle() {
	w.t.Helper()
	for i := 0; i < 2000; i++ {
		if f := w.get(); f != nil && f.ProtectionState == StateProtected {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	w.t.Fatalf("the item never became Protected: %+v", w.get())
}

const (
	bodyEnable = `{"properties":{"policyId":"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/migrate-rg/providers/Microsoft.RecoveryServices/vaults/proj-MigrateVault-1/replicationPolicies/24-hour-replication-policy",
 "providerSpecificDetails":{"instanceType":"InMageRcm","fabricDiscoveryMachineId":"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/migrate-rg/providers/Microsoft.OffAzure/VMwareSites/vmware-site-01/machines/machine-0001",
 "processServerId":"5f0b8c2e-0000-4000-8000-000000000001","targetResourceGroupId":"/subscriptions/x/resourceGroups/t","targetNetworkId":"/n",
 "disksDefault":{"diskType":"Standard_LRS","logStorageAccountId":"/s"}}}}`
	bodyUpdate    = `{"properties":{"providerSpecificDetails":{"instanceType":"InMageRcm","targetVmSize":"Standard_D4s_v5"}}}`
	bodyTFO       = `{"properties":{"failoverDirection":"PrimaryToRecovery","providerSpecificDetails":{"instanceType":"InMageRcm","networkId":"/n"}}}`
	bodyCleanup   = `{"properties":{"comments":"done"}}`
	bodyFailover  = `{"properties":{"failoverDirection":"PrimaryToRecovery","sourceSiteOperations":"NotRequired","providerSpecificDetails":{"instanceType":"InMageRcm","performShutdown":"true"}}}`
	bodyDisable   = `{"properties":{"disableProtectionReason":"MigrationComplete"}}`
	pathTFO       = "/testFailover"
	pathCleanup   = "/testFailoverCleanup"
	pathFailover  = "/unplannedFailover"
	pathCommit    = "/failoverCommit"
	pathCancel    = "/failoverCancel"
	pathRemove    = "/remove"
	methodPost    = "POST"
	methodPut     = "PUT"
	methodPatch   = "PATCH"
	methodDelete  = "DELETE"
	noBody        = ""
	protectedFile = "replicationprotecteditems_client_example_test.go"
)

// TestItemMatchesSDKExamples drives the simulator through each operation
// the SDK has an example for and compares the item afterwards with the
// example's protectionState, testFailoverState, currentScenario and
// allowedOperations. Every example in the file is listed: served ones are
// compared, the others say why the simulator has no such operation.
func TestItemMatchesSDKExamples(t *testing.T) {
	t.Parallel()
	examples := readExamples(t, protectedFile)
	type step struct{ method, path, body string }
	cases := []struct {
		example     string
		notServed   string // why the simulator has no such operation
		seeded      bool
		allowCancel bool
		steps       []step
		delta       delta
		gone        bool // the item no longer exists (no body in the example)
	}{
		{example: "ExampleReplicationProtectedItemsClient_Get", seeded: true, delta: inMageRcmProtected},
		{example: "ExampleReplicationProtectedItemsClient_NewListPager", seeded: true, delta: inMageRcmProtected},
		{example: "ExampleReplicationProtectedItemsClient_NewListByReplicationProtectionContainersPager", seeded: true, delta: inMageRcmProtected},
		{example: "ExampleReplicationProtectedItemsClient_BeginUpdateAppliance", seeded: true},
		{example: "ExampleReplicationProtectedItemsClient_BeginUpdateMobilityService", seeded: true},
		{example: "ExampleReplicationProtectedItemsClient_BeginCreate", steps: []step{{methodPut, "", bodyEnable}}, delta: inMageRcmProtected},
		{example: "ExampleReplicationProtectedItemsClient_BeginUpdate", seeded: true, steps: []step{{methodPatch, "", bodyUpdate}}, delta: inMageRcmProtected},
		{example: "ExampleReplicationProtectedItemsClient_BeginTestFailover", seeded: true, steps: []step{{methodPost, pathTFO, bodyTFO}}},
		{example: "ExampleReplicationProtectedItemsClient_BeginTestFailoverCleanup", seeded: true,
			steps: []step{{methodPost, pathTFO, bodyTFO}, {methodPost, pathCleanup, bodyCleanup}}, delta: inMageRcmProtected},
		{example: "ExampleReplicationProtectedItemsClient_BeginUnplannedFailover", seeded: true,
			steps: []step{{methodPost, pathTFO, bodyTFO}, {methodPost, pathCleanup, bodyCleanup}, {methodPost, pathFailover, bodyFailover}},
			delta: delta{add: []string{"SwitchProtection"}, why: "Azure CLI InMageRcm recording after an unplanned failover"}},
		{example: "ExampleReplicationProtectedItemsClient_BeginFailoverCommit", seeded: true,
			steps: []step{{methodPost, pathTFO, bodyTFO}, {methodPost, pathCleanup, bodyCleanup}, {methodPost, pathFailover, bodyFailover}, {methodPost, pathCommit, noBody}}},
		{example: "ExampleReplicationProtectedItemsClient_BeginFailoverCancel", seeded: true, allowCancel: true,
			steps: []step{{methodPost, pathFailover, bodyFailover}, {methodPost, pathCancel, noBody}},
			delta: delta{add: []string{"UnplannedFailover", "TestFailover"}, remove: []string{"PlannedFailover"},
				why: "the example is an InMageRcmFailback item; a cancelled forward InMageRcm item is Protected as in _UpdateAppliance.json"}},
		{example: "ExampleReplicationProtectedItemsClient_BeginDelete", seeded: true, steps: []step{{methodPost, pathRemove, bodyDisable}}, gone: true},
		{example: "ExampleReplicationProtectedItemsClient_BeginPurge", seeded: true, steps: []step{{methodDelete, "", noBody}}, gone: true},
		{example: "ExampleReplicationProtectedItemsClient_BeginAddDisks", notServed: "A2A only"},
		{example: "ExampleReplicationProtectedItemsClient_BeginRemoveDisks", notServed: "A2A only"},
		{example: "ExampleReplicationProtectedItemsClient_BeginResolveHealthErrors", notServed: "cutover never resolves health errors for the user"},
		{example: "ExampleReplicationProtectedItemsClient_BeginRepairReplication", notServed: "cutover never repairs replication (resync is the service's)"},
		{example: "ExampleReplicationProtectedItemsClient_BeginApplyRecoveryPoint", notServed: "cutover never changes the recovery point after a failover"},
		{example: "ExampleReplicationProtectedItemsClient_BeginPlannedFailover", notServed: "no planned failover for forward InMageRcm replication"},
		{example: "ExampleReplicationProtectedItemsClient_BeginReprotect", notServed: "cutover never reprotects (failback is out of scope)"},
		{example: "ExampleReplicationProtectedItemsClient_BeginSwitchProvider", notServed: "InMageAzureV2 to InMageRcm switch is out of scope"},
	}
	listed := map[string]bool{}
	for _, tc := range cases {
		listed[tc.example] = true
	}
	for name := range examples {
		if !listed[name] {
			t.Errorf("the SDK example %s is not in this test: compare it or say why it is not served", name)
		}
	}
	for _, tc := range cases {
		t.Run(strings.TrimPrefix(tc.example, "ExampleReplicationProtectedItemsClient_"), func(t *testing.T) {
			t.Parallel()
			want, ok := examples[tc.example]
			if !ok {
				t.Fatalf("the SDK has no example %s", tc.example)
			}
			if tc.notServed != "" {
				t.Skip("not served: " + tc.notServed)
			}
			w := newExampleWorld(t, tc.seeded, tc.allowCancel)
			for _, s := range tc.steps {
				w.call(s.method, s.path, s.body)
				if s.method == methodPut {
					w.settle()
				}
			}
			got := w.get()
			if tc.gone {
				if got != nil {
					t.Fatalf("the item still exists: %+v", got)
				}
				return
			}
			wantAllowed := tc.delta.apply(want.Allowed)
			slices.Sort(wantAllowed)
			gotAllowed := slices.Clone(got.Allowed)
			slices.Sort(gotAllowed)
			if got.ProtectionState != want.ProtectionState || got.TestFailoverState != want.TestFailoverState ||
				got.Scenario != want.Scenario || !slices.Equal(gotAllowed, wantAllowed) {
				t.Fatalf("after %s the simulator's item is\n  %s / %s / %s / %v\nthe example shows\n  %s / %s / %s / %v (allowed adjusted: %s)",
					tc.example, got.ProtectionState, got.TestFailoverState, got.Scenario, gotAllowed,
					want.ProtectionState, want.TestFailoverState, want.Scenario, wantAllowed, tc.delta.why)
			}
		})
	}
}

// TestFailedOverOffersNoCancelByDefault pins the InMageRcm recording's
// list after an unplanned failover, and AllowCancelFailover's addition.
func TestFailedOverOffersNoCancelByDefault(t *testing.T) {
	t.Parallel()
	for _, allow := range []bool{false, true} {
		w := newExampleWorld(t, true, false)
		if allow {
			if err := w.sim.SetAllowCancelFailover(true); err != nil {
				t.Fatal(err)
			}
		}
		w.call(methodPost, pathFailover, bodyFailover)
		got := w.get()
		want := []string{"CompleteMigration", "Commit", "DisableProtection", "ChangePit", "SwitchProtection"}
		if allow {
			want = append(want, "CancelFailover")
		}
		if got.ProtectionState != StateFailedOver || !slices.Equal(got.Allowed, want) {
			t.Fatalf("AllowCancelFailover=%v: %s %v, want %v", allow, got.ProtectionState, got.Allowed, want)
		}
	}
}

// TestTestFailoverJobMatchesSDKExample: a test failover's job, once the
// test VM is up, is the job ReplicationJobs_Resume.json shows: scenario
// TestFailover, state Suspended, described WaitingForStopTestFailover,
// allowing Cancel and Resume; the cleanup then ends it.
func TestTestFailoverJobMatchesSDKExample(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", sdkModule).Output()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "replicationjobs_client_example_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	i := strings.Index(src, "func ExampleReplicationJobsClient_BeginResume()")
	if i < 0 {
		t.Fatal("the SDK has no ReplicationJobs_Resume example")
	}
	body := src[i:]
	if j := strings.Index(body[1:], "\nfunc "); j > 0 {
		body = body[:j]
	}
	field := func(name string) string {
		m := regexp.MustCompile(`\b` + name + `: to\.Ptr\("(\w+)"\)`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("the example has no %s", name)
		}
		return m[1]
	}
	var wantActions []string
	if m := regexp.MustCompile(`AllowedActions: \[\]\*string\{([^}]*)\}`).FindStringSubmatch(body); m != nil {
		for _, p := range rePtr.FindAllStringSubmatch(m[1], -1) {
			wantActions = append(wantActions, p[1])
		}
	}

	w := newExampleWorld(t, true, false)
	resp, v := do(t, w.c, methodPost, w.url(pathTFO), "tok", bodyTFO)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("test failover: %d %v", resp.StatusCode, v)
	}
	jobURL := w.item[:strings.Index(w.item, "/Microsoft.RecoveryServices/")] + "/Microsoft.RecoveryServices/vaults/" + w.sim.Seed().Vault + "/replicationJobs/" + v["name"].(string) + "?api-version=" + SiteRecoveryAPIVersion
	var props map[string]any
	for i := 0; i < 2000; i++ {
		_, job := do(t, w.c, "GET", jobURL, "tok", "")
		props = job["properties"].(map[string]any)
		if props["state"] != "InProgress" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	var gotActions []string
	for _, a := range props["allowedActions"].([]any) {
		gotActions = append(gotActions, a.(string))
	}
	if props["scenarioName"] != field("ScenarioName") || props["state"] != field("State") ||
		props["stateDescription"] != field("StateDescription") || !slices.Equal(gotActions, wantActions) {
		t.Fatalf("the test failover job is %v / %v / %v / %v; ReplicationJobs_Resume.json shows %s / %s / %s / %v",
			props["scenarioName"], props["state"], props["stateDescription"], gotActions,
			field("ScenarioName"), field("State"), field("StateDescription"), wantActions)
	}
	w.call(methodPost, pathCleanup, bodyCleanup)
	_, job := do(t, w.c, "GET", jobURL, "tok", "")
	if st := job["properties"].(map[string]any)["state"]; st != "Succeeded" {
		t.Fatalf("after the cleanup the test failover job is %v", st)
	}
}
