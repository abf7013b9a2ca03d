package azure

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Following each running operation with its own status reads costs a
// request per operation per poll: a thousand running enables make a
// thousand reads per interval, against ARM's read budget too. The vault
// lists its jobs in pages of many, so one list per interval can serve
// every operation of the vault at once, and one list of the container's
// items serves every step waiting for initial replication. sharedPoll is
// that one poller: each round it reads whichever is cheaper, the list
// (when more objects are awaited than the list has pages) or the awaited
// objects one by one, and hands every waiter its object.

// update is what one round saw of one awaited object.
type update[T any] struct {
	v   T
	err error
}

type waiter[T any] struct {
	name string
	// every is how often the service asked this object to be polled
	// (the Retry-After of the operation's first answer); 0 for no hint.
	every time.Duration
	// next is when this object is next due a read, when few are awaited
	// and each is read on its own schedule.
	next time.Time
	ch   chan update[T] // holds the latest round's news only
}

// sharedPoll is one poller of one kind of object (jobs, protected items)
// of one vault, serving every waiter.
type sharedPoll[T any] struct {
	poll func() time.Duration
	// list reads every object by lower-case name and says how many pages
	// it took; get reads one.
	// list stops paging once every name in want was seen.
	list func(ctx context.Context, want map[string]bool) (map[string]T, int, error)
	get  func(ctx context.Context, name string) (T, error)

	mu      sync.Mutex
	waiters map[*waiter[T]]struct{}
	running bool
	// pages is how many pages the last full list took; 0 before the
	// first list.
	pages int
	// rounds, lists and gets count what the poller sent, for tests.
	rounds, lists, gets int
}

// singleReads bounds the single reads of one round in flight at once.
const singleReads = 8

// watchRoundTimeout bounds one round's reads.
const watchRoundTimeout = 2 * time.Minute

func (w *sharedPoll[T]) add(name string, every time.Duration) *waiter[T] {
	jw := &waiter[T]{name: strings.ToLower(name), every: every, ch: make(chan update[T], 1)}
	jw.next = time.Now().Add(w.period(jw))
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waiters == nil {
		w.waiters = map[*waiter[T]]struct{}{}
	}
	w.waiters[jw] = struct{}{}
	if !w.running {
		w.running = true
		go w.loop()
	}
	return jw
}

func (w *sharedPoll[T]) remove(jw *waiter[T]) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.waiters, jw)
}

// loop polls while anyone waits. It sleeps first: an operation just
// started is not worth reading at once.
//
// When many objects are awaited, one round per interval lists them all: a
// round serves everyone for a few requests. When few are awaited (see
// fewLocked), they are read one by one, each on its own schedule: one
// period after it was added and every period after that. An operation is
// then seen to end within a period of its own start's rhythm; with one
// round clock shared by operations started at other times, a job that
// takes a few periods is seen half a period late on average.
func (w *sharedPoll[T]) loop() {
	began := time.Now()
	for {
		w.mu.Lock()
		few := w.fewLocked()
		w.mu.Unlock()
		var wake time.Time
		if few {
			wake = w.earliest()
		} else {
			// One round per interval, counted from the last round's
			// start: a slow round (many pages) does not stretch the
			// interval further.
			wake = began.Add(w.interval())
		}
		time.Sleep(time.Until(wake))
		began = time.Now()
		w.mu.Lock()
		if len(w.waiters) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		few = w.fewLocked()
		names := map[string]bool{}
		for jw := range w.waiters {
			// Those due within a tenth of their period ride along, so
			// nearly simultaneous reads share a round.
			if !few || !jw.next.After(began.Add(w.period(jw)/10)) {
				names[jw.name] = true
			}
		}
		// A list serves everyone when it takes fewer requests than the
		// names read one by one (or its size is not known yet).
		list := !few && (w.pages == 0 || len(names) > w.pages)
		w.rounds++
		w.mu.Unlock()
		if len(names) == 0 {
			continue
		}

		ctx, cancel := context.WithTimeout(context.Background(), watchRoundTimeout)
		seen, errs := w.read(ctx, names, list)
		cancel()

		w.mu.Lock()
		for jw := range w.waiters {
			if !names[jw.name] {
				continue // not read this round
			}
			var u update[T]
			if v, ok := seen[jw.name]; ok {
				u.v = v
			} else if err := errs[jw.name]; err != nil {
				u.err = err
			} else {
				continue // added after this round read
			}
			jw.next = began.Add(w.period(jw))
			select {
			case <-jw.ch: // drop the older news
			default:
			}
			jw.ch <- u
		}
		w.mu.Unlock()
	}
}

