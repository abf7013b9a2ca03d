package azure

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// ARM throttles writes per subscription (and principal) with a token
// bucket: 200 tokens, refilled at 10 per second ("Throttling Resource
// Manager requests", learn.microsoft.com/azure/azure-resource-manager/
// management/request-limits-and-throttling). When every worker of an apply
// retries its own 429s, a big wave empties the bucket for all of them at
// once and most of what is sent is refused. So all mutating calls of the
// process draw from one bucket per subscription first, and a 429 is not an
// error: it shrinks the bucket and the request waits its turn again.

// DefaultWriteBurst and DefaultWritesPerSecond are ARM's published
// subscription write budget.
const (
	DefaultWriteBurst      = 200
	DefaultWritesPerSecond = 10.0
)

// BudgetSettings size a subscription's write bucket. Zero fields take
// ARM's defaults.
type BudgetSettings struct {
	Burst     int
	PerSecond float64
}

func (s BudgetSettings) withDefaults() BudgetSettings {
	if s.Burst <= 0 {
		s.Burst = DefaultWriteBurst
	}
	if s.PerSecond <= 0 {
		s.PerSecond = DefaultWritesPerSecond
	}
	return s
}

// BudgetWait tells a caller that one of its requests waits for its
// subscription's write budget.
type BudgetWait struct {
	Subscription string
	// Wait is how long the request is expected to wait from now.
	Wait time.Duration
	// Throttled is set when ARM refused the request (429): RetryAfter is
	// what it asked for, Code its error code when it sent one.
	Throttled  bool
	RetryAfter time.Duration
	Code       string
}

type budgetObserverKey struct{}

// WithBudgetObserver returns a context whose mutating requests report
// their waits for the write budget to fn. fn is called on the request's
// goroutine and must not block.
func WithBudgetObserver(ctx context.Context, fn func(BudgetWait)) context.Context {
	return context.WithValue(ctx, budgetObserverKey{}, fn)
}

func observe(ctx context.Context, w BudgetWait) {
	if fn, ok := ctx.Value(budgetObserverKey{}).(func(BudgetWait)); ok && fn != nil {
		fn(w)
	}
}

// budgetReportAfter is the shortest wait worth reporting: a request that
// waits less than this for its token is pacing, not waiting.
const budgetReportAfter = 100 * time.Millisecond

// Budgets holds one write bucket per subscription and endpoint. Clients
// built with the same Budgets share buckets; DefaultBudgets is shared by
// every client of the process unless Options says otherwise.
type Budgets struct {
	mu      sync.Mutex
	buckets map[string]*budget
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
}

// DefaultBudgets is the process's registry of write budgets.
var DefaultBudgets = NewBudgets()

// NewBudgets returns an empty registry.
func NewBudgets() *Budgets {
	return &Budgets{buckets: map[string]*budget{}, now: time.Now, sleep: sleep}
}

// bucket returns the subscription's bucket, creating it with s. When two
// connections configure the same subscription differently the smaller
// budget wins: ARM counts them together.
func (bs *Budgets) bucket(key string, s BudgetSettings) *budget {
	explicit := s.Burst > 0 || s.PerSecond > 0
	s = s.withDefaults()
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.buckets[key]
	if b == nil {
		b = &budget{settings: s, rate: s.PerSecond, capacity: float64(s.Burst), tokens: float64(s.Burst), last: bs.now(), metered: explicit}
		bs.buckets[key] = b
		return b
	}
	b.mu.Lock()
	b.metered = b.metered || explicit
	if s.Burst < b.settings.Burst {
		b.settings.Burst = s.Burst
		b.capacity = min(b.capacity, float64(s.Burst))
		b.tokens = min(b.tokens, b.capacity)
	}
	if s.PerSecond < b.settings.PerSecond {
		b.settings.PerSecond = s.PerSecond
		b.rate = min(b.rate, s.PerSecond)
	}
	b.mu.Unlock()
	return b
}

// budget is one subscription's write bucket. Tokens may go negative: each
// request takes its token at once and waits until the debt is paid at the
// current rate, so waiters are served in order without polling. A 429
// starts a new epoch: the bucket is emptied until Retry-After and shrinks,
// and requests that reserved in an older epoch reserve again.
type budget struct {
	mu       sync.Mutex
	settings BudgetSettings
	rate     float64
	capacity float64 // Burst, halved by a 429
	tokens   float64
	last     time.Time // tokens are counted up to here; in the future while blocked
	epoch    int
	// ok counts accepted writes since the last 429, for growing the rate
	// back.
	ok int
	// metered is set once the service shows it meters this subscription's
	// writes: a remaining-writes header (ARM sends one on every write) or
	// a 429. Before that requests are counted but not held back, so an
	// endpoint that does not throttle (Azure Stack, a test double) is not
	// slowed to ARM's rate; settings made explicitly meter from the start.
	metered bool
}

// minRate keeps a throttled bucket moving.
const minRate = 0.5

