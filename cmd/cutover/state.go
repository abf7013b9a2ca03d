package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"cutover/executor/journal"
	"cutover/executor/journal/blobstore"
	"cutover/schema"
)

// Environment variables that authenticate to the azurerm state backend;
// without them the default Azure credential chain is used. Credentials
// never come from the runbook.
const (
	envStorageConnectionString = "AZURE_STORAGE_CONNECTION_STRING"
	envStorageKey              = "AZURE_STORAGE_KEY"
)

var unsafeStateChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// openStore opens where the runbook's journal and lock live: .cutover/
// next to the runbook, or the Azure Blob container its state block names.
func openStore(ctx context.Context, rb *schema.Runbook) (journal.Store, error) {
	st := rb.State
	if st == nil || st.Backend == "local" {
		return journal.OpenFile(filepath.Join(rb.Dir, journal.DefaultDir), "state")
	}
	key := st.Key
	if key == "" {
		key = unsafeStateChars.ReplaceAllString(rb.Name, "-")
	}
	cfg := blobstore.Config{Container: st.Container, State: key, CreateContainer: true}
	cfg.ServiceURL = st.Endpoint
	if cfg.ServiceURL == "" {
		cfg.ServiceURL = "https://" + st.StorageAccount + ".blob.core.windows.net/"
	}
	switch {
	case os.Getenv(envStorageConnectionString) != "":
		cfg.ConnectionString = os.Getenv(envStorageConnectionString)
	case os.Getenv(envStorageKey) != "":
		cred, err := azblob.NewSharedKeyCredential(st.StorageAccount, os.Getenv(envStorageKey))
		if err != nil {
			return nil, fmt.Errorf("state backend: %s: %w", envStorageKey, err)
		}
		cfg.SharedKey = cred
	default:
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, fmt.Errorf("state backend: no credential (set %s or %s, or sign in for the default Azure credential): %w",
				envStorageConnectionString, envStorageKey, err)
		}
		cfg.Credential = cred
	}
	s, err := blobstore.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("state backend azurerm (container %q): %w", st.Container, err)
	}
	return s, nil
}
