package vcentersim

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// Sim is a running simulated vCenter on loopback.
type Sim struct {
	// URL is the SDK endpoint, without credentials.
	URL *url.URL
	// Username and Password are the only credentials the simulator accepts.
	Username string
	Password string
	// Thumbprint is the SHA-1 thumbprint of the server's self-signed
	// certificate, for clients that pin it instead of skipping verification.
	Thumbprint string

	model  *simulator.Model
	server *simulator.Server
	dir    string
	once   sync.Once
}

// Option adjusts a simulator before it starts.
type Option func(*options)

type options struct {
	addr     string
	username string
	password string
	latency  simulator.DelayConfig
	// faultFile, if set, is the file of armed faults (WithFaultFile).
	faultFile string
}

// WithAddr listens on addr (host:port); the host must be a loopback address.
// The default is 127.0.0.1 on a free port.
func WithAddr(addr string) Option { return func(o *options) { o.addr = addr } }

// WithCredentials fixes the accepted credentials; by default the user is
// "administrator@vsphere.local" with a random password.
func WithCredentials(username, password string) Option {
	return func(o *options) { o.username, o.password = username, password }
}

// WithLatency delays every SOAP call by d, and the named methods (e.g.
// "RetrievePropertiesEx") by the extra durations given, to mimic a slow
// vCenter or WAN. Latency is fixed at start: vcsim reads it unsynchronized.
func WithLatency(d time.Duration, perMethod map[string]time.Duration) Option {
	return func(o *options) {
		o.latency.Delay = int(d.Milliseconds())
		o.latency.MethodDelay = map[string]int{}
		for k, v := range perMethod {
			o.latency.MethodDelay[k] = int(v.Milliseconds())
		}
	}
}

// createMu serialises vcsim model creation across simulators.
var createMu sync.Mutex

// Start builds w and serves it over HTTPS on loopback until Close.
func Start(ctx context.Context, w World, opts ...Option) (*Sim, error) {
	o := options{addr: "127.0.0.1:0", username: "administrator@vsphere.local"}
	for _, f := range opts {
		f(&o)
	}
	if o.password == "" {
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		o.password = hex.EncodeToString(b[:])
	}
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return nil, fmt.Errorf("simulator address %q: %w", o.addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("simulator address %q: only loopback addresses are served", o.addr)
	}

	model := simulator.VPX()
	model.Datacenter, model.Cluster, model.ClusterHost, model.Host = 0, 0, 0, 0
	model.Datastore, model.Machine, model.Pool, model.Portgroup = 0, 0, 0, 0
	// vcsim's model creation writes settings shared by every instance in
	// the process: two simulators starting at once race on them.
	createMu.Lock()
	err = model.Create()
	createMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("create simulator: %w", err)
	}
	s := &Sim{model: model, Username: o.username, Password: o.password}
	if s.dir, err = os.MkdirTemp(scratchDir(), "vcentersim-"); err != nil {
		model.Remove()
		return nil, err
	}
	c, err := vim25.NewClient(ctx, model.Service)
	if err != nil {
		s.Close()
		return nil, err
	}
	ext := newExtensions()
	ext.login = w.GuestLogin
	ext.install(model.Service.Context)
	b := &builder{c: c, sim: model.Service.Context, dir: s.dir, ext: ext}
	restoreGC := raiseGCPercent()
	err = b.build(ctx, w)
	restoreGC()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("build simulated world: %w", err)
	}

	if o.faultFile != "" {
		s.installFaultFile(o.faultFile)
	}
	model.Service.TLS = new(tls.Config)
	model.Service.Listen = &url.URL{Host: o.addr, User: url.UserPassword(o.username, o.password)}
	// Model.Create pointed the service's delay at model.DelayConfig; set it
	// only now so building the world is not slowed down.
	model.DelayConfig = o.latency
	s.server = model.Service.NewServer()
	u := *s.server.URL
	u.User = nil
	s.URL = &u
	s.Thumbprint = soap.ThumbprintSHA1(s.server.Certificate())
	return s, nil
}

// Serve builds w and serves it on addr until ctx is done: the long-running
// form behind the CLI's simulated world. ready, if not nil, is called with the
// running simulator so the caller can print its URL and credentials.
func Serve(ctx context.Context, addr string, w World, ready func(*Sim)) error {
	s, err := Start(ctx, w, WithAddr(addr))
	if err != nil {
		return err
	}
	defer s.Close()
	if ready != nil {
		ready(s)
	}
	<-ctx.Done()
	return nil
}

// Close stops the server and removes the datastore directories.
func (s *Sim) Close() {
	s.once.Do(func() {
		if s.server != nil {
			s.server.Close()
		}
		if s.model != nil {
			s.model.Remove()
		}
		if s.dir != "" {
			_ = os.RemoveAll(s.dir)
		}
	})
}

// String describes the simulator without its password.
func (s *Sim) String() string {
	return fmt.Sprintf("simulated vCenter at %s (user %q, password REDACTED, thumbprint %s)", s.URL, s.Username, s.Thumbprint)
}

// GoString keeps %#v from printing the password.
func (s *Sim) GoString() string { return s.String() }

// CertificateFile returns the path of a PEM file holding the server's
// certificate, for clients that verify it as a CA (GOVC_TLS_CA_CERTS). The
// file is removed by Close.
func (s *Sim) CertificateFile() (string, error) { return s.server.CertificateFile() }

