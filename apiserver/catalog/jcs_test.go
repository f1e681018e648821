package catalog

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The sample of RFC 8785 §3.2.2, and its canonical UTF-8 bytes from §3.2.4.
const (
	rfcSample = `{
  "numbers": [333333333.33333329, 1E30, 4.50,
              2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`
	rfcSampleHex = `
7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d`
)

func TestCanonicalizeRFCSample(t *testing.T) {
	want, err := hex.DecodeString(strings.Join(strings.Fields(rfcSampleHex), ""))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Canonicalize([]byte(rfcSample))
	if err != nil {
		t.Fatalf("Canonicalize: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Canonicalize(RFC 8785 §3.2.2 sample)\n got %s\nwant %s", got, want)
	}
}

// RFC 8785 §3.2.3: member names sort by UTF-16 code units, so U+1F600
// (surrogates D83D DE00) sorts before U+FB33 although its UTF-8 is larger.
func TestCanonicalizeRFCSorting(t *testing.T) {
	in := `{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}`
	want := "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\"," +
		"\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\"," +
		"\"\U0001F600\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"
	got, err := Canonicalize([]byte(in))
	if err != nil {
		t.Fatalf("Canonicalize: %v", err)
	}
	if string(got) != want {
		t.Errorf("Canonicalize(RFC 8785 §3.2.3 sample)\n got %s\nwant %s", got, want)
	}
}

