package blobstore

import (
	"bytes"
	"fmt"

	"cutover/executor/journal"
)

// The journal blob holds one record per line, in the same format as the
// file backend's journal so that a downloaded blob reads the same way:
//
//	<crc32c of json, 8 lower-case hex digits> <length of json, decimal> <json>\n
//
// Each Append writes its line with one AppendBlock, which the service
// applies whole or not at all, so unlike a file the blob never ends in a
// torn record: any line that does not check out is damage.

// parseJournal reads every record of a journal blob's contents. Any line
// that does not check out, a last line without its newline, or a gap in the
// sequence is a *journal.CorruptError: appends are atomic, so none of these
// can be an interrupted write.
func parseJournal(data []byte, location string) ([]journal.Record, error) {
	var recs []journal.Record
	var off int64
	for len(data) > 0 {
		corrupt := func(reason string) error {
			return &journal.CorruptError{Location: location, Offset: off, Reason: reason}
		}
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return nil, corrupt("last record has no line end; appends to a blob are atomic, so this is damage, not a torn write")
		}
		payload, err := journal.ParseFrame(data[:i])
		if err != nil {
			return nil, corrupt(err.Error())
		}
		rec, err := journal.DecodeRecord(payload)
		if err != nil {
			return nil, corrupt(err.Error())
		}
		if want := uint64(len(recs)) + 1; rec.Seq != want {
			return nil, corrupt(fmt.Sprintf("sequence %d where %d was expected", rec.Seq, want))
		}
		recs = append(recs, rec)
		off += int64(i + 1)
		data = data[i+1:]
	}
	return recs, nil
}
