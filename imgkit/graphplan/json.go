package graphplan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
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
