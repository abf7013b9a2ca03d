package planner

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"cutover/providers/azure"
	"cutover/schema"
)

// NICKey names a runbook nic block in plans: its MAC address, or its
// nic_id, as written.
func NICKey(n schema.NIC) string {
	if n.MAC != "" {
		return n.MAC
	}
	return n.NICID
}

// NICAttribute is the attribute a plan change uses for one field of a nic
// block: target.nic["00:50:56:aa:bb:cc"].static_ip.
func NICAttribute(key, field string) string {
	return "target.nic[" + strconv.Quote(key) + "]." + field
}

// ParseNICAttribute splits an attribute NICAttribute made, with or
// without its "target." prefix.
func ParseNICAttribute(attr string) (key, field string, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimPrefix(attr, "target."), "nic[")
	if !found {
		return "", "", false
	}
	end := strings.LastIndex(rest, "].")
	if end < 0 {
		return "", "", false
	}
	key, err := strconv.Unquote(rest[:end])
	if err != nil {
		return "", "", false
	}
	return key, rest[end+2:], true
}

// declaredNIC is what the runbook sets on one NIC, by field; fields it
// leaves unset are absent.
func declaredNIC(n schema.NIC) map[string]string {
	out := map[string]string{}
	flag := func(field string, v *bool) {
		if v != nil {
			out[field] = strconv.FormatBool(*v)
		}
	}
	flag("primary", n.Primary)
	flag("selected", n.Selected)
	for field, v := range map[string]string{"subnet": n.Subnet, "static_ip": n.StaticIP, "test_subnet": n.TestSubnet,
		"test_static_ip": n.TestStaticIP, "target_name": n.TargetName} {
		if v != "" {
			out[field] = v
		}
	}
	return out
}

// NICFieldValue is one field of a replicated NIC, named as in a runbook
// nic block (primary, selected, subnet, static_ip, test_subnet,
// test_static_ip, target_name).
func NICFieldValue(n azure.NIC, field string) string {
	switch field {
	case "primary":
		return strconv.FormatBool(n.Primary)
	case "selected":
		return strconv.FormatBool(n.Selected)
	case "subnet":
		return n.TargetSubnet
	case "static_ip":
		return n.TargetIP
	case "test_subnet":
		return n.TestSubnet
	case "test_static_ip":
		return n.TestIP
	case "target_name":
		return n.TargetName
	}
	return ""
}

// NICSettings pairs the runbook's nic blocks with the item's replicated
// NICs: want holds every field the runbook sets and have the item's value
// of it, both keyed by NICAttribute. A nic block that matches no
// replicated NIC is an error naming the NICs there are. With a nil item
// have is empty.
func NICSettings(vm *schema.VM, m *azure.Machine, it *azure.ProtectedItem) (want, have map[string]string, err error) {
	want, have = map[string]string{}, map[string]string{}
	for _, n := range vm.Target.NICs {
		key := NICKey(n)
		fields := declaredNIC(n)
		for field, v := range fields {
			want[NICAttribute(key, field)] = v
		}
		if it == nil || len(fields) == 0 {
			continue
		}
		live, ok := FindNIC(it, m, key)
		if !ok {
			var known []string
			for _, rn := range it.Target.NICs {
				known = append(known, rn.ID)
			}
			if m != nil {
				for _, mn := range m.NICs {
					known = append(known, mn.MAC)
				}
			}
			sort.Strings(known)
			return nil, nil, fmt.Errorf("nic %q is not a replicated NIC of %s (NICs: %s)", key, it.VM, strings.Join(known, ", "))
		}
		for field := range fields {
			have[NICAttribute(key, field)] = NICFieldValue(live, field)
		}
	}
	return want, have, nil
}

// FindNIC finds the item's replicated NIC a nic block's key names: a MAC
// address or a NIC ID. For a VMware machine the item's nicId is the source
// NIC's MAC (what the Terraform provider sends as nicId), so a MAC matches
// it directly; a MAC is also translated through the discovered machine's
// adapters, for items that report the discovered NIC ID instead.
func FindNIC(it *azure.ProtectedItem, m *azure.Machine, key string) (azure.NIC, bool) {
	for _, rn := range it.Target.NICs {
		if sameMAC(rn.ID, key) {
			return rn, true
		}
	}
	id := key
	if m != nil {
		for _, mn := range m.NICs {
			if mn.MAC != "" && sameMAC(mn.MAC, key) {
				id = mn.ID
			}
		}
	}
	for _, rn := range it.Target.NICs {
		if strings.EqualFold(rn.ID, id) {
			return rn, true
		}
	}
	return azure.NIC{}, false
}

// sameMAC compares MAC addresses written with colons or dashes, in
// either case.
func sameMAC(a, b string) bool {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", ":") }
	return norm(a) == norm(b)
}

// SameNICValue compares one field of a NIC: subnets as Azure names,
// addresses and flags exactly.
func SameNICValue(field, want, have string) bool {
	if strings.HasSuffix(field, "subnet") {
		return SameResource(want, have)
	}
	return want == have
}
