package graphplan

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Go's encoding/json matches an object's keys to a struct's fields in any
// case (and by Unicode folding: "narſize" is narSize), the last such key
// winning. Nix and nixpkgs' Python scripts (json.load, node["path"]) take
// the exact key only, so a node {"path": A, "PATH": B} is A to them and
// was B here: the same graph gave other layers than nixpkgs'. A document
// with such a key is decoded with exact keys (exactInfo). Looking for one
// first keeps the common case at encoding/json's speed: on a graph of
// 100,000 nodes as nix path-info writes it, the look takes 0.13 s of
// ReadGraph's 3.7 s, where matching keys by hand for every node took 2.8
// times as long.

// infoKeys are the keys of a node that ReadGraph uses.
var infoKeys = [...]string{"path", "narHash", "narSize", "references"}

// foldedKeys reports whether the JSON document data has an object key,
// anywhere, that is one of infoKeys in another case. It only has to find
// every key (a string followed by a colon); the decoder checks the rest.
func foldedKeys(data []byte) bool {
	for i := 0; ; {
		q := bytes.IndexByte(data[i:], '"')
		if q < 0 {
			return false
		}
		start := i + q + 1
		end := start
		for {
			k := bytes.IndexByte(data[end:], '"')
			if k < 0 {
				return false
			}
			end += k
			if !escapedAt(data[start:end]) {
				break
			}
			end++
		}
		i = end + 1
		colon := i
		for colon < len(data) && isSpace(data[colon]) {
			colon++
		}
		if colon == len(data) || data[colon] != ':' || !keyCandidate(data[start:end]) {
			continue
		}
		key := data[start:end]
		if bytes.IndexByte(key, '\\') >= 0 {
			var s string
			if json.Unmarshal(data[start-1:end+1], &s) != nil {
				return true // not JSON: the decoder says why
			}
			key = []byte(s)
		}
		for _, k := range infoKeys {
			if string(key) != k && bytes.EqualFold(key, []byte(k)) {
				return true
			}
		}
	}
}

// escapedAt reports whether the quote after s is escaped: s ends in an odd
// number of backslashes.
func escapedAt(s []byte) bool {
	n := 0
	for n < len(s) && s[len(s)-1-n] == '\\' {
		n++
	}
	return n%2 == 1
}

// keyCandidate reports whether key, as written, may be one of infoKeys in
// any case: it starts with a letter that folds to p, n or r, or with an
// escape, and is not longer than "references" with every character
// escaped (\uXXXX).
func keyCandidate(key []byte) bool {
	if len(key) < len("path") || len(key) > 6*len("references") {
		return false
	}
	c := key[0]
	return c == '\\' || c|0x20 == 'p' || c|0x20 == 'n' || c|0x20 == 'r'
}

// exactInfo is rawInfo decoded with exact keys, the last of a repeated
// key winning, as json.load does.
type exactInfo rawInfo

func (e *exactInfo) UnmarshalJSON(data []byte) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return err
	}
	for _, f := range []struct {
		key string
		dst any
	}{{infoKeys[0], &e.Path}, {infoKeys[1], &e.NarHash}, {infoKeys[2], &e.NarSize}, {infoKeys[3], &e.References}} {
		if v, ok := members[f.key]; ok {
			if err := json.Unmarshal(v, f.dst); err != nil {
				return fmt.Errorf("member %q: %v", f.key, err)
			}
		}
	}
	return nil
}

// decodeInfos decodes a JSON array of nodes, with exact keys when asked.
func decodeInfos(data []byte, exact bool) ([]*rawInfo, error) {
	if !exact {
		var raw []*rawInfo
		err := json.Unmarshal(data, &raw)
		return raw, err
	}
	var ex []*exactInfo
	if err := json.Unmarshal(data, &ex); err != nil {
		return nil, err
	}
	raw := make([]*rawInfo, len(ex))
	for i, e := range ex {
		raw[i] = (*rawInfo)(e)
	}
	return raw, nil
}

// decodeInfo decodes one node (nil for null), with exact keys when asked.
func decodeInfo(data []byte, exact bool) (*rawInfo, error) {
	if !exact {
		var r *rawInfo
		err := json.Unmarshal(data, &r)
		return r, err
	}
	var e *exactInfo
	err := json.Unmarshal(data, &e)
	return (*rawInfo)(e), err
}
