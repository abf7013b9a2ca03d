package blobstore_test

import (
	"os/exec"
	"syscall"
)

// dieWithTests has Linux kill Azurite if the test binary dies without
// TestMain's cleanup (a -timeout panic, a kill).
func dieWithTests(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
