"""Employees and their enrolment (Admin PD): the list, one employee's page, cards by a tap on
the reader, erasure, faces from the kiosk camera and fingers through the fingerprint bridge."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from core.errors import PresensiError
from core.i18n import detail_text, word
from core.store import records
from core.store.accounts import Session
from core.store.erasure import erase_employee
from kiosk.web.maintenance import fingers
from kiosk.web.maintenance.fingers import FINGER_NAMES
from kiosk.web.pages import Ctx, note, render
from kiosk.web.ports import Decision, EnrolResult, Message, Prompt
from kiosk.web.security import ADMIN_ONLY, say

if TYPE_CHECKING:
    from kiosk.web.context import WebContext

log = logging.getLogger(__name__)

CARD_TAP_TIMEOUT_S = 30.0
ENROL_TIMEOUT_S = 60.0
FINGER_CAPTURES_MAX = 4  # placings plus lifts a module family asks for, each within fingerprint.enrol_timeout_s


class FingerProgressOut(BaseModel):
    found: bool
    id: int | None = None
    employee_id: str | None = None
    finger: int | None = None
    state: str | None = None
    step: int | None = None
    message: str | None = None
    prompt: str | None = None
    finished: bool | None = None
    requested_by: str | None = None
    updated_at: str | None = None


class FingerOut(BaseModel):
    finger: int
    name: str
    family: str
    created_at: str


class FacePromptOut(BaseModel):
    prompt: str | None  # what the kiosk screen tells the person in front of the camera now


class FingerEnrolOut(BaseModel):
    ok: bool
    message: str
    state: str
    fingers: list[FingerOut]


def progress_out(progress: fingers.FingerProgress, lang: str) -> FingerProgressOut:
    """An enrolment's progress with the bridge's words in ``lang``."""
    out = asdict(progress)
    out["message"] = detail_text(progress.message, lang)
    out["prompt"] = detail_text(progress.prompt, lang)
    return FingerProgressOut(found=True, **out)


router = APIRouter()


@router.get("/employees", include_in_schema=False)
def employees_page(request: Request, ctx: Ctx, q: str = "", session: Session = ADMIN_ONLY) -> Response:
    return render(request, "employees.html", rows=records.employees(ctx.db.get(), q[:80]), q=q[:80], error=None)


@router.get("/api/employees", response_model=list[records.EmployeeRow], tags=["employees"])
def employees_api(
    ctx: Ctx,
    q: Annotated[str, Query(max_length=80)] = "",
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    session: Session = ADMIN_ONLY,
) -> list[records.EmployeeRow]:
    """Employees with how many faces, cards and fingers each has enrolled."""
    return records.employees(ctx.db.get(), q, limit)


@router.post("/employees", include_in_schema=False)
def add_employee(
    request: Request,
    ctx: Ctx,
    *,
    employee_id: Annotated[str, Form(max_length=64)],
    name: Annotated[str, Form(max_length=120)],
    unit_code: Annotated[str, Form(max_length=40)] = "",
    session: Session = ADMIN_ONLY,
) -> Response:
    try:
        records.add_employee(
            ctx.db.get(),
            employee_id.strip(),
            name,
            unit_code,
            ctx.clock.now(),
            staff_id_pattern=ctx.config.unit.staff_id_pattern,
        )
    except PresensiError as exc:
        return render(request, "employees.html", 400, rows=records.employees(ctx.db.get()), q="", error=exc.screen_text)
    note(ctx, session, "employee.add", employee_id=employee_id.strip())
    return RedirectResponse(f"/employees/{employee_id.strip()}", status_code=303)


def employee_view(ctx: WebContext, request: Request, employee_id: str, status: int = 200, **extra: object) -> Response:
    row = records.employee(ctx.db.get(), employee_id)
    if row is None:
        return render(request, "error.html", 404, title="404", message=f"Pegawai {employee_id} tidak ditemukan")
    s = ctx.services
    latest = fingers.latest_for(ctx.db.get(), employee_id)
    return render(
        request,
        "employee.html",
        status,
        e=row,
        cards=records.cards_of(ctx.db.get(), employee_id),
        fingers=records.fingers_of(ctx.db.get(), employee_id),
        finger_names=FINGER_NAMES,
        finger_since=latest.id if latest is not None else 0,
        can_card=s.cards is not None,
        can_face=s.faces is not None,
        can_finger=s.fingers is not None,
        **{"message": None, "error": None, **extra},
    )


@router.get("/employees/{employee_id}", include_in_schema=False)
def employee_page(request: Request, ctx: Ctx, employee_id: str, session: Session = ADMIN_ONLY) -> Response:
    return employee_view(ctx, request, employee_id)


@router.post("/employees/{employee_id}/card", include_in_schema=False)
def register_card_by_tap(request: Request, ctx: Ctx, employee_id: str, session: Session = ADMIN_ONLY) -> Response:
    """Wait for a tap on the unit's reader and bind that card to the employee."""
    if records.employee(ctx.db.get(), employee_id) is None:
        return employee_view(ctx, request, employee_id)
    if ctx.services.cards is None:
        return employee_view(ctx, request, employee_id, 503, error="Pembaca kartu tidak tersambung ke layanan web.")
    uid = ctx.services.cards.capture_next_uid(CARD_TAP_TIMEOUT_S)
    if uid is None:
        note(ctx, session, "card.register.timeout", employee_id=employee_id)
        return employee_view(ctx, request, employee_id, 408, error="Tidak ada kartu ditempelkan dalam 30 detik. Coba lagi.")
    try:
        norm = records.register_card(ctx.db.get(), uid, employee_id, ctx.clock.now())
    except PresensiError as exc:
        note(ctx, session, "card.register.refused", employee_id=employee_id, reason=str(exc))
        return employee_view(ctx, request, employee_id, 409, error=exc.screen_text)
    note(ctx, session, "card.register", employee_id=employee_id, uid=norm)
    return employee_view(ctx, request, employee_id, message=f"Kartu {norm} terdaftar.")


