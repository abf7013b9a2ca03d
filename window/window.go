package window

import (
	"errors"
	"fmt"
	"strings"
	"time"

	// Runners such as minimal containers and Windows CI images often lack
	// a zoneinfo database; without it every timezone attribute would fail.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
)

// MaxDuration is the longest window accepted: a window longer than a week
// would overlap its own next weekly opening and mean "always".
const MaxDuration = 7 * 24 * time.Hour

// Field names the runbook attribute an Error is about.
type Field string

// The attributes of a window block.
const (
	FieldSchedule Field = "schedule"
	FieldDuration Field = "duration"
	FieldTimezone Field = "timezone"
)

var _ error = (*Error)(nil)

// Error is a problem with one attribute of a window, so that callers can
// point at the attribute's source range.
type Error struct {
	Field Field
	// Value is the attribute's text as given.
	Value string
	Err   error
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid %s %q: %v", e.Field, e.Value, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Window is a parsed maintenance window. It is immutable and safe for
// concurrent use.
type Window struct {
	schedule string
	spec     *cron.SpecSchedule
	duration time.Duration
	loc      *time.Location
}

// The parser accepts the standard five fields and the fixed descriptors
// (@daily, @weekly, …). Seconds are left out on purpose: windows are
// planned in minutes and a sixth field would be read as a mistake.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse builds a window from the three attributes of a runbook window block:
// a five-field cron expression or descriptor such as @daily, a Go duration
// (more than zero, at most MaxDuration), and an IANA time zone name (empty
// means UTC). Every attribute is checked; the returned error joins one
// *Error per wrong attribute, in the order schedule, duration, timezone.
func Parse(schedule, duration, timezone string) (*Window, error) {
	var errs []error
	spec, err := parseSchedule(schedule)
	if err != nil {
		errs = append(errs, &Error{Field: FieldSchedule, Value: schedule, Err: err})
	}
	dur, err := parseDuration(duration)
	if err != nil {
		errs = append(errs, &Error{Field: FieldDuration, Value: duration, Err: err})
	}
	loc, err := parseTimezone(timezone)
	if err != nil {
		errs = append(errs, &Error{Field: FieldTimezone, Value: timezone, Err: err})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Window{
		schedule: strings.Join(strings.Fields(schedule), " "),
		spec:     spec,
		duration: dur,
		loc:      loc,
	}, nil
}

func parseSchedule(s string) (*cron.SpecSchedule, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return nil, errors.New("empty schedule")
	case strings.HasPrefix(s, "TZ=") || strings.HasPrefix(s, "CRON_TZ="):
		return nil, errors.New("set the time zone with the timezone attribute, not in the schedule")
	case strings.HasPrefix(s, "@every"):
		return nil, errors.New("@every is an interval, not a time of day; use a five-field schedule")
	}
	parsed, err := parser.Parse(s)
	if err != nil {
		return nil, err
	}
	spec, ok := parsed.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("unsupported schedule kind %T", parsed)
	}
	// Evaluate in UTC on wall-clock values: the zone is applied by wall
	// and instant (see zone.go), which handle daylight-saving changes the
	// way people expect rather than the way cron.SpecSchedule does.
	c := *spec
	c.Location = time.UTC
	// A fixed reference keeps Parse independent of the clock. Cron searches
	// five years ahead, which covers every valid date including 29 February.
	if c.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, errors.New("the schedule never fires (no such date)")
	}
	return &c, nil
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, errors.New("must be more than zero")
	}
	if d > MaxDuration {
		return 0, fmt.Errorf("must be at most %s (7 days)", formatDuration(MaxDuration))
	}
	return d, nil
}

func parseTimezone(s string) (*time.Location, error) {
	s = strings.TrimSpace(s)
	if s == "Local" {
		// time.LoadLocation accepts it, but it would make a runbook mean
		// different things on different machines.
		return nil, errors.New("name an IANA zone such as Europe/Berlin; Local depends on the machine")
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, err
	}
	return loc, nil
}

// Schedule returns the cron expression, whitespace normalised.
func (w *Window) Schedule() string { return w.schedule }

// Duration returns how long each opening lasts (elapsed time).
func (w *Window) Duration() time.Duration { return w.duration }

// Location returns the zone the schedule is read in.
func (w *Window) Location() *time.Location { return w.loc }

// String returns the window in the form "0 22 * * SAT for 6h (Asia/Shanghai)".
func (w *Window) String() string {
	return fmt.Sprintf("%s for %s (%s)", w.schedule, formatDuration(w.duration), w.loc)
}

// formatDuration drops the zero units time.Duration.String keeps, so that
// "6h" reads back as "6h" rather than "6h0m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
