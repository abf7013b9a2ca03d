package window

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                         string
		schedule, duration, timezone string
		want                         string // String() of the window
	}{
		{"runbook example", "0 22 * * SAT", "6h", "Asia/Shanghai", "0 22 * * SAT for 6h (Asia/Shanghai)"},
		{"spacing normalised, empty zone is UTC", "  0  22 * *   sat ", "90m", "", "0 22 * * sat for 1h30m (UTC)"},
		{"descriptor", "@daily", "45m", "UTC", "@daily for 45m (UTC)"},
		{"leap day", "0 2 29 2 *", "7h", "Europe/Berlin", "0 2 29 2 * for 7h (Europe/Berlin)"},
		{"longest", "0 0 * * MON", "168h", "America/New_York", "0 0 * * MON for 168h (America/New_York)"},
		{"seconds kept", "*/5 * * * *", "90s", "UTC", "*/5 * * * * for 1m30s (UTC)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := Parse(tt.schedule, tt.duration, tt.timezone)
			if err != nil {
				t.Fatal(err)
			}
			if got := w.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                         string
		schedule, duration, timezone string
		fields                       []Field
		want                         string
	}{
		{
			name: "hour out of range", schedule: "0 25 * * *", duration: "6h",
			fields: []Field{FieldSchedule},
			want:   `invalid schedule "0 25 * * *": end of range (25) above maximum (23): 25`,
		},
		{
			name: "six fields", schedule: "0 0 22 * * SAT", duration: "6h",
			fields: []Field{FieldSchedule},
			want:   `invalid schedule "0 0 22 * * SAT": expected exactly 5 fields, found 6: [0 0 22 * * SAT]`,
		},
		{
			name: "empty schedule", schedule: " ", duration: "6h",
			fields: []Field{FieldSchedule},
			want:   `invalid schedule " ": empty schedule`,
		},
		{
			name: "interval", schedule: "@every 1h", duration: "6h",
			fields: []Field{FieldSchedule},
			want:   `invalid schedule "@every 1h": @every is an interval, not a time of day; use a five-field schedule`,
		},
		{
			name: "zone in schedule", schedule: "CRON_TZ=Asia/Tokyo 0 22 * * *", duration: "6h",
			fields: []Field{FieldSchedule},
			want:   `invalid schedule "CRON_TZ=Asia/Tokyo 0 22 * * *": set the time zone with the timezone attribute, not in the schedule`,
		},
		{
			name: "no such date", schedule: "0 0 30 2 *", duration: "6h",
			fields: []Field{FieldSchedule},
			want:   `invalid schedule "0 0 30 2 *": the schedule never fires (no such date)`,
		},
		{
			name: "unknown descriptor", schedule: "@fortnightly", duration: "6h",
			fields: []Field{FieldSchedule},
			want:   `invalid schedule "@fortnightly": unrecognized descriptor: @fortnightly`,
		},
		{
			name: "duration without unit", schedule: "@daily", duration: "6",
			fields: []Field{FieldDuration},
			want:   `invalid duration "6": time: missing unit in duration "6"`,
		},
		{
			name: "zero duration", schedule: "@daily", duration: "0s",
			fields: []Field{FieldDuration},
			want:   `invalid duration "0s": must be more than zero`,
		},
		{
			name: "negative duration", schedule: "@daily", duration: "-1h",
			fields: []Field{FieldDuration},
			want:   `invalid duration "-1h": must be more than zero`,
		},
		{
			name: "over a week", schedule: "@daily", duration: "168h1s",
			fields: []Field{FieldDuration},
			want:   `invalid duration "168h1s": must be at most 168h (7 days)`,
		},
		{
			name: "unknown zone", schedule: "@daily", duration: "1h", timezone: "Mars/Olympus_Mons",
			fields: []Field{FieldTimezone},
			want:   `invalid timezone "Mars/Olympus_Mons": unknown time zone Mars/Olympus_Mons`,
		},
		{
			name: "machine zone", schedule: "@daily", duration: "1h", timezone: "Local",
			fields: []Field{FieldTimezone},
			want:   `invalid timezone "Local": name an IANA zone such as Europe/Berlin; Local depends on the machine`,
		},
		{
			name: "all three, in attribute order", schedule: "0 22 * * XYZ", duration: "soon", timezone: "Nowhere",
			fields: []Field{FieldSchedule, FieldDuration, FieldTimezone},
			want: `invalid schedule "0 22 * * XYZ": failed to parse int from XYZ: strconv.Atoi: parsing "XYZ": invalid syntax
invalid duration "soon": time: invalid duration "soon"
invalid timezone "Nowhere": unknown time zone Nowhere`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := Parse(tt.schedule, tt.duration, tt.timezone)
			if err == nil {
				t.Fatalf("Parse() = %v, want an error", w)
			}
			if w != nil {
				t.Errorf("Parse() returned a window with its error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error =\n%s\nwant\n%s", got, tt.want)
			}
			var fields []Field
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var we *Error
				if !errors.As(e, &we) {
					t.Fatalf("%v is not a *window.Error", e)
				}
				fields = append(fields, we.Field)
			}
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("fields = %q, want %q", fields, tt.fields)
			}
		})
	}
}