// reserve takes a token and says how long to wait before using it.
func (b *budget) reserve(now time.Time) (time.Duration, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.After(b.last) {
		b.tokens = min(b.capacity, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
	b.tokens--
	if !b.metered {
		b.tokens = max(b.tokens, 0)
		return 0, b.epoch
	}
	var wait time.Duration
	if b.last.After(now) {
		wait = b.last.Sub(now)
	}
	if b.tokens < 0 {
		wait += time.Duration(-b.tokens / b.rate * float64(time.Second))
	}
	return wait, b.epoch
}

// cancel gives back a token that was reserved but not used.
func (b *budget) cancel(epoch int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if epoch == b.epoch {
		b.tokens++
	}
}

// current reports whether a reservation of epoch still stands.
func (b *budget) current(epoch int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return epoch == b.epoch
}

// accepted notes an accepted write and what ARM said is left. A rate and
// capacity shrunk by a 429 grow back by a twentieth of the configured
// values per tenth of a burst of accepted writes.
func (b *budget) accepted(remaining int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if remaining >= 0 {
		b.metered = true
		if float64(remaining) < b.tokens {
			// Someone else spends this subscription's budget too:
			// believe ARM.
			b.tokens = float64(remaining)
		}
	}
	b.ok++
	if b.ok >= max(1, b.settings.Burst/10) {
		b.ok = 0
		b.rate = min(b.settings.PerSecond, b.rate+b.settings.PerSecond/20)
		b.capacity = min(float64(b.settings.Burst), b.capacity+float64(b.settings.Burst)/20)
	}
}

// throttled records a 429 of a request sent in epoch: ARM's bucket is
// empty, so nothing more is sent before Retry-After, ours refills from
// empty at a tenth less than before and holds half as much, and every
// reservation made before is void. A 429 does not prove the rate wrong
// (a request that overtook its predecessor on the wire meets one too), so
// the rate shrinks gently and grows back with accepted writes; the
// remaining-writes header corrects the level when someone else spends the
// same budget. The 429s of requests already on their way when the first
// came back belong to the same overdraft: they extend the pause only.
func (b *budget) throttled(now time.Time, retryAfter time.Duration, epoch int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.metered = true
	if epoch == b.epoch {
		b.epoch++
		b.ok = 0
		b.rate = max(minRate, b.rate*0.9)
		b.capacity = max(1, b.capacity/2)
		b.tokens = 0
	}
	if until := now.Add(retryAfter); until.After(b.last) {
		b.last = until
	}
}

// budgetPolicy is the pipeline policy that makes every mutating request
// wait for its subscription's write budget. It sits among the per-retry
// policies, so each attempt the retry policy makes draws its own token,
// as ARM counts it; it answers 429s itself, so the retry policy never
// sees one and a throttled request never uses up retries.
type budgetPolicy struct {
	budgets  *Budgets
	settings BudgetSettings
}

var _ policy.Policy = (*budgetPolicy)(nil)

func mutating(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// subscriptionOf returns the subscription a request path names, or "".
func subscriptionOfPath(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) >= 2 && strings.EqualFold(segs[0], "subscriptions") {
		return strings.ToLower(segs[1])
	}
	return ""
}

func (p *budgetPolicy) Do(req *policy.Request) (*http.Response, error) {
	raw := req.Raw()
	sub := subscriptionOfPath(raw.URL.Path)
	if !mutating(raw.Method) || sub == "" {
		return req.Next()
	}
	ctx := raw.Context()
	b := p.budgets.bucket(strings.ToLower(raw.URL.Host)+"/"+sub, p.settings)
	var last BudgetWait
	for {
		wait, epoch := b.reserve(p.budgets.now())
		if wait > 0 {
			if wait >= budgetReportAfter || last.Throttled {
				w := last
				w.Subscription, w.Wait = sub, wait
				observe(ctx, w)
			}
			if err := p.budgets.sleep(ctx, wait); err != nil {
				b.cancel(epoch)
				return nil, err
			}
			if !b.current(epoch) {
				// A 429 came back while this request waited: its token
				// was counted on a bucket ARM says is empty.
				continue
			}
		}
		if err := req.RewindBody(); err != nil {
			return nil, err
		}
		resp, err := req.Clone(ctx).Next()
		if err != nil || resp.StatusCode != http.StatusTooManyRequests {
			if err == nil {
				b.accepted(remainingWrites(resp.Header))
			}
			return resp, err
		}
		ra := retryAfter(resp, time.Second)
		remaining := remainingWrites(resp.Header)
		code := errorCode(resp)
		last = BudgetWait{Subscription: sub, Throttled: true, RetryAfter: ra, Code: code}
		if strings.EqualFold(code, "SubscriptionRequestsThrottled") || remaining == 0 {
			// The subscription's budget is spent: every request of it
			// waits, and the bucket shrinks.
			b.throttled(p.budgets.now(), ra, epoch)
			continue
		}
		// Another 429 (a resource provider's own limit, a busy front
		// door) concerns this request only: it waits what was asked and
		// goes again, still without using up a retry.
		observe(ctx, BudgetWait{Subscription: sub, Wait: ra, Throttled: true, RetryAfter: ra, Code: code})
		if err := p.budgets.sleep(ctx, ra); err != nil {
			return nil, err
		}
		last = BudgetWait{}
	}
}

// remainingWrites reads ARM's count of writes (or deletes) left, -1 when
// it sent none.
func remainingWrites(h http.Header) int {
	for _, name := range []string{"x-ms-ratelimit-remaining-subscription-writes", "x-ms-ratelimit-remaining-subscription-deletes"} {
		if v := h.Get(name); v != "" {
			if n, err := strconv.Atoi(v); err == nil {
				return n
			}
		}
	}
	return -1
}

// errorCode reads the code of an ARM error body and closes the body.
func errorCode(resp *http.Response) string {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		return e.Error.Code
	}
	return ""
}
