package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
)

// Operations on the Azure VM a failover created (Microsoft.Compute). They
// share the Operation type with the ASR operations so that progress and
// journals name them the same way.
const (
	OpVMPowerOff   Operation = "PowerOffAzureVM"
	OpVMDeallocate Operation = "DeallocateAzureVM"
	OpVMStart      Operation = "StartAzureVM"
)

// Power states of an Azure VM: the part after "PowerState/" in the instance
// view's status codes. Source: "States and billing status of Azure Virtual
// Machines" (learn.microsoft.com/azure/virtual-machines/states-billing),
// and the instance view example of armcompute v7.3.0
// (virtualmachines_client_example_test.go, VirtualMachine_Get_InstanceView.json:
// "PowerState/running").
const (
	PowerStarting     = "starting"
	PowerRunning      = "running"
	PowerStopping     = "stopping"
	PowerStopped      = "stopped"
	PowerDeallocating = "deallocating"
	PowerDeallocated  = "deallocated"
)

// AzureVM is a virtual machine in Azure as Microsoft.Compute reports it: the
// VM a failover or a test failover created. The zero Exists means the
// service answered that no such VM exists (a read that failed is an error,
// never an absent VM).
type AzureVM struct {
	Exists          bool   `json:"exists"`
	Name            string `json:"name"`
	ResourceGroupID string `json:"resourceGroupId"`
	ID              string `json:"id,omitempty"`
	// VMID is the platform's unique ID of this incarnation of the VM
	// (properties.vmId): a VM deleted and created again under the same
	// name gets a new one.
	VMID     string `json:"vmId,omitempty"`
	Location string `json:"location,omitempty"`
	Size     string `json:"size,omitempty"`
	// PowerState is "running", "deallocated", ... from the instance view;
	// empty when the read carried no instance view (a list).
	PowerState        string            `json:"powerState,omitempty"`
	ProvisioningState string            `json:"provisioningState,omitempty"`
	TimeCreated       time.Time         `json:"timeCreated,omitzero"`
	Tags              map[string]string `json:"tags,omitempty"`
}

// Off reports whether the VM cannot be running: it does not exist, or its
// instance view says stopped or deallocated. An unknown power state is not
// off: the gate that keeps two copies from running must see it.
func (v AzureVM) Off() bool {
	return !v.Exists || v.PowerState == PowerStopped || v.PowerState == PowerDeallocated
}

// State is a short human description: "absent", "running", "deallocated",
// or "unknown power state".
func (v AzureVM) State() string {
	switch {
	case !v.Exists:
		return "absent"
	case v.PowerState == "":
		return "unknown power state"
	}
	return v.PowerState
}

// TestVMName is the name of the VM a test failover creates for an item
// whose target VM is name. GUESS: Azure Migrate's documentation describes
// the test VM as the target name with a "-test" suffix; no REST example
// shows it. Callers that know better may read any name with GetAzureVM.
func TestVMName(name string) string { return name + "-test" }

// VMHandle is everything needed to re-attach to a started VM operation
// from another process (the azcore resume token holds the async-operation
// and Location URLs, never credentials). Journal it before waiting.
type VMHandle struct {
	Operation Operation `json:"operation"`
	// VM is the cutover VM the Azure VM belongs to (for messages).
	VM              string    `json:"vm"`
	ResourceGroupID string    `json:"resourceGroupId"`
	Name            string    `json:"name"`
	ResumeToken     string    `json:"resumeToken,omitempty"`
	StartedAt       time.Time `json:"startedAt"`
	PollNotBefore   time.Time `json:"pollNotBefore,omitzero"`
}

// computeClients caches one generated VM client per subscription: the
// target resource group of a VM may live in another subscription than the
// vault.
type computeClients struct {
	mu  sync.Mutex
	all map[string]*armcompute.VirtualMachinesClient
}

