//go:build !linux

package azuritetest

import "os/exec"

// dieWithTests does nothing where the OS has no parent-death signal:
// TestMain's cleanup stops Azurite.
func dieWithParent(*exec.Cmd) {}
