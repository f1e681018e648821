// Package contract is the wire contract of the API of MCP connections, MCP
// servers and projects: the JSON types, enums, error bodies and input rules
// shared by the API server and its Go client. Nothing here performs I/O.
package contract
