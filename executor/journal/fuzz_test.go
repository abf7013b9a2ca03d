package journal

import (
	"bytes"
	"testing"
	"time"
)

// FuzzScan feeds arbitrary bytes to the journal reader. It must return
// records or an error, never panic, and what it accepts must account for
// every byte: intact records up to end, a plausible torn tail after it.
// Seeds: a well-formed journal, its torn and damaged variants, and the
// committed corpus under testdata/fuzz/FuzzScan.
func FuzzScan(f *testing.F) {
	var good []byte
	at := time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC)
	for i, r := range []Record{
		{Kind: RunStarted, PlanID: "p1", RunID: "r1"},
		{Kind: StepStarted, PlanID: "p1", RunID: "r1", StepID: `vm.app["web01"].shutdown`, Attempt: 1, Handle: []byte(`{"task":"task-1"}`)},
		{Kind: StepSucceeded, PlanID: "p1", RunID: "r1", StepID: `vm.app["web01"].shutdown`, Attempt: 1},
	} {
		_, payload, err := EncodeRecord(r, uint64(i+1), at, nil)
		if err != nil {
			f.Fatal(err)
		}
		good = AppendFrame(good, payload)
	}
	f.Add(good)
	f.Add(good[:len(good)-7])
	f.Add(append(bytes.Clone(good), "garbage\n"...))
	f.Add([]byte("\x00\x01\x02 not a journal at all"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := scan(bytes.NewReader(b), "fuzz.journal")
		if err != nil {
			return
		}
		if res.end+res.dropped != int64(len(b)) {
			t.Fatalf("end %d + dropped %d != %d bytes", res.end, res.dropped, len(b))
		}
		for i, r := range res.records {
			if r.Seq != uint64(i+1) {
				t.Fatalf("record %d has seq %d", i, r.Seq)
			}
		}
	})
}
