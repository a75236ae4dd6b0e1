"""One message catalogue: every text a person reads, keyed, Bahasa Indonesia first, English second.

The kiosk screen, the maintenance pages (:mod:`kiosk.web`), the central server's pages and its
back office (:mod:`sync.server`) and the codes they show (parts, methods, kinds, statuses, roles,
audit actions) read their words here, by key::

    text("nav.dashboard", "en")             -> "Dashboard"
    both("screen.reason.unknown_card")      -> {"id": "Kartu tidak terdaftar", "en": "Card not registered"}
    word("method", "card", "id")            -> "kartu"

A table rather than gettext/Babel: there are two languages, both written by the same people
who write the code; the pages' scripts need the same words as JSON (:func:`for_client`), which a
dict gives for free and a compiled ``.mo`` does not; nothing has to be extracted, compiled or
installed into the Raspberry Pi image; and a test can read every text of one language to find
a word of the other on a page (:func:`vocabulary`). A missing key is a :class:`KeyError`, so a
page that asks for a text nobody wrote fails its test instead of showing the key.

Templates get ``t(key, **values)`` and ``word(group, code)`` bound to the request's language;
``{name}`` placeholders are filled with :meth:`str.format`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

LANGS = ("id", "en")
DEFAULT_LANG = "id"
#: The cookie that holds a person's choice on the maintenance pages and the server's pages.
LANG_COOKIE = "presensi_lang"

Pair = tuple[str, str]

#: Texts by key: (Bahasa Indonesia, English).
MESSAGES: dict[str, Pair] = {
    # --- the kiosk screen (kiosk/web/screen, screen.js) ---
    "screen.idle": (
        "Silakan lihat ke kamera, tempelkan kartu, atau letakkan jari",
        "Look at the camera, tap your card or place your finger",
    ),
    "screen.idle_nocam": ("Silakan tempelkan kartu atau letakkan jari", "Tap your card or place your finger"),
    "screen.online": ("Daring", "Online"),
    "screen.offline": ("Luring", "Offline"),
    "screen.unknown": ("Jaringan ?", "Network ?"),
    "screen.unsent": ("belum terkirim", "unsent"),
    "screen.setup": ("Kode penyiapan halaman pemeliharaan:", "Maintenance page setup code:"),
    "screen.nocam": ("Kamera tidak tersedia", "Camera not available"),
    "screen.nocam_todo": ("Silakan tempelkan kartu atau letakkan jari.", "Please tap your card or place your finger."),
    "screen.clock_rtc": ("Jam: dari baterai RTC", "Clock: from the battery RTC"),
    "screen.clock_unsynced": ("Jam belum tersinkron", "Clock not synchronised"),
    "screen.clock_wrong": ("Jam perangkat salah — hubungi teknisi", "Device clock is wrong — call a technician"),
    "screen.other": ("EN", "ID"),
    "screen.kind.masuk": ("Masuk", "Check-in"),
    "screen.kind.pulang": ("Pulang", "Check-out"),
    "screen.kind.apel": ("Apel", "Flag ceremony"),
    "screen.kind.senam": ("Senam", "Morning exercise"),
    "screen.kind.tausiyah": ("Tausiyah", "Religious talk"),
    "screen.kind.lainnya": ("Hadir", "Present"),
    "screen.reason.unknown_face": ("Wajah tidak dikenali", "Face not recognised"),
    "screen.reason.unknown_card": ("Kartu tidak terdaftar", "Card not registered"),
    "screen.reason.finger_unknown": ("Sidik jari tidak dikenali", "Fingerprint not recognised"),
    "screen.reason.spoof": (
        "Wajah tidak dapat diverifikasi — tunjukkan wajah langsung",
        "Face could not be verified — show your own face",
    ),
    "screen.reason.duplicate": ("Sudah presensi", "Already recorded"),
    "screen.reason.clock": (
        "Jam perangkat belum tersinkron — hubungi teknisi",
        "Device clock not synchronised — call a technician",
    ),
    "screen.reason.storage": ("Penyimpanan bermasalah — hubungi teknisi", "Storage problem — call a technician"),
    "screen.reason.inactive": ("Pegawai tidak aktif", "Employee not active"),
    "screen.reason.policy": ("Tempelkan kartu, lalu lihat ke kamera", "Tap your card, then look at the camera"),
    "screen.reason.outside_window": ("Di luar jam presensi", "Outside attendance hours"),
    "screen.reason.sudah_masuk": ("Masuk hari ini sudah tercatat", "Today's clock-in is already recorded"),
    "screen.reason.sudah_pulang": ("Pulang hari ini sudah tercatat", "Today's clock-out is already recorded"),
    "screen.reason.error": ("Terjadi kesalahan — hubungi teknisi", "Something went wrong — call a technician"),
    "screen.prompt.move_closer": ("Mendekat ke kamera", "Come closer to the camera"),
    "screen.prompt.move_back": ("Mundur sedikit", "Step back a little"),
    "screen.prompt.too_dark": ("Terlalu gelap — menghadap ke cahaya", "Too dark — face the light"),
    "screen.prompt.too_bright": ("Terlalu terang", "Too bright"),
    "screen.prompt.blurry": ("Diam sebentar", "Hold still"),
    "screen.prompt.look_straight": ("Lihat lurus ke kamera", "Look straight at the camera"),
    "screen.prompt.hold_still": ("Tahan sebentar…", "Hold still…"),
    "screen.prompt.turn_left": ("Tolehkan kepala ke kiri", "Turn your head to the left"),
    "screen.prompt.turn_right": ("Tolehkan kepala ke kanan", "Turn your head to the right"),
    "screen.prompt.blink": ("Kedipkan mata", "Blink"),
    "screen.prompt.look_at_camera": ("Lihat ke kamera", "Look at the camera"),
    "screen.prompt.tap_card": ("Tempelkan kartu", "Tap your card"),
    "screen.prompt.place_finger": ("Letakkan jari", "Place your finger"),
    # --- the maintenance pages' scripts (kiosk/web/static/maint.js) ---
    "js.fail": ("GAGAL", "FAIL"),
    "js.days": (" hari ", " d "),
    "js.hours": (" jam ", " h "),
    "js.minutes": (" menit", " min"),
    "js.name": ("Nama", "Name"),
    "js.machine_id": ("Nomor mesin", "Machine id"),
    "js.clock": ("Jam", "Clock"),
    "js.cpu_temperature": ("Suhu CPU", "CPU temperature"),
    "js.uptime": ("Menyala sejak", "Uptime"),
    "js.power": ("Listrik", "Power"),
    "js.under_voltage": ("tegangan kurang", "under-voltage"),
    "js.ok": ("baik", "OK"),
    "js.database": ("Basis data", "Database"),
    "js.intact": ("utuh", "intact"),
    "js.disk": ("Disk", "Disk"),
    "js.mb_free": (" MB bebas", " MB free"),
    "js.state": ("Status", "State"),
    "js.online": ("daring", "online"),
    "js.offline": ("luring", "offline"),
    "js.unsent": ("Belum terkirim", "Unsent"),
    "js.oldest_unsent": ("Tertua belum terkirim", "Oldest unsent"),
    "js.last_sync": ("Sinkron terakhir", "Last sync"),
    "js.last_seq_acked": ("Nomor terakhir / diterima", "Last seq / acked"),
    "js.employees_recognised_face": ("Pegawai dikenali wajahnya", "Employees recognised by face"),
    "js.without_face_template": ("Tanpa templat wajah", "Without a face template"),
    "js.need_re_enrolment_other": ("Perlu daftar ulang (model lain)", "Need re-enrolment (other model)"),
    "js.lookalike_pairs_card_then": ("Pasangan mirip (kartu lalu wajah)", "Lookalike pairs (card then face)"),
    "js.face_model": ("Model wajah", "Face model"),
    "js.face_punching": ("Presensi wajah", "Face punching"),
    "js.off": ("mati", "off"),
    "js.step": ("Langkah", "Step"),
    "js.detail": ("Keterangan", "Detail"),
    "js.interface": ("Antarmuka", "Interface"),
    "js.part": ("Bagian", "Part"),
    "js.last_error": ("Kesalahan terakhir", "Last error"),
    "js.updated": ("Diperbarui", "Updated"),
    "js.not_answering": ("tidak menjawab", "not answering"),
    "js.no_service_has_reported": ("Belum ada laporan kesehatan dari layanan.", "No service has reported yet."),
    "js.could_not_load": ("Gagal memuat: ", "Could not load: "),
    "js.checking": ("Memeriksa…", "Checking…"),
    "js.contacting_fingerprint_module": ("Menghubungi pemindai sidik jari…", "Contacting the fingerprint module…"),
    # --- the maintenance pages (kiosk/web/templates) ---
    "page.forbidden": ("Akses ditolak", "Access denied"),
    "page.forbidden_role": ("Halaman ini hanya untuk peran {role}.", "This page needs the {role} role."),
    "page.csrf_expired": (
        "Formulir kedaluwarsa atau tidak sah (token CSRF). Muat ulang halaman.",
        "The form expired or is not valid (CSRF token). Reload the page.",
    ),
    "page.form_incomplete": ("Formulir belum lengkap", "Form incomplete"),
    "page.form_problems": (
        "Isian formulir belum lengkap atau tidak sah: {fields}. Periksa lalu kirim lagi.",
        "The form is incomplete or not valid: {fields}. Check it and send it again.",
    ),
    "page.confirm_restart": ("Mulai ulang layanan {unit}?", "Restart the service {unit}?"),
    "page.confirm_reboot": (
        "Nyalakan ulang perangkat? Presensi berhenti ±1 menit.",
        "Reboot the unit? Punching stops for about a minute.",
    ),
    "page.unknown_service": ("Layanan {unit} tidak dikenal.", "Unknown service {unit}."),
    "page.system_not_connected": ("Aksi sistem tidak tersambung.", "System actions are not connected."),
    "page.restarted": ("Layanan {unit} dimulai ulang.", "The service {unit} was restarted."),
    "page.rebooted": ("Perangkat dinyalakan ulang.", "The unit is rebooting."),
    "page.clock_already_synced": (
        "Jam sudah tersinkron; waktu tidak boleh diubah manual.",
        "The clock is synchronised; it may not be set by hand.",
    ),
    "page.clock_set": ("Jam disetel ke {time}.", "The clock was set to {time}."),
    "page.clock_state": ("Jam: {state}", "Clock: {state}"),
    "page.confirm_erase": (
        "Hapus semua templat wajah, sidik jari dan kartu {name} ({id})?",
        "Erase every face and finger template and card of {name} ({id})?",
    ),
    "page.erased": (
        "Dihapus: {faces} templat wajah, {fingers} templat sidik jari, {cards} kartu, {photos} foto bukti; pegawai dinonaktifkan.",
        "Erased: {faces} face templates, {fingers} finger templates, {cards} cards, {photos} evidence photos; the employee is deactivated.",
    ),
    "page.time_format": ("Format waktu salah (YYYY-MM-DD HH:MM:SS).", "Wrong time format (YYYY-MM-DD HH:MM:SS)."),
    "page.confirm_set_time": ("Setel jam ke {time}?", "Set the clock to {time}?"),
    "page.minutes": ("{n} menit", "{n} min"),
    "page.no_such_employee": ("Pegawai tidak ditemukan", "No such employee"),
    "page.yes": ("ya", "yes"),
    "doctor.no_rtc": (
        "tidak ada jam baterai (RTC): setelah listrik padam, unit bangun dengan waktu terakhir yang tersimpan",
        "no battery clock (RTC): after a power cut the unit wakes with the last saved time",
    ),
    "doctor.no_rtc_todo": (
        "pasang modul DS3231 dan aktifkan (docs/time.md), atau pastikan unit menjangkau NTP sebelum presensi",
        "fit a DS3231 module and enable it (docs/time.md), or make sure the unit reaches NTP before punching",
    ),
    "doctor.rtc_held": (
        "dijaga jam baterai {rtc}, sinkron NTP terakhir {since}",
        "held by the battery clock {rtc}, last NTP sync {since}",
    ),
    "doctor.rtc_held_todo": ("sambungkan jaringan agar NTP dapat mengoreksinya", "connect the network so NTP can correct it"),
    "doctor.unsynced_todo": (
        "sambungkan jaringan (NTP), atau setel waktu di halaman pemeliharaan",
        "connect the network (NTP), or set the time on the maintenance page",
    ),
    "doctor.rtc_present": ("jam baterai {rtc} terpasang", "battery clock {rtc} present"),
    "doctor.synced": ("tersinkron ({source})", "synchronised ({source})"),
    "refusal.unknown_key": (
        "kunci perangkat {key} tidak dikenal (daftarkan unit dulu)",
        "unknown device key {key} (provision the unit first)",
    ),
    "refusal.unknown_key_plain": ("kunci perangkat tidak dikenal", "unknown device key"),
    "refusal.bad_signature": (
        "tanda tangan tidak cocok dengan kunci perangkat yang terdaftar",
        "the signature does not verify with the registered device key",
    ),
    "refusal.replayed": ("permintaan diulang (nonce sudah dipakai)", "replayed request (its nonce was already used)"),
    "refusal.unsigned": ("permintaan tanpa tanda tangan", "unsigned request"),
    "refusal.altered_body": (
        "isi permintaan berubah di jalan (Content-Digest tidak cocok)",
        "the body was altered in transit (Content-Digest does not match)",
    ),
    "refusal.altered_punch": (
        "presensi {seq} diubah (hash tidak cocok dengan isinya)",
        "punch {seq} was altered (its hash does not match its fields)",
    ),
    "refusal.punch_signature": (
        "tanda tangan presensi {seq} tidak cocok dengan kunci perangkat",
        "punch {seq} has a signature that does not verify with the device key",
    ),
    "day.punches_received": ("presensi diterima", "punches received"),
    "day.roster_published": ("daftar pegawai versi {version} diterbitkan", "roster version {version} published"),
    "day.closed": ("hari ditutup", "day closed"),
    "day.keterangan_approved": ("keterangan #{n} ({code}) disetujui", "absence reason #{n} ({code}) approved"),
    "day.cancelled": ("pembatalan kehadiran #{n} (Jember Pasal 13)", "attendance cancellation #{n} (Jember, article 13)"),
    "day.created": ("dibuat: {status}", "created: {status}"),
    "day.punches_changed": ("{n} presensi", "{n} punches"),
    "day.details_changed": ("rincian berubah", "details changed"),
    "detail.not_available": ("{reader} tidak tersedia: {error}", "{reader} is not available: {error}"),
    "detail.back_after": (
        "{reader} tersambung; sempat terputus {s} detik (sejak {since})",
        "{reader} connected; it was away {s} s (from {since})",
    ),
    "detail.module_at": ("modul {family} pada {baud} baud, {n} templat", "{family} module at {baud} baud, {n} templates"),
    "detail.module_connected": ("modul {family} tersambung, {n} templat", "{family} module connected, {n} templates"),
    "detail.module_silent": (
        "modul sidik jari tidak menjawab; wajah dan kartu tetap berfungsi",
        "fingerprint module not answering; face and card still work",
    ),
    "detail.connected": ("{reader} tersambung", "{reader} connected"),
    "detail.faces_enrolled": ("{n} pegawai terdaftar", "{n} employees enrolled"),
    "detail.no_faces": (
        "belum ada wajah terdaftar: presensi wajah belum dapat mengenali siapa pun",
        "no faces enrolled: face punching cannot identify anyone",
    ),
    "detail.faces_unreadable": (
        "{n} templat wajah tidak dapat dibuka: {problem} (presensi doctor)",
        "{n} face templates cannot be opened: {problem} (presensi doctor)",
    ),
    "detail.camera_open": ("{camera} menyala", "{camera} open"),
    "detail.camera_failed": ("{camera} mati", "{camera} not working"),
    "detail.camera_ended": ("{camera} selesai diputar", "{camera} played to its end"),
    "detail.server_unreachable": (
        "Server tidak terjangkau; coba lagi dalam {s} detik",
        "Server not reachable; trying again in {s} s",
    ),
    "detail.server_refused": ("Ditolak server: {reason}", "Refused by the server: {reason}"),
    "detail.sync_failed": ("Sinkron gagal: {error}", "Sync failed: {error}"),
    "detail.corrections_refused": ("Koreksi waktu ditolak server: {reason}", "The server refused the time corrections: {reason}"),
    "detail.fork": (
        "Server menemukan perangkat lain memakai kunci unit ini (salinan data?) — hubungi admin server",
        "The server found another unit using this unit's key (a copied card?) — call the server's admin",
    ),
    "detail.offset": (
        "Jam perangkat selisih {offset} detik dari server; presensi ditandai belum tersinkron",
        "The unit's clock is {offset} s off the server's; punches are marked not synchronised",
    ),
    "detail.synced": ("Tersinkron; antrean {n}", "Synchronised; {n} queued"),
    "detail.ok": ("baik", "OK"),
    "config.top_level": ("(tingkat atas)", "(top level)"),
    "config.unknown_key": (
        "kunci tidak dikenal — hapus, atau periksa ejaannya",
        "unknown key — remove it, or check its spelling",
    ),
    "config.missing": ("harus diisi", "a value is required"),
    "config.one_of": ("harus salah satu dari {expected}", "must be one of {expected}"),
    "config.bound": ("harus bernilai {bound}", "must be {bound}"),
    "config.expected": ("harus berupa {expected}", "must be {expected}"),
    "config.not_valid": ("nilai tidak sah: {detail}", "not a valid value: {detail}"),
    "probe.not_provisioned": (
        "server pusat belum didaftarkan (presensi provision)",
        "no central server yet (presensi provision)",
    ),
    "probe.plain_http": ("http biasa (hanya server uji)", "plain http (test server only)"),
    "probe.auth_elsewhere": (
        "tidak diperiksa di sini (layanan sinkronisasi melaporkannya di kesehatannya)",
        "not checked here (the sync service reports it in its health)",
    ),
    "probe.skipped": ("tidak dicoba: langkah sebelumnya gagal", "not tried: an earlier step failed"),
    "page.no": ("tidak", "no"),
    "m.accounts": ("Akun", "Accounts"),
    "m.maintenance_accounts": ("Akun pemeliharaan", "Maintenance accounts"),
    "m.account_created": ("Akun dibuat:", "Account created:"),
    "m.name": ("Nama", "Name"),
    "m.roles": ("Peran", "Roles"),
    "m.active": ("Aktif", "Active"),
    "m.disable": ("Nonaktifkan", "Disable"),
    "m.enable": ("Aktifkan", "Enable"),
    "m.new_account": ("Akun baru", "New account"),
    "m.user_name": ("Nama pengguna", "User name"),
    "m.password_10_characters": ("Kata sandi (min. 10 karakter)", "Password (10+ characters)"),
    "m.technician": ("Teknisi", "Technician"),
    "m.create_account": ("Buat akun", "Create account"),
    "m.audit_log": ("Jejak audit", "Audit log"),
    "m.user": ("Pengguna", "User"),
    "m.action": ("Aksi", "Action"),
    "m.filter": ("Saring", "Filter"),
    "m.time": ("Waktu", "Time"),
    "m.detail": ("Rincian", "Detail"),
    "m.maintenance": ("Pemeliharaan", "Maintenance"),
    "m.dashboard": ("Dasbor", "Dashboard"),
    "m.diagnostics": ("Diagnostik", "Diagnostics"),
    "m.logs": ("Log", "Logs"),
    "m.configuration": ("Konfigurasi", "Configuration"),
    "m.system": ("Sistem", "System"),
    "m.employees": ("Pegawai", "Employees"),
    "m.punches": ("Presensi", "Punches"),
    "m.export": ("Ekspor", "Export"),
    "m.fault_report": ("Laporan Kerusakan", "Fault report"),
    "m.log_out": ("Keluar", "Log out"),
    "m.no_file_check_only": ("(tidak ada berkas; hanya pemeriksaan)", "(no file; check only)"),
    "m.changes": ("Perubahan", "Changes"),
    "m.check_show_changes": ("Periksa dan lihat perubahan", "Check and show changes"),
    "m.apply": ("Terapkan", "Apply"),
    "m.confirm": ("Konfirmasi", "Confirm"),
    "m.yes_do": ("Ya, lakukan", "Yes, do it"),
    "m.cancel": ("Batal", "Cancel"),
    "m.unit": ("Perangkat", "Unit"),
    "m.sync": ("Sinkronisasi", "Sync"),
    "m.face_gallery": ("Galeri wajah", "Face gallery"),
    "m.central_server": ("Server pusat", "Central server"),
    "m.network": ("Jaringan", "Network"),
    "m.health_each_part": ("Kesehatan tiap bagian", "Health of each part"),
    "m.loading": ("Memuat…", "Loading…"),
    "m.one_button_checks_power": (
        "Satu tombol memeriksa: listrik, kabel, alamat IP, server pusat, jam, disk, perangkat, basis data — dan menjelaskan apa yang harus dilakukan.",
        "One button checks power, cable, IP address, central server, clock, disk, devices and database — and says what to do.",
    ),
    "m.run_checks": ("Jalankan pemeriksaan", "Run the checks"),
    "m.faces": ("Wajah", "Faces"),
    "m.cards": ("Kartu", "Cards"),
    "m.fingers": ("Jari", "Fingers"),
    "m.remove": ("Hapus", "Remove"),
    "m.no_card_yet": ("Belum ada kartu.", "No card yet."),
    "m.tap_card_kiosk_reader": ("Tempelkan kartu pada pembaca kiosk sekarang…", "Tap the card on the kiosk reader now…"),
    "m.register_card_tap": ("Daftarkan kartu (tempelkan)", "Register a card (tap)"),
    "m.face": ("Wajah", "Face"),
    "m.look_kiosk_camera": ("Lihat ke kamera kiosk…", "Look at the kiosk camera…"),
    "m.enrol_face_from_kiosk": ("Daftarkan wajah dari kamera kiosk", "Enrol the face from the kiosk camera"),
    "m.erase_biometric_data": ("Hapus data biometrik", "Erase biometric data"),
    "m.deletes_every_face_finger": (
        "Menghapus semua templat wajah dan sidik jari (juga di modul) dan kartu pegawai ini, lalu menonaktifkannya. Catatan presensi tetap disimpan. Agar tidak dikirim ulang, hapus juga di server pusat.",
        "Deletes every face and finger template (on the modules too) and card of this employee, then deactivates them. Punch records are kept. Remove them on the central server too, or the next roster brings them back.",
    ),
    "m.erase_biometric_data_2": ("Hapus data biometrik…", "Erase biometric data…"),
    "m.fingerprint": ("Sidik jari", "Fingerprint"),
    "m.no_finger_yet": ("Belum ada sidik jari.", "No finger yet."),
    "m.no_fingerprint_module_configured": (
        "Modul sidik jari tidak dipasang atau layanan presensi-bridge tidak tersambung.",
        "No fingerprint module configured, or the bridge is not connected.",
    ),
    "m.finger": ("Jari", "Finger"),
    "m.enrol_finger": ("Daftarkan sidik jari", "Enrol a finger"),
    "m.contacting_fingerprint_module": ("Menghubungi pemindai sidik jari…", "Contacting the fingerprint module…"),
    "m.waiting_module": ("menunggu pemindai", "waiting for the module"),
    "m.captures": ("pengambilan", "captures"),
    "m.employees_enrolment": ("Pegawai dan status pendaftaran", "Employees and enrolment"),
    "m.search": ("Cari", "Search"),
    "m.unit_2": ("Unit", "Unit"),
    "m.no_employees_yet": ("Belum ada pegawai.", "No employees yet."),
    "m.add_employee_local": ("Tambah pegawai (lokal)", "Add an employee (local)"),
    "m.unit_code": ("Kode unit", "Unit code"),
    "m.add": ("Tambah", "Add"),
    "m.back_dashboard": ("Kembali ke dasbor", "Back to the dashboard"),
    "m.export_punches": ("Ekspor presensi", "Export punches"),
    "m.download": ("Unduh", "Download"),
    "m.from_csv": ("Dari (CSV)", "From (CSV)"),
    "m.csv": ("Sampai (CSV)", "To (CSV)"),
    "m.target": ("Tujuan", "Target"),
    "m.download_browser": ("Unduh lewat peramban", "Download in the browser"),
    "m.signed_bundle_central_server": (
        "Bundel bertanda tangan dibawa ke server pusat (impor bundel); CSV untuk dibaca di kantor. Bundel selalu disertai CSV dengan nama yang sama.",
        "The signed bundle is for the central server (bundle import); the CSV is for people. A bundle always comes with a CSV of the same name.",
    ),
    "m.check_bundle": ("Periksa bundel", "Check a bundle"),
    "m.bundle_file_zip": ("Berkas bundel (.zip)", "Bundle file (.zip)"),
    "m.check_signatures": ("Periksa tanda tangan", "Check the signatures"),
    "m.export_files": ("Berkas ekspor", "Export files"),
    "m.none_yet": ("Belum ada.", "Nothing yet."),
    "m.log": ("Masuk", "Log in"),
    "m.log_maintenance_page": ("Masuk ke halaman pemeliharaan", "Log in to the maintenance page"),
    "m.your_session_expired_please": ("Sesi Anda berakhir. Silakan masuk lagi.", "Your session expired. Please log in again."),
    "m.password": ("Kata sandi", "Password"),
    "m.contains": ("Berisi", "Contains"),
    "m.minimum_level": ("Tingkat minimal", "Minimum level"),
    "m.no_lines": ("Tidak ada baris.", "No lines."),
    "m.search_punches": ("Cari presensi", "Search punches"),
    "m.from": ("Dari", "From"),
    "m.blank": ("Sampai", "To"),
    "m.employee": ("Pegawai", "Employee"),
    "m.method": ("Cara", "Method"),
    "m.kind": ("Jenis", "Kind"),
    "m.clock": ("Jam", "Clock"),
    "m.photo": ("Foto", "Photo"),
    "m.view": ("lihat", "view"),
    "m.none": ("Tidak ada.", "Nothing found."),
    "m.print_save_pdf": ("Cetak / simpan PDF", "Print / save as PDF"),
    "m.fault_report_title": ("Laporan Kerusakan Alat", "Device fault report"),
    "m.date": ("Tanggal", "Date"),
    "m.machine_id": ("Nomor mesin", "Machine id"),
    "m.office": ("Kantor / OPD", "Office"),
    "m.kind_fault": ("Jenis kerusakan", "Kind of fault"),
    "m.description": ("Uraian", "Description"),
    "m.reported": ("Pelapor", "Reported by"),
    "m.make_report": ("Buat laporan", "Make the report"),
    "m.first_setup": ("Penyiapan pertama", "First setup"),
    "m.create_first_account": ("Buat akun pertama", "Create the first account"),
    "m.type_setup_code_shown": (
        "Masukkan kode penyiapan yang tampil di layar kiosk. Akun ini mendapat peran Teknisi dan Admin PD.",
        "Type the setup code shown on the kiosk screen. This account gets both the Technician and Admin PD roles.",
    ),
    "m.setup_code": ("Kode penyiapan", "Setup code"),
    "m.repeat_password": ("Ulangi kata sandi", "Repeat the password"),
    "m.system_actions_are_not": (
        "Aksi sistem tidak tersambung di proses ini.",
        "System actions are not connected in this process.",
    ),
    "m.restart_service": ("Mulai ulang layanan", "Restart a service"),
    "m.reboot_unit": ("Nyalakan ulang perangkat", "Reboot the unit"),
    "m.reboot": ("Nyalakan ulang", "Reboot"),
    "m.local_time": ("Waktu setempat", "Local time"),
    "m.set_clock": ("Setel jam", "Set the clock"),
    "m.clock_synchronised_ntp_nothing": (
        "Jam tersinkron dengan NTP; tidak perlu disetel.",
        "The clock is synchronised by NTP; nothing to set.",
    ),
    # --- the central server's pages and back office (sync/server/pages) ---
    "s.devices": ("Perangkat", "Devices"),
    "s.device": ("Perangkat", "Device"),
    "s.events": ("Acara", "Events"),
    "s.event": ("Acara", "Event"),
    "s.back_office": ("Kantor", "Back office"),
    "s.read_only_refreshed": ("Halaman hanya-baca; diperbarui setiap 30 detik.", "Read-only page, refreshed every 30 s."),
    "s.office": ("Kantor", "Office"),
    "s.daily_status": ("Status harian", "Daily status"),
    "s.keterangan": ("Keterangan", "Absence reasons"),
    "s.monthly_recap": ("Rekap bulanan", "Monthly recap"),
    "s.bkpsdm_every_office": ("BKPSDM: semua kantor", "BKPSDM: every office"),
    "s.log_out": ("Keluar", "Log out"),
    "s.log_in": ("Masuk", "Log in"),
    "s.user_name": ("Nama pengguna", "User name"),
    "s.password": ("Kata sandi", "Password"),
    "s.accounts_made_by": ("Akun dibuat oleh administrator server", "Accounts are made by the server's administrator"),
    "s.seq": ("Urut", "Seq"),
    "s.time_recorded": ("Waktu tercatat", "Time recorded"),
    "s.time_corrected": ("Waktu terkoreksi", "Time corrected"),
    "s.method": ("Metode", "Method"),
    "s.kind": ("Jenis", "Kind"),
    "s.clock": ("Jam", "Clock"),
    "s.received": ("Diterima", "Received"),
    "s.via": ("Lewat", "Via"),
    "s.no_punches_yet": ("Belum ada presensi.", "No punches yet."),
    "s.unit": ("Unit", "Unit"),
    "s.last_seen": ("Terakhir terlihat", "Last seen"),
    "s.acked_through": ("Diterima s.d. urut", "Acknowledged through seq"),
    "s.queue": ("Antrean", "Queue"),
    "s.queue_on_device": ("Antrean di perangkat", "Queue on the unit"),
    "s.clock_offset": ("Selisih jam (s)", "Clock offset (s)"),
    "s.faults": ("Gangguan", "Faults"),
    "s.gap_held": ("Celah (ditahan)", "Gap (held)"),
    "s.gap_missing": ("hilang {first}–{last} ({held} ditahan)", "missing {first}–{last} ({held} held)"),
    "s.rejections": ("Penolakan", "Rejections"),
    "s.outside_roster": ("Di luar daftar", "Outside the roster"),
    "s.never": ("belum pernah", "never"),
    "s.no_devices": ("Belum ada perangkat terdaftar.", "No unit registered yet."),
    "s.unknown_rejections": ("Penolakan dari perangkat tak dikenal", "Rejections from unknown units"),
    "s.time": ("Waktu", "Time"),
    "s.key_claimed": ("Kunci (klaim)", "Key (claimed)"),
    "s.reason": ("Alasan", "Reason"),
    "s.address": ("Alamat", "Address"),
    "s.recent_punches": ("Presensi terbaru", "Recent punches"),
    "s.all_devices": ("semua perangkat", "all units"),
    "s.registered": ("Terdaftar", "Registered"),
    "s.from_address": ("dari {address}", "from {address}"),
    "s.time_corrections": ("Koreksi waktu", "Time corrections"),
    "s.punches_corrected": (
        "{n} presensi dikoreksi (waktu tercatat tetap disimpan)",
        "{n} punches corrected (the recorded times are kept)",
    ),
    "s.fork": ("Rantai ganda", "Forked chain"),
    "s.fork_detail": (
        "sejak {since}: {n} presensi bertanda tangan kunci perangkat ini bertentangan dengan rantai yang tersimpan — dua unit memakai kunci yang sama (salinan data?). Kedua rantai disimpan; tentukan unit yang asli.",
        "since {since}: {n} punches signed with this unit's key contradict the stored chain — two units hold the same key (a copied card?). Both chains are kept; decide which unit is the real one.",
    ),
    "s.gap": ("Celah", "Gap"),
    "s.gap_detail": (
        "urut {first}–{last} belum diterima; {held} presensi ditahan",
        "seq {first}–{last} not received; {held} punches held",
    ),
    "s.versions": ("Versi", "Versions"),
    "s.roster": ("daftar pegawai", "roster"),
    "s.disk_temperature": ("Disk / suhu", "Disk / temperature"),
    "s.device_not_registered": (
        "Perangkat ini tidak terdaftar (kunci perangkat tidak dikenal).",
        "This unit is not registered (unknown device key).",
    ),
    "s.outside_unit_roster": ("Di luar daftar unit", "Outside the unit's roster"),
    "s.outside_roster_note": (
        "Presensi pegawai yang saat diterima bukan pegawai kantor unit ini dan tidak ditambahkan ke unit ini (mutasi, dihapus, atau tidak dikenal). Presensi tetap disimpan; periksa sebelum dipakai untuk rekap.",
        "Punches of people who were not in this unit's roster when received (moved, removed or unknown). They are kept; check them before they count in a recap.",
    ),
    "s.employee": ("Pegawai", "Employee"),
    "s.punches": ("Presensi", "Punches"),
    "s.first": ("Pertama", "First"),
    "s.last": ("Terakhir", "Last"),
    "s.place": ("Tempat", "Place"),
    "s.starts": ("Mulai", "Starts"),
    "s.participants": ("Peserta", "Participants"),
    "s.present": ("Hadir", "Present"),
    "s.absent": ("Tidak hadir", "Absent"),
    "s.punches_received": ("Presensi diterima", "Punches received"),
    "s.local_pack": ("paket lokal", "local pack"),
    "s.server_pack": ("paket server", "server pack"),
    "s.no_events": ("Belum ada acara. Terbitkan paket acara dengan", "No events yet. Publish an event pack with"),
    "s.all_events": ("semua acara", "all events"),
    "s.attendance_list": ("Daftar hadir", "Attendance list"),
    "s.computed_at": ("dihitung {at}", "computed {at}"),
    "s.all_units": ("semua unit", "all units"),
    "s.download": ("Unduh", "Download"),
    "s.total": ("Jumlah", "Total"),
    "s.late_n": ("terlambat {n}", "{n} late"),
    "s.event_received": (
        "Presensi diterima server: {received} dari {devices} perangkat; {duplicates} ganda tidak dihitung (satu kehadiran per orang); {outsiders} dari bukan peserta diabaikan.",
        "Punches received: {received} from {devices} units; {duplicates} duplicates not counted (one attendance a person); {outsiders} from non-participants ignored.",
    ),
    "s.name": ("Nama", "Name"),
    "s.attendance": ("Kehadiran", "Attendance"),
    "s.note": ("Catatan", "Note"),
    "s.date": ("Tanggal", "Date"),
    "s.show": ("Tampilkan", "Show"),
    "s.masuk_at": ("Masuk ({zone})", "In ({zone})"),
    "s.pulang_at": ("Pulang ({zone})", "Out ({zone})"),
    "s.late": ("Terlambat", "Late"),
    "s.early": ("Pulang cepat", "Left early"),
    "s.units": ("Perangkat", "Units"),
    "s.minutes": ("{n} menit", "{n} min"),
    "s.history": ("riwayat", "history"),
    "s.no_record_yet": ("Belum ada catatan (libur, atau hari belum selesai)", "No record (day off, or the day is not over)"),
    "s.no_employees": ("Tidak ada pegawai", "No employees"),
    "s.manual_forms": ("Formulir presensi manual", "Manual attendance forms"),
    "s.manual_daily": ("harian (Perbup Jember Lampiran I)", "daily (Jember regulation, Lampiran I)"),
    "s.manual_monthly": ("bulanan (Perbup Purbalingga)", "monthly (Purbalingga regulation)"),
    "s.tk_note": (
        "TK diberikan otomatis setelah pukul 23.59 hari itu bila tidak ada presensi dan keterangan (Juknis Malang, Ketentuan lain angka 3).",
        "TK is given automatically after 23:59 that day when there is no punch and no absence reason (Malang guideline, other provisions no. 3).",
    ),
    "s.code": ("Kode", "Code"),
    "s.from_date": ("Dari tanggal", "From"),
    "s.until_date": ("Sampai tanggal", "Until"),
    "s.document": ("Dokumen (PDF atau JPEG, paling besar {mb} MB)", "Document (PDF or JPEG, at most {mb} MB)"),
    "s.document_short": ("Dokumen", "Document"),
    "s.submit": ("Ajukan", "Submit"),
    "s.keterangan_note": (
        "Keterangan berlaku setelah disetujui petugas BKPSDM lain; diinput paling lambat akhir bulan berjalan (Perbup Jember 55/2021 Pasal 11 ayat (3)–(5)).",
        "An absence reason counts once another BKPSDM officer approves it; enter it by the end of the month (Jember regulation 55/2021, article 11 (3)–(5)).",
    ),
    "s.nip_name": ("NIP / Nama", "NIP / Name"),
    "s.entered_by": ("Diajukan oleh", "Entered by"),
    "s.decided_by": ("Diputuskan oleh", "Decided by"),
    "s.approve": ("Setujui", "Approve"),
    "s.refuse": ("Tolak", "Refuse"),
    "s.no_keterangan": ("Belum ada keterangan", "No absence reasons yet"),
    "s.month": ("Bulan", "Month"),
    "s.recap_title": ("Rekapitulasi Kehadiran Pegawai Bulan {month} {year}", "Staff attendance recap, {month} {year}"),
    "s.recap_made": (
        "Dibuat {at} · kolom Lampiran II Perbup Jember 55/2021, lalu rincian",
        "Made {at} · the columns of Jember regulation 55/2021 Lampiran II, then details",
    ),
    "s.day_history": ("Riwayat hari", "Day history"),
    "s.no_record": ("Tidak ada catatan.", "No record."),
    "s.version": ("Versi", "Version"),
    "s.by": ("Oleh", "By"),
    "s.cancel_attendance": ("Batalkan kehadiran", "Cancel attendance"),
    "s.witnesses": ("Saksi, dipisah koma (minimal 2)", "Witnesses, comma-separated (at least 2)"),
    "s.cancel_letter": ("Surat keterangan pembatalan (Lampiran III), PDF/JPEG", "Cancellation letter (Lampiran III), PDF/JPEG"),
    "s.unknown_device": ("Perangkat tidak dikenal", "Unknown unit"),
    "s.bad_date": ("Tanggal tidak sah", "Not a valid date"),
    "s.bad_month": ("Bulan tidak sah (YYYY-MM)", "Not a valid month (YYYY-MM)"),
    "s.not_your_office": ("Bukan kantor Anda", "Not your office"),
    "s.give_day_or_month": ("Pilih tanggal atau bulan", "Give a day or a month"),
    "s.unknown_format": ("Format tidak dikenal", "Unknown format"),
    "s.bkpsdm_only": ("Hanya untuk BKPSDM", "BKPSDM only"),
    "s.not_found": ("Tidak ditemukan", "Not found"),
}

#: Codes stored or sent by the programs, by group, in words (never shown raw).
CODES: dict[str, dict[str, Pair]] = {
    "part": {
        "camera": ("Kamera", "Camera"),
        "card_reader": ("Pembaca kartu", "Card reader"),
        "fingerprint": ("Modul sidik jari", "Fingerprint module"),
        "face": ("Pengenalan wajah", "Face recognition"),
        "liveness": ("Deteksi wajah asli", "Liveness check"),
        "sync": ("Sinkronisasi", "Sync"),
        "gpio": ("Lampu dan bel", "Lights and buzzer"),
        "web": ("Halaman web", "Web pages"),
        "bridge": ("Layanan sidik jari", "Fingerprint service"),
        "targets": ("Server tambahan", "Other servers"),
        "zk4370": ("Port 4370", "Port 4370"),
        "clock": ("Jam", "Clock"),
        "rtc": ("Jam baterai (RTC)", "Battery clock (RTC)"),
        "disk": ("Disk", "Disk"),
        "database": ("Basis data", "Database"),
        "power": ("Listrik", "Power"),
        "link": ("Kabel jaringan", "Network cable"),
        "ip": ("Alamat IP", "IP address"),
        "server": ("Server pusat", "Central server"),
        "templates": ("Templat", "Templates"),
        "schedule": ("Jadwal", "Schedule"),
        "config": ("Konfigurasi", "Configuration"),
        "identity": ("Kunci perangkat", "Device key"),
        "privacy": ("Privasi", "Privacy"),
        "evidence": ("Foto bukti", "Evidence photos"),
        "events": ("Acara", "Events"),
        "roster": ("Daftar pegawai", "Roster"),
        "kiosk": ("Layanan kiosk", "Kiosk service"),
    },
    "health": {
        "ok": ("baik", "OK"),
        "warn": ("peringatan", "warning"),
        "fail": ("gagal", "failed"),
        "skip": ("dilewati", "skipped"),
        "stale": ("tidak menjawab", "not answering"),
    },
    "clock": {
        "synced": ("tersinkron", "synchronised"),
        "rtc": ("dari baterai RTC", "from the battery RTC"),
        "unsynced": ("belum tersinkron", "not synchronised"),
        "manual": ("disetel manual", "set by hand"),
        "ntp": ("dikoreksi NTP", "corrected by NTP"),
        "server": ("dikoreksi server", "corrected by the server"),
        "technician": ("dikoreksi teknisi", "corrected by a technician"),
    },
    "method": {
        "face": ("wajah", "face"),
        "card": ("kartu", "card"),
        "finger": ("sidik jari", "fingerprint"),
        "card+face": ("kartu + wajah", "card + face"),
        "card_face": ("kartu + wajah", "card + face"),
        "card+finger": ("kartu + sidik jari", "card + fingerprint"),
        "manual": ("manual", "by hand"),
        "pin": ("PIN", "PIN"),
    },
    "kind": {
        "masuk": ("masuk", "check-in"),
        "pulang": ("pulang", "check-out"),
        "apel": ("apel", "flag ceremony"),
        "senam": ("senam", "morning exercise"),
        "tausiyah": ("tausiyah", "religious talk"),
        "lainnya": ("lainnya", "other"),
    },
    "status": {
        "tepat_waktu": ("tepat waktu", "on time"),
        "terlambat": ("terlambat", "late"),
        "pulang_cepat": ("pulang cepat", "left early"),
        "di_luar_jadwal": ("di luar jadwal", "outside the schedule"),
        "lembur": ("lembur", "overtime"),
        "hadir": ("hadir", "present"),
        "tambahan": ("presensi tambahan", "extra punch"),
        "tanpa_jadwal": ("tanpa jadwal", "no schedule"),
        "ditolak": ("tidak dicatat", "not recorded"),
        "tk": ("TK (tanpa keterangan)", "absent without reason (TK)"),
        "belum": ("belum presensi", "no punch yet"),
        "libur": ("libur", "day off"),
        "batal": ("kehadiran dibatalkan", "attendance cancelled"),
    },
    "role": {
        "admin": ("Admin PD", "Admin PD"),
        "technician": ("Teknisi", "Technician"),
        "bkpsdm": ("BKPSDM", "BKPSDM"),
    },
    "online": {
        "online": ("daring", "online"),
        "offline": ("luring", "offline"),
    },
    "detail": {
        "employee_id": ("NIP/ID", "NIP/ID"),
        "employee": ("pegawai", "employee"),
        "other_id": ("NIP/ID lain", "other NIP/ID"),
        "name": ("nama", "name"),
        "username": ("akun", "account"),
        "roles": ("peran", "roles"),
        "addr": ("alamat", "address"),
        "reason": ("alasan", "reason"),
        "fmt": ("format", "format"),
        "file": ("berkas", "file"),
        "files": ("berkas", "files"),
        "target": ("tujuan", "destination"),
        "unit": ("layanan", "service"),
        "uid": ("kartu", "card"),
        "evidence": ("foto bukti", "evidence photos"),
        "enrolment": ("pendaftaran", "enrolment"),
        "to": ("menjadi", "to"),
        "before": ("sebelumnya", "before"),
        "anchor": ("jangkar waktu", "time anchor"),
        "through_seq": ("sampai urutan", "through seq"),
        "state": ("keadaan", "state"),
        "start": ("dari", "from"),
        "end": ("sampai", "until"),
        "renamed_from": ("nama lama", "old name"),
        "punches": ("presensi", "punches"),
        "punch": ("presensi", "punch"),
        "ok": ("sah", "valid"),
        "message": ("pesan", "message"),
        "limit": ("batas", "limit"),
        "kind": ("jenis", "kind"),
        "first": ("pertama", "first"),
        "failed": ("gagal", "failed"),
        "fingers": ("sidik jari", "fingers"),
        "finger": ("jari", "finger"),
        "faces": ("wajah", "faces"),
        "faces_added": ("wajah ditambah", "faces added"),
        "faces_replaced": ("wajah diganti", "faces replaced"),
        "distance": ("jarak", "distance"),
        "date": ("tanggal", "date"),
        "count": ("jumlah", "count"),
        "cards": ("kartu", "cards"),
    },
    "enrol_state": {
        "done": ("selesai", "done"),
        "failed": ("gagal", "failed"),
        "timeout": ("habis waktu", "timed out"),
        "lost": ("hilang", "lost"),
        "cancelled": ("dibatalkan", "cancelled"),
        "refused": ("ditolak", "refused"),
        "pending": ("menunggu pemindai", "waiting for the module"),
        "capturing": ("mengambil sidik jari", "capturing"),
    },
    "metric": {
        "queue_depth": ("antrean", "queue"),
        "acked_seq": ("diterima s.d. urut", "acknowledged through"),
        "oldest_unsent_age_s": ("umur tertua belum terkirim (s)", "oldest unsent age (s)"),
        "clock_offset_s": ("selisih jam (s)", "clock offset (s)"),
        "templates": ("templat", "templates"),
        "capacity": ("kapasitas", "capacity"),
        "fps": ("gambar/detik", "frames/s"),
        "processed_fps": ("diproses/detik", "processed/s"),
        "frames": ("gambar", "frames"),
        "decisions": ("keputusan", "decisions"),
        "connected": ("tersambung", "connected"),
        "gaps": ("putus", "gaps"),
        "taps": ("tempelan", "taps"),
        "last_gap_s": ("putus terakhir (s)", "last gap (s)"),
        "down_s": ("mati selama (s)", "down for (s)"),
        "faults": ("gangguan", "faults"),
        "identified": ("dikenali", "identified"),
        "enrolled": ("terdaftar", "enrolled"),
        "uploaded": ("terkirim", "uploaded"),
    },
    "field": {
        "start": ("tanggal awal", "start date"),
        "end": ("tanggal akhir", "end date"),
        "date": ("tanggal", "date"),
        "roles": ("peran (centang minimal satu)", "role (tick at least one)"),
        "text": ("isi konfigurasi", "configuration text"),
        "username": ("nama pengguna", "username"),
        "password": ("kata sandi", "password"),
        "password2": ("ulangi kata sandi", "repeat the password"),
        "code": ("kode penyiapan", "setup code"),
        "local": ("waktu setempat", "local time"),
        "limit": ("batas baris", "row limit"),
        "fmt": ("format", "format"),
    },
    "day_status": {
        "hadir": ("Hadir", "Present"),
        "tk": ("TK (tanpa keterangan)", "Absent without reason (TK)"),
        "belum": ("Belum presensi", "No punch yet"),
        "libur": ("Libur", "Day off"),
        "batal": ("Kehadiran dibatalkan", "Attendance cancelled"),
        "tanpa_jadwal": ("Tanpa jadwal", "No work code"),
        "S": ("Sakit (S)", "Sick (S)"),
        "C": ("Cuti (C)", "Leave (C)"),
        "DL": ("Dinas luar (DL)", "Official travel (DL)"),
        "TB": ("Tugas belajar (TB)", "Study assignment (TB)"),
        "I": ("Izin (I)", "Permission (I)"),
        "DIKLAT": ("Diklat", "Training (Diklat)"),
    },
    "day_field": {
        "status": ("status", "status"),
        "late_min": ("terlambat (menit)", "late (minutes)"),
        "early_min": ("pulang cepat (menit)", "left early (minutes)"),
        "overtime_min": ("lembur (menit)", "overtime (minutes)"),
    },
    "recap_column": {  # sync/server/recap.py: the columns of Jember's Lampiran II, then details
        "no": ("No.", "No."),
        "name_nip": ("Nama/NIP", "Name/NIP"),
        "position": ("Jabatan", "Position"),
        "late_min": ("Rekap Terlambat Datang (Jumlah Menit)", "Late arrival (minutes)"),
        "early_min": ("Rekap Pulang Sebelum Waktu (Jumlah Menit)", "Early departure (minutes)"),
        "tk": ("Tidak Hadir Tanpa Alasan Sah (Jumlah Hari)", "Absent without valid reason (days)"),
        "csdl": ("Cuti/Sakit/Dinas Luar/Diklat (Jumlah Hari)", "Leave/sick/travel/training (days)"),
        "ijin": ("Ijin (Jumlah Hari)", "Permission (days)"),
        "hadir": ("Hadir (Hari)", "Present (days)"),
        "S": ("S", "Sick"),
        "C": ("C", "Leave"),
        "DL": ("DL", "Official travel"),
        "TB": ("TB", "Study assignment"),
        "DIKLAT": ("Diklat", "Training"),
        "batal": ("Kehadiran Dibatalkan (Hari)", "Attendance cancelled (days)"),
        "no_masuk": ("Tanpa Presensi Masuk (Hari)", "No check-in punch (days)"),
        "no_pulang": ("Tanpa Presensi Pulang (Hari)", "No check-out punch (days)"),
        "overtime_min": ("Lembur (Menit)", "Overtime (minutes)"),
    },
    "month": {
        "1": ("Januari", "January"),
        "2": ("Februari", "February"),
        "3": ("Maret", "March"),
        "4": ("April", "April"),
        "5": ("Mei", "May"),
        "6": ("Juni", "June"),
        "7": ("Juli", "July"),
        "8": ("Agustus", "August"),
        "9": ("September", "September"),
        "10": ("Oktober", "October"),
        "11": ("November", "November"),
        "12": ("Desember", "December"),
    },
    "day_flag": {
        "tanpa_pulang": ("tanpa presensi pulang", "no check-out punch"),
        "tanpa_masuk": ("tanpa presensi masuk", "no check-in punch"),
    },
    "ket_state": {
        "diajukan": ("diajukan", "submitted"),
        "disetujui": ("disetujui", "approved"),
        "ditolak": ("ditolak", "refused"),
    },
    "source": {
        "upload": ("unggah", "upload"),
        "bundle": ("flashdisk", "flash disk"),
        "health": ("laporan kesehatan", "health report"),
        "roster": ("daftar pegawai", "roster"),
        "corrections": ("koreksi waktu", "time corrections"),
        "provision": ("pendaftaran perangkat", "provisioning"),
        "test": ("uji", "test"),
    },
    "export_format": {
        "bundle": (
            "Bundel bertanda tangan — belum terkirim (untuk server pusat)",
            "Signed bundle — not yet sent (for the central server)",
        ),
        "bundle_all": ("Bundel bertanda tangan — semua presensi di alat", "Signed bundle — every punch on the unit"),
        "csv": ("CSV (untuk dibaca orang; rentang tanggal)", "CSV (for people to read; a date range)"),
    },
    "finger": {
        "0": ("jempol kanan", "right thumb"),
        "1": ("telunjuk kanan", "right index finger"),
        "2": ("jari tengah kanan", "right middle finger"),
        "3": ("jari manis kanan", "right ring finger"),
        "4": ("kelingking kanan", "right little finger"),
        "5": ("jempol kiri", "left thumb"),
        "6": ("telunjuk kiri", "left index finger"),
        "7": ("jari tengah kiri", "left middle finger"),
        "8": ("jari manis kiri", "left ring finger"),
        "9": ("kelingking kiri", "left little finger"),
    },
    "value_type": {
        "int": ("bilangan bulat", "an integer"),
        "float": ("angka", "a number"),
        "bool": ("true atau false", "true or false"),
        "string": ("teks dalam tanda kutip", "a quoted string"),
        "path": ("path dalam tanda kutip", "a path string"),
        "model": ("tabel", "a table"),
        "dict": ("tabel", "a table"),
        "list": ("daftar", "a list"),
        "datetime": ("tanggal dan waktu", "a date and time"),
        "date": ("tanggal", "a date"),
        "time": ("jam", "a time of day"),
        "url": ("alamat URL", "a URL"),
    },
    "log_level": {
        "debug": ("rinci", "debug"),
        "info": ("info", "info"),
        "warning": ("peringatan", "warning"),
        "error": ("kesalahan", "error"),
        "critical": ("kritis", "critical"),
    },
    "actor": {
        "(setup)": ("(penyiapan)", "(setup)"),
        "cli": ("baris perintah", "command line"),
        "face": ("layanan wajah", "face service"),
        "bench": ("uji kinerja", "benchmark"),
        "sistem": ("sistem", "system"),
    },
    "fault": {
        "kamera": ("Kamera tidak berfungsi", "Camera not working"),
        "pembaca_kartu": ("Pembaca kartu tidak berfungsi", "Card reader not working"),
        "sidik_jari": ("Modul sidik jari tidak berfungsi", "Fingerprint module not working"),
        "jaringan": ("Tidak terhubung ke jaringan / server", "No network / server"),
        "jam": ("Jam perangkat salah", "Wrong clock"),
        "layar": ("Layar tidak menyala", "Screen not working"),
        "daya": ("Catu daya / listrik", "Power supply"),
        "penyimpanan": ("Penyimpanan penuh / rusak", "Storage full / damaged"),
        "lainnya": ("Lainnya", "Other"),
    },
    "audit": {
        "login": ("masuk", "logged in"),
        "login.failed": ("gagal masuk", "login failed"),
        "login.locked": ("masuk dikunci sementara", "login locked for a while"),
        "logout": ("keluar", "logged out"),
        "setup.first_account": ("akun pertama dibuat", "first account created"),
        "setup.failed": ("kode penyiapan salah", "wrong setup code"),
        "account.create": ("akun dibuat", "account created"),
        "account.disable": ("akun dinonaktifkan", "account disabled"),
        "account.enable": ("akun diaktifkan", "account enabled"),
        "employee.add": ("pegawai ditambahkan", "employee added"),
        "employee.erase": ("data biometrik dihapus", "biometric data erased"),
        "card.register": ("kartu didaftarkan", "card registered"),
        "card.register.refused": ("pendaftaran kartu ditolak", "card registration refused"),
        "card.register.timeout": ("pendaftaran kartu habis waktu", "card registration timed out"),
        "card.remove": ("kartu dihapus", "card removed"),
        "face.enrol": ("wajah didaftarkan", "face enrolled"),
        "face.enrol.failed": ("pendaftaran wajah gagal", "face enrolment failed"),
        "face.lookalike": ("wajah mirip ditemukan", "lookalike faces found"),
        "face.lookalike_cleared": ("wajah mirip dinyatakan beda", "lookalike faces cleared"),
        "finger.enrol": ("pendaftaran sidik jari", "fingerprint enrolment"),
        "finger.enrol.failed": ("pendaftaran sidik jari gagal", "fingerprint enrolment failed"),
        "finger.enrol.cancel": ("pendaftaran sidik jari dibatalkan", "fingerprint enrolment cancelled"),
        "export": ("ekspor", "export"),
        "export.download": ("ekspor diunduh", "export downloaded"),
        "export.download.refused": ("unduhan ekspor ditolak", "export download refused"),
        "export.empty": ("ekspor kosong", "empty export"),
        "export.failed": ("ekspor gagal", "export failed"),
        "export.refused": ("ekspor ditolak", "export refused"),
        "export.verify": ("bundel diperiksa", "bundle checked"),
        "evidence.view": ("foto bukti dilihat", "evidence photo viewed"),
        "diagnostics.run": ("diagnostik dijalankan", "diagnostics run"),
        "config.apply": ("konfigurasi diterapkan", "configuration applied"),
        "system.restart": ("layanan dimulai ulang", "service restarted"),
        "system.restart.failed": ("mulai ulang layanan gagal", "service restart failed"),
        "system.reboot": ("perangkat dinyalakan ulang", "unit rebooted"),
        "system.set_time": ("jam disetel", "clock set"),
        "report.make": ("laporan kerusakan dibuat", "fault report made"),
        "retention.enforce": ("data lama dihapus", "old data removed"),
        "sync.clear_fork": ("rantai ganda diselesaikan", "fork cleared"),
        "enroll": ("pendaftaran", "enrolment"),
    },
}


#: What the services write into their health (kiosk.health), in whichever language each writes
#: it, recognised and said in the reader's language. A detail no pattern knows is shown as it is.
#: Each pattern names its values; the key's texts use them.
DETAILS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"(?P<reader>.+) is not available: (?P<error>.+)", "detail.not_available"),
        (r"(?P<reader>.+) connected; it was away (?P<s>[\d.]+) s \(from (?P<since>.+)\)", "detail.back_after"),
        (r"(?P<family>\S+) module at (?P<baud>\d+) baud, (?P<n>\d+) templates", "detail.module_at"),
        (r"(?P<family>\S+) module connected, (?P<n>\d+) templates", "detail.module_connected"),
        (r"fingerprint module not answering; face and card still work", "detail.module_silent"),
        (r"(?P<reader>.+) connected", "detail.connected"),
        (r"(?P<n>\d+) employees enrolled", "detail.faces_enrolled"),
        (r"no faces enrolled: face punching cannot identify anyone", "detail.no_faces"),
        (r"(?P<n>\d+) face templates cannot be opened: (?P<problem>.+) \(presensi doctor\)", "detail.faces_unreadable"),
        (r"(?P<camera>.+) open", "detail.camera_open"),
        (r"(?P<camera>.+) (?:closed|failed)", "detail.camera_failed"),
        (r"(?P<camera>.+) ended", "detail.camera_ended"),
        (r"Server tidak terjangkau; coba lagi dalam (?P<s>\d+) dtk", "detail.server_unreachable"),
        (r"Ditolak server: (?P<reason>.+)", "detail.server_refused"),
        (r"Sinkron gagal: (?P<error>.+)", "detail.sync_failed"),
        (r"Koreksi waktu ditolak server: (?P<reason>.+)", "detail.corrections_refused"),
        (r"Server menemukan perangkat lain memakai kunci unit ini \(salinan data\?\) — hubungi admin server", "detail.fork"),
        (r"Jam perangkat selisih (?P<offset>[+-]?\d+) dtk dari server; presensi ditandai belum tersinkron", "detail.offset"),
        (r"Tersinkron; antrean (?P<n>\d+)", "detail.synced"),
        (r"ok", "detail.ok"),
        # presensi doctor's findings shown on the diagnostics page (kiosk/doctor.py)
        (r"no battery clock \(RTC\): after a power cut the unit wakes with the last saved time", "doctor.no_rtc"),
        (
            r"fit a DS3231 module and enable it \(docs/time\.md\), or make sure the unit reaches NTP before punching",
            "doctor.no_rtc_todo",
        ),
        (r"held by the battery clock (?P<rtc>\S+), last NTP sync (?P<since>.+)", "doctor.rtc_held"),
        (r"connect the network so NTP can correct it", "doctor.rtc_held_todo"),
        (r"connect the network \(NTP\), or set the time on the maintenance page", "doctor.unsynced_todo"),
        (r"battery clock (?P<rtc>\S+) present", "doctor.rtc_present"),
        (r"synchronised \((?P<source>\w+)\)", "doctor.synced"),
        # why the central server refused a request (sync/signing.py, sync/server/app.py, ledger.py)
        (r"unknown device key (?P<key>\S+) \(provision the unit first\)", "refusal.unknown_key"),
        (r"unknown device key", "refusal.unknown_key_plain"),
        (r"signature does not verify with the registered device key", "refusal.bad_signature"),
        (r"replayed request \(its nonce was already used\)", "refusal.replayed"),
        (r"unsigned request \(.*\)", "refusal.unsigned"),
        (r"body does not match its Content-Digest \(altered in transit\?\)", "refusal.altered_body"),
        (r"punch (?P<seq>\d+) was altered \(its hash does not match its fields\)", "refusal.altered_punch"),
        (r"punch (?P<seq>\d+) has a signature that does not verify with the device key", "refusal.punch_signature"),
    )
)


def detail_text(detail: str | None, lang: str, when: Callable[[str], str] = str) -> str:
    """A service's health detail in ``lang`` (:data:`DETAILS`); ``when`` shows a time in it."""
    if not detail:
        return ""
    for pattern, key in DETAILS:
        found = pattern.fullmatch(detail)
        if found:
            values = found.groupdict()
            if "since" in values:
                values["since"] = when(values["since"])
            return text(key, lang, **values)
    return detail


