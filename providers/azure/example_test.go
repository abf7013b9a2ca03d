package azure_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"cutover/providers/azure"
	"cutover/providers/azure/azuresim"
)

// Example connects to a simulated vault over HTTPS, resolves the appliance
// and reads the discovered machines in bulk.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seed := azuresim.DefaultSeed(3)
	sim, _ := azuresim.New(seed, azuresim.Options{TimeScale: 0.001})
	srv, err := azuresim.Serve(ctx, "127.0.0.1:0", sim)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "cutover-example")
	defer os.RemoveAll(dir)
	ca := filepath.Join(dir, "ca.pem")
	_ = os.WriteFile(ca, srv.CAPEM, 0o600)
	os.Setenv("CUTOVER_EXAMPLE_TOKEN", "example-token")
	defer os.Unsetenv("CUTOVER_EXAMPLE_TOKEN")

	c, err := azure.New(azure.Config{
		Name:       "migrate",
		Cloud:      azure.CloudChina,
		Endpoint:   srv.URL,
		CAFile:     ca,
		Vault:      "/subscriptions/" + seed.SubscriptionID + "/resourceGroups/" + seed.ResourceGroup + "/providers/Microsoft.RecoveryServices/vaults/" + seed.Vault,
		Appliance:  seed.Appliance,
		Credential: azure.CredentialToken,
		TokenEnv:   "CUTOVER_EXAMPLE_TOKEN",
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	tg, err := c.Resolve(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	machines, err := c.ListMachines(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tg.FabricName, tg.ProcessServerName, tg.ContainerName)
	for _, m := range machines {
		fmt.Println(m.DisplayName, len(m.Disks), "disks")
	}
	// Output:
	// appliance-01-fabric appliance-01 cloud_5f0b8c2e-container
	// vm-0001 2 disks
	// vm-0002 2 disks
	// vm-0003 2 disks
}
