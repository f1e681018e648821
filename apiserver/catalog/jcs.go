package catalog

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is how deeply arrays and objects may nest in canonicalised input.
// Real tool schemas stay far below it; the bound exists so that a hostile
// server's 10,000-deep schema is refused at once instead of recursing.
const MaxDepth = 100

// SyntaxError says why input is not JSON that RFC 8785 can canonicalise, and
// at which byte of the input.
type SyntaxError struct {
	Offset int    // byte offset in the input where the problem was found
	Msg    string // what is wrong, for people
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// Canonicalize returns the RFC 8785 (JCS) form of one JSON text: no
// whitespace, object members sorted by the UTF-16 code units of their names,
// strings and numbers serialised as ECMAScript's JSON.stringify does.
//
// It accepts only I-JSON (RFC 7493): input that is not valid UTF-8, has
// duplicate member names, lone surrogates in \u escapes, numbers outside the
// IEEE 754 double range, or nesting deeper than MaxDepth is refused with a
// *SyntaxError rather than canonicalised to something the sender did not mean.
func Canonicalize(raw []byte) ([]byte, error) {
	return canonicalize(raw, "")
}

// canonicalize is Canonicalize that also leaves out the top-level object
// member named drop (when drop is not empty). The dropped member is still
// parsed and validated, so it cannot smuggle in invalid JSON.
func canonicalize(raw []byte, drop string) ([]byte, error) {
	p := &parser{in: raw, drop: drop, out: make([]byte, 0, len(raw))}
	p.skipSpace()
	if err := p.value(0); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.in) {
		return nil, p.errorf("unexpected %s after the JSON value", p.describe())
	}
	return p.out, nil
}

// parser reads JSON from in and writes its canonical form to out as it goes.
// Object members are written in input order and put in sorted order when the
// object closes, so no tree of the document is ever built.
type parser struct {
	in   []byte
	pos  int
	out  []byte
	drop string
}

// member is one object member already written to out[start:end].
type member struct {
	name       string
	start, end int
	dropped    bool
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

// describe names the byte at pos for an error message.
func (p *parser) describe() string {
	if p.pos >= len(p.in) {
		return "end of input"
	}
	if c := p.in[p.pos]; c < utf8.RuneSelf {
		return fmt.Sprintf("character %q", c)
	}
	return fmt.Sprintf("byte %#02x", p.in[p.pos])
}

func (p *parser) skipSpace() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value parses one JSON value; depth is how many containers enclose it.
func (p *parser) value(depth int) error {
	if p.pos >= len(p.in) {
		return p.errorf("unexpected end of input, expected a value")
	}
	switch c := p.in[p.pos]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return err
		}
		p.out = appendString(p.out, s)
		return nil
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	default:
		return p.errorf("unexpected %s, expected a value", p.describe())
	}
}

func (p *parser) literal(word string) error {
	if !bytes.HasPrefix(p.in[p.pos:], []byte(word)) {
		return p.errorf("unexpected %s, expected %q", p.describe(), word)
	}
	p.pos += len(word)
	p.out = append(p.out, word...)
	return nil
}

func (p *parser) enter(depth int) error {
	if depth > MaxDepth {
		return p.errorf("arrays and objects nested deeper than %d levels", MaxDepth)
	}
	p.pos++ // the opening bracket
	p.skipSpace()
	return nil
}

func (p *parser) array(depth int) error {
	if err := p.enter(depth); err != nil {
		return err
	}
	p.out = append(p.out, '[')
	if p.pos < len(p.in) && p.in[p.pos] == ']' {
		p.pos++
		p.out = append(p.out, ']')
		return nil
	}
	for {
		p.skipSpace()
		if err := p.value(depth); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.in) {
			return p.errorf("unexpected end of input in an array")
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
			p.out = append(p.out, ',')
		case ']':
			p.pos++
			p.out = append(p.out, ']')
			return nil
		default:
			return p.errorf("unexpected %s in an array, expected ',' or ']'", p.describe())
		}
	}
}

