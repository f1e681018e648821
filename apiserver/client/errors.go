package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
)

// Sentinel errors a caller branches on with errors.Is. The API's own message
// travels in the *APIError that wraps them.
var (
	// ErrBadRequest means the API rejected the input (400, 413); the message names the field.
	ErrBadRequest = errors.New("bad request")
	// ErrUnauthorized means the API key is missing, unknown or revoked (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound means the record does not exist in the caller's tenant (404).
	ErrNotFound = errors.New("not found")
	// ErrConflict means the request clashes with existing state, such as a taken name (409).
	ErrConflict = errors.New("conflict")
	// ErrRateLimited means the API kept answering 429 after every retry.
	ErrRateLimited = errors.New("rate limited")
	// ErrUnavailable means the API (or a gateway before it) kept answering 502, 503 or 504.
	ErrUnavailable = errors.New("service unavailable")
	// ErrUnreachable means no HTTP response arrived at all: connection refused, DNS, timeout.
	ErrUnreachable = errors.New("API unreachable")
)

// APIError is an HTTP error answer from the API.
type APIError struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Message is the API's human-readable "error" text, or a summary of the body when it had none.
	Message string
	// Method and Path identify the call, for messages; never the query or credentials.
	Method string
	Path   string
}

// Error implements error.
func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.StatusCode, e.Message)
}

// Is lets errors.Is match an *APIError against the sentinel for its status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusRequestEntityTooLarge
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrUnavailable:
		return e.StatusCode == http.StatusBadGateway || e.StatusCode == http.StatusServiceUnavailable ||
			e.StatusCode == http.StatusGatewayTimeout
	}
	return false
}

// unreachableError is a transport failure after the retries ran out.
type unreachableError struct {
	method, path string
	attempts     int
	err          error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("%s %s: no response after %d attempt(s): %v", e.method, e.path, e.attempts, e.err)
}

func (e *unreachableError) Unwrap() []error { return []error{ErrUnreachable, e.err} }

// errorMessage extracts the API's "error" text, or summarises a body that is
// not the API's error shape (a proxy's HTML page, say).
func errorMessage(resp *http.Response, data []byte) string {
	var eb struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &eb) == nil && strings.TrimSpace(eb.Error) != "" {
		return eb.Error
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		if loc := resp.Header.Get("Location"); loc != "" {
			return fmt.Sprintf("the API redirected to %s; set the endpoint to that address", loc)
		}
	}
	msg := http.StatusText(resp.StatusCode)
	if msg == "" {
		msg = "unexpected status " + strconv.Itoa(resp.StatusCode)
	}
	if snippet := summarise(data); snippet != "" {
		msg += ": " + snippet
	}
	return msg
}

// summarise shortens a non-JSON body to one printable line.
func summarise(data []byte) string {
	data = bytes.TrimSpace(data)
	const limit = 200
	s := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, string(data))
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return s
}
