// scudo serve: the dashboard page. Every value goes into the page through textContent (never
// innerHTML), so a customer named "<script>" stays text.
"use strict";

const $ = (id) => document.getElementById(id);
let session = { role: "viewer", csrf: "" };
let currency = "USD";

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function money(v) {
  const n = Number(v || 0);
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency, maximumFractionDigits: 0 }).format(n);
  } catch (_) {
    return currency + " " + Math.round(n).toLocaleString("en-US");
  }
}
function count(v) { return Number(v || 0).toLocaleString("en-US"); }

async function api(path, opts) {
  const o = Object.assign({ credentials: "same-origin", headers: {} }, opts || {});
  if (o.method && o.method !== "GET") o.headers["X-CSRF-Token"] = session.csrf;
  const r = await fetch(path, o);
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

// A customer's insights as they are written (server-sent events over fetch, so the session
// cookie goes along): the model's text with its verdict when [llm] is set, scudo's own otherwise.
async function streamInsights(id, box) {
  const show = (text, note) => {
    const lines = text.split(/\n+/).filter((l) => l.trim()).map((l) => el("p", l.trim()));
    box.replaceChildren(...lines);
    if (note) box.append(el("div", note, "muted"));
  };
  let text = "";
  try {
    const r = await fetch("/api/customers/" + encodeURIComponent(id) + "/insights", { credentials: "same-origin" });
    if (!r.ok) throw new Error(String(r.status));
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        let ev = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) ev = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        const d = data.join("\n");
        if (ev === "text") { text += d; show(text); }
        else if (ev === "retract") { text = ""; show("", "checking the numbers again…"); }
        else if (ev === "verdict") {
          const v = JSON.parse(d);
          if (v.fallback) show(v.text, "scudo's own words: the model's text was not used (" + v.fallback + ")");
          else show(text, v.checked !== undefined ? "written by " + v.by + " · ✓ " + v.checked + " numbers checked" : "written by " + v.by);
          return;
        }
      }
    }
  } catch (e) {
    show("", "insights unavailable: " + e.message);
  }
}

function card(label, value, change) {
  const c = el("div", null, "card");
  c.append(el("div", label, "label"), el("div", value, "value"));
  if (change) c.append(el("div", change, "change"));
  return c;
}
// The card shows the figure on the date; the line under it the last 30 days against the 30 before.
function changeText(k, isMoney) {
  if (!k || k.current === null || k.current === undefined) return "";
  const now = isMoney ? money(k.current) : count(k.current);
  if (k.change_pct === null || k.change_pct === undefined) return "last 30 days: " + now;
  const p = Number(k.change_pct);
  return "last 30 days: " + now + " (" + (p >= 0 ? "▲ " : "▼ ") + Math.abs(p).toFixed(1) + "% vs the 30 before)";
}

async function loadDashboard() {
  const [d, k] = await Promise.all([api("/api/dashboard"), api("/api/dashboard/kpis").catch(() => null)]);
  currency = d.currency || currency;
  const kp = d.kpis || {};
  const ch = (name) => changeText(k && k.kpis ? k.kpis[name] : null, name === "revenue");
  $("kpis").replaceChildren(
    card("Customers", count(kp.customers), ch("customers")),
    card("Active", count(kp.active), ch("active")),
    card("At-Risk", count(kp.at_risk), ch("at_risk")),
    card("Revenue", money(kp.revenue), ch("revenue")),
    card("Orders", count(kp.orders), ch("orders")),
  );
  const max = Math.max(1, ...d.health.map((h) => Number(h.customers)));
  $("health").replaceChildren(...d.health.map((h) => {
    const row = el("div", null, "bar");
    const fill = el("div", null, "fill");
    fill.style.width = (100 * Number(h.customers) / max).toFixed(1) + "%";
    const wrap = el("div"); wrap.append(fill);
    row.append(el("span", h.stage + " (" + count(h.customers) + ")"), wrap, el("span", money(h.revenue)));
    return row;
  }));
  $("alerts-total").textContent = "(" + count(d.alerts_total) + ")";
  $("alerts").replaceChildren(...d.alerts.map((a) => {
    const li = el("li");
    const b = el("button", a.name || a.customer_id, "link");
    b.addEventListener("click", () => openCustomer(a.customer_id));
    const risk = a.churn_probability == null ? "" : " · churn risk " + Math.round(100 * Number(a.churn_probability)) + "%";
    li.append(b, el("span", " · " + a.stage + risk + " · " + money(a.revenue), "muted"), el("div", a.reason));
    return li;
  }));
  $("segments").tBodies[0].replaceChildren(...d.segments.map((s) => {
    const tr = el("tr");
    const td = el("td");
    const b = el("button", s.segment, "link");
    b.addEventListener("click", () => openSegment(s.segment_id, s.segment));
    td.append(b);
    tr.append(td, el("td", count(s.customers), "num"), el("td", money(s.revenue), "num"));
    return tr;
  }));
  const c = d.checks;
  const badge = $("checks");
  if (c) {
    badge.textContent = "checks: " + c.status + " (" + c.passed + "/" + c.checks + " passed, " + c.hours_ago + " h ago)";
    badge.className = "badge " + c.status;
  } else {
    badge.textContent = "checks: never run";
    badge.className = "badge";
  }
}

