package azure

import (
	"context"
	"fmt"
	"sort"
	"strings"

	asr "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/recoveryservices/armrecoveryservicessiterecovery/v2"
)

// Target is what a vault and an appliance name resolve to: the InMageRcm
// fabric, the appliance's process server, the VMware site it discovers and
// the fabric's protection container.
type Target struct {
	VaultID           string
	FabricName        string
	FabricID          string
	ProcessServerID   string
	ProcessServerName string
	SiteID            string
	ContainerName     string
	ContainerID       string
}

// Policy is a replication policy of the vault.
type Policy struct {
	ID   string
	Name string
}

// Resolve walks vault → InMageRcm fabric → process server (by appliance
// name) → VMware site → the single protection container, and remembers the
// result for later calls. It costs two or three list requests.
func (c *Client) Resolve(ctx context.Context) (*Target, error) {
	return c.resolveOnce(ctx, true)
}

// resolved is the remembered Target, resolved first if none is.
func (c *Client) resolved(ctx context.Context) (*Target, error) {
	return c.resolveOnce(ctx, false)
}

// resolveOnce resolves (always when again is set, else only when nothing
// is remembered) while holding the resolving slot; callers that arrive
// meanwhile wait for it, or for their context, and then take what it found.
func (c *Client) resolveOnce(ctx context.Context, again bool) (*Target, error) {
	select {
	case c.resolving <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.resolving }()
	if c.target != nil && !again {
		return c.target, nil
	}
	tg, err := c.resolve(ctx)
	if err != nil {
		return nil, err
	}
	c.target = tg
	return tg, nil
}

func (c *Client) resolve(ctx context.Context) (*Target, error) {
	const op = "resolve"
	var inmage []*asr.Fabric
	var others []string
	pager := c.fabrics.NewListPager(c.vault.ResourceGroup, c.vault.Name, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, classify("", op+" fabrics of vault "+c.vault.Name, err)
		}
		for _, f := range page.Value {
			if f == nil || f.Properties == nil {
				continue
			}
			if d, ok := f.Properties.CustomDetails.(*asr.InMageRcmFabricSpecificDetails); ok && d != nil {
				inmage = append(inmage, f)
				continue
			}
			kind := "unknown"
			if f.Properties.CustomDetails != nil && f.Properties.CustomDetails.GetFabricSpecificDetails().InstanceType != nil {
				kind = *f.Properties.CustomDetails.GetFabricSpecificDetails().InstanceType
			}
			others = append(others, str(f.Name)+" ("+kind+")")
		}
	}
	if len(inmage) == 0 {
		return nil, &Error{Operation: op, Kind: KindNotFound, Message: fmt.Sprintf("vault %s has no InMageRcm fabric (fabrics: %s); register a replication appliance first", c.vault.Name, listOrNone(others))}
	}
	var (
		fabric *asr.Fabric
		ps     *asr.ProcessServerDetails
		seen   []string
	)
	for _, f := range inmage {
		d := f.Properties.CustomDetails.(*asr.InMageRcmFabricSpecificDetails)
		for _, p := range d.ProcessServers {
			if p == nil {
				continue
			}
			seen = append(seen, str(p.Name))
			if strings.EqualFold(str(p.Name), c.cfg.Appliance) {
				if fabric != nil && fabric != f {
					return nil, &Error{Operation: op, Kind: KindConflict, Message: fmt.Sprintf("appliance %q is registered in fabrics %s and %s", c.cfg.Appliance, str(fabric.Name), str(f.Name))}
				}
				fabric, ps = f, p
			}
		}
	}
	if fabric == nil {
		return nil, &Error{Operation: op, Kind: KindNotFound, Message: fmt.Sprintf("no process server named %q in the InMageRcm fabric of vault %s (appliances: %s)", c.cfg.Appliance, c.vault.Name, listOrNone(seen))}
	}
	details := fabric.Properties.CustomDetails.(*asr.InMageRcmFabricSpecificDetails)
	if str(details.VmwareSiteID) == "" {
		return nil, &Error{Operation: op, Kind: KindNotFound, Message: fmt.Sprintf("fabric %s has no vmwareSiteId: the appliance discovers no VMware site", str(fabric.Name))}
	}
	var containers []*asr.ProtectionContainer
	cp := c.containers.NewListByReplicationFabricsPager(c.vault.ResourceGroup, c.vault.Name, str(fabric.Name), nil)
	for cp.More() {
		page, err := cp.NextPage(ctx)
		if err != nil {
			return nil, classify("", op+" protection containers of fabric "+str(fabric.Name), err)
		}
		containers = append(containers, page.Value...)
	}
	if len(containers) != 1 {
		var names []string
		for _, ct := range containers {
			names = append(names, str(ct.Name))
		}
		return nil, &Error{Operation: op, Kind: KindConflict, Message: fmt.Sprintf("fabric %s has %d protection containers (%s); exactly one is expected", str(fabric.Name), len(containers), listOrNone(names))}
	}
	tg := &Target{
		VaultID: c.vault.ID, FabricName: str(fabric.Name), FabricID: str(fabric.ID),
		ProcessServerID: str(ps.ID), ProcessServerName: str(ps.Name), SiteID: str(details.VmwareSiteID),
		ContainerName: str(containers[0].Name), ContainerID: str(containers[0].ID),
	}
	return tg, nil
}

