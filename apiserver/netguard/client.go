package netguard

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// MaxRedirects is how many redirects a guarded client follows before giving up.
const MaxRedirects = 5

// RedirectError reports a redirect the guarded client refused to follow.
type RedirectError struct {
	// Location is the redirect target, without user info, query or fragment.
	Location string
	Reason   string
	// Err is the policy's *BlockedError when the target address was refused.
	Err error
}

// Error names the refused target and why it was refused.
func (e *RedirectError) Error() string {
	return fmt.Sprintf("redirect to %s refused: %s", e.Location, e.Reason)
}

// Unwrap returns the policy error behind the refusal, if any.
func (e *RedirectError) Unwrap() error { return e.Err }

// Dialer returns a net.Dialer that checks every address it connects to against pol.
func (pol Policy) Dialer() *net.Dialer {
	return &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   pol.Control,
	}
}

// NewTransport returns an http.Transport whose connections are all checked
// against pol. It never uses a proxy: a proxy from the environment would make
// the connection on our behalf and the guard would only ever see the proxy's
// address.
func (pol Policy) NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:             nil,
		DialContext:       pol.Dialer().DialContext,
		ForceAttemptHTTP2: true,
		MaxIdleConns:      64,
		// A gateway session's calls run concurrently on one transport; at
		// the default of 2 idle connections per host, most would dial anew.
		MaxIdleConnsPerHost:    64,
		IdleConnTimeout:        30 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
}

// NewClient returns an http.Client on NewTransport that re-validates every
// redirect with CheckRedirect. timeout bounds each request including reading
// its body; zero means no limit (bound requests with their context instead,
// as long-lived event streams need).
func (pol Policy) NewClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Transport:     pol.NewTransport(),
		CheckRedirect: pol.CheckRedirect,
		Timeout:       timeout,
	}
}

// CheckRedirect is an http.Client CheckRedirect function: it follows at most
// MaxRedirects redirects, only to http and https URLs, and refuses literal IP
// targets the policy blocks before any connection is attempted. Hostnames
// are checked when dialled, like every other connection.
func (pol Policy) CheckRedirect(req *http.Request, via []*http.Request) error {
	u := *req.URL
	u.User, u.RawQuery, u.ForceQuery, u.Fragment = nil, "", false, ""
	loc := u.String()
	if len(via) > MaxRedirects {
		return &RedirectError{Location: loc, Reason: fmt.Sprintf("more than %d redirects", MaxRedirects)}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return &RedirectError{Location: loc, Reason: fmt.Sprintf("scheme %q is not http or https", u.Scheme)}
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
		if err := pol.Check(ip); err != nil {
			return &RedirectError{Location: loc, Reason: err.Error(), Err: err}
		}
	}
	return nil
}
