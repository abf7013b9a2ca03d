package vcenter

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// Customization describes guest customization without a stored spec. It
// carries no secrets: domain joins and administrator passwords belong in a
// stored spec (CustomizationSpecName), which vCenter keeps encrypted.
type Customization struct {
	Windows  bool   `json:"windows,omitempty"`
	Hostname string `json:"hostname"`
	// Domain is the DNS domain (Linux) or, for Windows, the workgroup to
	// join when Workgroup is empty.
	Domain    string `json:"domain,omitempty"`
	Workgroup string `json:"workgroup,omitempty"`
	// TimeZone is an Olson name for Linux ("Europe/Berlin"); WindowsTimeZone
	// is the Microsoft time zone index for Windows (85 = GMT).
	TimeZone        string       `json:"timeZone,omitempty"`
	WindowsTimeZone int32        `json:"windowsTimeZone,omitempty"`
	DNSServers      []string     `json:"dnsServers,omitempty"`
	DNSSuffixes     []string     `json:"dnsSuffixes,omitempty"`
	NICs            []NICSetting `json:"nics,omitempty"`
}

// NICSetting configures one adapter, in device order: DHCP unless IP is set.
type NICSetting struct {
	IP       string   `json:"ip,omitempty"`
	Netmask  string   `json:"netmask,omitempty"`
	Gateways []string `json:"gateways,omitempty"`
	DNS      []string `json:"dns,omitempty"`
}

// Spec builds the vSphere customization spec.
func (cu Customization) Spec() (types.CustomizationSpec, error) {
	if cu.Hostname == "" {
		return types.CustomizationSpec{}, fmt.Errorf("customization: hostname is required")
	}
	spec := types.CustomizationSpec{
		GlobalIPSettings: types.CustomizationGlobalIPSettings{
			DnsServerList: cu.DNSServers, DnsSuffixList: cu.DNSSuffixes,
		},
	}
	name := &types.CustomizationFixedName{Name: cu.Hostname}
	if cu.Windows {
		tz := cu.WindowsTimeZone
		if tz == 0 {
			tz = 85
		}
		wg := cu.Workgroup
		if wg == "" {
			wg = cu.Domain
		}
		if wg == "" {
			wg = "WORKGROUP"
		}
		spec.Identity = &types.CustomizationSysprep{
			GuiUnattended:  types.CustomizationGuiUnattended{TimeZone: tz},
			UserData:       types.CustomizationUserData{FullName: "cutover", OrgName: "cutover", ComputerName: name},
			Identification: types.CustomizationIdentification{JoinWorkgroup: wg},
		}
		spec.Options = &types.CustomizationWinOptions{ChangeSID: true}
	} else {
		hwClockUTC := true
		spec.Identity = &types.CustomizationLinuxPrep{
			HostName: name, Domain: cu.Domain, TimeZone: cu.TimeZone, HwClockUTC: &hwClockUTC,
		}
	}
	nics := cu.NICs
	if len(nics) == 0 {
		nics = []NICSetting{{}}
	}
	for i, n := range nics {
		ip := types.CustomizationIPSettings{Gateway: n.Gateways, DnsServerList: n.DNS}
		if n.IP == "" {
			ip.Ip = &types.CustomizationDhcpIpGenerator{}
		} else {
			if n.Netmask == "" {
				return types.CustomizationSpec{}, fmt.Errorf("customization: NIC %d: static IP %s without netmask", i, n.IP)
			}
			ip.Ip = &types.CustomizationFixedIp{IpAddress: n.IP}
			ip.SubnetMask = n.Netmask
		}
		spec.NicSettingMap = append(spec.NicSettingMap, types.CustomizationAdapterMapping{Adapter: ip})
	}
	return spec, nil
}

