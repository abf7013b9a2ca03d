// Package azuritetest starts Azurite, the Azure Storage emulator, for
// tests of the blob state backend and of the commands that use it.
//
// It finds azurite-blob through $AZURITE_BLOB or under the repository's
// node_modules (where .ci/azurite.sh installs it), serves the emulator's
// public development account on a free loopback port, and stops it when
// asked. It is test support only: nothing in the cutover binary imports it.
package azuritetest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Azurite's well-known development account. The key is public (it is in
// Microsoft's documentation) and works only against the emulator.
const (
	DevAccount = "devstoreaccount1"
	DevKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// ErrNotInstalled is returned when no azurite-blob binary can be found.
var ErrNotInstalled = errors.New("azurite-blob not found")

// Emulator is a running Azurite blob service.
type Emulator struct {
	// URL is the development account's blob endpoint.
	URL  string
	stop func()
}

// Stop kills Azurite and removes its data.
func (e *Emulator) Stop() { e.stop() }

// ConnectionString is the development account's connection string.
func (e *Emulator) ConnectionString() string {
	return "DefaultEndpointsProtocol=http;AccountName=" + DevAccount + ";AccountKey=" + DevKey + ";BlobEndpoint=" + e.URL + ";"
}

// Binary finds azurite-blob: $AZURITE_BLOB, else what .ci/azurite.sh
// installs under the repository root (the first directory above the
// working directory that holds go.mod).
func Binary() (string, error) {
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
				return "", fmt.Errorf("%w: set AZURITE_BLOB or run .ci/azurite.sh (looked for %s)", ErrNotInstalled, p)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w: set AZURITE_BLOB (no go.mod above the working directory)", ErrNotInstalled)
		}
		dir = parent
	}
}

// Start runs Azurite on a free loopback port and waits until it listens.
func Start() (*Emulator, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir, err := os.MkdirTemp("", "azurite-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
		"--location", dir, "--silent", "--skipApiVersionCheck", "--disableProductStyleUrl")
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	e := &Emulator{stop: func() {
		_ = cmd.Process.Kill()
		<-exited
		_ = os.RemoveAll(dir)
	}}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err // for stop
			e.Stop()
			return nil, fmt.Errorf("azurite-blob exited before listening: %v", err)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			e.Stop()
			return nil, fmt.Errorf("azurite-blob did not listen on %s within 30s", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.URL = "http://" + addr + "/" + DevAccount
	return e, nil
}
