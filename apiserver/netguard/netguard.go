// Package netguard keeps outbound connections made on behalf of tenants away
// from addresses they must not reach: cloud metadata services, link-local and
// other special-purpose ranges always, and private and loopback networks
// unless the operator allows them.
//
// The decision is made on the IP address actually dialled, from a
// net.Dialer Control hook, so a hostname that resolves (or re-resolves, as in
// DNS rebinding) to a forbidden address is refused just the same.
package netguard

import (
	"fmt"
	"net/netip"
	"syscall"
)

// AllowPrivateEnv is the API setting that lets probes reach private and loopback addresses.
const AllowPrivateEnv = "MCP_API_ALLOW_PRIVATE_TARGETS"

// Policy decides which addresses outbound connections may reach.
type Policy struct {
	// AllowPrivate permits loopback, RFC 1918, CGNAT and IPv6 unique-local
	// addresses. Link-local, metadata and other special addresses stay blocked.
	AllowPrivate bool
}

// BlockedError reports an address the policy refused to connect to.
type BlockedError struct {
	Addr   netip.Addr
	Reason string
}

// Error names the address and what, if anything, would allow it.
func (e *BlockedError) Error() string {
	return fmt.Sprintf("address %s is blocked: %s", e.Addr, e.Reason)
}

const (
	reasonNever   = "link-local and cloud metadata addresses are never probed"
	reasonPrivate = "private addresses are probed only when " + AllowPrivateEnv + "=true"
)

// rangeRule is one row of the address table: what it covers and how it is treated.
type rangeRule struct {
	prefix  netip.Prefix
	what    string // what the range is, for the error message
	private bool   // allowed when Policy.AllowPrivate is set
}

func prefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// metadataAddrs are single addresses of cloud instance-metadata services
// that sit inside otherwise private ranges, so they must be checked first.
var metadataAddrs = map[netip.Addr]string{
	netip.MustParseAddr("169.254.169.254"): "cloud metadata service",
	netip.MustParseAddr("169.254.170.2"):   "AWS ECS metadata service",
	netip.MustParseAddr("fd00:ec2::254"):   "AWS IPv6 metadata service",
	netip.MustParseAddr("100.100.100.200"): "Alibaba Cloud metadata service",
	netip.MustParseAddr("192.0.0.192"):     "Oracle Cloud metadata service",
	netip.MustParseAddr("168.63.129.16"):   "Azure WireServer host service",
}

// rules is checked in order; the first matching prefix decides. Everything
// not listed is public and allowed.
var rules = []rangeRule{
	// Never reachable, whatever the policy.
	{prefix("0.0.0.0/32"), "unspecified address", false},
	{prefix("0.0.0.0/8"), "\"this network\" 0.0.0.0/8", false},
	{prefix("169.254.0.0/16"), "link-local", false},
	{prefix("224.0.0.0/4"), "multicast", false},
	{prefix("255.255.255.255/32"), "broadcast", false},
	{prefix("240.0.0.0/4"), "reserved 240.0.0.0/4", false},
	{prefix("192.0.0.0/24"), "IETF protocol assignment 192.0.0.0/24", false},
	{prefix("::/128"), "unspecified address", false},
	{prefix("fe80::/10"), "link-local", false},
	{prefix("ff00::/8"), "multicast", false},
	// Private networks: reachable only when the operator allows them.
	{prefix("127.0.0.0/8"), "loopback", true},
	{prefix("10.0.0.0/8"), "RFC 1918 private network", true},
	{prefix("172.16.0.0/12"), "RFC 1918 private network", true},
	{prefix("192.168.0.0/16"), "RFC 1918 private network", true},
	{prefix("100.64.0.0/10"), "CGNAT shared address space", true},
	{prefix("198.18.0.0/15"), "RFC 2544 benchmarking network", true},
	{prefix("::1/128"), "loopback", true},
	{prefix("fc00::/7"), "IPv6 unique local address", true},
	{prefix("fec0::/10"), "IPv6 site-local address", true},
}

// Prefixes whose addresses carry an IPv4 address that a gateway will reach
// on the client's behalf; the embedded address is judged instead.
var (
	nat64WellKnown = prefix("64:ff9b::/96")
	nat64Local     = prefix("64:ff9b:1::/48")
	sixToFour      = prefix("2002::/16")
)

// Check reports whether ip may be connected to, returning a *BlockedError if not.
func (pol Policy) Check(ip netip.Addr) error {
	if !ip.IsValid() {
		return &BlockedError{Addr: ip, Reason: "not a valid IP address"}
	}
	// Zones do not change where a packet goes, and netip prefixes never
	// contain zoned addresses, so strip it before matching.
	orig := ip
	ip = ip.WithZone("").Unmap()
	note := ""
	if embedded, how, ok := embeddedIPv4(ip); ok {
		ip = embedded
		note = how + " form of " + embedded.String() + ", "
	}
	if reason, what, blocked := pol.judge(ip); blocked {
		return &BlockedError{Addr: orig, Reason: reason + " (" + note + what + ")"}
	}
	return nil
}

// judge classifies an address that is already unmapped and carries no zone.
func (pol Policy) judge(ip netip.Addr) (reason, what string, blocked bool) {
	if what, ok := metadataAddrs[ip]; ok {
		return reasonNever, what, true
	}
	for _, r := range rules {
		if !r.prefix.Contains(ip) {
			continue
		}
		switch {
		case !r.private:
			return reasonNever, r.what, true
		case pol.AllowPrivate:
			return "", "", false
		default:
			return reasonPrivate, r.what, true
		}
	}
	return "", "", false
}

// embeddedIPv4 extracts the IPv4 address carried by NAT64 and 6to4 addresses.
func embeddedIPv4(ip netip.Addr) (netip.Addr, string, bool) {
	if !ip.Is6() {
		return netip.Addr{}, "", false
	}
	b := ip.As16()
	switch {
	case nat64WellKnown.Contains(ip), nat64Local.Contains(ip):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), "NAT64", true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), "6to4", true
	}
	return netip.Addr{}, "", false
}

// Control is a net.Dialer Control function: it runs after name resolution,
// once per address tried, before the connection is opened.
func (pol Policy) Control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
	default:
		return fmt.Errorf("network %q is not allowed for outbound connections", network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("outbound address %q is not an IP address and port: %w", address, err)
	}
	return pol.Check(ap.Addr())
}