func (c *Client) vmClient(sub string) (*armcompute.VirtualMachinesClient, error) {
	c.vms.mu.Lock()
	defer c.vms.mu.Unlock()
	key := strings.ToLower(sub)
	if cl := c.vms.all[key]; cl != nil {
		return cl, nil
	}
	cl, err := armcompute.NewVirtualMachinesClient(sub, c.cred, c.armOpts)
	if err != nil {
		return nil, fmt.Errorf("azure %q: compute client: %w", c.cfg.Name, err)
	}
	if c.vms.all == nil {
		c.vms.all = map[string]*armcompute.VirtualMachinesClient{}
	}
	c.vms.all[key] = cl
	return cl, nil
}

// splitResourceGroupID returns the subscription and resource group of
// "/subscriptions/{sub}/resourceGroups/{rg}".
func splitResourceGroupID(id string) (sub, rg string, ok bool) {
	segs := strings.Split(strings.Trim(id, "/"), "/")
	if len(segs) != 4 || !strings.EqualFold(segs[0], "subscriptions") || !strings.EqualFold(segs[2], "resourceGroups") || segs[1] == "" || segs[3] == "" {
		return "", "", false
	}
	return segs[1], segs[3], true
}

func (c *Client) vmTarget(vm, op, rgID, name string) (*armcompute.VirtualMachinesClient, string, error) {
	sub, rg, ok := splitResourceGroupID(rgID)
	if !ok || name == "" {
		return nil, "", &Error{VM: vm, Operation: op, Kind: KindInvalidParameter,
			Message: fmt.Sprintf("refused before sending: need a target resource group ID (/subscriptions/…/resourceGroups/…) and a VM name, got %q and %q", rgID, name)}
	}
	cl, err := c.vmClient(sub)
	return cl, rg, err
}

// GetAzureVM reads one VM with its instance view (GET with
// $expand=instanceView). A VM the service does not know comes back with
// Exists false and no error.
func (c *Client) GetAzureVM(ctx context.Context, resourceGroupID, name string) (AzureVM, error) {
	const op = "read Azure VM"
	cl, rg, err := c.vmTarget(name, op, resourceGroupID, name)
	if err != nil {
		return AzureVM{}, err
	}
	resp, err := cl.Get(ctx, rg, name, &armcompute.VirtualMachinesClientGetOptions{Expand: to.Ptr(armcompute.InstanceViewTypesInstanceView)})
	if err != nil {
		var re *azcore.ResponseError
		if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
			// ResourceNotFound (the VM) and ResourceGroupNotFound both
			// mean there is no VM; the gate treats both as absent.
			return AzureVM{Name: name, ResourceGroupID: resourceGroupID}, nil
		}
		return AzureVM{}, classify(name, op, err)
	}
	return azureVMFrom(&resp.VirtualMachine, resourceGroupID), nil
}

// ListAzureVMs lists the VMs of a resource group, all pages. The list
// carries no instance view (the API takes $expand=instanceView only with a
// $filter, per the SDK's VirtualMachinesClientListOptions), so PowerState
// is empty: read a VM with GetAzureVM for its power state.
func (c *Client) ListAzureVMs(ctx context.Context, resourceGroupID string) ([]AzureVM, error) {
	const op = "list Azure VMs"
	cl, rg, err := c.vmTarget("", op, resourceGroupID, "(list)")
	if err != nil {
		return nil, err
	}
	var out []AzureVM
	pager := cl.NewListPager(rg, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, classify("", op+" in "+rg, err)
		}
		for _, v := range page.Value {
			if v != nil {
				out = append(out, azureVMFrom(v, resourceGroupID))
			}
		}
	}
	sort.Slice(out, func(a, b int) bool { return strings.ToLower(out[a].Name) < strings.ToLower(out[b].Name) })
	return out, nil
}

func azureVMFrom(m *armcompute.VirtualMachine, rgID string) AzureVM {
	v := AzureVM{Exists: true, Name: str(m.Name), ID: str(m.ID), Location: str(m.Location), ResourceGroupID: rgID}
	if len(m.Tags) > 0 {
		v.Tags = map[string]string{}
		for k, t := range m.Tags {
			v.Tags[k] = str(t)
		}
	}
	p := m.Properties
	if p == nil {
		return v
	}
	v.VMID = str(p.VMID)
	v.ProvisioningState = str(p.ProvisioningState)
	v.TimeCreated = utc(p.TimeCreated)
	if p.HardwareProfile != nil {
		v.Size = enumStr(p.HardwareProfile.VMSize)
	}
	if p.InstanceView != nil {
		v.PowerState = powerState(p.InstanceView.Statuses)
	}
	return v
}

