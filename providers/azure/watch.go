package azure

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// Following each running operation with its own status reads costs a
// request per operation per poll: a thousand running enables make a
// thousand reads per interval, against ARM's read budget too. The vault
// lists its jobs in pages of many, so one list can serve every operation
// of the vault at once, and one list of the container's items serves every
// step waiting for initial replication. sharedPoll is that one poller.
//
// When it reads matters as much as how: a job is seen to end only at the
// first read after it ended. A poller on one clock sees each end half an
// interval late on average, plus the time its list takes to reach the
// job's page, and that lateness is added to every step. So each awaited
// object has its own due time:
//   - an operation whose kind the poller has seen end is first due when
//     jobs of its kind have typically ended (the median of the last few
//     this poller saw end, by the service's own start and end times,
//     counted from when the service accepted it), unless that is within
//     a period of its wait's start (then as below);
//   - every other read falls on the poller's ticks, one period apart: the
//     first read of an object whose kind nothing has taught yet (a period
//     after its wait began, rounded up to a tick), and every read after
//     one that found it running (the first
//     tick at least half a period later, a period on average). Reads on
//     ticks come due together: a thousand items waiting hours for initial
//     replication are read by one list per period, not a read each;
//   - the objects due at once are read one by one, each beside the others,
//     when they are few (no more than the list has pages, or fewWaiters);
//     more are served by the list, one list at a time. It stops paging
//     once it saw every object due, and every object a page shows is
//     handed to its waiters as the page arrives, due or not, so an end the
//     list passes is seen then.
//
// So operations ending one after another at their typical age are each
// read once, when they end (at parallelism 100 with 240 ms jobs, a list
// per round added 45 ms to every step: BenchmarkApplyThousandVMs' mean-step-s),
// and waits that come due together cost a list.

// update is what one read saw of one awaited object.
type update[T any] struct {
	v   T
	err error
}

type waiter[T any] struct {
	name string
	// key names what the object's typical duration is learned under (the
	// operation); "" learns nothing.
	key string
	// every is how often the service asked this object to be polled
	// (the Retry-After of the operation's first answer); 0 for no hint.
	every time.Duration
	// next is when this object is next due a read.
	next time.Time
	// onTick says next is one of the poller's ticks (see tickLocked).
	onTick bool
	// learned says its duration was recorded (once per object).
	learned bool
	ch      chan update[T] // holds the latest news only
}

// sharedPoll is one poller of one kind of object (jobs, protected items)
// of one vault, serving every waiter.
type sharedPoll[T any] struct {
	poll func() time.Duration
	// list reads the objects page by page and hands each page, by
	// lower-case name, to page as it arrives. It stops once every name in
	// want was seen, and says how many pages it read and whether it read
	// them all.
	list func(ctx context.Context, want map[string]bool, page func(map[string]T)) (pages int, all bool, err error)
	get  func(ctx context.Context, name string) (T, error)
	// took, when set, says how long an object that has ended took by the
	// service's own clock (ok false while it runs).
	took func(T) (d time.Duration, ok bool)

	mu      sync.Mutex
	waiters map[string]map[*waiter[T]]struct{} // by name
	count   int
	running bool
	// kick wakes the loop: a waiter was added or a read ended.
	kick chan struct{}
	// inflight names the objects a read is under way for; listing counts
	// the lists paging.
	inflight map[string]bool
	listing  int
	sem      chan struct{} // bounds the single reads in flight
	// pages is how many pages the last full list took; 0 before the
	// first list.
	pages   int
	typical map[string]*durations
	// epoch is where the ticks count from: when the first waiter came.
	epoch time.Time
	// rounds, lists and gets count what the poller sent, for tests.
	rounds, lists, gets int
}

// singleReads bounds the single reads in flight at once.
const singleReads = 8

// watchRoundTimeout bounds one read (a list with its pages, or a single
// read).
const watchRoundTimeout = 2 * time.Minute

// fewWaiters is how many objects due at once are read one by one however
// few pages the list has: a dozen reads is what a short list costs anyway,
// and reads on each operation's own schedule see it end as soon as it can
// be seen.
const fewWaiters = 2 * singleReads

