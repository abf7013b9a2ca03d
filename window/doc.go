// Package window evaluates maintenance windows: a cron schedule in a time
// zone that opens the window, and a duration that closes it again.
//
// It answers the executor's questions about a given instant: is the window
// open, since when and until when, when does it open next, and does a step
// with a given estimate still fit. Disruptive steps run only inside a window;
// everything else ignores windows.
//
// Schedules are read as wall-clock times in the window's zone, the way the
// people who wrote the runbook read them. Across daylight-saving changes an
// opening whose wall-clock time is skipped starts the moment the clock jumps
// past it, an opening whose wall-clock time occurs twice starts at the first
// occurrence only, and the duration is always elapsed time.
//
// The package must not read the clock (callers pass the instant, so results
// are reproducible and testable), print, or know about steps or runbooks. It
// embeds the IANA time zone database (time/tzdata) so that zones resolve on
// machines without one.
package window
