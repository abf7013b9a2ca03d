//go:build unix

package userfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"cutover/internal/userfile"
)

// TestRead: a regular file is read; what is not a regular file, or is
// larger than the limit, is refused at once (a named pipe without a writer
// would block a plain read for ever).
func TestRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.hcl")
	if err := os.WriteFile(plain, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 11), 0o600); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, want string
	}{
		{"plain", plain, ""},
		{"directory", dir, "not a regular file (a directory)"},
		{"too big", big, "larger than"},
		{"symlink loop", loop, "too many levels"},
		{"missing", filepath.Join(dir, "none"), "no such file"},
	}
	if runtime.GOOS != "windows" {
		fifo := filepath.Join(dir, "fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		cases = append(cases,
			struct{ name, path, want string }{"named pipe", fifo, "not a regular file (a named pipe)"},
			struct{ name, path, want string }{"device", "/dev/zero", "not a regular file (a character device)"})
	}
	for _, tc := range cases {
		b, err := userfile.Read(tc.path, 10)
		switch {
		case tc.want == "" && (err != nil || string(b) != "abc"):
			t.Errorf("%s: %q, %v", tc.name, b, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
	var tb *userfile.TooBigError
	if _, err := userfile.Read(big, 10); !errors.As(err, &tb) || tb.Limit != 10 {
		t.Errorf("too big: %v", err)
	}
}
