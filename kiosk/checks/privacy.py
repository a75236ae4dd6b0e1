"""Doctor: the template key, and whether this unit can open the templates it stores."""

from __future__ import annotations

from core.errors import PresensiError
from core.privacy.keys import KeyFileProvider
from core.privacy.seal import Sealer, TemplateKeyError
from core.runtime import Runtime
from core.store.db import open_database
from core.store.vault import FOREIGN_REMEDY, census
from kiosk.checks.findings import Finding, Status, check

_WHAT = {"face_templates": "face", "finger_templates": "finger"}


def _missing_key_file(provider: KeyFileProvider) -> Finding:
    path = provider.path
    return Finding(
        "template key",
        Status.FAIL,
        f"the template key file {path} does not exist: no face or finger template can be stored or read",
        f"make it once as root: install -m 600 -o presensi /dev/null {path} && openssl rand -hex 32 > {path} "
        "(on a Raspberry Pi 4/5 prefer the OTP key, docs/privacy.md)",
    )


@check
def template_key(rt: Runtime) -> list[Finding]:
    """The key that seals templates can be read, and where it lives."""
    try:
        provider = rt.template_key.provider()
        if isinstance(provider, KeyFileProvider) and not provider.path.exists():
            return [_missing_key_file(provider)]
        sealer = rt.template_key.sealer()
    except TemplateKeyError as exc:
        return [
            Finding(
                "template key",
                Status.FAIL,
                f"{rt.config.privacy.key_provider}: {exc}",
                "fix [privacy] (docs/privacy.md); until then no face or finger template can be stored or read",
            )
        ]
    detail = f"{provider.describe()}, key id {sealer.key_id.hex()}"
    if provider.on_card:
        return [
            Finding(
                "template key",
                Status.WARN,
                f"{detail}: the key file sits on the same SD card as the templates",
                "on a Raspberry Pi 4/5 use the OTP key (privacy.key_provider = 'otp' or 'credential', docs/privacy.md)",
            )
        ]
    if rt.config.privacy.key_provider == "sim":
        return [Finding("template key", Status.WARN, f"{detail}: a simulated OTP key from the configuration (tests, demo)")]
    return [Finding("template key", Status.OK, detail)]


@check
def stored_templates(rt: Runtime) -> list[Finding]:
    """Every stored template is sealed, and with this unit's key."""
    if not rt.db_path.exists():
        return []
    sealer: Sealer | None = None
    try:
        provider = rt.template_key.provider()
        if not (isinstance(provider, KeyFileProvider) and not provider.path.exists()):  # doctor makes no key
            sealer = rt.template_key.sealer()
    except TemplateKeyError:
        pass  # template_key says why; count what cannot be opened here
    try:
        conn = open_database(rt.db_path, busy_timeout_ms=rt.config.store.busy_timeout_ms)
    except PresensiError as exc:
        return [Finding("stored templates", Status.FAIL, f"cannot read the database: {exc}")]
    try:
        counts = census(conn, sealer)
    finally:
        conn.close()
    total = sum(c.total for c in counts)
    if not total:
        return [Finding("stored templates", Status.OK, "no face or finger templates stored")]
    foreign = [c for c in counts if c.sealed_elsewhere]
    if foreign:
        what = ", ".join(f"{c.sealed_elsewhere} of {c.total} {_WHAT[c.table]}" for c in foreign)
        if sealer is None:
            return [
                Finding(
                    "stored templates",
                    Status.FAIL,
                    f"{what} templates are sealed and this unit's template key cannot be read",
                    "restore the template key (see the template key finding), then restart the services",
                )
            ]
        keys = sorted({k for c in foreign for k in c.other_keys})
        return [
            Finding(
                "stored templates",
                Status.FAIL,
                f"{what} templates were sealed with another unit's key (key id {', '.join(keys) or '?'}, "
                f"this unit {sealer.key_id.hex()}); those employees cannot punch by face or finger",
                FOREIGN_REMEDY,
            )
        ]
    plain = sum(c.plain for c in counts)
    if plain:
        return [
            Finding(
                "stored templates",
                Status.WARN,
                f"{plain} of {total} templates are stored unsealed",
                "start the kiosk services once with a readable template key: they seal them when they open the database",
            )
        ]
    parts = ", ".join(f"{c.total} {_WHAT[c.table]}" for c in counts)
    return [Finding("stored templates", Status.OK, f"{parts} templates, all sealed with this unit's key")]
