// One session of a TypeScript MCP SDK client against an MCP endpoint, at one
// protocol version: initialize (or server/discover), tools/list,
// tools/call, prompts/get, resources/read. Prints one JSON line of what it
// saw; the Go test asserts it.
//
//   node client.mjs SDK URL VERSION TOOL PROMPT RESOURCE
//
// SDK is "v1" (@modelcontextprotocol/sdk, the 1.x line: 2025-06-18 and
// 2025-11-25) or "v2" (@modelcontextprotocol/client, the 2.x line, which
// also speaks 2026-07-28). The bearer token (an API key or an agent token)
// comes from MCP_BEARER, never argv, so that it shows in no process list.
// TOOL is called with {"text": "hi <VERSION>"}.

const [sdk, url, version, tool, prompt, resource] = process.argv.slice(2);
if (!sdk || !url || !version || !tool || !prompt || !resource) {
  console.error("usage: node client.mjs v1|v2 URL VERSION TOOL PROMPT RESOURCE (bearer token in MCP_BEARER)");
  process.exit(2);
}
const headers = process.env.MCP_BEARER ? { Authorization: `Bearer ${process.env.MCP_BEARER}` } : {};
const info = { name: "tsclient-" + sdk, version: "1.0.0" };

// connectV1 opens a session with the 1.x SDK. Its Client always offers
// LATEST_PROTOCOL_VERSION (2025-11-25) and has no option to offer another,
// so the offer in the initialize request is rewritten on its way out; the
// client accepts whatever version of its supported list the server answers.
async function connectV1() {
  const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
  const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const send = transport.send.bind(transport);
  transport.send = (msg, opts) => {
    if (msg.method === "initialize") msg = { ...msg, params: { ...msg.params, protocolVersion: version } };
    return send(msg, opts);
  };
  const client = new Client(info, { capabilities: {} });
  await client.connect(transport);
  return { client, negotiated: transport.protocolVersion, close: () => endSession(client, transport) };
}

// connectV2 opens a session with the 2.x SDK, offering only VERSION:
// pinned for 2026-07-28 (server/discover), the sole supported version of
// the initialize handshake otherwise.
async function connectV2() {
  const { Client, StreamableHTTPClientTransport } = await import("@modelcontextprotocol/client");
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const opts = version >= "2026-07-28"
    ? { capabilities: {}, versionNegotiation: { mode: { pin: version } } }
    : { capabilities: {}, supportedProtocolVersions: [version] };
  const client = new Client(info, opts);
  await client.connect(transport);
  return { client, negotiated: client.getNegotiatedProtocolVersion(), close: () => endSession(client, transport) };
}

// endSession ends the session on the server (DELETE, when it has one) and
// then the client, as a well-behaved client does: the gateway releases the
// upstream session at once instead of when it idles out.
async function endSession(client, transport) {
  if (transport.sessionId && transport.terminateSession) await transport.terminateSession();
  await client.close();
}

function texts(content) {
  return (content || []).filter((c) => c.type === "text").map((c) => c.text).join("");
}

try {
  const s = sdk === "v1" ? await connectV1() : sdk === "v2" ? await connectV2() : null;
  if (!s) throw new Error(`unknown SDK ${sdk}: want v1 or v2`);
  const out = { sdk, protocolVersion: s.negotiated, server: s.client.getServerVersion()?.name };
  out.tools = (await s.client.listTools()).tools.map((t) => t.name);
  const call = await s.client.callTool({ name: tool, arguments: { text: "hi " + version } });
  out.call = texts(call.content);
  out.callIsError = !!call.isError;
  const p = await s.client.getPrompt({ name: prompt });
  out.prompt = p.messages.map((m) => (m.content?.type === "text" ? m.content.text : "")).join("");
  // "-": the endpoint offers no resources (an agent's).
  if (resource !== "-") {
    const r = await s.client.readResource({ uri: resource });
    out.resource = r.contents.map((c) => c.text ?? "").join("");
  }
  console.log(JSON.stringify(out));
  // Closing must not hang the test either: whatever the SDK keeps open
  // (a standalone SSE stream), the process ends once the result is out.
  await Promise.race([s.close(), new Promise((r) => setTimeout(r, 5000))]);
  process.exit(0);
} catch (err) {
  // status is the HTTP status of a transport error (401 for a wrong
  // token): the 1.x SDK's error carries it as code, the 2.x's as status.
  const status = typeof err?.code === "number" ? err.code : err?.status;
  console.log(JSON.stringify({ sdk, error: String(err?.message || err), status }));
  process.exit(1);
}