def language(value: object, default: str = DEFAULT_LANG) -> str:
    """``value`` when it is a language of the catalogue, else ``default``."""
    return value if isinstance(value, str) and value in LANGS else default


def _index(lang: str) -> int:
    return 1 if lang == "en" else 0


def text(key: str, lang: str, /, **values: object) -> str:
    """The text of ``key`` in ``lang`` (``id`` or ``en``), ``{name}`` placeholders filled."""
    message = MESSAGES[key][_index(lang)]
    return message.format(**values) if values else message


def both(key: str, /, **values: object) -> dict[str, str]:
    """``{"id": …, "en": …}`` for a screen or a page script that switches language itself."""
    return {lang: text(key, lang, **values) for lang in LANGS}


def word(group: str, code: object, lang: str) -> str:
    """A stored code in words (``card_reader`` → ``Pembaca kartu``); a code the catalogue does
    not know is shown with spaces for its underscores, never as a bare ``None``."""
    if code is None or code == "":
        return "—"
    found = CODES[group].get(str(code))
    if found is not None:
        return found[_index(lang)]
    return str(code).replace("_", " ").replace(".", " ")


def words(group: str, codes: Iterable[object], lang: str, sep: str = ", ") -> str:
    return sep.join(word(group, code, lang) for code in codes)


