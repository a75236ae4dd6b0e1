// Face enrolment from the kiosk camera: while the page waits for the face service, show what the
// kiosk screen tells the person in front of the camera (quality prompts, liveness challenge,
// "Pendaftaran wajah: 2 dari 3 — tahan"), polled from /api/face/prompt.
(() => {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("face-form");
    const shown = document.getElementById("face-prompt");
    if (!form || !shown) return;
    form.addEventListener("submit", () => {
      const poll = async () => {
        try {
          const r = await fetch("/api/face/prompt", { credentials: "same-origin", headers: { Accept: "application/json" } });
          if (r.ok) {
            const { prompt } = await r.json();
            if (prompt) { shown.textContent = prompt; shown.hidden = false; }
          }
        } catch (e) { /* the page is being replaced by the answer */ }
        window.setTimeout(poll, 400);
      };
      window.setTimeout(poll, 200);
    });
  });
})();
