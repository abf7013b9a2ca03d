package vcentersim

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	"cutover/internal/filelock"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// ArmedFault is a fault kept in a fault file: the next calls of any of
// Methods on the VM named VM fail with the vSphere fault Code. Unlike
// FaultRule it is data, so one process (cutover sim fault add) can arm it
// and another (an apply --sim or a running sim serve) meets it. Methods
// are the calls one step may make (a guest shutdown and its fallback
// power-off), sharing one count so that no rule is left armed for a call
// the step did not make.
type ArmedFault struct {
	VM string `json:"vm"`
	// Step is the plan step the fault was armed for, to list it by.
	Step    string   `json:"step,omitempty"`
	Methods []string `json:"methods"`
	Code    string   `json:"code"`
	// Times is how many calls still fail; 0 means every call.
	Times int `json:"times"`
}

// faultCodes are the faults each method can answer with, as the Faults
// section of the method's page in the vSphere Web Services API reference
// lists them (TaskInProgress, InvalidState, InvalidPowerState for the power
// and task methods; ToolsUnavailable for ShutdownGuest;
// InsufficientResourcesFault for power-on, relocate and clone). GUESS: those
// pages are not among the shared reference pages; the lists are from memory of the
// published reference and deliberately short.
var faultCodes = map[string][]string{
	"ShutdownGuest":       {"TaskInProgress", "InvalidState", "InvalidPowerState", "ToolsUnavailable"},
	"PowerOffVM_Task":     {"TaskInProgress", "InvalidState", "InvalidPowerState"},
	"PowerOnVM_Task":      {"TaskInProgress", "InvalidState", "InvalidPowerState", "InsufficientResourcesFault"},
	"RelocateVM_Task":     {"TaskInProgress", "InvalidState", "InvalidPowerState", "InsufficientResourcesFault"},
	"MigrateVM_Task":      {"TaskInProgress", "InvalidState", "InvalidPowerState", "InsufficientResourcesFault"},
	"CreateSnapshot_Task": {"TaskInProgress", "InvalidState", "InvalidPowerState"},
	"RemoveSnapshot_Task": {"TaskInProgress", "InvalidState"},
	"CloneVM_Task":        {"TaskInProgress", "InvalidState", "InsufficientResourcesFault"},
	"Destroy_Task":        {"TaskInProgress", "InvalidState"},
	"MakePrimaryVM_Task":  {"TaskInProgress", "InvalidState"},
	"CustomizeGuest_Task": {"TaskInProgress", "InvalidState", "InvalidPowerState"},
}

// faultMessages are the localized messages vCenter gives these faults.
// GUESS: worded after vSphere's English messages, not copied from a source
// among the shared reference pages.
var faultMessages = map[string]string{
	"TaskInProgress":             "The operation is not allowed in the current state because the VM has another task in progress. (Injected by cutover sim fault.)",
	"InvalidState":               "The operation is not allowed in the current state. (Injected by cutover sim fault.)",
	"InvalidPowerState":          "The attempted operation cannot be performed in the current state. (Injected by cutover sim fault.)",
	"ToolsUnavailable":           "Cannot complete operation because VMware Tools is not running in this virtual machine. (Injected by cutover sim fault.)",
	"InsufficientResourcesFault": "Insufficient resources to satisfy configured failover level for vSphere HA. (Injected by cutover sim fault.)",
}

func newFault(code string) types.BaseMethodFault {
	switch code {
	case "TaskInProgress":
		return &types.TaskInProgress{}
	case "InvalidState":
		return &types.InvalidState{}
	case "InvalidPowerState":
		return &types.InvalidPowerState{}
	case "ToolsUnavailable":
		return &types.ToolsUnavailable{}
	case "InsufficientResourcesFault":
		return &types.InsufficientResourcesFault{}
	}
	return nil
}

// FaultCodes lists the fault codes method can be made to fail with.
func FaultCodes(method string) []string { return slices.Clone(faultCodes[method]) }

// CheckFault says why f cannot be armed, or nil.
func CheckFault(f ArmedFault) error {
	if len(f.Methods) == 0 {
		return errors.New("a fault needs a method")
	}
	for _, m := range f.Methods {
		codes, ok := faultCodes[m]
		if !ok {
			return fmt.Errorf("the simulated vCenter cannot fail %s", m)
		}
		if !slices.Contains(codes, f.Code) {
			return fmt.Errorf("%s does not raise %s; it can fail with %s", m, f.Code, JoinOr(codes))
		}
	}
	if f.VM == "" {
		return errors.New("a fault needs a VM")
	}
	if f.Times < 0 {
		return errors.New("times must be 0 (every call) or more")
	}
	return nil
}

// JoinOr joins s as "a, b or c".
func JoinOr(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	out := ""
	for i, v := range s {
		switch {
		case i == 0:
		case i == len(s)-1:
			out += " or "
		default:
			out += ", "
		}
		out += v
	}
	return out
}

// faultFileMu serialises this process's reads and writes of fault files;
// lockFaultFile serialises them between processes.
var faultFileMu sync.Mutex