func (p *parser) object(depth int) error {
	if err := p.enter(depth); err != nil {
		return err
	}
	p.out = append(p.out, '{')
	base := len(p.out)
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
		p.out = append(p.out, '}')
		return nil
	}
	var members []member
	kept := 0
	for {
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != '"' {
			return p.errorf("unexpected %s, expected a member name", p.describe())
		}
		name, err := p.str()
		if err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != ':' {
			return p.errorf("unexpected %s after member name %s, expected ':'", p.describe(), quote(name))
		}
		p.pos++
		p.skipSpace()
		before := len(p.out)
		if kept > 0 {
			p.out = append(p.out, ',')
		}
		m := member{name: name, start: len(p.out)}
		p.out = appendString(p.out, name)
		p.out = append(p.out, ':')
		if err := p.value(depth); err != nil {
			return err
		}
		m.end = len(p.out)
		if depth == 1 && p.drop != "" && name == p.drop {
			m.dropped = true
			p.out = p.out[:before]
		} else {
			kept++
		}
		members = append(members, m)
		p.skipSpace()
		if p.pos >= len(p.in) {
			return p.errorf("unexpected end of input in an object")
		}
		if p.in[p.pos] == '}' {
			p.pos++
			break
		}
		if p.in[p.pos] != ',' {
			return p.errorf("unexpected %s after member %s, expected ',' or '}'", p.describe(), quote(name))
		}
		p.pos++
	}
	return p.closeObject(base, members)
}

// closeObject puts the members written since base into canonical order and
// closes the object. Kept members lie in out[base:] in input order, comma
// separated; a dropped member's range has already been overwritten, so it
// is only remembered for the duplicate check.
func (p *parser) closeObject(base int, members []member) error {
	if !slices.IsSortedFunc(members, compareMembers) {
		slices.SortFunc(members, compareMembers)
		ordered := make([]byte, 0, len(p.out)-base)
		for _, m := range members {
			if m.dropped {
				continue
			}
			if len(ordered) > 0 {
				ordered = append(ordered, ',')
			}
			ordered = append(ordered, p.out[m.start:m.end]...)
		}
		p.out = append(p.out[:base], ordered...)
	}
	for i := 1; i < len(members); i++ {
		if members[i].name == members[i-1].name {
			return p.errorf("duplicate member name %s in an object", quote(members[i].name))
		}
	}
	p.out = append(p.out, '}')
	return nil
}

// quote quotes s for an error message, shortened: names come from the
// server and end up in a check's lastError.
func quote(s string) string {
	const limit = 64
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}

// compareMembers orders member names by their UTF-16 code units, as RFC 8785
// §3.2.3 requires; this differs from UTF-8 byte order for characters above
// U+FFFF versus U+E000–U+FFFF.
func compareMembers(a, b member) int { return compareUTF16(a.name, b.name) }

func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := firstUnit(ra), firstUnit(rb)
			if ua != ub {
				return int(ua) - int(ub)
			}
			// Both above U+FFFF with the same high surrogate: the low
			// surrogates order as the code points do.
			return int(ra) - int(rb)
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

// firstUnit is the first UTF-16 code unit of r.
func firstUnit(r rune) rune {
	if r >= 0x10000 {
		hi, _ := utf16.EncodeRune(r)
		return hi
	}
	return r
}

// str parses a JSON string at pos and returns its decoded value.
func (p *parser) str() (string, error) {
	p.pos++ // the opening quote
	var b strings.Builder
	for {
		// Copy the run of plain characters in one go.
		start := p.pos
		for p.pos < len(p.in) {
			c := p.in[p.pos]
			if c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
				break
			}
			p.pos++
		}
		b.Write(p.in[start:p.pos])
		if p.pos >= len(p.in) {
			return "", p.errorf("unexpected end of input in a string")
		}
		switch c := p.in[p.pos]; {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c < 0x20:
			return "", p.errorf("control character %#02x in a string must be escaped", c)
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(p.in[p.pos:])
			if r == utf8.RuneError && n <= 1 {
				return "", p.errorf("invalid UTF-8 byte %#02x in a string", c)
			}
			b.Write(p.in[p.pos : p.pos+n])
			p.pos += n
		default: // backslash
			r, err := p.escape()
			if err != nil {
				return "", err
			}
			b.WriteRune(r)
		}
	}
}

