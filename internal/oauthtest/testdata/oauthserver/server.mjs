// A real OAuth 2.0 authorization server (oidc-provider) for the upstream
// authentication tests of apiserver/probe and apiserver/gateway, started by
// internal/oauthtest: the client credentials grant with RFC 8707 resource
// indicators, issuing RS256-signed JWT access tokens whose audience
// is the resource. It listens on 127.0.0.1 on a free port and prints one JSON
// line on stdout, {"issuer": "http://127.0.0.1:PORT"}, once it serves.
//
// Environment (JSON):
//   OAUTH_CLIENTS    oidc-provider client metadata, e.g. [{client_id, client_secret,
//                    token_endpoint_auth_method, scope}]
//   OAUTH_RESOURCES  the resource indicators it issues tokens for; the first is
//                    the default when a request names none; others are invalid_target
//   OAUTH_TTL        access token lifetime in seconds
//
// GET /test/token-requests answers how many token requests it has had, so a
// test can prove a token was cached or fetched again.
import http from 'node:http';
import Provider, { errors } from 'oidc-provider';

const clients = JSON.parse(process.env.OAUTH_CLIENTS).map((c) => ({
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
  ...c,
}));
const resources = JSON.parse(process.env.OAUTH_RESOURCES);
const ttl = Number(process.env.OAUTH_TTL || '300');

let tokenRequests = 0;
let handler = null;
const server = http.createServer((req, res) => {
  if (req.url === '/test/token-requests') {
    res.setHeader('Content-Type', 'text/plain');
    res.end(String(tokenRequests));
    return;
  }
  if (req.method === 'POST' && req.url.startsWith('/token')) {
    tokenRequests++;
  }
  handler(req, res);
});

server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients,
    scopes: ['mcp:read', 'mcp:write'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resources[0],
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resourceIndicator) => {
          if (!resources.includes(resourceIndicator)) {
            throw new errors.InvalidTarget(`this server issues no tokens for ${resourceIndicator}`);
          }
          return {
            scope: 'mcp:read mcp:write',
            audience: resourceIndicator,
            accessTokenTTL: ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  handler = provider.callback();
  process.stdout.write(JSON.stringify({ issuer }) + '\n');
});

process.on('SIGTERM', () => process.exit(0));
