package azuresim

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"cutover/internal/filelock"
)

// API versions the simulator serves; any other is refused with 400 as ARM does.
const (
	SiteRecoveryAPIVersion = "2025-01-01"
	OffAzureAPIVersion     = "2023-06-06"
)

// Options tune the simulated service.
type Options struct {
	// TimeScale multiplies every job and replication duration; 1 gives
	// seconds-long jobs for demos, 0.001 gives millisecond jobs for tests.
	// Zero means 1.
	TimeScale float64
	// PageSize is the number of entries per list page (nextLink beyond).
	// Zero means 100.
	PageSize int
	// PollAfter is the Retry-After advertised on long-running operations.
	// Whole seconds go in Retry-After; anything finer is also sent as
	// retry-after-ms, which azcore prefers. Zero means 1 s.
	PollAfter time.Duration
	// StateFile, when set, holds the world as JSON: it is loaded when it
	// exists (the seed is then ignored), reloaded when another process
	// changed it and rewritten after every change.
	StateFile string
	// Now replaces the clock (tests of time-dependent states).
	Now func() time.Time
	// OnSourceShutdown, when set, is called with the discovered machine's
	// display name when an unplanned failover with performShutdown "true"
	// is accepted: ASR shuts the source down before it fails over. A
	// world that also simulates vCenter powers the VM off there. It is
	// called with the simulator's lock held and must not call back into it.
	OnSourceShutdown func(machine string)
}

// Fault makes the simulator fail an operation. Operation is one of create,
// update, testFailover, testFailoverCleanup, unplannedFailover,
// failoverCancel, failoverCommit, remove, purge, get, list, machines,
// runasaccounts, and for Azure VMs getVM, powerOff, deallocate, start
// (case-insensitive; empty matches any). VM matches the item
// name, the target VM name or the machine display name (empty: any VM).
// With Async the request is accepted and the job fails later; otherwise the
// request itself fails with Status. Times is how many requests it hits (0:
// every one).
type Fault struct {
	Operation string `json:"operation,omitempty"`
	VM        string `json:"vm,omitempty"`
	Status    int    `json:"status,omitempty"`
	Code      string `json:"code,omitempty"`
	Message   string `json:"message,omitempty"`
	Async     bool   `json:"async,omitempty"`
	Times     int    `json:"times,omitempty"`
}

// Request is one entry of the request log. It never holds headers or bodies,
// so no token can leak through it.
type Request struct {
	Time   time.Time
	Method string
	Path   string
	Status int
	// Fields are the lifecycle choices a request body made, for tests to
	// check what was asked: performShutdown and recoveryPointId of a
	// failover. Nil for other requests.
	Fields map[string]string
}

// Throttle is ARM's subscription write budget: a token bucket per
// subscription holding Burst tokens, refilled at WritesPerSecond. Every
// write (PUT, PATCH, POST) takes a token from the writes bucket, every
// DELETE from a deletes bucket of the same size; a request that finds its
// bucket empty is refused with 429, error code SubscriptionRequestsThrottled
// and a Retry-After in whole seconds until the next token, and it takes no
// token. Accepted writes carry x-ms-ratelimit-remaining-subscription-writes
// (or -deletes) with the tokens left. Source: "Throttling Resource Manager
// requests" (learn.microsoft.com/azure/azure-resource-manager/management/
// request-limits-and-throttling): the regional token-bucket table
// (subscription writes 200 burst / 10 per s, deletes 200 / 10, reads
// 250 / 25), the remaining-* headers and the 429 + Retry-After contract.
// GUESS: the exact wording of the 429 message; ARM's published examples
// vary between services. Reads are not throttled here.
type Throttle struct {
	// WritesPerSecond is the refill rate; zero turns the bucket off.
	WritesPerSecond float64
	// Burst is the bucket's size; zero means WritesPerSecond (at least 1).
	Burst int
	// RetryAfter, when set, replaces the computed Retry-After.
	RetryAfter time.Duration
}

// ARMWriteThrottle is ARM's published subscription write budget.
var ARMWriteThrottle = Throttle{WritesPerSecond: 10, Burst: 200}

// bucket is one token bucket of the throttle.
type bucket struct {
	tokens float64
	last   time.Time
}

// Sim is the simulated ARM endpoint. It is an http.Handler; serve it over TLS.
type Sim struct {
	mu       sync.Mutex
	opts     Options
	w        *world
	stateSum [sha256.Size]byte

	logMu    sync.Mutex
	requests []Request

	faults []*Fault
	// rulesDirty says a request used a counted rule of the state file.
	rulesDirty bool
	throttle   Throttle
	forced     int
	buckets    map[string]*bucket // "writes", "deletes"
}

