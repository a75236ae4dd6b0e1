// Finger enrolment on the employee page: asks the bridge through /api/fingers/enrolment (POST,
// answered when the bridge has finished) and meanwhile shows the bridge's prompts (GET).
// Without scripts the form posts as usual and the page answers at the end.
"use strict";
(function () {
  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("finger-form");
    if (!form) return;
    const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
    const employee = encodeURIComponent(form.dataset.employee);
    const api = "/api/fingers/enrolment?employee_id=" + employee;
    const button = document.getElementById("enrol-finger");
    const box = document.getElementById("finger-progress");
    const prompt = document.getElementById("finger-prompt");
    const state = document.getElementById("finger-state");
    const step = document.getElementById("finger-step");
    const result = document.getElementById("finger-result");
    const list = document.getElementById("fingers");
    const stateText = (s) => window.presensiWord("enrol_state", s); // the catalogue's words (maint.js)
    let since = Number(form.dataset.since || "0"); // requests made before this one are not shown
    let polling = false;

    async function poll() {
      if (!polling) return;
      try {
        const r = await fetch(api, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (r.status === 401) { location.href = "/login?expired=1"; return; }
        const d = await r.json();
        if (polling && d.found && d.id > since) {
          prompt.textContent = d.prompt;
          state.textContent = stateText(d.state);
          step.textContent = String(d.step);
          box.dataset.state = d.state;
        }
      } catch (e) { /* try again on the next tick */ }
      if (polling) setTimeout(poll, 300);
    }

    function show(ok, text) {
      result.textContent = text;
      result.className = "msg " + (ok ? "ok" : "bad");
      result.hidden = false;
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const finger = document.getElementById("finger").value;
      button.disabled = true;
      result.hidden = true;
      prompt.textContent = window.presensiText("js.contacting_fingerprint_module");
      box.hidden = false;
      polling = true;
      poll();
      try {
        const r = await fetch(api + "&finger=" + encodeURIComponent(finger), { method: "POST", headers: { "X-CSRF-Token": csrf, Accept: "application/json" }, credentials: "same-origin" });
        if (r.status === 401) { location.href = "/login?expired=1"; return; }
        const d = await r.json();
        show(d.ok, d.message);
        if (d.fingers && d.fingers.length) {
          list.replaceChildren(...d.fingers.map((f) => {
            const li = document.createElement("li");
            li.textContent = f.name + " (" + f.finger + ") · " + f.family + " · " + (window.presensiWhen ? window.presensiWhen(f.created_at) : f.created_at);
            return li;
          }));
          const count = document.getElementById("fingers-count");
          if (count) count.textContent = String(d.fingers.length);
        }
      } catch (e) {
        show(false, String(e));
      } finally {
        polling = false;
        box.hidden = true;
        button.disabled = false;
        const last = await fetch(api, { credentials: "same-origin" }).then((r) => r.json()).catch(() => null);
        if (last && last.found) since = last.id;
      }
    });

    document.getElementById("finger-cancel").addEventListener("click", async () => {
      await fetch("/api/fingers/enrolment/cancel?employee_id=" + employee, { method: "POST", headers: { "X-CSRF-Token": csrf, Accept: "application/json" }, credentials: "same-origin" });
    });
  });
})();
