package azure

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	asr "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/recoveryservices/armrecoveryservicessiterecovery/v2"
)

// Operation names a long-running ASR operation.
type Operation string

// Operations this package starts.
const (
	OpEnable              Operation = "EnableReplication"
	OpUpdate              Operation = "UpdateReplication"
	OpTestFailover        Operation = "TestFailover"
	OpTestFailoverCleanup Operation = "TestFailoverCleanup"
	OpUnplannedFailover   Operation = "UnplannedFailover"
	OpFailoverCancel      Operation = "FailoverCancel"
	OpFailoverCommit      Operation = "FailoverCommit"
	OpDisable             Operation = "DisableReplication"
	OpPurge               Operation = "PurgeReplication"
)

// gates maps each operation to the allowedOperations entry that must be
// present before it is sent.
var gates = map[Operation]string{
	OpTestFailover:        string(asr.ReplicationProtectedItemOperationTestFailover),
	OpTestFailoverCleanup: string(asr.ReplicationProtectedItemOperationTestFailoverCleanup),
	OpUnplannedFailover:   string(asr.ReplicationProtectedItemOperationUnplannedFailover),
	OpFailoverCancel:      string(asr.ReplicationProtectedItemOperationCancelFailover),
	OpFailoverCommit:      string(asr.ReplicationProtectedItemOperationCommit),
	OpDisable:             string(asr.ReplicationProtectedItemOperationDisableProtection),
}

// Handle is everything needed to re-attach to a started operation from
// another process: the azcore poller resume token (async-operation and
// Location URLs, no credentials) and the ASR job ID. Journal it before
// waiting.
type Handle struct {
	Operation   Operation `json:"operation"`
	VM          string    `json:"vm"`
	Item        string    `json:"item"`
	Fabric      string    `json:"fabric"`
	Container   string    `json:"container"`
	ResumeToken string    `json:"resumeToken,omitempty"`
	JobID       string    `json:"jobId,omitempty"`
	StartedAt   time.Time `json:"startedAt"`
	// PollNotBefore is when the service asked to be polled first (the
	// accepted response's Retry-After). Wait does not poll before it, as
	// ARM's long-running-operation contract asks; a handle resumed later
	// polls at once.
	PollNotBefore time.Time `json:"pollNotBefore,omitzero"`
	// AcceptedAt is when the service's answer accepting the operation
	// arrived: the job started before it, so a job of typical length has
	// ended by AcceptedAt plus that length (see WaitJob).
	AcceptedAt time.Time `json:"acceptedAt,omitzero"`
}

// Progress is reported while waiting.
type Progress struct {
	Operation Operation
	VM        string
	JobID     string
	// Status is the async-operation status (InProgress, Succeeded, Failed,
	// Canceled) or, in WaitForState, the protection state.
	Status  string
	Percent *int
	Elapsed time.Duration
	Done    bool
}

// ProgressFunc receives progress; it may be nil.
type ProgressFunc func(Progress)

// DiskInput selects how one disk (or, as DisksDefault, every disk) replicates.
type DiskInput struct {
	ID                  string
	Type                string
	LogStorageAccountID string
	DiskEncryptionSetID string
}

// EnableInput is what enable replication needs.
type EnableInput struct {
	Machine Machine
	// ItemName defaults to the machine name, as Azure Migrate does.
	ItemName       string
	PolicyID       string
	RunAsAccountID string
	// MultiVMGroup puts the VM in a multi-VM consistency group.
	MultiVMGroup string
	Target       TargetSettings
	// Exactly one of Disks (disksToInclude) and DisksDefault must be set.
	Disks        []DiskInput
	DisksDefault *DiskInput
}

// NICInput changes one NIC; nil fields stay as they are.
type NICInput struct {
	ID           string
	Primary      *bool
	Selected     *bool
	TargetSubnet *string
	TargetIP     *string
	TestSubnet   *string
	TestIP       *string
	TargetName   *string
}

// UpdateInput changes target settings; nil fields stay as they are, an
// empty string clears a setting (availability set, zone, PPG).
type UpdateInput struct {
	VMName                          *string
	VMSize                          *string
	ResourceGroupID                 *string
	NetworkID                       *string
	TestNetworkID                   *string
	AvailabilityZone                *string
	AvailabilitySetID               *string
	ProximityPlacementGroupID       *string
	BootDiagnosticsStorageAccountID *string
	LicenseType                     *string
	SQLServerLicenseType            *string
	LinuxLicenseType                *string
	// Tags, NICTags and DiskTags replace the whole set when not nil.
	Tags     map[string]string
	NICTags  map[string]string
	DiskTags map[string]string
	NICs     []NICInput
}