// powerState picks the "PowerState/<state>" status of an instance view.
func powerState(statuses []*armcompute.InstanceViewStatus) string {
	for _, s := range statuses {
		if s == nil {
			continue
		}
		if code, ok := strings.CutPrefix(str(s.Code), "PowerState/"); ok {
			return strings.ToLower(code)
		}
	}
	return ""
}

// PowerOffAzureVM stops the VM (POST .../powerOff): the guest is shut down
// but the VM keeps its host and keeps being billed for compute.
func (c *Client) PowerOffAzureVM(ctx context.Context, vm, resourceGroupID, name string) (VMHandle, error) {
	return startVM(ctx, c, OpVMPowerOff, vm, resourceGroupID, name, func(ctx context.Context, cl *armcompute.VirtualMachinesClient, rg string) (*runtime.Poller[armcompute.VirtualMachinesClientPowerOffResponse], error) {
		return cl.BeginPowerOff(ctx, rg, name, nil)
	})
}

// DeallocateAzureVM stops the VM and releases its host (POST
// .../deallocate): no compute charge, and nothing of it runs.
func (c *Client) DeallocateAzureVM(ctx context.Context, vm, resourceGroupID, name string) (VMHandle, error) {
	return startVM(ctx, c, OpVMDeallocate, vm, resourceGroupID, name, func(ctx context.Context, cl *armcompute.VirtualMachinesClient, rg string) (*runtime.Poller[armcompute.VirtualMachinesClientDeallocateResponse], error) {
		return cl.BeginDeallocate(ctx, rg, name, nil)
	})
}

// StartAzureVM starts the VM (POST .../start).
func (c *Client) StartAzureVM(ctx context.Context, vm, resourceGroupID, name string) (VMHandle, error) {
	return startVM(ctx, c, OpVMStart, vm, resourceGroupID, name, func(ctx context.Context, cl *armcompute.VirtualMachinesClient, rg string) (*runtime.Poller[armcompute.VirtualMachinesClientStartResponse], error) {
		return cl.BeginStart(ctx, rg, name, nil)
	})
}

func startVM[T any](ctx context.Context, c *Client, op Operation, vm, rgID, name string, begin func(context.Context, *armcompute.VirtualMachinesClient, string) (*runtime.Poller[T], error)) (VMHandle, error) {
	if vm == "" {
		vm = name
	}
	cl, rg, err := c.vmTarget(vm, string(op), rgID, name)
	if err != nil {
		return VMHandle{}, err
	}
	h := VMHandle{Operation: op, VM: vm, ResourceGroupID: rgID, Name: name, StartedAt: time.Now().UTC()}
	var raw *http.Response
	// An action POST whose answer was lost may have been accepted: retry
	// only throttling, as for the ASR actions (sendCtx).
	p, err := begin(runtime.WithCaptureResponse(c.sendCtx(ctx, op), &raw), cl, rg)
	if err != nil {
		return h, classify(vm, vmOp(op, vm, name), err)
	}
	if !p.Done() {
		tok, err := p.ResumeToken()
		if err != nil {
			return h, classify(vm, string(op), err)
		}
		h.ResumeToken = tok
		if d := retryAfter(raw, 0); d > 0 {
			h.PollNotBefore = time.Now().Add(d)
		}
	}
	return h, nil
}

