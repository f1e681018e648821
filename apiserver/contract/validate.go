package contract

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on input, shared by the API's validation and the provider's plan-time checks.
const (
	// NameMaxLength is the longest allowed name, in characters.
	NameMaxLength = 200
	// URLMaxLength is the longest allowed server URL, in bytes.
	URLMaxLength = 2048
	// TokenMaxLength is the longest allowed bearer token, in bytes.
	TokenMaxLength = 8192
	// DescriptionMaxLength is the longest allowed description, in characters.
	DescriptionMaxLength = 2000
	// CommandMaxLength is the longest allowed stdio command name, in bytes.
	CommandMaxLength = 128
	// MaxArgs is the most arguments a stdio server may have.
	MaxArgs = 64
	// ArgMaxLength is the longest allowed single argument, in bytes.
	ArgMaxLength = 4096
	// MaxBodyBytes is the largest accepted request body.
	MaxBodyBytes = 1 << 20
)

// ValidateName checks a connection, server or project name. The error text
// does not name the field; callers prefix it.
func ValidateName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case !utf8.ValidString(name):
		return fmt.Errorf("must be valid UTF-8")
	case strings.TrimSpace(name) == "":
		return fmt.Errorf("must not be empty")
	case n > NameMaxLength:
		return fmt.Errorf("must be at most %d characters, got %d", NameMaxLength, n)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("must not contain control characters")
		}
	}
	return nil
}

// ValidateServerURL checks that raw is an absolute http or https URL with a
// host, no user info and no fragment. The error text does not name the field.
func ValidateServerURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("must not be empty")
	}
	if len(raw) > URLMaxLength {
		return fmt.Errorf("must be at most %d bytes", URLMaxLength)
	}
	if strings.TrimSpace(raw) != raw {
		return fmt.Errorf("must not have leading or trailing spaces")
	}
	if !utf8.ValidString(raw) {
		// JSON decoding never produces this, but other callers can, and
		// PostgreSQL would refuse to store it.
		return fmt.Errorf("must be valid UTF-8")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("must be an absolute http or https URL, got %q", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("must be an absolute http or https URL, got %q", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("must include a host, got %q", raw)
	}
	if u.User != nil {
		return fmt.Errorf("must not carry credentials in the URL; use authType bearer and bearerToken instead")
	}
	if u.Fragment != "" {
		return fmt.Errorf("must not have a #fragment, got %q", raw)
	}
	return nil
}

// ValidateToken checks a bearer token: non-empty, printable ASCII without
// spaces (it is sent in an HTTP header), and bounded in length.
func ValidateToken(token string) error {
	if token == "" {
		return fmt.Errorf("must not be empty")
	}
	if len(token) > TokenMaxLength {
		return fmt.Errorf("must be at most %d bytes", TokenMaxLength)
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("must contain only printable ASCII characters without spaces")
		}
	}
	return nil
}

// ValidateDescription checks a server or project description: valid UTF-8,
// bounded, and free of control characters other than line breaks and tabs.
// The error text does not name the field.
func ValidateDescription(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > DescriptionMaxLength {
		return fmt.Errorf("must be at most %d characters, got %d", DescriptionMaxLength, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return fmt.Errorf("must not contain control characters other than line breaks and tabs")
		}
	}
	return nil
}

// commandPattern is a bare program name. Everything a shell or a path lookup
// would treat specially — "/", whitespace, ";", "|", "&", "$", quotes,
// globs — falls outside it.
var commandPattern = regexp.MustCompile(`^[A-Za-z0-9._+-]+$`)

// ValidateCommand checks a stdio command: a bare program name such as
// "node" or "uvx", looked up on the API server's PATH — never a path, a
// shell line or a name with arguments. The error text does not name the field.
func ValidateCommand(cmd string) error {
	switch {
	case cmd == "":
		return fmt.Errorf("must not be empty")
	case len(cmd) > CommandMaxLength:
		return fmt.Errorf("must be at most %d bytes", CommandMaxLength)
	case !commandPattern.MatchString(cmd) || cmd == "." || cmd == ".." || strings.HasPrefix(cmd, "-"):
		return fmt.Errorf(`must be a bare program name such as "node" or "uvx" (letters, digits, ".", "_", "+" and "-"), `+
			`without a path, spaces or shell characters; put arguments in args, got %q`, cmd)
	}
	return nil
}

// ValidateArgs checks stdio arguments. They go to the program as they are,
// never through a shell, so any text is safe; only their number and size
// are bounded, and NUL, which no argument can carry, is refused. The error
// text does not name the field.
func ValidateArgs(args []string) error {
	if len(args) > MaxArgs {
		return fmt.Errorf("must have at most %d items, got %d", MaxArgs, len(args))
	}
	for i, a := range args {
		switch {
		case len(a) > ArgMaxLength:
			return fmt.Errorf("item %d must be at most %d bytes", i, ArgMaxLength)
		case !utf8.ValidString(a):
			return fmt.Errorf("item %d must be valid UTF-8", i)
		case strings.ContainsRune(a, 0):
			return fmt.Errorf("item %d must not contain a NUL character", i)
		}
	}
	return nil
}

// prefixPattern is what an assignment prefix may contain.
var prefixPattern = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// ValidatePrefix checks an assignment prefix: 1 to PrefixMaxLength
// lowercase letters, digits and "_", without "__", which separates the
// prefix from the tool's name. The error text does not name the field.
func ValidatePrefix(p string) error {
	switch {
	case !prefixPattern.MatchString(p):
		return fmt.Errorf("must be 1 to %d characters from a-z, 0-9 and _, got %q", PrefixMaxLength, p)
	case strings.Contains(p, "__"):
		return fmt.Errorf(`must not contain "__", which separates the prefix from the tool name, got %q`, p)
	}
	return nil
}

// DefaultPrefix is the prefix of an assignment that sets none: the
// record's name lowercased, every run of characters outside [a-z0-9] turned
// into "_", without leading or trailing "_", cut to PrefixMaxLength (and
// trimmed again); "tools" when nothing is left. It always passes
// ValidatePrefix.
func DefaultPrefix(name string) string {
	var b strings.Builder
	underscore := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			underscore = false
		} else if !underscore {
			b.WriteByte('_')
			underscore = true
		}
	}
	p := strings.Trim(b.String(), "_")
	if len(p) > PrefixMaxLength {
		p = strings.TrimRight(p[:PrefixMaxLength], "_")
	}
	if p == "" {
		return "tools"
	}
	return p
}
