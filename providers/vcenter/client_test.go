package vcenter_test

import (
	"testing"
	"time"

	"cutover/providers/vcenter"
)

func TestKeepAliveRefreshesIdleSession(t *testing.T) {
	t.Parallel()
	s := startSim(t, testWorld())
	counter := &callCounter{n: map[string]int{}}
	c := connect(t, s, vcenter.WithKeepAlive(20*time.Millisecond), interposed(counter, &counter.next))
	deadline := time.Now().Add(3 * time.Second)
	for counter.count("CurrentTime") < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := counter.count("CurrentTime"); n < 2 {
		t.Fatalf("%d keep-alive calls in an idle session, want at least 2", n)
	}
	if _, err := c.SessionKey(t.Context()); err != nil {
		t.Fatal(err)
	}
}
