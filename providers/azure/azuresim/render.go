package azuresim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	asr "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/recoveryservices/armrecoveryservicessiterecovery/v2"
)

// The SDK's model types render the JSON, so the simulator speaks exactly the
// shapes the generated client decodes.

func (w *world) vaultID() string {
	return fmt.Sprintf("/Subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s", w.Seed.SubscriptionID, w.Seed.ResourceGroup, w.Seed.Vault)
}

func (w *world) fabricID(name string) string { return w.vaultID() + "/replicationFabrics/" + name }

func (w *world) containerID(name string) string {
	return w.fabricID(w.Seed.Fabric) + "/replicationProtectionContainers/" + name
}

func (w *world) itemID(it *item) string {
	return w.containerID(it.Container) + "/replicationProtectedItems/" + it.Name
}

func (w *world) policyID(name string) string { return w.vaultID() + "/replicationPolicies/" + name }

func (w *world) jobID(name string) string { return w.vaultID() + "/replicationJobs/" + name }

func (w *world) siteID() string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.OffAzure/VMwareSites/%s", w.Seed.SubscriptionID, w.Seed.ResourceGroup, w.Seed.Site)
}

func (w *world) machineID(name string) string { return w.siteID() + "/machines/" + name }

func (w *world) runAsID(name string) string { return w.siteID() + "/runasaccounts/" + name }

func (w *world) recoveryPointID(it *item, n int) string {
	return fmt.Sprintf("%s/recoveryPoints/rp-%d", w.itemID(it), n)
}

