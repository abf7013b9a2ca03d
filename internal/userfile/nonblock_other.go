//go:build !unix

package userfile

// Elsewhere (Windows) opening a named pipe does not wait for a writer the
// way a FIFO's open does on Unix.
const nonblock = 0