func mustParse(t *testing.T, schedule, duration, timezone string) *Window {
	t.Helper()
	w, err := Parse(schedule, duration, timezone)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

type atCase struct {
	name string
	at   string // RFC 3339 instant
	want string // State.String()
	left time.Duration
}

func checkAt(t *testing.T, w *Window, tests []atCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := w.At(utc(tt.at))
			if got := s.String(); got != tt.want {
				t.Errorf("At(%s) =\n%s\nwant\n%s", tt.at, got, tt.want)
			}
			if s.Left != tt.left {
				t.Errorf("Left = %s, want %s", s.Left, tt.left)
			}
			if s.Open && !s.Start.Before(s.End) {
				t.Errorf("Start %s not before End %s", s.Start, s.End)
			}
		})
	}
}

func TestAt(t *testing.T) {
	t.Parallel()
	// Asia/Shanghai is UTC+8 all year; 2026-11-28 is a Saturday.
	w := mustParse(t, "0 22 * * SAT", "6h", "Asia/Shanghai")
	checkAt(t, w, []atCase{
		{"midweek", "2026-11-25T12:00:00Z", "closed; next opens 2026-11-28 22:00 CST", 0},
		{"a minute before", "2026-11-28T13:59:00Z", "closed; next opens 2026-11-28 22:00 CST", 0},
		{"at the opening", "2026-11-28T14:00:00Z", "open 2026-11-28 22:00 CST to 2026-11-29 04:00 CST, 6h left; next opens 2026-12-05 22:00 CST", 6 * time.Hour},
		{"across midnight", "2026-11-28T17:15:00Z", "open 2026-11-28 22:00 CST to 2026-11-29 04:00 CST, 2h45m left; next opens 2026-12-05 22:00 CST", 2*time.Hour + 45*time.Minute},
		{"last seconds", "2026-11-28T19:59:30Z", "open 2026-11-28 22:00 CST to 2026-11-29 04:00 CST, 30s left; next opens 2026-12-05 22:00 CST", 30 * time.Second},
		{"at the close", "2026-11-28T20:00:00Z", "closed; next opens 2026-12-05 22:00 CST", 0},
		{"sub-second before the opening", "2026-11-28T13:59:59.999Z", "closed; next opens 2026-11-28 22:00 CST", 0},
	})
}

func TestAtDST(t *testing.T) {
	t.Parallel()
	// Europe/Berlin springs forward on 2026-03-29 at 02:00 CET (01:00Z)
	// to 03:00 CEST, and falls back on 2026-10-25 at 03:00 CEST (01:00Z)
	// to 02:00 CET.
	t.Run("opening spans the jump: duration is elapsed time", func(t *testing.T) {
		t.Parallel()
		w := mustParse(t, "0 1 * * SUN", "3h", "Europe/Berlin")
		checkAt(t, w, []atCase{
			{"before the jump", "2026-03-29T00:30:00Z", "open 2026-03-29 01:00 CET to 2026-03-29 05:00 CEST, 2h30m left; next opens 2026-04-05 01:00 CEST", 150 * time.Minute},
			{"after the jump", "2026-03-29T02:30:00Z", "open 2026-03-29 01:00 CET to 2026-03-29 05:00 CEST, 30m left; next opens 2026-04-05 01:00 CEST", 30 * time.Minute},
			{"closed", "2026-03-29T03:00:00Z", "closed; next opens 2026-04-05 01:00 CEST", 0},
		})
	})
	t.Run("opening time skipped: opens at the jump", func(t *testing.T) {
		t.Parallel()
		w := mustParse(t, "30 2 * * *", "1h", "Europe/Berlin")
		checkAt(t, w, []atCase{
			{"day before", "2026-03-28T01:45:00Z", "open 2026-03-28 02:30 CET to 2026-03-28 03:30 CET, 45m left; next opens 2026-03-29 03:00 CEST", 45 * time.Minute},
			{"just before the jump", "2026-03-29T00:59:00Z", "closed; next opens 2026-03-29 03:00 CEST", 0},
			{"at the jump", "2026-03-29T01:00:00Z", "open 2026-03-29 03:00 CEST to 2026-03-29 04:00 CEST, 1h left; next opens 2026-03-30 02:30 CEST", time.Hour},
			{"after", "2026-03-29T02:00:00Z", "closed; next opens 2026-03-30 02:30 CEST", 0},
		})
	})
	t.Run("opening time repeated: opens once, at the first", func(t *testing.T) {
		t.Parallel()
		w := mustParse(t, "30 2 * * *", "1h", "Europe/Berlin")
		checkAt(t, w, []atCase{
			{"first pass", "2026-10-25T00:30:00Z", "open 2026-10-25 02:30 CEST to 2026-10-25 02:30 CET, 1h left; next opens 2026-10-26 02:30 CET", time.Hour},
			{"second pass, still open", "2026-10-25T01:15:00Z", "open 2026-10-25 02:30 CEST to 2026-10-25 02:30 CET, 15m left; next opens 2026-10-26 02:30 CET", 15 * time.Minute},
			{"repeated reading does not reopen", "2026-10-25T01:30:00Z", "closed; next opens 2026-10-26 02:30 CET", 0},
			{"second pass, closed", "2026-10-25T01:45:00Z", "closed; next opens 2026-10-26 02:30 CET", 0},
		})
	})
}

