"""Sentences the services and other modules write in one language, said in the reader's:
what the pages' own code says after an action (``said.``), health details (``detail.``),
doctor's findings (``doctor.``), the server's refusals (``refusal.``), the fingerprint
bridge's and the face pipeline's prompts (``finger.``, ``face.``) and a bundle's check
(``bundle.``). Recognised by :data:`core.i18n.details.DETAILS`. Part of :mod:`core.i18n`."""

from __future__ import annotations

from core.i18n.pair import Pair

SENTENCES: dict[str, Pair] = {
    "bundle.incomplete": ("isi bundel tidak lengkap atau ada berkas tambahan", "the bundle is incomplete or holds extra files"),
    "bundle.unreadable": (
        "berkas bukan bundel presensi yang dapat dibaca (rusak atau bukan .zip dari alat)",
        "the file is not a readable punch bundle (damaged, or not a unit's .zip)",
    ),
    "bundle.manifest": ("manifes bundel rusak", "the bundle's manifest is damaged"),
    "bundle.other_unit": ("bundel ini dari alat lain, bukan dari alat ini", "this bundle comes from another unit, not this one"),
    "bundle.manifest_signature": (
        "tanda tangan manifes tidak cocok — bundel telah diubah",
        "the manifest's signature does not match — the bundle was changed",
    ),
    "bundle.punches_changed": (
        "isi presensi telah diubah setelah ditandatangani",
        "the punches were changed after they were signed",
    ),
    "bundle.corrections_changed": (
        "koreksi waktu di dalam bundel telah diubah atau hilang",
        "the time corrections in the bundle were changed or are missing",
    ),
    "bundle.correction_broken": ("ada koreksi waktu yang rusak di dalam bundel", "a time correction in the bundle is damaged"),
    "bundle.corrections_count": (
        "jumlah koreksi waktu tidak sesuai manifes",
        "the number of time corrections does not match the manifest",
    ),
    "bundle.punch_broken": ("ada presensi yang rusak di dalam bundel", "a punch in the bundle is damaged"),
    "bundle.range": (
        "jumlah atau urutan presensi tidak sesuai manifes",
        "the number or order of punches does not match the manifest",
    ),
    "bundle.too_large": ("berkas terlalu besar untuk bundel presensi", "the file is too large for a punch bundle"),
    "bundle.refused": ("Bundel DITOLAK: {why}.", "Bundle REFUSED: {why}."),
    "bundle.refused_reason": ("Bundel DITOLAK: {why}. ({reason})", "Bundle REFUSED: {why}. ({reason})"),
    "bundle.bad_punch": ("presensi nomor {seq} tidak sah", "punch number {seq} is not valid"),
    "bundle.invalid": ("bundel tidak sah", "not a valid bundle"),
    "bundle.valid": (
        "Bundel sah: {n} presensi (nomor {first}–{last}) ditandatangani alat {device}.",
        "Valid bundle: {n} punches (numbers {first}–{last}) signed by unit {device}.",
    ),
    "said.first_account_exists_login": ("Akun pertama sudah dibuat; silakan masuk", "The first account already exists; log in"),
    "said.first_account_exists": ("Akun pertama sudah dibuat", "The first account already exists"),
    "said.password_has_name": ("Kata sandi tidak boleh memuat nama pengguna", "The password must not contain the user name"),
    "said.wrong_setup_code": ("Kode penyiapan salah (lihat layar kiosk)", "Wrong setup code (see the kiosk screen)"),
    "said.wrong_login": ("Nama pengguna atau kata sandi salah", "Wrong user name or password"),
    "said.username_rule": (
        "Nama pengguna: 3–32 karakter a–z, 0–9, titik, garis bawah atau tanda hubung",
        "User name: 3–32 characters a–z, 0–9, dot, underscore or hyphen",
    ),
    "said.pick_role": ("Pilih minimal satu peran", "Tick at least one role"),
    "said.password_short": (
        "Kata sandi terlalu pendek: minimal {n} karakter",
        "The password is too short: at least {n} characters",
    ),
    "said.user_exists": ("Pengguna {name} sudah ada", "The user {name} already exists"),
    "said.locked": (
        "Terlalu banyak percobaan gagal. Coba lagi dalam {s} detik.",
        "Too many failed attempts. Try again in {s} seconds.",
    ),
    "said.passwords_differ": ("Kedua kata sandi tidak sama", "The two passwords differ"),
    "said.bad_id": ("NIP/ID tidak valid", "Not a valid NIP/ID"),
    "said.name_needed": ("Nama wajib diisi", "A name is needed"),
    "said.no_employee": ("Pegawai tidak ditemukan", "Employee not found"),
    "said.bad_uid": ("UID kartu tidak valid", "Not a valid card UID"),
    "said.card_taken": ("Kartu {uid} sudah terdaftar untuk pegawai lain", "Card {uid} is registered to another employee"),
    "said.employee_exists": ("Pegawai {id} sudah ada", "Employee {id} already exists"),
    "said.employee_missing": ("Pegawai {id} tidak ditemukan", "Employee {id} not found"),
    "said.no_card_service": (
        "Pembaca kartu tidak tersambung ke layanan web.",
        "The card reader is not connected to the web service.",
    ),
    "said.no_tap": ("Tidak ada kartu ditempelkan dalam 30 detik. Coba lagi.", "No card was tapped within 30 seconds. Try again."),
    "said.card_registered": ("Kartu {uid} terdaftar.", "Card {uid} registered."),
    "said.no_face_service": (
        "Layanan wajah tidak tersambung ke layanan web.",
        "The face service is not connected to the web service.",
    ),
    "said.no_format": ("Format {fmt} tidak tersedia.", "The format {fmt} is not available."),
    "said.bad_target": (
        "Tujuan ekspor tidak sah: pilih flashdisk dari daftar.",
        "Not a valid destination: choose a USB stick from the list.",
    ),
    "said.nothing_to_export": (
        "Tidak ada presensi untuk diekspor: semua presensi sudah diterima server.",
        "Nothing to export: the server has every punch.",
    ),
    "said.export_failed": ("Ekspor gagal: {error}", "The export failed: {error}"),
    "said.files_copied": (
        "Berkas {files} dibuat dan disalin ke flashdisk {target}.",
        "Made {files} and copied it to the USB stick {target}.",
    ),
    "said.files_made": ("Berkas {files} dibuat{where}.", "Made {files}{where}."),
    "said.no_check": ("Pemeriksaan bundel tidak tersedia di sini.", "Checking bundles is not available here."),
    "said.config_saved": (
        "Konfigurasi disimpan. Mulai ulang layanan di halaman Sistem agar berlaku.",
        "Configuration saved. Restart the services on the System page for it to apply.",
    ),
    "said.form_expired": ("Formulir kedaluwarsa; muat ulang halaman", "The form expired; reload the page"),
    "said.pdf_or_jpeg": ("Dokumen harus berupa PDF atau JPEG", "The document must be a PDF or a JPEG"),
    "said.document_big": ("Dokumen terlalu besar: paling banyak {mb} MB", "The document is too large: at most {mb} MB"),
    "said.admin_needs_office": ("Admin PD perlu kode kantor", "An Admin PD needs an office code"),
    "said.unknown_office": ("Kantor tidak dikenal", "Unknown office"),
    "said.unknown_role": ("Peran tidak dikenal", "Unknown role"),
    "said.not_your_employee": ("Pegawai tidak dikenal di kantor Anda", "No such employee in your office"),
    "said.unknown_code": ("Kode keterangan tidak dikenal", "Unknown absence code"),
    "said.bad_range": ("Rentang tanggal tidak sah", "Not a valid date range"),
    "said.bkpsdm_decides": ("Hanya BKPSDM yang dapat menyetujui keterangan", "Only BKPSDM approves an absence reason"),
    "said.no_keterangan": ("Keterangan tidak ditemukan", "No such absence reason"),
    "said.keterangan_state": ("Keterangan sudah {state}", "The absence reason is already {state}"),
    "said.reason_needed": ("Alasan pembatalan wajib diisi", "Say why the attendance is cancelled"),
    "said.bad_date": ("Tanggal tidak sah", "Not a valid date"),
    "said.keterangan_submitted": ("Keterangan #{n} diajukan", "Absence reason #{n} submitted"),
    "said.keterangan_decided": ("Keterangan #{n} diputuskan", "Absence reason #{n} decided"),
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
    "refusal.not_provisioning_key": (
        "permintaan tidak ditandatangani kunci yang sedang didaftarkan",
        "the request is not signed by the key being provisioned",
    ),
    "refusal.body_shape": (
        "isi permintaan harus objek dengan daftar '{key}'",
        "body must be an object with a list '{key}'",
    ),
    "refusal.correction_unknown_punch": (
        "{label} merujuk presensi yang belum ada di server; unggah presensinya dulu",
        "{label} refers to a punch this server does not hold; upload the punches first",
    ),
    "refusal.correction_mismatch": (
        "{label} tidak cocok dengan presensi yang tersimpan (id, hash, atau waktu tercatat berbeda)",
        "{label} does not match the stored punch (its id, hash or recorded instant differ)",
    ),
    "refusal.correction_other_boot": (
        "{label} memakai jangkar waktu dari nyala (boot) lain daripada presensinya",
        "{label} uses a time anchor of another boot than the punch's",
    ),
    "refusal.correction_malformed": (
        "koreksi #{n} dalam permintaan rusak: {error}",
        "correction #{n} in the request is malformed: {error}",
    ),
    "refusal.correction_twice": (
        "permintaan mengoreksi presensi yang sama dua kali",
        "the request corrects the same punch twice",
    ),
    "refusal.unknown_device": (
        "perangkat {device} tidak dikenal",
        "unknown device {device}",
    ),
    "refusal.correction_other_device": (
        "koreksi presensi {seq} menyebut perangkat {named}, bukan {device}",
        "correction of punch {seq} names device {named}, not {device}",
    ),
    "refusal.id_stored": (
        "id presensi {id} sudah tersimpan sebagai nomor {seq} perangkat ini",
        "punch id {id} is already stored as seq {seq} of this device",
    ),
    "refusal.punch_malformed": (
        "presensi #{n} dalam permintaan rusak: {error}",
        "punch #{n} in the request is malformed: {error}",
    ),
    "refusal.seq_twice": (
        "permintaan membawa nomor urut yang sama dua kali",
        "the request carries the same sequence number twice",
    ),
    "refusal.punch_other_device": (
        "presensi {seq} menyebut perangkat {named}, bukan {device}",
        "punch {seq} names device {named}, not {device}",
    ),
    "refusal.held_unlinked": (
        "presensi tertahan {seq} tidak tersambung ke presensi {prev} (prev_hash berbeda)",
        "held punch {seq} does not link to punch {prev} (prev_hash differs)",
    ),
    "refusal.malformed_header": (
        "kepala {header} rusak",
        "malformed {header}",
    ),
    "refusal.malformed_digest": (
        "Content-Digest rusak (harus sha-256)",
        "malformed Content-Digest (expected sha-256)",
    ),
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
    "finger.place_again": ("Letakkan jari yang sama lagi ({step}/{total})", "Place the same finger again ({step}/{total})"),
    "finger.place": ("Letakkan jari ({step}/{total})", "Place your finger ({step}/{total})"),
    "finger.lift": ("Angkat jari", "Lift your finger"),
    "finger.preparing": ("Menyiapkan", "Getting ready"),
    "finger.saving": ("Menyimpan", "Saving"),
    "finger.unclear": ("Kurang jelas — ulangi", "Not clear — once more"),
    "finger.enrolled": ("Sidik jari terdaftar.", "Fingerprint enrolled."),
    "finger.enrolled_named": ("Sidik jari ({finger}) terdaftar.", "Fingerprint ({finger}) enrolled."),
    "finger.taken": (
        "Sidik jari ini sudah terdaftar (pegawai {owner})",
        "This fingerprint is already enrolled (employee {owner})",
    ),
    "finger.timeout": ("Waktu habis — ulangi pendaftaran.", "Time is up — enrol again."),
    "finger.lost": ("Permintaan pendaftaran hilang — ulangi.", "The enrolment request was lost — try again."),
    "finger.bridge_silent": (
        "Layanan sidik jari tidak menjawab — periksa presensi-bridge dan modul di Dasbor, lalu ulangi.",
        "The fingerprint service does not answer — check presensi-bridge and the module on the Dashboard, then try again.",
    ),
    "finger.db_busy": (
        "Basis data sibuk atau rusak — ulangi. ({error})",
        "The database is busy or damaged — try again. ({error})",
    ),
    "face.progress": ("Pendaftaran wajah: {taken} dari {needed} — tahan", "Face enrolment: {taken} of {needed} — hold still"),
    "face.no_employee": (
        "Pegawai {id} tidak ada di perangkat ini — tambahkan dulu",
        "Employee {id} is not on this unit — add them first",
    ),
    "face.liveness_not_ready": (
        "Pemeriksaan keaslian wajah tidak siap (model tidak ada) — lihat Diagnostik",
        "The liveness check is not ready (its model is missing) — see Diagnostics",
    ),
    "face.spoof": (
        "Wajah tidak lolos pemeriksaan keaslian — pendaftaran dibatalkan",
        "The face did not pass the liveness check — enrolment cancelled",
    ),
    "face.enrolled": (
        "Wajah {name} terdaftar: {n} sampel dari kamera kiosk",
        "{name}'s face enrolled: {n} samples from the kiosk camera",
    ),
    "face.timeout": (
        "Waktu habis — baru {taken} dari {needed} sampel ({hint}). Coba lagi.",
        "Time is up — only {taken} of {needed} samples ({hint}). Try again.",
    ),
    "face.hint_no_face": ("tidak ada wajah di depan kamera", "no face in front of the camera"),
    "face.hint_many": ("lebih dari satu wajah terlihat", "more than one face in view"),
    "face.hint_quality": ("wajah belum memenuhi syarat mutu", "the face is not yet good enough"),
    "face.hint_liveness": ("pemeriksaan keaslian belum selesai", "the liveness check has not finished"),
    "face.camera_unusable": (
        "Kamera kiosk tidak dapat dipakai — lihat Dasbor dan Diagnostik",
        "The kiosk camera cannot be used — see the Dashboard and Diagnostics",
    ),
    "face.camera_busy": (
        "Kamera sedang dipakai ({other}) — coba lagi sebentar lagi",
        "The camera is in use ({other}) — try again shortly",
    ),
}
