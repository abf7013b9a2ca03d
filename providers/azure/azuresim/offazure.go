package azuresim

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// serveOffAzure routes .../providers/Microsoft.OffAzure/{rest}: the VMware
// site's discovered machines and run-as accounts. There is no Go SDK for
// these, so the JSON shapes follow the REST reference directly.
func (s *Sim) serveOffAzure(c *reqCtx, rest []string) *apiError {
	if c.r.Method != http.MethodGet {
		return methodNotAllowed(c)
	}
	if len(rest) < 3 || !eq(rest[0], "VMwareSites") {
		return errorf(http.StatusNotFound, "ResourceNotFound", "The resource '%s' was not found.", c.r.URL.Path)
	}
	if !eq(rest[1], s.w.Seed.Site) {
		return errorf(http.StatusNotFound, "ResourceNotFound", "The Resource 'Microsoft.OffAzure/VMwareSites/%s' under resource group '%s' was not found.", rest[1], s.w.Seed.ResourceGroup)
	}
	switch {
	case eq(rest[2], "machines") && len(rest) == 3:
		if f := s.fault("machines", nil); f != nil {
			return faultError(f)
		}
		// Only the page asked for is rendered: rendering every machine for
		// each page made listing a 50,000-machine site quadratic.
		from, to, next := s.page(c, len(s.w.Seed.Machines))
		p := listPage{Value: make([]any, 0, to-from)}
		for i := from; i < to; i++ {
			p.Value = append(p.Value, s.w.renderMachine(&s.w.Seed.Machines[i]))
		}
		if next != "" {
			p.NextLink = &next
		}
		return writeJSON(c.w, http.StatusOK, p)
	case eq(rest[2], "machines") && len(rest) == 4:
		if m := s.w.machine(rest[3]); m != nil {
			return writeJSON(c.w, http.StatusOK, s.w.renderMachine(m))
		}
		return errorf(http.StatusNotFound, "ResourceNotFound", "The machine '%s' was not found in site '%s'.", rest[3], s.w.Seed.Site)
	case eq(rest[2], "runasaccounts") && len(rest) == 3:
		if f := s.fault("runasaccounts", nil); f != nil {
			return faultError(f)
		}
		all := make([]any, 0, len(s.w.Seed.RunAsAccounts))
		for _, a := range s.w.Seed.RunAsAccounts {
			all = append(all, s.w.renderRunAs(a))
		}
		return s.writePage(c, all)
	case eq(rest[2], "runasaccounts") && len(rest) == 4:
		for _, a := range s.w.Seed.RunAsAccounts {
			if eq(a.Name, rest[3]) {
				return writeJSON(c.w, http.StatusOK, s.w.renderRunAs(a))
			}
		}
		return errorf(http.StatusNotFound, "ResourceNotFound", "The run-as account '%s' was not found in site '%s'.", rest[3], s.w.Seed.Site)
	}
	return errorf(http.StatusNotFound, "ResourceNotFound", "The resource '%s' was not found.", c.r.URL.Path)
}

var discovered = time.Date(2026, 3, 30, 12, 50, 24, 0, time.UTC)

func (w *world) renderMachine(m *Machine) map[string]any {
	disks := make([]map[string]any, 0, len(m.Disks))
	for i, d := range m.Disks {
		disks = append(disks, map[string]any{
			"uuid": d.ID, "diskId": d.ID, "name": fmt.Sprintf("Hard disk %d", i+1), "label": fmt.Sprintf("Hard disk %d", i+1),
			"maxSizeInBytes": int64(d.SizeGB) << 30, "lun": i, "diskType": "Flat", "diskMode": "persistent",
		})
	}
	nics := make([]map[string]any, 0, len(m.NICs))
	for _, n := range m.NICs {
		nics = append(nics, map[string]any{
			"nicId": n.ID, "macAddress": n.MAC, "ipAddressList": []string{n.IP}, "networkName": n.Network, "ipAddressType": "Dynamic",
		})
	}
	return map[string]any{
		"id":   w.machineID(m.Name),
		"name": m.Name,
		"type": "Microsoft.OffAzure/VMwareSites/machines",
		"properties": map[string]any{
			"displayName":           m.DisplayName,
			"instanceUuid":          "5003" + strings.TrimPrefix(m.Name, "machine-"),
			"firmware":              m.Firmware,
			"numberOfProcessorCore": m.Cores,
			"allocatedMemoryInMB":   float64(m.MemoryMB),
			"powerStatus":           "ON",
			"disks":                 disks,
			"networkAdapters":       nics,
			"operatingSystemDetails": map[string]any{
				"osType": m.OSType, "osName": m.OSName, "osArchitecture": "x64",
			},
			"applianceNames":   []string{w.Seed.Appliance},
			"vCenterId":        w.siteID() + "/vcenters/vcenter-01",
			"isDeleted":        false,
			"createdTimestamp": discovered,
			"updatedTimestamp": discovered,
		},
	}
}

func (w *world) renderRunAs(a RunAsAccount) map[string]any {
	return map[string]any{
		"id":   w.runAsID(a.Name),
		"name": a.Name,
		"type": "Microsoft.OffAzure/VMwareSites/runasaccounts",
		"properties": map[string]any{
			"displayName": a.DisplayName, "credentialType": a.CredentialType, "applianceName": w.Seed.Appliance,
			"createdTimestamp": discovered, "updatedTimestamp": discovered,
		},
	}
}
