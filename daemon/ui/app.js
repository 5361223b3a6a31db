// The crmhub status page: polls the admin API (docs/api.yaml) with the
// bearer token kept in this tab's sessionStorage. No framework, no build.
"use strict";

const TOKEN_KEY = "crmhub-token";
const REFRESH_MS = 2000;
const $ = (sel) => document.querySelector(sel);

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

async function api(method, path) {
  const r = await fetch("/api/v1/" + path, {
    method,
    headers: { "Authorization": "Bearer " + token() },
  });
  const body = await r.json().catch(() => ({}));
  if (r.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("The token was refused.");
    throw new Error("unauthorized");
  }
  if (!r.ok) throw new Error(`${method} /api/v1/${path}: ${r.status} ${body.detail || body.error || ""}`);
  return body;
}

// Text only: every value is set with textContent, never as HTML.
function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "-" : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function time(t) { return t ? new Date(t).toLocaleString() : "-"; }

function age(t) {
  if (!t) return "-";
  const s = Math.max(0, Math.round((Date.now() - new Date(t).getTime()) / 1000));
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}

function fill(table, rows, render) {
  const body = $(table + " tbody");
  body.replaceChildren();
  for (const r of rows) {
    const tr = document.createElement("tr");
    render(tr, r);
    body.appendChild(tr);
  }
}

function renderAdapters(adapters, lanes) {
  const dead = {};
  for (const l of lanes) {
    const id = l.lane.slice(l.lane.indexOf(".") + 1);
    dead[id] = (dead[id] || 0) + l.dead;
  }
  fill("#adapters", adapters, (tr, a) => {
    tr.dataset.adapter = a.id;
    const s = a.status || {};
    const c = a.counts || {};
    cell(tr, a.id);
    cell(tr, a.type);
    const failing = Object.values(s).some((x) => x.last_error_at && (!x.last_success || x.last_error_at > x.last_success));
    cell(tr, !a.enabled ? "disabled" : failing ? "failing" : "ok", !a.enabled ? "" : failing ? "bad" : "ok");
    cell(tr, s.pull ? time(s.pull.last_success) : "no pull");
    // A cursor can be a whole JSON document (Wildberries keeps its open
    // orders in it): shown cut to one line, in full on hover.
    const cursor = cell(tr, a.cursor, "cursor");
    if (a.cursor) cursor.title = String(a.cursor);
    cell(tr, c.received, "num");
    cell(tr, c.delivered, "num");
    cell(tr, c.retrying, "num");
    cell(tr, dead[a.id] || 0, "num");
    cell(tr, c.throttled, "num");
    cell(tr, a.circuit_state || "-", a.circuit_state === "open" ? "bad" : "");
    cell(tr, a.last_error ? `${a.last_error} (${time(a.last_error_at)})` : "-", "reason");
  });
}

function renderLanes(lanes) {
  fill("#lanes", lanes, (tr, l) => {
    cell(tr, l.lane);
    cell(tr, l.ready + l.delayed + l.leased, "num");
    cell(tr, l.ready, "num");
    cell(tr, l.delayed, "num");
    cell(tr, l.leased, "num");
    cell(tr, l.dead, l.dead > 0 ? "num bad" : "num");
    cell(tr, age(l.oldest_created_at));
  });
}

async function act(id, what) {
  try {
    await api("POST", `dead-letters/${id}/${what}`);
    $("#error").textContent = "";
    await refresh();
  } catch (e) {
    $("#error").textContent = `${what} ${id}: ${e.message}`;
  }
}

async function showRecord(id) {
  const d = await api("GET", `dead-letters/${id}`);
  const history = (d.history || []).map((h) => `${time(h.at)}  ${h.error}`).join("\n");
  $("#record").textContent = `dead letter ${d.id} (${d.lane}, key ${d.idempotency_key})\n` +
    `reason: ${d.reason}\n\nattempts:\n${history}\n\nraw record:\n${d.payload}`;
  $("#record").hidden = false;
}

function renderDeadLetters(items) {
  fill("#dead-letters", items, (tr, d) => {
    tr.dataset.id = d.id;
    cell(tr, d.id);
    cell(tr, d.lane);
    cell(tr, d.idempotency_key);
    cell(tr, d.attempts, "num");
    cell(tr, time(d.failed_at));
    cell(tr, d.reason, "reason");
    const td = cell(tr, "");
    for (const [label, fn] of [["Record", () => showRecord(d.id)], ["Replay", () => act(d.id, "replay")],
                               ["Drop", () => act(d.id, "drop")]]) {
      const b = document.createElement("button");
      b.textContent = label;
      b.className = label.toLowerCase();
      b.addEventListener("click", fn);
      td.appendChild(b);
    }
  });
}

async function refreshAudit() {
  try {
    const a = await api("GET", "audit?last=20");
    $("#audit-note").textContent = "";
    fill("#audit", (a.entries || []).slice().reverse(), (tr, e) => {
      cell(tr, time(e.at));
      cell(tr, e.actor);
      cell(tr, e.via);
      cell(tr, e.action);
      cell(tr, e.target);
      cell(tr, e.result, e.result === "ok" ? "" : "bad");
    });
  } catch (e) {
    if (e.message === "unauthorized") throw e;
    $("#audit-note").textContent = "The audit journal needs a token with the admin scope.";
  }
}

async function refresh() {
  if (!token()) return;
  try {
    const [adapters, queue, dead] = await Promise.all([
      api("GET", "adapters"), api("GET", "queue"), api("GET", "dead-letters?limit=100")]);
    renderAdapters(adapters.adapters, queue.lanes);
    renderLanes(queue.lanes);
    renderDeadLetters(dead.dead_letters);
    $("#summary").textContent = `queue ${queue.healthy ? "healthy" : "REFUSING WRITES"}, ` +
      `depth ${queue.depth}, ${dead.dead_letters.length} dead letters, updated ${new Date().toLocaleTimeString()}`;
    await refreshAudit();
    $("#error").textContent = "";
  } catch (e) {
    if (e.message !== "unauthorized") $("#error").textContent = e.message;
  }
}

function showLogin(message) {
  $("#login").hidden = false;
  $("#main").hidden = true;
  $("#logout").hidden = true;
  if (message) $("#error").textContent = message;
}

function showMain() {
  $("#login").hidden = true;
  $("#main").hidden = false;
  $("#logout").hidden = false;
  refresh();
}

$("#login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("#token").value.trim());
  $("#token").value = "";
  showMain();
});
$("#logout").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); showLogin(""); });

if (token()) showMain(); else showLogin("");
setInterval(refresh, REFRESH_MS);