// add registers a waiter for the object name. accepted is when the
// service accepted the operation (zero: now); key names what its typical
// duration is learned under.
func (w *sharedPoll[T]) add(name, key string, accepted time.Time, every time.Duration) *waiter[T] {
	jw := &waiter[T]{name: strings.ToLower(name), key: key, every: every, ch: make(chan update[T], 1)}
	now := time.Now()
	if accepted.IsZero() {
		accepted = now
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waiters == nil {
		w.waiters = map[string]map[*waiter[T]]struct{}{}
		w.kick = make(chan struct{}, 1)
		w.inflight = map[string]bool{}
		w.sem = make(chan struct{}, singleReads)
		// Ticks fall half a period off the first wait's: waits that
		// begin together with it share its first tick.
		w.epoch = now.Add(-w.poll() / 2)
	}
	// Never sooner than a period after the wait began, and then on a
	// tick: waits that begin together (a resumed apply, operations that
	// ended before their wait) share a round.
	p := w.period(jw)
	soonest := w.tickLocked(now.Add(p), p)
	jw.next, jw.onTick = soonest, true
	if d, ok := w.typical[jw.key].typical(); ok && jw.key != "" {
		if at := accepted.Add(max(d, jw.every)); at.After(now.Add(p)) {
			jw.next, jw.onTick = at, false
		}
	}
	if w.waiters[jw.name] == nil {
		w.waiters[jw.name] = map[*waiter[T]]struct{}{}
	}
	w.waiters[jw.name][jw] = struct{}{}
	w.count++
	if !w.running {
		w.running = true
		go w.loop()
	} else {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	return jw
}

func (w *sharedPoll[T]) remove(jw *waiter[T]) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if set := w.waiters[jw.name]; set != nil {
		if _, ok := set[jw]; ok {
			delete(set, jw)
			w.count--
		}
		if len(set) == 0 {
			delete(w.waiters, jw.name)
		}
	}
}

// tickLocked is the first of the poller's ticks, one period p apart from
// its epoch, at or after t.
func (w *sharedPoll[T]) tickLocked(t time.Time, p time.Duration) time.Time {
	if p <= 0 || !t.After(w.epoch) {
		return t
	}
	k := (t.Sub(w.epoch) + p - 1) / p
	return w.epoch.Add(k * p)
}

// loop dispatches reads while anyone waits. It sleeps until an object is
// due; an operation just started is not worth reading at once. Reads run
// beside the loop, so an object that comes due while a list is paging is
// read then, not after it: objects due one by one (few at a time) are read
// singly as each comes due; many are served by the list.
func (w *sharedPoll[T]) loop() {
	for {
		w.mu.Lock()
		if w.count == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		now := time.Now()
		names := map[string]bool{}
		var wake time.Time
		ticking, dueOnTick := 0, false
		for name, set := range w.waiters {
			for jw := range set {
				if jw.onTick {
					ticking++
				}
			}
			if w.inflight[name] {
				continue
			}
			for jw := range set {
				// Only those due: a read before an operation's typical
				// end would most likely find it running, and cost a
				// period.
				if !jw.next.After(now) {
					names[name] = true
					dueOnTick = dueOnTick || jw.onTick
				} else if wake.IsZero() || jw.next.Before(wake) {
					wake = jw.next
				}
			}
		}
		if len(names) == 0 {
			w.mu.Unlock()
			var timer <-chan time.Time
			var t *time.Timer
			if !wake.IsZero() {
				t = time.NewTimer(time.Until(wake))
				timer = t.C
			}
			select {
			case <-timer:
			case <-w.kick:
			}
			if t != nil {
				t.Stop()
			}
			continue
		}
		// Few objects due at once (no more than the list has pages, or
		// fewWaiters) are read one by one; more are served by the list,
		// one at a time, read again as soon as it ends while any is due.
		// A tick is served by the list when many objects read on ticks,
		// even if only some are due at this one (the rest still being
		// read, or just read, when the tick came): the list passes them
		// all.
		few := max(fewWaiters, w.pages)
		list := len(names) > few || (dueOnTick && ticking > few)
		if list && w.listing > 0 {
			w.mu.Unlock()
			<-w.kick
			continue
		}
		for name := range names {
			w.inflight[name] = true
		}
		w.rounds++
		if list {
			w.listing++
			w.lists++
		}
		w.mu.Unlock()
		go w.read(names, list)
	}
}

// deliverLocked hands what a read saw of one object to its waiters. A
// waiter that was due (in names) is next due a period later; one that was
// not keeps its due time unless the object ended.
func (w *sharedPoll[T]) deliverLocked(name string, u update[T], due bool) {
	now := time.Now()
	for jw := range w.waiters[name] {
		ended := false
		if u.err == nil && w.took != nil {
			if d, ok := w.took(u.v); ok {
				ended = true
				if !jw.learned && jw.key != "" {
					jw.learned = true
					if w.typical == nil {
						w.typical = map[string]*durations{}
					}
					if w.typical[jw.key] == nil {
						w.typical[jw.key] = &durations{}
					}
					w.typical[jw.key].add(d)
				}
			}
		}
		switch p := w.period(jw); {
		case ended:
			// Its waiter is about to leave: not due again before then.
			jw.next, jw.onTick = now.Add(p), false
		case due:
			// Found running: the next read falls on a tick, with every
			// other object read again then.
			jw.next, jw.onTick = w.tickLocked(now.Add(p/2), p), true
		}
		select {
		case <-jw.ch: // drop the older news
		default:
		}
		jw.ch <- u
	}
}

// period is how often one awaited object is read: the client's poll
// interval, or what the service asked of it when that is shorter.
func (w *sharedPoll[T]) period(jw *waiter[T]) time.Duration {
	d := w.poll()
	if jw.every > 0 && jw.every < d {
		d = jw.every
	}
	return d
}

// read reads the objects named: from the paged list when list is set,
// then one read each for those the list did not show (so a missing one
// gets the service's own error). Each answer is delivered as it arrives.
func (w *sharedPoll[T]) read(names map[string]bool, list bool) {
	ctx, cancel := context.WithTimeout(context.Background(), watchRoundTimeout)
	defer cancel()
	defer func() {
		w.mu.Lock()
		for name := range names {
			delete(w.inflight, name)
		}
		if list {
			w.listing--
		}
		w.mu.Unlock()
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}()
	seen := map[string]bool{}
	if list {
		n, all, err := w.list(ctx, names, func(page map[string]T) {
			w.mu.Lock()
			defer w.mu.Unlock()
			for name, v := range page {
				if _, ok := w.waiters[name]; !ok {
					continue
				}
				w.deliverLocked(name, update[T]{v: v}, names[name])
				if names[name] {
					seen[name] = true
				}
			}
		})
		w.mu.Lock()
		if all || n > w.pages {
			w.pages = n
		}
		if err != nil {
			for name := range names {
				if !seen[name] {
					w.deliverLocked(name, update[T]{err: err}, true)
				}
			}
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
	}
	// The rest one by one, a few at a time (singleReads for the poller):
	// their latency is one round trip, not one per object.
	var wg sync.WaitGroup
	for name := range names {
		if seen[name] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.sem <- struct{}{}
			defer func() { <-w.sem }()
			w.mu.Lock()
			if len(w.waiters[name]) == 0 {
				// Its waiters left (the list answered them) before its
				// turn came.
				w.mu.Unlock()
				return
			}
			w.gets++
			w.mu.Unlock()
			v, err := w.get(ctx, name)
			w.mu.Lock()
			defer w.mu.Unlock()
			w.deliverLocked(name, update[T]{v: v, err: err}, true)
		}()
	}
	wg.Wait()
}

// durations keeps the last few durations of one kind of job, to say when
// the next is likely to have ended.
type durations struct {
	last [16]time.Duration
	n    int
}

func (d *durations) add(v time.Duration) {
	d.last[d.n%len(d.last)] = v
	d.n++
}

// typical is the median of the durations kept: robust to the odd job that
// failed at once or hung. ok is false before any was seen.
func (d *durations) typical() (time.Duration, bool) {
	if d == nil || d.n == 0 {
		return 0, false
	}
	k := min(d.n, len(d.last))
	s := make([]time.Duration, k)
	copy(s, d.last[:k])
	slices.Sort(s)
	return s[k/2], true
}

// newJobPoll and newItemPoll are the vault's two shared pollers.
func newJobPoll(c *Client) *sharedPoll[*Job] {
	return &sharedPoll[*Job]{
		poll: func() time.Duration { return c.poll },
		list: c.listJobs,
		get:  c.Job,
		took: func(j *Job) (time.Duration, bool) {
			if !j.Terminal() || j.Start.IsZero() || j.End.IsZero() || j.End.Before(j.Start) {
				return 0, false
			}
			return j.End.Sub(j.Start), true
		},
	}
}

func newItemPoll(c *Client) *sharedPoll[*ProtectedItem] {
	return &sharedPoll[*ProtectedItem]{
		poll: func() time.Duration { return c.poll },
		list: func(ctx context.Context, _ map[string]bool, page func(map[string]*ProtectedItem)) (int, bool, error) {
			items, pages, err := c.listItems(ctx)
			if err != nil {
				return pages, false, err
			}
			out := make(map[string]*ProtectedItem, len(items))
			for i := range items {
				out[strings.ToLower(items[i].Name)] = &items[i]
			}
			page(out)
			return pages, true, nil
		},
		get: c.GetProtectedItem,
	}
}

// listJobs reads the vault's jobs page by page, handing each page to
// page, and says how many pages it read and whether that was all of them.
// It stops once it saw every job named in want: the order of the list is
// not documented, but a service that lists the newest first (the awaited
// jobs are recent) is then read in a page or two.
func (c *Client) listJobs(ctx context.Context, want map[string]bool, page func(map[string]*Job)) (int, bool, error) {
	pages, seen := 0, 0
	pager := c.jobs.NewListPager(c.vault.ResourceGroup, c.vault.Name, nil)
	for pager.More() {
		p, err := pager.NextPage(ctx)
		if err != nil {
			return pages, false, classify("", "list jobs", err)
		}
		pages++
		out := make(map[string]*Job, len(p.Value))
		for _, m := range p.Value {
			if m != nil {
				j := jobFrom(m)
				name := strings.ToLower(j.Name)
				if want[name] {
					seen++
				}
				out[name] = &j
			}
		}
		page(out)
		if len(want) > 0 && seen >= len(want) {
			return pages, !pager.More(), nil
		}
	}
	return pages, true, nil
}

// watchFailures is how many rounds in a row may fail to read a job before
// its waiter gives up: one failed list would otherwise fail every running
// operation of the vault at once.
const watchFailures = 3

// WaitJob waits for the operation behind h to end by following its ASR
// job through the vault's shared job poller, and returns nil when the job
// succeeded. Unlike Wait it does not read the item afterwards. A handle
// without a job ID is followed with Wait.
func (c *Client) WaitJob(ctx context.Context, h Handle, progress ProgressFunc) error {
	if h.JobID == "" {
		_, err := c.Wait(ctx, h, progress)
		return err
	}
	name := h.JobID[strings.LastIndex(h.JobID, "/")+1:]
	var every time.Duration
	switch {
	case !h.PollNotBefore.IsZero() && !h.AcceptedAt.IsZero():
		every = h.PollNotBefore.Sub(h.AcceptedAt)
	case !h.PollNotBefore.IsZero() && !h.StartedAt.IsZero():
		every = h.PollNotBefore.Sub(h.StartedAt)
	}
	jw := c.jobPoll.add(name, string(h.Operation), h.AcceptedAt, every)
	defer c.jobPoll.remove(jw)
	began := time.Now()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return classify(h.VM, string(h.Operation), ctx.Err())
		case u := <-jw.ch:
			if u.err != nil {
				if failures++; failures >= watchFailures {
					return classify(h.VM, string(h.Operation), u.err)
				}
				continue
			}
			failures = 0
			j := u.v
			if progress != nil {
				progress(Progress{Operation: h.Operation, VM: h.VM, JobID: h.JobID, Status: j.State, Elapsed: time.Since(began), Done: j.Terminal()})
			}
			if j.Terminal() {
				// A test failover's job rests Suspended until its cleanup
				// (as waitJob reads it): that is its success.
				if j.State != "Succeeded" && !(h.Operation == OpTestFailover && strings.EqualFold(j.State, "Suspended")) {
					return jobError(h, j)
				}
				return nil
			}
		}
	}
}