// Policies lists the vault's replication policies.
func (c *Client) Policies(ctx context.Context) ([]Policy, error) {
	var out []Policy
	pager := c.policies.NewListPager(c.vault.ResourceGroup, c.vault.Name, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, classify("", "list policies", err)
		}
		for _, p := range page.Value {
			out = append(out, Policy{ID: str(p.ID), Name: str(p.Name)})
		}
	}
	return out, nil
}

// Policy finds a replication policy by name (case-insensitive).
func (c *Client) Policy(ctx context.Context, name string) (Policy, error) {
	all, err := c.Policies(ctx)
	if err != nil {
		return Policy{}, err
	}
	var names []string
	for _, p := range all {
		if strings.EqualFold(p.Name, name) {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return Policy{}, &Error{Operation: "resolve policy", Kind: KindNotFound, Message: fmt.Sprintf("vault %s has no replication policy %q (policies: %s)", c.vault.Name, name, listOrNone(names))}
}

// FindMachine picks a discovered machine by display name (case-insensitive)
// or by machine ID (its ARM ID or name). Several machines with the same
// display name is an error that lists them, so a runbook can use the ID.
func FindMachine(machines []Machine, key string) (Machine, error) {
	var hits []Machine
	for _, m := range machines {
		if strings.EqualFold(m.ID, key) || strings.EqualFold(m.Name, key) {
			return m, nil
		}
		if strings.EqualFold(m.DisplayName, key) {
			hits = append(hits, m)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		return Machine{}, &Error{VM: key, Operation: "resolve machine", Kind: KindNotFound, Message: fmt.Sprintf("no discovered machine named %q or with that ID in the site (%d machines discovered)", key, len(machines))}
	}
	var ids []string
	for _, m := range hits {
		ids = append(ids, m.Name)
	}
	sort.Strings(ids)
	return Machine{}, &Error{VM: key, Operation: "resolve machine", Kind: KindConflict, Message: fmt.Sprintf("%d discovered machines are named %q; name one by machine ID: %s", len(hits), key, strings.Join(ids, ", "))}
}

// FindMachine reads the site's machines and picks one (see the function
// FindMachine); callers resolving many VMs should ListMachines once instead.
func (c *Client) FindMachine(ctx context.Context, key string) (Machine, error) {
	all, err := c.ListMachines(ctx)
	if err != nil {
		return Machine{}, err
	}
	return FindMachine(all, key)
}

// RunAsAccounts lists the site's run-as accounts.
func (c *Client) RunAsAccounts(ctx context.Context) ([]RunAsAccount, error) {
	tg, err := c.resolved(ctx)
	if err != nil {
		return nil, err
	}
	var out []RunAsAccount
	pager := c.off.NewRunAsAccountsPager(tg.SiteID)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, classify("", "list run-as accounts", err)
		}
		for _, a := range page.Value {
			out = append(out, RunAsAccount{ID: a.ID, Name: a.Name, DisplayName: a.Properties.DisplayName, CredentialType: a.Properties.CredentialType, Appliance: a.Properties.ApplianceName})
		}
	}
	return out, nil
}

// FindRunAsAccount picks a run-as account by display name (case-insensitive).
func (c *Client) FindRunAsAccount(ctx context.Context, displayName string) (RunAsAccount, error) {
	all, err := c.RunAsAccounts(ctx)
	if err != nil {
		return RunAsAccount{}, err
	}
	var names []string
	var hits []RunAsAccount
	for _, a := range all {
		names = append(names, a.DisplayName)
		if strings.EqualFold(a.DisplayName, displayName) {
			hits = append(hits, a)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		return RunAsAccount{}, &Error{Operation: "resolve run-as account", Kind: KindNotFound, Message: fmt.Sprintf("no run-as account %q on the site (accounts: %s)", displayName, listOrNone(names))}
	}
	return RunAsAccount{}, &Error{Operation: "resolve run-as account", Kind: KindConflict, Message: fmt.Sprintf("%d run-as accounts are named %q", len(hits), displayName)}
}

func listOrNone(v []string) string {
	if len(v) == 0 {
		return "none"
	}
	return strings.Join(v, ", ")
}
