package blobstore_test

import (
	"context"
	"testing"

	"cutover/executor/journal"
	"cutover/executor/journal/blobstore"
	"cutover/executor/journal/journaltest"
)

var ctx = context.Background()

func TestConformance(t *testing.T) {
	t.Parallel()
	azurite(t)
	containerName := uniqueName("conformance")
	journaltest.Run(t, func(t *testing.T) func() journal.Store {
		cfg := config(t, containerName, uniqueName("state"))
		return func() journal.Store {
			s, err := blobstore.Open(ctx, cfg)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return s
		}
	})
}
