//go:build unix

package journal

import (
	"errors"
	"os"
	"syscall"
)

// osLock is an OS-level exclusive lock on a file, held through an open
// descriptor: the kernel releases it when the process exits, however it
// exits, which is what lets a killed apply's lock heal.
type osLock struct{ f *os.File }

// tryOSLock takes the lock on path without waiting. held reports that
// another open description (another process, or another FileStore in this
// one) has it.
func tryOSLock(path string) (l *osLock, held bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, true, nil
		}
		return nil, false, err
	}
	return &osLock{f: f}, false, nil
}

// release gives the lock up. Closing the descriptor releases it; the file
// stays, so that every process locks the same inode.
func (l *osLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

const haveOSLock = true
