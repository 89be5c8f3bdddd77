package pyjson

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"dockertools.dev/imgkit/errdefs"
)

// MaxDepth is how deeply arrays and objects may nest, about where CPython's
// recursion limit stops json.load.
const MaxDepth = 1000

// maxIntDigits is CPython's default int_max_str_digits (3.11+).
const maxIntDigits = 4300

// Parse reads one JSON document as Python's json.loads does (see the package
// doc). Errors wrap errdefs.ErrInvalidInput and give the line and column.
func Parse(data []byte) (Value, error) {
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return nil, (&parser{data: data, pos: i}).errorf("invalid UTF-8")
	}
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		return nil, (&parser{data: data}).errorf("unexpected UTF-8 byte order mark")
	}
	p := &parser{data: data}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.data) {
		return nil, p.errorf("extra data after the JSON value")
	}
	return v, nil
}

type parser struct {
	data []byte
	pos  int
}

// errorf reports an error at the current position, as line and column
// (counted in characters, from 1).
func (p *parser) errorf(format string, args ...any) error {
	before := p.data[:min(p.pos, len(p.data))]
	line := bytes.Count(before, []byte("\n")) + 1
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return fmt.Errorf("JSON line %d column %d: %s: %w", line, col, fmt.Sprintf(format, args...), errdefs.ErrInvalidInput)
}

// space skips JSON whitespace: space, tab, newline, carriage return.
func (p *parser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (Value, error) {
	if p.pos >= len(p.data) {
		return nil, p.errorf("expecting a value")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		s, err := p.str()
		return String(s), err
	case c == '-' && bytes.HasPrefix(p.data[p.pos:], []byte("-Infinity")):
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	for _, lit := range []struct {
		text string
		v    Value
	}{{"true", Bool(true)}, {"false", Bool(false)}, {"null", Null{}}} {
		if bytes.HasPrefix(p.data[p.pos:], []byte(lit.text)) {
			p.pos += len(lit.text)
			return lit.v, nil
		}
	}
	for _, lit := range []string{"NaN", "Infinity", "-Infinity"} {
		if bytes.HasPrefix(p.data[p.pos:], []byte(lit)) {
			return nil, p.errorf("%s is not JSON (Python accepts it; we refuse it)", lit)
		}
	}
	return nil, p.errorf("expecting a value")
}

func (p *parser) object(depth int) (Value, error) {
	if depth > MaxDepth {
		return nil, p.errorf("nested deeper than %d", MaxDepth)
	}
	p.pos++ // {
	o := &Object{}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return o, nil
	}
	for {
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("expecting a property name enclosed in double quotes")
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("expecting ':' delimiter")
		}
		p.pos++
		p.space()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		o.Set(key, v)
		p.space()
		if p.pos < len(p.data) && p.data[p.pos] == '}' {
			p.pos++
			return o, nil
		}
		if p.pos >= len(p.data) || p.data[p.pos] != ',' {
			return nil, p.errorf("expecting ',' delimiter")
		}
		p.pos++
		p.space()
	}
}

func (p *parser) array(depth int) (Value, error) {
	if depth > MaxDepth {
		return nil, p.errorf("nested deeper than %d", MaxDepth)
	}
	p.pos++ // [
	a := Array{}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return a, nil
	}
	for {
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.space()
		if p.pos < len(p.data) && p.data[p.pos] == ']' {
			p.pos++
			return a, nil
		}
		if p.pos >= len(p.data) || p.data[p.pos] != ',' {
			return nil, p.errorf("expecting ',' delimiter")
		}
		p.pos++
		p.space()
	}
}

// number reads the grammar json.scanner uses:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?; without a fraction or an
// exponent it is an int.
func (p *parser) number() (Value, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.data[p.pos] == '-' {
		p.pos++
	}
	intStart := p.pos
	if digits() == 0 {
		p.pos = start
		return nil, p.errorf("expecting a value")
	}
	isFloat := false
	if p.data[intStart] == '0' && p.pos-intStart > 1 {
		// Python reads "01" as 0 followed by extra data.
		p.pos = intStart + 1
		return nil, p.errorf("a number with a leading zero")
	}
	if p.pos+1 < len(p.data) && p.data[p.pos] == '.' && isDigit(p.data[p.pos+1]) {
		p.pos++
		digits()
		isFloat = true
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		save := p.pos
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			p.pos = save // not an exponent: what follows is extra data
		} else {
			isFloat = true
		}
	}
	text := string(p.data[start:p.pos])
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) {
			p.pos = start
			return nil, p.errorf("number %s is out of a float's range", text)
		}
		return Float(f), nil
	}
	dec := strings.TrimLeft(strings.TrimPrefix(text, "-"), "0")
	if len(dec) > maxIntDigits {
		p.pos = start
		return nil, p.errorf("integer of %d digits, more than Python's limit of %d", len(dec), maxIntDigits)
	}
	switch {
	case dec == "":
		dec = "0"
	case text[0] == '-':
		dec = "-" + dec
	}
	return Int{dec: dec}, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// str reads a string literal. Control characters must be escaped (Python's
// strict mode); \u escapes of a surrogate pair join into one character,
// lone surrogates are kept as WTF-8.
func (p *parser) str() (string, error) {
	p.pos++ // opening quote
	var b strings.Builder
	for {
		if p.pos >= len(p.data) {
			return "", p.errorf("unterminated string")
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c < 0x20:
			return "", p.errorf("invalid control character in a string")
		case c != '\\':
			b.WriteByte(c)
			p.pos++
			continue
		}
		if p.pos+1 >= len(p.data) {
			return "", p.errorf("unterminated string")
		}
		esc := p.data[p.pos+1]
		if e, ok := simpleEscapes[esc]; ok {
			b.WriteByte(e)
			p.pos += 2
			continue
		}
		if esc != 'u' {
			p.pos++
			return "", p.errorf("invalid \\escape")
		}
		r, ok := p.hex4(p.pos + 2)
		if !ok {
			return "", p.errorf("invalid \\uXXXX escape")
		}
		p.pos += 6
		if r >= 0xd800 && r <= 0xdbff && p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
			if lo, ok := p.hex4(p.pos + 2); ok && lo >= 0xdc00 && lo <= 0xdfff {
				p.pos += 6
				b.WriteRune(0x10000 + (r-0xd800)<<10 + (lo - 0xdc00))
				continue
			}
		}
		writeWTF8(&b, r)
	}
}

var simpleEscapes = map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

func (p *parser) hex4(at int) (rune, bool) {
	if at+4 > len(p.data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.data[at:at+4]), 16, 32)
	return rune(n), err == nil
}

// writeWTF8 writes r, encoding a surrogate the way UTF-8 would encode it
// were it allowed.
func writeWTF8(b *strings.Builder, r rune) {
	if r >= 0xd800 && r <= 0xdfff {
		b.Write([]byte{0xe0 | byte(r>>12), 0x80 | byte(r>>6)&0x3f, 0x80 | byte(r)&0x3f})
		return
	}
	b.WriteRune(r)
}

// decodeWTF8 decodes the first character of s, accepting a WTF-8 surrogate.
// Invalid bytes decode as utf8.RuneError of width 1.
func decodeWTF8(s string) (rune, int) {
	if len(s) >= 3 && s[0] == 0xed && s[1] >= 0xa0 && s[1] <= 0xbf && s[2]&0xc0 == 0x80 {
		return rune(s[0]&0x0f)<<12 | rune(s[1]&0x3f)<<6 | rune(s[2]&0x3f), 3
	}
	return utf8.DecodeRuneInString(s)
}