// WaitAzureVM re-attaches to the operation behind h (in this process or
// another), polls it to the end honouring Retry-After, then reads the VM
// with its instance view: the operation's success is not taken as the
// VM's state.
func (c *Client) WaitAzureVM(ctx context.Context, h VMHandle, progress ProgressFunc) (AzureVM, error) {
	if h.ResumeToken != "" {
		cl, _, err := c.vmTarget(h.VM, string(h.Operation), h.ResourceGroupID, h.Name)
		if err != nil {
			return AzureVM{}, err
		}
		tok := rebaseToken(h.ResumeToken, c.endpoint)
		switch h.Operation {
		case OpVMPowerOff:
			err = pollVM(ctx, c, h, progress, func() (*runtime.Poller[armcompute.VirtualMachinesClientPowerOffResponse], error) {
				return cl.BeginPowerOff(ctx, "", "", &armcompute.VirtualMachinesClientBeginPowerOffOptions{ResumeToken: tok})
			})
		case OpVMDeallocate:
			err = pollVM(ctx, c, h, progress, func() (*runtime.Poller[armcompute.VirtualMachinesClientDeallocateResponse], error) {
				return cl.BeginDeallocate(ctx, "", "", &armcompute.VirtualMachinesClientBeginDeallocateOptions{ResumeToken: tok})
			})
		case OpVMStart:
			err = pollVM(ctx, c, h, progress, func() (*runtime.Poller[armcompute.VirtualMachinesClientStartResponse], error) {
				return cl.BeginStart(ctx, "", "", &armcompute.VirtualMachinesClientBeginStartOptions{ResumeToken: tok})
			})
		default:
			return AzureVM{}, &Error{VM: h.VM, Operation: string(h.Operation), Kind: KindInvalidParameter, Message: fmt.Sprintf("unknown Azure VM operation %q in handle", h.Operation)}
		}
		if err != nil {
			return AzureVM{}, err
		}
	}
	return c.GetAzureVM(ctx, h.ResourceGroupID, h.Name)
}

func pollVM[T any](ctx context.Context, c *Client, h VMHandle, progress ProgressFunc, rehydrate func() (*runtime.Poller[T], error)) error {
	p, err := rehydrate()
	if err != nil {
		return classify(h.VM, string(h.Operation), fmt.Errorf("resuming from handle: %w", err))
	}
	began := time.Now()
	report := func(status string, done bool) {
		if progress != nil {
			progress(Progress{Operation: h.Operation, VM: h.VM, Status: status, Elapsed: time.Since(began), Done: done})
		}
	}
	if d := time.Until(h.PollNotBefore); d > 0 {
		if err := sleep(ctx, d); err != nil {
			return classify(h.VM, string(h.Operation), err)
		}
	}
	for !p.Done() {
		resp, err := p.Poll(ctx)
		if err != nil {
			return classify(h.VM, string(h.Operation), err)
		}
		report(lroStatus(resp), false)
		if p.Done() {
			break
		}
		if err := sleep(ctx, retryAfter(resp, c.poll)); err != nil {
			return classify(h.VM, string(h.Operation), err)
		}
	}
	if _, err := p.Result(ctx); err != nil {
		report("Failed", true)
		return classify(h.VM, vmOp(h.Operation, h.VM, h.Name), err)
	}
	report("Succeeded", true)
	return nil
}

// vmOp names the operation for errors, with the Azure VM's name when it
// differs from the cutover VM's.
func vmOp(op Operation, vm, name string) string {
	if strings.EqualFold(vm, name) {
		return string(op)
	}
	return string(op) + " " + name
}

// FailedOverVM reads the VM an unplanned failover of item creates (or
// created): the item's target VM name in its target resource group.
func (c *Client) FailedOverVM(ctx context.Context, item *ProtectedItem) (AzureVM, error) {
	if item == nil {
		return AzureVM{}, &Error{Operation: "read Azure VM", Kind: KindInvalidParameter, Message: "no protected item given"}
	}
	return c.GetAzureVM(ctx, item.Target.ResourceGroupID, item.Target.VMName)
}

// TestFailoverVM reads the VM a test failover of item creates (see
// TestVMName for the naming, a GUESS).
func (c *Client) TestFailoverVM(ctx context.Context, item *ProtectedItem) (AzureVM, error) {
	if item == nil {
		return AzureVM{}, &Error{Operation: "read Azure VM", Kind: KindInvalidParameter, Message: "no protected item given"}
	}
	return c.GetAzureVM(ctx, item.Target.ResourceGroupID, TestVMName(item.Target.VMName))
}
