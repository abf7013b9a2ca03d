package azuresim

import (
	"net/http"
	"strings"

	asr "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/recoveryservices/armrecoveryservicessiterecovery/v2"
)

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// create handles PUT of a protected item: enable replication.
func (s *Sim) create(c *reqCtx, container, name string, existing *item) *apiError {
	var in asr.EnableProtectionInput
	if err := decodeBody(c.r, &in); err != nil {
		return err
	}
	if in.Properties == nil {
		return errorf(http.StatusBadRequest, "InvalidParameter", "properties is required.")
	}
	d, ok := in.Properties.ProviderSpecificDetails.(*asr.InMageRcmEnableProtectionInput)
	if !ok {
		return errorf(http.StatusBadRequest, "InvalidParameter", "providerSpecificDetails.instanceType must be InMageRcm.")
	}
	var missing []string
	if str(d.FabricDiscoveryMachineID) == "" {
		missing = append(missing, "fabricDiscoveryMachineId")
	}
	if str(d.ProcessServerID) == "" {
		missing = append(missing, "processServerId")
	}
	if str(d.TargetResourceGroupID) == "" {
		missing = append(missing, "targetResourceGroupId")
	}
	if str(in.Properties.PolicyID) == "" {
		missing = append(missing, "policyId")
	}
	if len(missing) > 0 {
		return errorf(http.StatusBadRequest, "InvalidParameter", "Required parameters are missing: %s.", strings.Join(missing, ", "))
	}
	if (d.DisksDefault == nil) == (len(d.DisksToInclude) == 0) {
		return errorf(http.StatusBadRequest, "InvalidParameter", "Exactly one of disksToInclude and disksDefault must be provided.")
	}
	site := s.w.siteID() + "/machines/"
	mid := str(d.FabricDiscoveryMachineID)
	if !strings.HasPrefix(strings.ToLower(mid), strings.ToLower(site)) {
		return errorf(http.StatusNotFound, "ResourceNotFound", "The discovered machine '%s' was not found in site '%s'.", mid, s.w.Seed.Site)
	}
	m := s.w.machine(lastSegment(mid))
	if m == nil {
		return errorf(http.StatusNotFound, "ResourceNotFound", "The discovered machine '%s' was not found in site '%s'.", mid, s.w.Seed.Site)
	}
	if !eq(str(d.ProcessServerID), s.w.Seed.ProcessServerID) {
		return errorf(http.StatusBadRequest, "InvalidParameter", "The process server '%s' is not registered with fabric '%s'.", str(d.ProcessServerID), s.w.Seed.Fabric)
	}
	pol := s.w.policy(lastSegment(str(in.Properties.PolicyID)))
	if pol == "" {
		return errorf(http.StatusNotFound, "ResourceNotFound", "The replication policy '%s' was not found.", str(in.Properties.PolicyID))
	}
	if existing != nil {
		return errorf(http.StatusConflict, "ReplicationProtectedItemAlreadyExists", "The replication protected item '%s' already exists in state '%s'.", name, existing.State)
	}
	for _, o := range s.w.Items {
		if eq(o.Machine, m.Name) {
			return errorf(http.StatusConflict, "ProtectionAlreadyEnabled", "The machine '%s' is already protected by item '%s'.", m.DisplayName, o.Name)
		}
	}
	f := s.fault("create", nil, name, m.DisplayName, str(d.TargetVMName))
	if f != nil && !f.Async {
		return faultError(f)
	}
	target := str(d.TargetVMName)
	if target == "" {
		target = m.DisplayName
	}
	it := &item{
		Name: name, Container: container, Machine: m.Name, Policy: pol, RunAs: str(d.RunAsAccountID),
		TestFailoverState: TestFailoverNone, TargetVMName: target, TargetVMSize: str(d.TargetVMSize),
		TargetResourceGroupID: str(d.TargetResourceGroupID), TargetNetworkID: str(d.TargetNetworkID), TestNetworkID: str(d.TestNetworkID),
		TargetZone: str(d.TargetAvailabilityZone), TargetAvailabilitySet: str(d.TargetAvailabilitySetID), TargetPPG: str(d.TargetProximityPlacementGroupID),
		BootDiagnostics: str(d.TargetBootDiagnosticsStorageAccountID), LicenseType: "NoLicenseType", SQLLicenseType: "NotSpecified", LinuxLicenseType: "NotSpecified",
		SecurityType: "None",
	}
	if d.LicenseType != nil {
		it.LicenseType = string(*d.LicenseType)
	}
	if d.SQLServerLicenseType != nil {
		it.SQLLicenseType = string(*d.SQLServerLicenseType)
	}
	if d.LinuxLicenseType != nil {
		it.LinuxLicenseType = string(*d.LinuxLicenseType)
	}
	it.MultiVMGroup = str(d.MultiVMGroupName)
	if sp := d.TargetVMSecurityProfile; sp != nil && sp.TargetVMSecureBoot != nil {
		it.SecureBoot = string(*sp.TargetVMSecureBoot)
	}
	if sp := d.TargetVMSecurityProfile; sp != nil && sp.TargetVMTpm != nil {
		it.TPM = string(*sp.TargetVMTpm)
	}
	if d.TargetVMSecurityProfile != nil && d.TargetVMSecurityProfile.TargetVMSecurityType != nil {
		it.SecurityType = string(*d.TargetVMSecurityProfile.TargetVMSecurityType)
	}
	it.Tags = tags(d.TargetVMTags)
	it.NICTags, it.DiskTags = tags(d.TargetNicTags), tags(d.TargetManagedDiskTags)
	if d.DisksDefault != nil {
		for _, dk := range m.Disks {
			it.Disks = append(it.Disks, itemDisk{ID: dk.ID, Type: string(ptrOr(d.DisksDefault.DiskType, "Standard_LRS")), LogStorage: str(d.DisksDefault.LogStorageAccountID), SizeGB: dk.SizeGB, IsOS: dk.IsOS})
		}
	} else {
		for _, in := range d.DisksToInclude {
			var found *Disk
			for i := range m.Disks {
				if eq(m.Disks[i].ID, str(in.DiskID)) {
					found = &m.Disks[i]
				}
			}
			if found == nil {
				return errorf(http.StatusBadRequest, "InvalidParameter", "The disk '%s' is not a disk of machine '%s'.", str(in.DiskID), m.DisplayName)
			}
			if in.DiskType == nil || str(in.LogStorageAccountID) == "" {
				return errorf(http.StatusBadRequest, "InvalidParameter", "diskType and logStorageAccountId are required for disk '%s'.", str(in.DiskID))
			}
			it.Disks = append(it.Disks, itemDisk{ID: found.ID, Type: string(*in.DiskType), LogStorage: str(in.LogStorageAccountID), SizeGB: found.SizeGB, IsOS: found.IsOS})
		}
	}
	for i, n := range m.NICs {
		it.NICs = append(it.NICs, itemNIC{ID: n.itemNICID(), Primary: i == 0, Selected: true, SourceIP: n.IP, TargetSubnet: str(d.TargetSubnetName), TestSubnet: str(d.TestSubnetName)})
	}
	s.w.Items[it.key()] = it
	j := s.w.startJob(c.now, s.opts.TimeScale, it, ScenarioEnable, f)
	return s.accept(c, it, j, false, s.w.renderItem(it, c.now))
}

