// Maintenance page behaviour: live dashboard, diagnostics button, print, busy notices.
"use strict";
(function () {
  // The words come from the one catalogue (core.i18n), in the page's language (base.html).
  const texts = JSON.parse(document.getElementById("texts")?.textContent || '{"t": {}, "codes": {}}');
  const t = (key) => texts.t[key] ?? key;
  // Codes never reach a person raw: part names, health, clock and enrolment states in words.
  const word = (group, code) => (code == null || code === "" ? "—" : (texts.codes[group] || {})[code] ?? String(code).replace(/[_.]/g, " "));
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const st = (ok) => (ok === true ? '<span class="st st-ok">OK</span>' : ok === false ? '<span class="st st-fail">' + t("js.fail") + "</span>" : '<span class="st st-skip">—</span>');
  const dur = (s) => {
    if (s == null) return "—";
    s = Math.round(s);
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    return (d ? d + t("js.days") : "") + (h ? h + t("js.hours") : "") + m + t("js.minutes");
  };
  // Every time a person reads is the unit's local time, one format: "2026-12-03 10:43:39 WIB".
  const zone = document.body.dataset.zone || "Asia/Jakarta", zoneAbbr = document.body.dataset.zoneAbbr || "WIB";
  const when = (iso) => {
    if (!iso) return "—";
    const t = new Date(iso);
    if (isNaN(t)) return esc(iso);
    const p = Object.fromEntries(new Intl.DateTimeFormat("en-GB", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).formatToParts(t).map((x) => [x.type, x.value]));
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute + ":" + p.second + " " + zoneAbbr;
  };
  window.presensiWhen = when; // the employee page's finger list uses the same format
  window.presensiWord = word;
  window.presensiText = t;
  const dl = (pairs) => pairs.map(([k, v]) => "<dt>" + esc(k) + "</dt><dd>" + v + "</dd>").join("");

  async function refreshDashboard(root) {
    try {
      const r = await fetch(root.dataset.live, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (r.status === 401) { location.href = "/login?expired=1&next=/"; return; }
      const d = await r.json();
      document.getElementById("dash-loading").hidden = true;
      document.getElementById("dash-time").textContent = d.local_time + " " + d.zone;
      document.getElementById("d-unit").innerHTML = dl([
        [t("js.name"), esc(d.unit_name)], [t("js.machine_id"), esc(d.device_id)],
        [t("js.clock"), esc(word("clock", d.clock_state)) + (d.clock_offset_s != null ? " (" + d.clock_offset_s.toFixed(1) + " s)" : "")],
        [t("js.cpu_temperature"), d.cpu_temp_c != null ? d.cpu_temp_c.toFixed(1) + " °C" : "—"],
        [t("js.uptime"), dur(d.uptime_s)],
        [t("js.power"), d.under_voltage == null ? "—" : d.under_voltage ? '<span class="st st-fail">' + t("js.under_voltage") + "</span>" : '<span class="st st-ok">' + t("js.ok") + "</span>"],
        [t("js.database"), d.database.size_mb.toFixed(2) + " MB, " + (d.database.integrity_ok ? '<span class="st st-ok">' + t("js.intact") + "</span>" : '<span class="st st-fail">' + esc(d.database.integrity_message) + "</span>")],
        [t("js.disk"), d.disk ? d.disk.free_mb.toFixed(0) + " / " + d.disk.total_mb.toFixed(0) + t("js.mb_free") : "—"],
      ]);
      const s = d.sync;
      document.getElementById("d-sync").innerHTML = dl([
        [t("js.state"), s.online == null ? "—" : s.online ? '<span class="st st-ok">' + t("js.online") + "</span>" : '<span class="st st-fail">' + t("js.offline") + "</span>"],
        [t("js.unsent"), String(s.unsent)],
        [t("js.oldest_unsent"), s.oldest_unsent_age_s != null ? dur(s.oldest_unsent_age_s) : "—"],
        [t("js.last_sync"), when(s.last_sync_at)],
        [t("js.last_seq_acked"), s.last_seq + " / " + s.acked_seq],
      ]);
      const f = d.faces;
      document.getElementById("d-faces").innerHTML = f.enabled ? dl([
        [t("js.employees_recognised_face"), f.with_template + " / " + f.active],
        [t("js.without_face_template"), f.without_template ? '<span class="st st-warn">' + f.without_template + "</span>" : "0"],
        [t("js.need_re_enrolment_other"), f.other_embedder_only ? '<span class="st st-warn">' + f.other_embedder_only + "</span>" : "0"],
        [t("js.lookalike_pairs_card_then"), f.lookalike_pairs ? '<span class="st st-warn">' + f.lookalike_pairs + "</span> " + esc(f.lookalikes.join(", ")) : "0"],
        [t("js.face_model"), esc(f.embedder)],
      ]) : dl([[t("js.face_punching"), t("js.off")]]);
      document.getElementById("d-server").innerHTML = "<tr><th>" + t("js.step") + "</th><th></th><th>" + t("js.detail") + "</th></tr>" +
        d.server.map((p) => "<tr><td>" + esc(p.step.toUpperCase()) + "</td><td>" + st(p.ok) + "</td><td>" + esc(p.detail) + (p.ms != null ? " (" + p.ms + " ms)" : "") + "</td></tr>").join("");
      document.getElementById("d-net").innerHTML = "<tr><th>" + t("js.interface") + "</th><th>" + t("js.link") + "</th><th>IP</th></tr>" +
        d.interfaces.map((i) => "<tr><td>" + esc(i.name) + (i.wireless ? " (Wi-Fi)" : "") + "</td><td>" + st(i.up && i.carrier !== false) + "</td><td>" + esc(i.addresses.join(", ") || "—") + "</td></tr>").join("") +
        "<tr><td>" + t("js.gateway") + "</td><td></td><td>" + esc(d.gateway || "—") + "</td></tr>";
      document.getElementById("d-parts").innerHTML = "<tr><th>" + t("js.part") + "</th><th>Status</th><th>" + t("js.detail") + "</th><th>" + t("js.last_error") + "</th><th>" + t("js.updated") + "</th></tr>" +
        (d.parts.length ? d.parts.map((p) => "<tr><td>" + esc(word("part", p.part)) + "</td><td>" + (p.stale ? '<span class="st st-fail">' + t("js.not_answering") + "</span>" : '<span class="st st-' + esc(p.status) + '">' + esc(word("health", p.status)) + "</span>") + "</td><td>" + esc(p.detail) +
          Object.entries(p.metrics).map(([k, v]) => " · " + esc(word("metric", k)) + ": " + esc(v)).join("") + "</td><td><code>" + esc(p.last_error || "") + "</code>" + (p.last_error_at ? " (" + when(p.last_error_at) + ")" : "") + "</td><td>" + when(p.updated_at) + "</td></tr>").join("")
          : "<tr><td colspan=5>" + t("js.no_service_has_reported") + "</td></tr>");
      root.dataset.loaded = "1";
    } catch (e) {
      document.getElementById("dash-loading").textContent = t("js.could_not_load") + e;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const dash = document.getElementById("dashboard");
    if (dash) { refreshDashboard(dash); setInterval(() => refreshDashboard(dash), 5000); }

    const run = document.getElementById("run-diagnostics");
    if (run) run.addEventListener("click", async () => {
      run.disabled = true;
      const summary = document.getElementById("diag-summary");
      summary.textContent = t("js.checking");
      try {
        const r = await fetch("/api/diagnostics", { method: "POST", headers: { "X-CSRF-Token": csrf, Accept: "application/json" }, credentials: "same-origin" });
        const d = await r.json();
        summary.textContent = d.summary;
        document.getElementById("diag-answers").innerHTML = d.answers.map((a) =>
          '<li><span class="st st-' + esc(a.status) + '">' + esc(word("health", a.status)) + "</span> " + esc(a.say) + (a.todo ? '<span class="todo">→ ' + esc(a.todo) + "</span>" : "") + "</li>").join("");
        summary.dataset.done = "1";
      } catch (e) { summary.textContent = String(e); }
      run.disabled = false;
    });

    const print = document.getElementById("print");
    if (print) print.addEventListener("click", () => window.print());

    document.querySelectorAll("form[data-busy]").forEach((f) => f.addEventListener("submit", () => {
      const busy = document.getElementById("busy");
      if (busy) { busy.textContent = f.dataset.busy; busy.hidden = false; }
    }));
  });
})();
