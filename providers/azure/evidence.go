package azure

import (
	"context"
	"strings"
)

// TargetVMs lists the VMs of a target resource group (a bare name is taken
// in the vault's subscription), by lower-case name, with their ARM IDs. It
// is the live evidence of a migration that does not depend on cutover's
// journal: an unplanned failover creates the VM there, and complete
// migration removes the protected item but leaves the VM. A resource group
// that does not exist holds no VMs.
func (c *Client) TargetVMs(ctx context.Context, resourceGroup string) (map[string]string, error) {
	rg := resourceGroup
	if rg != "" && !strings.HasPrefix(rg, "/") {
		rg = "/subscriptions/" + c.vault.SubscriptionID + "/resourceGroups/" + rg
	}
	vms, err := c.ListAzureVMs(ctx, rg)
	if KindOf(err) == KindNotFound {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(vms))
	for _, v := range vms {
		id := v.ID
		if id == "" {
			id = v.Name
		}
		out[strings.ToLower(v.Name)] = id
	}
	return out, nil
}
