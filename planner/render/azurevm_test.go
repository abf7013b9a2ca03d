package render

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"cutover/planner"
)

// TestAzureVMsRendered: the Azure VMs read for a plan's VMs appear in every
// text rendering, whether or not the VM has steps.
func TestAzureVMsRendered(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC)
	p := &planner.Plan{FormatVersion: planner.FormatVersion, Runbook: "rb", CreatedAt: at, ExpiresAt: at.Add(time.Hour),
		VMs: []planner.VMPlan{
			{Address: "vm.app", Live: planner.LiveFailedOver, Desired: "migrated", AzureVMs: []planner.LiveAzureVM{
				{Name: "app-az", ResourceGroupID: "/subscriptions/s/resourceGroups/t", Exists: true, PowerState: "deallocated", VMID: "0f47b100"}}},
			{Address: "vm.web", Live: planner.LiveTesting, Desired: "tested", AzureVMs: []planner.LiveAzureVM{
				{Name: "web-az-test", Test: true, Exists: true, PowerState: "running"}}},
		}}
	cases := []struct {
		name   string
		render func(*bytes.Buffer) error
		want   []string
	}{
		{"human", func(b *bytes.Buffer) error { return Human(b, p, HumanOptions{}) },
			[]string{"vm.app: app-az: deallocated (vmId 0f47b100)", "vm.web: web-az-test: running (test failover VM)"}},
		{"markdown", func(b *bytes.Buffer) error { return Markdown(b, p) },
			[]string{"- vm.app: app-az: deallocated (vmId 0f47b100)", "- vm.web: web-az-test: running (test failover VM)"}},
		{"json", func(b *bytes.Buffer) error { return JSON(b, p) },
			[]string{`"power_state": "deallocated"`, `"vm_id": "0f47b100"`, `"test": true`}},
	}
	for _, tc := range cases {
		var b bytes.Buffer
		if err := tc.render(&b); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s lacks %q:\n%s", tc.name, w, b.String())
			}
		}
	}
}
