// The cashier's workstation (/cash): the change and the commission as the cashier types, the sum of the ticked
// dues lines, and the shift panel with its receipts refreshed live: on the tab's cash.receipt / cash.shift events
// (Aquabill.live, app.js) the panel is fetched again from /cash/live. While the socket is down and a receipt is
// still printing, the panel polls itself every 5 s.
(function () {
  "use strict";
  const box = document.getElementById("desk-live");

  // money as the cashier types it: "1 500,50" → kopecks (integer), NaN when it is not a sum
  function kopecks(text) {
    const t = String(text || "").replace(/[\s\u00a0\u202f]/g, "").replace(",", ".");
    if (!/^\d+(\.\d{0,2})?$/.test(t)) return NaN;
    const [r, k = ""] = t.split(".");
    return Number(r) * 100 + Number((k + "00").slice(0, 2));
  }
  function rub(k) {
    const sign = k < 0 ? "−" : "";
    k = Math.abs(k);
    const r = Math.floor(k / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
    return sign + r + "," + String(k % 100).padStart(2, "0");
  }
  function tenderSwitch(form) {
    const cash = form.querySelector('input[name="tender"][value="cash"]');
    const block = form.querySelector(".cash-only");
    if (!cash || !block) return;
    const sync = () => { block.hidden = !cash.checked; };
    form.querySelectorAll('input[name="tender"]').forEach((r) => r.addEventListener("change", sync));
    sync();
  }

  const sale = document.getElementById("sale-form");
  if (sale) {
    const amount = document.getElementById("sale-amount");
    const given = document.getElementById("sale-given");
    const change = document.getElementById("sale-change");
    const ticks = sale.querySelectorAll('input[name="lines"]');
    const mode = (v) => sale.querySelector(`input[name="pay"][value="${v}"]`);
    const recount = () => {
      const total = kopecks(amount.value), g = kopecks(given.value);
      change.textContent = given.value.trim() === "" || isNaN(total) || isNaN(g) ? "0,00" : rub(g - total);
      change.classList.toggle("short", !isNaN(total) && !isNaN(g) && g < total);
    };
    const fromTicks = () => {
      let sum = 0, any = false;
      ticks.forEach((t) => { if (t.checked) { sum += kopecks(t.dataset.amount); any = true; } });
      if (any) { mode("lines").checked = true; amount.value = rub(sum).replace(/\u202f/g, ""); amount.readOnly = true; }
      else { mode("amount").checked = true; amount.readOnly = false; }
      recount();
    };
    ticks.forEach((t) => t.addEventListener("change", fromTicks));
    mode("amount")?.addEventListener("change", () => { ticks.forEach((t) => { t.checked = false; }); amount.readOnly = false; });
    mode("lines")?.addEventListener("change", fromTicks);
    sale.querySelectorAll("button[data-fill]").forEach((b) => b.addEventListener("click", () => {
      ticks.forEach((t) => { t.checked = false; });
      mode("amount").checked = true; amount.readOnly = false;
      amount.value = b.dataset.fill; recount();
    }));
    amount.addEventListener("input", recount);
    given.addEventListener("input", recount);
    tenderSwitch(sale);
    sale.addEventListener("submit", () => { document.getElementById("sale-submit").disabled = true; });
    recount();
  }

  const service = document.getElementById("service-form");
  if (service) {
    const pick = document.getElementById("service-id");
    const amount = document.getElementById("service-amount");
    const given = document.getElementById("service-given");
    const recount = () => {
      const opt = pick.selectedOptions[0], a = kopecks(amount.value);
      const pct = Number(opt?.dataset.percent || 0), min = kopecks(opt?.dataset.min || "0");
      // the server's rule: percent of the sum, half-up to the kopeck, not below the minimum
      const fee = isNaN(a) ? 0 : (pct > 0 || min > 0 ? Math.max(Math.round(a * pct / 100), min) : 0);
      const total = isNaN(a) ? 0 : a + fee, g = kopecks(given.value);
      document.getElementById("service-fee").textContent = rub(fee);
      document.getElementById("service-total").textContent = rub(total);
      document.getElementById("service-change").textContent = isNaN(g) || given.value.trim() === "" ? "0,00" : rub(g - total);
    };
    [pick, amount, given].forEach((el) => el.addEventListener("input", recount));
    pick.addEventListener("change", recount);
    tenderSwitch(service);
    service.addEventListener("submit", () => { document.getElementById("service-submit").disabled = true; });
    recount();
  }

  if (!box) return;
  let inflight = null, again = false;
  async function refresh() {
    if (inflight) { again = true; return; }
    inflight = fetch("/cash/live?point=" + encodeURIComponent(box.dataset.point), { headers: { Accept: "text/html" } })
      .then((r) => (r.ok ? r.text() : null))
      .then((html) => { if (html !== null) box.innerHTML = html; })
      .catch(() => {})
      .finally(() => { inflight = null; if (again) { again = false; refresh(); } });
  }
  const shiftId = () => document.getElementById("desk-shift")?.dataset.shift || "";
  const live = window.Aquabill && window.Aquabill.live;
  if (live) {
    live.on((ev) => {
      if (ev.type === "reset") { refresh(); return; }
      if (ev.type !== "cash.receipt" && ev.type !== "cash.shift") return;
      const d = ev.data || {};
      // this point's shift, or a shift just opened here (the panel does not know its id yet)
      if (String(d.shift_id) === shiftId() || !shiftId() || ev.type === "cash.shift") refresh();
      // «the shift opens / closes…» is stale once the register has answered
      const notice = document.getElementById("desk-notice");
      if (ev.type === "cash.shift" && notice && /^Смена (открывается|закрывается)/.test(notice.textContent)) notice.remove();
    });
  }
  setInterval(() => {
    const panel = document.getElementById("desk-shift");
    const waiting = panel && (panel.dataset.printing !== "0" || ["opening", "closing"].includes(panel.dataset.status));
    if (waiting && !(live && live.connected)) refresh();
  }, 5000);
})();
