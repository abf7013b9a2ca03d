//go:build unix

package azuresim

import (
	"os"
	"syscall"
)

// lockState takes an exclusive advisory lock on "<state file>.lock" so that
// simulators in several processes apply their read-modify-write of the
// world one at a time instead of losing each other's updates.
func lockState(path string) (func(), error) {
	f, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
