package azuresim

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// ComputeAPIVersion is the Microsoft.Compute api-version the generated
// armcompute v7.3.0 client sends (virtualmachines_client.go: "2025-04-01").
const ComputeAPIVersion = "2025-04-01"

// Power states of a simulated Azure VM: the part after "PowerState/" in the
// instance view. Source: "States and billing status of Azure Virtual
// Machines" (learn.microsoft.com/azure/virtual-machines/states-billing) and
// armcompute v7.3.0's VirtualMachine_Get_InstanceView.json example
// ("PowerState/running", "VM running").
const (
	PowerStarting     = "starting"
	PowerRunning      = "running"
	PowerStopping     = "stopping"
	PowerStopped      = "stopped"
	PowerDeallocating = "deallocating"
	PowerDeallocated  = "deallocated"
)

// computeActions are the VM actions served, each with the power state it
// passes through, the one it ends in, and its length at TimeScale 1. The
// transitional states come from the states-billing page; the lengths are a
// GUESS sized for demos like the ASR jobs (real ones take tens of seconds
// to a few minutes).
var computeActions = map[string]struct {
	during, after string
	base          time.Duration
}{
	"poweroff":   {PowerStopping, PowerStopped, 3 * time.Second},
	"deallocate": {PowerDeallocating, PowerDeallocated, 5 * time.Second},
	"start":      {PowerStarting, PowerRunning, 4 * time.Second},
}

// computeWorld is the Microsoft.Compute part of the world: the VMs that
// failovers created and the operations running on them.
type computeWorld struct {
	VMs map[string]*azureVM   `json:"vms"`
	Ops map[string]*computeOp `json:"operations"`
	Seq int                   `json:"seq"`
}

// azureVM is one simulated Azure VM.
type azureVM struct {
	Subscription  string            `json:"subscription"`
	ResourceGroup string            `json:"resourceGroup"`
	Name          string            `json:"name"`
	VMID          string            `json:"vmId"`
	Location      string            `json:"location"`
	Size          string            `json:"size"`
	Power         string            `json:"power"`
	Created       time.Time         `json:"created"`
	Item          string            `json:"item"`
	Test          bool              `json:"test,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
	// History records every power state with the time it was entered,
	// so tests can order what happened in Azure against other events.
	History []PowerChange `json:"history"`
}

// PowerChange is one entry of a simulated VM's power history.
type PowerChange struct {
	// Time is the simulated clock's (Options.Now), which tests may skew.
	Time  time.Time `json:"time"`
	State string    `json:"state"`
	// Wall is the real time the simulator made the change, to order it
	// against other processes' records (a journal, a request log).
	Wall time.Time `json:"wall"`
}

// computeOp is one running or finished VM action.
type computeOp struct {
	ID          string    `json:"id"`
	VM          string    `json:"vm"`
	Action      string    `json:"action"`
	Prev        string    `json:"prev"`
	Status      string    `json:"status"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	FailCode    string    `json:"failCode,omitempty"`
	FailMessage string    `json:"failMessage,omitempty"`
}

func vmKey(sub, rg, name string) string {
	return strings.ToLower(sub + "/" + rg + "/" + name)
}

func (v *azureVM) key() string { return vmKey(v.Subscription, v.ResourceGroup, v.Name) }

func (v *azureVM) setPower(now time.Time, state string) {
	v.Power = state
	v.History = append(v.History, PowerChange{Time: now, State: state, Wall: time.Now().UTC()})
}

func (w *world) compute() *computeWorld {
	if w.Compute == nil {
		w.Compute = &computeWorld{}
	}
	if w.Compute.VMs == nil {
		w.Compute.VMs = map[string]*azureVM{}
	}
	if w.Compute.Ops == nil {
		w.Compute.Ops = map[string]*computeOp{}
	}
	return w.Compute
}

// splitRG returns subscription and resource group of a resource group ID.
func splitRG(id string) (sub, rg string, ok bool) {
	segs := strings.Split(strings.Trim(id, "/"), "/")
	if len(segs) < 4 || !eq(segs[0], "subscriptions") || !eq(segs[2], "resourceGroups") {
		return "", "", false
	}
	return segs[1], segs[3], true
}

