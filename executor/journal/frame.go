package journal

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
)

// The file backend writes one record per line:
//
//	<crc32c of json, 8 lower-case hex digits> <length of json, decimal> <json>\n
//
// so that the journal can be read with less and grep, while the checksum and
// length still catch a torn or damaged line. Go's JSON encoder escapes
// newlines inside strings, so a record's JSON never contains '\n'.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// AppendFrame appends the framed line for payload to dst: the one line
// format every backend stores, so that any journal reads the same way.
func AppendFrame(dst, payload []byte) []byte {
	dst = fmt.Appendf(dst, "%08x %d ", crc32.Checksum(payload, castagnoli), len(payload))
	dst = append(dst, payload...)
	return append(dst, '\n')
}

// errRunsOn reports an intact record whose line does not end after it:
// its newline was damaged after it was synced, which a torn append cannot
// do, so it must not be mistaken for one.
var errRunsOn = errors.New("intact record runs on into the next: its line end is damaged")

// ParseFrame checks one line (without its newline) and returns its JSON.
// Backends share it with AppendFrame.
// Parsing is strict (canonical hex and decimal only) so that a damaged
// header can never be read as a different valid one.
func ParseFrame(line []byte) ([]byte, error) {
	sum, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok || len(sum) != 8 {
		return nil, errors.New("malformed checksum field")
	}
	want, err := strconv.ParseUint(string(sum), 16, 32)
	if err != nil || fmt.Sprintf("%08x", want) != string(sum) {
		return nil, errors.New("malformed checksum field")
	}
	size, payload, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		return nil, errors.New("malformed length field")
	}
	n, err := strconv.Atoi(string(size))
	if err != nil || strconv.Itoa(n) != string(size) || n < 0 || n > maxRecordLine {
		return nil, errors.New("malformed length field")
	}
	if n < len(payload) && uint64(crc32.Checksum(payload[:n], castagnoli)) == want {
		return nil, errRunsOn
	}
	if n != len(payload) {
		return nil, fmt.Errorf("length field says %d bytes, line holds %d", n, len(payload))
	}
	if got := crc32.Checksum(payload, castagnoli); uint64(got) != want {
		return nil, fmt.Errorf("checksum %08x does not match contents (%08x)", want, got)
	}
	return payload, nil
}

// maxRecordLine bounds one framed record. Records hold a step's handle
// and before-image, a few KiB; without a bound a file of zeros or one
// huge line (say /dev/zero linked in its place) is read until memory runs
// out.
const maxRecordLine = 64 << 20

var errLineTooLong = fmt.Errorf("a line longer than %d MiB, which no record is", maxRecordLine>>20)

// readLine is bufio.Reader.ReadBytes('\n') that gives up, with
// errLineTooLong, past maxRecordLine bytes.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > maxRecordLine+len(" 00000000 ")+20 {
			return nil, errLineTooLong
		}
		line = append(line, chunk...)
		if !errors.Is(err, bufio.ErrBufferFull) {
			return line, err
		}
	}
}

// scanResult is what scanning a journal file found.
type scanResult struct {
	records []Record
	// end is the offset just past the last intact record: where the
	// next append must start.
	end int64
	// dropped counts the bytes of a torn last record after end.
	dropped int64
}

// scan reads framed records from r. A bad or unterminated last line is a
// torn write and is reported in dropped; a bad line with anything after it,
// a checksummed line that does not decode, or a gap in the sequence is a
// *CorruptError.
func scan(r io.Reader, location string) (scanResult, error) {
	var res scanResult
	br := bufio.NewReaderSize(r, 64<<10)
	corrupt := func(reason string) error {
		return &CorruptError{Location: location, Offset: res.end, Reason: reason}
	}
	for {
		line, err := readLine(br)
		if errors.Is(err, errLineTooLong) {
			return res, corrupt(err.Error())
		}
		if errors.Is(err, io.EOF) {
			// Anything without a newline is the write a crash cut
			// short: appends add the newline last. But only if it
			// looks like the start of a record: a file that is not a
			// journal at all must not be read as an empty one (and
			// then overwritten by the next append).
			if len(res.records) == 0 && !plausibleTorn(line) {
				return res, corrupt("not a journal record (a record starts with an 8-digit checksum, its length and JSON)")
			}
			res.dropped = int64(len(line))
			return res, nil
		}
		if err != nil {
			return res, fmt.Errorf("journal %s: reading at offset %d: %w", location, res.end, err)
		}
		payload, perr := ParseFrame(line[:len(line)-1])
		if perr != nil {
			if _, err := br.Peek(1); errors.Is(err, io.EOF) && !errors.Is(perr, errRunsOn) && (len(res.records) > 0 || plausibleTorn(line[:len(line)-1])) {
				res.dropped = int64(len(line))
				return res, nil
			}
			return res, corrupt(perr.Error())
		}
		// The checksum held, so these are the bytes a writer meant:
		// failing to understand them is not a torn write.
		rec, err := DecodeRecord(payload)
		if err != nil {
			return res, corrupt(err.Error())
		}
		if want := uint64(len(res.records)) + 1; rec.Seq != want {
			return res, corrupt(fmt.Sprintf("sequence %d where %d was expected", rec.Seq, want))
		}
		res.records = append(res.records, rec)
		res.end += int64(len(line))
	}
}

// plausibleTorn reports whether b can be what a crash left of one append.
// It is asked only when no intact record precedes b: after intact records,
// any damage to the last one is taken as a torn write (see scan), but a
// file with none must show that it is a journal at all:
// a prefix of "<8 hex digits> <decimal length> {json", or zeros (a file
// system may extend a file before the data reaches it). Anything else is
// damage or a file that never was a journal.
func plausibleTorn(b []byte) bool {
	if len(bytes.Trim(b, "\x00")) == 0 {
		return true
	}
	i := 0
	for ; i < len(b) && i < 8; i++ {
		if !isLowerHex(b[i]) {
			return false
		}
	}
	if i == len(b) {
		return true
	}
	if i < 8 || b[i] != ' ' {
		return false
	}
	i++
	start := i
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if i-start > len(strconv.Itoa(maxRecordLine)) {
			return false
		}
	}
	if n, err := strconv.Atoi(string(b[start:i])); i > start && (err != nil || n > maxRecordLine) {
		// No append ever wrote a length no record can have.
		return false
	}
	if i == len(b) {
		return true
	}
	if i == start || b[i] != ' ' {
		return false
	}
	i++
	return i == len(b) || b[i] == '{'
}

func isLowerHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
}
