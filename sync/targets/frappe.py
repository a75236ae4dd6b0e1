"""Frappe HR: each punch becomes an Employee Checkin through the whitelisted method
``hrms.hr.doctype.employee_checkin.employee_checkin.add_log_based_on_employee_field``.

The method's contract (HRMS): form fields ``employee_field_value`` and ``timestamp`` are
required, ``device_id``, ``log_type`` (IN/OUT) and ``employee_fieldname`` optional; token
authentication (``Authorization: token <key>:<secret>``). Errors come back as HTTP 417
(ValidationError) with the message in ``_server_messages``/``exception``:

- "This employee already has a log with the same timestamp." — the punch is already there
  (a retried request that had succeeded): counted as delivered;
- "No Employee found for the given employee field value …" and "Transactions cannot be created
  for an Inactive Employee …" — rejected for good, reported, and passed over.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx

from core.config import FrappeTargetConfig, read_secret
from core.errors import ConfigError, SyncError
from core.store.punches import Punch
from sync.targets.base import Delivery, TargetUnavailable

log = logging.getLogger(__name__)

METHOD_PATH = "/api/method/hrms.hr.doctype.employee_checkin.employee_checkin.add_log_based_on_employee_field"
DUPLICATE = "already has a log with the same timestamp"
LOG_TYPES = {"masuk": "IN", "pulang": "OUT"}


def frappe_message(response: httpx.Response) -> str:
    """The human message of a Frappe error response."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:300]
    messages = []
    raw = data.get("_server_messages") if isinstance(data, dict) else None
    if isinstance(raw, str):
        try:
            for item in json.loads(raw):
                messages.append(
                    str(json.loads(item).get("message", item)) if isinstance(item, str) and item.startswith("{") else str(item)
                )
        except (ValueError, TypeError, AttributeError):
            messages.append(raw)
    if isinstance(data, dict) and data.get("exception"):
        messages.append(str(data["exception"]))
    return " | ".join(messages) or response.reason_phrase


class FrappeHrTarget:
    type_key: ClassVar[str] = "frappe"

    def __init__(
        self,
        name: str,
        url: str,
        api_key: str,
        api_secret: str,
        *,
        unit_zone: str,
        device_id: str,
        site_zone: str = "",
        employee_fieldname: str = "attendance_device_id",
        ca_file: Path | None = None,
        allow_plain_http: bool = False,
        timeout_s: float = 20.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        scheme = urlsplit(url).scheme
        if scheme == "http" and not allow_plain_http:
            raise ConfigError(
                f"refusing plain http to the Frappe site {url}: use https:// or set allow_plain_http for this target"
            )
        if scheme not in ("http", "https"):
            raise ConfigError(f"the Frappe site URL {url!r} is not an http(s) URL")
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
        self.name = name
        self.url = url.rstrip("/")
        self.device_id = device_id
        self.zone = ZoneInfo(site_zone or unit_zone)
        self.employee_fieldname = employee_fieldname
        self.plain_http = scheme == "http"
        self._http = httpx.Client(
            verify=verify, timeout=timeout_s, transport=transport, headers={"Authorization": f"token {api_key}:{api_secret}"}
        )

    def __repr__(self) -> str:
        return f"FrappeHrTarget({self.name}, {self.url})"

    def close(self) -> None:
        self._http.close()

    def deliver(self, punches: Sequence[Punch], after_seq: int) -> Delivery:
        done = Delivery(after_seq)
        for punch in punches:
            form = {
                "employee_field_value": punch.employee_id,
                "timestamp": punch.at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S"),
                "device_id": self.device_id,
                "employee_fieldname": self.employee_fieldname,
            }
            if punch.kind in LOG_TYPES:
                form["log_type"] = LOG_TYPES[punch.kind]
            try:
                response = self._http.post(f"{self.url}{METHOD_PATH}", data=form)
            except httpx.HTTPError as exc:
                raise TargetUnavailable(f"cannot reach {self.url}: {type(exc).__name__}") from exc
            status = response.status_code
            if status == 200:
                done.delivered += 1
            elif status in (401, 403):
                raise SyncError(f"the Frappe site refused our API key ({status}): check the integration user's key and secret")
            elif status in (429, 500, 502, 503, 504):
                retry = response.headers.get("retry-after")
                raise TargetUnavailable(f"the Frappe site answered {status}", float(retry) if retry and retry.isdigit() else None)
            else:
                message = frappe_message(response)
                if DUPLICATE in message:
                    done.duplicates += 1
                else:
                    log.warning("Frappe rejected punch %d for good: %s", punch.seq, message[:200])
                    done.rejects.append((punch.seq, punch.id, message[:500]))
            done.through_seq = punch.seq
        return done


def build_frappe(config: object, *, unit_zone: str, device_id: str) -> FrappeHrTarget:

    assert isinstance(config, FrappeTargetConfig)
    key, secret = read_secret(config.api_key_file), read_secret(config.api_secret_file)
    if not key or not secret:
        raise ConfigError(f"targets.{config.name}: the API key or secret file is empty")
    return FrappeHrTarget(
        config.name,
        config.url,
        key,
        secret,
        unit_zone=unit_zone,
        device_id=device_id,
        site_zone=config.site_zone,
        employee_fieldname=config.employee_fieldname,
        ca_file=config.ca_file,
        allow_plain_http=config.allow_plain_http,
    )
