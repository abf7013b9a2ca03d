package simworld

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"cutover/providers/azure"
	"cutover/providers/azure/azuresim"
	"cutover/providers/vcenter"
	"cutover/providers/vcenter/vcentersim"
	"cutover/schema"
)

// Options tune the world.
type Options struct {
	// TimeScale scales simulated ASR job durations (see azuresim.Options).
	TimeScale float64
	// InMemory keeps the simulated vaults' state in memory only, for
	// benchmarks: the state file shared between processes is rewritten on
	// every change, which caps a large world's request rate.
	InMemory bool
	// Throttle is every simulated vault's ARM write throttle (zero: off).
	Throttle azuresim.Throttle
}

// World is a running simulated world.
type World struct {
	Dir     string
	VCenter *vcentersim.Sim
	Vaults  map[string]*azuresim.Sim
	servers []*azuresim.Server
	desc    vcentersim.World
	poll    time.Duration
	// VCenterConfigs and AzureConfigs connect the real providers to the
	// simulators, keyed by runbook block name.
	VCenterConfigs map[string]vcenter.Config
	AzureConfigs   map[string]azure.Config
}

// AzureOptions are the client options for a simulated vault: its token.
func (w *World) AzureOptions() *azure.Options {
	return &azure.Options{Credential: simToken{}, PollInterval: w.poll}
}

// Close stops every simulator.
func (w *World) Close() {
	for _, s := range w.servers {
		_ = s.Close()
	}
	if w.VCenter != nil {
		w.VCenter.Close()
	}
}

const vcenterFile = "vcenter.json"

// VCenterFaultFile is the file of faults armed for the simulated vCenter
// of the world kept in dir (cutover sim fault add). Every process that
// opens the world reads it at each call that can fail, so a fault armed
// from another process is met by a running apply or sim serve.
func VCenterFaultFile(dir string) string { return filepath.Join(dir, "vcenter-faults.json") }

// Open starts the world kept in dir, creating it from the runbook first if
// dir holds none.
func Open(ctx context.Context, rb *schema.Runbook, dir string, opts Options) (*World, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	w := &World{Dir: dir, Vaults: map[string]*azuresim.Sim{}, VCenterConfigs: map[string]vcenter.Config{}, AzureConfigs: map[string]azure.Config{}}
	world, err := loadOrCreate(filepath.Join(dir, vcenterFile), func() (vcentersim.World, error) { return VCenterWorld(rb), nil })
	if err != nil {
		return nil, err
	}
	w.desc = world
	w.VCenter, err = vcentersim.Start(ctx, world, vcentersim.WithFaultFile(VCenterFaultFile(dir)))
	if err != nil {
		return nil, fmt.Errorf("simulated vCenter: %w", err)
	}
	if err := w.pinChangeVersions(); err != nil {
		w.Close()
		return nil, err
	}
	for _, vc := range rb.VCenters {
		// Insecure on loopback only: with a thumbprint govmomi first tries a
		// verified handshake, fails it, and the simulator logs the failure
		// on every connection.
		w.VCenterConfigs[vc.Name] = vcenter.Config{
			Name: vc.Name, URL: w.VCenter.URL.String(),
			Username: w.VCenter.Username, Password: w.VCenter.Password,
			Insecure: true,
		}
	}
	scale := opts.TimeScale
	if scale == 0 {
		scale = 1
	}
	for _, az := range rb.Azures {
		seed, err := AzureSeed(rb, az)
		if err != nil {
			w.Close()
			return nil, err
		}
		// Clients poll as often as the scaled jobs need, at most every second.
		poll := min(time.Second, max(20*time.Millisecond, time.Duration(float64(time.Second)*scale)))
		w.poll = poll
		stateFile := filepath.Join(dir, "azure-"+az.Name+".json")
		if opts.InMemory {
			stateFile = ""
		}
		vc := w.VCenter
		shutdown := func(machine string) {
			// ASR's performShutdown stops the source through vCenter; the
			// simulated vCenter sees the same. A VM the world lacks (a
			// discovered machine with no vCenter twin) is left alone.
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = vc.PowerOffByName(sctx, machine)
		}
		sim, err := azuresim.New(seed, azuresim.Options{TimeScale: scale, PollAfter: poll, StateFile: stateFile, OnSourceShutdown: shutdown})
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("simulated vault %q: %w", az.Name, err)
		}
		sim.SetThrottle(opts.Throttle)
		srv, err := azuresim.Serve(ctx, "127.0.0.1:0", sim)
		if err != nil {
			w.Close()
			return nil, err
		}
		w.servers = append(w.servers, srv)
		w.Vaults[az.Name] = sim
		ca := filepath.Join(dir, "azure-"+az.Name+"-ca.pem")
		if err := os.WriteFile(ca, srv.CAPEM, 0o600); err != nil {
			w.Close()
			return nil, err
		}
		w.AzureConfigs[az.Name] = azure.Config{
			Name: az.Name, Endpoint: srv.URL, CAFile: ca,
			SubscriptionID: seed.SubscriptionID, Vault: vaultID(seed), Appliance: seed.Appliance,
			Credential: azure.CredentialToken,
		}
	}
	return w, nil
}

