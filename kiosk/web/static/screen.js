// Kiosk screen: live decisions and prompts over Server-Sent Events, clock, status, beeps.
"use strict";
(function () {
  // The words come from the one catalogue (core.i18n), both languages, in the page.
  const T = JSON.parse(document.getElementById("texts").textContent);
  let lang = localStorage.getItem("presensi_lang") || document.body.dataset.lang || "id";
  let zone = "Asia/Jakarta", zoneAbbr = "WIB", offsetMs = 0, lastStatus = null, resetTimer = null, lastMessage = null;
  const $ = (id) => document.getElementById(id);
  const t = (k) => (T[lang] || T.id)["screen." + k];

  let audio = null;
  function beep(kind) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const notes = kind === "ok" ? [[880, 0, 0.12], [1320, 0.14, 0.16]] : kind === "warn" || kind === "info" ? [[880, 0, 0.2]] : [[330, 0, 0.25], [247, 0.3, 0.35]];
      for (const [f, at, len] of notes) {
        const o = audio.createOscillator(), g = audio.createGain();
        o.frequency.value = f; o.type = "sine"; g.gain.value = 0.25;
        o.connect(g); g.connect(audio.destination);
        o.start(audio.currentTime + at); o.stop(audio.currentTime + at + len);
      }
    } catch (e) { /* no audio device: the screen still shows the result */ }
  }

  function applyLang() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    $("lang").textContent = t("other");
    if (lastStatus) showStatus(lastStatus);
    if (lastMessage && lastMessage.type === "decision") showDecision(lastMessage, false);
  }

  function tick() {
    const now = new Date(Date.now() + offsetMs);
    try {
      $("clock").textContent = new Intl.DateTimeFormat("id-ID", { timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false }).format(now).replace(/\./g, ":");
    } catch (e) { $("clock").textContent = now.toISOString().slice(11, 19); }
    $("zone").textContent = zoneAbbr;
  }

  const idleKey = () => (lastStatus && lastStatus.camera === "missing" ? "idle_nocam" : "idle");

  function showStatus(s) {
    lastStatus = s;
    zone = s.zone; zoneAbbr = s.zone_abbr; offsetMs = s.now_ms - Date.now();
    $("unit").textContent = s.unit;
    const net = $("net");
    net.textContent = s.online === true ? t("online") : s.online === false ? t("offline") : t("unknown");
    net.className = "pill " + (s.online === true ? "on" : s.online === false ? "off" : "");
    $("unsent").textContent = s.unsent + " " + t("unsent");
    $("unsent").className = "pill" + (s.unsent > 0 && s.online === false ? " warn" : "");
    const nocam = s.camera === "missing";
    $("nocam").hidden = !nocam;
    if ($("preview")) $("preview").hidden = nocam;
    const head = $("r-headline");
    if (head.dataset.i18n === "idle" || head.dataset.i18n === "idle_nocam") {
      head.setAttribute("data-i18n", idleKey()); head.textContent = t(idleKey());
    }
    const cs = $("clockstate");
    cs.hidden = s.clock_state === "synced";
    cs.textContent = s.clock_wrong ? t("clock_wrong") : s.clock_state === "rtc" ? t("clock_rtc") : t("clock_unsynced");
    cs.title = s.clock_detail || "";
    cs.className = "pill " + (s.clock_state === "unsynced" ? "off" : "warn");
    const banner = $("banner");
    if (s.event) { banner.hidden = false; banner.textContent = s.event.title + (s.event.location ? " — " + s.event.location : ""); }
    else banner.hidden = true;
    const setup = $("setup");
    setup.hidden = !s.setup_code;
    if (s.setup_code) {
      $("setup-code").textContent = s.setup_code;
      $("maint-url").textContent = s.maintenance_url || "";
      $("tls-fp").textContent = s.tls_fingerprint || "";
    }
    const fp = $("fp");
    fp.hidden = !!s.setup_code || !s.tls_fingerprint;
    fp.textContent = (s.maintenance_url || "") + (s.tls_fingerprint ? " · SHA-256 " + s.tls_fingerprint : "");
    tick();
  }

  function showDecision(m, fresh) {
    const r = $("result");
    r.className = "result " + m.tone;
    $("r-name").textContent = m.name || "";
    $("r-headline").textContent = m.headline[lang] || m.headline.id;
    $("r-headline").removeAttribute("data-i18n");
    $("r-time").textContent = m.accepted ? m.time + " " + m.zone : "";
    $("prompt").hidden = true;
    if (fresh) {
      beep(m.tone);
      clearTimeout(resetTimer);
      resetTimer = setTimeout(() => {
        r.className = "result idle"; $("r-name").textContent = ""; $("r-time").textContent = "";
        $("r-headline").setAttribute("data-i18n", idleKey()); $("r-headline").textContent = t(idleKey()); lastMessage = null;
      }, 6000);
    }
  }

  function connect() {
    const es = new EventSource("/live");
    es.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (m.type === "status") showStatus(m);
      else if (m.type === "decision") { lastMessage = m; showDecision(m, true); }
      else if (m.type === "prompt") {
        const p = $("prompt");
        p.textContent = m.text[lang] || m.text.id;
        // the challenge: an arrow to the side asked, moving that way (the person's own left is the screen's left)
        p.className = "prompt" + (m.code === "turn_left" ? " turn-left" : m.code === "turn_right" ? " turn-right" : "") + (m.challenge ? " challenge" : "");
        p.hidden = false;
      }
    };
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("lang").addEventListener("click", () => { lang = lang === "id" ? "en" : "id"; localStorage.setItem("presensi_lang", lang); applyLang(); });
    const params = new URLSearchParams(location.search);
    if (params.get("lang")) lang = params.get("lang");
    applyLang();
    setInterval(tick, 500);
    connect();
    document.body.dataset.ready = "1";
  });
})();
