package render

import (
	"strconv"
	"strings"
)

// compactNames shortens a list of VM addresses for a reader, keeping every
// VM named: instances of one for_each block share one entry,
// vm.wave["web-0001" … "web-0400", "db-01"], where "…" stands for every
// key between two that differ only in a number counting up by one. A wave
// of a thousand VMs from a numbered CSV is then a line, not a page, and
// still says exactly which VMs are meant.
func compactNames(addrs []string) []string {
	type block struct {
		name string
		keys []string
	}
	var blocks []*block
	byName := map[string]*block{}
	var out []string
	for _, a := range addrs {
		i := strings.IndexByte(a, '[')
		if i < 0 || !strings.HasSuffix(a, "]") {
			blocks = append(blocks, &block{name: a})
			continue
		}
		name, key := a[:i], a[i+1:len(a)-1]
		b := byName[name]
		if b == nil {
			b = &block{name: name}
			byName[name] = b
			blocks = append(blocks, b)
		}
		b.keys = append(b.keys, key)
	}
	for _, b := range blocks {
		if b.keys == nil {
			out = append(out, b.name)
			continue
		}
		out = append(out, b.name+"["+strings.Join(keyRuns(b.keys), ", ")+"]")
	}
	return out
}

// keyRuns joins runs of consecutively numbered keys as "first" … "last";
// runs of two stay as two keys.
func keyRuns(keys []string) []string {
	var out []string
	for i := 0; i < len(keys); {
		j := i
		for j+1 < len(keys) && nextKey(keys[j], keys[j+1]) {
			j++
		}
		switch j - i {
		case 0:
			out = append(out, keys[i])
		case 1:
			out = append(out, keys[i], keys[j])
		default:
			out = append(out, keys[i]+" … "+keys[j])
		}
		i = j + 1
	}
	return out
}

// nextKey reports whether b is a with its trailing number one higher and
// written with as many digits.
func nextKey(a, b string) bool {
	pa, na, wa := splitNumber(a)
	pb, nb, wb := splitNumber(b)
	return wa > 0 && pa == pb && wa == wb && nb == na+1
}

// splitNumber splits a key (quoted or not) into what comes before its last
// run of digits, that number and its width; the closing quote counts as
// part of the prefix's identity. Width 0 means no trailing number.
func splitNumber(k string) (prefix string, n uint64, width int) {
	q := strings.HasSuffix(k, `"`)
	body := strings.TrimSuffix(k, `"`)
	end := len(body)
	start := end
	for start > 0 && body[start-1] >= '0' && body[start-1] <= '9' {
		start--
	}
	if start == end || end-start > 18 {
		return k, 0, 0
	}
	n, err := strconv.ParseUint(body[start:end], 10, 64)
	if err != nil {
		return k, 0, 0
	}
	if q {
		return body[:start] + `"`, n, end - start
	}
	return body[:start], n, end - start
}