// vmsAfterJob is the one hook from the replication lifecycle into the
// compute world: what a finished ASR job did to Azure VMs.
//   - unplanned failover: the target VM (targetVmName in the item's
//     targetResourceGroupId) exists and runs. Source: ASR's failover
//     creates the Azure VM from the item's target settings (REST reference
//     asr-inmagercm-rest-migration.txt); that it runs afterwards is what
//     Azure Migrate shows after a migration.
//   - test failover: a "<targetVmName>-test" VM runs in the same resource
//     group (GUESS: the name follows Azure Migrate's documentation of test
//     migration; the resource group is a GUESS).
//   - test failover cleanup: that test VM is deleted (the cleanup's purpose
//     in the REST reference).
//   - cancel failover: the failed-over VM is deleted (GUESS: no source
//     shows what ASR leaves behind when it cancels an InMageRcm failover).
func (w *world) vmsAfterJob(j *job, it *item) {
	// A test failover's job ends Suspended, waiting for the cleanup, once
	// its VM is up (see finish).
	if it == nil || j.State != "Succeeded" && j.State != JobSuspended {
		return
	}
	sub, rg, ok := splitRG(it.TargetResourceGroupID)
	if !ok {
		return
	}
	switch j.Scenario {
	case ScenarioUnplannedFailover:
		w.createVM(j.End, sub, rg, it.TargetVMName, it, false)
	case ScenarioTestFailover:
		w.createVM(j.End, sub, rg, it.TargetVMName+"-test", it, true)
	case ScenarioTestCleanup:
		delete(w.compute().VMs, vmKey(sub, rg, it.TargetVMName+"-test"))
	case ScenarioCancelFailover:
		delete(w.compute().VMs, vmKey(sub, rg, it.TargetVMName))
	}
}

func (w *world) createVM(now time.Time, sub, rg, name string, it *item, test bool) {
	cw := w.compute()
	cw.Seq++
	size := it.TargetVMSize
	if size == "" {
		size = "Standard_D2s_v3" // GUESS: ASR picks a size from the source when none is set
	}
	v := &azureVM{
		Subscription: sub, ResourceGroup: rg, Name: name, Location: w.Seed.Location, Size: size,
		VMID:    fmt.Sprintf("%08x-7a1e-4c0d-9000-%012d", uint32(cw.Seq)*2654435761, cw.Seq),
		Created: now, Item: it.key(), Test: test, Tags: copyTags(it.Tags),
	}
	v.setPower(now, PowerRunning)
	cw.VMs[v.key()] = v
}

func copyTags(in map[string]string) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// advanceCompute finishes every VM action whose time has come. It reports
// whether anything changed.
func (w *world) advanceCompute(now time.Time) bool {
	if w.Compute == nil {
		return false
	}
	var due []*computeOp
	for _, o := range w.Compute.Ops {
		if o.Status == "InProgress" && !now.Before(o.End) {
			due = append(due, o)
		}
	}
	sort.Slice(due, func(a, b int) bool { return due[a].End.Before(due[b].End) })
	for _, o := range due {
		v := w.Compute.VMs[o.VM]
		if o.FailCode != "" {
			o.Status = "Failed"
			if v != nil {
				v.setPower(o.End, o.Prev)
			}
			continue
		}
		o.Status = "Succeeded"
		if v != nil {
			v.setPower(o.End, computeActions[o.Action].after)
		}
	}
	return len(due) > 0
}

// runningOp returns the VM action in progress on v, if any.
func (cw *computeWorld) runningOp(v *azureVM) *computeOp {
	for _, o := range cw.Ops {
		if o.VM == v.key() && o.Status == "InProgress" {
			return o
		}
	}
	return nil
}

// findVM returns the VMs named name in any resource group.
func (w *world) findVMs(name string) []*azureVM {
	if w.Compute == nil {
		return nil
	}
	var out []*azureVM
	for _, v := range w.Compute.VMs {
		if eq(v.Name, name) {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].key() < out[b].key() })
	return out
}

// AzureVM reports a simulated Azure VM by name (any resource group), for
// tests that check the world independently of the client.
func (s *Sim) AzureVM(name string) (power, vmID string, ok bool) {
	var found *azureVM
	s.inspect(func(w *world) bool {
		if vs := w.findVMs(name); len(vs) > 0 {
			found = vs[0]
			power, vmID = found.Power, found.VMID
		}
		return false
	})
	return power, vmID, found != nil
}

// AzureVMHistory returns the power states a simulated VM went through,
// with the time each began (nil when no such VM exists).
func (s *Sim) AzureVMHistory(name string) []PowerChange {
	var out []PowerChange
	s.inspect(func(w *world) bool {
		if vs := w.findVMs(name); len(vs) > 0 {
			out = append(out, vs[0].History...)
		}
		return false
	})
	return out
}

// SetAzureVMPower sets a simulated VM's power state as if someone had
// acted on it outside cutover (the portal, another tool).
func (s *Sim) SetAzureVMPower(name, state string) error {
	err := fmt.Errorf("azuresim: no Azure VM %q", name)
	if ierr := s.inspect(func(w *world) bool {
		vs := w.findVMs(name)
		if len(vs) == 0 {
			return false
		}
		vs[0].setPower(s.opts.Now(), state)
		err = nil
		return true
	}); ierr != nil {
		return ierr
	}
	return err
}

// inspect runs f on the current world, advanced to now, under the locks,
// and saves the world when f (or the advance) changed it.
func (s *Sim) inspect(f func(*world) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := s.lockFile()
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.syncLocked(); err != nil {
		return err
	}
	now := s.opts.Now()
	changed := s.w.advance(now, s.opts.TimeScale)
	changed = s.w.advanceCompute(now) || changed
	if f(s.w) || changed {
		return s.persistLocked()
	}
	return nil
}
