package schema

import (
	"reflect"

	"github.com/hashicorp/hcl/v2"
)

var replicationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "policy"}, {Name: "run_as_account"}, {Name: "multi_vm_group"},
		{Name: "disk_type"}, {Name: "log_storage_account"}, {Name: "disk_encryption_set"}, {Name: "max_rpo"},
	},
}

func (d *decoder) decodeReplicationAttrs(a *attrs, r *Replication) {
	a.nonEmpty("policy", &r.Policy)
	a.nonEmpty("run_as_account", &r.RunAsAccount)
	a.nonEmpty("multi_vm_group", &r.MultiVMGroup)
	a.enum("disk_type", &r.DiskType, DiskTypes...)
	a.nonEmpty("log_storage_account", &r.LogStorageAccount)
	a.nonEmpty("disk_encryption_set", &r.DiskEncryptionSet)
	a.nonEmpty("max_rpo", &r.MaxRPO)
	a.check("log_storage_account", r.LogStorageAccount, "Malformed storage account ID", checkResource("Microsoft.Storage/storageAccounts"))
	a.check("disk_encryption_set", r.DiskEncryptionSet, "Malformed disk encryption set ID", checkResource("Microsoft.Compute/diskEncryptionSets"))
	a.check("max_rpo", r.MaxRPO, "Invalid max_rpo", checkGoDuration)
}

func (d *decoder) decodeReplication(b *hcl.Block, ctx *hcl.EvalContext, vm *VM) {
	if b == nil {
		return
	}
	content, diags := b.Body.Content(replicationSchema)
	d.add(diags)
	a := newAttrs(ctx, content.Attributes, "replication.", &vm.Sensitive)
	d.decodeReplicationAttrs(a, &vm.Replication)
	d.add(a.diags)
}

var defaultsSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{{Type: "replication"}, {Type: "target"}},
}

func (d *decoder) decodeDefaults() {
	for _, b := range d.blocks["defaults"] {
		content, diags := b.Body.Content(defaultsSchema)
		d.add(diags)
		def := &Defaults{DeclRange: b.DefRange}
		for _, nb := range content.Blocks {
			switch nb.Type {
			case "replication":
				c, diags := nb.Body.Content(replicationSchema)
				d.add(diags)
				a := newAttrs(d.ctx, c.Attributes, "defaults.replication.", nil)
				d.decodeReplicationAttrs(a, &def.Replication)
				d.add(a.diags)
			case "target":
				c, diags := nb.Body.Content(defaultTargetSchema)
				d.add(diags)
				a := newAttrs(d.ctx, c.Attributes, "defaults.target.", nil)
				d.decodeTargetAttrs(a, &def.Target, nb.DefRange)
				d.add(a.diags)
			}
		}
		d.rb.Defaults = def
	}
}

// applyDefaults fills every setting the vm left unset from defaults.
func (d *decoder) applyDefaults(vm *VM) {
	if d.rb.Defaults == nil {
		return
	}
	fillZero(reflect.ValueOf(&vm.Target).Elem(), reflect.ValueOf(d.rb.Defaults.Target))
	fillZero(reflect.ValueOf(&vm.Replication).Elem(), reflect.ValueOf(d.rb.Defaults.Replication))
}

// fillZero copies each field of def into dst where dst's field is the zero
// value. Both are the same struct type.
func fillZero(dst, def reflect.Value) {
	for i := 0; i < dst.NumField(); i++ {
		f := dst.Field(i)
		if f.CanSet() && f.IsZero() {
			f.Set(def.Field(i))
		}
	}
}
