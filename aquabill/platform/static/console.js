// The agent's live console: lists from the API, kept live from the tab's WebSocket (app.js's bus).
(function () {
  "use strict";
  const root = document.getElementById("console");
  if (!root || !window.Aquabill || !window.Aquabill.live) return;
  const STATUS = { online: "В сети", busy: "Занят", away: "Отошёл", offline: "Не в сети" };
  const CALL = { answered: "Отвечен", missed: "Пропущен", abandoned: "Брошен", in_progress: "Идёт", lost: "Связь с АТС потеряна" };
  const ringing = new Map(); // call id → caller, for the queue count and the banner
  let bannerCall = null;

  const $ = (id) => document.getElementById(id);
  const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const items = (j) => (Array.isArray(j) ? j : j.items || []);
  const time = (iso) => (iso ? new Date(iso).toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" }) : "");
  async function getJson(url) {
    try { const r = await fetch(url, { headers: { Accept: "application/json" } }); return r.ok ? r.json() : null; }
    catch (e) { return null; }
  }
  function fill(tbodyOrList, rows, emptyText, cols) {
    if (!tbodyOrList) return;
    tbodyOrList.innerHTML = rows.length ? rows.join("") :
      (cols ? `<tr class="empty"><td colspan="${cols}">${emptyText}</td></tr>` : `<li class="empty muted">${emptyText}</li>`);
  }
  function accountOf(d) { return d.account || (Array.isArray(d.accounts) && d.accounts.length === 1 ? d.accounts[0] : null); }
  function accountLink(a) { return a ? `<a href="/accounts/${a.id}">${esc(a.number)}</a>` : ""; }

  // ---- calls and the incoming call banner ----
  function callRow(c) {
    const a = accountOf(c) || (c.account_id ? { id: c.account_id, number: c.account_number || c.account_id } : null);
    return `<tr data-call-id="${esc(c.id ?? c.call_id)}"><td>${time(c.started_at)}</td><td>${esc(c.caller)}</td>` +
      `<td>${accountLink(a)}</td><td>${esc(c.agent_extension || "")}</td><td>${esc(CALL[c.status] || c.status || "")}</td></tr>`;
  }
  async function loadCalls() {
    const j = await getJson("/api/calls?limit=15");
    if (j) fill($("calls")?.querySelector("tbody"), items(j).map(callRow), "Звонков пока нет", 5);
  }
  function showQueue() { $("queue-count").textContent = ringing.size; }
  function showBanner(d) {
    bannerCall = d.call_id ?? d.id;
    $("call-caller").textContent = d.caller || "номер скрыт";
    $("call-queue").textContent = d.queue ? `очередь ${d.queue}` : "";
    const a = accountOf(d);
    const many = Array.isArray(d.accounts) && d.accounts.length > 1;
    $("call-account").innerHTML = a
      ? `Лицевой счёт ${accountLink(a)} · ${esc(a.holder || "")} · ${esc(a.address || "")}` +
        (a.debt !== undefined && a.debt !== null ? ` · долг ${esc(a.debt)} ₽` : "")
      : many ? "Номер найден у нескольких лицевых счетов: " + d.accounts.map(accountLink).join(", ")
             : '<span class="muted">Лицевой счёт по номеру не найден</span>';
    const appeal = $("call-appeal");
    if (appeal) appeal.href = `/appeals?call_id=${encodeURIComponent(bannerCall ?? "")}` + (a ? `&account_id=${a.id}` : "");
    $("call-banner").hidden = false;
  }
  function hideBanner(callId) { if (callId === undefined || callId === bannerCall) { $("call-banner").hidden = true; bannerCall = null; } }
  $("call-dismiss")?.addEventListener("click", () => hideBanner());

  // ---- requests with SLA countdowns ----
  function requestRow(r) {
    const deadline = r.phase_deadline || r.deadline || "";
    return `<tr data-deadline="${esc(deadline)}"><td><a href="/requests/${r.id}">${esc(r.number || r.id)}</a></td>` +
      `<td>${esc(r.address_text || r.address || "")}</td><td>${esc(r.phase_name || r.phase || "")}</td><td class="sla"></td></tr>`;
  }
  async function loadRequests() {
    const j = await getJson("/api/requests/my");
    if (j) fill($("my-requests")?.querySelector("tbody"), items(j).map(requestRow), "Назначенных заявок нет", 4);
    tick();
  }
  function tick() {
    document.querySelectorAll("#my-requests tr[data-deadline]").forEach((tr) => {
      const cell = tr.querySelector(".sla");
      if (!tr.dataset.deadline) { cell.textContent = "—"; return; }
      let s = Math.round((new Date(tr.dataset.deadline) - Date.now()) / 1000);
      const over = s < 0; s = Math.abs(s);
      const hms = `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
      cell.textContent = over ? `просрочено на ${hms}` : `осталось ${hms}`;
      tr.classList.toggle("overdue", over);
    });
  }
  setInterval(tick, 1000);

  // ---- appeals ----
  function appealItem(a) {
    return `<li><a href="/appeals/${a.id}">${esc(a.number || "№" + a.id)}</a> ${esc(a.subject || a.kind_name || a.kind || "")}` +
      ` <span class="muted">${esc(a.address || a.address_text || "")}</span></li>`;
  }
  async function loadAppeals() {
    const j = await getJson("/api/appeals?status=new&limit=15");
    if (j) fill($("new-appeals"), items(j).map(appealItem), "Новых обращений нет");
  }

  // ---- presence ----
  function presenceItem(p) {
    return `<li data-user-id="${p.user_id}"><span class="dot ${esc(p.status)}"></span> <span class="name">${esc(p.name || p.login)}</span>` +
      ` <span class="muted state">${esc(STATUS[p.status] || p.status)}</span></li>`;
  }
  async function loadPresence() {
    const j = await getJson("/api/console/presence");
    if (j) fill($("presence"), items(j).map(presenceItem), "Никого нет в сети");
  }
  function presenceChanged(p) {
    const list = $("presence");
    list.querySelector(".empty")?.remove();
    const old = list.querySelector(`li[data-user-id="${p.user_id}"]`);
    const tmp = document.createElement("ul"); tmp.innerHTML = presenceItem(p);
    if (old) old.replaceWith(tmp.firstChild); else list.append(tmp.firstChild);
    if (String(p.user_id) === root.dataset.userId && STATUS[p.status] && p.status !== "offline") $("my-status").value = p.status;
  }
  $("my-status").addEventListener("change", async (e) => {
    const r = await fetch("/api/console/presence", { method: "PUT", headers: { "Content-Type": "application/json" },
                                                     body: JSON.stringify({ status: e.target.value }) });
    if (!r.ok) alert("Не удалось сменить статус");
  });

  $("demo-call")?.addEventListener("click", async (e) => {
    e.target.disabled = true;
    try {
      const r = await fetch("/api/console/demo-call", { method: "POST", headers: { "Content-Type": "application/json" },
                                                        body: JSON.stringify({ answer: true }) });
      if (!r.ok) alert((await r.json()).error?.message || "Демо-АТС недоступна");
    } finally { setTimeout(() => { e.target.disabled = false; }, 6000); }
  });

  // ---- live ----
  window.Aquabill.live.on((ev) => {
    const d = ev.data || {};
    switch (ev.type) {
      case "hello": case "reset": loadCalls(); loadRequests(); loadAppeals(); loadPresence(); break;
      case "call.ringing": ringing.set(d.call_id ?? d.id, d); showQueue(); showBanner(d); loadCalls(); break;
      case "call.answered": ringing.delete(d.call_id ?? d.id); showQueue(); loadCalls(); break;
      case "call.ended": ringing.delete(d.call_id ?? d.id); showQueue(); hideBanner(d.call_id ?? d.id); loadCalls(); break;
      case "appeal.created": case "appeal.updated": loadAppeals(); break;
      case "presence.changed": presenceChanged(d); break;
      default: if (ev.type && ev.type.startsWith("request.")) loadRequests();
    }
  });
})();
