package journal_test

import (
	"testing"

	"cutover/executor/journal"
	"cutover/executor/journal/journaltest"
)

func TestFileStoreConformance(t *testing.T) {
	t.Parallel()
	journaltest.Run(t, func(t *testing.T) func() journal.Store {
		dir := t.TempDir()
		return func() journal.Store {
			s, err := journal.OpenFile(dir, "prod")
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	})
}
