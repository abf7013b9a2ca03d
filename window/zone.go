package window

import "time"

// wall returns t's wall-clock reading in loc, expressed as a UTC time. Cron
// arithmetic on these values never meets a daylight-saving change.
func wall(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// instant returns the first instant at which loc's clocks read the wall
// time w (a UTC-expressed wall reading, as from wall). A reading that occurs
// twice (clocks going back) maps to its first occurrence. A reading that
// never occurs (clocks jumping forward) maps to the instant of the jump,
// when the skipped reading has just passed: the window opens late rather
// than not at all.
func instant(w time.Time, loc *time.Location) time.Time {
	u := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), loc)
	got := wall(u, loc)
	switch {
	case got.Equal(w):
		// time.Date may pick either reading of a repeated wall time; look
		// for one under the previous zone offset.
		start, _ := u.ZoneBounds()
		if start.IsZero() {
			return u
		}
		_, offset := start.Add(-time.Nanosecond).Zone()
		earlier := w.Add(-time.Duration(offset) * time.Second).In(loc)
		if earlier.Before(start) && wall(earlier, loc).Equal(w) {
			return earlier
		}
		return u
	case got.Before(w):
		// u landed before the gap: the jump is where its zone ends.
		if _, end := u.ZoneBounds(); !end.IsZero() {
			return end
		}
		return u
	default:
		// u landed after the gap: the jump is where its zone starts.
		if start, _ := u.ZoneBounds(); !start.IsZero() {
			return start
		}
		return u
	}
}

// next returns the start of the first opening strictly after t, in the
// window's zone, or the zero time if the schedule has none within cron's
// five-year search.
func (w *Window) next(t time.Time) time.Time {
	from := wall(t, w.loc)
	for {
		nw := w.spec.Next(from)
		if nw.IsZero() {
			return time.Time{}
		}
		// After clocks go back, a wall time later than t's reading can
		// still lie before t (its first occurrence has passed): move on.
		if u := instant(nw, w.loc); u.After(t) {
			return u
		}
		from = nw
	}
}

// atOrAfter returns the start of the first opening at or after t. Openings
// fall on whole seconds, so nothing lies between t-1ns and t.
func (w *Window) atOrAfter(t time.Time) time.Time {
	return w.next(t.Add(-time.Nanosecond))
}
