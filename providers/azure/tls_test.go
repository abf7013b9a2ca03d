package azure

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"cutover/providers/azure/azuresim"
)

// TestCertificateErrorIsNotRetried: a custom endpoint whose CA the client
// was not given fails on the first request with a *CertificateError naming
// the host and ca_file, under the default retry policy (which would retry a
// transport error for minutes).
func TestCertificateErrorIsNotRetried(t *testing.T) {
	t.Parallel()
	w := newWorld(t, azuresim.DefaultSeed(1), azuresimOptions())
	cfg := w.config()
	cfg.CAFile = ""
	c, err := New(cfg, &Options{PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.ListProtectedItems(context.Background())
	var ce *CertificateError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v, want *CertificateError", err)
	}
	host := mustHost(t, w.srv.URL)
	for _, want := range []string{host, "ca_file", "cannot be verified"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s: the certificate error was retried", d)
	}
}

func mustHost(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
