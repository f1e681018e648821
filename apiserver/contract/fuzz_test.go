package contract

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The fuzz targets below check that validation never panics and that what it
// accepts is what the rest of the system relies on: the database stores only
// valid UTF-8 without NUL bytes, and the prober hands the URL to net/http.
// Their seed corpora (the f.Add calls and testdata/fuzz/<Name>/) run in every
// `go test`; bench/fuzz.sh runs them for a bounded time with -fuzz.

// fuzzValidator fuzzes validate, called name, from seeds: a refusal must
// say why, and accepted checks what it accepts.
func fuzzValidator(f *testing.F, name string, validate func(string) error, seeds []string, accepted func(t *testing.T, s string)) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if err := validate(s); err != nil {
			if err.Error() == "" {
				t.Fatalf("%s(%q) failed with an empty message", name, s)
			}
			return
		}
		accepted(t, s)
	})
}

// storable fails t unless PostgreSQL can store s as text: valid UTF-8
// without NUL bytes.
func storable(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		t.Fatalf("accepted %q, which PostgreSQL cannot store as text", s)
	}
}

func FuzzValidateServerURL(f *testing.F) {
	fuzzValidator(f, "ValidateServerURL", ValidateServerURL, []string{
		"https://mcp.example.com/oms",
		"http://127.0.0.1:8080/mcp?x=1",
		"http://[::1]:3000/",
		"https://user:pass@example.com/",
		"https://example.com/#frag",
		"ftp://example.com/",
		"//example.com/x",
		"http://:80/",
		" https://example.com",
		"http://exa mple.com/",
		"http://example.com/%zz",
		"http://\xff/",
		"https://example.com/\x00",
		"http://[fe80::1%25eth0]/",
		"HTTP://EXAMPLE.COM/",
		strings.Repeat("a", URLMaxLength+1),
		"",
	}, func(t *testing.T, raw string) {
		storable(t, raw)
		if len(raw) > URLMaxLength || strings.TrimSpace(raw) != raw {
			t.Fatalf("accepted %q: too long or padded", raw)
		}
		u, perr := url.Parse(raw)
		if perr != nil {
			t.Fatalf("accepted %q, which url.Parse rejects: %v", raw, perr)
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" || u.User != nil || u.Fragment != "" {
			t.Fatalf("accepted %q: scheme %q host %q user %v fragment %q", raw, u.Scheme, u.Hostname(), u.User, u.Fragment)
		}
		// The prober builds its requests from the stored URL; an accepted URL
		// that net/http refuses would make every check fail for a reason the
		// user could have been told at create time.
		if _, rerr := http.NewRequest(http.MethodPost, raw, nil); rerr != nil {
			t.Fatalf("accepted %q, which net/http refuses: %v", raw, rerr)
		}
	})
}

func FuzzValidateName(f *testing.F) {
	fuzzValidator(f, "ValidateName", ValidateName, []string{
		"Order Management System",
		"",
		"   ",
		"a\nb",
		"a\x00b",
		"a\xffb",
		"\u200b",
		"\u0085",
		strings.Repeat("é", NameMaxLength),
		strings.Repeat("é", NameMaxLength+1),
	}, func(t *testing.T, name string) {
		storable(t, name)
		if n := utf8.RuneCountInString(name); n < 1 || n > NameMaxLength {
			t.Fatalf("accepted %q with %d characters", name, n)
		}
		if strings.TrimSpace(name) == "" {
			t.Fatalf("accepted the blank name %q", name)
		}
		if strings.IndexFunc(name, unicode.IsControl) >= 0 {
			t.Fatalf("accepted %q, which holds a control character", name)
		}
	})
}

func FuzzValidateToken(f *testing.F) {
	fuzzValidator(f, "ValidateToken", ValidateToken, []string{"tok-123", "", "a b", "tok\n", "tök", strings.Repeat("x", TokenMaxLength+1)},
		func(t *testing.T, token string) {
			// The token goes into an Authorization header verbatim.
			h := http.Header{}
			h.Set("Authorization", "Bearer "+token)
			if token == "" || len(token) > TokenMaxLength || h.Get("Authorization") != "Bearer "+token {
				t.Fatalf("accepted %q", token)
			}
			for i := 0; i < len(token); i++ {
				if c := token[i]; c <= ' ' || c > '~' {
					t.Fatalf("accepted %q with byte %#x", token, c)
				}
			}
		})
}
