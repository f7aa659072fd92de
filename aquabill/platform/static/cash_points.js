// Cash points pages: the agents' state follows the tab's WebSocket (Aquabill.live, app.js) — `edge.agent` (online,
// offline, enrolled), `edge.command` (a command sent, acked, done, failed) and `cash.*` (shifts, receipts) events
// for the agents shown fetch that part again. While the socket is down the part is fetched every 5 s instead.
(function () {
  "use strict";
  const detail = document.getElementById("point-agents");
  const list = document.getElementById("cash-points");
  if (!detail && !list) return;

  function shownAgents() {
    const ids = new Set();
    document.querySelectorAll("[data-agents]").forEach((el) => {
      (el.dataset.agents || "").split(",").filter(Boolean).forEach((id) => ids.add(Number(id)));
    });
    return ids;
  }

  let timer = null;
  function refresh() {
    if (timer || !window.htmx) return;
    timer = setTimeout(() => {
      timer = null;
      if (detail) {
        htmx.ajax("GET", `/cash/points/${detail.dataset.pointId}/agents${location.search}`,
                  { target: "#point-agents", swap: "innerHTML" }).then(showLive);
      } else {
        htmx.ajax("GET", location.pathname + location.search,
                  { target: "#cash-points", select: "#cash-points", swap: "outerHTML" });
      }
    }, 300);
  }

  let live = false;
  function showLive() {
    const el = document.getElementById("agents-live");
    if (el) el.textContent = live ? "· обновляется в реальном времени" : "· обновляется раз в 5 с";
  }

  function concerns(ev) {
    if (!ev.type) return false;
    if (ev.type.startsWith("cash.")) return true;
    if (ev.type !== "edge.agent" && ev.type !== "edge.command") return false;
    const id = ev.data && ev.data.agent_id;
    // an agent enrolled or added elsewhere shows up on the list; on a point's page only its own agents count
    return shownAgents().has(id) || (!detail && ev.type === "edge.agent");
  }

  function onLive(ev) {
    if (ev.type === "hello") { live = true; showLive(); refresh(); return; }
    if (ev.type === "reset" || concerns(ev)) refresh();
  }

  if (window.Aquabill && window.Aquabill.live) {
    window.Aquabill.live.on(onLive);
    const dot = document.getElementById("live-status");
    live = !!(dot && dot.dataset.subscribed);
  }
  showLive();
  setInterval(() => {
    const connected = !!(window.Aquabill && window.Aquabill.live && window.Aquabill.live.connected);
    if (live && !connected) { live = false; showLive(); }
    if (!connected) refresh();
  }, 5000);
})();
