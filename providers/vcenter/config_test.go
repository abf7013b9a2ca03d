package vcenter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"cutover/providers/vcenter"
)

const secret = "s3cr3t-Pa55"

func TestConfigNeverShowsPassword(t *testing.T) {
	t.Parallel()
	cfg := vcenter.Config{Name: "dc1", URL: "https://admin:" + secret + "@vc.example/sdk", Username: "admin", Password: secret}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("connecting", "config", cfg)
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	login := vcenter.GuestCredentials{Username: "root", Password: secret}
	loginJSON, _ := json.Marshal(vcenter.GuestCustomization{Credentials: &login})
	logged.Reset()
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("connecting", "config", cfg, "login", login)
	outputs := map[string]string{
		"String":      cfg.String(),
		"%v":          fmt.Sprintf("%v", cfg),
		"%+v":         fmt.Sprintf("%+v", cfg),
		"%#v":         fmt.Sprintf("%#v", cfg),
		"slog":        logged.String(),
		"JSON":        string(js),
		"pointer":     fmt.Sprintf("%v", &cfg),
		"in slice":    fmt.Sprintf("%v", []vcenter.Config{cfg}),
		"login %v":    fmt.Sprintf("%v vc.example", login),
		"login %#v":   fmt.Sprintf("%#v vc.example", login),
		"login JSON":  string(loginJSON) + " vc.example",
		"login in op": fmt.Sprintf("%+v vc.example", vcenter.GuestCustomization{Credentials: &login}),
	}
	for name, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("%s shows the password: %s", name, out)
		}
		if !strings.Contains(out, "vc.example") {
			t.Errorf("%s lost the host: %s", name, out)
		}
	}
}

func TestConnectResolvesGovcEnvironment(t *testing.T) {
	t.Parallel()
	s := startSim(t, testWorld())
	hostURL := s.URL.String()
	withUser := s.URLWithCredentials().String()
	caFile, err := s.CertificateFile()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  vcenter.Config
		env  map[string]string
		ok   bool
	}{
		{"config only", vcenter.Config{URL: hostURL, Username: s.Username, Password: s.Password, Insecure: true}, nil, true},
		{"GOVC_URL with userinfo", vcenter.Config{Thumbprint: s.Thumbprint}, map[string]string{"GOVC_URL": withUser}, true},
		{"GOVC_USERNAME and GOVC_PASSWORD", vcenter.Config{URL: hostURL, Thumbprint: s.Thumbprint},
			map[string]string{"GOVC_USERNAME": s.Username, "GOVC_PASSWORD": s.Password}, true},
		{"config wins over environment", vcenter.Config{URL: hostURL, Username: s.Username, Password: s.Password, Thumbprint: s.Thumbprint},
			map[string]string{"GOVC_USERNAME": "someone", "GOVC_PASSWORD": "else"}, true},
		{"userinfo in config URL", vcenter.Config{URL: withUser, Thumbprint: s.Thumbprint}, nil, true},
		{"GOVC_TLS_CA_CERTS trusts a private CA", vcenter.Config{URL: hostURL, Username: s.Username, Password: s.Password},
			map[string]string{"GOVC_TLS_CA_CERTS": caFile}, true},
		{"TLS verified by default", vcenter.Config{URL: hostURL, Username: s.Username, Password: s.Password}, nil, false},
		{"wrong thumbprint refused", vcenter.Config{URL: hostURL, Username: s.Username, Password: s.Password,
			Thumbprint: "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33"}, nil, false},
		{"wrong password", vcenter.Config{URL: hostURL, Username: s.Username, Password: secret, Insecure: true}, nil, false},
		{"no URL", vcenter.Config{Username: "u", Password: secret}, nil, false},
		{"GOVC_INSECURE does not weaken", vcenter.Config{URL: hostURL, Username: s.Username, Password: s.Password}, map[string]string{"GOVC_INSECURE": "1"}, false},
		{"http refused", vcenter.Config{URL: "http://" + s.URL.Host + "/sdk", Username: s.Username, Password: s.Password, Insecure: true}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			c, err := vcenter.Connect(context.Background(), tt.cfg, vcenter.WithGetenv(getenv))
			if !tt.ok {
				if err == nil {
					c.Close(context.Background())
					t.Fatal("connected, want an error")
				}
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), s.Password) {
					t.Fatalf("error shows a password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(context.Background())
			if _, err := c.SessionKey(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%#v", c), fmt.Sprintf("%+v", *c)} {
				if strings.Contains(out, s.Password) {
					t.Fatalf("printing the client shows the password: %s", out)
				}
			}
		})
	}
}
