package netguard

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

func TestCheck(t *testing.T) {
	const (
		never   = "never probed"
		private = "MCP_API_ALLOW_PRIVATE_TARGETS=true"
	)
	tests := []struct {
		addr string
		// want is the substring the error must contain with AllowPrivate=false;
		// "" means allowed.
		want string
		// blockedWhenAllowed says the address stays blocked with AllowPrivate=true.
		blockedWhenAllowed bool
	}{
		// Public addresses pass.
		{"8.8.8.8", "", false},
		{"93.184.216.34", "", false},
		{"2606:4700:4700::1111", "", false},
		{"::ffff:8.8.8.8", "", false},
		{"64:ff9b::808:808", "", false}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", "", false},  // 6to4 of 8.8.8.8

		// Always blocked.
		{"169.254.169.254", never, true},
		{"169.254.170.2", never, true},
		{"169.254.1.1", never, true},
		{"fe80::1", never, true},
		{"fe80::1%eth0", never, true},
		{"fd00:ec2::254", never, true},
		{"100.100.100.200", never, true},
		{"192.0.0.192", never, true},
		{"168.63.129.16", never, true},
		{"0.0.0.0", never, true},
		{"0.1.2.3", never, true},
		{"::", never, true},
		{"224.0.0.1", never, true},
		{"239.255.255.250", never, true},
		{"ff02::1", never, true},
		{"255.255.255.255", never, true},
		{"240.0.0.1", never, true},
		{"::ffff:169.254.169.254", never, true},
		{"::ffff:0.0.0.0", never, true},
		{"::ffff:224.0.0.1", never, true},
		{"64:ff9b::a9fe:a9fe", never, true},   // NAT64 of 169.254.169.254
		{"64:ff9b:1::a9fe:a9fe", never, true}, // local-use NAT64
		{"2002:a9fe:a9fe::", never, true},     // 6to4 of 169.254.169.254

		// Blocked unless private targets are allowed.
		{"127.0.0.1", private, false},
		{"127.5.6.7", private, false},
		{"::1", private, false},
		{"10.0.0.5", private, false},
		{"172.16.0.1", private, false},
		{"172.31.255.255", private, false},
		{"192.168.1.1", private, false},
		{"100.64.0.1", private, false},
		{"100.127.255.254", private, false},
		{"fc00::1", private, false},
		{"fd12:3456::1", private, false},
		{"::ffff:127.0.0.1", private, false},
		{"::ffff:10.0.0.5", private, false},
		{"64:ff9b::7f00:1", private, false},  // NAT64 of 127.0.0.1
		{"2002:c0a8:101::1", private, false}, // 6to4 of 192.168.1.1

		// Neighbours of blocked ranges stay public.
		{"172.32.0.1", "", false},
		{"100.128.0.1", "", false},
		{"169.255.0.1", "", false},
		{"11.0.0.1", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			ip := netip.MustParseAddr(tc.addr)

			err := Policy{}.Check(ip)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Check(%s) = %v, want allowed", tc.addr, err)
				}
			} else {
				var be *BlockedError
				if !errors.As(err, &be) {
					t.Fatalf("Check(%s) = %v, want *BlockedError", tc.addr, err)
				}
				if be.Addr != ip {
					t.Errorf("BlockedError.Addr = %s, want %s", be.Addr, ip)
				}
				if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "address "+ip.String()+" is blocked") {
					t.Errorf("Check(%s) message %q, want it to name the address and contain %q", tc.addr, err, tc.want)
				}
			}

			err = Policy{AllowPrivate: true}.Check(ip)
			if tc.blockedWhenAllowed {
				if err == nil || !strings.Contains(err.Error(), never) {
					t.Errorf("AllowPrivate Check(%s) = %v, want blocked as %q", tc.addr, err, never)
				}
			} else if err != nil {
				t.Errorf("AllowPrivate Check(%s) = %v, want allowed", tc.addr, err)
			}
		})
	}
}

func TestCheckMessages(t *testing.T) {
	err := Policy{}.Check(netip.MustParseAddr("169.254.169.254"))
	want := "address 169.254.169.254 is blocked: link-local and cloud metadata addresses are never probed (cloud metadata service)"
	if err == nil || err.Error() != want {
		t.Errorf("metadata message = %v, want %q", err, want)
	}
	err = Policy{}.Check(netip.MustParseAddr("10.0.0.5"))
	want = "address 10.0.0.5 is blocked: private addresses are probed only when MCP_API_ALLOW_PRIVATE_TARGETS=true (RFC 1918 private network)"
	if err == nil || err.Error() != want {
		t.Errorf("private message = %v, want %q", err, want)
	}
	err = Policy{}.Check(netip.MustParseAddr("64:ff9b::a9fe:a9fe"))
	want = "address 64:ff9b::a9fe:a9fe is blocked: link-local and cloud metadata addresses are never probed (NAT64 form of 169.254.169.254, cloud metadata service)"
	if err == nil || err.Error() != want {
		t.Errorf("NAT64 message = %v, want %q", err, want)
	}
	if err := (Policy{}).Check(netip.Addr{}); err == nil {
		t.Error("Check(zero Addr) = nil, want an error")
	}
}

