// Package sniff names what an input begins with, among the documents the
// tools pass each other, so that a tool given the wrong one (a pipeline's
// stages out of order: layer-pack fed closure-scan's graph, manifest-gen
// fed a plan) says what it got and what it wants, instead of the parse
// error the bytes happen to give ("cannot unmarshal object into Go value
// of type []string", "not UTF-8", "unexpected EOF").
package sniff

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The documents of docs/formats.md, as a message names them.
const (
	Graph  = "a closure graph (closure-scan's output)"
	Plan   = "a layer plan (popularity's output)"
	Stream = "a layer stream (layer-pack's or pull-blob's output)"
	Image  = "an image archive (manifest-gen's output)"
)

// Len is how much of an input Kind looks at: one tar header.
const Len = 512

// Kind names what head, the first Len bytes of an input (or all of a
// shorter one), begins with: one of the documents above, or another
// thing a user may pipe by mistake (a list of paths, nixpkgs' conf.json,
// a tar, compressed data); "" when it cannot tell, as for an empty JSON
// array, a graph and a plan at once.
func Kind(head []byte) string {
	for _, m := range magics {
		if bytes.HasPrefix(head, []byte(m.magic)) {
			return m.kind
		}
	}
	if len(head) >= Len && string(head[257:262]) == "ustar" && checksumHolds(head) {
		return tarKind(head)
	}
	j := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case len(j) == 0:
		return ""
	case j[0] == '[':
		switch rest := bytes.TrimLeft(j[1:], " \t\r\n"); {
		case len(rest) == 0:
		case rest[0] == '[':
			return Plan
		case rest[0] == '{':
			return Graph
		}
	case j[0] == '{':
		if bytes.Contains(j, []byte(`"store_layers"`)) {
			return "nixpkgs' stream configuration (conf.json)"
		}
	case j[0] == '/':
		return "a list of paths (closure-scan's input)"
	}
	return ""
}

// Mismatch is "got KIND, want WANT" when head is known (Kind) and is not
// want; ok is false otherwise, and the caller's own error stands.
func Mismatch(head []byte, want string) (msg string, ok bool) {
	k := Kind(head)
	if k == "" || k == want {
		return "", false
	}
	return fmt.Sprintf("got %s, want %s", k, want), true
}

// magics are the compressions the tools meet, by their first bytes.
var magics = []struct{ magic, kind string }{
	{"\x1f\x8b", "gzip-compressed data"},
	{"\x28\xb5\x2f\xfd", "zstd-compressed data"},
	{"\xfd7zXZ\x00", "xz-compressed data"},
	{"BZh", "bzip2-compressed data"},
}

// imageMember matches the first member of an image archive: manifest-gen's
// and docker save's (legacy) layer directories, OCI's blobs, the indexes.
var imageMember = regexp.MustCompile(`^([0-9a-f]+/|blobs/|manifest\.json$|index\.json$|oci-layout$|repositories$)`)

// tarKind names a tar by its first header's name (a PAX header's own name
// for a PAX member, as manifest-gen's 000/PaxHeaders.0/layer.tar).
func tarKind(h []byte) string {
	name := h[:100]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	switch n := string(name); {
	case bytes.HasPrefix(name, []byte("layers/")), n == "config.json", n == "stream.json":
		return Stream
	case imageMember.MatchString(n):
		return Image
	}
	return "a tar archive"
}

// TarHeader reports whether block, the first Len bytes of an input, is a
// tar header by its checksum: what a tar archive begins with (an empty
// one begins with a block of zeros, whose checksum does not hold: it holds
// no image either).
func TarHeader(block []byte) bool { return len(block) >= Len && checksumHolds(block) }

// checksumHolds reports whether h, a 512-byte block, is a tar header by
// its checksum (bytes 148 to 156, octal: the sum of the block's bytes with
// those eight taken as spaces; signed by some old tars). "ustar" at byte
// 257 alone is not one: a plan or a graph has it there when a store path
// (...-custard-1.0) does, and was refused as "a tar archive".
func checksumHolds(h []byte) bool {
	field := strings.Trim(string(h[148:156]), " \x00")
	want, err := strconv.ParseInt(field, 8, 64)
	if err != nil {
		return false
	}
	var unsigned, signed int64
	for i, b := range h[:Len] {
		if i >= 148 && i < 156 {
			b = ' '
		}
		unsigned += int64(b)
		signed += int64(int8(b))
	}
	return want == unsigned || want == signed
}