// lockFaults takes both locks for path.
func lockFaults(path string) (func(), error) {
	faultFileMu.Lock()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		faultFileMu.Unlock()
		return nil, err
	}
	unlock, err := filelock.Lock(path)
	if err != nil {
		faultFileMu.Unlock()
		return nil, err
	}
	return func() { unlock(); faultFileMu.Unlock() }, nil
}

type faultFile struct {
	Faults []ArmedFault `json:"faults"`
}

func readFaultFile(path string) ([]ArmedFault, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ff faultFile
	if err := json.Unmarshal(b, &ff); err != nil {
		return nil, fmt.Errorf("fault file %s: %w", path, err)
	}
	return ff.Faults, nil
}

func writeFaultFile(path string, faults []ArmedFault) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(faultFile{Faults: faults}, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// AddArmedFault arms f in the fault file at path, replacing a fault for the
// same VM and step.
func AddArmedFault(path string, f ArmedFault) error {
	if err := CheckFault(f); err != nil {
		return err
	}
	unlock, err := lockFaults(path)
	if err != nil {
		return err
	}
	defer unlock()
	faults, err := readFaultFile(path)
	if err != nil {
		return err
	}
	faults = slices.DeleteFunc(faults, func(a ArmedFault) bool { return a.VM == f.VM && a.Step == f.Step })
	faults = append(faults, f)
	return writeFaultFile(path, faults)
}

// ArmedFaults lists the faults of the fault file at path, by VM and step.
func ArmedFaults(path string) ([]ArmedFault, error) {
	faultFileMu.Lock()
	defer faultFileMu.Unlock()
	faults, err := readFaultFile(path) // a rename is atomic: no lock needed to read
	sort.SliceStable(faults, func(i, j int) bool {
		if faults[i].VM != faults[j].VM {
			return faults[i].VM < faults[j].VM
		}
		return faults[i].Step < faults[j].Step
	})
	return faults, err
}

// ClearArmedFaults disarms the faults of the VMs named (all with none) and
// returns how many it removed.
func ClearArmedFaults(path string, vms ...string) (int, error) {
	unlock, err := lockFaults(path)
	if err != nil {
		return 0, err
	}
	defer unlock()
	faults, err := readFaultFile(path)
	if err != nil || len(faults) == 0 {
		return 0, err
	}
	kept := slices.DeleteFunc(slices.Clone(faults), func(a ArmedFault) bool { return len(vms) == 0 || slices.Contains(vms, a.VM) })
	if len(kept) == len(faults) {
		return 0, nil
	}
	return len(faults) - len(kept), writeFaultFile(path, kept)
}

// take reports whether a call of method on the VM named vm meets an armed
// fault with code, using up one of its calls.
func take(path, vm, method, code string) bool {
	if _, err := os.Stat(path); err != nil {
		return false // nothing armed: no lock file for worlds without faults
	}
	unlock, err := lockFaults(path)
	if err != nil {
		return false
	}
	defer unlock()
	faults, err := readFaultFile(path)
	if err != nil {
		return false
	}
	for i, f := range faults {
		if f.VM != vm || f.Code != code || !slices.Contains(f.Methods, method) {
			continue
		}
		switch {
		case f.Times == 1:
			faults = slices.Delete(faults, i, i+1)
		case f.Times > 1:
			faults[i].Times--
		default:
			return true
		}
		return writeFaultFile(path, faults) == nil
	}
	return false
}

// WithFaultFile makes the simulator fail the calls that the fault file at
// path arms. The file is read at every call of a method that can be
// failed, so faults armed after the simulator started are met.
func WithFaultFile(path string) Option { return func(o *options) { o.faultFile = path } }

// installFaultFile adds one vcsim FaultInjectionRule per method and code;
// each rule's filter asks the fault file whether the call's VM has that
// fault armed. Rules are fixed at start because vcsim reads a rule's fault
// unsynchronized; what changes is the file behind the filters.
func (s *Sim) installFaultFile(path string) {
	methods := make([]string, 0, len(faultCodes))
	for m := range faultCodes {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	for _, method := range methods {
		for _, code := range faultCodes[method] {
			s.model.Service.AddFaultRule(&simulator.FaultInjectionRule{
				MethodName:  method,
				ObjectType:  "*",
				ObjectName:  "*",
				Probability: 1.0,
				FaultType:   simulator.FaultTypeCustom,
				Fault:       newFault(code),
				Message:     faultMessages[code],
				Enabled:     true,
				InclusionPropertyFilter: func(obj mo.Reference) bool {
					name := s.vmNameOf(obj)
					return name != "" && take(path, name, method, code)
				},
			})
		}
	}
}

// vmNameOf is the name of the VM a call is made on: the VM itself, or the
// VM a snapshot belongs to (RemoveSnapshot_Task is a snapshot's method).
// Calls our extensions answer reach the filter as the extendedVM wrapper.
func (s *Sim) vmNameOf(obj mo.Reference) string {
	switch o := obj.(type) {
	case *simulator.VirtualMachine:
		return o.Name
	case *extendedVM:
		return o.Name
	case *simulator.VirtualMachineSnapshot:
		if vm, ok := s.model.Map().Get(o.Vm).(*simulator.VirtualMachine); ok {
			return vm.Name
		}
	}
	return ""
}
