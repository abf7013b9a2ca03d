//go:build unix

package vcentersim

import (
	"os"
	"syscall"
)

// lockFaultFile takes an exclusive advisory lock on "<fault file>.lock", so
// a call using up a fault in one process and an add or clear in another
// read and rewrite the file one at a time.
func lockFaultFile(path string) (func(), error) {
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
