//go:build unix

package userfile

import "syscall"

const nonblock = syscall.O_NONBLOCK
