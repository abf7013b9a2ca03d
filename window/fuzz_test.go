package window

import (
	"testing"
	"time"
)

// FuzzParse feeds arbitrary schedules, durations and zones to Parse. It
// must refuse or accept, never panic or hang; an accepted window answers
// At, Fits and NextFit for any instant.
// Seeds: the forms runbooks use and the committed corpus under
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add("0 22 * * SAT", "6h", "Asia/Shanghai", int64(0))
	f.Add("@daily", "1h", "", int64(1700000000))
	f.Add("30 2 29 2 *", "168h", "Europe/Berlin", int64(-1))
	f.Add("0 2 * * SUN", "90m", "America/New_York", int64(1711846800))
	f.Add("TZ=UTC 0 0 * * *", "0s", "Local", int64(0))
	f.Fuzz(func(t *testing.T, schedule, duration, zone string, unix int64) {
		w, err := Parse(schedule, duration, zone)
		if err != nil {
			return
		}
		if w.Location() == time.Local {
			t.Fatal("accepted the machine's local zone")
		}
		if w.Duration() <= 0 || w.Duration() > MaxDuration {
			t.Fatalf("accepted duration %s", w.Duration())
		}
		at := time.Unix(unix%(1<<40), 0)
		_ = w.At(at)
		_ = w.Fits(at, w.Duration()/2)
		_, _ = w.NextFit(at, w.Duration())
	})
}