async function loadStatus() {
  const s = await api("/api/dashboard/status");
  const st = s.status || {};
  const imp = st.last_import_at ? "last import " + st.last_import_at + " UTC (" + st.hours_since_import + " h ago)" : "no import yet";
  $("freshness").textContent = "data as of " + s.as_of + " · " + imp;
  $("stale").hidden = !s.stale;
  $("stale").className = "badge stale";
}

let searchTimer = null;
let searchSeq = 0;
function onSearch() {
  clearTimeout(searchTimer);
  const q = $("search").value.trim();
  if (!q) { $("suggestions").replaceChildren(); return; }
  searchTimer = setTimeout(async () => {
    const seq = ++searchSeq;
    const r = await api("/api/customers/search?limit=8&q=" + encodeURIComponent(q));
    if (seq !== searchSeq) return;
    $("suggestions").replaceChildren(...r.rows.map((c) => {
      const li = el("li");
      const b = el("button", c.name || c.customer_id, "link");
      b.addEventListener("click", () => openCustomer(c.customer_id));
      li.append(b, el("span", " · " + (c.email || c.customer_id), "muted"));
      return li;
    }));
  }, 120);
}

function dl(pairs) {
  const d = el("dl");
  for (const [k, v] of pairs) {
    if (v === null || v === undefined || v === "") continue;
    d.append(el("dt", k), el("dd", v));
  }
  return d;
}

async function openCustomer(id) {
  const r = await api("/api/customers/" + encodeURIComponent(id) + "/profile");
  const c = r.customer || {};
  $("customer").hidden = false;
  $("c-name").textContent = (c.name || c.customer_id) + " · " + (c.stage || "");
  const body = [];
  body.push(dl([
    ["id", c.customer_id], ["email", c.email], ["phone", c.phone], ["company", c.company],
    ["orders", c.orders], ["revenue", c.revenue !== undefined ? money(c.revenue) : ""],
    ["last order", c.last_order_at],
    ["churn risk", c.churn_probability == null ? "" : Math.round(100 * Number(c.churn_probability)) + "% (" + c.churn_band + ")"],
    ["CLV", c.clv !== undefined && c.clv !== null ? money(c.clv) : ""], ["CLV trend", c.clv_trend],
    ["RFM", c.rfm ? c.rfm + " " + (c.rfm_group || "") : ""],
  ]));
  body.push(el("h3", "Insights"));
  const insights = el("div", null, "insights");
  insights.append(el("p", "…", "muted"));
  body.push(insights);
  streamInsights(id, insights);
  body.push(el("h3", "Next best actions"));
  const acts = el("ul", null, "list");
  for (const a of r.actions || []) acts.append(el("li", a.action + " — " + a.reason));
  body.push(acts);
  body.push(el("h3", "Tags"));
  const tags = el("div");
  for (const t of r.tags || []) tags.append(el("span", t.tag, "tag"));
  body.push(tags);
  body.push(el("h3", "Notes"));
  const notes = el("ul", null, "list");
  for (const n of r.notes || []) notes.append(el("li", n.body + " — " + n.author + ", " + n.created_at));
  body.push(notes);
  if (session.role === "admin" || session.role === "analyst") {
    const note = el("textarea"); note.setAttribute("aria-label", "new note"); note.id = "note-text";
    const save = el("button", "Add note"); save.id = "note-save";
    save.addEventListener("click", async () => {
      if (!note.value.trim()) return;
      await api("/api/customers/" + encodeURIComponent(id) + "/notes", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ body: note.value }),
      });
      openCustomer(id);
    });
    const tag = el("input"); tag.type = "text"; tag.placeholder = "tag"; tag.id = "tag-text";
    const addTag = el("button", "Add tag");
    addTag.addEventListener("click", async () => {
      if (!tag.value.trim()) return;
      await api("/api/customers/" + encodeURIComponent(id) + "/tags", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ tag: tag.value }),
      });
      openCustomer(id);
    });
    body.push(note, save, tag, addTag);
  }
  body.push(el("h3", "Orders"));
  const t = el("table");
  for (const o of (r.orders || []).slice(0, 20)) {
    const tr = el("tr");
    tr.append(el("td", o.order_number), el("td", o.ordered_at || o.created_at || ""), el("td", money(o.net_total !== undefined ? o.net_total : o.total), "num"));
    t.append(tr);
  }
  body.push(t);
  $("c-body").replaceChildren(...body);
  $("customer").scrollIntoView({ block: "nearest" });
}

