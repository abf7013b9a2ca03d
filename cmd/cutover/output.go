package main

import (
	"bufio"
	"io"
)

// buffered runs render into a buffer in front of w and flushes it: a plan
// of ten thousand VMs is hundreds of thousands of lines, and renderers
// write line by line; unbuffered, each line is a system call.
func buffered(w io.Writer, render func(io.Writer) error) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	err := render(bw)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}