var _ http.Handler = (*Sim)(nil)

// New builds a simulator from a seed. With Options.StateFile pointing to an
// existing file, the stored world wins over the seed.
func New(seed Seed, opts Options) (*Sim, error) {
	if opts.TimeScale == 0 {
		opts.TimeScale = 1
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	if opts.PollAfter <= 0 {
		opts.PollAfter = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Sim{opts: opts}
	if opts.StateFile != "" {
		w, sum, err := loadWorld(opts.StateFile)
		switch {
		case err == nil:
			s.w, s.stateSum = w, sum
			s.w.scale = opts.TimeScale
			return s, nil
		case !errors.Is(err, os.ErrNotExist):
			return nil, err
		}
	}
	if err := validateSeed(seed); err != nil {
		return nil, err
	}
	s.w = newWorld(seed)
	s.w.scale = opts.TimeScale
	if err := s.w.seedItems(opts.Now()); err != nil {
		return nil, err
	}
	if opts.StateFile != "" {
		sum, err := s.w.save(opts.StateFile)
		if err != nil {
			return nil, err
		}
		s.stateSum = sum
	}
	return s, nil
}

func validateSeed(s Seed) error {
	var missing []string
	for name, v := range map[string]string{"subscriptionId": s.SubscriptionID, "resourceGroup": s.ResourceGroup,
		"vault": s.Vault, "fabric": s.Fabric, "appliance": s.Appliance, "processServerId": s.ProcessServerID, "site": s.Site} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("azuresim: seed lacks %s", strings.Join(missing, ", "))
	}
	return nil
}

// Seed returns the inventory the world was built from.
func (s *Sim) Seed() Seed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Seed
}

// InjectFault adds a fault rule.
func (s *Sim) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := f
	s.faults = append(s.faults, &c)
}

// ClearFaults removes every fault rule.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// SetThrottle replaces the write throttle; a zero Throttle turns it off.
func (s *Sim) SetThrottle(t Throttle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = t
	s.buckets = nil
}

// ThrottleNext makes the next n writes fail with 429 and the given
// Retry-After, whatever the rate: deterministic throttling for tests.
func (s *Sim) ThrottleNext(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forced = n
	s.throttle.RetryAfter = retryAfter
}

// MarkUnhealthy sets a critical replication health error on the item
// replicating vm (item, target or display name); failovers then fail with
// ReplicationNotHealthy. An empty message clears it.
func (s *Sim) MarkUnhealthy(vm, message string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := s.lockFile()
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.syncLocked(); err != nil {
		return err
	}
	for _, it := range s.w.Items {
		if s.matchVM(it, vm) {
			it.Unhealthy = message
			it.Revision++
			return s.persistLocked()
		}
	}
	return fmt.Errorf("azuresim: no protected item for %q", vm)
}

// SetAllowCancelFailover turns Seed.AllowCancelFailover on or off in the
// running world (and its state file).
func (s *Sim) SetAllowCancelFailover(on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := s.lockFile()
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.syncLocked(); err != nil {
		return err
	}
	s.w.Seed.AllowCancelFailover = on
	for _, it := range s.w.Items {
		it.Revision++
	}
	return s.persistLocked()
}

// Requests returns a copy of the request log.
func (s *Sim) Requests() []Request {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetRequests empties the request log.
func (s *Sim) ResetRequests() {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.requests = nil
}

// ProtectionState reports the current state of the item replicating vm, for
// tests that check the world independently of the client.
func (s *Sim) ProtectionState(vm string) (state, testFailover string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := s.lockFile()
	if err != nil {
		return "", "", false
	}
	defer unlock()
	if err := s.syncLocked(); err != nil {
		return "", "", false
	}
	s.w.advance(s.opts.Now(), s.opts.TimeScale)
	for _, it := range s.w.Items {
		if s.matchVM(it, vm) {
			return it.State, it.TestFailoverState, true
		}
	}
	return "", "", false
}

func (s *Sim) matchVM(it *item, vm string) bool {
	if vm == "" {
		return true
	}
	if strings.EqualFold(it.Name, vm) || strings.EqualFold(it.TargetVMName, vm) {
		return true
	}
	if m := s.w.machine(it.Machine); m != nil && strings.EqualFold(m.DisplayName, vm) {
		return true
	}
	return false
}

// fault returns the first rule matching the operation and the item (or one
// of the names, for requests that have no item yet) and consumes one use.
func (s *Sim) fault(operation string, it *item, names ...string) *Fault {
	if f := s.matchFault(&s.faults, operation, it, names); f != nil {
		return f
	}
	n := len(s.w.Rules)
	f := s.matchFault(&s.w.Rules, operation, it, names)
	if f != nil && (f.Times > 0 || len(s.w.Rules) != n) {
		// A counted rule was used up a little: the state file must say so.
		s.rulesDirty = true
	}
	return f
}

// matchFault returns the first fault of list matching the request, and
// counts it down (removing it when used up).
func (s *Sim) matchFault(list *[]*Fault, operation string, it *item, names []string) *Fault {
	for i, f := range *list {
		if f.Operation != "" && !strings.EqualFold(f.Operation, operation) {
			continue
		}
		if f.VM != "" && !s.faultVM(f.VM, it, names) {
			continue
		}
		c := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				*list = append((*list)[:i:i], (*list)[i+1:]...)
			}
		}
		return &c
	}
	return nil
}

