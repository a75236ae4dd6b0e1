"""Staff ids a person types: the NIP of a civil servant (PNS), checked part by part, or an id of
the shape the regency gives its other staff (PPPK, honorer), set as ``unit.staff_id_pattern``.

A NIP has 18 digits (BKN's format): the date of birth (YYYYMMDD), the year and month of
appointment (YYYYMM), the sex (1 man, 2 woman) and a sequence number (3 digits).
"""

from __future__ import annotations

import re
from datetime import date

from core.errors import EnrolmentError

NIP_LENGTH = 18


def nip_problem(nip: str) -> str | None:
    """What is wrong with ``nip`` as a NIP, in Bahasa Indonesia; None when it is a valid NIP."""
    if not nip.isdigit() or len(nip) != NIP_LENGTH:
        return f"NIP harus {NIP_LENGTH} angka"
    try:
        born = date(int(nip[0:4]), int(nip[4:6]), int(nip[6:8]))
    except ValueError:
        return "tanggal lahir dalam NIP (angka 1–8) tidak ada di kalender"
    year, month = int(nip[8:12]), int(nip[12:14])
    if not 1 <= month <= 12:
        return "bulan pengangkatan dalam NIP (angka 13–14) harus 01–12"
    if year < born.year + 15:
        return "tahun pengangkatan dalam NIP (angka 9–12) terlalu dekat dengan tahun lahir"
    if nip[14] not in "12":
        return "angka ke-15 NIP (jenis kelamin) harus 1 atau 2"
    return None


def check_staff_id(staff_id: str, pattern: str = "") -> str:
    """``staff_id`` when it is a valid NIP or matches the regency's ``pattern`` for other staff;
    EnrolmentError saying what is wrong otherwise."""
    value = staff_id.strip()
    problem = nip_problem(value)
    if problem is None:
        return value
    if pattern and re.fullmatch(pattern, value):
        return value
    other = f" atau sesuai pola ID pegawai non-PNS ({pattern})" if pattern else ""
    raise EnrolmentError(
        f"staff id {value!r} is neither a valid NIP nor of the configured staff id pattern",
        screen_text=f"NIP/ID tidak valid: {problem}{other}.",
    )
