package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestCPUProfile: with CUTOVER_CPU_PROFILE set, the command leaves a CPU
// profile (pprof's format is gzipped protocol buffers); a path that cannot be written is a warning,
// not a failed command.
func TestCPUProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.prof")
	t.Setenv(CPUProfileEnv, path)
	var stderr bytes.Buffer
	stop := startProfile(&stderr)
	stop()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a gzipped profile: %v", err)
	}
	if pb, err := io.ReadAll(zr); err != nil || len(pb) == 0 {
		t.Fatalf("profile body: %d bytes, %v", len(pb), err)
	}

	t.Setenv(CPUProfileEnv, filepath.Join(t.TempDir(), "missing", "cpu.prof"))
	stderr.Reset()
	startProfile(&stderr)()
	if !bytes.Contains(stderr.Bytes(), []byte("Warning: "+CPUProfileEnv)) {
		t.Errorf("unwritable profile path: stderr %q", stderr.String())
	}
}
