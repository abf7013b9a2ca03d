package azure

import (
	"encoding/json"
	"net/url"
	"strings"
)

// rebaseToken points every absolute https URL in a poller resume token at
// the endpoint this client talks to, keeping each URL's path and query.
//
// A resume token comes from the journal, written by an earlier process.
// Against Azure its URLs name the Resource Manager host this client uses
// anyway, and the rewrite changes nothing. Against the simulated world a
// resumed process serves the vault on a new loopback port, and the old
// URLs would name a port nobody listens on: without the rewrite a resumed
// apply polled a dead address until it gave up. It also means a journal
// can never make this client send its bearer token to another host.
func rebaseToken(tok string, endpoint *url.URL) string {
	if endpoint == nil || endpoint.Host == "" {
		return tok
	}
	var v any
	if err := json.Unmarshal([]byte(tok), &v); err != nil {
		return tok
	}
	v = rebaseValue(v, endpoint)
	b, err := json.Marshal(v)
	if err != nil {
		return tok
	}
	return string(b)
}

func rebaseValue(v any, endpoint *url.URL) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = rebaseValue(e, endpoint)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = rebaseValue(e, endpoint)
		}
		return x
	case string:
		if !strings.HasPrefix(strings.ToLower(x), "https://") {
			// A token nested as a JSON string is rebased inside.
			if strings.HasPrefix(strings.TrimSpace(x), "{") {
				return rebaseToken(x, endpoint)
			}
			return x
		}
		u, err := url.Parse(x)
		if err != nil || u.Host == "" || strings.EqualFold(u.Host, endpoint.Host) {
			return x
		}
		u.Scheme, u.Host = endpoint.Scheme, endpoint.Host
		return u.String()
	}
	return v
}
