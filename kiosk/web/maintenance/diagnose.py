"""The diagnostics button: checks in the order a technician would, each answered in plain
language with what to do (Bahasa Indonesia and English).

Order: power → cable → IP address and subnet → central server (DNS, TCP, TLS, auth) → clock →
disk → devices and services → database → the remaining ``presensi doctor`` findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kiosk.clock import ClockState
from kiosk.doctor import Finding, Status
from kiosk.i18n import detail_text, word
from kiosk.web.maintenance.hostinfo import Disk, Interface, gateway_in_subnet
from kiosk.web.maintenance.netprobe import ProbeStep
from kiosk.web.status import PartView, SyncState


@dataclass(frozen=True)
class Answer:
    step: str
    status: str  # ok | warn | fail | skip
    say_id: str
    say_en: str
    todo_id: str = ""
    todo_en: str = ""


@dataclass(frozen=True)
class Facts:
    under_voltage: bool | None
    interfaces: Sequence[Interface]
    gateway: str | None
    server_configured: bool
    probe: Sequence[ProbeStep]
    clock_state: ClockState
    disk: Disk | None
    min_free_mb: int
    parts: Sequence[PartView]
    sync: SyncState
    integrity_ok: bool
    integrity_message: str
    doctor: Sequence[Finding]


def diagnose(f: Facts) -> list[Answer]:  # noqa: PLR0915 - the checks in order, one after another
    out: list[Answer] = []
    # 1. power
    if f.under_voltage:
        out.append(
            Answer(
                "power",
                "fail",
                "Tegangan listrik kurang (under-voltage).",
                "The power supply is too weak (under-voltage).",
                "Ganti adaptor dengan yang resmi 5 V 3 A dan kabel pendek; jangan dari port USB komputer.",
                "Use the official 5 V 3 A supply and a short cable; not a computer's USB port.",
            )
        )
    elif f.under_voltage is None:
        out.append(Answer("power", "skip", "Tegangan tidak dapat dibaca di mesin ini.", "Supply voltage cannot be read here."))
    else:
        out.append(Answer("power", "ok", "Catu daya normal.", "Power supply is fine."))
    # 2. cable / link
    wired = [i for i in f.interfaces if not i.wireless]
    linked = [i for i in f.interfaces if i.up and i.carrier is not False]
    if not f.interfaces:
        out.append(
            Answer("cable", "fail", "Tidak ada antarmuka jaringan.", "No network interface.", "Hubungi teknisi TI.", "Call IT.")
        )
    elif not linked:
        names = ", ".join(i.name for i in wired) or ", ".join(i.name for i in f.interfaces)
        out.append(
            Answer(
                "cable",
                "fail",
                f"Kabel jaringan tidak tersambung ({names}).",
                f"No network link ({names}).",
                "Periksa kabel LAN dan lampu port switch; coba port atau kabel lain. Untuk Wi-Fi, periksa nama dan sandi jaringan.",
                "Check the LAN cable and the switch port light; try another port or cable. For Wi-Fi, check the network name and password.",
            )
        )
    else:
        out.append(Answer("cable", "ok", f"Jaringan tersambung ({linked[0].name}).", f"Network link up ({linked[0].name})."))
    # 3. IP and subnet
    addressed = [i for i in linked if i.addresses]
    if linked and not addressed:
        out.append(
            Answer(
                "ip",
                "fail",
                "Perangkat tidak mendapat alamat IP.",
                "The unit has no IP address.",
                "Periksa server DHCP kantor, atau atur IP statis yang benar di halaman Konfigurasi.",
                "Check the office DHCP server, or set a correct static IP.",
            )
        )
    elif addressed and f.gateway and not any(gateway_in_subnet(i.addresses, f.gateway) for i in addressed):
        addrs = ", ".join(a for i in addressed for a in i.addresses)
        out.append(
            Answer(
                "ip",
                "fail",
                f"Alamat IP ({addrs}) berada di subnet yang salah: gateway {f.gateway} di luar jangkauan.",
                f"The IP address ({addrs}) is in the wrong subnet: gateway {f.gateway} is outside it.",
                "Minta alamat IP yang sesuai jaringan kantor kepada admin jaringan, atau perbaiki netmask/gateway.",
                "Ask the network admin for an address in the office network, or fix the netmask/gateway.",
            )
        )
    elif addressed:
        addrs = ", ".join(a for i in addressed for a in i.addresses)
        gw = f", gateway {f.gateway}" if f.gateway else ""
        out.append(Answer("ip", "ok", f"Alamat IP {addrs}{gw}.", f"IP address {addrs}{gw}."))
    # 4. central server
    out.extend(_server(f))
    # 5. clock
    if f.clock_state is ClockState.SYNCED:
        out.append(Answer("clock", "ok", "Jam tersinkron.", "Clock synchronised."))
    else:
        out.append(
            Answer(
                "clock",
                "warn" if f.clock_state is ClockState.RTC else "fail",
                "Jam belum tersinkron ("
                + ("baterai RTC" if f.clock_state is ClockState.RTC else "tidak ada sumber waktu")
                + ").",
                "Clock not synchronised (" + ("battery RTC" if f.clock_state is ClockState.RTC else "no time source") + ").",
                "Sambungkan jaringan agar NTP bisa menyetel jam, atau setel waktu di halaman Sistem.",
                "Connect the network so NTP can set it, or set the time on the System page.",
            )
        )
    # 6. disk
    if f.disk is None:
        out.append(
            Answer(
                "disk",
                "fail",
                "Ruang disk tidak terbaca.",
                "Cannot read free disk space.",
                "Periksa kartu SD.",
                "Check the SD card.",
            )
        )
    elif f.disk.free_mb < f.min_free_mb:
        out.append(
            Answer(
                "disk",
                "fail",
                f"Disk penuh: sisa {f.disk.free_mb:.0f} MB.",
                f"Disk full: {f.disk.free_mb:.0f} MB free.",
                "Ekspor presensi ke flashdisk lalu hubungi teknisi untuk membersihkan log lama.",
                "Export punches to a USB stick, then have old logs removed (journalctl --vacuum-size=50M).",
            )
        )
    else:
        out.append(Answer("disk", "ok", f"Sisa disk {f.disk.free_mb:.0f} MB.", f"{f.disk.free_mb:.0f} MB free."))
    # 7. devices and services
    for p in f.parts:
        name = (word("part", p.part, "id"), word("part", p.part, "en"))
        said = (detail_text(p.detail, "id"), detail_text(p.detail, "en"))
        if p.stale:
            out.append(
                Answer(
                    p.part,
                    "fail",
                    f"{name[0]} tidak menjawab (laporan terakhir {p.updated_at}).",
                    f"{name[1]} is not answering (last report {p.updated_at}).",
                    "Mulai ulang layanannya di halaman Sistem; bila tetap, periksa kabel/konektor perangkatnya.",
                    "Restart its service on the System page; if it stays, check the device's cable and connector.",
                )
            )
        elif p.status != "ok":
            err = f": {p.last_error}" if p.last_error else ""
            out.append(
                Answer(
                    p.part,
                    "fail" if p.status == "fail" else "warn",
                    f"{name[0]} bermasalah — {said[0]}{err}",
                    f"{name[1]} has a problem — {said[1]}{err}",
                    "Periksa kabel perangkat dan mulai ulang layanannya di halaman Sistem.",
                    "Check the device's cable and restart its service on the System page.",
                )
            )
        else:
            out.append(Answer(p.part, "ok", f"{name[0]}: {said[0] or 'baik'}", f"{name[1]}: {said[1] or 'fine'}"))
    # 8. database
    if f.integrity_ok:
        out.append(Answer("database", "ok", "Basis data utuh.", "Database intact."))
    else:
        out.append(
            Answer(
                "database",
                "fail",
                f"Basis data rusak: {f.integrity_message}",
                f"Database damaged: {f.integrity_message}",
                "Ekspor presensi yang masih valid, lalu hubungi teknisi untuk memulihkan basis data.",
                "Export what verifies, then restore the database.",
            )
        )
    # 9. the rest of doctor's findings
    covered = {"disk", "clock", "database"}
    for finding in f.doctor:
        if finding.part in covered or finding.status is Status.OK:
            continue
        status = "fail" if finding.status is Status.FAIL else "warn"
        out.append(
            Answer(
                finding.part,
                status,
                f"{word('part', finding.part, 'id')}: {detail_text(finding.detail, 'id')}",
                f"{word('part', finding.part, 'en')}: {detail_text(finding.detail, 'en')}",
                detail_text(finding.todo, "id"),
                detail_text(finding.todo, "en"),
            )
        )
    return out


def _server(f: Facts) -> list[Answer]:
    if not f.server_configured:
        return [
            Answer(
                "server",
                "skip",
                "Server pusat belum diatur.",
                "No central server configured.",
                "Daftarkan unit: presensi provision --server URL --token TOKEN --ca CA.pem.",
                "Register the unit: presensi provision --server URL --token TOKEN --ca CA.pem.",
            )
        ]
    by = {s.step: s for s in f.probe}
    todo = {
        "dns": (
            "Nama server tidak dapat dicari (DNS).",
            "The server's name cannot be looked up (DNS).",
            "Periksa pengaturan DNS jaringan kantor, atau hubungi admin jaringan.",
            "Check the office network's DNS, or call the network admin.",
        ),
        "tcp": (
            "Server pusat tidak dapat dihubungi.",
            "The central server cannot be reached.",
            "Periksa apakah internet kantor berjalan dan firewall membuka port server; tanyakan ke Kominfo bila server sedang mati.",
            "Check the office internet and that the firewall allows the server's port; ask Kominfo whether the server is down.",
        ),
        "tls": (
            "Sambungan aman ke server gagal (sertifikat).",
            "The secure connection to the server failed (certificate).",
            "Periksa jam perangkat dan sertifikat CA server (sync.ca_file).",
            "Check the unit's clock and the server CA (sync.ca_file).",
        ),
        "auth": (
            "Server menolak perangkat ini.",
            "The server refuses this unit.",
            "Daftarkan ulang perangkat ke server (token provisioning) atau hubungi Kominfo.",
            "Re-provision the unit with the server or call Kominfo.",
        ),
    }
    for step in ("dns", "tcp", "tls", "auth"):
        s = by.get(step)
        if s is not None and s.ok is False:
            say_id, say_en, do_id, do_en = todo[step]
            return [Answer("server", "fail", f"{say_id} ({s.detail})", f"{say_en} ({s.detail})", do_id, do_en)]
    pending = f" — {f.sync.unsent} presensi belum terkirim" if f.sync.unsent else ""
    return [Answer("server", "ok", f"Server pusat terjangkau{pending}.", f"Central server reachable ({f.sync.unsent} unsent).")]
