package schema

import (
	"net"

	"github.com/hashicorp/hcl/v2"
)

var rehearsalSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "name"}, {Name: "host"}, {Name: "resource_pool"}, {Name: "datastore"}, {Name: "folder"}, {Name: "power_on"},
		{Name: "network"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "customization"}, {Type: "recustomize"}},
}

var customizationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "spec"}, {Name: "os"}, {Name: "hostname"}, {Name: "domain"}, {Name: "workgroup"},
		{Name: "time_zone"}, {Name: "dns_servers"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "nic"}},
}

// recustomizeSchema is a customization spelled out, plus the guest login
// CustomizeGuest_Task runs it with.
var recustomizeSchema = &hcl.BodySchema{
	Attributes: append(append([]hcl.AttributeSchema{}, customizationSchema.Attributes...),
		hcl.AttributeSchema{Name: "guest_username"}, hcl.AttributeSchema{Name: "guest_password"}),
	Blocks: customizationSchema.Blocks,
}

var customizationNICSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "ip"}, {Name: "netmask"}, {Name: "gateway"}},
}

func (d *decoder) decodeRehearsal(b *hcl.Block, ctx *hcl.EvalContext, vm *VM) {
	if b == nil {
		return
	}
	content, diags := b.Body.Content(rehearsalSchema)
	d.add(diags)
	r := &Rehearsal{DeclRange: b.DefRange, PowerOn: true}
	a := newAttrs(ctx, content.Attributes, "rehearsal.", &vm.Sensitive)
	a.nonEmpty("name", &r.Name)
	a.nonEmpty("host", &r.Host)
	a.nonEmpty("resource_pool", &r.ResourcePool)
	a.nonEmpty("datastore", &r.Datastore)
	a.nonEmpty("folder", &r.Folder)
	a.boolean("power_on", &r.PowerOn)
	a.nonEmpty("network", &r.Network)
	a.check("name", r.Name, "Invalid clone name", func(s string) string {
		if len(s) > 80 {
			return "is longer than the 80 characters vSphere allows in a VM name."
		}
		return ""
	})
	d.add(a.diags)
	if r.Name == "" {
		r.Name = vm.Source.Name + "-rehearsal"
	}
	if r.Host == "" && r.ResourcePool == "" {
		d.errorf(&b.DefRange, "Rehearsal without placement",
			"A rehearsal clone needs a host or a resource_pool to run in, so that it cannot land beside the source by accident.")
	}
	seen := map[string]bool{}
	for _, cb := range content.Blocks {
		if seen[cb.Type] {
			d.errorf(&cb.DefRange, "Duplicate "+cb.Type+" block", "A rehearsal may have one %s block.", cb.Type)
			continue
		}
		seen[cb.Type] = true
		if cb.Type == "customization" {
			c, diags := cb.Body.Content(customizationSchema)
			d.add(diags)
			r.Customization, _ = d.decodeCustomization(c, cb, ctx, vm, "rehearsal.customization.")
			continue
		}
		r.Recustomize = d.decodeRecustomize(cb, ctx, vm, r)
	}
	vm.Rehearsal = r
}

// decodeRecustomize decodes the customization CustomizeGuest_Task applies
// to the running clone. It must be spelled out (no stored spec), so that
// its effect can be read back from the guest, and the clone must run.
func (d *decoder) decodeRecustomize(b *hcl.Block, ctx *hcl.EvalContext, vm *VM, r *Rehearsal) *Recustomize {
	content, diags := b.Body.Content(recustomizeSchema)
	d.add(diags)
	c, a := d.decodeCustomization(content, b, ctx, vm, "rehearsal.recustomize.")
	out := &Recustomize{Customization: *c, DeclRange: b.DefRange}
	a.nonEmpty("guest_username", &out.GuestUsername)
	a.secret("guest_password", &out.GuestPassword)
	if a.has("guest_password") && a.rng("guest_password") != nil && !a.sensitive("guest_password") {
		a.diags = append(a.diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Guest password written in the runbook",
			Detail:   "guest_password is a secret: take it from env() or a sensitive variable rather than writing it in a file kept in Git.",
			Subject:  a.rng("guest_password"),
		})
	}
	d.add(a.diags)
	if c.Spec != "" {
		d.errorf(a.rng("spec"), "Stored spec in recustomize",
			"recustomize must spell the customization out (os, hostname, nic blocks): its effect is read back from the guest, and a stored spec's content is not known to the plan.")
	}
	if out.GuestUsername == "" {
		d.errorf(&b.DefRange, "Missing guest login",
			"CustomizeGuest_Task runs inside the guest: set guest_username and guest_password (from env() or a sensitive variable).")
	}
	if !r.PowerOn {
		d.errorf(&b.DefRange, "Recustomize of a clone that is not running",
			"CustomizeGuest_Task customizes a running guest (its page: the VM must be powered on with VMware Tools running); this rehearsal sets power_on = false.")
	}
	return out
}

func (d *decoder) decodeCustomization(content *hcl.BodyContent, b *hcl.Block, ctx *hcl.EvalContext, vm *VM, prefix string) (*Customization, *attrs) {
	c := &Customization{}
	a := newAttrs(ctx, content.Attributes, prefix, &vm.Sensitive)
	a.nonEmpty("spec", &c.Spec)
	a.enum("os", &c.OS, "linux", "windows")
	a.nonEmpty("hostname", &c.Hostname)
	a.nonEmpty("domain", &c.Domain)
	a.nonEmpty("workgroup", &c.Workgroup)
	a.nonEmpty("time_zone", &c.TimeZone)
	a.strList("dns_servers", &c.DNSServers)
	for _, s := range c.DNSServers {
		a.check("dns_servers", s, "Invalid DNS server", checkIPv4)
	}
	if c.Spec != "" {
		for _, other := range []string{"os", "hostname", "domain", "workgroup", "time_zone", "dns_servers"} {
			if a.has(other) {
				a.errorf(other, "Conflicting customization",
					"spec names a customization spec stored in vCenter; %s would be ignored. Use one or the other.", other)
				break
			}
		}
	} else if c.OS == "" || c.Hostname == "" {
		d.errorf(&b.DefRange, "Incomplete customization",
			"A customization needs either spec (a vCenter customization spec name) or both os and hostname.")
	}
	if c.Domain != "" && c.Workgroup != "" {
		a.errorf("workgroup", "Conflicting customization", "A guest joins a domain or a workgroup, not both.")
	}
	d.add(a.diags)
	a.diags = nil
	for _, nb := range content.Blocks {
		nc, diags := nb.Body.Content(customizationNICSchema)
		d.add(diags)
		var n CustomizationNIC
		na := newAttrs(ctx, nc.Attributes, prefix+"nic.", &vm.Sensitive)
		na.nonEmpty("ip", &n.IP)
		na.nonEmpty("netmask", &n.Netmask)
		na.strList("gateway", &n.Gateway)
		na.check("ip", n.IP, "Invalid IP address", checkIPv4)
		na.check("netmask", n.Netmask, "Invalid netmask", checkIPv4)
		if n.IP != "" && n.Netmask == "" {
			na.errorf("ip", "Missing netmask", "A static IP needs a netmask.")
		}
		d.add(na.diags)
		c.NICs = append(c.NICs, n)
	}
	return c, a
}

func checkIPv4(s string) string {
	if p := net.ParseIP(s); p == nil || p.To4() == nil {
		return "is not an IPv4 address."
	}
	return ""
}