func vaultID(s azuresim.Seed) string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s", s.SubscriptionID, s.ResourceGroup, s.Vault)
}

func loadOrCreate(path string, create func() (vcentersim.World, error)) (vcentersim.World, error) {
	f, err := os.Open(path)
	if err == nil {
		defer f.Close()
		w, err := vcentersim.DecodeWorld(f)
		if err != nil {
			return w, fmt.Errorf("%s: %w", path, err)
		}
		return w, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return vcentersim.World{}, err
	}
	w, err := create()
	if err != nil {
		return w, err
	}
	b, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return w, err
	}
	return w, os.WriteFile(path, b, 0o600)
}

// simToken is the bearer token the simulated vaults accept: any non-empty
// token will do, and this one is not a secret.
type simToken struct{}

func (simToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "simulated"}, nil
}

// VCenterWorld describes a simulated vCenter holding every source VM of
// the runbook, powered on, plus every host, pool, datastore and folder the
// runbook names for placement or rehearsals.
func VCenterWorld(rb *schema.Runbook) vcentersim.World {
	dcName := "DC0"
	for _, vc := range rb.VCenters {
		if vc.Datacenter != "" {
			dcName = vc.Datacenter
			break
		}
	}
	hosts := set{"DC0_C0_H0": true, "DC0_C0_H1": true}
	pools := set{}
	datastores := set{"LocalDS_0": true}
	folders := set{}
	networks := set{}
	var vms []vcentersim.VM
	for _, vm := range rb.VMs {
		s := vm.Source
		name, folder := s.Name, ""
		if s.Path != "" {
			parts := strings.Split(strings.Trim(s.Path, "/"), "/")
			name = parts[len(parts)-1]
			if len(parts) > 3 && parts[1] == "vm" {
				dcName = parts[0]
				folder = strings.Join(parts[2:len(parts)-1], "/")
			}
		}
		if name == "" {
			name = vm.Block // moref or UUID selectors cannot be honoured by a fresh simulator
		}
		if folder != "" {
			folders[folder] = true
		}
		sv := vcentersim.VM{Name: name, Folder: folder, PowerState: "poweredOn", GuestID: "otherGuest64",
			Disks: []vcentersim.Disk{{SizeGB: 40}}}
		for _, nic := range vm.Target.NICs {
			if nic.MAC != "" {
				sv.NICs = append(sv.NICs, vcentersim.NIC{MAC: strings.ToLower(strings.ReplaceAll(nic.MAC, "-", ":"))})
			}
		}
		if len(sv.NICs) == 0 {
			sv.NICs = []vcentersim.NIC{{}}
		}
		for i := 1; i < len(vm.Target.Disks); i++ {
			sv.Disks = append(sv.Disks, vcentersim.Disk{SizeGB: 20})
		}
		addPlace(hosts, pools, datastores, folders, s.Host, s.ResourcePool, s.Datastore, s.Folder)
		if r := vm.Rehearsal; r != nil {
			addPlace(hosts, pools, datastores, folders, r.Host, r.ResourcePool, r.Datastore, r.Folder)
			// The isolated port group a rehearsal clone joins; the sources
			// stay on "VM Network", production.
			if n := r.Network; n != "" && n[strings.LastIndex(n, "/")+1:] != "VM Network" {
				networks[n[strings.LastIndex(n, "/")+1:]] = true
			}
		}
		vms = append(vms, sv)
	}
	return vcentersim.World{Datacenters: []vcentersim.Datacenter{{
		Name:       dcName,
		Folders:    folders.sorted(),
		Clusters:   []vcentersim.Cluster{{Name: "DC0_C0", Hosts: hosts.sorted(), Pools: pools.sorted()}},
		Datastores: datastores.sorted(),
		Networks:   networks.sorted(),
		VMs:        vms,
	}}}
}

