package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// nodeCanonicalizer is the ES6 canonicaliser of RFC 8785 Appendix A, reading
// one JSON text per line: ECMAScript itself decides number formatting,
// string escaping and (through Array.prototype.sort) UTF-16 key order.
const nodeCanonicalizer = `
const canonicalize = (o) => {
  if (o === null || typeof o !== 'object') return JSON.stringify(o);
  if (Array.isArray(o)) return '[' + o.map(canonicalize).join(',') + ']';
  return '{' + Object.keys(o).sort().map((k) => JSON.stringify(k) + ':' + canonicalize(o[k])).join(',') + '}';
};
const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter((l) => l !== '');
process.stdout.write(lines.map((l) => canonicalize(JSON.parse(l))).join('\n'));
`

// TestCanonicalizeMatchesECMAScript compares Canonicalize with node running
// the RFC's reference canonicaliser, on random doubles and random documents.
// It needs node on PATH (the probe tests need it too) and fails without:
// a skipped comparison would pass for nothing.
func TestCanonicalizeMatchesECMAScript(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH: this test compares the canonicaliser with ECMAScript and needs Node.js (apt-get install nodejs)")
	}
	script := filepath.Join(t.TempDir(), "jcs.js")
	if err := os.WriteFile(script, []byte(nodeCanonicalizer), 0o600); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8785, 1))
	var inputs []string
	for len(inputs) < 20_000 { // doubles of every magnitude, as exact literals
		f := math.Float64frombits(rng.Uint64())
		if math.IsInf(f, 0) || math.IsNaN(f) {
			continue
		}
		inputs = append(inputs, strconv.FormatFloat(f, 'e', -1, 64))
	}
	for range 2_000 {
		inputs = append(inputs, randomDocument(rng, 3))
	}

	cmd := exec.Command(node, script)
	cmd.Stdin = strings.NewReader(strings.Join(inputs, "\n"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.Bytes())
	}
	want := strings.Split(string(out), "\n")
	if len(want) != len(inputs) {
		t.Fatalf("node returned %d lines for %d inputs", len(want), len(inputs))
	}
	failures := 0
	for i, in := range inputs {
		got, err := Canonicalize([]byte(in))
		if err != nil {
			t.Errorf("Canonicalize(%s): %v", in, err)
		} else if string(got) != want[i] {
			t.Errorf("Canonicalize(%s)\n  Go %s\nnode %s", in, got, want[i])
		} else {
			continue
		}
		if failures++; failures == 10 {
			t.Fatal("stopping after 10 differences")
		}
	}
}

// keyRunes are characters whose UTF-8 and UTF-16 orders disagree, controls
// that need escaping, and plain ones.
var keyRunes = []rune{'a', 'b', 'A', '1', '"', '\\', '\n', 0x01, 0x7f, 0x80, 0xe9, 0x20ac, 0xd7ff, 0xe000, 0xfb33, 0xffff, 0x10000, 0x1f600, 0x10ffff}

// randomDocument writes a random JSON text, up to depth levels of nesting,
// with keys and strings made of keyRunes and numbers of every magnitude.
func randomDocument(rng *rand.Rand, depth int) string {
	str := func() string {
		var b strings.Builder
		for range rng.IntN(4) {
			b.WriteRune(keyRunes[rng.IntN(len(keyRunes))])
		}
		s, _ := json.Marshal(b.String()) // escapes some, not all: both forms get read
		return string(s)
	}
	switch k := rng.IntN(8); {
	case depth > 0 && k < 3:
		seen := map[string]bool{}
		var members []string
		for range rng.IntN(6) {
			key := str()
			if seen[key] {
				continue // node would keep the last duplicate, Canonicalize refuses
			}
			seen[key] = true
			members = append(members, key+": "+randomDocument(rng, depth-1))
		}
		return "{" + strings.Join(members, ", ") + "}"
	case depth > 0 && k < 5:
		var elems []string
		for range rng.IntN(4) {
			elems = append(elems, randomDocument(rng, depth-1))
		}
		return "[" + strings.Join(elems, ",") + "]"
	case k == 5:
		return str()
	case k == 6:
		return fmt.Sprintf("%de%d", rng.IntN(2000)-1000, rng.IntN(60)-30)
	default:
		return []string{"true", "false", "null", "-0", "0.1", "1e21", "1e-7"}[rng.IntN(7)]
	}
}
