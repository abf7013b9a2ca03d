package journal_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cutover/executor/journal"
)

func TestKindNames(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind journal.Kind
		name string
	}{
		{journal.RunStarted, "run_started"},
		{journal.StepPending, "step_pending"},
		{journal.StepStarted, "step_started"},
		{journal.StepSucceeded, "step_succeeded"},
		{journal.StepFailed, "step_failed"},
		{journal.StepUnknown, "step_unknown"},
		{journal.BeforeImage, "before_image"},
		{journal.RunFinished, "run_finished"},
	}
	for _, c := range cases {
		if got := c.kind.String(); got != c.name {
			t.Errorf("%d.String() = %q, want %q", c.kind, got, c.name)
		}
		b, err := json.Marshal(c.kind)
		if err != nil || string(b) != `"`+c.name+`"` {
			t.Errorf("json.Marshal(%s) = %s, %v", c.name, b, err)
		}
		var back journal.Kind
		if err := json.Unmarshal(b, &back); err != nil || back != c.kind {
			t.Errorf("json.Unmarshal(%s) = %v, %v", b, back, err)
		}
	}
	if got := journal.Kind(99).String(); got != "Kind(99)" {
		t.Errorf("Kind(99).String() = %q", got)
	}
	for _, k := range []journal.Kind{journal.KindUnspecified, 99} {
		if _, err := json.Marshal(k); err == nil {
			t.Errorf("json.Marshal(%s) succeeded; an invalid kind must never be written", k)
		}
	}
	for _, name := range []string{`"unspecified"`, `"STEP_STARTED"`, `""`, `"step_teleported"`} {
		var k journal.Kind
		if err := json.Unmarshal([]byte(name), &k); err == nil {
			t.Errorf("json.Unmarshal(%s) = %s, want an error", name, k)
		}
	}
}

func TestKindIsStep(t *testing.T) {
	t.Parallel()
	cases := map[journal.Kind]bool{
		journal.RunStarted: false, journal.RunFinished: false, journal.KindUnspecified: false,
		journal.StepPending: true, journal.StepStarted: true, journal.StepSucceeded: true,
		journal.StepFailed: true, journal.StepUnknown: true, journal.BeforeImage: true,
	}
	for k, want := range cases {
		if got := k.IsStep(); got != want {
			t.Errorf("%s.IsStep() = %v, want %v", k, got, want)
		}
	}
}

func TestDefaultGuard(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name    string
		rec     journal.Record
		refused bool
	}{
		{"plain handle", journal.Record{Kind: journal.StepStarted, StepID: "s", Handle: json.RawMessage(`{"task":"task-1"}`)}, false},
		{"VM named password", journal.Record{Kind: journal.StepStarted, StepID: `vm.app["password"].x`, Handle: json.RawMessage(`{"vm":"password","note":"secret stuff"}`)}, false},
		{"error mentioning a password", journal.Record{Kind: journal.StepFailed, StepID: "s", Error: "guest customisation: wrong password"}, false},
		{"URL with a signature-like path", journal.Record{Kind: journal.StepFailed, StepID: "s", Error: "GET https://x/sig=/a failed"}, false},
		{"password key, spaced", journal.Record{Kind: journal.StepStarted, StepID: "s", Handle: json.RawMessage(`{"Password" :  "x"}`)}, true},
		{"nested client secret", journal.Record{Kind: journal.BeforeImage, StepID: "s", BeforeImage: json.RawMessage(`{"a":[{"clientSecret":"x"}]}`)}, true},
		{"bearer in authorization key", journal.Record{Kind: journal.StepStarted, StepID: "s", Handle: json.RawMessage(`{"headers":{"Authorization":"Bearer x"}}`)}, true},
		{"SAS signature", journal.Record{Kind: journal.StepFailed, StepID: "s", Error: "https://a.blob.core.windows.net/c?sv=1&SIG=abc"}, true},
		{"storage connection string in error", journal.Record{Kind: journal.StepFailed, StepID: "s", Error: "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc==;"}, true},
		{"SAS signature first", journal.Record{Kind: journal.StepFailed, StepID: "s", Error: "https://a/c?sig=abc"}, true},
	}
	for _, c := range cases {
		_, _, err := journal.EncodeRecord(c.rec, 1, now, journal.DefaultGuard)
		var se *journal.SecretError
		if got := errors.As(err, &se); got != c.refused {
			t.Errorf("%s: EncodeRecord error = %v, refused want %v", c.name, err, c.refused)
		}
		// An empty guard lets everything valid through.
		if _, _, err := journal.EncodeRecord(c.rec, 1, now, nil); err != nil {
			t.Errorf("%s: with no guard: %v", c.name, err)
		}
	}
}