// customizationSpec resolves a stored spec by name or builds one.
func (c *Client) customizationSpec(ctx context.Context, name string, cu *Customization) (*types.CustomizationSpec, error) {
	if name != "" && cu != nil {
		return nil, fmt.Errorf("customization: give a stored spec name or settings, not both")
	}
	if name != "" {
		item, err := object.NewCustomizationSpecManager(c.vim).GetCustomizationSpec(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("customization spec %q: %w", name, err)
		}
		return &item.Spec, nil
	}
	if cu == nil {
		return nil, nil
	}
	spec, err := cu.Spec()
	if err != nil {
		return nil, err
	}
	return &spec, nil
}

// GuestCustomization is what CustomizeGuest applies: a stored spec by name
// or settings, and the guest login vCenter uses to run it.
type GuestCustomization struct {
	SpecName    string            `json:"specName,omitempty"`
	Settings    *Customization    `json:"settings,omitempty"`
	Credentials *GuestCredentials `json:"credentials,omitempty"`
}

// GuestCredentials log in to the guest OS. The password is never printed,
// logged or serialized.
type GuestCredentials struct {
	Username string
	Password string
}

// String names the guest account without its password.
func (g GuestCredentials) String() string {
	return fmt.Sprintf("guest login %q (password %s)", g.Username, redactedIf(g.Password))
}

// GoString keeps %#v from printing the password.
func (g GuestCredentials) GoString() string { return g.String() }

// LogValue keeps slog from logging the password.
func (g GuestCredentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", g.Username), slog.Bool("password_set", g.Password != ""))
}

// MarshalJSON keeps the password out of journals and plan files.
func (g GuestCredentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Username string `json:"username"`
	}{g.Username})
}

func redactedIf(s string) string {
	if s == "" {
		return "not set"
	}
	return redacted
}

// CustomizeGuest customizes a running guest through vCenter's
// VirtualMachineGuestCustomizationManager (powered on, tools running).
// Customization has no inverse.
func (c *Client) CustomizeGuest(ctx context.Context, vm VMRef, g GuestCustomization, w Watch) (Undo, error) {
	undo := Undo{Op: OpCustomizeGuest, VM: vm}
	spec, err := c.customizationSpec(ctx, g.SpecName, g.Settings)
	if err != nil {
		return undo, &OpError{VM: vm.String(), Op: OpCustomizeGuest, Err: err, Fault: faultName(err)}
	}
	if spec == nil {
		return undo, &OpError{VM: vm.String(), Op: OpCustomizeGuest, Err: fmt.Errorf("no customization given")}
	}
	if g.Credentials == nil || g.Credentials.Username == "" {
		return undo, &OpError{VM: vm.String(), Op: OpCustomizeGuest, Err: fmt.Errorf("guest credentials are required")}
	}
	mgr := c.vim.ServiceContent.GuestCustomizationManager
	if mgr == nil {
		return undo, &OpError{VM: vm.String(), Op: OpCustomizeGuest, Fault: "NotSupported",
			Err: fmt.Errorf("this vCenter has no guest customization manager")}
	}
	w.before(undo)
	_, err = c.run(ctx, vm, OpCustomizeGuest, w, func() (types.ManagedObjectReference, error) {
		r, err := methods.CustomizeGuest_Task(ctx, c.vim, &types.CustomizeGuest_Task{
			This: *mgr, Vm: vmRef(vm.MoRef), Spec: *spec,
			Auth: &types.NamePasswordAuthentication{Username: g.Credentials.Username, Password: g.Credentials.Password},
		})
		if err != nil {
			return types.ManagedObjectReference{}, err
		}
		return r.Returnval, nil
	})
	if IsFault(err, &types.InvalidGuestLogin{}) || IsFault(err, &types.GuestPermissionDenied{}) {
		// Name the account (never the password): the fault alone does not
		// say which login the guest refused.
		e := classify(vm.String(), OpCustomizeGuest, err)
		e.Err = fmt.Errorf("the guest refused the login %q: %w", g.Credentials.Username, e.Err)
		return undo, e
	}
	return undo, err
}

func faultName(err error) string {
	if e := classify("", "", err); e != nil {
		return e.Fault
	}
	return ""
}