// fewWaiters is how many awaited objects are always read one by one, on
// their own schedules, however few pages the list has: a dozen reads per
// period is what a short list costs anyway, and reads on each
// operation's own rhythm see it end as soon as it can be seen.
const fewWaiters = 2 * singleReads

// fewLocked says whether each awaited object is read on its own schedule:
// when no more are awaited than fewWaiters or than the list has pages.
func (w *sharedPoll[T]) fewLocked() bool {
	return len(w.waiters) <= max(fewWaiters, w.pages)
}

// earliest is when the first awaited object is due.
func (w *sharedPoll[T]) earliest() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	var t time.Time
	for jw := range w.waiters {
		if t.IsZero() || jw.next.Before(t) {
			t = jw.next
		}
	}
	return t
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

// interval is the client's poll interval, or the shortest the service
// asked of an awaited operation when that is shorter: the service knows
// how long its jobs take, and polling a seconds-long job every 15 s
// would make every step last 15 s.
func (w *sharedPoll[T]) interval() time.Duration {
	d := w.poll()
	w.mu.Lock()
	defer w.mu.Unlock()
	for jw := range w.waiters {
		if jw.every > 0 && jw.every < d {
			d = jw.every
		}
	}
	return d
}

// read returns the awaited objects by lower-case name: from one paged
// list when list is set, or one read each.
// An object the list does not show is read on its own, so a missing one
// gets the service's own error.
func (w *sharedPoll[T]) read(ctx context.Context, names map[string]bool, list bool) (map[string]T, map[string]error) {
	seen := map[string]T{}
	errs := map[string]error{}
	if list {
		all, n, err := w.list(ctx, names)
		if err != nil {
			for name := range names {
				errs[name] = err
			}
			return seen, errs
		}
		w.mu.Lock()
		w.pages, w.lists = n, w.lists+1
		w.mu.Unlock()
		for name := range names {
			if v, ok := all[name]; ok {
				seen[name] = v
			}
		}
	}
	// The rest one by one, a few at a time: their latency is one round
	// trip, not one per object.
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, singleReads)
	for name := range names {
		if _, ok := seen[name]; ok {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			v, err := w.get(ctx, name)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[name] = err
				return
			}
			seen[name] = v
		}()
		w.mu.Lock()
		w.gets++
		w.mu.Unlock()
	}
	wg.Wait()
	return seen, errs
}

// newJobPoll and newItemPoll are the vault's two shared pollers.
func newJobPoll(c *Client) *sharedPoll[*Job] {
	return &sharedPoll[*Job]{
		poll: func() time.Duration { return c.poll },
		list: func(ctx context.Context, want map[string]bool) (map[string]*Job, int, error) {
			jobs, pages, err := c.listJobs(ctx, want)
			if err != nil {
				return nil, pages, err
			}
			out := make(map[string]*Job, len(jobs))
			for i := range jobs {
				out[strings.ToLower(jobs[i].Name)] = &jobs[i]
			}
			return out, pages, nil
		},
		get: c.Job,
	}
}

func newItemPoll(c *Client) *sharedPoll[*ProtectedItem] {
	return &sharedPoll[*ProtectedItem]{
		poll: func() time.Duration { return c.poll },
		list: func(ctx context.Context, _ map[string]bool) (map[string]*ProtectedItem, int, error) {
			items, pages, err := c.listItems(ctx)
			if err != nil {
				return nil, pages, err
			}
			out := make(map[string]*ProtectedItem, len(items))
			for i := range items {
				out[strings.ToLower(items[i].Name)] = &items[i]
			}
			return out, pages, nil
		},
		get: c.GetProtectedItem,
	}
}

// listJobs reads the vault's jobs page by page, and says how many pages
// it took. With want set it stops once it saw every job named there: the
// order of the list is not documented, but a service that lists the
// newest first (the awaited jobs are recent) is then read in a page or
// two.
func (c *Client) listJobs(ctx context.Context, want map[string]bool) ([]Job, int, error) {
	var out []Job
	pages, seen := 0, 0
	pager := c.jobs.NewListPager(c.vault.ResourceGroup, c.vault.Name, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, pages, classify("", "list jobs", err)
		}
		pages++
		for _, m := range page.Value {
			if m != nil {
				j := jobFrom(m)
				if want[strings.ToLower(j.Name)] {
					seen++
				}
				out = append(out, j)
			}
		}
		if len(want) > 0 && seen >= len(want) {
			break
		}
	}
	return out, pages, nil
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
	if !h.PollNotBefore.IsZero() && !h.StartedAt.IsZero() {
		every = h.PollNotBefore.Sub(h.StartedAt)
	}
	jw := c.jobPoll.add(name, every)
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
