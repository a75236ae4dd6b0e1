"""One message catalogue: every text a person reads, keyed, Bahasa Indonesia first, English second.

The kiosk screen, the maintenance pages (:mod:`kiosk.web`), the central server's pages and its
back office (:mod:`sync.server`) and the codes they show (parts, methods, kinds, statuses, roles,
audit actions) read their words here, by key::

    text("m.dashboard", "en")               -> "Dashboard"
    both("screen.reason.unknown_card")      -> {"id": "Kartu tidak terdaftar", "en": "Card not registered"}
    word("method", "card", "id")            -> "kartu"

A table rather than gettext/Babel: there are two languages, both written by the same people
who write the code; the pages' scripts need the same words as JSON (:func:`for_client`), which a
dict gives for free and a compiled ``.mo`` does not; nothing has to be extracted, compiled or
installed into the Raspberry Pi image; and a test can read every text of one language to find
a word of the other on a page (:func:`vocabulary`). A missing key is a :class:`KeyError`, so a
page that asks for a text nobody wrote fails its test instead of showing the key.

Templates get ``t(key, **values)`` and ``word(group, code)`` bound to the request's language;
``{name}`` placeholders are filled with :meth:`str.format`. Sentences the services and other
modules write in one language (a health detail, a PresensiError's ``screen_text``, the
fingerprint bridge's prompts) are recognised by :data:`DETAILS` and said in the reader's
language by :func:`detail_text`; what no pattern knows is shown as written.

Keys are grouped by prefix: ``screen.`` the kiosk screen, ``line.`` a punch's status line,
``m.`` and ``page.`` the maintenance pages, ``js.`` their scripts, ``diag.`` diagnostics,
``report.`` the fault report, ``s.`` the central server's pages, ``cli.`` the command line,
``said.``/``detail.``/``doctor.``/``refusal.``/``finger.``/``face.``/``bundle.`` recognised
sentences. The table is split by reader: :mod:`core.i18n.unit`, :mod:`core.i18n.server`,
:mod:`core.i18n.sentences`, :mod:`core.i18n.codes` and :mod:`core.i18n.details`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from core.i18n.codes import CODES as CODES
from core.i18n.details import DETAILS as DETAILS
from core.i18n.pair import Pair as Pair
from core.i18n.sentences import SENTENCES
from core.i18n.server import SERVER
from core.i18n.unit import UNIT

LANGS = ("id", "en")
DEFAULT_LANG = "id"
#: The cookie that holds a person's choice on the maintenance pages and the server's pages.
LANG_COOKIE = "presensi_lang"

#: Every keyed text, Bahasa Indonesia first (the groups live in their own modules).
MESSAGES: dict[str, Pair] = {**UNIT, **SERVER, **SENTENCES}


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
            for inner in ("hint", "why"):  # a phrase inside the sentence, recognised on its own
                if inner in values:
                    values[inner] = detail_text(values[inner], lang)
            if "finger" in values:  # a finger named in Bahasa Indonesia, in the reader's language
                code = next((c for c, pair in CODES["finger"].items() if pair[0] == values["finger"]), None)
                values["finger"] = word("finger", code, lang) if code is not None else values["finger"]
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
