// Live updates for staff pages: one WebSocket per tab, reconnecting with backoff.
(function () {
  "use strict";
  const STATUS = { queued: "В очереди", running: "Выполняется", done: "Выполнено", failed: "Ошибка" };
  const statusDot = document.getElementById("live-status");
  if (!statusDot) return; // login page

  function logEvent(ev) {
    const list = document.getElementById("events");
    if (!list) return;
    const li = document.createElement("li");
    const t = new Date((ev.ts || Date.now() / 1000) * 1000).toLocaleTimeString("ru-RU");
    li.textContent = `${t} #${ev.seq ?? ""} ${ev.type} ${JSON.stringify(ev.data || {})}`;
    list.prepend(li);
    while (list.children.length > 100) list.lastChild.remove();
  }

  function jobRow(id, title, createdAt) {
    let row = document.querySelector(`tr[data-job-id="${id}"]`);
    const body = document.querySelector("#jobs tbody");
    if (!row && body) {
      body.querySelector("tr.empty")?.remove();
      row = document.createElement("tr");
      row.dataset.jobId = id;
      row.innerHTML = '<td class="title"></td><td class="status"></td>' +
        '<td><progress max="100" value="0"></progress> <span class="pct">0%</span></td><td></td>';
      row.querySelector(".title").textContent = title || id;
      const created = createdAt ? new Date(createdAt) : new Date();
      row.lastElementChild.textContent = created.toLocaleString("ru-RU", { day: "2-digit", month: "2-digit",
        year: "numeric", hour: "2-digit", minute: "2-digit" }).replace(",", "");
      body.prepend(row);
    }
    return row;
  }

  function onEvent(ev) {
    logEvent(ev);
    if (!ev.type || !ev.type.startsWith("job.")) return;
    const d = ev.data || {};
    const row = jobRow(d.id, d.title);
    if (!row) return;
    const state = { "job.queued": "queued", "job.started": "running", "job.progress": "running",
                    "job.finished": "done", "job.failed": "failed" }[ev.type];
    row.querySelector(".status").textContent = STATUS[state] || state;
    const pct = ev.type === "job.finished" ? 100 : d.progress;
    if (pct !== undefined) {
      row.querySelector("progress").value = pct;
      row.querySelector(".pct").textContent = Math.round(pct) + "%";
    }
  }

  // The tab's one socket, shared by page scripts: Aquabill.live.on(fn) gets every event, in order.
  // A reconnect resumes with ?since=<last seq> (the server replays what was missed); a "reset" means
  // the gap is gone and listeners reload their state (they get {type: "reset"} too).
  const listeners = [onEvent];
  let delay = 500, lastSeq = null, helloSeq = null, socket = null;
  const live = {
    on(fn) { listeners.push(fn); },
    send(obj) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(obj)); },
    get connected() { return !!socket && socket.readyState === 1; },
  };
  window.Aquabill = Object.assign(window.Aquabill || {}, { live });
  function dispatch(ev) {
    if (typeof ev.seq === "number" && ev.type !== "hello" && ev.type !== "reset") {
      if (lastSeq !== null && ev.seq <= lastSeq) return; // had it already
      lastSeq = ev.seq;
    }
    if (ev.type === "hello") statusDot.dataset.subscribed = "1"; // the server delivers this tab's events from here
    if (ev.type === "hello" && lastSeq === null) helloSeq = ev.seq ?? null;
    if (ev.type === "reset") lastSeq = ev.seq ?? lastSeq;
    for (const fn of listeners) { try { fn(ev); } catch (e) { console.error(e); } }
  }
  function connect() {
    const from = lastSeq ?? helloSeq;
    const since = from === null ? "" : "?since=" + from;
    socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws" + since);
    socket.onopen = () => { statusDot.className = "live on"; delay = 500; };
    socket.onmessage = (m) => {
      let frame;
      try { frame = JSON.parse(m.data); } catch (e) { console.error(e); return; }
      for (const ev of Array.isArray(frame) ? frame : [frame]) dispatch(ev);
    };
    socket.onclose = () => { statusDot.className = "live off"; delete statusDot.dataset.subscribed; setTimeout(connect, delay); delay = Math.min(delay * 2, 15000); };
  }
  connect();

  document.querySelectorAll("button[data-kind]").forEach((btn) => {
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      try {
        const r = await fetch("/api/jobs", { method: "POST", headers: { "Content-Type": "application/json" },
                                             body: JSON.stringify({ kind: btn.dataset.kind, params: {} }) });
        const j = await r.json();
        if (!r.ok) { alert(j.error?.message || "Ошибка"); return; }
        jobRow(j.id, j.title, j.created_at);
      } finally { btn.disabled = false; }
    });
  });
})();
