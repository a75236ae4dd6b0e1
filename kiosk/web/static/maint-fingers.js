// Finger enrolment on the employee page: the form posts as usual (the answer comes when the
// bridge has finished); meanwhile this shows the bridge's prompts from /api/fingers/enrolment.
"use strict";
(function () {
  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("finger-form");
    if (!form) return;
    const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
    const employee = encodeURIComponent(form.dataset.employee);
    const box = document.getElementById("finger-progress");
    const prompt = document.getElementById("finger-prompt");
    const state = document.getElementById("finger-state");
    const step = document.getElementById("finger-step");
    const since = Number(form.dataset.since || "0"); // requests before this page was made are not shown
    let timer = null;

    async function poll() {
      try {
        const r = await fetch("/api/fingers/enrolment?employee_id=" + employee, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (r.ok) {
          const d = await r.json();
          if (d.found && d.id > since) {
            prompt.textContent = d.prompt;
            state.textContent = d.state;
            step.textContent = String(d.step);
            box.dataset.state = d.state;
          }
        }
      } catch (e) { /* the page is being replaced by the answer */ }
      timer = setTimeout(poll, 300);
    }

    form.addEventListener("submit", () => {
      document.getElementById("enrol-finger").disabled = true;
      box.hidden = false;
      if (timer === null) poll();
    });

    document.getElementById("finger-cancel").addEventListener("click", async () => {
      await fetch("/api/fingers/enrolment/cancel?employee_id=" + employee, { method: "POST", headers: { "X-CSRF-Token": csrf, Accept: "application/json" }, credentials: "same-origin" });
    });
  });
})();