// RFC 8785 Appendix B: IEEE 754 bit patterns and their JSON form.
func TestAppendNumberRFCAppendixB(t *testing.T) {
	tests := []struct {
		bits string
		want string
	}{
		{"0000000000000000", "0"},
		{"8000000000000000", "0"},
		{"0000000000000001", "5e-324"},
		{"8000000000000001", "-5e-324"},
		{"7fefffffffffffff", "1.7976931348623157e+308"},
		{"ffefffffffffffff", "-1.7976931348623157e+308"},
		{"4340000000000000", "9007199254740992"},
		{"c340000000000000", "-9007199254740992"},
		{"4430000000000000", "295147905179352830000"},
		{"44b52d02c7e14af5", "9.999999999999997e+22"},
		{"44b52d02c7e14af6", "1e+23"},
		{"44b52d02c7e14af7", "1.0000000000000001e+23"},
		{"444b1ae4d6e2ef4e", "999999999999999700000"},
		{"444b1ae4d6e2ef4f", "999999999999999900000"},
		{"444b1ae4d6e2ef50", "1e+21"},
		{"3eb0c6f7a0b5ed8c", "9.999999999999997e-7"},
		{"3eb0c6f7a0b5ed8d", "0.000001"},
		{"41b3de4355555553", "333333333.3333332"},
		{"41b3de4355555554", "333333333.33333325"},
		{"41b3de4355555555", "333333333.3333333"},
		{"41b3de4355555556", "333333333.3333334"},
		{"41b3de4355555557", "333333333.33333343"},
		{"becbf647612f3696", "-0.0000033333333333333333"},
		{"43143ff3c1cb0959", "1424953923781206.2"},
	}
	for _, tt := range tests {
		bits, err := strconv.ParseUint(tt.bits, 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		f := math.Float64frombits(bits)
		if got := string(appendNumber(nil, f)); got != tt.want {
			t.Errorf("appendNumber(%s) = %s, want %s", tt.bits, got, tt.want)
		}
		// The same value through the parser: Go's shortest 'g' form is a
		// JSON number that reads back as exactly this double.
		in := strconv.FormatFloat(f, 'g', -1, 64)
		got, err := Canonicalize([]byte(in))
		if err != nil {
			t.Errorf("Canonicalize(%s): %v", in, err)
		} else if string(got) != tt.want {
			t.Errorf("Canonicalize(%s) = %s, want %s", in, got, tt.want)
		}
	}
}

func TestCanonicalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"scalars", ` [ true , false , null , "" , 0 ] `, `[true,false,null,"",0]`},
		{"empty containers", `{"a":{},"b":[],"c":[{}]}`, `{"a":{},"b":[],"c":[{}]}`},
		{"nested sort", `{"b":{"z":1,"y":2},"a":[{"d":1,"c":2}]}`, `{"a":[{"c":2,"d":1}],"b":{"y":2,"z":1}}`},
		{"prefix sorts first", `{"ab":1,"a":2}`, `{"a":2,"ab":1}`},
		{"minus zero", `-0.0`, `0`},
		{"integers", `[1, -1, 100, 1e2, 1E+2, 10.0e1]`, `[1,-1,100,100,100,100]`},
		{"exponent bounds", `[1e20, 1e21, 1e-6, 1e-7, 123e-20]`, `[100000000000000000000,1e+21,0.000001,1e-7,1.23e-18]`},
		{"underflow to zero", `1e-400`, `0`},
		{"big integer rounds to double", `9007199254740993`, `9007199254740992`},
		{"escapes written short", `"\b\f\n\r\t\"\\\/"`, `"\b\f\n\r\t\"\\/"`},
		{"other controls as lowercase u00xx", `"\u0000\u001F\u007f"`, "\"\\u0000\\u001f\x7f\""},
		{"non-ASCII kept raw", `"\u00e9\u2028\ud83d\ude00"`, "\"\u00e9\u2028\U0001F600\""},
		{"raw UTF-8 kept", "\"h\u00e9llo \U0001F600\"", "\"h\u00e9llo \U0001F600\""},
		{"escaped key equals raw key sorts", `{"\u0062":1,"a":2}`, `{"a":2,"b":1}`},
		{"private use after surrogates", `{"\uE000":1,"\ud800\udc00":2}`, "{\"\U00010000\":2,\"\ue000\":1}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonicalize([]byte(tt.in))
			if err != nil {
				t.Fatalf("Canonicalize(%s): %v", tt.in, err)
			}
			if string(got) != tt.want {
				t.Errorf("Canonicalize(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestCanonicalizeRefuses(t *testing.T) {
	tests := []struct {
		name, in, msg string
	}{
		{"empty", ``, "end of input"},
		{"trailing data", `{} {}`, "after the JSON value"},
		{"invalid UTF-8", "\"a\xffb\"", "invalid UTF-8"},
		{"invalid UTF-8 in a key", "{\"\xc3\":1}", "invalid UTF-8"},
		{"UTF-8 encoded surrogate", "\"\xed\xa0\x80\"", "invalid UTF-8"},
		{"duplicate key", `{"a":1,"b":2,"a":3}`, `duplicate member name "a"`},
		{"duplicate key by escape", `{"a":1,"\u0061":2}`, `duplicate member name "a"`},
		{"lone high surrogate", `"\ud800"`, "high surrogate"},
		{"high surrogate then other escape", `"\ud800\u0041"`, "not a low surrogate"},
		{"lone low surrogate", `"\udc00"`, "lone low surrogate"},
		{"raw control character", "\"a\nb\"", "control character"},
		{"bad escape", `"\x41"`, "invalid escape"},
		{"bad \\u escape", `"\u12g4"`, `invalid \u escape`},
		{"overflow", `1e400`, "outside the IEEE 754 double range"},
		{"negative overflow", `[-1.8e308]`, "outside the IEEE 754 double range"},
		{"NaN", `NaN`, "expected a value"},
		{"Infinity", `[Infinity]`, "expected a value"},
		{"leading zero", `012`, "leading zero"},
		{"hex number", `0x10`, "after the JSON value"},
		{"plus sign", `+1`, "expected a value"},
		{"bare point", `1.`, "after a decimal point"},
		{"missing exponent", `1e`, "in an exponent"},
		{"single quotes", `{'a':1}`, "expected a member name"},
		{"trailing comma in array", `[1,]`, "expected a value"},
		{"trailing comma in object", `{"a":1,}`, "expected a member name"},
		{"missing colon", `{"a" 1}`, "expected ':'"},
		{"unterminated", `{"a":[1,2`, "end of input"},
		{"byte order mark", "\ufeff{}", "unexpected byte 0xef, expected a value"},
		{"long duplicate key shortened", `{"` + strings.Repeat("k", 1000) + `":1,"` + strings.Repeat("k", 1000) + `":2}`, `"` + strings.Repeat("k", 64) + `"…`},
		{"too deep", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), "nested deeper than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonicalize([]byte(tt.in))
			if err == nil {
				t.Fatalf("Canonicalize(%q) = %s, want an error", tt.in, got)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("error %T is not a *SyntaxError", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestCanonicalizeDepthLimit(t *testing.T) {
	ok := strings.Repeat(`{"a":`, MaxDepth-1) + `[]` + strings.Repeat("}", MaxDepth-1)
	if _, err := Canonicalize([]byte(ok)); err != nil {
		t.Errorf("%d levels refused: %v", MaxDepth, err)
	}
	// A hostile schema 10,000 (and 1,000,000) deep is refused at once,
	// without recursing to the bottom.
	for _, n := range []int{10_000, 1_000_000} {
		deep := strings.Repeat(`{"a":[`, n) + strings.Repeat("]}", n)
		start := time.Now()
		_, err := Canonicalize([]byte(deep))
		if err == nil || !strings.Contains(err.Error(), "nested deeper") {
			t.Errorf("%d levels: error %v, want nesting refused", n, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%d levels took %v", n, d)
		}
	}
}

// The meaning survives: decoding the input and the output gives the same
// value, and canonicalising twice changes nothing.
func checkCanonical(t *testing.T, in, out []byte) {
	t.Helper()
	if !json.Valid(out) {
		t.Fatalf("output is not valid JSON: %q", out)
	}
	again, err := Canonicalize(out)
	if err != nil {
		t.Fatalf("canonical output %q refused: %v", out, err)
	}
	if !bytes.Equal(again, out) {
		t.Fatalf("not idempotent:\n once %q\ntwice %q", out, again)
	}
	var a, b any
	if err := json.Unmarshal(in, &a); err != nil {
		t.Fatalf("encoding/json refuses input we accepted: %v", err)
	}
	if err := json.Unmarshal(out, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("meaning changed:\n  in %q -> %#v\n out %q -> %#v", in, a, out, b)
	}
}

func FuzzCanonicalize(f *testing.F) {
	for _, seed := range []string{
		rfcSample,
		`{"b":1,"a":{"d":[1,2.5,-0,1e21],"c":null}}`,
		`{"name":"t","inputSchema":{"type":"object","properties":{"x":{"type":"string"}}},"_meta":{"k":1}}`,
		`"\ud83d\ude00\u0000\u00e9"`,
		`{"\ufb33":1,"\ud83d\ude00":2,"\u20ac":3}`,
		`[1e-7,123456789012345680000,5e-324,0.1]`,
		`{"a":1,"a":2}`,
		"\"\xff\"",
		`[[[[[[[[[[]]]]]]]]]]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Canonicalize(in)
		if err != nil {
			return
		}
		checkCanonical(t, in, out)
	})
}
