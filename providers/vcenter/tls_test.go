package vcenter_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"cutover/providers/vcenter"
)

// TestTLSNeverQuietlyWeakens: certificate checks stay on unless the
// config says insecure, whatever govc's variables say; a certificate that
// cannot be verified fails at once (no retry) naming the host and what to
// set; http:// is refused before anything is sent.
func TestTLSNeverQuietlyWeakens(t *testing.T) {
	t.Parallel()
	s := startSim(t, testWorld())
	env := map[string]string{"GOVC_INSECURE": "1"}
	getenv := func(k string) string { return env[k] }

	for _, tc := range []struct {
		name string
		cfg  vcenter.Config
		want []string
		cert bool
	}{
		{"untrusted with GOVC_INSECURE=1", vcenter.Config{Name: "dc1", URL: s.URL.String(), Username: s.Username, Password: s.Password},
			[]string{`vcenter "dc1" at ` + s.URL.Host, "cannot be verified", "thumbprint ="}, true},
		{"wrong thumbprint", vcenter.Config{Name: "dc1", URL: s.URL.String(), Username: s.Username, Password: s.Password,
			Thumbprint: "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33"}, []string{"cannot be verified", "thumbprint"}, true},
		{"http", vcenter.Config{Name: "dc1", URL: "http://" + s.URL.Host + "/sdk", Username: s.Username, Password: s.Password, Insecure: true},
			[]string{"is not https", "https://" + s.URL.Host + "/sdk"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			c, err := vcenter.Connect(context.Background(), tc.cfg, vcenter.WithGetenv(getenv))
			if err == nil {
				c.Close(context.Background())
				t.Fatal("connected")
			}
			var ce *vcenter.CertificateError
			if errors.As(err, &ce) != tc.cert {
				t.Fatalf("error %v: certificate error = %v, want %v", err, !tc.cert, tc.cert)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s: a certificate error must not be retried", d)
			}
		})
	}
}
