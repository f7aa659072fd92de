// A campaign's page: counts per channel and status follow the campaign job's `notifications.progress` events
// over the tab's WebSocket (Aquabill.live, app.js); when the job ends the live part and the recipients are
// fetched again. While the socket is down the live part polls itself (hx-trigger in live.html).
(function () {
  "use strict";
  const box = () => document.getElementById("campaign-live");
  if (!box() || !window.Aquabill) return;
  const campaign = Number(box().dataset.campaign);
  let groups = {};
  try { groups = JSON.parse(document.getElementById("campaign-groups").textContent); } catch (e) { groups = {}; }
  let statuses = {};
  try { statuses = JSON.parse(document.getElementById("campaign-names").textContent).statuses || {}; } catch (e) { statuses = {}; }

  // "Автообзвон: прослушано 25 · занято 1 · нет ответа 1" — a channel's final statuses, as live.html renders them
  function outcomes(channel, per) {
    const li = document.querySelector(`[data-outcomes="${CSS.escape(channel)}"]`);
    if (!li) return;
    const head = li.querySelector(".ch");
    li.replaceChildren(head || "");
    const parts = Object.keys(statuses).filter((s) => s !== "pending" && s !== "sending" && per[s]);
    if (!parts.length) {
      const none = document.createElement("span");
      none.className = "muted";
      none.textContent = "пока нет итогов";
      li.append(" ", none);
      return;
    }
    parts.forEach((s, i) => {
      const b = document.createElement("b");
      b.textContent = per[s];
      li.append(` ${statuses[s].toLowerCase()} `, b, i < parts.length - 1 ? " · " : "");
    });
  }

  function note(text) {
    const el = document.getElementById("campaign-live-note");
    if (el) el.textContent = text;
  }

  function apply(counts) {
    const totals = {};
    for (const [channel, per] of Object.entries(counts || {})) {
      outcomes(channel, per);
      for (const [group, statuses] of Object.entries(groups)) {
        const n = statuses.reduce((sum, s) => sum + (per[s] || 0), 0);
        totals[group] = (totals[group] || 0) + n;
        const cell = document.querySelector(`[data-cell="${CSS.escape(channel + ":" + group)}"]`);
        if (cell) cell.textContent = n;
      }
    }
    for (const [group, n] of Object.entries(totals)) {
      const cell = document.querySelector(`[data-cell="${CSS.escape(":" + group)}"]`);
      if (cell) cell.textContent = n;
    }
    const all = Object.values(totals).reduce((a, b) => a + b, 0);
    const open = (totals.queued || 0) + (totals.sending || 0);
    const bar = document.getElementById("campaign-progress");
    if (bar) { bar.max = all || 1; bar.value = all - open; }
    const text = document.getElementById("campaign-progress-text");
    if (text) text.textContent = `${all - open} из ${all}`;
    const done = document.querySelector('[data-total="done"]');
    if (done) done.textContent = totals.done || 0;
    const inWork = document.querySelector('[data-total="open"]');
    if (inWork) inWork.textContent = open;
  }

  let timer = null;
  function refresh() {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      if (!window.htmx) return;
      htmx.trigger(document.body, "campaign-refresh");
      const rec = document.getElementById("campaign-recipients");
      const form = rec && rec.querySelector("form");
      if (form) htmx.trigger(form, "submit");
    }, 200);
  }

  Aquabill.live.on((ev) => {
    if (ev.type === "hello") { note("· обновляется в реальном времени"); refresh(); return; }
    const d = ev.data || {};
    if (ev.type === "notifications.progress" && Number(d.campaign_id) === campaign) {
      apply(d.counts);
      note("· обновляется в реальном времени");
    } else if ((ev.type === "job.finished" || ev.type === "job.failed" || ev.type === "job.started")
               && (!d.kind || d.kind === "notifications.campaign")) {
      refresh();
    }
  });
  note(Aquabill.live.connected ? "· обновляется в реальном времени" : "");
})();
