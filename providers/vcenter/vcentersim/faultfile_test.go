package vcentersim

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/vim25/types"
)

// TestFaultFile arms a fault in the file after the simulator started: the
// VM's next call fails with the fault, another VM's call does not, and the
// fault is used up after its calls.
func TestFaultFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "faults.json")
	s, err := Start(ctx, extWorld(), WithFaultFile(path))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sc := dial(t, s)
	if err := AddArmedFault(path, ArmedFault{VM: "off", Step: "power_on", Methods: []string{"PowerOnVM_Task"}, Code: "InsufficientResourcesFault", Times: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.vm(t, "off").PowerOn(ctx); !fault.Is(err, &types.InsufficientResourcesFault{}) {
		t.Fatalf("power on with the fault armed: %v", err)
	}
	if left, err := ArmedFaults(path); err != nil || len(left) != 0 {
		t.Fatalf("a one-call fault is still armed: %v %v", left, err)
	}
	task, err := sc.vm(t, "off").PowerOn(ctx)
	if err != nil {
		t.Fatalf("power on after the fault was used up: %v", err)
	}
	if err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestFaultFileExtendedMethods covers the calls our extensions answer
// (ShutdownGuest among them) and a snapshot's method, whose VM is the
// snapshot's owner.
func TestFaultFileExtendedMethods(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "faults.json")
	w := extWorld()
	w.Datacenters[0].VMs = append(w.Datacenters[0].VMs, VM{Name: "snap", Host: "h1", PowerState: "poweredOn", Snapshots: []string{"before"}})
	s, err := Start(ctx, w, WithFaultFile(path))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sc := dial(t, s)
	for _, f := range []ArmedFault{
		{VM: "snap", Step: "shutdown", Methods: []string{"ShutdownGuest", "PowerOffVM_Task"}, Code: "InvalidState"},
		{VM: "snap", Step: "remove_snapshot", Methods: []string{"RemoveSnapshot_Task"}, Code: "TaskInProgress", Times: 2},
	} {
		if err := AddArmedFault(path, f); err != nil {
			t.Fatal(err)
		}
	}
	vm := sc.vm(t, "snap")
	if err := vm.ShutdownGuest(ctx); !fault.Is(err, &types.InvalidState{}) {
		t.Errorf("guest shutdown: %v", err)
	}
	if _, err := vm.PowerOff(ctx); !fault.Is(err, &types.InvalidState{}) {
		t.Errorf("power off, the shutdown's fallback: %v", err)
	}
	if _, err := vm.RemoveSnapshot(ctx, "before", false, nil); !fault.Is(err, &types.TaskInProgress{}) {
		t.Errorf("remove snapshot: %v", err)
	}
	left, err := ArmedFaults(path)
	if err != nil || len(left) != 2 || left[0].Step != "remove_snapshot" || left[0].Times != 1 || left[1].Times != 0 {
		t.Errorf("faults left: %+v %v", left, err)
	}
	if n, err := ClearArmedFaults(path, "other"); n != 0 || err != nil {
		t.Errorf("clearing another VM's faults removed %d (%v)", n, err)
	}
	if n, err := ClearArmedFaults(path); n != 2 || err != nil {
		t.Errorf("clear removed %d (%v)", n, err)
	}
	if err := vm.ShutdownGuest(ctx); err != nil {
		t.Errorf("guest shutdown after clear: %v", err)
	}
}

// TestCheckFault refuses codes a method does not raise, unknown methods
// and faults without a VM.
func TestCheckFault(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    ArmedFault
		want string
	}{
		{"valid", ArmedFault{VM: "a", Methods: []string{"ShutdownGuest"}, Code: "ToolsUnavailable"}, ""},
		{"every method raises it", ArmedFault{VM: "a", Methods: []string{"ShutdownGuest", "PowerOffVM_Task"}, Code: "InvalidState"}, ""},
		{"code the method lacks", ArmedFault{VM: "a", Methods: []string{"PowerOffVM_Task"}, Code: "ToolsUnavailable"}, "PowerOffVM_Task does not raise ToolsUnavailable; it can fail with TaskInProgress, InvalidState or InvalidPowerState"},
		{"an Azure code", ArmedFault{VM: "a", Methods: []string{"CloneVM_Task"}, Code: "InternalError"}, "CloneVM_Task does not raise InternalError"},
		{"unknown method", ArmedFault{VM: "a", Methods: []string{"ReconfigVM_Task"}, Code: "InvalidState"}, "cannot fail ReconfigVM_Task"},
		{"no method", ArmedFault{VM: "a", Code: "InvalidState"}, "needs a method"},
		{"no VM", ArmedFault{Methods: []string{"Destroy_Task"}, Code: "InvalidState"}, "needs a VM"},
		{"negative times", ArmedFault{VM: "a", Methods: []string{"Destroy_Task"}, Code: "InvalidState", Times: -1}, "times must be 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckFault(tt.f)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}
