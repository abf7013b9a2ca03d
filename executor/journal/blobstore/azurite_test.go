package blobstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"cutover/executor/journal/blobstore"
)

// Azurite's well-known development account. The key is public (it is in
// Microsoft's documentation) and works only against the emulator.
const (
	devAccount = "devstoreaccount1"
	devKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// emulator is the Azurite the package's tests share: started by the first
// test that needs it, stopped by TestMain.
var emulator struct {
	once    sync.Once
	stop    func() // kills Azurite and removes its data, nil if none runs
	url     string // the dev account's blob endpoint
	skip    string // why tests cannot run, when they cannot
	failure error  // why Azurite did not start
}

func TestMain(m *testing.M) {
	code := m.Run()
	if emulator.stop != nil {
		emulator.stop()
	}
	os.Exit(code)
}

// azuriteBinary finds azurite-blob: $AZURITE_BLOB, else what
// .ci/azurite.sh installs under the repository root.
func azuriteBinary() (string, error) {
	if p := os.Getenv("AZURITE_BLOB"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("AZURITE_BLOB=%s: %w", p, err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "node_modules", ".bin", "azurite-blob")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("azurite-blob not found: set AZURITE_BLOB or run .ci/azurite.sh (looked for %s)", p)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("azurite-blob not found: set AZURITE_BLOB (no go.mod above the test directory)")
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startAzurite() {
	bin, err := azuriteBinary()
	if err != nil {
		emulator.skip = err.Error()
		return
	}
	port, err := freePort()
	if err != nil {
		emulator.failure = err
		return
	}
	dir, err := os.MkdirTemp("", "azurite-")
	if err != nil {
		emulator.failure = err
		return
	}
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
		"--location", dir, "--silent", "--skipApiVersionCheck", "--disableProductStyleUrl")
	cmd.Stdout, cmd.Stderr = nil, nil
	dieWithTests(cmd)
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		emulator.failure = fmt.Errorf("starting %s: %w", bin, err)
		return
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	emulator.stop = func() {
		_ = cmd.Process.Kill()
		<-exited
		_ = os.RemoveAll(dir)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err // for stop
			emulator.failure = fmt.Errorf("azurite-blob exited before listening: %v", err)
			return
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			emulator.failure = fmt.Errorf("azurite-blob did not listen on %s within 30s", addr)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	emulator.url = "http://" + addr + "/" + devAccount
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
	cred, err := azblob.NewSharedKeyCredential(devAccount, devKey)
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