def translator(lang: str) -> Callable[..., str]:
    """``t(key, **values)`` bound to one language, for templates."""

    def t(key: str, /, **values: object) -> str:
        return text(key, lang, **values)

    return t


def template_globals(lang: str) -> dict[str, object]:
    """What every page template gets: ``lang``, ``t`` and ``word``/``words`` in that language."""
    return {
        "lang": lang,
        "t": translator(lang),
        "word": lambda group, code: word(group, code, lang),
        "words": lambda group, codes, sep=", ": words(group, codes, lang, sep),
    }


def for_client(lang: str, prefixes: Iterable[str] = ("",), groups: Iterable[str] = ()) -> dict[str, object]:
    """The texts a page's script needs, in one language: ``{"t": {key: text}, "codes": {group: {code: text}}}``."""
    chosen = tuple(prefixes)
    i = _index(lang)
    return {
        "t": {key: pair[i] for key, pair in MESSAGES.items() if key.startswith(chosen)},
        "codes": {group: {code: pair[i] for code, pair in CODES[group].items()} for group in groups},
    }


def all_texts(lang: str) -> list[str]:
    """Every text of one language (messages and codes), for tests and a translator's review."""
    i = _index(lang)
    return [pair[i] for pair in MESSAGES.values()] + [pair[i] for table in CODES.values() for pair in table.values()]


_WORD = re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'-]+")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def vocabulary(lang: str) -> set[str]:
    """The words (lower case, three letters or more) the catalogue uses in one language."""
    return {w.lower().strip("'-") for t in all_texts(lang) for w in _WORD.findall(_PLACEHOLDER.sub(" ", t)) if len(w) >= 3}


def tell_tales(lang: str, also_allowed: Mapping[str, object] | Iterable[str] = ()) -> set[str]:
    """Words that only the other language uses: one of them on a page in ``lang`` is a text
    that was not translated."""
    other = "en" if lang == "id" else "id"
    return vocabulary(other) - vocabulary(lang) - {w.lower() for w in also_allowed}
