package graphplan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"unsafe"
)

// marshal encodes v on one line without Go's HTML escaping, so that store
// paths containing <, > or & stay readable.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// writeLines writes items as a JSON array, one item per line, and a final
// newline.
func writeLines[T any](w io.Writer, items []T) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("[")
	for i, item := range items {
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
		if l, ok := any(item).([]string); ok && l != nil && verbatim(l) {
			writeStrings(bw, l)
			continue
		}
		b, err := marshal(item)
		if err != nil {
			return err
		}
		bw.Write(b)
	}
	if len(items) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

// verbatim reports whether every string of l is printable ASCII without
// a quote or a backslash, which JSON (without HTML escaping) writes as it
// is: a layer of 1,000,000 paths took encoding/json 0.35 s.
func verbatim(l []string) bool {
	for _, s := range l {
		if !plain(unsafe.Slice(unsafe.StringData(s), len(s))) || strings.IndexByte(s, '"') >= 0 {
			return false
		}
	}
	return true
}

// writeStrings writes l, strings verbatim says JSON writes as they are, as
// encoding/json does.
func writeStrings(bw *bufio.Writer, l []string) {
	bw.WriteByte('[')
	for i, s := range l {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteByte('"')
		bw.WriteString(s)
		bw.WriteByte('"')
	}
	bw.WriteByte(']')
}