func (s *Sim) faultVM(vm string, it *item, names []string) bool {
	if it != nil && s.matchVM(it, vm) {
		return true
	}
	for _, n := range names {
		if n != "" && strings.EqualFold(n, vm) {
			return true
		}
	}
	return false
}

// throttled takes a token of the named bucket for one request. When the
// bucket is empty it takes none and returns how long until the next token
// (ok false); otherwise it returns the tokens left.
func (s *Sim) throttled(kind string, now time.Time) (left int, retryAfter time.Duration, ok bool) {
	if s.forced > 0 {
		s.forced--
		return 0, s.throttle.RetryAfter, false
	}
	rate := s.throttle.WritesPerSecond
	if rate <= 0 {
		return -1, 0, true
	}
	burst := float64(s.throttle.Burst)
	if burst <= 0 {
		burst = max(1, rate)
	}
	if s.buckets == nil {
		s.buckets = map[string]*bucket{}
	}
	b := s.buckets[kind]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		s.buckets[kind] = b
	}
	if now.After(b.last) {
		b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
		b.last = now
	}
	if b.tokens < 1 {
		wait := time.Duration((1 - b.tokens) / rate * float64(time.Second))
		if s.throttle.RetryAfter > 0 {
			wait = s.throttle.RetryAfter
		}
		return 0, wait, false
	}
	b.tokens--
	return int(b.tokens), 0, true
}

// lockFile takes the cross-process lock when a state file is shared.
func (s *Sim) lockFile() (func(), error) {
	if s.opts.StateFile == "" {
		return func() {}, nil
	}
	return filelock.Lock(s.opts.StateFile)
}

// syncLocked reloads the world when another process changed the state
// file. It compares content hashes, not modification times: two writes
// within one filesystem timestamp tick would otherwise go unnoticed.
func (s *Sim) syncLocked() error {
	if s.opts.StateFile == "" {
		return nil
	}
	b, err := os.ReadFile(s.opts.StateFile)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	if sum == s.stateSum {
		return nil
	}
	w, err := decodeWorld(b)
	if err != nil {
		return err
	}
	s.w, s.stateSum = w, sum
	s.w.scale = s.opts.TimeScale
	return nil
}

func (s *Sim) persistLocked() error {
	if s.opts.StateFile == "" {
		return nil
	}
	sum, err := s.w.save(s.opts.StateFile)
	if err != nil {
		return err
	}
	s.stateSum = sum
	return nil
}

// meterWrite takes a token of the subscription's write budget for one
// write (see Throttle), or refuses it as ARM does: 429
// SubscriptionRequestsThrottled with Retry-After. Accepted writes carry the
// remaining count.
func (s *Sim) meterWrite(w http.ResponseWriter, method, sub string, now time.Time) *apiError {
	kind := "writes"
	if method == http.MethodDelete {
		kind = "deletes"
	}
	left, ra, ok := s.throttled(kind, now)
	if !ok {
		if ra <= 0 {
			ra = time.Second
		}
		if s.throttle.RetryAfter <= 0 {
			// ARM sends whole seconds only.
			ra = time.Duration(math.Ceil(ra.Seconds())) * time.Second
		}
		setRetryAfter(w.Header(), ra)
		return errorf(http.StatusTooManyRequests, "SubscriptionRequestsThrottled", "Number of '%s' requests for subscription '%s' exceeded the limit. Please try again after '%d' seconds.", strings.TrimSuffix(kind, "s"), sub, int(math.Ceil(ra.Seconds())))
	}
	if left >= 0 {
		w.Header().Set("x-ms-ratelimit-remaining-subscription-"+kind, strconv.Itoa(left))
	}
	return nil
}
