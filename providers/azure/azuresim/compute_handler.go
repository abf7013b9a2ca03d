package azuresim

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
)

// isComputePath reports whether segs (the URL path split on "/") address
// Microsoft.Compute: a VM path under a resource group, or an operation
// status under the subscription
// (/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/operations/{id}).
func isComputePath(segs []string) bool {
	if len(segs) < 4 || !eq(segs[0], "subscriptions") {
		return false
	}
	if eq(segs[2], "providers") && eq(segs[3], "Microsoft.Compute") {
		return true
	}
	return len(segs) >= 6 && eq(segs[2], "resourceGroups") && eq(segs[4], "providers") && eq(segs[5], "Microsoft.Compute")
}

// serveCompute serves the Microsoft.Compute paths armcompute's
// VirtualMachinesClient uses for Get ($expand=instanceView), InstanceView,
// NewListPager, BeginPowerOff, BeginDeallocate and BeginStart, plus the
// async-operation URLs it polls. It takes the same locks, throttle and
// state file as the rest of the simulator, and advances the replication
// world first: a failover that finished creates the VM being read.
func (s *Sim) serveCompute(w http.ResponseWriter, r *http.Request, segs []string) *apiError {
	if got := r.URL.Query().Get("api-version"); got != ComputeAPIVersion {
		return errorf(http.StatusBadRequest, "InvalidApiVersionParameter", "The api-version '%s' is invalid. The supported versions are '%s'.", got, ComputeAPIVersion)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, write, unlock, aerr := s.enter(w, r, segs)
	if aerr != nil {
		return aerr
	}
	defer unlock()
	changed := s.w.advance(c.now, s.opts.TimeScale)
	changed = s.w.advanceCompute(c.now) || changed
	var err *apiError
	if eq(segs[2], "providers") {
		err = s.computeOperation(c, segs)
	} else {
		err = s.serveVMs(c, segs[1], segs[3], segs[6:])
	}
	if changed || (write && err == nil) {
		if perr := s.persistLocked(); perr != nil && err == nil {
			return errorf(http.StatusInternalServerError, "InternalServerError", "simulator state: %v", perr)
		}
	}
	return err
}

// resourceGroupKnown: the simulated subscription holds the vault's
// resource group and every resource group an item targets.
func (s *Sim) resourceGroupKnown(sub, rg string) bool {
	if eq(sub, s.w.Seed.SubscriptionID) && eq(rg, s.w.Seed.ResourceGroup) {
		return true
	}
	for _, it := range s.w.Items {
		if isub, irg, ok := splitRG(it.TargetResourceGroupID); ok && eq(isub, sub) && eq(irg, rg) {
			return true
		}
	}
	for _, v := range s.w.compute().VMs {
		if eq(v.Subscription, sub) && eq(v.ResourceGroup, rg) {
			return true
		}
	}
	return false
}

func (s *Sim) serveVMs(c *reqCtx, sub, rg string, rest []string) *apiError {
	if len(rest) == 0 || !eq(rest[0], "virtualMachines") {
		return errorf(http.StatusNotFound, "InvalidResourceType", "The resource type could not be found in the namespace 'Microsoft.Compute' for api version '%s'.", ComputeAPIVersion)
	}
	if !s.resourceGroupKnown(sub, rg) {
		return errorf(http.StatusNotFound, "ResourceGroupNotFound", "Resource group '%s' could not be found.", rg)
	}
	cw := s.w.compute()
	get := c.r.Method == http.MethodGet
	if len(rest) == 1 {
		if !get {
			return methodNotAllowed(c)
		}
		// armcompute's VirtualMachinesClientListOptions: "'instanceView'
		// ... can only be specified if a valid $filter option is
		// specified". The message is a GUESS.
		q := c.r.URL.Query()
		if q.Get("$expand") != "" && q.Get("$filter") == "" {
			return errorf(http.StatusBadRequest, "InvalidParameter", "The $expand parameter '%s' can only be used together with a valid $filter.", q.Get("$expand"))
		}
		var all []any
		for _, v := range sortedVMs(cw, sub, rg) {
			all = append(all, s.renderVM(v, false))
		}
		return s.writePage(c, all)
	}
	name := rest[1]
	v := cw.VMs[vmKey(sub, rg, name)]
	if v == nil {
		// ARM's not-found message, as for the vault above.
		return errorf(http.StatusNotFound, "ResourceNotFound", "The Resource 'Microsoft.Compute/virtualMachines/%s' under resource group '%s' was not found.", name, rg)
	}
	if len(rest) == 2 {
		if !get {
			return methodNotAllowed(c)
		}
		if f := s.fault("getVM", nil, v.Name); f != nil && !f.Async {
			return faultError(f)
		}
		switch exp := c.r.URL.Query().Get("$expand"); {
		case exp == "":
			return writeJSON(c.w, http.StatusOK, s.renderVM(v, false))
		case eq(exp, "instanceView"):
			return writeJSON(c.w, http.StatusOK, s.renderVM(v, true))
		case eq(exp, "userData"), eq(exp, "resiliencyView"):
			return writeJSON(c.w, http.StatusOK, s.renderVM(v, false))
		default:
			return errorf(http.StatusBadRequest, "InvalidParameter", "The value '%s' of $expand is not valid.", exp)
		}
	}
	if len(rest) == 3 && get && eq(rest[2], "instanceView") {
		return writeJSON(c.w, http.StatusOK, s.instanceView(v))
	}
	if len(rest) == 3 && c.r.Method == http.MethodPost {
		return s.vmAction(c, v, rest[2])
	}
	return errorf(http.StatusNotFound, "ResourceNotFound", "The resource '%s' was not found.", c.r.URL.Path)
}

func sortedVMs(cw *computeWorld, sub, rg string) []*azureVM {
	var out []*azureVM
	for _, v := range cw.VMs {
		if eq(v.Subscription, sub) && eq(v.ResourceGroup, rg) {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].key() < out[b].key() })
	return out
}

