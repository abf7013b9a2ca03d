//go:build !linux

package blobstore_test

import "os/exec"

// dieWithTests does nothing where the OS has no parent-death signal:
// TestMain's cleanup stops Azurite.
func dieWithTests(*exec.Cmd) {}