func TestEncodeRecordStamps(t *testing.T) {
	t.Parallel()
	in := journal.Record{Seq: 77, Time: time.Unix(1, 0), Kind: journal.RunStarted, RunID: "r"}
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", -5*3600))
	got, b, err := journal.EncodeRecord(in, 3, now, journal.DefaultGuard)
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 3 || !got.Time.Equal(now) || got.Time.Location() != time.UTC {
		t.Errorf("EncodeRecord stamped seq %d time %v, want 3 and %v in UTC", got.Seq, got.Time, now)
	}
	back, err := journal.DecodeRecord(b)
	if err != nil || back.Seq != 3 || !back.Time.Equal(now) || back.Kind != journal.RunStarted || back.RunID != "r" {
		t.Errorf("DecodeRecord(%s) = %+v, %v", b, back, err)
	}
}

func TestDefaultLocation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		runbook, dir, state string
	}{
		{"prod.hcl", ".cutover", "prod"},
		{"runbooks/wave1.cutover.hcl", "runbooks/.cutover", "wave1.cutover"},
		{"runbooks/wave2/", "runbooks/.cutover", "wave2"},
		{"/srv/migr/app", "/srv/migr/.cutover", "app"},
	}
	for _, c := range cases {
		dir, state := journal.DefaultLocation(filepath.FromSlash(c.runbook))
		if dir != filepath.FromSlash(c.dir) || state != c.state {
			t.Errorf("DefaultLocation(%q) = %q, %q; want %q, %q", c.runbook, dir, state, c.dir, c.state)
		}
	}
}

func TestOpenFileStateNames(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ok   bool
	}{
		{"prod", true},
		{"wave 1.cutover", true},
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{`a\b`, false},
		{"a\x00b", false},
	}
	for _, c := range cases {
		_, err := journal.OpenFile(t.TempDir(), c.name)
		if (err == nil) != c.ok {
			t.Errorf("OpenFile(%q) error = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}

func TestNewLockIDUnique(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		id, err := journal.NewLockID()
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 36 || id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) {
			t.Fatalf("lock ID %q is not a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("lock ID %s repeated", id)
		}
		seen[id] = true
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	held := journal.LockInfo{ID: "abc-123", Operation: "apply", Who: "alice", Host: "runner-3", PID: 99,
		Created: time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC), Info: "job 7"}
	cases := []struct {
		err  error
		want []string
	}{
		{&journal.LockedError{Held: held}, []string{"abc-123", "alice", "runner-3", "pid 99", `"apply"`, "2026-11-23T22:00:00Z", "job 7", "force-unlock"}},
		{&journal.LockedError{Held: held, Stale: "process 99 is gone"}, []string{"process 99 is gone"}},
		{&journal.LockMismatchError{ID: "zzz", Held: held}, []string{"zzz", "abc-123"}},
		{&journal.CorruptError{Location: "/x/prod.journal", Offset: 1234, Reason: "bad"}, []string{"/x/prod.journal", "1234", "bad"}},
		{&journal.SecretError{Kind: journal.StepStarted, StepID: "s1", Pattern: `"password":`}, []string{"step_started", "s1", "password"}},
	}
	for _, c := range cases {
		msg := c.err.Error()
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%T message %q lacks %q", c.err, msg, w)
			}
		}
	}
}
