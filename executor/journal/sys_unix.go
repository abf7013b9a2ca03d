//go:build unix

package journal

import (
	"errors"
	"os"
	"syscall"
)

// syncDir makes a directory's entries (a created, linked or removed file)
// durable; without it a crash can lose a file whose contents were synced.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// processGone reports whether no process with this PID exists. Signal 0
// checks for existence without delivering anything; EPERM means it exists
// but belongs to someone else.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// openNonblock makes opening a named pipe return at once instead of
// waiting for a writer (see openJournal).
const openNonblock = syscall.O_NONBLOCK