func (w *world) renderFabric(name string) *asr.Fabric {
	f := &asr.Fabric{
		ID: to.Ptr(w.fabricID(name)), Name: to.Ptr(name), Type: to.Ptr("Microsoft.RecoveryServices/vaults/replicationFabrics"),
		Location: to.Ptr(w.Seed.Location),
		Properties: &asr.FabricProperties{
			FriendlyName: to.Ptr(name), BcdrState: to.Ptr("Valid"), Health: to.Ptr("Normal"),
			InternalIdentifier: to.Ptr("internal-" + name), HealthErrorDetails: []*asr.HealthError{},
		},
	}
	if name != w.Seed.Fabric {
		f.Properties.CustomDetails = &asr.HyperVSiteDetails{InstanceType: to.Ptr("HyperVSite")}
		return f
	}
	hb := time.Now().UTC().Add(-30 * time.Second)
	count := int32(len(w.Items))
	f.Properties.CustomDetails = &asr.InMageRcmFabricSpecificDetails{
		InstanceType:   to.Ptr("InMageRcm"),
		VmwareSiteID:   to.Ptr(w.siteID()),
		PhysicalSiteID: to.Ptr(fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.OffAzure/ServerSites/%s-physical", w.Seed.SubscriptionID, w.Seed.ResourceGroup, w.Seed.Site)),
		ProcessServers: []*asr.ProcessServerDetails{{
			ID: to.Ptr(w.Seed.ProcessServerID), Name: to.Ptr(w.Seed.Appliance), Fqdn: to.Ptr(w.Seed.Appliance + ".corp.example"),
			IPAddresses: []*string{to.Ptr("10.0.0.4")}, Version: to.Ptr("9.66.7614.1"), LastHeartbeatUTC: &hb,
			Health: to.Ptr(asr.ProtectionHealthNormal), HealthErrors: []*asr.HealthError{}, ProtectedItemCount: &count,
		}},
	}
	return f
}

func (w *world) renderContainer(name string) *asr.ProtectionContainer {
	var n int32
	for _, it := range w.Items {
		if strings.EqualFold(it.Container, name) {
			n++
		}
	}
	return &asr.ProtectionContainer{
		ID: to.Ptr(w.containerID(name)), Name: to.Ptr(name), Location: to.Ptr(w.Seed.Location),
		Type: to.Ptr("Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers"),
		Properties: &asr.ProtectionContainerProperties{
			FriendlyName: to.Ptr(name), FabricFriendlyName: to.Ptr(w.Seed.Fabric), FabricType: to.Ptr("InMageRcm"),
			PairingStatus: to.Ptr("Paired"), Role: to.Ptr("Primary"), ProtectedItemCount: &n,
		},
	}
}

func (w *world) renderPolicy(name string) *asr.Policy {
	return &asr.Policy{
		ID: to.Ptr(w.policyID(name)), Name: to.Ptr(name), Location: to.Ptr(w.Seed.Location),
		Type: to.Ptr("Microsoft.RecoveryServices/vaults/replicationPolicies"),
		Properties: &asr.PolicyProperties{
			FriendlyName: to.Ptr(name),
			ProviderSpecificDetails: &asr.InMageRcmPolicyDetails{
				InstanceType: to.Ptr("InMageRcm"), RecoveryPointHistoryInMinutes: to.Ptr[int32](1440),
				AppConsistentFrequencyInMinutes: to.Ptr[int32](240), CrashConsistentFrequencyInMinutes: to.Ptr[int32](5),
				EnableMultiVMSync: to.Ptr("True"),
			},
		},
	}
}

func (w *world) healthErrors(it *item) (health string, errs []*asr.HealthError) {
	health = "Normal"
	errs = []*asr.HealthError{}
	created := it.IREnd.UTC()
	if it.Unhealthy != "" {
		health = "Critical"
		errs = append(errs, &asr.HealthError{
			ErrorCode: to.Ptr("78186"), ErrorLevel: to.Ptr("Error"), ErrorCategory: to.Ptr("Replication"),
			ErrorSource: to.Ptr("ReplicationUnitHealthMonitor"), ErrorMessage: to.Ptr(it.Unhealthy),
			PossibleCauses: to.Ptr("The source machine stopped sending data."), RecommendedAction: to.Ptr("Check the mobility agent and the appliance."),
			CreationTimeUTC: &created, ErrorID: to.Ptr("6:78186"), EntityID: to.Ptr("internal-" + it.Name),
			CustomerResolvability: to.Ptr(asr.HealthErrorCustomerResolvabilityAllowed),
		})
	}
	if it.State == StateUnplannedFailoverFailed {
		health = "Critical"
	}
	if (it.State == StateProtected || it.State == StateUnplannedFailoverFailed) && !it.TestFailoverDone {
		if health == "Normal" {
			health = "Warning"
		}
		errs = append(errs, &asr.HealthError{
			ErrorSource: to.Ptr("ReplicationUnitFailoverValidatorError"), ErrorType: to.Ptr("15"), ErrorLevel: to.Ptr("Warning"),
			ErrorCategory: to.Ptr("TestFailover"), ErrorCode: to.Ptr("161011"), SummaryMessage: to.Ptr(""),
			ErrorMessage:      to.Ptr(fmt.Sprintf("No successful test failover has been done on the virtual machine '%s'.", it.TargetVMName)),
			PossibleCauses:    to.Ptr("No successful test failover has been done on the virtual machine after it was replicated."),
			RecommendedAction: to.Ptr("Do a test failover on the virtual machine."),
			CreationTimeUTC:   &created, EntityID: to.Ptr("internal-" + it.Name), ErrorID: to.Ptr("6:15"),
			CustomerResolvability: to.Ptr(asr.HealthErrorCustomerResolvabilityNotAllowed),
		})
	}
	return health, errs
}

func (w *world) renderItem(it *item, now time.Time) *asr.ReplicationProtectedItem {
	m := w.machine(it.Machine)
	allowed := []*string{}
	for _, a := range w.allowedOperations(it) {
		allowed = append(allowed, to.Ptr(a))
	}
	health, errs := w.healthErrors(it)
	failoverHealth := "Normal"
	if len(errs) > 0 {
		failoverHealth = "Warning"
	}
	scenario := &asr.CurrentScenarioDetails{ScenarioName: to.Ptr("None"), JobID: to.Ptr(w.jobID("None")), StartTime: to.Ptr(time.Date(1753, 1, 1, 1, 1, 1, 0, time.UTC))}
	if j := w.Jobs[it.JobID]; j != nil && (j.State == "InProgress" || j.State == JobSuspended) {
		// A suspended test failover job stays the item's scenario until
		// the cleanup (_TestFailover.json).
		start := j.Start.UTC()
		scenario = &asr.CurrentScenarioDetails{ScenarioName: to.Ptr(j.Scenario), JobID: to.Ptr(w.jobID(j.ID)), StartTime: &start}
	}
	ir := it.irPercent(now)
	d := &asr.InMageRcmReplicationDetails{
		InstanceType:                          to.Ptr("InMageRcm"),
		InternalIdentifier:                    to.Ptr("internal-" + it.Name),
		FabricDiscoveryMachineID:              to.Ptr(w.machineID(it.Machine)),
		DiscoveryType:                         to.Ptr("VCenter"),
		ProcessServerID:                       to.Ptr(w.Seed.ProcessServerID),
		ProcessServerName:                     to.Ptr(w.Seed.Appliance),
		RunAsAccountID:                        nilIfEmpty(it.RunAs),
		TargetVMName:                          to.Ptr(it.TargetVMName),
		TargetVMSize:                          nilIfEmpty(it.TargetVMSize),
		TargetResourceGroupID:                 to.Ptr(it.TargetResourceGroupID),
		TargetLocation:                        to.Ptr(w.Seed.Location),
		TargetAvailabilitySetID:               to.Ptr(it.TargetAvailabilitySet),
		TargetAvailabilityZone:                to.Ptr(it.TargetZone),
		TargetProximityPlacementGroupID:       to.Ptr(it.TargetPPG),
		TargetBootDiagnosticsStorageAccountID: nilIfEmpty(it.BootDiagnostics),
		TargetNetworkID:                       nilIfEmpty(it.TargetNetworkID),
		TestNetworkID:                         nilIfEmpty(it.TestNetworkID),
		LicenseType:                           to.Ptr(it.LicenseType),
		SQLServerLicenseType:                  to.Ptr(it.SQLLicenseType),
		LinuxLicenseType:                      to.Ptr(asr.LinuxLicenseType(it.LinuxLicenseType)),
		TargetVMSecurityProfile: &asr.SecurityProfileProperties{TargetVMSecurityType: to.Ptr(asr.SecurityType(it.SecurityType)),
			TargetVMSecureBoot: securityConfig(it.SecureBoot), TargetVMTpm: securityConfig(it.TPM)},
		MultiVMGroupName:                     nilIfEmpty(it.MultiVMGroup),
		InitialReplicationProgressPercentage: &ir,
		ResyncState:                          to.Ptr(asr.ResyncStateNone),
		ResyncRequired:                       to.Ptr("false"),
	}
	if m != nil {
		d.OSType = to.Ptr(strings.TrimSuffix(m.OSType, "Guest"))
		d.OSName = to.Ptr(m.OSName)
		d.FirmwareType = to.Ptr(m.Firmware)
		d.ProcessorCoreCount = to.Ptr(int32(m.Cores))
		d.AllocatedMemoryInMB = to.Ptr(float64(m.MemoryMB))
	}
	if n, last := it.points(now, w.scale); n > 0 {
		rp := last.UTC()
		rpo := int64(now.Sub(last).Seconds())
		calc := now.UTC()
		d.LastRecoveryPointID = to.Ptr(w.recoveryPointID(it, n))
		d.LastRecoveryPointReceived = &rp
		d.LastRpoInSeconds = &rpo
		d.LastRpoCalculatedTime = &calc
	}
	d.TargetVMTags = tagList(it.Tags)
	d.TargetNicTags = tagList(it.NICTags)
	d.TargetManagedDiskTags = tagList(it.DiskTags)
	for _, dk := range it.Disks {
		d.ProtectedDisks = append(d.ProtectedDisks, &asr.InMageRcmProtectedDiskDetails{
			DiskID: to.Ptr(dk.ID), DiskType: to.Ptr(asr.DiskAccountType(dk.Type)), LogStorageAccountID: nilIfEmpty(dk.LogStorage),
			CapacityInBytes: to.Ptr(int64(dk.SizeGB) << 30), IsOSDisk: to.Ptr(asrBool(dk.IsOS)),
			IsInitialReplicationComplete: to.Ptr(asrBool(ir >= 100)),
		})
	}
	nics := it.NICs
	if it.State == StateEnablingProtection {
		// Terraform's VMware replicated VM waits for the item's vmNics
		// after enable before it sends NIC settings: they are empty until
		// the service has read the machine (GUESS on when they appear).
		nics = nil
	}
	for _, n := range nics {
		d.VMNics = append(d.VMNics, &asr.InMageRcmNicDetails{
			NicID: to.Ptr(n.ID), IsPrimaryNic: to.Ptr(asrBool(n.Primary)), IsSelectedForFailover: to.Ptr(asrBool(n.Selected)),
			SourceIPAddress: nilIfEmpty(n.SourceIP), TargetSubnetName: nilIfEmpty(n.TargetSubnet), TargetIPAddress: nilIfEmpty(n.TargetIP),
			TestSubnetName: nilIfEmpty(n.TestSubnet), TestIPAddress: nilIfEmpty(n.TestIP), TargetNicName: nilIfEmpty(n.TargetName),
		})
	}
	p := &asr.ReplicationProtectedItemProperties{
		FriendlyName:                           to.Ptr(it.TargetVMName),
		ProtectedItemType:                      to.Ptr(""),
		PrimaryFabricFriendlyName:              to.Ptr(w.Seed.Fabric),
		PrimaryFabricProvider:                  to.Ptr("InMageRcmFabric"),
		RecoveryFabricFriendlyName:             to.Ptr("Microsoft Azure"),
		RecoveryFabricID:                       to.Ptr("Microsoft Azure"),
		PrimaryProtectionContainerFriendlyName: to.Ptr(it.Container),
		ProtectionState:                        to.Ptr(it.State),
		ProtectionStateDescription:             to.Ptr(stateDescriptions[it.State]),
		ActiveLocation:                         to.Ptr("Primary"),
		TestFailoverState:                      to.Ptr(it.TestFailoverState),
		TestFailoverStateDescription:           to.Ptr(testFailoverDescriptions[it.TestFailoverState]),
		AllowedOperations:                      allowed,
		ReplicationHealth:                      to.Ptr(health),
		FailoverHealth:                         to.Ptr(failoverHealth),
		HealthErrors:                           errs,
		PolicyID:                               to.Ptr(w.policyID(it.Policy)),
		PolicyFriendlyName:                     to.Ptr(it.Policy),
		CurrentScenario:                        scenario,
		ProviderSpecificDetails:                d,
	}
	if it.State == StateFailedOver || it.State == StateCommitted {
		p.ActiveLocation = to.Ptr("Recovery")
	}
	if !it.LastTestFailover.IsZero() {
		p.LastSuccessfulTestFailoverTime = to.Ptr(it.LastTestFailover.UTC())
	}
	if !it.LastFailover.IsZero() {
		p.LastSuccessfulFailoverTime = to.Ptr(it.LastFailover.UTC())
	}
	return &asr.ReplicationProtectedItem{
		ID: to.Ptr(w.itemID(it)), Name: to.Ptr(it.Name), Location: to.Ptr(w.Seed.Location),
		Type:       to.Ptr("Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/replicationProtectedItems"),
		Properties: p,
	}
}

func (w *world) renderJob(j *job) *asr.Job {
	start := j.Start.UTC()
	props := &asr.JobProperties{
		ActivityID: to.Ptr("activity-" + j.ID), ScenarioName: to.Ptr(j.Scenario), FriendlyName: to.Ptr(friendlyNames[j.Scenario]),
		State: to.Ptr(j.State), StateDescription: to.Ptr(j.State), StartTime: &start,
		TargetObjectName: to.Ptr(j.Target), TargetObjectID: to.Ptr(j.ItemName), TargetInstanceType: to.Ptr("ProtectionEntity"),
		AllowedActions: []*string{}, Errors: []*asr.JobErrorDetails{}, Tasks: []*asr.ASRTask{},
	}
	switch j.State {
	case "InProgress":
	case JobSuspended:
		// ReplicationJobs_Resume.json: a suspended test failover job.
		props.StateDescription = to.Ptr("WaitingForStopTestFailover")
		props.AllowedActions = []*string{to.Ptr("Cancel"), to.Ptr("Resume")}
	default:
		props.EndTime = to.Ptr(j.End.UTC())
	}
	if j.State == "Failed" {
		props.Errors = append(props.Errors, &asr.JobErrorDetails{
			ErrorLevel: to.Ptr("Error"), CreationTime: to.Ptr(j.End.UTC()),
			ServiceErrorDetails: &asr.ServiceError{Code: to.Ptr(j.FailCode), Message: to.Ptr(j.FailMessage)},
		})
	}
	return &asr.Job{ID: to.Ptr(w.jobID(j.ID)), Name: to.Ptr(j.ID), Type: to.Ptr("Microsoft.RecoveryServices/vaults/replicationJobs"), Properties: props}
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// asrBool renders ASR's string booleans.
func asrBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// tagList renders tags in key order, an empty list for none.
func tagList(tags map[string]string) []*asr.UserCreatedResourceTag {
	out := []*asr.UserCreatedResourceTag{}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, &asr.UserCreatedResourceTag{TagName: to.Ptr(k), TagValue: to.Ptr(tags[k])})
	}
	return out
}

func securityConfig(v string) *asr.SecurityConfiguration {
	if v == "" {
		return nil
	}
	return to.Ptr(asr.SecurityConfiguration(v))
}