// vmAction starts powerOff, deallocate or start as an ARM long-running
// operation. The answer follows recorded Microsoft.Compute traffic
// (Azure/azure-xplat-cli test recordings): 202 with an empty body,
// Azure-AsyncOperation .../providers/Microsoft.Compute/locations/{location}/operations/{id}
// and Location the same URL with monitor=true, plus Retry-After.
func (s *Sim) vmAction(c *reqCtx, v *azureVM, name string) *apiError {
	a, ok := computeActions[strings.ToLower(name)]
	if !ok {
		return errorf(http.StatusNotFound, "ResourceNotFound", "The action '%s' is not supported by the simulator.", name)
	}
	cw := s.w.compute()
	if o := cw.runningOp(v); o != nil {
		// GUESS: the code and message of a conflicting VM operation.
		return errorf(http.StatusConflict, "OperationNotAllowed", "Operation '%s' is not allowed on VM '%s' since the VM is already running operation '%s'.", name, v.Name, o.Action)
	}
	f := s.fault(name, nil, v.Name)
	if f != nil && !f.Async {
		return faultError(f)
	}
	cw.Seq++
	o := &computeOp{
		ID: newJobName(1000000+cw.Seq) + "-vm", VM: v.key(), Action: strings.ToLower(name), Prev: v.Power,
		Status: "InProgress", Start: c.now, End: c.now.Add(time.Duration(float64(a.base) * s.opts.TimeScale)),
	}
	if f != nil {
		o.FailCode, o.FailMessage = f.Code, f.Message
		if o.FailCode == "" {
			o.FailCode = "InternalExecutionError"
		}
	}
	cw.Ops[o.ID] = o
	// An action on a VM already in the state it leads to still runs and
	// succeeds (GUESS: Azure accepts a deallocate of a deallocated VM).
	if v.Power != a.after {
		v.setPower(c.now, a.during)
	}
	opURL := c.base + "/subscriptions/" + v.Subscription + "/providers/Microsoft.Compute/locations/" + url.PathEscape(v.Location) + "/operations/" + o.ID
	h := c.w.Header()
	h.Set("Azure-AsyncOperation", opURL+"?"+url.Values{"api-version": {ComputeAPIVersion}}.Encode())
	h.Set("Location", opURL+"?"+url.Values{"api-version": {ComputeAPIVersion}, "monitor": {"true"}}.Encode())
	setRetryAfter(h, s.opts.PollAfter)
	c.w.WriteHeader(http.StatusAccepted)
	return nil
}