@router.post("/employees/{employee_id}/cards/{uid}/delete", include_in_schema=False)
def delete_card(request: Request, ctx: Ctx, employee_id: str, uid: str, session: Session = ADMIN_ONLY) -> Response:
    try:
        owner = records.remove_card(ctx.db.get(), uid)
    except PresensiError as exc:
        return employee_view(ctx, request, employee_id, 400, error=exc.screen_text)
    if owner:
        note(ctx, session, "card.remove", employee_id=owner, uid=records.normalise_uid(uid))
    return RedirectResponse(f"/employees/{employee_id}", status_code=303)


@router.post("/employees/{employee_id}/erase", include_in_schema=False)
def erase(
    request: Request,
    ctx: Ctx,
    employee_id: str,
    confirmed: Annotated[str, Form(max_length=5)] = "",
    session: Session = ADMIN_ONLY,
) -> Response:
    """Every template (face, finger) and card of the employee, after a confirmation; the
    bridge removes the finger slots from its modules when it sees the change."""
    row = records.employee(ctx.db.get(), employee_id)
    if row is None:
        return employee_view(ctx, request, employee_id)
    if confirmed != "yes":
        return render(
            request,
            "confirm.html",
            action=f"/employees/{employee_id}/erase",
            what=say(request, "page.confirm_erase", name=row.name, id=employee_id),
            fields={},
            back=f"/employees/{employee_id}",
        )
    erased = erase_employee(ctx.db.get(), employee_id, now=ctx.clock.now(), actor=session.username, reason="maintenance page")
    return employee_view(
        ctx,
        request,
        employee_id,
        message=say(
            request,
            "page.erased",
            faces=erased.face_templates,
            fingers=erased.finger_templates,
            cards=erased.cards,
            photos=erased.evidence_photos,
        ),
    )


@router.post("/employees/{employee_id}/face", include_in_schema=False)
def enrol_face(request: Request, ctx: Ctx, employee_id: str, session: Session = ADMIN_ONLY) -> Response:
    if records.employee(ctx.db.get(), employee_id) is None:
        return employee_view(ctx, request, employee_id)
    if ctx.services.faces is None:
        return employee_view(ctx, request, employee_id, 503, error="Layanan wajah tidak tersambung ke layanan web.")
    result = ctx.services.faces.enrol_face(employee_id, ENROL_TIMEOUT_S)
    note(ctx, session, "face.enrol" if result.ok else "face.enrol.failed", employee_id=employee_id)
    return employee_view(
        ctx, request, employee_id, 200 if result.ok else 422, **{"message" if result.ok else "error": result.message}
    )


def enrol_finger_audited(ctx: WebContext, session: Session, employee_id: str, finger: int) -> EnrolResult:
    if ctx.services.fingers is None:
        return EnrolResult(False, "Modul sidik jari tidak tersambung ke layanan web.", {"state": "not_connected"})
    timeout_s = max(ENROL_TIMEOUT_S, FINGER_CAPTURES_MAX * ctx.config.fingerprint.enrol_timeout_s)
    result = ctx.services.fingers.enrol_finger(employee_id, finger, timeout_s)
    note(
        ctx,
        session,
        "finger.enrol" if result.ok else "finger.enrol.failed",
        employee_id=employee_id,
        finger=finger,
        enrolment=result.detail.get("enrolment"),
        state=result.detail.get("state"),
        message=result.message,
    )
    return result


