package vcenter

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/vim25/soap"
)

// Config says how to reach one vCenter. The CLI maps a runbook's vcenter
// block onto it; empty fields fall back to govc's environment variables.
type Config struct {
	// Name is the runbook's label for this vCenter, used in messages.
	Name string
	// URL is the SDK endpoint; like govc, a bare host name is accepted and
	// userinfo in the URL supplies credentials not given otherwise.
	URL      string
	Username string
	// Password is never printed, logged or serialized.
	Password string
	// Insecure skips TLS verification. Prefer Thumbprint.
	Insecure bool
	// Thumbprint pins the server certificate (SHA-1 or SHA-256, hex with
	// colons, as govc prints it).
	Thumbprint string
	// Datacenter, if set, limits discovery to one datacenter.
	Datacenter string
}

const redacted = "REDACTED"

// String describes the config without its password.
func (c Config) String() string {
	pw := ""
	if c.Password != "" {
		pw = redacted
	}
	return fmt.Sprintf("vcenter.Config{Name:%q URL:%q Username:%q Password:%q Insecure:%t Thumbprint:%q Datacenter:%q}",
		c.Name, redactURL(c.URL), c.Username, pw, c.Insecure, c.Thumbprint, c.Datacenter)
}

// GoString keeps %#v from printing the password.
func (c Config) GoString() string { return c.String() }

// LogValue keeps slog from logging the password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", c.Name),
		slog.String("url", redactURL(c.URL)),
		slog.String("username", c.Username),
		slog.Bool("password_set", c.Password != ""),
		slog.Bool("insecure", c.Insecure),
		slog.String("thumbprint", c.Thumbprint),
		slog.String("datacenter", c.Datacenter),
	)
}

// MarshalJSON serializes the config without its password, so a config that
// ends up in a plan file or journal carries no secret.
func (c Config) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name       string `json:"name,omitempty"`
		URL        string `json:"url,omitempty"`
		Username   string `json:"username,omitempty"`
		Insecure   bool   `json:"insecure,omitempty"`
		Thumbprint string `json:"thumbprint,omitempty"`
		Datacenter string `json:"datacenter,omitempty"`
	}{c.Name, redactURL(c.URL), c.Username, c.Insecure, c.Thumbprint, c.Datacenter})
}

// redactURL hides a password in URL userinfo. An unparsable URL is not
// shown at all, because it may still contain one.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") {
			return "(unparsable URL not shown)"
		}
		return raw
	}
	return u.Redacted()
}

// endpoint is a Config resolved against the environment.
type endpoint struct {
	url        *url.URL // without userinfo
	user       *url.Userinfo
	insecure   bool
	thumbprint string
	caCerts    string // PEM files, os.PathListSeparator-separated
	datacenter string
}

// resolve applies govc's fallbacks: GOVC_URL, GOVC_USERNAME, GOVC_PASSWORD,
// GOVC_TLS_CA_CERTS, GOVC_DATACENTER, then userinfo in the URL. Errors
// never include secrets.
//
// GOVC_INSECURE is deliberately not among them: an environment variable
// set for another tool (or left in a CI job) must never turn certificate
// checks off for a runbook that did not ask; only Config.Insecure does.
// Plain http:// is refused: the first SOAP request would carry the
// password in clear.
func (c Config) resolve(getenv func(string) string) (endpoint, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	raw := c.URL
	if raw == "" {
		raw = getenv("GOVC_URL")
	}
	if raw == "" {
		return endpoint{}, fmt.Errorf("vcenter %q: no URL (set url or GOVC_URL)", c.Name)
	}
	u, err := soap.ParseURL(raw)
	if err != nil || u == nil {
		return endpoint{}, fmt.Errorf("vcenter %q: URL %s is not valid", c.Name, redactURL(raw))
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return endpoint{}, fmt.Errorf("vcenter %q: URL %s is not https: the login would go out unencrypted; use https://%s%s", c.Name, redactURL(raw), u.Host, u.Path)
	}
	user, pass := c.Username, c.Password
	if user == "" {
		user = getenv("GOVC_USERNAME")
	}
	if pass == "" {
		pass = getenv("GOVC_PASSWORD")
	}
	if u.User != nil {
		if user == "" {
			user = u.User.Username()
		}
		if p, ok := u.User.Password(); ok && pass == "" {
			pass = p
		}
	}
	u.User = nil
	if user == "" {
		return endpoint{}, fmt.Errorf("vcenter %q at %s: no username (set username, GOVC_USERNAME or URL userinfo)", c.Name, u)
	}
	insecure := c.Insecure
	if insecure && c.Thumbprint != "" {
		return endpoint{}, errors.New("vcenter " + strconv.Quote(c.Name) + ": insecure and thumbprint are exclusive: a pinned certificate is verified")
	}
	dc := c.Datacenter
	if dc == "" {
		dc = getenv("GOVC_DATACENTER")
	}
	return endpoint{
		url: u, user: url.UserPassword(user, pass), insecure: insecure, thumbprint: c.Thumbprint,
		caCerts: getenv("GOVC_TLS_CA_CERTS"), datacenter: dc,
	}, nil
}
