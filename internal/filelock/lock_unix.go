//go:build unix

package filelock

import (
	"os"
	"syscall"
)

// Lock takes an exclusive advisory lock on path+".lock", waiting for any
// other process that holds it. The returned func releases it. The kernel
// releases it too when the process dies, so a killed holder never blocks
// the next one.
func Lock(path string) (func(), error) {
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
