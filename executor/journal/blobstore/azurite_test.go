package blobstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"cutover/executor/journal/blobstore"
	"cutover/executor/journal/blobstore/azuritetest"
)

// emulator is the Azurite the package's tests share: started by the first
// test that needs it, stopped by TestMain.
var emulator struct {
	once    sync.Once
	running *azuritetest.Emulator
	skip    string // why tests cannot run, when they cannot
	failure error  // why Azurite did not start
	url     string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if emulator.running != nil {
		emulator.running.Stop()
	}
	os.Exit(code)
}

func startAzurite() {
	e, err := azuritetest.Start()
	switch {
	case errors.Is(err, azuritetest.ErrNotInstalled):
		emulator.skip = err.Error()
	case err != nil:
		emulator.failure = err
	default:
		emulator.running, emulator.url = e, e.URL
	}
}

// azurite returns the blob endpoint of the shared Azurite, starting it on
// first use. Without Azurite the test is skipped, except under CI=true,
// where these tests must run.
func azurite(t *testing.T) string {
	t.Helper()
	emulator.once.Do(startAzurite)
	if emulator.failure != nil {
		t.Fatalf("Azurite: %v", emulator.failure)
	}
	if emulator.skip != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but the blob backend cannot be tested: %s", emulator.skip)
		}
		t.Skipf("skipping the Azure Blob backend tests: %s", emulator.skip)
	}
	return emulator.url
}

func devKeyCredential(t *testing.T) *azblob.SharedKeyCredential {
	t.Helper()
	cred, err := azblob.NewSharedKeyCredential(azuritetest.DevAccount, azuritetest.DevKey)
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

var names atomic.Int64

// uniqueName returns a container or state name no other test uses.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), names.Add(1))
}

// config returns a Config for state in container (created on Open) on the
// shared Azurite.
func config(t *testing.T, containerName, state string) blobstore.Config {
	return blobstore.Config{
		ServiceURL:      azurite(t),
		Container:       containerName,
		State:           state,
		SharedKey:       devKeyCredential(t),
		CreateContainer: true,
		ClientOptions:   &container.ClientOptions{ClientOptions: policy.ClientOptions{Retry: policy.RetryOptions{MaxRetries: 2, RetryDelay: 50 * time.Millisecond}}},
	}
}

// open opens a store for cfg and closes it at the end of the test.
func open(t *testing.T, cfg blobstore.Config) *blobstore.Store {
	t.Helper()
	s, err := blobstore.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
