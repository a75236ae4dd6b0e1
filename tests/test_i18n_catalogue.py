"""The one message catalogue (core.i18n): every key a page, a script or the screen asks for
is written, in both languages, with the same placeholders (issue 23, item 5)."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from core import i18n

ROOT = Path(__file__).resolve().parents[1]
PAGES = [*ROOT.glob("kiosk/web/templates/*.html"), *ROOT.glob("sync/server/pages/*.html")]
SCRIPTS = list(ROOT.glob("kiosk/web/static/*.js"))
PYTHON = [*ROOT.glob("kiosk/web/**/*.py"), *ROOT.glob("sync/server/*.py")]
KEY = re.compile(r"""\b(?:t|say|text)\(\s*(?:request,\s*)?["']([a-z0-9_]+\.[a-z0-9_.]+)["']""")
WORD = re.compile(r"""\bword\(\s*["']([a-z_]+)["']""")


def _placeholders(message: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(message) if name}


@pytest.mark.parametrize("key", sorted(i18n.MESSAGES))
def test_each_message_has_both_languages_with_the_same_placeholders(key: str) -> None:
    indonesian, english = i18n.MESSAGES[key]
    assert indonesian.strip() and english.strip(), key
    assert _placeholders(indonesian) == _placeholders(english), key


def test_every_key_asked_for_is_written() -> None:
    missing = {}
    for path in [*PAGES, *SCRIPTS, *PYTHON]:
        body = path.read_text(encoding="utf-8")
        for key in KEY.findall(body):
            if key not in i18n.MESSAGES:
                missing.setdefault(key, path.name)
        for group in WORD.findall(body):
            if group not in i18n.CODES:
                missing.setdefault(f"codes[{group}]", path.name)
    assert missing == {}


def test_no_page_keeps_inline_pairs() -> None:
    """Pages ask the catalogue by key; no template writes its own pair of texts any more."""
    inline = [p.name for p in PAGES if re.search(r"\btr\(", p.read_text(encoding="utf-8"))]
    assert inline == []


def test_codes_in_words() -> None:
    assert i18n.word("part", "card_reader", "id") == "Pembaca kartu"
    assert i18n.word("part", "card_reader", "en") == "Card reader"
    assert i18n.word("status", "tanpa_jadwal", "id") == "tanpa jadwal"
    assert i18n.word("audit", "setup.failed", "en") == "wrong setup code"
    assert i18n.words("role", ["admin", "technician"], "id") == "Admin PD, Teknisi"
    assert i18n.word("clock", None, "id") == "—"
    assert i18n.word("part", "new_part", "id") == "new part"  # never with its underscore


def test_tell_tales_are_words_of_one_language_only() -> None:
    english = i18n.tell_tales("id")
    indonesian = i18n.tell_tales("en")
    assert {"camera", "card", "fingerprint", "connected", "synchronised"} <= english
    assert {"kamera", "kartu", "tersinkron", "pegawai"} <= indonesian
    assert not english & i18n.vocabulary("id") and not indonesian & i18n.vocabulary("en")


@pytest.mark.parametrize(("pattern", "key"), [(p.pattern, k) for p, k in i18n.DETAILS])
def test_each_recognised_sentence_fills_its_texts(pattern: str, key: str) -> None:
    """What a service or a page's code wrote is recognised by a pattern whose named values are
    exactly the placeholders of its texts."""
    names = set(re.compile(pattern).groupindex)
    assert _placeholders(i18n.MESSAGES[key][0]) == names == _placeholders(i18n.MESSAGES[key][1]), key


def test_sentences_the_programs_write_read_in_either_language() -> None:
    assert i18n.detail_text("sim-zhiantec module connected, 3 templates", "id") == "modul sim-zhiantec tersambung, 3 templat"
    assert i18n.detail_text("Tersinkron; antrean 0", "en") == "Synchronised; 0 queued"
    assert i18n.detail_text("Nama pengguna atau kata sandi salah", "en") == "Wrong user name or password"
    assert i18n.detail_text("something no pattern knows", "id") == "something no pattern knows"


def test_the_face_prompts_read_in_either_language() -> None:
    """The face pipeline's and the liveness challenge's prompts (written in Bahasa Indonesia) are
    the catalogue's, so the kiosk screen and the employee page say them in English too."""
    from kiosk.face.quality import Prompt  # late: loads numpy and the face code, only this test needs it
    from kiosk.liveness.challenge import PROMPT_TEXT  # late: as above

    for said in [p.value for p in Prompt] + list(PROMPT_TEXT.values()):
        assert i18n.detail_text(said, "en") != said, said
