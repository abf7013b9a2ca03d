package vcenter

import (
	"context"
	"fmt"

	"github.com/vmware/govmomi/object"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// CloneSpec says what a clone looks like.
type CloneSpec struct {
	Name string `json:"name"`
	// Placement of the clone; empty fields take the source's.
	Placement Placement `json:"placement"`
	PowerOn   bool      `json:"powerOn,omitempty"`
	Template  bool      `json:"template,omitempty"`
	// CustomizationSpecName names a spec stored in vCenter; Customization
	// builds one. At most one of them.
	CustomizationSpecName string         `json:"customizationSpecName,omitempty"`
	Customization         *Customization `json:"customization,omitempty"`
	// Isolation, when set, keeps the clone off its source's networks: the
	// clone is created powered off with its adapters moved or
	// disconnected, read back, and only then powered on (PowerOn).
	Isolation *Isolation `json:"isolation,omitempty"`
}

// Clone clones vm with CloneVM_Task and returns the clone in the Undo, so
// the inverse destroys it.
func (c *Client) Clone(ctx context.Context, vm VMRef, cs CloneSpec, w Watch) (Undo, error) {
	undo := Undo{Op: OpClone, VM: vm}
	if cs.Name == "" {
		return undo, &OpError{VM: vm.String(), Op: OpClone, Err: fmt.Errorf("clone needs a name")}
	}
	custom, err := c.customizationSpec(ctx, cs.CustomizationSpecName, cs.Customization)
	if err != nil {
		return undo, &OpError{VM: vm.String(), Op: OpClone, Err: err, Fault: faultName(err)}
	}
	m, err := c.readVM(ctx, vm, OpClone, "name", "parent", "config.hardware.device")
	if err != nil {
		return undo, err
	}
	name := EscapeName(cs.Name)
	var adapters []types.BaseVirtualDeviceConfigSpec
	if cs.Isolation != nil && m.Config != nil {
		if adapters, err = c.adapterChanges(ctx, object.VirtualDeviceList(m.Config.Hardware.Device), *cs.Isolation); err != nil {
			return undo, &OpError{VM: vm.String(), Op: OpClone, Err: err}
		}
	}
	if vm.Name == "" {
		vm.Name = m.Name
		undo.VM = vm
	}
	folder := cs.Placement.Folder
	if folder == "" && m.Parent != nil {
		folder = m.Parent.Value
	}
	w.before(undo)
	// If a start call's answer is lost, a VM of the clone's name in the
	// target folder that was not there before is the clone.
	find := func() (string, error) {
		ref, err := object.NewSearchIndex(c.vim).FindChild(ctx, object.NewFolder(c.vim, types.ManagedObjectReference{Type: "Folder", Value: folder}), name)
		if err != nil || ref == nil {
			return "", err
		}
		return ref.Reference().Value, nil
	}
	existing, err := find()
	if err != nil {
		return undo, classify(vm.String(), OpClone, err)
	}
	if existing != "" {
		return undo, &OpError{VM: vm.String(), Op: OpClone, Fault: "DuplicateName",
			Err: fmt.Errorf("a VM named %q already exists in the target folder (%s)", cs.Name, existing)}
	}
	var adopted string
	settled := func() (bool, error) {
		ref, err := find()
		adopted = ref
		return ref != "", err
	}
	res, err := c.runUntil(ctx, vm, OpClone, w, settled, func() (types.ManagedObjectReference, error) {
		r, err := methods.CloneVM_Task(ctx, c.vim, &types.CloneVM_Task{
			This: vmRef(vm.MoRef), Folder: types.ManagedObjectReference{Type: "Folder", Value: folder}, Name: name,
			Spec: types.VirtualMachineCloneSpec{
				Location: types.VirtualMachineRelocateSpec{
					Host:         ref("HostSystem", cs.Placement.Host),
					Pool:         ref("ResourcePool", cs.Placement.Pool),
					Datastore:    ref("Datastore", cs.Placement.Datastore),
					DeviceChange: adapters,
				},
				PowerOn: cs.PowerOn && cs.Isolation == nil, Template: cs.Template, Customization: custom,
			},
		})
		if err != nil {
			return types.ManagedObjectReference{}, err
		}
		return r.Returnval, nil
	})
	if err != nil {
		return undo, err
	}
	if adopted != "" {
		undo.Clone = &VMRef{MoRef: adopted, Name: name}
	} else {
		clone, ok := res.(types.ManagedObjectReference)
		if !ok {
			return undo, fmt.Errorf("vcenter: clone VM %s: task returned %T, not a VM", vm, res)
		}
		undo.Clone = &VMRef{MoRef: clone.Value, Name: name}
	}
	if cs.Isolation != nil && !cs.Template {
		// The clone exists (its undo destroys it) whatever happens next.
		if err := c.Isolate(ctx, *undo.Clone, *cs.Isolation, cs.PowerOn, w); err != nil {
			return undo, err
		}
	}
	return undo, nil
}

// Destroy deletes vm and its files, powering it off first. A VM that no
// longer exists counts as destroyed, so a repeated rollback is harmless.
func (c *Client) Destroy(ctx context.Context, vm VMRef, w Watch) error {
	m, err := c.readVM(ctx, vm, OpDestroy, "runtime.powerState")
	if err != nil {
		if IsFault(err, &types.ManagedObjectNotFound{}) {
			return nil
		}
		return err
	}
	if m.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
		if _, err := c.PowerOff(ctx, vm, Watch{Started: w.Started, Progress: w.Progress}); err != nil {
			return err
		}
	}
	settled := func() (bool, error) {
		_, err := c.readVM(ctx, vm, OpDestroy, "name")
		if IsFault(err, &types.ManagedObjectNotFound{}) {
			return true, nil
		}
		return false, err
	}
	_, err = c.runUntil(ctx, vm, OpDestroy, w, settled, func() (types.ManagedObjectReference, error) {
		r, err := methods.Destroy_Task(ctx, c.vim, &types.Destroy_Task{This: vmRef(vm.MoRef)})
		if err != nil {
			return types.ManagedObjectReference{}, err
		}
		return r.Returnval, nil
	})
	return err
}
