package vcenter_test

import (
	"testing"

	"github.com/vmware/govmomi/vim25/types"

	"cutover/providers/vcenter"
)

func TestCustomizationSpec(t *testing.T) {
	t.Parallel()
	linux, err := vcenter.Customization{
		Hostname: "app01", Domain: "corp.example", TimeZone: "Europe/Berlin",
		DNSServers: []string{"10.0.0.53"}, DNSSuffixes: []string{"corp.example"},
		NICs: []vcenter.NICSetting{
			{IP: "10.1.0.5", Netmask: "255.255.255.0", Gateways: []string{"10.1.0.1"}, DNS: []string{"10.1.0.53"}},
			{},
		},
	}.Spec()
	if err != nil {
		t.Fatal(err)
	}
	prep, ok := linux.Identity.(*types.CustomizationLinuxPrep)
	if !ok || prep.HostName.(*types.CustomizationFixedName).Name != "app01" || prep.Domain != "corp.example" || prep.TimeZone != "Europe/Berlin" {
		t.Fatalf("linux identity %+v", linux.Identity)
	}
	if linux.GlobalIPSettings.DnsServerList[0] != "10.0.0.53" || linux.GlobalIPSettings.DnsSuffixList[0] != "corp.example" {
		t.Fatalf("global IP settings %+v", linux.GlobalIPSettings)
	}
	if len(linux.NicSettingMap) != 2 {
		t.Fatalf("%d NIC settings", len(linux.NicSettingMap))
	}
	static := linux.NicSettingMap[0].Adapter
	if ip, ok := static.Ip.(*types.CustomizationFixedIp); !ok || ip.IpAddress != "10.1.0.5" || static.SubnetMask != "255.255.255.0" ||
		static.Gateway[0] != "10.1.0.1" || static.DnsServerList[0] != "10.1.0.53" {
		t.Fatalf("static NIC %+v", static)
	}
	if _, ok := linux.NicSettingMap[1].Adapter.Ip.(*types.CustomizationDhcpIpGenerator); !ok {
		t.Fatalf("second NIC not DHCP: %+v", linux.NicSettingMap[1].Adapter)
	}

	win, err := vcenter.Customization{Windows: true, Hostname: "WIN01", Workgroup: "LAB", WindowsTimeZone: 110}.Spec()
	if err != nil {
		t.Fatal(err)
	}
	sys, ok := win.Identity.(*types.CustomizationSysprep)
	if !ok || sys.UserData.ComputerName.(*types.CustomizationFixedName).Name != "WIN01" ||
		sys.Identification.JoinWorkgroup != "LAB" || sys.GuiUnattended.TimeZone != 110 {
		t.Fatalf("windows identity %+v", win.Identity)
	}
	if _, ok := win.Options.(*types.CustomizationWinOptions); !ok {
		t.Fatal("windows options missing")
	}
	if _, ok := win.NicSettingMap[0].Adapter.Ip.(*types.CustomizationDhcpIpGenerator); !ok || len(win.NicSettingMap) != 1 {
		t.Fatal("default NIC setting is not one DHCP adapter")
	}

	for name, bad := range map[string]vcenter.Customization{
		"no hostname":           {Domain: "x"},
		"static IP, no netmask": {Hostname: "a", NICs: []vcenter.NICSetting{{IP: "10.0.0.1"}}},
	} {
		if _, err := bad.Spec(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
