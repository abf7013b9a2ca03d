package azure

import (
	"context"
)

// ListProtectedItems reads every protected item of the resolved container,
// page by page: the request count grows with the number of pages, never
// with the number of VMs.
func (c *Client) ListProtectedItems(ctx context.Context) ([]ProtectedItem, error) {
	out, _, err := c.listItems(ctx)
	return out, err
}

// listItems is ListProtectedItems that also says how many pages it took.
func (c *Client) listItems(ctx context.Context) ([]ProtectedItem, int, error) {
	tg, err := c.resolved(ctx)
	if err != nil {
		return nil, 0, err
	}
	var out []ProtectedItem
	pages := 0
	pager := c.items.NewListByReplicationProtectionContainersPager(c.vault.ResourceGroup, c.vault.Name, tg.FabricName, tg.ContainerName, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, pages, classify("", "list protected items", err)
		}
		pages++
		for _, m := range page.Value {
			if m != nil {
				out = append(out, protectedItemFrom(m))
			}
		}
	}
	return out, pages, nil
}

// ListMachines reads every discovered machine of the resolved VMware site,
// page by page.
func (c *Client) ListMachines(ctx context.Context) ([]Machine, error) {
	tg, err := c.resolved(ctx)
	if err != nil {
		return nil, err
	}
	var out []Machine
	pager := c.off.NewMachinesPager(tg.SiteID)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, classify("", "list discovered machines", err)
		}
		for i := range page.Value {
			if !page.Value[i].Properties.IsDeleted {
				out = append(out, machineFrom(&page.Value[i]))
			}
		}
	}
	return out, nil
}

// GetProtectedItem reads one item by name; a missing item is an *Error of
// KindNotFound.
func (c *Client) GetProtectedItem(ctx context.Context, name string) (*ProtectedItem, error) {
	tg, err := c.resolved(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := c.items.Get(ctx, c.vault.ResourceGroup, c.vault.Name, tg.FabricName, tg.ContainerName, name, nil)
	if err != nil {
		return nil, classify(name, "get protected item", err)
	}
	it := protectedItemFrom(&resp.ReplicationProtectedItem)
	return &it, nil
}

// Inventory is one consistent-enough snapshot of the vault and the site:
// what the planner's refresh needs from Azure.
type Inventory struct {
	Target   Target
	Items    []ProtectedItem
	Machines []Machine
}

// ReadInventory reads protected items and discovered machines at the same
// time (two paged reads on independent services), so a refresh costs the
// longer of the two rather than their sum.
func (c *Client) ReadInventory(ctx context.Context) (*Inventory, error) {
	tg, err := c.resolved(ctx)
	if err != nil {
		return nil, err
	}
	inv := &Inventory{Target: *tg}
	var machErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		inv.Machines, machErr = c.ListMachines(ctx)
	}()
	items, itemErr := c.ListProtectedItems(ctx)
	<-done
	if itemErr != nil {
		return nil, itemErr
	}
	if machErr != nil {
		return nil, machErr
	}
	inv.Items = items
	return inv, nil
}
