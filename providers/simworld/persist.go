package simworld

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"cutover/providers/vcenter"
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
			for i := range dc.VMs {
				sv := &dc.VMs[i]
				live, ok := byName[sv.Name]
				if !ok {
					continue
				}
				sv.PowerState = live.PowerState
				if h, ok := inv.Entity(live.Host); ok {
					sv.Host = h.Name
				}
				sv.Snapshots = flatten(live.Snapshots)
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
