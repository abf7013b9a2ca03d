package azure

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"cutover/providers/azure/azuresim"
)

// world is one simulator served over TLS on loopback plus what a client
// needs to reach it.
type world struct {
	sim    *azuresim.Sim
	srv    *httptest.Server
	seed   azuresim.Seed
	caFile string
	env    string
}

var envSeq atomic.Int64

const testToken = "sim-token-abc123"

// newWorld serves a simulator with fast jobs. The bearer token lives in a
// per-test environment variable so parallel tests do not share it.
func newWorld(t testing.TB, seed azuresim.Seed, opts azuresim.Options) *world {
	t.Helper()
	if opts.TimeScale == 0 {
		opts.TimeScale = 0.002
	}
	if opts.PollAfter == 0 {
		opts.PollAfter = 5 * time.Millisecond
	}
	sim, err := azuresim.New(seed, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(sim)
	t.Cleanup(srv.Close)
	w := &world{sim: sim, srv: srv, seed: seed}
	w.caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(w.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	w.env = fmt.Sprintf("CUTOVER_TEST_TOKEN_%d", envSeq.Add(1))
	os.Setenv(w.env, testToken)
	t.Cleanup(func() { os.Unsetenv(w.env) })
	return w
}

func (w *world) config() Config {
	return Config{
		Name:      "sim",
		Cloud:     CloudChina,
		Endpoint:  w.srv.URL,
		CAFile:    w.caFile,
		Vault:     fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s", w.seed.SubscriptionID, w.seed.ResourceGroup, w.seed.Vault),
		Appliance: w.seed.Appliance,
		// credential "token" reads the bearer token from the environment
		Credential: CredentialToken,
		TokenEnv:   w.env,
	}
}

// client builds a fresh client from the config alone: nothing shared with
// other clients but the endpoint.
func (w *world) client(t testing.TB) *Client {
	t.Helper()
	c, err := New(w.config(), &Options{
		PollInterval: 5 * time.Millisecond,
		Retry:        &policy.RetryOptions{MaxRetries: 5, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 2 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func azuresimOptions() azuresim.Options { return azuresim.Options{} }

// machinesAndPolicy lists the vault's discovered machines and reads the
// replication policy the tests enable with.
func machinesAndPolicy(t testing.TB, ctx context.Context, c *Client) ([]Machine, Policy) {
	t.Helper()
	machines, err := c.ListMachines(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := c.Policy(ctx, "24-hour-replication-policy")
	if err != nil {
		t.Fatal(err)
	}
	return machines, pol
}

// testEnable is the enable the tests send for machine m: one target
// resource group, every disk Standard_LRS through one cache account.
func testEnable(m Machine, policyID string) EnableInput {
	return EnableInput{Machine: m, PolicyID: policyID,
		Target:       TargetSettings{ResourceGroupID: "/subscriptions/x/resourceGroups/t"},
		DisksDefault: &DiskInput{Type: "Standard_LRS", LogStorageAccountID: "/subscriptions/x/resourceGroups/t/providers/Microsoft.Storage/storageAccounts/c"}}
}
