// Maintenance page behaviour: live dashboard, diagnostics button, print, busy notices.
"use strict";
(function () {
  const lang = document.body.dataset.lang || "id";
  const tr = (id, en) => (lang === "en" ? en : id);
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const st = (ok) => (ok === true ? '<span class="st st-ok">OK</span>' : ok === false ? '<span class="st st-fail">' + tr("GAGAL", "FAIL") + "</span>" : '<span class="st st-skip">—</span>');
  const dur = (s) => {
    if (s == null) return "—";
    s = Math.round(s);
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    return (d ? d + tr(" hari ", " d ") : "") + (h ? h + tr(" jam ", " h ") : "") + m + tr(" menit", " min");
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
  // Codes never reach a person raw: part names, health states and clock states in words.
  const WORDS = {
    camera: ["Kamera", "Camera"], card_reader: ["Pembaca kartu", "Card reader"], fingerprint: ["Sidik jari", "Fingerprint"],
    face: ["Wajah", "Face"], sync: ["Sinkronisasi", "Sync"], gpio: ["Lampu dan bel", "Lights and buzzer"], web: ["Halaman web", "Web pages"],
    bridge: ["Modul sidik jari", "Fingerprint module"], targets: ["Server tambahan", "Other servers"], zk4370: ["Port 4370", "Port 4370"],
    ok: ["baik", "OK"], warn: ["peringatan", "warning"], fail: ["gagal", "failed"],
    synced: ["tersinkron", "synchronised"], rtc: ["dari RTC", "from the RTC"], unsynced: ["belum tersinkron", "not synchronised"],
  };
  const word = (code) => (WORDS[code] ? WORDS[code][lang === "en" ? 1 : 0] : code);
  const dl = (pairs) => pairs.map(([k, v]) => "<dt>" + esc(k) + "</dt><dd>" + v + "</dd>").join("");

  async function refreshDashboard(root) {
    try {
      const r = await fetch(root.dataset.live, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (r.status === 401) { location.href = "/login?expired=1&next=/"; return; }
      const d = await r.json();
      document.getElementById("dash-loading").hidden = true;
      document.getElementById("dash-time").textContent = d.local_time + " " + d.zone;
      document.getElementById("d-unit").innerHTML = dl([
        [tr("Nama", "Name"), esc(d.unit_name)], [tr("Nomor mesin", "Machine id"), esc(d.device_id)],
        [tr("Jam", "Clock"), esc(word(d.clock_state)) + (d.clock_offset_s != null ? " (" + d.clock_offset_s.toFixed(1) + " s)" : "")],
        [tr("Suhu CPU", "CPU temperature"), d.cpu_temp_c != null ? d.cpu_temp_c.toFixed(1) + " °C" : "—"],
        [tr("Menyala sejak", "Uptime"), dur(d.uptime_s)],
        [tr("Listrik", "Power"), d.under_voltage == null ? "—" : d.under_voltage ? '<span class="st st-fail">' + tr("tegangan kurang", "under-voltage") + "</span>" : '<span class="st st-ok">' + tr("baik", "OK") + "</span>"],
        [tr("Basis data", "Database"), d.database.size_mb.toFixed(2) + " MB, " + (d.database.integrity_ok ? '<span class="st st-ok">' + tr("utuh", "intact") + "</span>" : '<span class="st st-fail">' + esc(d.database.integrity_message) + "</span>")],
        [tr("Disk", "Disk"), d.disk ? d.disk.free_mb.toFixed(0) + " / " + d.disk.total_mb.toFixed(0) + tr(" MB bebas", " MB free") : "—"],
      ]);
      const s = d.sync;
      document.getElementById("d-sync").innerHTML = dl([
        [tr("Status", "State"), s.online == null ? "—" : s.online ? '<span class="st st-ok">' + tr("daring", "online") + "</span>" : '<span class="st st-fail">' + tr("luring", "offline") + "</span>"],
        [tr("Belum terkirim", "Unsent"), String(s.unsent)],
        [tr("Tertua belum terkirim", "Oldest unsent"), s.oldest_unsent_age_s != null ? dur(s.oldest_unsent_age_s) : "—"],
        [tr("Sinkron terakhir", "Last sync"), when(s.last_sync_at)],
        [tr("Nomor terakhir / diterima", "Last seq / acked"), s.last_seq + " / " + s.acked_seq],
      ]);
      const f = d.faces;
      document.getElementById("d-faces").innerHTML = f.enabled ? dl([
        [tr("Pegawai dikenali wajahnya", "Employees recognised by face"), f.with_template + " / " + f.active],
        [tr("Tanpa templat wajah", "Without a face template"), f.without_template ? '<span class="st st-warn">' + f.without_template + "</span>" : "0"],
        [tr("Perlu daftar ulang (model lain)", "Need re-enrolment (other model)"), f.other_embedder_only ? '<span class="st st-warn">' + f.other_embedder_only + "</span>" : "0"],
        [tr("Pasangan mirip (kartu lalu wajah)", "Lookalike pairs (card then face)"), f.lookalike_pairs ? '<span class="st st-warn">' + f.lookalike_pairs + "</span> " + esc(f.lookalikes.join(", ")) : "0"],
        [tr("Model wajah", "Face model"), esc(f.embedder)],
      ]) : dl([[tr("Presensi wajah", "Face punching"), tr("mati", "off")]]);
      document.getElementById("d-server").innerHTML = "<tr><th>" + tr("Langkah", "Step") + "</th><th></th><th>" + tr("Keterangan", "Detail") + "</th></tr>" +
        d.server.map((p) => "<tr><td>" + esc(p.step.toUpperCase()) + "</td><td>" + st(p.ok) + "</td><td>" + esc(p.detail) + (p.ms != null ? " (" + p.ms + " ms)" : "") + "</td></tr>").join("");
      document.getElementById("d-net").innerHTML = "<tr><th>" + tr("Antarmuka", "Interface") + "</th><th>Link</th><th>IP</th></tr>" +
        d.interfaces.map((i) => "<tr><td>" + esc(i.name) + (i.wireless ? " (Wi-Fi)" : "") + "</td><td>" + st(i.up && i.carrier !== false) + "</td><td>" + esc(i.addresses.join(", ") || "—") + "</td></tr>").join("") +
        "<tr><td>gateway</td><td></td><td>" + esc(d.gateway || "—") + "</td></tr>";
      document.getElementById("d-parts").innerHTML = "<tr><th>" + tr("Bagian", "Part") + "</th><th>Status</th><th>" + tr("Keterangan", "Detail") + "</th><th>" + tr("Kesalahan terakhir", "Last error") + "</th><th>" + tr("Diperbarui", "Updated") + "</th></tr>" +
        (d.parts.length ? d.parts.map((p) => "<tr><td>" + esc(word(p.part)) + "</td><td>" + (p.stale ? '<span class="st st-fail">' + tr("tidak menjawab", "not answering") + "</span>" : '<span class="st st-' + esc(p.status) + '">' + esc(word(p.status)) + "</span>") + "</td><td>" + esc(p.detail) +
          Object.entries(p.metrics).map(([k, v]) => " · " + esc(k) + "=" + esc(v)).join("") + "</td><td>" + esc(p.last_error || "") + (p.last_error_at ? " (" + when(p.last_error_at) + ")" : "") + "</td><td>" + when(p.updated_at) + "</td></tr>").join("")
          : "<tr><td colspan=5>" + tr("Belum ada laporan kesehatan dari layanan.", "No service has reported yet.") + "</td></tr>");
      root.dataset.loaded = "1";
    } catch (e) {
      document.getElementById("dash-loading").textContent = tr("Gagal memuat: ", "Could not load: ") + e;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const dash = document.getElementById("dashboard");
    if (dash) { refreshDashboard(dash); setInterval(() => refreshDashboard(dash), 5000); }

    const run = document.getElementById("run-diagnostics");
    if (run) run.addEventListener("click", async () => {
      run.disabled = true;
      const summary = document.getElementById("diag-summary");
      summary.textContent = tr("Memeriksa…", "Checking…");
      try {
        const r = await fetch("/api/diagnostics", { method: "POST", headers: { "X-CSRF-Token": csrf, Accept: "application/json" }, credentials: "same-origin" });
        const d = await r.json();
        summary.textContent = d.summary;
        document.getElementById("diag-answers").innerHTML = d.answers.map((a) =>
          '<li><span class="st st-' + esc(a.status) + '">' + esc(a.status.toUpperCase()) + "</span> " + esc(a.say) + (a.todo ? '<span class="todo">→ ' + esc(a.todo) + "</span>" : "") + "</li>").join("");
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