// URLWithCredentials returns the SDK URL with the credentials as userinfo,
// the form GOVC_URL accepts.
func (s *Sim) URLWithCredentials() *url.URL {
	u := *s.URL
	u.User = url.UserPassword(s.Username, s.Password)
	return &u
}

// FaultRule makes the simulator answer a method call with a fault instead of
// running it.
type FaultRule struct {
	// Method is the vSphere method name, e.g. "RelocateVM_Task"; "*" for any.
	Method string
	// Object is the name of the managed entity, e.g. a VM name; "" for any.
	Object string
	// Fault is returned to the caller as a SOAP fault.
	Fault types.BaseMethodFault
	// Count limits how many calls fail; 0 means every call.
	Count int
	// Skip lets this many matching calls through before failing.
	Skip int
	// Delay is spent before the fault is returned.
	Delay time.Duration
}

// InjectFault adds a fault rule; rules are checked in the order added.
func (s *Sim) InjectFault(r FaultRule) error {
	if r.Fault == nil {
		return errors.New("fault rule without a fault")
	}
	method, object := r.Method, r.Object
	if method == "" {
		method = "*"
	}
	if object == "" {
		object = "*"
	}
	s.model.Service.AddFaultRule(&simulator.FaultInjectionRule{
		MethodName:  method,
		ObjectType:  "*",
		ObjectName:  object,
		Probability: 1.0,
		FaultType:   simulator.FaultTypeCustom,
		Fault:       r.Fault,
		MaxCount:    r.Count,
		SkipCount:   r.Skip,
		Delay:       int(r.Delay.Milliseconds()),
		Enabled:     true,
	})
	return nil
}

// ClearFaults removes every fault rule.
func (s *Sim) ClearFaults() { s.model.Service.ClearFaultRules() }

var taskDelayMu sync.Mutex

// SetTaskDelay makes tasks of the given names (vcsim task names such as
// "RelocateVm", "PowerOn", "CloneVm", "MigrateVm", "MakePrimaryVm")
// take at least the given time, and returns a function restoring the previous
// delays. The setting is process-global in vcsim: tests that use it must not
// run in parallel with other simulator tests. While delays are set the VM is
// not locked during the delay, so its properties stay readable as on a real
// vCenter.
func SetTaskDelay(delays map[string]time.Duration) (restore func()) {
	taskDelayMu.Lock()
	defer taskDelayMu.Unlock()
	prev := simulator.TaskDelay
	next := simulator.DelayConfig{MethodDelay: maps.Clone(prev.MethodDelay)}
	if next.MethodDelay == nil {
		next.MethodDelay = map[string]int{}
	}
	for k, v := range delays {
		next.MethodDelay[k] = int(v.Milliseconds())
	}
	next.MethodDelay["LockHandoff"] = 0
	// Replace, never mutate: running tasks may be reading the old map.
	simulator.TaskDelay = next
	return func() {
		taskDelayMu.Lock()
		simulator.TaskDelay = prev
		taskDelayMu.Unlock()
	}
}

// TerminateSession ends the session with the given key, as an administrator
// would from the vSphere client; the session's next call fails with
// NotAuthenticated.
func (s *Sim) TerminateSession(ctx context.Context, key string) error {
	c, err := vim25.NewClient(ctx, soap.NewClient(s.URL, true))
	if err != nil {
		return err
	}
	m := session.NewManager(c)
	if err := m.Login(ctx, url.UserPassword(s.Username, s.Password)); err != nil {
		return err
	}
	defer func() { _ = m.Logout(ctx) }()
	return m.TerminateSession(ctx, []string{key})
}

// Context is the simulator's own context, for tests that need to reach
// simulator objects directly (for example to put a host in maintenance
// mode). Prefer the SOAP API where it can express the same thing.
func (s *Sim) Context() *simulator.Context { return s.model.Service.Context }

// scratchDir is where simulated datastores keep their files. vcsim creates
// a few files per VM; on a memory-backed file system building 1,000 VMs
// takes a fraction of the time it takes on disk.
func scratchDir() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", "vcentersim-probe-"); err == nil {
			name := f.Name()
			_ = f.Close()
			_ = os.Remove(name)
			return "/dev/shm"
		}
	}
	return ""
}

// PowerOffByName powers off the VM with that name, through the SOAP API
// as any client would. It stands for a shutdown made outside cutover's
// vCenter connection: ASR's own shutdown of the source at failover
// (performShutdown "true"). A VM already off is left alone.
func (s *Sim) PowerOffByName(ctx context.Context, name string) error {
	c, err := vim25.NewClient(ctx, soap.NewClient(s.URL, true))
	if err != nil {
		return err
	}
	m := session.NewManager(c)
	if err := m.Login(ctx, url.UserPassword(s.Username, s.Password)); err != nil {
		return err
	}
	defer func() { _ = m.Logout(ctx) }()
	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		return err
	}
	defer func() { _ = v.Destroy(ctx) }()
	refs, err := v.Find(ctx, []string{"VirtualMachine"}, property.Match{"name": name})
	if err != nil {
		return err
	}
	if len(refs) != 1 {
		return fmt.Errorf("vcentersim: %d VMs named %q", len(refs), name)
	}
	vm := object.NewVirtualMachine(c, refs[0])
	state, err := vm.PowerState(ctx)
	if err != nil || state == types.VirtualMachinePowerStatePoweredOff {
		return err
	}
	task, err := vm.PowerOff(ctx)
	if err != nil {
		return err
	}
	return task.Wait(ctx)
}
