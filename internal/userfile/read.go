package userfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Sizes callers bound their reads with. Real runbooks, CSV waves and plan
// files stay far below them; they are there so that a mistaken or hostile
// path fails with a message rather than exhausting memory.
const (
	// MaxSource bounds a runbook file, a var-file and a file a runbook
	// reads (file, templatefile): a CSV wave of 100,000 VMs is ~20 MiB.
	MaxSource = 64 << 20
	// MaxPlan bounds a saved plan: ~4 KiB a VM, so room for 50,000 VMs.
	MaxPlan = 256 << 20
)

// TooBigError is a file larger than its caller reads.
type TooBigError struct {
	Path  string
	Limit int64
}

func (e *TooBigError) Error() string {
	return fmt.Sprintf("%s is larger than %d MiB, more than cutover reads from such a file", e.Path, e.Limit>>20)
}

// Read returns the contents of the regular file at path, or an error when
// it is not a regular file (a directory, a device, a named pipe, a socket)
// or holds more than limit bytes. Symbolic links are followed; a loop is
// the operating system's error.
func Read(path string, limit int64) ([]byte, error) {
	// O_NONBLOCK: opening a named pipe for reading otherwise waits for a
	// writer. It changes nothing for the regular files this reads.
	f, err := os.OpenFile(path, os.O_RDONLY|nonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("not a regular file (%s)", Kind(st.Mode()))}
	}
	if st.Size() > limit {
		return nil, &TooBigError{Path: path, Limit: limit}
	}
	// The size can change while reading (a growing file): read one byte
	// past the limit to tell.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &TooBigError{Path: path, Limit: limit}
	}
	return b, nil
}

// Kind names what a file that is not a regular file is, for messages.
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	default:
		return "not a plain file"
	}
}
