package probe

// ErrorKind says, for machines, why a check failed; Result.Err says it for
// people. Every failure path of the probe maps to exactly one kind (SPEC §8,
// lastErrorKind); a passing check has none ("").
//
// Decisions where the SPEC leaves room:
//   - A target that cannot be reached as configured (unparseable or non-http
//     URL, URL credentials, unknown transport, no stdio command, a command
//     that is not found or cannot be executed) is KindUnreachable.
//   - A stdio child that exits before completing the handshake is
//     KindUnreachable: like a refused port, there is no server to talk to.
//     A child that answers with something that is not MCP is KindProtocol.
//   - A peer that accepts the connection and closes it without an HTTP
//     answer is KindUnreachable; one that answers, but not MCP, is KindProtocol.
//   - A check cancelled by its caller is KindTimeout: it did not finish in
//     the time it was given.
//   - A refused redirect is KindBlocked when the guard refused its address,
//     KindProtocol otherwise (too many redirects, a non-http scheme).
//   - HTTP 429 is KindServerError with the 5xx answers: the server is there
//     but will not serve now, and the remedy is the same (retry later).
//   - A wire-level cause outranks the step it broke: a tools/list answered
//     with HTTP 503 is KindServerError, with HTTP 401 KindAuth; a listing
//     that fails on the MCP level (JSON-RPC error, bad shape, a looping
//     cursor, an answer over the size limit) is KindProtocol.
type ErrorKind string

// The kinds of failure, spelled as the API's lastErrorKind values.
const (
	// KindUnreachable: nothing answered — refused, unresolvable, unroutable, or a child that could not start.
	KindUnreachable ErrorKind = "unreachable"
	// KindTimeout: the check's deadline passed (or its caller gave up) before it finished.
	KindTimeout ErrorKind = "timeout"
	// KindTLS: the TLS handshake failed or the certificate was not acceptable.
	KindTLS ErrorKind = "tls"
	// KindAuth: the server answered HTTP 401 or 403.
	KindAuth ErrorKind = "auth"
	// KindBlocked: the outbound address guard (netguard) refused the address.
	KindBlocked ErrorKind = "blocked"
	// KindProtocol: the server answered, but not with usable MCP (including a failing listing).
	KindProtocol ErrorKind = "protocol"
	// KindServerError: the server answered HTTP 5xx (or 429).
	KindServerError ErrorKind = "server_error"
)

// ErrorKinds lists every kind, for validation and documentation.
var ErrorKinds = []ErrorKind{KindUnreachable, KindTimeout, KindTLS, KindAuth, KindBlocked, KindProtocol, KindServerError}
