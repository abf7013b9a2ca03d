package vcenter

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"sync"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// relogin is a soap.RoundTripper that survives an expired or terminated
// session: on a NotAuthenticated fault it logs in again, once, and retries
// the call once. Concurrent callers that failed on the same session share one
// login.
type relogin struct {
	next           soap.RoundTripper
	user           *url.Userinfo
	sessionManager types.ManagedObjectReference
	log            *slog.Logger
	vcenter        string

	mu         sync.Mutex
	generation int // bumped by every successful re-login
	relogins   int
}

func (r *relogin) RoundTrip(ctx context.Context, req, res soap.HasFault) error {
	switch req.(type) {
	case *methods.LoginBody, *methods.LogoutBody:
		return r.next.RoundTrip(ctx, req, res)
	}
	r.mu.Lock()
	gen := r.generation
	r.mu.Unlock()

	err := r.next.RoundTrip(ctx, req, res)
	expired := err != nil && fault.Is(err, &types.NotAuthenticated{})
	if err == nil {
		expired = propertiesNotAuthenticated(res)
	}
	if !expired || r.sessionManager.Value == "" {
		return err
	}
	if lerr := r.login(ctx, gen); lerr != nil {
		return fmt.Errorf("%w (re-login failed: %v)", err, lerr)
	}
	// The response carries the first attempt's fault; start clean.
	v := reflect.ValueOf(res).Elem()
	v.Set(reflect.Zero(v.Type()))
	return r.next.RoundTrip(ctx, req, res)
}

// login logs in unless another caller already did since generation gen.
func (r *relogin) login(ctx context.Context, gen int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.generation != gen {
		return nil
	}
	pass, _ := r.user.Password()
	req := types.Login{This: r.sessionManager, UserName: r.user.Username(), Password: pass}
	if _, err := methods.Login(ctx, r.next, &req); err != nil {
		return fmt.Errorf("login as %q: %w", r.user.Username(), err)
	}
	r.generation++
	r.relogins++
	r.log.Info("vcenter session re-established after NotAuthenticated", "vcenter", r.vcenter)
	return nil
}

func (r *relogin) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.relogins
}

// propertiesNotAuthenticated reports a property read answered without a
// session: the call itself succeeds, but every property comes back missing
// with NotAuthenticated (vcsim answers reads of an ended session this way).
func propertiesNotAuthenticated(res soap.HasFault) bool {
	var objects []types.ObjectContent
	switch b := res.(type) {
	case *methods.RetrievePropertiesExBody:
		if b.Res != nil && b.Res.Returnval != nil {
			objects = b.Res.Returnval.Objects
		}
	case *methods.RetrievePropertiesBody:
		if b.Res != nil {
			objects = b.Res.Returnval
		}
	}
	for _, oc := range objects {
		for _, m := range oc.MissingSet {
			if _, ok := m.Fault.Fault.(*types.NotAuthenticated); ok {
				return true
			}
		}
	}
	return false
}
