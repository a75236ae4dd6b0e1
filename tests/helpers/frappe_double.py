"""A Frappe HR site reduced to what the unit uses, written from HRMS's published contract of
``add_log_based_on_employee_field`` (not from our client): token auth, required fields, the
Employee lookup by ``employee_fieldname``, Employee Checkin's duplicate and inactive checks, and
Frappe's error envelope (HTTP 417, ``exc_type``, ``_server_messages``)."""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass, field

from fastapi import FastAPI, Form, Header, Response
from fastapi.responses import JSONResponse

PATH = "/api/method/hrms.hr.doctype.employee_checkin.employee_checkin.add_log_based_on_employee_field"


@dataclass
class FrappeSite:
    api_key: str = "k3y"
    api_secret: str = "s3cret"
    employees: dict[str, dict[str, str]] = field(default_factory=dict)  # attendance_device_id -> {name, status}
    checkins: list[dict[str, str]] = field(default_factory=list)
    fail_rate: float = 0.0  # share of requests answered 503 before doing anything
    fail_after_insert_rate: float = 0.0  # share answered 502 *after* the insert (a lost reply)
    rng: random.Random = field(default_factory=lambda: random.Random(5))
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error(status: int, exc_type: str, message: str) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={
            "exc_type": exc_type,
            "exception": f"frappe.exceptions.{exc_type}: {message}",
            "_server_messages": json.dumps([json.dumps({"message": message, "title": "Message", "indicator": "red"})]),
        },
    )


def make_app(site: FrappeSite) -> FastAPI:
    app = FastAPI()

    @app.post(PATH)
    def add_log(
        authorization: str | None = Header(None),
        employee_field_value: str | None = Form(None),
        timestamp: str | None = Form(None),
        device_id: str | None = Form(None),
        log_type: str | None = Form(None),
        skip_auto_attendance: int = Form(0),
        employee_fieldname: str = Form("attendance_device_id"),
    ) -> Response:
        if authorization != f"token {site.api_key}:{site.api_secret}":
            return _error(401, "AuthenticationError", "Invalid Request")
        with site.lock:
            if site.rng.random() < site.fail_rate:
                return JSONResponse(status_code=503, content={"message": "Service Unavailable"})
            if not employee_field_value or not timestamp:
                return _error(417, "ValidationError", "'employee_field_value' and 'timestamp' are required.")
            employee = site.employees.get(employee_field_value) if employee_fieldname == "attendance_device_id" else None
            if employee is None:
                return _error(
                    417,
                    "ValidationError",
                    f"No Employee found for the given employee field value. '{employee_fieldname}': {employee_field_value}",
                )
            if employee["status"] == "Inactive":
                return _error(
                    417,
                    "InactiveEmployeeStatusError",
                    f"Transactions cannot be created for an Inactive Employee {employee['name']}.",
                )
            if any(c["employee"] == employee["name"] and c["time"] == timestamp for c in site.checkins):
                return _error(417, "ValidationError", "This employee already has a log with the same timestamp.<Br>EMP-CKIN-0001")
            doc = {"employee": employee["name"], "time": timestamp, "device_id": device_id or "", "log_type": log_type or ""}
            site.checkins.append(doc)
            if site.rng.random() < site.fail_after_insert_rate:
                return JSONResponse(status_code=502, content={"message": "Bad Gateway"})
            return JSONResponse({"message": {"doctype": "Employee Checkin", "name": f"EMP-CKIN-{len(site.checkins):05d}", **doc}})

    return app
