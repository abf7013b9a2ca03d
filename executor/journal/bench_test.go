package journal_test

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cutover/executor/journal"
)

// benchDir lets the benchmark run on the disk that matters (say, a CI
// runner's work volume) rather than wherever TempDir lives, which may be a
// tmpfs where fsync costs nothing.
func benchDir(b *testing.B) string {
	if d := os.Getenv("CUTOVER_JOURNAL_BENCH_DIR"); d != "" {
		dir, err := os.MkdirTemp(d, "journal-bench-")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = os.RemoveAll(dir) })
		return dir
	}
	return b.TempDir()
}

// BenchmarkAppend measures durable appends: each one is written and
// fsynced, as the executor does before every remote call.
func BenchmarkAppend(b *testing.B) {
	sizes := []struct {
		name string
		rec  journal.Record
	}{
		{"handle", rec(1)},
		{"before-image-4KiB", journal.Record{Kind: journal.BeforeImage, StepID: `vm.app["web01"].test_failover`,
			BeforeImage: json.RawMessage(`{"config":"` + strings.Repeat("x", 4<<10) + `"}`)}},
	}
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			s, err := journal.OpenFile(benchDir(b), "prod")
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			for b.Loop() {
				if _, err := s.Append(ctx, sz.rec); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}

// BenchmarkAppendParallel measures durable appends from many goroutines at
// once, as the executor's parallel steps make them: the store may write and
// fsync several waiting records together, but each Append still returns
// only once its own record is durable.
func BenchmarkAppendParallel(b *testing.B) {
	for _, workers := range []int{10, 100} {
		b.Run(fmt.Sprintf("goroutines=%d", workers), func(b *testing.B) {
			s, err := journal.OpenFile(benchDir(b), "prod")
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			// SetParallelism multiplies GOMAXPROCS; round up so that
			// at least the named number of appends are in flight.
			b.SetParallelism((workers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(n.Add(1))
					if _, err := s.Append(ctx, rec(i)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}

// BenchmarkReplay measures reading back a journal of a large apply, which
// every resume and rollback starts with.
func BenchmarkReplay(b *testing.B) {
	const n = 10000
	dir := benchDir(b)
	s, err := journal.OpenFile(dir, "prod")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var sb strings.Builder
	now := time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC)
	for i := range n {
		_, payload, err := journal.EncodeRecord(rec(i), uint64(i+1), now, journal.DefaultGuard)
		if err != nil {
			b.Fatal(err)
		}
		sb.WriteString(frame(string(payload)))
	}
	if err := os.WriteFile(s.JournalPath(), []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(sb.Len()))
	for b.Loop() {
		rep, err := s.Replay(ctx)
		if err != nil || len(rep.Records) != n {
			b.Fatal(fmt.Sprint(len(rep.Records), err))
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}
