package simworld

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"cutover/providers/vcenter"
	"cutover/providers/vcenter/vcentersim"
)

// Persist writes what commands changed in the simulated vCenter (power
// state, host, snapshots of each VM) back to the world file, so that the
// next command, a new process with a new simulator, starts from it. The
// simulated vaults keep their own state file as they go.
func (w *World) Persist(ctx context.Context) error {
	for _, cfg := range w.VCenterConfigs {
		c, err := vcenter.Connect(ctx, cfg)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		inv, err := c.Discover(ctx)
		if err != nil {
			return err
		}
		byName := map[string]*vcenter.VM{}
		versions := map[string]string{}
		for _, vm := range inv.VMs {
			byName[vm.Name] = vm
			versions[vm.Name] = vm.ChangeVersion
		}
		if err := w.saveChangeVersions(versions); err != nil {
			return err
		}
		for d := range w.desc.Datacenters {
			dc := &w.desc.Datacenters[d]
			known := map[string]bool{}
			// A VM a command destroyed (a rolled-back rehearsal clone) is
			// gone from the next process's world too.
			kept := dc.VMs[:0]
			for _, sv := range dc.VMs {
				if _, ok := byName[sv.Name]; ok {
					kept = append(kept, sv)
				}
			}
			dc.VMs = kept
			for i := range dc.VMs {
				sv := &dc.VMs[i]
				known[sv.Name] = true
				if sv.FTSecondary != nil {
					name := sv.FTSecondary.Name
					if name == "" {
						name = sv.Name + " (secondary)"
					}
					known[name] = true
				}
				live, ok := byName[sv.Name]
				if !ok {
					continue
				}
				placeFromLive(sv, inv, live)
				sv.Snapshots = flatten(live.Snapshots)
			}
			// VMs commands created (rehearsal clones) are kept too, with
			// their adapters' networks and connection state.
			for _, live := range inv.VMs {
				if known[live.Name] || live.FTRole > 1 || !strings.HasPrefix(live.Path, "/"+dc.Name+"/") {
					continue
				}
				sv := vcentersim.VM{Name: live.Name, GuestID: live.GuestID, Template: live.Template}
				placeFromLive(&sv, inv, live)
				for _, disk := range live.Disks {
					sv.Disks = append(sv.Disks, vcentersim.Disk{SizeGB: max(1, disk.SizeBytes>>30)})
				}
				for _, n := range live.NICs {
					nic := vcentersim.NIC{MAC: n.MAC, Disconnected: !n.StartConnected}
					if e, ok := inv.Entity(n.Network); ok && e.Name != "VM Network" {
						nic.Network = e.Name
					}
					sv.NICs = append(sv.NICs, nic)
				}
				dc.VMs = append(dc.VMs, sv)
			}
		}
		break // every vcenter block shares the one simulator
	}
	b, err := json.MarshalIndent(w.desc, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(w.Dir, vcenterFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(w.Dir, vcenterFile))
}

// placeFromLive copies a VM's live placement, power state and guest
// identity into its world description: names relative to the datacenter,
// as the world file declares them.
func placeFromLive(sv *vcentersim.VM, inv *vcenter.Inventory, live *vcenter.VM) {
	sv.PowerState = live.PowerState
	if sv.PowerState == "" || sv.Template {
		sv.PowerState = "poweredOff"
	}
	segs := func(moref string) []string {
		if e, ok := inv.Entity(moref); ok {
			return strings.Split(strings.Trim(e.Path, "/"), "/")
		}
		return nil
	}
	// /DC/host/CLUSTER/HOST
	if p := segs(live.Host); len(p) >= 4 {
		sv.Cluster, sv.Host = p[2], p[len(p)-1]
	}
	// /DC/host/CLUSTER/Resources[/POOL]
	if p := segs(live.Pool); len(p) >= 4 {
		sv.Pool = ""
		if p[len(p)-1] != "Resources" {
			sv.Pool = p[len(p)-1]
		}
	}
	if len(live.Datastores) > 0 {
		if e, ok := inv.Entity(live.Datastores[0]); ok {
			sv.Datastore = e.Name
		}
	}
	// /DC/vm[/FOLDER...]
	if p := segs(live.Folder); len(p) >= 2 {
		sv.Folder = strings.Join(p[2:], "/")
	}
	sv.GuestHostName, sv.GuestIP = "", ""
	if live.PowerState == "poweredOn" {
		sv.GuestHostName, sv.GuestIP = live.GuestHostName, live.GuestIP
	}
}

// flatten lists snapshot names depth first, as the world file recreates
// them (each a child of the previous).
func flatten(tree []vcenter.Snapshot) []string {
	var out []string
	for _, s := range tree {
		out = append(out, strings.TrimSpace(s.Name))
		out = append(out, flatten(s.Children)...)
	}
	return out
}