func TestAtChainedOpenings(t *testing.T) {
	t.Parallel()
	t.Run("touching openings are one", func(t *testing.T) {
		t.Parallel()
		w := mustParse(t, "0 22 * * SAT,SUN", "24h", "UTC")
		checkAt(t, w, []atCase{
			{"in the second", "2026-11-29T23:00:00Z", "open 2026-11-28 22:00 UTC to 2026-11-30 22:00 UTC, 23h left; next opens 2026-12-05 22:00 UTC", 23 * time.Hour},
			{"at the seam", "2026-11-29T22:00:00Z", "open 2026-11-28 22:00 UTC to 2026-11-30 22:00 UTC, 24h left; next opens 2026-12-05 22:00 UTC", 24 * time.Hour},
		})
	})
	t.Run("never closes: followed up to the horizon", func(t *testing.T) {
		t.Parallel()
		w := mustParse(t, "0 */6 * * *", "6h", "UTC")
		checkAt(t, w, []atCase{
			{"any time", "2026-11-25T12:00:00Z", "open 2026-11-17 12:00 UTC to 2026-12-03 18:00 UTC, 198h left; next opens 2026-12-03 18:00 UTC", 198 * time.Hour},
		})
	})
}

func TestFits(t *testing.T) {
	t.Parallel()
	w := mustParse(t, "0 22 * * SAT", "6h", "Asia/Shanghai")
	tests := []struct {
		at       string
		estimate time.Duration
		want     bool
	}{
		{"2026-11-28T14:00:00Z", 6 * time.Hour, true},
		{"2026-11-28T14:00:00Z", 6*time.Hour + time.Second, false},
		{"2026-11-28T19:00:00Z", time.Hour, true},
		{"2026-11-28T19:00:00Z", 61 * time.Minute, false},
		{"2026-11-28T19:00:00Z", -time.Hour, true},
		{"2026-11-28T20:00:00Z", 0, false},
		{"2026-11-25T12:00:00Z", time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.at+"+"+tt.estimate.String(), func(t *testing.T) {
			t.Parallel()
			if got := w.Fits(utc(tt.at), tt.estimate); got != tt.want {
				t.Errorf("Fits = %v, want %v (state: %s)", got, tt.want, w.At(utc(tt.at)))
			}
		})
	}
}

func TestNextFit(t *testing.T) {
	t.Parallel()
	w := mustParse(t, "0 22 * * SAT", "6h", "Asia/Shanghai")
	tests := []struct {
		name     string
		at       string
		estimate time.Duration
		want     string // RFC 3339 or "" for none
	}{
		{"fits now", "2026-11-28T15:00:00Z", time.Hour, "2026-11-28T23:00:00+08:00"},
		{"too little left: next week", "2026-11-28T19:00:00Z", 2 * time.Hour, "2026-12-05T22:00:00+08:00"},
		{"closed: next opening", "2026-11-25T12:00:00Z", 6 * time.Hour, "2026-11-28T22:00:00+08:00"},
		{"longer than any opening", "2026-11-25T12:00:00Z", 7 * time.Hour, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := w.NextFit(utc(tt.at), tt.estimate)
			if tt.want == "" {
				if ok {
					t.Errorf("NextFit = %s, want none", got)
				}
				return
			}
			if !ok || got.Format(time.RFC3339) != tt.want {
				t.Errorf("NextFit = %s, %v; want %s", got.Format(time.RFC3339), ok, tt.want)
			}
		})
	}
}
