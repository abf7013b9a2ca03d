package render

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"cutover/planner"
)

// jsonDocPath is the JSON rendering's reference, which policy authors read.
var jsonDocPath = filepath.Join("..", "..", "docs", "plan-json.md")

// everyFieldPlan sets every field the JSON rendering has, so that walking
// its rendering reaches every key path.
func everyFieldPlan() *planner.Plan {
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	db := "vm.db"
	return &planner.Plan{
		FormatVersion: planner.FormatVersion, ToolVersion: "0.9.0", Runbook: "wave1",
		RunbookHash: "5e1f0c0ffee0123456789abcdef0123456789abcdef0123456789abcdef01234",
		Variables:   map[string]string{"wave_file": "wave1.csv"},
		CreatedAt:   at, ExpiresAt: at.Add(7 * 24 * time.Hour),
		Windows: []planner.WindowInfo{{Name: "sat-night", Schedule: "0 22 * * SAT", Duration: "6h", Timezone: "Europe/Berlin"}},
		VMs: []planner.VMPlan{{
			Address: db, Live: planner.LiveTested, Desired: "completed", TargetName: "db-az", Size: "Standard_E4s_v5",
			Subnet: "data", Window: "sat-night", Sensitive: []string{"target.vm_tags"},
			Fingerprint: planner.Fingerprint{Source: "6bb00877f9251da2", Item: "a21c4c62c05b5c3f"},
			AzureVMs: []planner.LiveAzureVM{{Name: "db-az", ResourceGroupID: "/subscriptions/x/resourceGroups/target", Exists: true,
				PowerState: "running", VMID: "0f47b100-583c-48e3-a4c0-aefc2c9bbcc1"}},
		}},
		Steps: []planner.Step{
			{ID: db + ".update_replication", VM: db, Kind: planner.StepUpdateReplication, Gate: "protection state Protected",
				Inverse: planner.StepUpdateReplication,
				Changes: []planner.Change{
					{Attribute: "target.size", Old: "Standard_D4s_v5", New: "Standard_E4s_v5"},
					{Attribute: `target.vm_tags["owner"]`, Old: "(sensitive)", New: "(sensitive)", Sensitive: true},
				}},
			{ID: db + ".shutdown", VM: db, Kind: planner.StepShutdown, Inputs: map[string]string{"mode": "guest"},
				DependsOn: []string{db + ".update_replication"}, Disruptive: true, Window: "sat-night", Inverse: planner.StepPowerOn},
			{ID: db + ".unplanned_failover", VM: db, Kind: planner.StepUnplannedFailover,
				Inputs:    map[string]string{"perform_shutdown": "false", "recovery_point": "latest"},
				DependsOn: []string{db + ".shutdown"}, Disruptive: true, Window: "sat-night",
				Gate: "allowedOperations contains UnplannedFailover and RPO <= 30m", Inverse: planner.StepFailoverCancel},
			{ID: db + ".failover_commit", VM: db, Kind: planner.StepFailoverCommit, DependsOn: []string{db + ".unplanned_failover"},
				Disruptive: true, Window: "sat-night", NoReturn: true, Gate: "allowedOperations contains Commit"},
			{ID: db + ".complete_migration", VM: db, Kind: planner.StepCompleteMigration, DependsOn: []string{db + ".failover_commit"},
				NoReturn: true, Gate: "allowedOperations contains CompleteMigration"},
		},
	}
}

// typePaths lists the key paths a JSON type can produce: "a.b" for a
// nested object, "a[].b" for objects in a list. Maps are free-form (their
// keys are data, such as input names) and end a path; they are returned in
// freeForm as well.
func typePaths(t reflect.Type, prefix string, paths, freeForm map[string]bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		path := prefix + name
		paths[path] = true
		ft := f.Type
		switch ft.Kind() {
		case reflect.Map:
			freeForm[path] = true
		case reflect.Struct:
			typePaths(ft, path+".", paths, freeForm)
		case reflect.Slice:
			if ft.Elem().Kind() == reflect.Struct {
				typePaths(ft.Elem(), path+"[].", paths, freeForm)
			}
		}
	}
}

// walkJSON records every key path of a decoded JSON value.
func walkJSON(v any, prefix string, freeForm, seen map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			path := prefix + k
			seen[path] = true
			if freeForm[path] {
				continue
			}
			switch val.(type) {
			case map[string]any:
				walkJSON(val, path+".", freeForm, seen)
			case []any:
				for _, el := range val.([]any) {
					walkJSON(el, path+"[].", freeForm, seen)
				}
			}
		}
	}
}

// TestJSONDocCoversEveryField keeps docs/plan-json.md level with the JSON
// rendering: every key path a plan's JSON has must be named there, in
// backticks, and so must every step kind, and its example must be JSON of
// the current format version.
func TestJSONDocCoversEveryField(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(jsonDocPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)

	var buf bytes.Buffer
	if err := JSON(&buf, everyFieldPlan()); err != nil {
		t.Fatal(err)
	}
	var decoded any
	if err := json.Unmarshal(buf.Bytes(), &decoded); err != nil {
		t.Fatal(err)
	}
	paths, freeForm := map[string]bool{}, map[string]bool{}
	typePaths(reflect.TypeOf(jsonPlan{}), "", paths, freeForm)
	seen := map[string]bool{}
	walkJSON(decoded, "", freeForm, seen)

	// The sample must reach every field, or the check below would miss
	// the fields it does not reach.
	for p := range paths {
		if !seen[p] {
			t.Errorf("the sample plan's JSON has no %s; set it in everyFieldPlan", p)
		}
	}
	var missing []string
	for p := range seen {
		if !strings.Contains(doc, "`"+p+"`") {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	for _, p := range missing {
		t.Errorf("%s does not document `%s`", jsonDocPath, p)
	}
	if len(seen) < 50 {
		t.Errorf("only %d key paths walked; the walk is broken", len(seen))
	}

	for _, k := range []planner.StepKind{
		planner.StepRelocate, planner.StepMakeFTPrimary, planner.StepCloneRehearsal, planner.StepSnapshot,
		planner.StepShutdown, planner.StepPowerOn, planner.StepEnableReplication, planner.StepUpdateReplication,
		planner.StepWaitProtected, planner.StepTestFailover, planner.StepTestCleanup, planner.StepUnplannedFailover,
		planner.StepFailoverCancel, planner.StepFailoverCommit, planner.StepCompleteMigration, planner.StepDisableReplication,
		planner.StepDeallocateAzureVM,
	} {
		if !strings.Contains(doc, "`"+string(k)+"`") {
			t.Errorf("step kind %s is not documented", k)
		}
		if inv := k.Inverse(); inv != "" && !strings.Contains(doc, "`"+string(inv)+"`") {
			t.Errorf("inverse kind %s is not documented", inv)
		}
	}

	// The example is whole JSON of this version.
	ex := regexp.MustCompile("(?s)```json\n(.*?)```").FindStringSubmatch(doc)
	if ex == nil {
		t.Fatal("no ```json example")
	}
	var example struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal([]byte(ex[1]), &example); err != nil || example.FormatVersion == nil || *example.FormatVersion != JSONFormatVersion {
		t.Errorf("the example is not JSON of format_version %d: %v", JSONFormatVersion, err)
	}
	if !strings.Contains(doc, "`JSONFormatVersion` is "+strconv.Itoa(JSONFormatVersion)) {
		t.Errorf("the doc does not say `JSONFormatVersion` is %d", JSONFormatVersion)
	}
}
