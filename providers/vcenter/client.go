package vcenter

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/session/keepalive"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
)

// Client is a logged-in connection to one vCenter.
type Client struct {
	name    string
	dc      string
	vim     *vim25.Client
	relogin *relogin
	keep    *keepalive.HandlerSOAP
	retry   Retry
	poll    time.Duration
	log     *slog.Logger
}

// Option adjusts a Client at Connect.
type Option func(*settings)

type settings struct {
	getenv    func(string) string
	wrap      func(soap.RoundTripper) soap.RoundTripper
	retry     Retry
	poll      time.Duration
	keepAlive time.Duration
	log       *slog.Logger
}

// WithGetenv replaces os.Getenv for the GOVC_* fallbacks (tests, sandboxes).
func WithGetenv(f func(string) string) Option { return func(s *settings) { s.getenv = f } }

// WithTransport wraps the SOAP transport, below re-login and keep-alive, so
// the wrapper sees every call actually sent (tests count round trips with it).
func WithTransport(wrap func(soap.RoundTripper) soap.RoundTripper) Option {
	return func(s *settings) { s.wrap = wrap }
}

// WithRetry sets the backoff for transient faults.
func WithRetry(r Retry) Option { return func(s *settings) { s.retry = r } }

// WithPollInterval caps how often a task's state is read while waiting
// (default 1s); polling starts faster and backs off to it.
func WithPollInterval(d time.Duration) Option { return func(s *settings) { s.poll = d } }

// WithKeepAlive sets the idle time after which the session is refreshed.
func WithKeepAlive(d time.Duration) Option { return func(s *settings) { s.keepAlive = d } }

// WithLogger receives diagnostics (re-logins, retries); never secrets.
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.log = l } }

// Connect logs in to the vCenter cfg describes. TLS is verified unless
// Insecure; a Thumbprint pins the certificate instead of trusting a CA.
func Connect(ctx context.Context, cfg Config, opts ...Option) (*Client, error) {
	s := settings{retry: DefaultRetry, poll: time.Second, keepAlive: 5 * time.Minute}
	for _, o := range opts {
		o(&s)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	ep, err := cfg.resolve(s.getenv)
	if err != nil {
		return nil, err
	}
	sc := soap.NewClient(ep.url, ep.insecure)
	if ep.thumbprint != "" {
		sc.SetThumbprint(ep.url.Host, ep.thumbprint)
	}
	if ep.caCerts != "" {
		if err := sc.SetRootCAs(ep.caCerts); err != nil {
			return nil, fmt.Errorf("vcenter %q: GOVC_TLS_CA_CERTS: %w", cfg.Name, err)
		}
	}
	var rt soap.RoundTripper = sc
	if s.wrap != nil {
		rt = s.wrap(rt)
	}
	// Created on the soap.Client itself so vim25 sets namespace and version
	// (the SOAPAction a real vCenter routes by); the wrappers go on after.
	vc, err := vim25.NewClient(ctx, sc)
	if err != nil {
		if ce := asCertificateError(cfg.Name, ep.url.Host, err); ce != nil {
			return nil, ce
		}
		return nil, fmt.Errorf("vcenter %q at %s: %w", cfg.Name, ep.url, err)
	}
	rl := &relogin{next: rt, user: ep.user, log: s.log, vcenter: cfg.Name, sessionManager: *vc.ServiceContent.SessionManager}
	keep := keepalive.NewHandlerSOAP(rl, s.keepAlive, nil)
	vc.RoundTripper = keep
	if err := session.NewManager(vc).Login(ctx, ep.user); err != nil {
		return nil, fmt.Errorf("vcenter %q at %s: login as %q: %w", cfg.Name, ep.url, ep.user.Username(), err)
	}
	return &Client{
		name: cfg.Name, dc: ep.datacenter, vim: vc, relogin: rl, keep: keep,
		retry: s.retry, poll: s.poll, log: s.log,
	}, nil
}

// Close logs out and stops the keep-alive.
func (c *Client) Close(ctx context.Context) error {
	defer c.keep.Stop()
	return session.NewManager(c.vim).Logout(ctx)
}

// Vim is the underlying govmomi client, for callers that need an API this
// package does not wrap.
func (c *Client) Vim() *vim25.Client { return c.vim }

// SessionKey identifies the current session (an administrator can terminate
// it by this key).
func (c *Client) SessionKey(ctx context.Context) (string, error) {
	us, err := session.NewManager(c.vim).UserSession(ctx)
	if err != nil {
		return "", err
	}
	if us == nil {
		return "", fmt.Errorf("vcenter %q: no session", c.name)
	}
	return us.Key, nil
}

// Relogins counts the re-logins done after NotAuthenticated.
func (c *Client) Relogins() int { return c.relogin.count() }

func (c *Client) dcName() string { return c.dc }

// String names the vCenter; a client never prints its credentials.
func (c *Client) String() string { return fmt.Sprintf("vcenter client %q", c.name) }

// GoString keeps %#v from walking into the credentials.
func (c *Client) GoString() string { return c.String() }