// computeOperation answers the async-operation URL: the status body of the
// recordings ({startTime, endTime, status, name}, plus error when failed);
// with monitor=true (the Location URL) 202 while running and 200 with no
// body once done.
func (s *Sim) computeOperation(c *reqCtx, segs []string) *apiError {
	if c.r.Method != http.MethodGet {
		return methodNotAllowed(c)
	}
	if len(segs) != 8 || !eq(segs[4], "locations") || !eq(segs[6], "operations") {
		return errorf(http.StatusNotFound, "InvalidResourceType", "The resource '%s' was not found.", c.r.URL.Path)
	}
	o := s.w.compute().Ops[segs[7]]
	if o == nil {
		return errorf(http.StatusNotFound, "ResourceNotFound", "The operation '%s' was not found.", segs[7])
	}
	if c.r.URL.Query().Get("monitor") == "true" {
		switch o.Status {
		case "InProgress":
			c.w.Header().Set("Location", c.base+c.r.URL.RequestURI())
			setRetryAfter(c.w.Header(), s.opts.PollAfter)
			c.w.WriteHeader(http.StatusAccepted)
			return nil
		case "Failed":
			return &apiError{Status: http.StatusInternalServerError, Code: o.FailCode, Message: o.FailMessage}
		}
		c.w.WriteHeader(http.StatusOK)
		return nil
	}
	body := map[string]any{"name": o.ID, "status": o.Status, "startTime": o.Start.UTC()}
	switch o.Status {
	case "InProgress":
		setRetryAfter(c.w.Header(), s.opts.PollAfter)
	case "Failed":
		body["endTime"] = o.End.UTC()
		body["error"] = map[string]string{"code": o.FailCode, "message": o.FailMessage}
	default:
		body["endTime"] = o.End.UTC()
	}
	return writeJSON(c.w, http.StatusOK, body)
}

func (w *world) vmID(v *azureVM) string {
	return "/subscriptions/" + v.Subscription + "/resourceGroups/" + v.ResourceGroup + "/providers/Microsoft.Compute/virtualMachines/" + v.Name
}

// renderVM builds the VM in armcompute's own model, shaped like
// VirtualMachine_Get.json (name, type, id, location, tags, properties with
// hardwareProfile, provisioningState, timeCreated, vmId) and, with the
// instance view, like VirtualMachine_Get_InstanceView.json's statuses.
func (s *Sim) renderVM(v *azureVM, withInstanceView bool) *armcompute.VirtualMachine {
	created := v.Created.UTC()
	m := &armcompute.VirtualMachine{
		Name: to.Ptr(v.Name), Type: to.Ptr("Microsoft.Compute/virtualMachines"), ID: to.Ptr(s.w.vmID(v)),
		Location: to.Ptr(v.Location),
		Properties: &armcompute.VirtualMachineProperties{
			HardwareProfile:   &armcompute.HardwareProfile{VMSize: to.Ptr(armcompute.VirtualMachineSizeTypes(v.Size))},
			ProvisioningState: to.Ptr(provisioningState(s.w.compute(), v)),
			TimeCreated:       &created,
			VMID:              to.Ptr(v.VMID),
		},
	}
	if len(v.Tags) > 0 {
		m.Tags = map[string]*string{}
		for k, t := range v.Tags {
			m.Tags[k] = to.Ptr(t)
		}
	}
	if withInstanceView {
		m.Properties.InstanceView = s.instanceView(v)
	}
	return m
}

// provisioningState: "Updating" while an action runs (states-billing: a
// deallocate is an update), "Succeeded" otherwise.
func provisioningState(cw *computeWorld, v *azureVM) string {
	if cw.runningOp(v) != nil {
		return "Updating"
	}
	return "Succeeded"
}

// powerDisplay is the displayStatus beside each PowerState code: "VM
// running" is in the SDK example; the others follow its pattern (GUESS).
var powerDisplay = map[string]string{
	PowerStarting: "VM starting", PowerRunning: "VM running", PowerStopping: "VM stopping",
	PowerStopped: "VM stopped", PowerDeallocating: "VM deallocating", PowerDeallocated: "VM deallocated",
}

func (s *Sim) instanceView(v *azureVM) *armcompute.VirtualMachineInstanceView {
	since := v.Created.UTC()
	if n := len(v.History); n > 0 {
		since = v.History[n-1].Time.UTC()
	}
	prov := provisioningState(s.w.compute(), v)
	provStatus := &armcompute.InstanceViewStatus{
		Code: to.Ptr("ProvisioningState/" + strings.ToLower(prov)), DisplayStatus: to.Ptr("Provisioning " + strings.ToLower(prov)),
		Level: to.Ptr(armcompute.StatusLevelTypesInfo), Time: &since,
	}
	if prov == "Updating" {
		provStatus.DisplayStatus = to.Ptr("Updating")
	}
	return &armcompute.VirtualMachineInstanceView{
		ComputerName: to.Ptr(v.Name),
		Statuses: []*armcompute.InstanceViewStatus{
			provStatus,
			{Code: to.Ptr("PowerState/" + v.Power), DisplayStatus: to.Ptr(powerDisplay[v.Power]), Level: to.Ptr(armcompute.StatusLevelTypesInfo)},
		},
	}
}
