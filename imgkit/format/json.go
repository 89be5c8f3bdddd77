package format

import (
	"bytes"
	"encoding/json"
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
