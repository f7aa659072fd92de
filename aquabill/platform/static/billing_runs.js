// The billing runs page: live progress of runs started as jobs, over this page's own WebSocket.
// Rows of runs still in the queue carry data-run-job="<job id>"; job.* events update their status and
// progress bar, and when a run finishes the list is fetched again (figures, missing tariffs, …).
// While the socket is down the list polls itself (hx-trigger "every 2s" in billing_runs_list.html).
(function () {
  "use strict";
  if (!document.getElementById("billing-runs")) return;
  const STATUS = { queued: "В очереди", running: "Выполняется", done: "Завершён", failed: "Ошибка" };
  const STATE = { "job.queued": "queued", "job.started": "running", "job.progress": "running",
                  "job.finished": "done", "job.failed": "failed" };
  const KEEP = 200; // job states remembered for rows that arrive after their events
  const seen = new Map(); // job id -> {state, progress, message}
  const refreshed = new Set(); // finished jobs the list was already fetched for
  let live = false;
  window.aquabillRunsLive = () => live;

  function showLive() {
    const el = document.getElementById("runs-live");
    if (el) el.textContent = live ? "· обновляется в реальном времени" : "· обновляется раз в 2 с";
    const root = document.getElementById("billing-runs");
    if (root) root.dataset.live = live ? "on" : "off";
  }

  let timer = null;
  function refresh() {
    if (timer) return;
    timer = setTimeout(() => { timer = null; if (window.htmx) htmx.trigger(document.body, "runs-refresh"); }, 150);
  }

  function apply(id) {
    const row = document.querySelector(`tr[data-run-job="${CSS.escape(id)}"]`);
    const s = seen.get(id);
    if (!row || !s) return;
    if (s.state) {
      const badge = row.querySelector(".run-status");
      badge.textContent = STATUS[s.state] || s.state;
      badge.className = "run-status badge " + ({ done: "ok", failed: "bad" }[s.state] || "warn");
    }
    const pct = s.state === "done" ? 100 : s.progress;
    if (pct !== undefined) {
      row.querySelector("progress").value = pct;
      row.querySelector(".pct").textContent = Math.round(pct) + "%";
    }
    const msg = row.querySelector(".run-message");
    if (msg && s.message !== undefined) msg.textContent = s.state === "failed" ? "" : s.message;
    if ((s.state === "done" || s.state === "failed") && !refreshed.has(id)) {
      refreshed.add(id);
      refresh();
    }
  }

  function onEvent(ev) {
    if (!ev.type || !STATE[ev.type]) return;
    const d = ev.data || {};
    if (!d.id || (d.kind && d.kind !== "billing.run")) return;
    const s = seen.get(d.id) || {};
    s.state = STATE[ev.type];
    if (d.progress !== undefined) s.progress = d.progress;
    if (d.message !== undefined) s.message = d.message;
    if (ev.type === "job.failed") s.message = d.error || "";
    seen.delete(d.id);
    seen.set(d.id, s);
    while (seen.size > KEEP) seen.delete(seen.keys().next().value);
    const row = document.querySelector(`tr[data-run-job="${CSS.escape(d.id)}"]`);
    if (s.state === "done" || s.state === "failed") {
      // (job.failed names no kind: a refresh for another kind's failure is harmless)
      if (!row && !refreshed.has(d.id)) { refreshed.add(d.id); refresh(); }
    } else if (!row && d.kind === "billing.run") {
      refresh(); // started elsewhere (another tab, the API), or the list was older than the run: show it
    }
    apply(d.id);
  }

  // rows swapped in after their events arrived (the form's answer, a refresh) catch up at once
  document.body.addEventListener("htmx:afterSwap", () => {
    document.querySelectorAll("tr[data-run-job]").forEach((row) => apply(row.dataset.runJob));
    showLive();
  });

  let delay = 500;
  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    ws.onmessage = (m) => {
      let frame;
      try { frame = JSON.parse(m.data); } catch (e) { return; }
      for (const ev of Array.isArray(frame) ? frame : [frame]) { // several events may come as one array
        if (ev.type === "hello") {
          // subscribed from here on: fetch the list once, so nothing that finished meanwhile is missed
          live = true; delay = 500; showLive(); refresh();
          continue;
        }
        onEvent(ev);
      }
    };
    ws.onclose = () => {
      live = false; showLive();
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }
  showLive();
  connect();
})();
