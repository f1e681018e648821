package contract

import (
	"fmt"
	"net/url"
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
	// DefaultPageLimit is the page size when ?limit= is absent.
	DefaultPageLimit = 50
	// MaxPageLimit is the largest accepted ?limit=.
	MaxPageLimit = 100
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