// escape parses the escape sequence at pos (which holds the backslash).
func (p *parser) escape() (rune, error) {
	if p.pos+1 >= len(p.in) {
		return 0, p.errorf("unexpected end of input in an escape sequence")
	}
	c := p.in[p.pos+1]
	if r, ok := simpleEscapes[c]; ok {
		p.pos += 2
		return r, nil
	}
	if c != 'u' {
		return 0, p.errorf("invalid escape sequence \\%c in a string", c)
	}
	r, err := p.hex4()
	if err != nil {
		return 0, err
	}
	if !utf16.IsSurrogate(r) {
		return r, nil
	}
	if r >= 0xDC00 {
		return 0, p.errorf("lone low surrogate \\u%04x in a string", r)
	}
	if !bytes.HasPrefix(p.in[p.pos:], []byte(`\u`)) {
		return 0, p.errorf("high surrogate \\u%04x not followed by a low surrogate", r)
	}
	lo, err := p.hex4()
	if err != nil {
		return 0, err
	}
	if lo < 0xDC00 || lo > 0xDFFF {
		return 0, p.errorf("high surrogate \\u%04x followed by \\u%04x, not a low surrogate", r, lo)
	}
	return utf16.DecodeRune(r, lo), nil
}

var simpleEscapes = map[byte]rune{
	'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t',
}

// hex4 parses \uXXXX at pos and returns the code unit.
func (p *parser) hex4() (rune, error) {
	if p.pos+6 > len(p.in) {
		return 0, p.errorf("unexpected end of input in a \\u escape")
	}
	v, err := strconv.ParseUint(string(p.in[p.pos+2:p.pos+6]), 16, 16)
	if err != nil {
		return 0, p.errorf("invalid \\u escape %q", p.in[p.pos:p.pos+6])
	}
	p.pos += 6
	return rune(v), nil
}

// number parses a JSON number at pos, strictly by the RFC 8259 grammar, and
// writes it in ECMAScript form.
func (p *parser) number() error {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.in) && '0' <= p.in[p.pos] && p.in[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.in[p.pos] == '-' {
		p.pos++
	}
	intStart := p.pos
	if digits() == 0 {
		return p.errorf("unexpected %s in a number, expected a digit", p.describe())
	}
	if p.in[intStart] == '0' && p.pos-intStart > 1 {
		return &SyntaxError{Offset: intStart, Msg: "number with a leading zero"}
	}
	if p.pos < len(p.in) && p.in[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return p.errorf("unexpected %s after a decimal point, expected a digit", p.describe())
		}
	}
	if p.pos < len(p.in) && (p.in[p.pos] == 'e' || p.in[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.in) && (p.in[p.pos] == '+' || p.in[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return p.errorf("unexpected %s in an exponent, expected a digit", p.describe())
		}
	}
	text := string(p.in[start:p.pos])
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		// The grammar was checked above, so this is overflow to ±Inf.
		return &SyntaxError{Offset: start, Msg: fmt.Sprintf("number %s is outside the IEEE 754 double range", text)}
	}
	p.out = appendNumber(p.out, f)
	return nil
}

// appendString writes s as ECMAScript's JSON.stringify does (RFC 8785
// §3.2.2.2): only '"', '\\' and control characters are escaped, with the
// short forms where JSON has them and lowercase \u00xx otherwise.
func appendString(out []byte, s string) []byte {
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		out = append(out, s[start:i]...)
		switch c {
		case '"':
			out = append(out, `\"`...)
		case '\\':
			out = append(out, `\\`...)
		case '\b':
			out = append(out, `\b`...)
		case '\f':
			out = append(out, `\f`...)
		case '\n':
			out = append(out, `\n`...)
		case '\r':
			out = append(out, `\r`...)
		case '\t':
			out = append(out, `\t`...)
		default:
			out = append(out, `\u00`...)
			out = append(out, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		}
		start = i + 1
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}
