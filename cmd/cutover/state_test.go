package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cutover/executor/journal/blobstore/azuritetest"
)

// TestApplyWithAzureBlobState applies the quickstart with its journal and
// lock in Azure Blob Storage (Azurite), then builds the rollback plan from
// that journal: nothing is kept in .cutover/ next to the runbook.
func TestApplyWithAzureBlobState(t *testing.T) {
	emu, err := azuritetest.Start()
	if errors.Is(err, azuritetest.ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skipf("Azurite is not installed here (CI installs it): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Stop()
	t.Setenv(SimTimeScaleEnv, "0.01")
	t.Setenv(envStorageKey, azuritetest.DevKey)

	dir := copyExample(t, "quickstart")
	state := `
state {
  backend              = "azurerm"
  storage_account_name = "` + azuritetest.DevAccount + `"
  container_name       = "cutover-state"
  endpoint             = "` + emu.URL + `"
}
`
	if err := os.WriteFile(filepath.Join(dir, "state.hcl"), []byte(state), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "apply", dir, "--sim", "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, ".cutover", "state.journal")); err == nil {
		t.Fatal("the journal was written locally, not to the blob backend")
	}
	code, out, errOut := runCLI(t, "rollback", dir, "--sim")
	// The default simulated vault offers no CancelFailover after an
	// InMageRcm failover (as the service's recording shows), so the
	// rollback read from the blob journal deallocates the Azure VM.
	if code != 0 || !strings.Contains(out, "runs deallocate_azure_vm") {
		t.Fatalf("rollback from the blob journal: exit %d\n%s%s", code, out, errOut)
	}
}
