package planner

// StepKind names what a step does. The string form is stable: it appears in
// step IDs, plan files and journals.
type StepKind string

// Step kinds, source side (vCenter) then target side (ASR).
const (
	StepRelocate       StepKind = "relocate"
	StepMakeFTPrimary  StepKind = "make_ft_primary"
	StepCloneRehearsal StepKind = "clone_rehearsal"
	// StepCustomizeRehearsal customizes the running rehearsal clone again
	// (CustomizeGuest_Task); its inverse customizes it back.
	StepCustomizeRehearsal StepKind = "customize_rehearsal"
	StepSnapshot           StepKind = "snapshot"
	StepShutdown           StepKind = "shutdown"
	StepPowerOn            StepKind = "power_on"
	// Inverse-only kinds: rollback plans remove what a step created.
	StepRemoveSnapshot StepKind = "remove_snapshot"
	StepDestroyClone   StepKind = "destroy_clone"

	StepEnableReplication  StepKind = "enable_replication"
	StepUpdateReplication  StepKind = "update_replication"
	StepWaitProtected      StepKind = "wait_protected"
	StepTestFailover       StepKind = "test_failover"
	StepTestCleanup        StepKind = "test_failover_cleanup"
	StepUnplannedFailover  StepKind = "unplanned_failover"
	StepFailoverCancel     StepKind = "failover_cancel"
	StepFailoverCommit     StepKind = "failover_commit"
	StepCompleteMigration  StepKind = "complete_migration"
	StepDisableReplication StepKind = "disable_replication"
	// StepDeallocateAzureVM stops the Azure VM a failover created and
	// releases its host: how a rollback backs out of a failover that ASR
	// no longer lets it cancel, and how it makes sure a cancelled one left
	// nothing running.
	StepDeallocateAzureVM StepKind = "deallocate_azure_vm"
)

// kindInfo is what every plan knows about a step kind.
type kindInfo struct {
	provider string // "vcenter" or "azure"
	// inverse is the kind that undoes it; empty with noReturn set means it
	// cannot be undone.
	inverse  StepKind
	noReturn bool
	// disruptive kinds touch a running workload and wait for the window.
	disruptive bool
	// gate is the allowedOperations entry ASR must offer before the step.
	gate string
}

var kinds = map[StepKind]kindInfo{
	StepRelocate:           {provider: "vcenter", inverse: StepRelocate},
	StepMakeFTPrimary:      {provider: "vcenter", inverse: StepMakeFTPrimary},
	StepCloneRehearsal:     {provider: "vcenter", inverse: StepDestroyClone},
	StepCustomizeRehearsal: {provider: "vcenter", inverse: StepCustomizeRehearsal},
	StepSnapshot:           {provider: "vcenter", inverse: StepRemoveSnapshot},
	StepRemoveSnapshot:     {provider: "vcenter", inverse: StepSnapshot},
	StepDestroyClone:       {provider: "vcenter", inverse: StepCloneRehearsal},
	StepShutdown:           {provider: "vcenter", inverse: StepPowerOn, disruptive: true},
	StepPowerOn:            {provider: "vcenter", inverse: StepShutdown},

	StepEnableReplication:  {provider: "azure", inverse: StepDisableReplication},
	StepUpdateReplication:  {provider: "azure", inverse: StepUpdateReplication},
	StepWaitProtected:      {provider: "azure"},
	StepTestFailover:       {provider: "azure", inverse: StepTestCleanup, gate: "TestFailover"},
	StepTestCleanup:        {provider: "azure", gate: "TestFailoverCleanup"},
	StepUnplannedFailover:  {provider: "azure", inverse: StepFailoverCancel, disruptive: true, gate: "UnplannedFailover"},
	StepFailoverCancel:     {provider: "azure", disruptive: true, gate: "CancelFailover"},
	StepFailoverCommit:     {provider: "azure", noReturn: true, disruptive: true, gate: "Commit"},
	StepCompleteMigration:  {provider: "azure", noReturn: true, gate: "CompleteMigration"},
	StepDisableReplication: {provider: "azure", gate: "DisableProtection"},
	StepDeallocateAzureVM:  {provider: "azure", disruptive: true},
}

// Provider says which side a kind acts on.
func (k StepKind) Provider() string { return kinds[k].provider }

// Inverse is the kind that undoes k, or "" when nothing does.
func (k StepKind) Inverse() StepKind { return kinds[k].inverse }

// NoReturn reports whether k is a point of no return.
func (k StepKind) NoReturn() bool { return kinds[k].noReturn }

// Gate is the allowedOperations entry ASR must list before k may start.
func (k StepKind) Gate() string { return kinds[k].gate }

// Step is one node of a plan's DAG.
type Step struct {
	// ID is unique in the plan: VM address, a dot, the kind.
	ID   string   `json:"id"`
	VM   string   `json:"vm"`
	Kind StepKind `json:"kind"`
	// Inputs are what the step sends, as display strings (never secrets).
	Inputs map[string]string `json:"inputs,omitempty"`
	// Changes lists attribute changes an update makes, old -> new.
	Changes []Change `json:"changes,omitempty"`
	// Before records the live values the step changes, for its inverse.
	Before map[string]string `json:"before,omitempty"`
	// DependsOn lists step IDs that must succeed first.
	DependsOn []string `json:"depends_on,omitempty"`
	// Gate is the live condition that must hold before the step starts.
	Gate string `json:"gate,omitempty"`
	// Disruptive steps run only inside Window.
	Disruptive bool   `json:"disruptive,omitempty"`
	Window     string `json:"window,omitempty"`
	// NoReturn marks a point of no return.
	NoReturn bool `json:"no_return,omitempty"`
	// Inverse is the kind that undoes this step; empty when none does.
	Inverse StepKind `json:"inverse,omitempty"`
	// Estimate places the step on the plan's timeline (see Schedule).
	Estimate *Estimate `json:"estimate,omitempty"`
}

// Change is one attribute an update step changes.
type Change struct {
	Attribute string `json:"attribute"`
	Old       string `json:"old"`
	New       string `json:"new"`
	// Sensitive changes render as (sensitive).
	Sensitive bool `json:"sensitive,omitempty"`
}