func TestControl(t *testing.T) {
	tests := []struct {
		network, address string
		wantErr          bool
	}{
		{"tcp", "8.8.8.8:443", false},
		{"tcp6", "[2606:4700:4700::1111]:443", false},
		{"tcp4", "127.0.0.1:80", true},
		{"tcp6", "[::1]:80", true},
		{"tcp6", "[fe80::1%lo]:80", true},
		{"tcp6", "[::ffff:169.254.169.254]:80", true},
		{"unix", "/run/docker.sock", true},
		{"tcp", "example.com:80", true}, // Control always sees resolved addresses
	}
	for _, tc := range tests {
		err := Policy{}.Control(tc.network, tc.address, nil)
		if (err != nil) != tc.wantErr {
			t.Errorf("Control(%q, %q) = %v, want error: %v", tc.network, tc.address, err, tc.wantErr)
		}
	}
}

// A hostname that resolves to a blocked address is refused when dialled, so
// checking the name or the URL up front is not what keeps the guard honest.
func TestDialRefusesHostnameResolvingToBlockedAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	_, err = Policy{}.Dialer().DialContext(context.Background(), "tcp", net.JoinHostPort("localhost", port))
	var be *BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("dial localhost = %v, want a *BlockedError", err)
	}
	if !be.Addr.IsLoopback() {
		t.Errorf("blocked address %s, want a loopback address", be.Addr)
	}
	select {
	case <-accepted:
		t.Fatal("the listener accepted a connection: the guard let the dial through")
	default:
	}

	c, err := Policy{AllowPrivate: true}.Dialer().DialContext(context.Background(), "tcp", net.JoinHostPort("localhost", port))
	if err != nil {
		t.Fatalf("dial localhost with AllowPrivate = %v, want success", err)
	}
	c.Close()
}

func TestClientRefusesBlockedTargets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello")
	}))
	defer srv.Close()

	resp, err := Policy{}.NewClient(0).Get(srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("GET loopback with AllowPrivate=false succeeded, want blocked")
	}
	var be *BlockedError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "MCP_API_ALLOW_PRIVATE_TARGETS=true") {
		t.Errorf("GET loopback error = %v, want a *BlockedError naming the setting", err)
	}

	resp, err = Policy{AllowPrivate: true}.NewClient(0).Get(srv.URL)
	if err != nil {
		t.Fatalf("GET loopback with AllowPrivate=true = %v", err)
	}
	resp.Body.Close()
}

func TestTransportIgnoresEnvironmentProxy(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("http_proxy", "http://127.0.0.1:1")
	if tr := (Policy{}).NewTransport(); tr.Proxy != nil {
		t.Fatal("NewTransport has a Proxy function; an environment proxy would bypass the guard")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	resp, err := Policy{AllowPrivate: true}.NewClient(0).Get(srv.URL)
	if err != nil {
		t.Fatalf("GET with a dead proxy in the environment = %v; the client must connect directly", err)
	}
	resp.Body.Close()
}

func TestCheckRedirect(t *testing.T) {
	var hits atomic.Int32
	final := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "final")
	}))
	defer final.Close()

	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/?token=secret", http.StatusFound)
		case "/file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/ok":
			http.Redirect(w, r, final.URL, http.StatusTemporaryRedirect)
		}
	}))
	defer redirector.Close()

	client := Policy{AllowPrivate: true}.NewClient(0)
	get := func(path string) error {
		resp, err := client.Get(redirector.URL + path)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}

	err := get("/metadata")
	var re *RedirectError
	var be *BlockedError
	if !errors.As(err, &re) || !errors.As(err, &be) {
		t.Fatalf("redirect to metadata = %v, want a *RedirectError wrapping a *BlockedError", err)
	}
	if strings.Contains(re.Error(), "secret") {
		t.Errorf("RedirectError %q repeats the target's query string", re)
	}

	if err := get("/file"); !errors.As(err, &re) || !strings.Contains(err.Error(), `scheme "file"`) {
		t.Errorf("redirect to file:// = %v, want a scheme refusal", err)
	}
	if err := get("/loop"); !errors.As(err, &re) || !strings.Contains(err.Error(), "more than 5 redirects") {
		t.Errorf("redirect loop = %v, want a too-many-redirects refusal", err)
	}
	if err := get("/ok"); err != nil {
		t.Errorf("redirect to another loopback server = %v, want success", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("final server hit %d times, want 1", n)
	}
}
