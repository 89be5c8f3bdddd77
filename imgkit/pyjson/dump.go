package pyjson

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// None as an indent is Python's indent=None: everything on one line.
const None = -1

// Options are json.dumps' keyword arguments (ensure_ascii is always True).
type Options struct {
	// Indent is the number of spaces per nesting level, or None.
	Indent int
	// ItemSeparator and KeySeparator are Python's separators; empty means
	// Python's default for Indent: "," and ": " with an indent, ", " and
	// ": " without.
	ItemSeparator, KeySeparator string
	// SortKeys prints object keys in code-point order.
	SortKeys bool
	// JQ prints strings as jq does instead (nixpkgs' buildImage writes its
	// image config with jq): characters outside ASCII as UTF-8, DEL and
	// the control characters without a short escape as \u00xx, and a lone
	// surrogate, which is no character (jq refuses to read one), as U+FFFD.
	JQ bool
}

// Dumps returns json.dumps(v, indent=indent), indent being a number of
// spaces or None. There is no trailing newline.
func Dumps(v Value, indent int) []byte { return Options{Indent: indent}.Dumps(v) }

// Dumps returns v printed as json.dumps prints it with these options.
func (o Options) Dumps(v Value) []byte {
	if o.ItemSeparator == "" {
		o.ItemSeparator = ", "
		if o.Indent != None {
			o.ItemSeparator = ","
		}
	}
	if o.KeySeparator == "" {
		o.KeySeparator = ": "
	}
	var b bytes.Buffer
	o.encode(&b, v, 0)
	return b.Bytes()
}

// newline starts a line at the given nesting level, or does nothing
// without an indent.
func (o Options) newline(b *bytes.Buffer, level int) {
	if o.Indent == None {
		return
	}
	b.WriteByte('\n')
	b.WriteString(strings.Repeat(" ", o.Indent*level))
}

func (o Options) encode(b *bytes.Buffer, v Value, level int) {
	switch v := v.(type) {
	case nil, Null:
		b.WriteString("null")
	case Bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case Int:
		b.WriteString(v.String())
	case Float:
		b.WriteString(FloatRepr(float64(v)))
	case String:
		o.writeString(b, string(v))
	case Array:
		if len(v) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(o.ItemSeparator)
			}
			o.newline(b, level+1)
			o.encode(b, e, level+1)
		}
		o.newline(b, level)
		b.WriteByte(']')
	case *Object:
		if v.Len() == 0 {
			b.WriteString("{}")
			return
		}
		members := v.Members()
		if o.SortKeys {
			members = slices.Clone(members)
			// Byte order of UTF-8 (and WTF-8) is code-point order, Python's
			// order for str.
			slices.SortFunc(members, func(x, y Member) int { return strings.Compare(x.Key, y.Key) })
		}
		b.WriteByte('{')
		for i, m := range members {
			if i > 0 {
				b.WriteString(o.ItemSeparator)
			}
			o.newline(b, level+1)
			o.writeString(b, m.Key)
			b.WriteString(o.KeySeparator)
			o.encode(b, m.Value, level+1)
		}
		o.newline(b, level)
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("pyjson: %T is not a Value", v))
	}
}

// writeString writes s as json.dumps does with ensure_ascii: printable ASCII
// as is, the short escapes for \" \\ \b \f \n \r \t, everything else as
// lowercase \uXXXX (a surrogate pair above U+FFFF). With o.JQ, as jq 1.6
// and 1.7 print a string: the same, but that characters outside ASCII
// but DEL are UTF-8, and a lone surrogate (no character) is U+FFFD.
func (o Options) writeString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	u4 := func(r rune) {
		b.WriteString(`\u`)
		for shift := 12; shift >= 0; shift -= 4 {
			b.WriteByte(hex[r>>shift&0xf])
		}
	}
	b.WriteByte('"')
	for len(s) > 0 {
		r, n := decodeWTF8(s)
		s = s[n:]
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteByte(byte(r))
		case r >= ' ' && r <= '~':
			b.WriteByte(byte(r))
		case shortEscapes[r] != "":
			b.WriteString(shortEscapes[r])
		case o.JQ && r >= 0xd800 && r <= 0xdfff:
			b.WriteRune(utf8.RuneError)
		case o.JQ && r > 0x7f:
			b.WriteRune(r)
		case r >= 0x10000:
			r -= 0x10000
			u4(0xd800 | r>>10)
			u4(0xdc00 | r&0x3ff)
		default:
			u4(r)
		}
	}
	b.WriteByte('"')
}

var shortEscapes = map[rune]string{'\b': `\b`, '\f': `\f`, '\n': `\n`, '\r': `\r`, '\t': `\t`}
