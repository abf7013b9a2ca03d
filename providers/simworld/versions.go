package simworld

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const versionsFile = "vcenter-versions.json"

// pinChangeVersions gives every simulated VM the config.changeVersion it
// had when the world was last saved ("1" when new). vcsim stamps the
// creation time instead, so without this every new process would see every
// VM as reconfigured and every saved plan as stale.
func (w *World) pinChangeVersions() error {
	versions := map[string]string{}
	b, err := os.ReadFile(filepath.Join(w.Dir, versionsFile))
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &versions); err != nil {
			return err
		}
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	ctx := w.VCenter.Context()
	for _, e := range ctx.Map.All("VirtualMachine") {
		vm, ok := e.(*simulator.VirtualMachine)
		if !ok || vm.Config == nil {
			continue
		}
		v := versions[vm.Name]
		if v == "" {
			v = "1"
		}
		ctx.WithLock(vm, func() {
			ctx.Update(vm, []types.PropertyChange{{Name: "config.changeVersion", Val: v, Op: types.PropertyChangeOpAssign}})
		})
	}
	return nil
}

func (w *World) saveChangeVersions(versions map[string]string) error {
	b, err := json.MarshalIndent(versions, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(w.Dir, versionsFile), b, 0o600)
}
