package azure

import (
	"net/url"
	"testing"
)

func TestRebaseToken(t *testing.T) {
	t.Parallel()
	ep, _ := url.Parse("https://127.0.0.1:4443")
	for _, tc := range []struct{ name, in, want string }{
		{"other port", `{"asyncURL":"https://127.0.0.1:37897/subscriptions/s/operations/o?api-version=1","method":"PUT"}`,
			`{"asyncURL":"https://127.0.0.1:4443/subscriptions/s/operations/o?api-version=1","method":"PUT"}`},
		{"same host unchanged", `{"locURL":"https://127.0.0.1:4443/x"}`, `{"locURL":"https://127.0.0.1:4443/x"}`},
		{"nested token string", `{"type":"T","token":"{\"asyncURL\":\"https://evil.example/x\"}"}`,
			`{"token":"{\"asyncURL\":\"https://127.0.0.1:4443/x\"}","type":"T"}`},
		{"not JSON", `opaque`, `opaque`},
	} {
		if got := rebaseToken(tc.in, ep); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}