async function openSegment(id, name) {
  const r = await api("/api/segments/" + encodeURIComponent(id) + "/customers");
  $("segment").hidden = false;
  $("s-name").textContent = "Segment " + name + " · " + r.rows.length + " customers";
  $("s-members").tBodies[0].replaceChildren(...r.rows.map((c) => {
    const tr = el("tr");
    const td = el("td");
    const b = el("button", c.name || c.customer_id, "link");
    b.addEventListener("click", () => openCustomer(c.customer_id));
    td.append(b);
    tr.append(td, el("td", c.stage), el("td", money(c.revenue), "num"));
    return tr;
  }));
}

function describe(e) {
  switch (e.type) {
    case "data_changed": return "Data changed" + (e.source ? " (" + e.source + ")" : "") + (e.what ? ": " + JSON.stringify(e.what) : "");
    case "stage_change": return e.customer + ": " + e.old + " → " + e.new + " (" + e.action + ")";
    case "new_at_risk": return e.customer + " is now At-Risk (" + e.action + ")";
    case "churn_risk_increase": return e.customer + ": churn risk " + e.old + " → " + e.new + " (" + e.action + ")";
    case "segment_migration": return e.customer + ": segments " + (e.old || []).join(", ") + " → " + (e.new || []).join(", ");
    case "revenue_threshold_crossed": return "Revenue crossed " + money(e.threshold) + " (" + e.direction + ")";
    default: return e.type;
  }
}

let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { loadDashboard().catch(report); loadStatus().catch(report); }, 50);
}

function connect() {
  const proto = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(proto + location.host + "/api/live-updates");
  ws.addEventListener("open", () => { $("live-state").textContent = "live"; $("live-state").className = "badge on"; });
  ws.addEventListener("close", () => {
    $("live-state").textContent = "live: reconnecting"; $("live-state").className = "badge warn";
    setTimeout(connect, 2000);
  });
  ws.addEventListener("message", (m) => {
    const e = JSON.parse(m.data);
    if (e.type === "hello") return;
    if (e.type !== "data_reloaded") {
      const li = el("li", describe(e));
      li.dataset.type = e.type;
      $("events").prepend(li);
    }
    if (e.type === "data_changed" || e.type === "data_reloaded") refreshSoon();
  });
}

function report(err) { $("freshness").textContent = String(err.message || err); }

document.addEventListener("DOMContentLoaded", async () => {
  $("search").addEventListener("input", onSearch);
  try {
    session = await api("/api/session");
    await Promise.all([loadDashboard(), loadStatus()]);
  } catch (e) { report(e); }
  connect();
});
