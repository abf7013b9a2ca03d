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
	Blocks: []hcl.BlockHeaderSchema{{Type: "customization"}},
}

var customizationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "spec"}, {Name: "os"}, {Name: "hostname"}, {Name: "domain"}, {Name: "workgroup"},
		{Name: "time_zone"}, {Name: "dns_servers"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "nic"}},
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
	var seen bool
	for _, cb := range content.Blocks {
		if seen {
			d.errorf(&cb.DefRange, "Duplicate customization block", "A rehearsal may have one customization block.")
			continue
		}
		seen = true
		r.Customization = d.decodeCustomization(cb, ctx, vm)
	}
	vm.Rehearsal = r
}

func (d *decoder) decodeCustomization(b *hcl.Block, ctx *hcl.EvalContext, vm *VM) *Customization {
	content, diags := b.Body.Content(customizationSchema)
	d.add(diags)
	c := &Customization{}
	a := newAttrs(ctx, content.Attributes, "rehearsal.customization.", &vm.Sensitive)
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
	for _, nb := range content.Blocks {
		nc, diags := nb.Body.Content(customizationNICSchema)
		d.add(diags)
		var n CustomizationNIC
		na := newAttrs(ctx, nc.Attributes, "rehearsal.customization.nic.", &vm.Sensitive)
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
	return c
}

func checkIPv4(s string) string {
	if p := net.ParseIP(s); p == nil || p.To4() == nil {
		return "is not an IPv4 address."
	}
	return ""
}