// TestFailoverInput: NetworkID defaults to the item's test network,
// RecoveryPointID to the latest processed point.
type TestFailoverInput struct {
	NetworkID       string
	RecoveryPointID string
}

// UnplannedFailoverInput: PerformShutdown asks ASR to shut the source down
// first; RecoveryPointID defaults to the latest.
type UnplannedFailoverInput struct {
	PerformShutdown bool
	RecoveryPointID string
}

// DisableOptions: the default is the clean remove (POST .../remove). Purge
// (DELETE, a force delete that skips cleanup) only when asked.
type DisableOptions struct {
	Purge             bool
	MigrationComplete bool
}

func opt(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

func flag(v bool) *string { return to.Ptr(strconv.FormatBool(v)) }

func (c *Client) handle(op Operation, vm, item string, tg *Target) Handle {
	return Handle{Operation: op, VM: vm, Item: item, Fabric: tg.FabricName, Container: tg.ContainerName, StartedAt: time.Now().UTC()}
}

// gate refuses an operation the item does not allow, before any request.
func gate(item *ProtectedItem, op Operation) error {
	if item == nil {
		return &Error{Operation: string(op), Kind: KindInvalidParameter, Message: "no protected item given: read it first (ListProtectedItems or GetProtectedItem)"}
	}
	if g, ok := gates[op]; ok && !item.Allows(g) {
		return refused(item, string(op), g)
	}
	if op == OpUpdate {
		// Settings change while replicating or protected with no test
		// failover open (a settled MarkedForDeletion is not open).
		ph, _ := Classify(item)
		if ph != PhaseReplicating && ph != PhaseProtected || item.CurrentScenario != "" {
			e := refused(item, string(op), "an update")
			if item.CurrentScenario != "" {
				e.Message += "; job " + item.CurrentScenario + " is running"
			}
			return e
		}
	}
	return nil
}

// sendCtx limits the retries of an operation's first request: PUT and
// PATCH are idempotent and keep every retry, but an action POST or a
// DELETE whose response was lost to a 5xx or a timeout may have been
// accepted, and sending it again could repeat a failover. Those are
// retried only on 429, which ARM answers before doing anything; any other
// failure goes back to the caller, who decides from live state.
func (c *Client) sendCtx(ctx context.Context, op Operation) context.Context {
	if op == OpEnable || op == OpUpdate {
		return ctx
	}
	ro := c.retry
	ro.StatusCodes = []int{http.StatusTooManyRequests}
	return policy.WithRetryOptions(ctx, ro)
}

// start sends the first request of an operation and turns the poller into
// a Handle. The initial response is captured to read the ASR job ID.
func start[T any](ctx context.Context, h Handle, begin func(context.Context) (*runtime.Poller[T], error)) (Handle, error) {
	var raw *http.Response
	p, err := begin(runtime.WithCaptureResponse(ctx, &raw))
	if err != nil {
		return h, classify(h.VM, string(h.Operation), err)
	}
	h.JobID = jobIDFrom(raw)
	h.AcceptedAt = time.Now().UTC()
	if !p.Done() {
		tok, err := p.ResumeToken()
		if err != nil {
			return h, classify(h.VM, string(h.Operation), err)
		}
		h.ResumeToken = tok
		if d := retryAfter(raw, 0); d > 0 {
			h.PollNotBefore = h.AcceptedAt.Add(d)
		}
	}
	return h, nil
}

// jobIDFrom reads the job from a 202 body: either a job resource (actions)
// or a protected item whose currentScenario names the job (enable, update).
func jobIDFrom(resp *http.Response) string {
	if resp == nil {
		return ""
	}
	body, err := runtime.Payload(resp)
	if err != nil || len(body) == 0 {
		return ""
	}
	var v struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Properties struct {
			CurrentScenario struct {
				JobID string `json:"jobId"`
			} `json:"currentScenario"`
		} `json:"properties"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	if strings.HasSuffix(strings.ToLower(v.Type), "/replicationjobs") {
		return v.ID
	}
	if j := v.Properties.CurrentScenario.JobID; j != "" && !strings.HasSuffix(j, "/None") {
		return j
	}
	return ""
}

// EnableReplication starts replicating a discovered machine (PUT of the
// protected item with InMageRcmEnableProtectionInput).
func (c *Client) EnableReplication(ctx context.Context, in EnableInput) (Handle, error) {
	vm := in.Target.VMName
	if vm == "" {
		vm = in.Machine.DisplayName
	}
	if err := validateEnable(vm, in); err != nil {
		return Handle{}, err
	}
	tg, err := c.resolved(ctx)
	if err != nil {
		return Handle{}, err
	}
	name := in.ItemName
	if name == "" {
		name = in.Machine.Name
	}
	d := &asr.InMageRcmEnableProtectionInput{
		InstanceType:                          to.Ptr("InMageRcm"),
		FabricDiscoveryMachineID:              to.Ptr(in.Machine.ID),
		ProcessServerID:                       to.Ptr(tg.ProcessServerID),
		TargetResourceGroupID:                 to.Ptr(in.Target.ResourceGroupID),
		RunAsAccountID:                        opt(in.RunAsAccountID),
		TargetVMName:                          opt(in.Target.VMName),
		TargetVMSize:                          opt(in.Target.VMSize),
		TargetNetworkID:                       opt(in.Target.NetworkID),
		TargetSubnetName:                      opt(in.Target.Subnet),
		TestNetworkID:                         opt(in.Target.TestNetworkID),
		TestSubnetName:                        opt(in.Target.TestSubnet),
		TargetAvailabilityZone:                opt(in.Target.AvailabilityZone),
		TargetAvailabilitySetID:               opt(in.Target.AvailabilitySetID),
		TargetProximityPlacementGroupID:       opt(in.Target.ProximityPlacementGroupID),
		TargetBootDiagnosticsStorageAccountID: opt(in.Target.BootDiagnosticsStorageAccountID),
		TargetVMTags:                          tagsInput(in.Target.Tags),
		TargetNicTags:                         tagsInput(in.Target.NICTags),
		TargetManagedDiskTags:                 tagsInput(in.Target.DiskTags),
	}
	if in.Target.LicenseType != "" {
		d.LicenseType = to.Ptr(asr.LicenseType(in.Target.LicenseType))
	}
	if in.Target.SQLServerLicenseType != "" {
		d.SQLServerLicenseType = to.Ptr(asr.SQLServerLicenseType(in.Target.SQLServerLicenseType))
	}
	if in.Target.LinuxLicenseType != "" {
		d.LinuxLicenseType = to.Ptr(asr.LinuxLicenseType(in.Target.LinuxLicenseType))
	}
	if in.Target.SecurityType != "" {
		d.TargetVMSecurityProfile = &asr.SecurityProfileProperties{TargetVMSecurityType: to.Ptr(asr.SecurityType(in.Target.SecurityType)),
			TargetVMSecureBoot: securityConfig(in.Target.SecureBoot), TargetVMTpm: securityConfig(in.Target.TPM)}
	}
	d.MultiVMGroupName = opt(in.MultiVMGroup)
	if in.DisksDefault != nil {
		d.DisksDefault = &asr.InMageRcmDisksDefaultInput{
			DiskType: to.Ptr(asr.DiskAccountType(in.DisksDefault.Type)), LogStorageAccountID: to.Ptr(in.DisksDefault.LogStorageAccountID),
			DiskEncryptionSetID: opt(in.DisksDefault.DiskEncryptionSetID),
		}
	}
	for _, dk := range in.Disks {
		d.DisksToInclude = append(d.DisksToInclude, &asr.InMageRcmDiskInput{
			DiskID: to.Ptr(dk.ID), DiskType: to.Ptr(asr.DiskAccountType(dk.Type)), LogStorageAccountID: to.Ptr(dk.LogStorageAccountID),
			DiskEncryptionSetID: opt(dk.DiskEncryptionSetID),
		})
	}
	body := asr.EnableProtectionInput{Properties: &asr.EnableProtectionInputProperties{
		PolicyID: to.Ptr(in.PolicyID), ProtectableItemID: to.Ptr(in.Machine.ID), ProviderSpecificDetails: d,
	}}
	h := c.handle(OpEnable, vm, name, tg)
	return start(c.sendCtx(ctx, h.Operation), h, func(ctx context.Context) (*runtime.Poller[asr.ReplicationProtectedItemsClientCreateResponse], error) {
		return c.items.BeginCreate(ctx, c.vault.ResourceGroup, c.vault.Name, tg.FabricName, tg.ContainerName, name, body, nil)
	})
}

func validateEnable(vm string, in EnableInput) error {
	var problems []string
	if in.Machine.ID == "" {
		problems = append(problems, "the discovered machine's ID (fabricDiscoveryMachineId) is missing")
	}
	if in.PolicyID == "" {
		problems = append(problems, "policy ID is missing")
	}
	if in.Target.ResourceGroupID == "" {
		problems = append(problems, "target resource group ID is missing")
	}
	if (in.DisksDefault == nil) == (len(in.Disks) == 0) {
		problems = append(problems, "exactly one of disks to include and default disk settings must be given")
	}
	check := func(what string, d DiskInput) {
		if d.Type == "" || d.LogStorageAccountID == "" {
			problems = append(problems, what+" needs a disk type and a log storage account")
		}
	}
	if in.DisksDefault != nil {
		check("default disk settings", *in.DisksDefault)
	}
	for _, d := range in.Disks {
		if d.ID == "" {
			problems = append(problems, "a disk to include has no ID")
		}
		check("disk "+d.ID, d)
	}
	if len(problems) > 0 {
		return &Error{VM: vm, Operation: string(OpEnable), Kind: KindInvalidParameter, Code: "InvalidParameter", Message: "refused before sending: " + strings.Join(problems, "; ")}
	}
	return nil
}

// tagsInput is a tag list: nil for nil tags (leave them as they are), an
// empty list for an empty map (remove them all).
func tagsInput(tags map[string]string) []*asr.UserCreatedResourceTag {
	if tags == nil {
		return nil
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*asr.UserCreatedResourceTag, 0, len(keys))
	for _, k := range keys {
		out = append(out, &asr.UserCreatedResourceTag{TagName: to.Ptr(k), TagValue: to.Ptr(tags[k])})
	}
	return out
}

// UpdateReplication changes target settings (PATCH with
// InMageRcmUpdateReplicationProtectedItemInput). NIC flags travel as the
// strings "true"/"false", as the API expects.
func (c *Client) UpdateReplication(ctx context.Context, item *ProtectedItem, in UpdateInput) (Handle, error) {
	if err := gate(item, OpUpdate); err != nil {
		return Handle{}, err
	}
	tg, err := c.resolved(ctx)
	if err != nil {
		return Handle{}, err
	}
	d := &asr.InMageRcmUpdateReplicationProtectedItemInput{
		InstanceType: to.Ptr("InMageRcm"), TargetVMName: in.VMName, TargetVMSize: in.VMSize,
		TargetResourceGroupID: in.ResourceGroupID, TargetNetworkID: in.NetworkID, TestNetworkID: in.TestNetworkID,
		TargetAvailabilityZone: in.AvailabilityZone, TargetAvailabilitySetID: in.AvailabilitySetID,
		TargetProximityPlacementGroupID: in.ProximityPlacementGroupID, TargetBootDiagnosticsStorageAccountID: in.BootDiagnosticsStorageAccountID,
		TargetVMTags: tagsInput(in.Tags), TargetNicTags: tagsInput(in.NICTags), TargetManagedDiskTags: tagsInput(in.DiskTags),
	}
	if in.LicenseType != nil {
		d.LicenseType = to.Ptr(asr.LicenseType(*in.LicenseType))
	}
	if in.SQLServerLicenseType != nil {
		d.SQLServerLicenseType = to.Ptr(asr.SQLServerLicenseType(*in.SQLServerLicenseType))
	}
	if in.LinuxLicenseType != nil {
		d.LinuxLicenseType = to.Ptr(asr.LinuxLicenseType(*in.LinuxLicenseType))
	}
	for _, n := range in.NICs {
		ni := &asr.InMageRcmNicInput{
			NicID: to.Ptr(n.ID), TargetSubnetName: n.TargetSubnet, TargetStaticIPAddress: n.TargetIP,
			TestSubnetName: n.TestSubnet, TestStaticIPAddress: n.TestIP, TargetNicName: n.TargetName,
		}
		if n.Primary != nil {
			ni.IsPrimaryNic = flag(*n.Primary)
		}
		if n.Selected != nil {
			ni.IsSelectedForFailover = flag(*n.Selected)
		}
		d.VMNics = append(d.VMNics, ni)
	}
	body := asr.UpdateReplicationProtectedItemInput{Properties: &asr.UpdateReplicationProtectedItemInputProperties{ProviderSpecificDetails: d}}
	h := c.handle(OpUpdate, item.VM, item.Name, tg)
	return start(c.sendCtx(ctx, h.Operation), h, func(ctx context.Context) (*runtime.Poller[asr.ReplicationProtectedItemsClientUpdateResponse], error) {
		return c.items.BeginUpdate(ctx, c.vault.ResourceGroup, c.vault.Name, tg.FabricName, tg.ContainerName, item.Name, body, nil)
	})
}

// TestFailover starts a test failover into the test network.
func (c *Client) TestFailover(ctx context.Context, item *ProtectedItem, in TestFailoverInput) (Handle, error) {
	if err := gate(item, OpTestFailover); err != nil {
		return Handle{}, err
	}
	tg, err := c.resolved(ctx)
	if err != nil {
		return Handle{}, err
	}
	network := in.NetworkID
	if network == "" {
		network = item.Target.TestNetworkID
	}
	body := asr.TestFailoverInput{Properties: &asr.TestFailoverInputProperties{
		FailoverDirection: to.Ptr("PrimaryToRecovery"), NetworkType: to.Ptr("VmNetworkAsInput"), NetworkID: opt(network),
		ProviderSpecificDetails: &asr.InMageRcmTestFailoverInput{InstanceType: to.Ptr("InMageRcm"), NetworkID: opt(network), RecoveryPointID: opt(in.RecoveryPointID)},
	}}
	h := c.handle(OpTestFailover, item.VM, item.Name, tg)
	return start(c.sendCtx(ctx, h.Operation), h, func(ctx context.Context) (*runtime.Poller[asr.ReplicationProtectedItemsClientTestFailoverResponse], error) {
		return c.items.BeginTestFailover(ctx, c.vault.ResourceGroup, c.vault.Name, tg.FabricName, tg.ContainerName, item.Name, body, nil)
	})
}

// TestFailoverCleanup removes the test VM and closes the test failover.
func (c *Client) TestFailoverCleanup(ctx context.Context, item *ProtectedItem, comments string) (Handle, error) {
	if err := gate(item, OpTestFailoverCleanup); err != nil {
		return Handle{}, err
	}
	tg, err := c.resolved(ctx)
	if err != nil {
		return Handle{}, err
	}
	body := asr.TestFailoverCleanupInput{Properties: &asr.TestFailoverCleanupInputProperties{Comments: opt(comments)}}
	h := c.handle(OpTestFailoverCleanup, item.VM, item.Name, tg)
	return start(c.sendCtx(ctx, h.Operation), h, func(ctx context.Context) (*runtime.Poller[asr.ReplicationProtectedItemsClientTestFailoverCleanupResponse], error) {
		return c.items.BeginTestFailoverCleanup(ctx, c.vault.ResourceGroup, c.vault.Name, tg.FabricName, tg.ContainerName, item.Name, body, nil)
	})
}

// UnplannedFailover migrates the VM: Azure creates it from a recovery point.
func (c *Client) UnplannedFailover(ctx context.Context, item *ProtectedItem, in UnplannedFailoverInput) (Handle, error) {
	if err := gate(item, OpUnplannedFailover); err != nil {
		return Handle{}, err
	}
	tg, err := c.resolved(ctx)
	if err != nil {
		return Handle{}, err
	}
	body := asr.UnplannedFailoverInput{Properties: &asr.UnplannedFailoverInputProperties{
		FailoverDirection: to.Ptr("PrimaryToRecovery"), SourceSiteOperations: to.Ptr("NotRequired"),
		ProviderSpecificDetails: &asr.InMageRcmUnplannedFailoverInput{InstanceType: to.Ptr("InMageRcm"), PerformShutdown: flag(in.PerformShutdown), RecoveryPointID: opt(in.RecoveryPointID)},
	}}
	h := c.handle(OpUnplannedFailover, item.VM, item.Name, tg)
	return start(c.sendCtx(ctx, h.Operation), h, func(ctx context.Context) (*runtime.Poller[asr.ReplicationProtectedItemsClientUnplannedFailoverResponse], error) {
		return c.items.BeginUnplannedFailover(ctx, c.vault.ResourceGroup, c.vault.Name, tg.FabricName, tg.ContainerName, item.Name, body, nil)
	})
}

// FailoverCancel undoes an uncommitted failover.
func (c *Client) FailoverCancel(ctx context.Context, item *ProtectedItem) (Handle, error) {
	if err := gate(item, OpFailoverCancel); err != nil {
		return Handle{}, err
	}
	tg, err := c.resolved(ctx)
	if err != nil {
		return Handle{}, err
	}
	h := c.handle(OpFailoverCancel, item.VM, item.Name, tg)
	return start(c.sendCtx(ctx, h.Operation), h, func(ctx context.Context) (*runtime.Poller[asr.ReplicationProtectedItemsClientFailoverCancelResponse], error) {
		return c.items.BeginFailoverCancel(ctx, c.vault.ResourceGroup, c.vault.Name, tg.FabricName, tg.ContainerName, item.Name, nil)
	})
}

// FailoverCommit makes the failover permanent: a point of no return.
func (c *Client) FailoverCommit(ctx context.Context, item *ProtectedItem) (Handle, error) {
	if err := gate(item, OpFailoverCommit); err != nil {
		return Handle{}, err
	}
	tg, err := c.resolved(ctx)
	if err != nil {
		return Handle{}, err
	}
	h := c.handle(OpFailoverCommit, item.VM, item.Name, tg)
	return start(c.sendCtx(ctx, h.Operation), h, func(ctx context.Context) (*runtime.Poller[asr.ReplicationProtectedItemsClientFailoverCommitResponse], error) {
		return c.items.BeginFailoverCommit(ctx, c.vault.ResourceGroup, c.vault.Name, tg.FabricName, tg.ContainerName, item.Name, nil)
	})
}

// DisableReplication removes the protected item with the clean remove
// (POST .../remove, which the SDK calls BeginDelete). Only
// DisableOptions.Purge sends the force DELETE.
func (c *Client) DisableReplication(ctx context.Context, item *ProtectedItem, o DisableOptions) (Handle, error) {
	op := OpDisable
	if o.Purge {
		op = OpPurge
	}
	if err := gate(item, op); err != nil {
		return Handle{}, err
	}
	tg, err := c.resolved(ctx)
	if err != nil {
		return Handle{}, err
	}
	h := c.handle(op, item.VM, item.Name, tg)
	if o.Purge {
		return start(c.sendCtx(ctx, h.Operation), h, func(ctx context.Context) (*runtime.Poller[asr.ReplicationProtectedItemsClientPurgeResponse], error) {
			return c.items.BeginPurge(ctx, c.vault.ResourceGroup, c.vault.Name, tg.FabricName, tg.ContainerName, item.Name, nil)
		})
	}
	reason := asr.DisableProtectionReasonNotSpecified
	if o.MigrationComplete {
		reason = asr.DisableProtectionReasonMigrationComplete
	}
	body := asr.DisableProtectionInput{Properties: &asr.DisableProtectionInputProperties{DisableProtectionReason: &reason}}
	return start(c.sendCtx(ctx, h.Operation), h, func(ctx context.Context) (*runtime.Poller[asr.ReplicationProtectedItemsClientDeleteResponse], error) {
		return c.items.BeginDelete(ctx, c.vault.ResourceGroup, c.vault.Name, tg.FabricName, tg.ContainerName, item.Name, body, nil)
	})
}

// Wait re-attaches to the operation behind h (in this process or another)
// and polls it to the end, honouring Retry-After. It returns the item as
// the operation left it, or nil when the operation removed it.
func (c *Client) Wait(ctx context.Context, h Handle, progress ProgressFunc) (*ProtectedItem, error) {
	if h.ResumeToken == "" {
		return c.waitJob(ctx, h, progress)
	}
	tok := rebaseToken(h.ResumeToken, c.endpoint)
	var (
		m   *asr.ReplicationProtectedItem
		err error
	)
	switch h.Operation {
	case OpEnable:
		m, err = resume(ctx, c, h, progress, func() (*runtime.Poller[asr.ReplicationProtectedItemsClientCreateResponse], error) {
			return c.items.BeginCreate(ctx, "", "", "", "", "", asr.EnableProtectionInput{}, &asr.ReplicationProtectedItemsClientBeginCreateOptions{ResumeToken: tok})
		}, func(r asr.ReplicationProtectedItemsClientCreateResponse) *asr.ReplicationProtectedItem {
			return &r.ReplicationProtectedItem
		})
	case OpUpdate:
		m, err = resume(ctx, c, h, progress, func() (*runtime.Poller[asr.ReplicationProtectedItemsClientUpdateResponse], error) {
			return c.items.BeginUpdate(ctx, "", "", "", "", "", asr.UpdateReplicationProtectedItemInput{}, &asr.ReplicationProtectedItemsClientBeginUpdateOptions{ResumeToken: tok})
		}, func(r asr.ReplicationProtectedItemsClientUpdateResponse) *asr.ReplicationProtectedItem {
			return &r.ReplicationProtectedItem
		})
	case OpTestFailover:
		m, err = resume(ctx, c, h, progress, func() (*runtime.Poller[asr.ReplicationProtectedItemsClientTestFailoverResponse], error) {
			return c.items.BeginTestFailover(ctx, "", "", "", "", "", asr.TestFailoverInput{}, &asr.ReplicationProtectedItemsClientBeginTestFailoverOptions{ResumeToken: tok})
		}, func(r asr.ReplicationProtectedItemsClientTestFailoverResponse) *asr.ReplicationProtectedItem {
			return &r.ReplicationProtectedItem
		})
	case OpTestFailoverCleanup:
		m, err = resume(ctx, c, h, progress, func() (*runtime.Poller[asr.ReplicationProtectedItemsClientTestFailoverCleanupResponse], error) {
			return c.items.BeginTestFailoverCleanup(ctx, "", "", "", "", "", asr.TestFailoverCleanupInput{}, &asr.ReplicationProtectedItemsClientBeginTestFailoverCleanupOptions{ResumeToken: tok})
		}, func(r asr.ReplicationProtectedItemsClientTestFailoverCleanupResponse) *asr.ReplicationProtectedItem {
			return &r.ReplicationProtectedItem
		})
	case OpUnplannedFailover:
		m, err = resume(ctx, c, h, progress, func() (*runtime.Poller[asr.ReplicationProtectedItemsClientUnplannedFailoverResponse], error) {
			return c.items.BeginUnplannedFailover(ctx, "", "", "", "", "", asr.UnplannedFailoverInput{}, &asr.ReplicationProtectedItemsClientBeginUnplannedFailoverOptions{ResumeToken: tok})
		}, func(r asr.ReplicationProtectedItemsClientUnplannedFailoverResponse) *asr.ReplicationProtectedItem {
			return &r.ReplicationProtectedItem
		})
	case OpFailoverCancel:
		m, err = resume(ctx, c, h, progress, func() (*runtime.Poller[asr.ReplicationProtectedItemsClientFailoverCancelResponse], error) {
			return c.items.BeginFailoverCancel(ctx, "", "", "", "", "", &asr.ReplicationProtectedItemsClientBeginFailoverCancelOptions{ResumeToken: tok})
		}, func(r asr.ReplicationProtectedItemsClientFailoverCancelResponse) *asr.ReplicationProtectedItem {
			return &r.ReplicationProtectedItem
		})
	case OpFailoverCommit:
		m, err = resume(ctx, c, h, progress, func() (*runtime.Poller[asr.ReplicationProtectedItemsClientFailoverCommitResponse], error) {
			return c.items.BeginFailoverCommit(ctx, "", "", "", "", "", &asr.ReplicationProtectedItemsClientBeginFailoverCommitOptions{ResumeToken: tok})
		}, func(r asr.ReplicationProtectedItemsClientFailoverCommitResponse) *asr.ReplicationProtectedItem {
			return &r.ReplicationProtectedItem
		})
	case OpDisable:
		_, err = resume(ctx, c, h, progress, func() (*runtime.Poller[asr.ReplicationProtectedItemsClientDeleteResponse], error) {
			return c.items.BeginDelete(ctx, "", "", "", "", "", asr.DisableProtectionInput{}, &asr.ReplicationProtectedItemsClientBeginDeleteOptions{ResumeToken: tok})
		}, func(asr.ReplicationProtectedItemsClientDeleteResponse) *asr.ReplicationProtectedItem { return nil })
	case OpPurge:
		_, err = resume(ctx, c, h, progress, func() (*runtime.Poller[asr.ReplicationProtectedItemsClientPurgeResponse], error) {
			return c.items.BeginPurge(ctx, "", "", "", "", "", &asr.ReplicationProtectedItemsClientBeginPurgeOptions{ResumeToken: tok})
		}, func(asr.ReplicationProtectedItemsClientPurgeResponse) *asr.ReplicationProtectedItem { return nil })
	default:
		return nil, &Error{VM: h.VM, Operation: string(h.Operation), Kind: KindInvalidParameter, Message: fmt.Sprintf("unknown operation %q in handle", h.Operation)}
	}
	if err != nil {
		return nil, err
	}
	if m == nil || m.ID == nil {
		// Operations whose final result is not the item: read it, unless
		// the operation removed it.
		if h.Operation == OpDisable || h.Operation == OpPurge {
			return nil, nil
		}
		return c.GetProtectedItem(ctx, h.Item)
	}
	it := protectedItemFrom(m)
	return &it, nil
}

func resume[T any](ctx context.Context, c *Client, h Handle, progress ProgressFunc, rehydrate func() (*runtime.Poller[T], error), result func(T) *asr.ReplicationProtectedItem) (*asr.ReplicationProtectedItem, error) {
	p, err := rehydrate()
	if err != nil {
		return nil, classify(h.VM, string(h.Operation), fmt.Errorf("resuming from handle: %w", err))
	}
	began := time.Now()
	report := func(status string, done bool) {
		if progress != nil {
			progress(Progress{Operation: h.Operation, VM: h.VM, JobID: h.JobID, Status: status, Elapsed: time.Since(began), Done: done})
		}
	}
	if d := time.Until(h.PollNotBefore); d > 0 {
		if err := sleep(ctx, d); err != nil {
			return nil, classify(h.VM, string(h.Operation), err)
		}
	}
	for !p.Done() {
		resp, err := p.Poll(ctx)
		if err != nil {
			return nil, classify(h.VM, string(h.Operation), err)
		}
		report(lroStatus(resp), false)
		if p.Done() {
			break
		}
		if err := sleep(ctx, retryAfter(resp, c.poll)); err != nil {
			return nil, classify(h.VM, string(h.Operation), err)
		}
	}
	res, err := p.Result(ctx)
	if err != nil {
		report("Failed", true)
		return nil, classify(h.VM, string(h.Operation), err)
	}
	report("Succeeded", true)
	return result(res), nil
}

// waitJob follows the ASR job when a handle carries no resume token (an
// operation started by another tool, or one that completed synchronously).
func (c *Client) waitJob(ctx context.Context, h Handle, progress ProgressFunc) (*ProtectedItem, error) {
	if h.JobID != "" {
		began := time.Now()
		for {
			j, err := c.Job(ctx, h.JobID)
			if err != nil {
				return nil, classify(h.VM, string(h.Operation), err)
			}
			if progress != nil {
				progress(Progress{Operation: h.Operation, VM: h.VM, JobID: h.JobID, Status: j.State, Elapsed: time.Since(began), Done: j.Terminal()})
			}
			if j.Terminal() {
				// A test failover's job is suspended, not finished, once
				// the test VM is up: it waits for the cleanup
				// (ReplicationJobs_Resume.json).
				if j.State != "Succeeded" && !(h.Operation == OpTestFailover && strings.EqualFold(j.State, "Suspended")) {
					return nil, jobError(h, j)
				}
				break
			}
			if err := sleep(ctx, c.poll); err != nil {
				return nil, classify(h.VM, string(h.Operation), err)
			}
		}
	}
	if h.Operation == OpDisable || h.Operation == OpPurge {
		return nil, nil
	}
	return c.GetProtectedItem(ctx, h.Item)
}

func jobError(h Handle, j *Job) error {
	e := &Error{VM: h.VM, Operation: string(h.Operation), Kind: KindOther, Message: "job " + j.Name + " ended " + j.State}
	if len(j.Errors) > 0 {
		e.Code, e.Message = j.Errors[0].Code, j.Errors[0].Message
	}
	return e
}

// WaitForState polls the item until its protection state is one of states
// (for example Protected after initial replication), reporting initial
// replication progress.
func (c *Client) WaitForState(ctx context.Context, name string, progress ProgressFunc, states ...string) (*ProtectedItem, error) {
	return c.WaitUntil(ctx, name, progress, strings.Join(states, "/"), func(it *ProtectedItem) bool {
		for _, st := range states {
			if strings.EqualFold(it.ProtectionState, st) {
				return true
			}
		}
		return false
	})
}

// WaitUntil polls the item until done holds; what names the wait in
// errors. Every waiter of the vault is served by one poller (see
// sharedPoll): a wave of VMs waiting for initial replication costs one
// paged list per interval, not a read per VM. A missing item fails the
// wait at once.
func (c *Client) WaitUntil(ctx context.Context, name string, progress ProgressFunc, what string, done func(*ProtectedItem) bool) (*ProtectedItem, error) {
	iw := c.itemPoll.add(name, "", time.Time{}, 0)
	defer c.itemPoll.remove(iw)
	began := time.Now()
	failures := 0
	for {
		var u update[*ProtectedItem]
		select {
		case <-ctx.Done():
			return nil, classify(name, "wait for "+what, ctx.Err())
		case u = <-iw.ch:
		}
		if u.err != nil {
			// A missing item will not appear by waiting; a failed read
			// may pass.
			if failures++; KindOf(u.err) == KindNotFound || failures >= watchFailures {
				return nil, u.err
			}
			continue
		}
		failures = 0
		it := u.v
		ok := done(it)
		if progress != nil {
			progress(Progress{VM: it.VM, JobID: it.CurrentJobID, Status: it.ProtectionState, Percent: it.InitialReplicationPercent, Elapsed: time.Since(began), Done: ok})
		}
		if ok {
			return it, nil
		}
	}
}

func lroStatus(resp *http.Response) string {
	if resp == nil {
		return ""
	}
	body, err := runtime.Payload(resp)
	if err != nil {
		return ""
	}
	var v struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(body, &v) == nil && v.Status != "" {
		return v.Status
	}
	if resp.StatusCode == http.StatusAccepted {
		return "InProgress"
	}
	return ""
}

// retryAfter reads the service's requested delay (retry-after-ms,
// x-ms-retry-after-ms, Retry-After seconds or date), else def.
func retryAfter(resp *http.Response, def time.Duration) time.Duration {
	if resp == nil {
		return def
	}
	for _, h := range []string{"retry-after-ms", "x-ms-retry-after-ms"} {
		if v := resp.Header.Get(h); v != "" {
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > 0 {
				return time.Duration(ms) * time.Millisecond
			}
		}
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if sec, err := strconv.ParseInt(v, 10, 64); err == nil && sec > 0 {
			return time.Duration(sec) * time.Second
		}
		if at, err := http.ParseTime(v); err == nil {
			if d := time.Until(at); d > 0 {
				return d
			}
		}
	}
	return def
}

func sleep(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

func securityConfig(on *bool) *asr.SecurityConfiguration {
	if on == nil {
		return nil
	}
	if *on {
		return to.Ptr(asr.SecurityConfigurationEnabled)
	}
	return to.Ptr(asr.SecurityConfigurationDisabled)
}
