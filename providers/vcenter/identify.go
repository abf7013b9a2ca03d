package vcenter

import (
	"context"
	"fmt"

	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// identityProperties are what matching a runbook's selector needs of a
// VM (name, path, instance UUID, its fault-tolerance group): a few bytes
// each, where the full vmProperties carry device trees.
var identityProperties = []string{"name", "parent", "parentVApp", "config.instanceUuid", "config.ftInfo"}

// Identify reads what Discover reads, except that each VM carries only its
// identity: name, path, moref, datacenter, instance UUID and fault
// tolerance role and partners. Matching a selector against it gives the
// same answer as against a full discovery (ambiguities included), and
// placement objects' paths are all there; ReadVMs then reads the full
// records of the VMs wanted, in the order they are wanted. Apply uses the
// pair to check its first VMs before the last are read.
func (c *Client) Identify(ctx context.Context) (*Inventory, error) {
	relogins := c.Relogins()
	inv, err := c.identify(ctx)
	if err != nil && c.Relogins() != relogins {
		// As in Discover: the view belonged to the expired session.
		c.log.Info("session changed while identifying VMs; reading again", "vcenter", c.name)
		return c.identify(ctx)
	}
	return inv, err
}

func (c *Client) identify(ctx context.Context) (*Inventory, error) {
	return c.discover(ctx, "identifying VMs", identityProperties)
}

// ReadVMs reads the full records (everything Discover reads) of the VMs
// of inv with the given morefs, in one paged RetrievePropertiesEx naming
// them. Each record keeps the path and datacenter inv gave it. A VM
// renamed or moved to another folder since inv was read is an error: its
// match may no longer hold, and the caller reads again.
func (c *Client) ReadVMs(ctx context.Context, inv *Inventory, morefs []string) ([]*VM, error) {
	if len(morefs) == 0 {
		return nil, nil
	}
	spec := types.PropertyFilterSpec{PropSet: []types.PropertySpec{{Type: "VirtualMachine", PathSet: vmProperties}}}
	for _, ref := range morefs {
		spec.ObjectSet = append(spec.ObjectSet, types.ObjectSpec{Obj: types.ManagedObjectReference{Type: "VirtualMachine", Value: ref}})
	}
	out := make([]*VM, 0, len(morefs))
	err := c.retrieveSpec(ctx, spec, discoverPageSize, func(contents []types.ObjectContent) error {
		for _, oc := range contents {
			oc.MissingSet = nil // inaccessible VMs keep what could be read, as in Discover
			v, err := mo.ObjectContentToType(oc)
			if err != nil {
				return fmt.Errorf("decode %s: %w", oc.Obj.Value, err)
			}
			m := v.(mo.VirtualMachine)
			full := vmFromMO(&m)
			known, ok := inv.vmByRef[full.MoRef]
			if !ok {
				continue
			}
			if known.Name != full.Name || known.Folder != full.Folder {
				return fmt.Errorf("VM %s (%s) was renamed or moved while it was read; read again", known.Path, known.MoRef)
			}
			full.Path, full.Datacenter = known.Path, known.Datacenter
			out = append(out, full)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vcenter %q: reading %d VMs: %w", c.name, len(morefs), err)
	}
	return out, nil
}
