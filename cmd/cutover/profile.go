package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// CPUProfileEnv names a file to write a Go CPU profile of the whole
// command to, for finding where a slow plan or apply spends its time
// (go tool pprof reads it). Like TF_CPU_PROFILE in Terraform, it is for
// developers and bug reports, not a flag.
const CPUProfileEnv = "CUTOVER_CPU_PROFILE"

// startProfile starts the CPU profile CPUProfileEnv asks for and returns
// what stops it. A profile that cannot be started is reported on stderr
// and the command runs without it.
func startProfile(stderr io.Writer) (stop func()) {
	path := os.Getenv(CPUProfileEnv)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(stderr, "Warning: %s: %s\n", CPUProfileEnv, safeText(err.Error()))
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		fmt.Fprintf(stderr, "Warning: %s: %s\n", CPUProfileEnv, safeText(err.Error()))
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(stderr, "Warning: %s: %s\n", CPUProfileEnv, safeText(err.Error()))
		}
	}
}
