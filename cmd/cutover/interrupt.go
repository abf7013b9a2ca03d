package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
)

// exitInterrupted means: the operator interrupted apply; nothing failed,
// started operations run on, and running apply again resumes. 130 is the
// shell's convention for a process ended by SIGINT.
const exitInterrupted = 130

// interrupts turns SIGINT and SIGTERM into the two stages of stopping an
// apply. The first ends soft: nothing new starts, steps stop at a safe
// point. The second ends hard: requests under way are abandoned too.
type interrupts struct {
	soft, hard context.Context
	stopSoft   context.CancelFunc
	stopHard   context.CancelFunc
	stopNotify func()
	mu         sync.Mutex
	count      int
}

// catchInterrupts starts listening; say, when not nil, is told what each
// signal does, because a person who pressed Ctrl-C wants to know at once.
func catchInterrupts(parent context.Context, say io.Writer) *interrupts {
	hard, stopHard := context.WithCancel(parent)
	soft, stopSoft := context.WithCancel(hard)
	in := &interrupts{soft: soft, hard: hard, stopSoft: stopSoft, stopHard: stopHard}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	in.stopNotify = func() {
		signal.Stop(sig)
		close(done)
	}
	go func() {
		for {
			select {
			case <-done:
				return
			case s := <-sig:
				in.mu.Lock()
				in.count++
				n := in.count
				in.mu.Unlock()
				if n == 1 {
					if say != nil {
						fmt.Fprintf(say, "\n%s: starting nothing new; running steps stop at a safe point (operations already sent keep running and are re-attached by the next apply). Press Ctrl-C again to stop at once.\n", signalName(s))
					}
					stopSoft()
					continue
				}
				if say != nil {
					fmt.Fprintf(say, "\n%s again: stopping at once; the journal keeps what was sent.\n", signalName(s))
				}
				stopHard()
				return
			}
		}
	}()
	return in
}

// Stop releases the signal handlers and both contexts.
func (in *interrupts) Stop() {
	in.stopNotify()
	in.stopSoft()
	in.stopHard()
}

// Interrupted reports whether a first signal arrived.
func (in *interrupts) Interrupted() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.count > 0
}

func signalName(s os.Signal) string {
	if s == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "Interrupt"
}

// resumeCommand is the command line that resumes an apply: the saved plan
// file, or the runbook directory (whose interrupted plan apply finds in
// the journal), with the flags that select the same world.
func resumeCommand(target string, dirMode, sim bool, g *globals) string {
	parts := []string{"cutover", "apply", shellQuote(target)}
	if dirMode {
		if sim {
			parts = append(parts, "--sim")
		}
		for _, f := range g.varFiles {
			parts = append(parts, "--var-file", shellQuote(f))
		}
		if len(g.vars) > 0 {
			// Values may be secrets: name the flags, never echo them.
			parts = append(parts, "(with the same --var flags)")
		}
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:@+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