class FacePrompt:
    """The face service's current prompt, followed on the decision hub (one per app, on ``app.state``)."""

    def __init__(self) -> None:
        self.text: str | None = None

    def follow(self, message: Message) -> None:
        if isinstance(message, Prompt) and message.code == "face":
            self.text = message.text
        elif isinstance(message, Decision):
            self.text = None


async def face_prompt(request: Request) -> FacePrompt:
    prompt: FacePrompt = request.app.state.face_prompt
    return prompt


@router.get("/api/face/prompt", response_model=FacePromptOut, tags=["enrolment"])
def face_prompt_api(
    request: Request, prompt: Annotated[FacePrompt, Depends(face_prompt)], session: Session = ADMIN_ONLY
) -> FacePromptOut:
    """The face service's current prompt on the kiosk screen (quality, liveness challenge, or
    enrolment progress) in the page's language: the employee page shows it live while a face
    is being enrolled."""
    shown = prompt.text
    return FacePromptOut(prompt=detail_text(shown, request.state.lang) if shown else shown)


@router.post("/employees/{employee_id}/finger", include_in_schema=False)
def enrol_finger(
    request: Request,
    ctx: Ctx,
    employee_id: str,
    finger: Annotated[int, Form(ge=0, le=9)],
    session: Session = ADMIN_ONLY,
) -> Response:
    """The form without scripts: answers when the bridge has finished."""
    if records.employee(ctx.db.get(), employee_id) is None:
        return employee_view(ctx, request, employee_id)
    result = enrol_finger_audited(ctx, session, employee_id, finger)
    status = 200 if result.ok else 503 if result.detail.get("state") == "not_connected" else 422
    return employee_view(ctx, request, employee_id, status, **{"message" if result.ok else "error": result.message})


@router.post("/api/fingers/enrolment", response_model=FingerEnrolOut, tags=["enrolment"])
def finger_enrol_api(
    request: Request,
    ctx: Ctx,
    employee_id: Annotated[str, Query(min_length=1, max_length=64)],
    finger: Annotated[int, Query(ge=0, le=9)],
    session: Session = ADMIN_ONLY,
) -> FingerEnrolOut:
    """Enrol ``finger`` (0 right thumb … 9 left little finger) through the fingerprint bridge;
    answers when the bridge has finished (meanwhile ``GET`` shows its prompts). ``ok`` false
    with a plain-language ``message`` when refused, timed out or not connected."""
    lang = request.state.lang
    if records.employee(ctx.db.get(), employee_id) is None:
        return FingerEnrolOut(ok=False, message=say(request, "page.no_such_employee"), state="refused", fingers=[])
    result = enrol_finger_audited(ctx, session, employee_id, finger)
    return FingerEnrolOut(
        ok=result.ok,
        message=detail_text(result.message, lang),
        state=str(result.detail.get("state", "")),
        fingers=[
            FingerOut(finger=f.finger, name=word("finger", f.finger, lang), family=f.family, created_at=f.created_at)
            for f in records.fingers_of(ctx.db.get(), employee_id)
        ],
    )


@router.get("/api/fingers/enrolment", response_model=FingerProgressOut, tags=["enrolment"])
def finger_progress(
    request: Request,
    ctx: Ctx,
    employee_id: Annotated[str, Query(min_length=1, max_length=64)],
    session: Session = ADMIN_ONLY,
) -> FingerProgressOut:
    """The employee's newest finger enrolment as the fingerprint bridge reports it: state
    and the prompt for the person at the module, in the page's language."""
    progress = fingers.latest_for(ctx.db.get(), employee_id)
    return FingerProgressOut(found=False) if progress is None else progress_out(progress, request.state.lang)


@router.post("/api/fingers/enrolment/cancel", response_model=FingerProgressOut, tags=["enrolment"])
def finger_cancel(
    request: Request, ctx: Ctx, employee_id: Annotated[str, Query(min_length=1, max_length=64)], session: Session = ADMIN_ONLY
) -> FingerProgressOut:
    """Cancel the employee's unfinished finger enrolment (the bridge stops between captures)."""
    cancelled = fingers.cancel_unfinished(ctx.db.get(), employee_id, clock=ctx.clock)
    if cancelled is not None:
        note(ctx, session, "finger.enrol.cancel", employee_id=employee_id, enrolment=cancelled)
    progress = fingers.latest_for(ctx.db.get(), employee_id)
    return FingerProgressOut(found=False) if progress is None else progress_out(progress, request.state.lang)
