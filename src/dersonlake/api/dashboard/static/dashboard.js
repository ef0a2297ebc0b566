// Derson Lake dashboard: the small script the server-rendered pages need. No framework, no build.
// - list pages: an element with data-live="<url>" is refreshed from that URL (the same template,
//   rendered on the server with ?partial=1) every data-every milliseconds;
// - the execution page: polls /api/execution while the execution runs, recolours the SVG graph's
//   states, updates the header and the event history, and shows a clicked state's details.
"use strict";

function liveRegions() {
  document.querySelectorAll("[data-live]").forEach((el) => {
    const every = parseInt(el.dataset.every || "2000", 10);
    const tick = async () => {
      try {
        const res = await fetch(el.dataset.live, { cache: "no-store" });
        if (res.ok) el.innerHTML = await res.text();
      } catch (e) { /* server restarting: try again at the next tick */ }
      setTimeout(tick, every);
    };
    setTimeout(tick, every);
  });
}

const STATUSES = ["succeeded", "failed", "caught", "running", "not-reached"];

function fmtSeconds(s) {
  if (s === null || s === undefined) return "";
  if (s < 60) return s.toFixed(1) + "s";
  const m = Math.floor(s / 60), sec = Math.floor(s % 60);
  const h = Math.floor(m / 60);
  return h ? `${h}h${String(m % 60).padStart(2, "0")}m${String(sec).padStart(2, "0")}s`
           : `${m}m${String(sec).padStart(2, "0")}s`;
}

function fmtTime(epoch) {
  if (epoch === null || epoch === undefined) return "";
  return new Date(epoch * 1000).toISOString().replace("T", " ").slice(0, 19);
}

function pretty(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") {
    try { return JSON.stringify(JSON.parse(value), null, 2); } catch (e) { return value; }
  }
  return JSON.stringify(value, null, 2);
}

function executionPage(root) {
  const arn = root.dataset.arn;
  let data = JSON.parse(document.getElementById("execution-data").textContent);
  let selected = null;

  function paintGraph() {
    document.querySelectorAll("#graph .node").forEach((g) => {
      const st = data.states[g.dataset.state];
      const status = st ? st.status : "not-reached";
      STATUSES.forEach((s) => g.classList.toggle(s, s === status));
      g.classList.toggle("selected", g.dataset.state === selected);
    });
    const taken = new Set(data.taken.map((p) => p[0] + "\u0000" + p[1]));
    document.querySelectorAll("#graph .edge").forEach((p) => {
      p.classList.toggle("taken", taken.has(p.dataset.from + "\u0000" + p.dataset.to));
    });
  }

  function paintHeader() {
    const x = data.execution;
    const badge = document.getElementById("exec-status");
    badge.textContent = x.status;
    badge.className = "badge big " + x.status.toLowerCase();
    document.getElementById("exec-stop").textContent = fmtTime(x.stop);
    document.getElementById("exec-duration").textContent = fmtSeconds(x.seconds);
    document.getElementById("exec-error").textContent = x.error ? x.error + (x.cause ? ": " + x.cause : "") : "";
    root.dataset.running = data.running ? "1" : "0";
  }

  function paintHistory() {
    const body = document.querySelector("#history tbody");
    if (body.children.length === data.events.length) return;
    body.replaceChildren(...data.events.map((ev) => {
      const tr = document.createElement("tr");
      const details = ev.details && Object.keys(ev.details).length ? JSON.stringify(ev.details) : "";
      const cells = [ev.id, ev.type, ev.state || "", fmtSeconds(ev.elapsed), fmtTime(ev.timestamp),
                     details.length > 160 ? details.slice(0, 157) + "..." : details];
      cells.forEach((text, i) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (i === 0 || i === 3) td.className = "num";
        if (i === 5) td.className = "details";
        tr.appendChild(td);
      });
      return tr;
    }));
  }

  function paintPanel() {
    if (!selected) return;
    const st = data.states[selected] || { name: selected, status: "not-reached" };
    document.getElementById("panel-hint").hidden = true;
    document.getElementById("panel-body").hidden = false;
    document.getElementById("panel-name").textContent = st.name;
    const badge = document.getElementById("panel-status");
    badge.textContent = st.status.replace("-", " ");
    badge.className = "badge " + st.status;
    const meta = [st.type];
    if (st.visits) meta.push(`entered ${st.visits} time${st.visits > 1 ? "s" : ""}`);
    if (st.retries) meta.push(`${st.retries} retr${st.retries > 1 ? "ies" : "y"}`);
    if (st.enteredAt) meta.push("last entered " + fmtTime(st.enteredAt) + " UTC");
    document.getElementById("panel-meta").textContent = meta.join(" · ");
    const kids = document.getElementById("panel-children");
    kids.replaceChildren(...(st.children || []).map((c) => {
      const a = document.createElement("a");
      a.href = "/execution?arn=" + encodeURIComponent(c);
      a.className = "child-link";
      a.textContent = "nested execution: " + c.split(":").slice(-2).join(" · ");
      const p = document.createElement("p");
      p.appendChild(a);
      return p;
    }));
    document.getElementById("panel-error-box").hidden = !st.error;
    document.getElementById("panel-error").textContent = st.error ? st.error + "\n" + pretty(st.cause) : "";
    const fails = st.failures || [];
    document.getElementById("panel-failures-box").hidden = fails.length < 2;  // one: it is the error above
    document.getElementById("panel-failures").replaceChildren(...fails.map((f) => {
      const li = document.createElement("li");
      li.textContent = `${f.error} (event ${f.eventId}): ${f.cause || ""}`.slice(0, 400);
      return li;
    }));
    document.getElementById("panel-input").textContent = pretty(st.input);
    document.getElementById("panel-output").textContent = pretty(st.output);
  }

  document.querySelectorAll("#graph .node").forEach((g) => {
    const pick = (ev) => { ev.stopPropagation(); selected = g.dataset.state; paintGraph(); paintPanel(); };
    g.addEventListener("click", pick);
    g.addEventListener("keydown", (ev) => { if (ev.key === "Enter") pick(ev); });
  });

  async function poll() {
    try {
      const res = await fetch("/api/execution?arn=" + encodeURIComponent(arn), { cache: "no-store" });
      if (res.ok) {
        data = await res.json();
        paintGraph(); paintHeader(); paintHistory(); paintPanel();
      }
    } catch (e) { /* try again */ }
    if (data.running) setTimeout(poll, 1000);
  }
  if (data.running) setTimeout(poll, 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  liveRegions();
  const root = document.getElementById("execution");
  if (root) executionPage(root);
});
