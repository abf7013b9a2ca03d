package window_test

import (
	"fmt"
	"time"

	"cutover/window"
)

func Example() {
	w, err := window.Parse("0 22 * * SAT", "6h", "Asia/Shanghai")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(w)

	// The executor passes its own clock reading; here a fixed instant,
	// Saturday 2026-11-28 at 23:30 in Shanghai.
	now := time.Date(2026, 11, 28, 15, 30, 0, 0, time.UTC)
	s := w.At(now)
	fmt.Println(s)
	fmt.Println("failover (2h) fits:", w.Fits(now, 2*time.Hour))
	fmt.Println("full sync (5h) fits:", w.Fits(now, 5*time.Hour))
	start, _ := w.NextFit(now, 5*time.Hour)
	fmt.Println("full sync can start:", start.Format(time.RFC3339))
	// Output:
	// 0 22 * * SAT for 6h (Asia/Shanghai)
	// open 2026-11-28 22:00 CST to 2026-11-29 04:00 CST, 4h30m left; next opens 2026-12-05 22:00 CST
	// failover (2h) fits: true
	// full sync (5h) fits: false
	// full sync can start: 2026-12-05T22:00:00+08:00
}
