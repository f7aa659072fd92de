// Click-to-call from the account card and call-back from the calls journal: the PBX rings the operator's extension, then dials the subscriber
// (POST /api/calls/originate). The extension is remembered in this browser.
(function () {
  "use strict";
  document.querySelectorAll("form.click-to-call").forEach((form) => {
    const ext = form.querySelector("input[name=extension]");
    const out = form.querySelector(".call-result");
    ext.value = localStorage.getItem("aquabill.extension") || "";
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      localStorage.setItem("aquabill.extension", ext.value);
      out.textContent = "Соединяю…";
      const callback = form.dataset.callId; // a missed call called back, or an account called
      const r = await fetch(callback ? `/api/calls/${callback}/callback` : "/api/calls/originate", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(callback ? { extension: ext.value }
                                      : { extension: ext.value, account_id: Number(form.dataset.accountId) }) });
      const j = await r.json().catch(() => ({}));
      out.textContent = r.ok ? "Вызов отправлен на АТС: поднимите трубку" : (j.error?.message || "Не удалось позвонить");
    });
  });
})();