func ptrOr[T ~string](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func tags(in []*asr.UserCreatedResourceTag) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, t := range in {
		out[str(t.TagName)] = str(t.TagValue)
	}
	return out
}

func parseFlag(field, v string) (bool, *apiError) {
	switch v {
	case "true", "True":
		return true, nil
	case "false", "False":
		return false, nil
	}
	return false, errorf(http.StatusBadRequest, "InvalidParameter", "%s must be the string \"true\" or \"false\", got %q.", field, v)
}

// update handles PATCH: new target settings, applied when accepted.
func (s *Sim) update(c *reqCtx, it *item) *apiError {
	var in asr.UpdateReplicationProtectedItemInput
	if err := decodeBody(c.r, &in); err != nil {
		return err
	}
	if in.Properties == nil {
		return errorf(http.StatusBadRequest, "InvalidParameter", "properties is required.")
	}
	d, ok := in.Properties.ProviderSpecificDetails.(*asr.InMageRcmUpdateReplicationProtectedItemInput)
	if !ok {
		return errorf(http.StatusBadRequest, "InvalidParameter", "providerSpecificDetails.instanceType must be InMageRcm.")
	}
	if (it.State != StateProtected && it.State != StateInitialReplication) || it.TestFailoverState != TestFailoverNone && it.TestFailoverState != TestFailoverCleaned || it.Scenario != "" && s.w.Jobs[it.JobID] != nil && s.w.Jobs[it.JobID].State == "InProgress" {
		return errorf(http.StatusConflict, "OperationNotAllowed", "The virtual machine '%s' cannot be updated in protection state '%s' (test failover state '%s').", it.TargetVMName, it.State, it.TestFailoverState)
	}
	f := s.fault("update", it)
	if f != nil && !f.Async {
		return faultError(f)
	}
	nics := append([]itemNIC(nil), it.NICs...)
	for _, n := range d.VMNics {
		idx := -1
		for i := range nics {
			if eq(nics[i].ID, str(n.NicID)) {
				idx = i
			}
		}
		if idx < 0 {
			return errorf(http.StatusBadRequest, "InvalidParameter", "The NIC '%s' does not belong to the virtual machine '%s'.", str(n.NicID), it.TargetVMName)
		}
		if n.IsPrimaryNic == nil {
			// Required in InMageRcmNicInput, with nicId.
			return errorf(http.StatusBadRequest, "InvalidParameter", "isPrimaryNic is required for NIC '%s'.", str(n.NicID))
		}
		if n.IsPrimaryNic != nil {
			v, err := parseFlag("isPrimaryNic", *n.IsPrimaryNic)
			if err != nil {
				return err
			}
			nics[idx].Primary = v
		}
		if n.IsSelectedForFailover != nil {
			v, err := parseFlag("isSelectedForFailover", *n.IsSelectedForFailover)
			if err != nil {
				return err
			}
			nics[idx].Selected = v
		}
		set(&nics[idx].TargetSubnet, n.TargetSubnetName)
		set(&nics[idx].TargetIP, n.TargetStaticIPAddress)
		set(&nics[idx].TestSubnet, n.TestSubnetName)
		set(&nics[idx].TestIP, n.TestStaticIPAddress)
		set(&nics[idx].TargetName, n.TargetNicName)
	}
	it.NICs = nics
	set(&it.TargetVMName, d.TargetVMName)
	set(&it.TargetVMSize, d.TargetVMSize)
	set(&it.TargetResourceGroupID, d.TargetResourceGroupID)
	set(&it.TargetNetworkID, d.TargetNetworkID)
	set(&it.TestNetworkID, d.TestNetworkID)
	set(&it.TargetZone, d.TargetAvailabilityZone)
	set(&it.TargetAvailabilitySet, d.TargetAvailabilitySetID)
	set(&it.TargetPPG, d.TargetProximityPlacementGroupID)
	set(&it.BootDiagnostics, d.TargetBootDiagnosticsStorageAccountID)
	if d.LicenseType != nil {
		it.LicenseType = string(*d.LicenseType)
	}
	if d.SQLServerLicenseType != nil {
		it.SQLLicenseType = string(*d.SQLServerLicenseType)
	}
	if d.LinuxLicenseType != nil {
		it.LinuxLicenseType = string(*d.LinuxLicenseType)
	}
	if d.TargetNicTags != nil {
		it.NICTags = tags(d.TargetNicTags)
	}
	if d.TargetManagedDiskTags != nil {
		it.DiskTags = tags(d.TargetManagedDiskTags)
	}
	if d.TargetVMTags != nil {
		it.Tags = tags(d.TargetVMTags)
	}
	j := s.w.startJob(c.now, s.opts.TimeScale, it, ScenarioUpdate, f)
	return s.accept(c, it, j, false, s.w.renderItem(it, c.now))
}

