package schema

import "testing"

func TestSuggest(t *testing.T) {
	t.Parallel()
	cands := []string{"sat-night", "sun-morning", "weekend"}
	for _, c := range []struct{ name, want string }{
		{"sat-nigth", "sat-night"},
		{"satnight", "sat-night"},
		{"weekend", "weekend"},
		{"weekends", "weekend"},
		{"friday", ""},
		{"x", ""},
	} {
		if got := Suggest(c.name, cands); got != c.want {
			t.Errorf("Suggest(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}
