// The status page: signs in with an API key (kept in sessionStorage, so for
// this tab only), then draws what /api answers. Record data reaches the
// document only through textContent and attributes set one by one, never
// as markup, so a name or description holding <script> is shown as text.
"use strict";

(function () {
  const KEY = "mcp-api-key";
  const REFRESH_MS = 10000;
  // the overview reads at most this many records of each kind
  const MAX_PAGES = 5;
  const PAGE = 100;
  const STRIP = 20;

  const $ = (id) => document.getElementById(id);
  let timer = null;
  // a render started before the latest one drops its results
  let generation = 0;

  // el builds an element: props sets textContent (text), class, and
  // attributes; children are nodes or strings (added as text nodes).
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") e.textContent = String(v);
      else if (k === "class") e.className = v;
      else e.setAttribute(k, String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      e.append(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return e;
  }

  // ApiError is an answer other than 2xx; status 0 means no answer at all.
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path) {
    let resp;
    try {
      resp = await fetch(path, {
        headers: { Authorization: "Bearer " + sessionStorage.getItem(KEY), Accept: "application/json" },
        cache: "no-store",
        credentials: "omit",
      });
    } catch (e) {
      throw new ApiError(0, "the API did not answer (" + e.message + ")");
    }
    let body = null;
    try {
      body = await resp.json();
    } catch (e) {
      body = null;
    }
    if (!resp.ok) {
      const msg = body && typeof body.error === "string" ? body.error : "HTTP " + resp.status;
      throw new ApiError(resp.status, msg);
    }
    return body;
  }

  // all reads every page of a list; items picks the list out of a body.
  async function all(path, items) {
    const out = [];
    let cursor = null;
    for (let i = 0; i < MAX_PAGES; i++) {
      const sep = path.includes("?") ? "&" : "?";
      const body = await api(path + sep + "limit=" + PAGE + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
      out.push(...(items(body) || []));
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    return out;
  }

  // ---- the two kinds of checked record, alike for drawing ----

  const KINDS = {
    connections: {
      label: "Connection",
      base: "/api/mcp-connections",
      one: (b) => b,
      list: (b) => b.data,
      catalog: (b) => b,
      checks: (b) => b.data,
      changes: (b) => b.data,
      endpoint: (r) => r.serverUrl,
    },
    servers: {
      label: "Server",
      base: "/api/mcp/servers",
      one: (b) => b.server,
      list: (b) => b.servers,
      catalog: (b) => b.catalog,
      checks: (b) => b.checks,
      changes: (b) => b.changes,
      endpoint: (r) => r.url || [r.command].concat(r.args || []).join(" "),
    },
  };

  // tone is the colour of a status: ok, error, pending or off.
  function tone(status) {
    switch (status) {
      case "active":
      case "connected":
        return "ok";
      case "error":
        return "error";
      case "disconnected":
        return "off";
      default:
        return "pending";
    }
  }

  function when(iso) {
    if (!iso) return el("span", { class: "muted", text: "never" });
    const d = new Date(iso);
    const secs = Math.round((Date.now() - d.getTime()) / 1000);
    let rel;
    if (secs < 60) rel = Math.max(secs, 0) + " s ago";
    else if (secs < 3600) rel = Math.round(secs / 60) + " min ago";
    else if (secs < 86400) rel = Math.round(secs / 3600) + " h ago";
    else rel = Math.round(secs / 86400) + " d ago";
    return el("time", { datetime: iso, title: d.toISOString(), text: rel });
  }

  function dot(t, label) {
    return el("span", { class: "dot tone-" + t, title: label, "aria-hidden": "true" });
  }

  function statusBadge(status) {
    return el("span", { class: "status tone-" + tone(status) }, dot(tone(status), status), status);
  }

  function driftBadge(r) {
    if (r.toolsDrift) {
      return el("span", { class: "badge drift", title: "the catalog differs from approvedToolsHash " + r.approvedToolsHash, text: "catalog changed" });
    }
    if (r.approvedToolsHash) {
      return el("span", { class: "badge approved", title: "the catalog is the approved " + r.approvedToolsHash, text: "approved" });
    }
    return null;
  }

  function toolCount(n) {
    if (n === null || n === undefined) return el("span", { class: "muted", text: "no catalog yet" });
    return el("span", { class: "tools", text: n + (n === 1 ? " tool" : " tools") });
  }

  // strip is one mark per check, oldest first, newest at the right.
  function strip(checks) {
    const s = el("span", { class: "strip", "aria-label": "recent checks, oldest first" });
    for (const c of (checks || []).slice().reverse()) {
      const what = c.ok ? "passed" : "failed: " + (c.errorKind || "") + " " + (c.error || "");
      s.append(el("span", { class: "tick tone-" + (c.ok ? "ok" : "error"), title: c.at + " " + what }));
    }
    if (!checks || checks.length === 0) s.append(el("span", { class: "muted", text: "no checks yet" }));
    return s;
  }

  function failure(kind, message) {
    if (!kind && !message) return null;
    return el("div", { class: "failure" }, kind ? el("span", { class: "badge error", text: kind }) : null, message ? " " + message : null);
  }

  function lastCheck(kindName, r, checks) {
    if (checks && checks.length) return checks[0].at;
    return kindName === "connections" ? r.lastHealthCheckAt : r.lastConnectedAt;
  }

  function recordCard(kindName, r, checks) {
    const href = "#/" + kindName + "/" + encodeURIComponent(r.id);
    return el(
      "li",
      { class: "card tone-" + tone(r.status), "data-kind": kindName, "data-id": r.id },
      el("div", { class: "card-head" }, dot(tone(r.status), r.status), el("a", { class: "name", href: href, text: r.name }), statusBadge(r.status)),
      failure(r.lastErrorKind, r.lastError),
      el(
        "div",
        { class: "card-facts" },
        el("span", {}, "last check ", when(lastCheck(kindName, r, checks))),
        toolCount(r.toolCount),
        driftBadge(r),
      ),
      strip(checks),
    );
  }

  // agentState sums up an agent's assigned records: the worst status, and
  // the reasons of those failing.
  function agentState(agent, byID) {
    const recs = (agent.assignments || []).map((a) => byID.get(a.connectionId || a.serverId)).filter(Boolean);
    if (recs.length === 0) return { status: "unknown", tone: "off", label: "no assignments", failing: [], recs };
    const failing = recs.filter((r) => tone(r.status) === "error");
    if (failing.length) return { status: "error", tone: "error", label: failing.length + " of " + recs.length + " failing", failing, recs };
    if (recs.every((r) => tone(r.status) === "ok")) return { status: "ok", tone: "ok", label: "all " + recs.length + " healthy", failing, recs };
    return { status: "pending", tone: "pending", label: "not all checked", failing, recs };
  }

  function agentTools(agent, byID) {
    let n = 0;
    let known = false;
    for (const a of agent.assignments || []) {
      const r = byID.get(a.connectionId || a.serverId);
      if (a.allowedTools) {
        n += a.allowedTools.length;
        known = true;
      } else if (r && r.toolCount !== null && r.toolCount !== undefined) {
        n += r.toolCount;
        known = true;
      }
    }
    return known ? n : null;
  }

  function agentCard(agent, byID) {
    const st = agentState(agent, byID);
    const drift = st.recs.some((r) => r.toolsDrift);
    const checked = st.recs.map((r) => r.lastHealthCheckAt || r.lastConnectedAt).filter(Boolean).sort();
    return el(
      "li",
      { class: "card tone-" + st.tone, "data-kind": "agents", "data-id": agent.id },
      el(
        "div",
        { class: "card-head" },
        dot(st.tone, st.label),
        el("a", { class: "name", href: "#/agents/" + encodeURIComponent(agent.id), text: agent.name }),
        el("span", { class: "status tone-" + st.tone, text: st.label }),
      ),
      ...st.failing.map((r) => failure(r.lastErrorKind, r.name + ": " + (r.lastError || r.status))),
      el(
        "div",
        { class: "card-facts" },
        el("span", {}, "last check ", when(checked.length ? checked[checked.length - 1] : null)),
        toolCount(agentTools(agent, byID)),
        drift ? el("span", { class: "badge drift", text: "catalog changed" }) : null,
      ),
    );
  }

  function section(title, id, items, empty) {
    const list = el("ul", { class: "cards", id: id });
    list.append(...items);
    if (items.length === 0) list.append(el("li", { class: "muted empty", text: empty }));
    return el("section", { class: "group" }, el("h2", {}, title + " ", el("span", { class: "count", text: "(" + items.length + ")" })), list);
  }

  async function checksOf(kindName, r) {
    try {
      return KINDS[kindName].checks(await api(KINDS[kindName].base + "/" + encodeURIComponent(r.id) + "/checks?limit=" + STRIP));
    } catch (e) {
      if (e.status === 401) throw e;
      return [];
    }
  }

  async function overview() {
    const [conns, servers, agents] = await Promise.all([
      all(KINDS.connections.base, KINDS.connections.list),
      all(KINDS.servers.base, KINDS.servers.list),
      all("/api/agents", (b) => b.data),
    ]);
    const [connChecks, serverChecks] = await Promise.all([
      Promise.all(conns.map((r) => checksOf("connections", r))),
      Promise.all(servers.map((r) => checksOf("servers", r))),
    ]);
    const byID = new Map();
    for (const r of conns.concat(servers)) byID.set(r.id, r);
    const failing = conns.concat(servers).filter((r) => tone(r.status) === "error").length;
    return [
      el(
        "p",
        { class: "summary tone-" + (failing ? "error" : "ok"), id: "summary" },
        failing ? failing + " of " + (conns.length + servers.length) + " records failing" : "All " + (conns.length + servers.length) + " records healthy or not yet checked",
      ),
      section("Connections", "connections", conns.map((r, i) => recordCard("connections", r, connChecks[i])), "No MCP connections."),
      section("Servers", "servers", servers.map((r, i) => recordCard("servers", r, serverChecks[i])), "No MCP servers."),
      section("Agents", "agents", agents.map((a) => agentCard(a, byID)), "No agents."),
    ];
  }

  // ---- a record's page ----

  function facts(rows) {
    const dl = el("dl", { class: "facts" });
    for (const [k, v] of rows) {
      if (v === null || v === undefined || v === "") continue;
      dl.append(el("dt", { text: k }), el("dd", {}, typeof v === "string" || typeof v === "number" ? String(v) : v));
    }
    return dl;
  }

  // table draws rows under head; each cell is a string or a node.
  function table(id, head, rows, empty) {
    if (rows.length === 0) return el("p", { class: "muted", id: id, text: empty });
    const t = el("table", { id: id }, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col", text: h })))));
    const body = el("tbody");
    for (const r of rows) body.append(el("tr", {}, ...r.map((c, i) => el("td", { "data-label": head[i] }, c === null || c === undefined ? "" : c))));
    t.append(body);
    return el("div", { class: "scroll" }, t);
  }

  function names(list) {
    return (list || []).join(", ");
  }

  async function recordPage(kindName, id) {
    const k = KINDS[kindName];
    const base = k.base + "/" + encodeURIComponent(id);
    const r = k.one(await api(base));
    const [catalog, checks, changes] = await Promise.all([
      api(base + "/catalog").then(k.catalog, (e) => {
        if (e.status === 404) return null;
        throw e;
      }),
      api(base + "/checks?limit=50").then(k.checks),
      api(base + "/catalog-changes?limit=50").then(k.changes),
    ]);
    const impl = r.serverImplementation ? r.serverImplementation.name + " " + r.serverImplementation.version : null;
    const out = [
      el("p", {}, el("a", { href: "#/", text: "← all records" })),
      el("h1", { class: "record-title" }, dot(tone(r.status), r.status), el("span", { id: "record-name", text: r.name })),
      el("p", { class: "muted", text: k.label + " " + r.id }),
      failure(r.lastErrorKind, r.lastError),
      facts([
        ["Status", statusBadge(r.status)],
        ["Endpoint", k.endpoint(r)],
        ["Description", r.description],
        ["Last check", when(lastCheck(kindName, r, checks))],
        ["Protocol version", r.protocolVersion],
        ["Server", impl],
        ["Tools", toolCount(r.toolCount)],
        ["Tools hash", r.toolsHash],
        ["Approved tools hash", r.approvedToolsHash],
        ["Drift", driftBadge(r) || (r.toolsHash ? "no approval set" : null)],
        ["Catalog changed", r.toolsChangedAt ? when(r.toolsChangedAt) : null],
      ]),
      el("h2", { text: "Recent checks" }),
      strip(checks.slice(0, STRIP)),
    ];
    out.push(el("h2", { text: "Tools" }));
    if (!catalog) {
      out.push(el("p", { class: "muted", id: "record-tools", text: "No catalog yet: no check of this record has passed." }));
    } else {
      if (catalog.truncated) out.push(el("p", { class: "error", text: "The server offers more than the catalog keeps; only the first items are shown." }));
      out.push(
        table("record-tools", ["Name", "Title", "Description"], catalog.tools.map((t) => [el("code", { text: t.name }), t.title, t.description]), "The server offers no tools."),
        el("h2", { text: "Prompts" }),
        table("record-prompts", ["Name", "Description"], catalog.prompts.map((p) => [el("code", { text: p.name }), p.description]), "No prompts."),
        el("h2", { text: "Resources" }),
        table("record-resources", ["URI", "Name", "Description"], catalog.resources.map((x) => [el("code", { text: x.uri }), x.name, x.description]), "No resources."),
        el("p", { class: "muted" }, "Catalog observed ", when(catalog.observedAt)),
      );
    }
    out.push(
      el("h2", { text: "Check history" }),
      table(
        "record-checks",
        ["When", "Result", "Duration", "Error kind", "Error"],
        checks.map((c) => [when(c.at), el("span", { class: "status tone-" + (c.ok ? "ok" : "error"), text: c.ok ? "passed" : "failed" }), c.durationMs + " ms", c.errorKind, c.error]),
        "No checks yet.",
      ),
      el("h2", { text: "Catalog changes" }),
      table(
        "record-changes",
        ["When", "Added", "Removed", "Changed"],
        changes.map((c) => [when(c.at), names(c.toolsAdded), names(c.toolsRemoved), names(c.toolsChanged)]),
        "No catalog changes.",
      ),
    );
    return out;
  }

  async function agentPage(id) {
    const a = await api("/api/agents/" + encodeURIComponent(id));
    const rows = [];
    const byID = new Map();
    for (const as of a.assignments || []) {
      const kindName = as.connectionId ? "connections" : "servers";
      const rid = as.connectionId || as.serverId;
      let r = null;
      try {
        r = KINDS[kindName].one(await api(KINDS[kindName].base + "/" + encodeURIComponent(rid)));
        byID.set(rid, r);
      } catch (e) {
        if (e.status === 401) throw e;
      }
      rows.push([
        r ? el("a", { href: "#/" + kindName + "/" + encodeURIComponent(rid), text: r.name }) : rid,
        r ? statusBadge(r.status) : "missing",
        r ? failure(r.lastErrorKind, r.lastError) : null,
        el("code", { text: as.prefix }),
        as.allowedTools ? names(as.allowedTools) : "all",
      ]);
    }
    const st = agentState(a, byID);
    return [
      el("p", {}, el("a", { href: "#/", text: "← all records" })),
      el("h1", { class: "record-title" }, dot(st.tone, st.label), el("span", { id: "record-name", text: a.name })),
      el("p", { class: "muted", text: "Agent " + a.id }),
      facts([
        ["Status", el("span", { class: "status tone-" + st.tone, text: st.label })],
        ["Description", a.description],
        ["Gateway URL", a.gatewayUrl],
        ["Tools", toolCount(agentTools(a, byID))],
      ]),
      el("h2", { text: "Assignments" }),
      table("agent-assignments", ["Record", "Status", "Last error", "Prefix", "Allowed tools"], rows, "No assignments."),
    ];
  }

  // ---- routing, refresh, sign-in ----

  function route() {
    const m = /^#\/(connections|servers|agents)\/([^/]+)$/.exec(location.hash);
    if (!m) return { view: "overview" };
    return { view: m[1], id: decodeURIComponent(m[2]) };
  }

  async function render() {
    const gen = ++generation;
    const main = $("main");
    const r = route();
    let nodes;
    try {
      if (r.view === "overview") nodes = await overview();
      else if (r.view === "agents") nodes = await agentPage(r.id);
      else nodes = await recordPage(r.view, r.id);
    } catch (e) {
      if (gen !== generation) return;
      if (e.status === 401) {
        signOut("Your API key is no longer accepted (" + e.message + "); sign in again.");
        return;
      }
      if (e.status === 404 || e.status === 400) {
        nodes = [el("p", {}, el("a", { href: "#/", text: "← all records" })), el("p", { class: "error", id: "load-error", text: "Not found: " + e.message })];
      } else {
        // keep what is shown; say why it is not fresh
        $("refreshed").textContent = "Refresh failed: " + e.message;
        $("refreshed").className = "error";
        return;
      }
    }
    if (gen !== generation || !sessionStorage.getItem(KEY)) return;
    main.replaceChildren(...nodes.filter(Boolean));
    $("refreshed").className = "muted";
    $("refreshed").textContent = "Updated " + new Date().toLocaleTimeString();
    main.setAttribute("data-loaded", String(gen));
  }

  function showSignedIn() {
    $("signin").hidden = true;
    $("signin-error").hidden = true;
    $("main").hidden = false;
    $("signout").hidden = false;
    render();
    clearInterval(timer);
    timer = setInterval(render, REFRESH_MS);
  }

  function signOut(message) {
    sessionStorage.clear();
    clearInterval(timer);
    timer = null;
    generation++;
    $("main").replaceChildren();
    $("main").removeAttribute("data-loaded");
    $("main").hidden = true;
    $("signout").hidden = true;
    $("refreshed").textContent = "";
    $("signin").hidden = false;
    const err = $("signin-error");
    err.textContent = message || "";
    err.hidden = !message;
    $("apikey").value = "";
    $("apikey").focus();
  }

  async function signIn(ev) {
    ev.preventDefault();
    const key = $("apikey").value.trim();
    const err = $("signin-error");
    err.hidden = true;
    if (!key) {
      err.textContent = "Enter an API key.";
      err.hidden = false;
      return;
    }
    sessionStorage.setItem(KEY, key);
    try {
      await api("/api/mcp-connections?limit=1");
    } catch (e) {
      sessionStorage.removeItem(KEY);
      err.textContent =
        e.status === 401
          ? "That API key was not accepted (" + e.message + "). Check the key and try again."
          : "Could not sign in: " + e.message;
      err.hidden = false;
      $("apikey").select();
      return;
    }
    $("apikey").value = "";
    showSignedIn();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("signin-form").addEventListener("submit", signIn);
    $("signout").addEventListener("click", () => signOut(""));
    window.addEventListener("hashchange", () => {
      if (sessionStorage.getItem(KEY)) render();
    });
    if (sessionStorage.getItem(KEY)) showSignedIn();
    else signOut("");
  });
})();