func set(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// actions maps the POST action (or purge) to the allowedOperations entry
// that gates it and the job scenario it starts.
var actions = map[string]struct{ gate, scenario string }{
	"testfailover":        {"TestFailover", ScenarioTestFailover},
	"testfailovercleanup": {"TestFailoverCleanup", ScenarioTestCleanup},
	"unplannedfailover":   {"UnplannedFailover", ScenarioUnplannedFailover},
	"failovercancel":      {"CancelFailover", ScenarioCancelFailover},
	"failovercommit":      {"Commit", ScenarioCommit},
	"remove":              {"DisableProtection", ScenarioDisable},
	"purge":               {"", ScenarioPurge},
}

func (s *Sim) action(c *reqCtx, it *item, name string) *apiError {
	a, ok := actions[strings.ToLower(name)]
	if !ok {
		return errorf(http.StatusNotFound, "ResourceNotFound", "The action '%s' is not supported by the simulator.", name)
	}
	if a.gate != "" && !s.w.allows(it, a.gate) {
		return errorf(http.StatusConflict, "OperationNotAllowed",
			"The operation '%s' is not allowed for the virtual machine '%s' in protection state '%s' (test failover state '%s'). Allowed operations: %s.",
			a.gate, it.TargetVMName, it.State, it.TestFailoverState, strings.Join(s.w.allowedOperations(it), ", "))
	}
	performShutdown := false
	switch strings.ToLower(name) {
	case "testfailover":
		var in asr.TestFailoverInput
		if err := decodeBody(c.r, &in); err != nil {
			return err
		}
		if in.Properties == nil {
			return errorf(http.StatusBadRequest, "InvalidParameter", "properties is required.")
		}
		d, ok := in.Properties.ProviderSpecificDetails.(*asr.InMageRcmTestFailoverInput)
		if !ok {
			return errorf(http.StatusBadRequest, "InvalidParameter", "providerSpecificDetails.instanceType must be InMageRcm.")
		}
		if str(d.NetworkID) == "" && it.TestNetworkID == "" {
			return errorf(http.StatusBadRequest, "InvalidParameter", "No test network is configured for the virtual machine '%s' and none was given.", it.TargetVMName)
		}
		if err := s.checkFailover(it, str(d.RecoveryPointID)); err != nil {
			return err
		}
	case "unplannedfailover":
		var in asr.UnplannedFailoverInput
		if err := decodeBody(c.r, &in); err != nil {
			return err
		}
		if in.Properties == nil {
			return errorf(http.StatusBadRequest, "InvalidParameter", "properties is required.")
		}
		d, ok := in.Properties.ProviderSpecificDetails.(*asr.InMageRcmUnplannedFailoverInput)
		if !ok {
			return errorf(http.StatusBadRequest, "InvalidParameter", "providerSpecificDetails.instanceType must be InMageRcm.")
		}
		if d.PerformShutdown != nil {
			if _, err := parseFlag("performShutdown", *d.PerformShutdown); err != nil {
				return err
			}
			logField(c.r, "performShutdown", *d.PerformShutdown)
			performShutdown, _ = parseFlag("performShutdown", *d.PerformShutdown)
		}
		logField(c.r, "recoveryPointId", str(d.RecoveryPointID))
		if err := s.checkFailover(it, str(d.RecoveryPointID)); err != nil {
			return err
		}
	}
	f := s.fault(name, it)
	if f != nil && !f.Async {
		return faultError(f)
	}
	if performShutdown && s.opts.OnSourceShutdown != nil {
		if m := s.w.machine(it.Machine); m != nil {
			s.opts.OnSourceShutdown(m.DisplayName)
		}
	}
	j := s.w.startJob(c.now, s.opts.TimeScale, it, a.scenario, f)
	return s.accept(c, it, j, a.scenario == ScenarioDisable || a.scenario == ScenarioPurge, s.w.renderJob(j))
}

func (s *Sim) checkFailover(it *item, rp string) *apiError {
	if it.Unhealthy != "" {
		return errorf(http.StatusBadRequest, "ReplicationNotHealthy", "Replication of the virtual machine '%s' is not healthy: %s", it.TargetVMName, it.Unhealthy)
	}
	n, _ := it.points(s.opts.Now(), s.opts.TimeScale)
	if rp == "" {
		if n == 0 {
			return errorf(http.StatusBadRequest, "RecoveryPointNotFound", "No recovery point is available for the virtual machine '%s'.", it.TargetVMName)
		}
		return nil
	}
	for k := 1; k <= n; k++ {
		if eq(rp, s.w.recoveryPointID(it, k)) {
			return nil
		}
	}
	return errorf(http.StatusBadRequest, "RecoveryPointNotFound", "The recovery point '%s' was not found for the virtual machine '%s'.", lastSegment(rp), it.TargetVMName)
}
