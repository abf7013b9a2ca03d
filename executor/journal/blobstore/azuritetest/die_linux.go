package azuritetest

import (
	"os/exec"
	"syscall"
)

// dieWithParent has Linux kill Azurite if the test binary dies without
// its cleanup (a -timeout panic, a kill).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
