package vcenter

import (
	"context"
	"fmt"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// nameEscaper escapes a VM name for CloneVM_Task. The reference page
// (vsphere-CloneVM_Task): "Any % (percent) character used in this name
// parameter must be escaped, unless it is used to start an escape
// sequence. Clients may also escape any other characters". vCenter keeps
// / and \ escaped in inventory names (%2f, %5c), so those are escaped too.
var nameEscaper = strings.NewReplacer("%", "%25", "/", "%2f", `\`, "%5c")

// EscapeName is name as vSphere stores it: a runbook's names are literal,
// so every % is escaped, never read as the start of an escape sequence.
// Compare discovered names with EscapeName of the runbook's.
func EscapeName(name string) string { return nameEscaper.Replace(name) }

// Isolation keeps a clone off the networks its source is on.
type Isolation struct {
	// Network is the isolated network (moref) every adapter is moved to;
	// empty means the adapters are left on their networks but start
	// disconnected, with the guest unable to connect them.
	Network string `json:"network,omitempty"`
	// NetworkType is Network's vSphere type (Network,
	// DistributedVirtualPortgroup, OpaqueNetwork).
	NetworkType string `json:"networkType,omitempty"`
}

// adapterChanges edits every adapter of devices as iso says; a clone spec
// carries them in location.deviceChange, a reconfiguration in its own.
func (c *Client) adapterChanges(ctx context.Context, devices object.VirtualDeviceList, iso Isolation) ([]types.BaseVirtualDeviceConfigSpec, error) {
	var backing types.BaseVirtualDeviceBackingInfo
	if iso.Network != "" {
		ref := object.NewReference(c.vim, types.ManagedObjectReference{Type: iso.NetworkType, Value: iso.Network})
		nr, ok := ref.(object.NetworkReference)
		if !ok {
			return nil, fmt.Errorf("isolated network %s is a %s, not a network", iso.Network, iso.NetworkType)
		}
		var err error
		if backing, err = nr.EthernetCardBackingInfo(ctx); err != nil {
			return nil, fmt.Errorf("isolated network %s: %w", iso.Network, err)
		}
	}
	var out []types.BaseVirtualDeviceConfigSpec
	for _, d := range devices.SelectByType((*types.VirtualEthernetCard)(nil)) {
		card := d.(types.BaseVirtualEthernetCard).GetVirtualEthernetCard()
		if backing != nil {
			card.Backing = backing
			card.Connectable = &types.VirtualDeviceConnectInfo{StartConnected: true, AllowGuestControl: true}
		} else {
			card.Connectable = &types.VirtualDeviceConnectInfo{StartConnected: false, Connected: false, AllowGuestControl: false}
		}
		out = append(out, &types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationEdit, Device: d})
	}
	return out, nil
}

// adapterNetwork is the network (moref or opaque ID) an adapter's backing
// names.
func adapterNetwork(card *types.VirtualEthernetCard) string {
	switch b := card.Backing.(type) {
	case *types.VirtualEthernetCardNetworkBackingInfo:
		if b.Network != nil {
			return b.Network.Value
		}
	case *types.VirtualEthernetCardDistributedVirtualPortBackingInfo:
		return b.Port.PortgroupKey
	case *types.VirtualEthernetCardOpaqueNetworkBackingInfo:
		return b.OpaqueNetworkId
	}
	return ""
}

// IsolationError says which adapter of a clone could reach a network it
// must not.
type IsolationError struct {
	Clone   string
	Adapter string
	Network string
}

func (e *IsolationError) Error() string {
	return fmt.Sprintf("clone %s: %s is on network %s and connects at power-on; the clone is left powered off", e.Clone, e.Adapter, e.Network)
}

// checkIsolated reads the clone's adapters back: each must be on the
// isolated network, or neither connected nor connecting at power-on.
func (c *Client) checkIsolated(ctx context.Context, clone VMRef, iso Isolation) error {
	m, err := c.readVM(ctx, clone, OpClone, "config.hardware.device")
	if err != nil {
		return err
	}
	if m.Config == nil {
		return fmt.Errorf("clone %s: no configuration to read its adapters from", clone)
	}
	for _, d := range object.VirtualDeviceList(m.Config.Hardware.Device).SelectByType((*types.VirtualEthernetCard)(nil)) {
		card := d.(types.BaseVirtualEthernetCard).GetVirtualEthernetCard()
		net := adapterNetwork(card)
		if iso.Network != "" && net == iso.Network {
			continue
		}
		if conn := card.Connectable; conn != nil && !conn.StartConnected && !conn.Connected {
			continue
		}
		label := fmt.Sprintf("adapter %d", card.Key)
		if card.DeviceInfo != nil && card.DeviceInfo.GetDescription().Label != "" {
			label = card.DeviceInfo.GetDescription().Label
		}
		return &IsolationError{Clone: clone.String(), Adapter: label, Network: net}
	}
	return nil
}

// Isolate moves a clone's adapters as iso says (a clone left connected by
// an earlier attempt), reads them back, and powers the clone on when asked
// only once they are isolated.
func (c *Client) Isolate(ctx context.Context, clone VMRef, iso Isolation, powerOn bool, w Watch) error {
	if err := c.checkIsolated(ctx, clone, iso); err != nil {
		m, rerr := c.readVM(ctx, clone, OpClone, "config.hardware.device", "runtime.powerState")
		if rerr != nil {
			return rerr
		}
		if m.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff {
			// A running clone on a production network: stop it first.
			if _, err := c.PowerOff(ctx, clone, Watch{Started: w.Started, Progress: w.Progress}); err != nil {
				return err
			}
		}
		changes, cerr := c.adapterChanges(ctx, object.VirtualDeviceList(m.Config.Hardware.Device), iso)
		if cerr != nil {
			return &OpError{VM: clone.String(), Op: OpClone, Err: cerr}
		}
		_, rerr = c.run(ctx, clone, OpClone, Watch{Started: w.Started, Progress: w.Progress}, func() (types.ManagedObjectReference, error) {
			r, err := methods.ReconfigVM_Task(ctx, c.vim, &types.ReconfigVM_Task{This: vmRef(clone.MoRef), Spec: types.VirtualMachineConfigSpec{DeviceChange: changes}})
			if err != nil {
				return types.ManagedObjectReference{}, err
			}
			return r.Returnval, nil
		})
		if rerr != nil {
			return rerr
		}
		if err := c.checkIsolated(ctx, clone, iso); err != nil {
			return &OpError{VM: clone.String(), Op: OpClone, Fault: "NotIsolated", Err: err}
		}
	}
	if !powerOn {
		return nil
	}
	_, err := c.PowerOn(ctx, clone, Watch{Started: w.Started, Progress: w.Progress})
	return err
}