func addPlace(hosts, pools, datastores, folders set, host, pool, ds, folder string) {
	last := func(p string) string { return p[strings.LastIndex(p, "/")+1:] }
	if host != "" {
		hosts[last(host)] = true
	}
	if pool != "" && last(pool) != "Resources" {
		pools[last(pool)] = true
	}
	if ds != "" {
		datastores[last(ds)] = true
	}
	if folder != "" {
		// Folders are kept relative to the datacenter's vm folder.
		if i := strings.Index(folder, "/vm/"); i >= 0 {
			folder = folder[i+len("/vm/"):]
		}
		folders[strings.Trim(folder, "/")] = true
	}
}

type set map[string]bool

func (s set) sorted() []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// AzureSeed describes the simulated vault of one azure block: its
// subscription, resource group and vault from the block's vault ID, its
// appliance, the policies and run-as accounts the runbook names, and one
// discovered machine per source VM that replicates through it.
func AzureSeed(rb *schema.Runbook, az *schema.Azure) (azuresim.Seed, error) {
	parts := strings.Split(strings.Trim(az.Vault, "/"), "/")
	if len(parts) < 8 {
		return azuresim.Seed{}, fmt.Errorf("azure %q: vault %q is not a vault ID", az.Name, az.Vault)
	}
	seed := azuresim.DefaultSeed(0)
	seed.SubscriptionID, seed.ResourceGroup, seed.Vault = parts[1], parts[3], parts[7]
	seed.Appliance = az.Appliance
	seed.Fabric = az.Appliance + "-fabric"
	policies, runAs := set{}, set{}
	for _, p := range seed.Policies {
		policies[p] = true
	}
	for _, vm := range rb.VMs {
		if vm.Target.Azure != az.Name {
			continue
		}
		if vm.Replication.Policy != "" {
			policies[vm.Replication.Policy] = true
		}
		if vm.Replication.RunAsAccount != "" {
			runAs[vm.Replication.RunAsAccount] = true
		}
		name := vm.Source.Name
		if vm.Source.Path != "" {
			name = vm.Source.Path[strings.LastIndex(vm.Source.Path, "/")+1:]
		}
		if name == "" {
			name = vm.Block
		}
		m := azuresim.NumberedMachine(len(seed.Machines) + 1)
		m.DisplayName = name
		m.NICs = machineNICs(vm, m.NICs[0])
		seed.Machines = append(seed.Machines, m)
	}
	seed.Policies = policies.sorted()
	for i, name := range runAs.sorted() {
		seed.RunAsAccounts = append(seed.RunAsAccounts, azuresim.RunAsAccount{Name: fmt.Sprintf("runas-%04d", i+10), DisplayName: name, CredentialType: "VMwareVCenter"})
	}
	return seed, nil
}

// machineNICs are the adapters the appliance discovers on a source VM:
// one per nic block, with the block's MAC (as the simulated vCenter VM
// has it) or NIC ID, else the one default adapter.
func machineNICs(vm *schema.VM, def azuresim.NIC) []azuresim.NIC {
	var out []azuresim.NIC
	for i, n := range vm.Target.NICs {
		nic := def
		if i > 0 {
			nic.ID = fmt.Sprintf("%s-%d", def.ID, i)
			nic.MAC = fmt.Sprintf("%s:%02x", def.MAC[:len(def.MAC)-3], i)
			nic.IP = fmt.Sprintf("%s%d", def.IP[:strings.LastIndex(def.IP, ".")+1], 200+i)
		}
		if n.MAC != "" {
			nic.MAC = strings.ToLower(strings.ReplaceAll(n.MAC, "-", ":"))
		}
		if n.NICID != "" {
			nic.ID = n.NICID
		}
		out = append(out, nic)
	}
	if len(out) == 0 {
		return []azuresim.NIC{def}
	}
	return out
}
