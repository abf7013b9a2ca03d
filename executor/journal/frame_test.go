package journal

import (
	"strings"
	"testing"
)

func TestParseFrameIsStrict(t *testing.T) {
	t.Parallel()
	payload := `{"seq":1}`
	good := strings.TrimSuffix(string(AppendFrame(nil, []byte(payload))), "\n")
	sum, size := good[:8], good[9:10]
	cases := []struct {
		name string
		line string
		ok   bool
	}{
		{"canonical", good, true},
		{"upper-case checksum", strings.ToUpper(sum) + good[8:], strings.ToUpper(sum) == sum},
		{"short checksum", sum[1:] + good[8:], false},
		{"leading zero length", sum + " 0" + size + good[10:], false},
		{"signed length", sum + " +" + size + good[10:], false},
		{"two spaces", sum + "  " + good[9:], false},
		{"no payload separator", sum + " " + size, false},
		{"empty", "", false},
		{"payload with trailing space", good + " ", false},
	}
	for _, c := range cases {
		got, err := ParseFrame([]byte(c.line))
		if (err == nil) != c.ok {
			t.Errorf("%s: ParseFrame(%q) error = %v, want ok=%v", c.name, c.line, err, c.ok)
		}
		if c.ok && string(got) != payload {
			t.Errorf("%s: payload %q, want %q", c.name, got, payload)
		}
	}
}
