//go:build unix

package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// osLock is an OS-level exclusive lock on a file, held through an open
// descriptor: the kernel releases it when the process exits, however it
// exits, which is what lets a killed apply's lock heal.
type osLock struct {
	f    *os.File
	path string
}

// tryOSLock takes the lock on path without waiting. held reports that
// another open description (another process, or another FileStore in this
// one) has it.
//
// The holder removes the file when it lets go (see release), so a lock
// taken on a descriptor opened before that removal is a lock on a file no
// longer at path: tryOSLock then opens path afresh.
func tryOSLock(path string) (l *osLock, held bool, err error) {
	for attempt := 0; ; attempt++ {
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
		same, err := stillAt(f, path)
		if err == nil && same {
			return &osLock{f: f, path: path}, false, nil
		}
		_ = f.Close()
		if err != nil {
			return nil, false, err
		}
		if attempt >= 100 {
			return nil, false, fmt.Errorf("the lock file %s was removed 100 times while being locked", path)
		}
	}
}

// stillAt reports whether the open file f is the file at path now.
func stillAt(f *os.File, path string) (bool, error) {
	open, err := f.Stat()
	if err != nil {
		return false, err
	}
	now, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(open, now), nil
}

// release gives the lock up: it removes the file while still holding the
// lock, then closes the descriptor, which releases it. A refused or
// finished apply so leaves no lock file behind; a process that opened the
// file before its removal and locks it afterwards sees that it is no
// longer at its path and opens the path afresh (tryOSLock), so two
// processes never hold locks on two different files.
func (l *osLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := os.Remove(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

const haveOSLock = true
