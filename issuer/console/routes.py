"""The console's routes (``/console/...``), added to the issuer app by ``install_console``.
Routes stay thin: read the form, check the session and CSRF token, call the pipeline or a
query, render a page. Every refusal is a page in plain words with the right status; nothing
here logs a name, a claim or a token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from issuer.console import pages
from issuer.console.auth import (
    COOKIE,
    LOGIN_COOKIE,
    LOGIN_PATH,
    clear_session,
    csrf_for,
    csrf_matches,
    new_login_nonce,
    set_login_nonce,
    set_session,
)
from issuer.console.queries import (
    Search,
    audit_trail,
    certificate_detail,
    find_certificates,
    upload_of,
    upload_progress,
)
from issuer.pipeline import Pipeline, PipelineError
from issuer.records_io import RecordFileError, RowProblem, parse_records
from issuer.store import Upload
from issuer.tokens import Caller, authenticate
from ledger.codes import RevocationReason
from ledger.errors import NodeUnavailable, RegistryRefused, TransactionRejected

__all__ = ["install_console"]

MAX_UPLOAD_ROWS = 5000
_CHUNK = 1000


class _NotLoggedIn(Exception):
    pass


@dataclass(frozen=True)
class Session:
    """A signed-in clerk: the token's caller, the token itself (for the CSRF check) and this
    response's CSP nonce."""

    who: Caller
    token: str
    nonce: str
    department: str

    @property
    def frame(self) -> pages.Frame:
        return pages.Frame(self.department, self.who.issuer_id, csrf_for(self.token), self.nonce)


def _pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline


def _nonce(request: Request) -> str:
    nonce: str | None = getattr(request.state, "csp_nonce", None)
    if nonce is None:
        nonce = secrets.token_urlsafe(16)
        request.state.csp_nonce = nonce
    return nonce


def _session(request: Request) -> Session:
    token = request.cookies.get(COOKIE, "")
    pipeline = _pipeline(request)
    who = authenticate(pipeline.sessions, token) if token else None
    if who is None:
        raise _NotLoggedIn
    try:
        department = pipeline.department(who.issuer_id).name
    except PipelineError:
        department = who.issuer_id
    return Session(who, token, _nonce(request), department)


SessionDep = Annotated[Session, Depends(_session)]


def _check_csrf(session: Session, sent: str) -> None:
    if not csrf_matches(session.token, sent):
        raise HTTPException(403, "csrf")


def _html(request: Request, body: str, status: int = 200) -> HTMLResponse:
    nonce = _nonce(request)
    return HTMLResponse(
        body,
        status,
        headers={
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
                "connect-src 'self'; img-src 'self'; form-action 'self'; "
                "frame-ancestors 'none'; base-uri 'none'"
            ),
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("")
@router.get("/")
async def home(request: Request) -> Response:
    return RedirectResponse("/console/certificates", 303)


@router.get("/login")
async def login_form(request: Request) -> Response:
    nonce = new_login_nonce()
    response = _html(request, pages.login_page(_nonce(request), nonce))
    set_login_nonce(response, request, nonce)
    return response


@router.post("/login")
async def login(
    request: Request,
    token: Annotated[str, Form(max_length=200)] = "",
    login_nonce: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, login_nonce):
        raise HTTPException(403, "login-expired")
    token = token.strip()
    who = (
        await run_in_threadpool(authenticate, _pipeline(request).sessions, token) if token else None
    )
    if who is None:
        nonce = new_login_nonce()
        words = pages.both(
            "令牌不对，或已过期、已撤销。请核对后重新输入。",
            "The token is wrong, expired or revoked.",
        )
        refused = _html(request, pages.login_page(_nonce(request), nonce, words), 401)
        set_login_nonce(refused, request, nonce)
        return refused
    response = RedirectResponse("/console/certificates", 303)
    set_session(response, request, token, who)
    return response


@router.post("/logout")
async def logout(session: SessionDep, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    _check_csrf(session, csrf)
    response = RedirectResponse(LOGIN_PATH, 303)
    clear_session(response)
    return response


@router.get("/certificates")
async def certificates(
    request: Request, session: SessionDep, status: str = "", number: str = "", page: int = 1
) -> Response:
    search = Search(number=number[:64], status=status[:16], page=max(min(page, 10_000), 1))
    rows, total = await run_in_threadpool(
        find_certificates, _pipeline(request).sessions, session.who, search
    )
    return _html(request, pages.list_page(session.frame, search, rows, total, posted=False))


@router.post("/certificates")
async def search_certificates(
    request: Request,
    session: SessionDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
    number: Annotated[str, Form(max_length=64)] = "",
    holder: Annotated[str, Form(max_length=100)] = "",
    status: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    _check_csrf(session, csrf)
    search = Search(number=number.strip(), holder=holder.strip(), status=status)
    rows, total = await run_in_threadpool(
        find_certificates, _pipeline(request).sessions, session.who, search
    )
    return _html(request, pages.list_page(session.frame, search, rows, total, posted=True))


async def _detail(request: Request, session: Session, number: str) -> Any:
    detail = await run_in_threadpool(
        certificate_detail, _pipeline(request).sessions, session.who, number
    )
    if detail is None:
        raise HTTPException(404, "no such certificate")
    return detail


@router.get("/certificates/{number}")
async def certificate(
    request: Request, session: SessionDep, number: str, done: str = ""
) -> Response:
    detail = await _detail(request, session, number)
    message = ""
    if done == "revoked":
        message = pages.both(
            "已撤销。各省核验方同步后即显示为已撤销。",
            "Revoked: verifiers show it as revoked once they sync.",
        )
    return _html(
        request,
        pages.certificate_page(
            session.frame, detail.view, detail.claims, detail.progress, message=message
        ),
    )


async def _document(request: Request, session: Session, number: str, kind: str) -> Response:
    """The sealed document (``pdf`` or ``ofd``) of one of the session's certificates."""
    await _detail(request, session, number)
    pipeline = _pipeline(request)
    fetch = pipeline.pdf if kind == "pdf" else pipeline.ofd
    try:
        data = await run_in_threadpool(fetch, session.who.issuer_id, number)
    except PipelineError as exc:
        raise HTTPException(409, "not-sealed") from exc
    return Response(
        data,
        media_type=f"application/{kind}",
        headers={
            "Content-Disposition": f'attachment; filename="{number}.{kind}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/certificates/{number}/pdf")
async def certificate_pdf(request: Request, session: SessionDep, number: str) -> Response:
    return await _document(request, session, number, "pdf")


@router.get("/certificates/{number}/ofd")
async def certificate_ofd(request: Request, session: SessionDep, number: str) -> Response:
    return await _document(request, session, number, "ofd")


@router.get("/certificates/{number}/proof")
async def certificate_proof(request: Request, session: SessionDep, number: str) -> Response:
    await _detail(request, session, number)
    try:
        record = await run_in_threadpool(
            _pipeline(request).public_proof, session.who.issuer_id, number
        )
    except PipelineError as exc:
        raise HTTPException(409, "not-anchored") from exc
    return JSONResponse(
        record, headers={"Content-Disposition": f'attachment; filename="{number}.proof.json"'}
    )


@router.post("/certificates/{number}/revoke")
async def revoke(
    request: Request,
    session: SessionDep,
    number: str,
    csrf: Annotated[str, Form(max_length=100)] = "",
    reason: Annotated[int, Form(ge=1, le=7)] = 1,
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    _check_csrf(session, csrf)
    await _detail(request, session, number)
    if confirm != "yes":
        raise HTTPException(400, "confirm")
    actor = f"console:{session.who.issuer_id}:{session.who.label}"[:64]
    try:
        await run_in_threadpool(
            _pipeline(request).revoke,
            session.who.issuer_id,
            number,
            RevocationReason(reason),
            actor=actor,
        )
    except PipelineError as exc:
        raise HTTPException(409, "not-anchored") from exc
    except (NodeUnavailable, TransactionRejected) as exc:
        raise HTTPException(503, "chain-down") from exc
    except RegistryRefused as exc:
        raise HTTPException(409, "refused") from exc
    return RedirectResponse(f"/console/certificates/{number}?done=revoked", 303)


@router.get("/upload")
async def upload_start(request: Request, session: SessionDep) -> Response:
    limit = request.app.state.max_body_bytes / (1024 * 1024)
    return _html(
        request, pages.upload_form(session.frame, sorted(session.who.cert_types), max_mb=limit)
    )


def _issue_file(pipeline: Pipeline, who: Caller, cert_type: str, name: str, data: bytes) -> int:
    """Parse, submit in chunks, and keep the upload's outcome; returns its id."""
    parsed = parse_records(data, name, cert_type)
    if len(parsed.submissions) + len(parsed.problems) > MAX_UPLOAD_ROWS:
        raise HTTPException(413, "rows")
    if not parsed.submissions and not parsed.problems:
        raise HTTPException(400, "empty")
    actor = f"console:{who.issuer_id}:{who.label}"[:64]
    problems = list(parsed.problems)
    numbers: list[str] = []
    for start in range(0, len(parsed.submissions), _CHUNK):
        chunk = parsed.submissions[start : start + _CHUNK]
        results = pipeline.submit(who.issuer_id, [s for _, s in chunk], actor=actor)
        for (line, sub), result in zip(chunk, results, strict=True):
            if result.certificate_id:
                numbers.append(result.certificate_id)
            else:
                problems.extend(
                    RowProblem(line, sub.reference, e.field, e.message) for e in result.errors
                )
    problems.sort(key=lambda p: p.row)
    with pipeline.sessions() as db:
        upload = Upload(
            issuer_id=who.issuer_id,
            cert_type=cert_type,
            actor=actor,
            filename=name[:200],
            encoding=parsed.encoding,
            rows=len(parsed.submissions) + len({p.row for p in parsed.problems}),
            certificate_ids={"ids": numbers},
            row_errors={
                "rows": [
                    {"row": p.row, "reference": p.reference, "field": p.field, "message": p.message}
                    for p in problems
                ]
            },
        )
        db.add(upload)
        db.commit()
        return upload.id


@router.post("/upload")
async def upload(
    request: Request,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form(max_length=100)] = "",
    cert_type: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    _check_csrf(session, csrf)
    scripted = request.headers.get("x-console-upload") == "1"
    if cert_type not in session.who.cert_types:
        raise HTTPException(400, "type")
    data = await file.read()
    name = (file.filename or "upload.csv").replace("/", "_").replace("\\", "_")
    try:
        upload_id = await run_in_threadpool(
            _issue_file, _pipeline(request), session.who, cert_type, name, data
        )
    except RecordFileError as exc:
        if scripted:
            return JSONResponse({"error": str(exc)}, 400)
        return _html(
            request, pages.upload_form(session.frame, sorted(session.who.cert_types), str(exc)), 400
        )
    except PipelineError as exc:
        raise HTTPException(403, "suspended") from exc
    target = f"/console/uploads/{upload_id}"
    if scripted:
        return JSONResponse({"redirect": target})
    return RedirectResponse(target, 303)


async def _upload(request: Request, session: Session, upload_id: int) -> Upload:
    found = await run_in_threadpool(upload_of, _pipeline(request).sessions, session.who, upload_id)
    if found is None:
        raise HTTPException(404, "no such upload")
    return found


@router.get("/uploads/{upload_id}")
async def upload_result(request: Request, session: SessionDep, upload_id: int) -> Response:
    found = await _upload(request, session, upload_id)
    counts = await run_in_threadpool(upload_progress, _pipeline(request).sessions, found)
    ids = found.certificate_ids.get("ids", [])
    problems = [
        RowProblem(int(p["row"]), str(p["reference"]), str(p["field"]), str(p["message"]))
        for p in found.row_errors.get("rows", [])
    ]
    return _html(
        request,
        pages.upload_page(
            session.frame,
            found.id,
            found.filename,
            found.encoding,
            found.rows,
            len(ids),
            problems,
            pages.progress_numbers(counts, len(ids)),
            found.cert_type,
        ),
    )


@router.get("/uploads/{upload_id}/progress")
async def upload_progress_json(request: Request, session: SessionDep, upload_id: int) -> Response:
    found = await _upload(request, session, upload_id)
    counts = await run_in_threadpool(upload_progress, _pipeline(request).sessions, found)
    return JSONResponse(
        pages.progress_numbers(counts, len(found.certificate_ids.get("ids", []))),
        headers={"Cache-Control": "no-store"},
    )


@router.get("/audit")
async def audit(request: Request, session: SessionDep, page: int = 1) -> Response:
    entries, total = await run_in_threadpool(
        audit_trail, _pipeline(request).sessions, session.who, max(min(page, 100_000), 1)
    )
    return _html(request, pages.audit_page(session.frame, entries, total, max(page, 1)))


_REFUSALS: dict[str, tuple[str, str]] = {
    "csrf": (
        "页面已过期，请返回后刷新再试。",
        "This page has expired: go back, reload and try again.",
    ),
    "login-expired": ("登录页已过期，请重新打开登录页。", "The login page expired: open it again."),
    "no such certificate": (
        "没有这份证照，或不属于本部门。",
        "No such certificate in this department.",
    ),
    "no such upload": ("没有这次上传记录。", "No such upload."),
    "not-sealed": ("证照尚未签章，暂无 PDF。", "Not sealed yet: no PDF."),
    "not-anchored": ("证照尚未上链，暂不能下载证明或撤销。", "Not anchored yet."),
    "chain-down": (
        "区块链节点暂时不可达，未做任何改动，请稍后再试。",
        "The chain node is unreachable; nothing changed, try again.",
    ),
    "refused": ("联盟链拒绝了此操作。", "The registry refused this."),
    "confirm": ("请勾选“我确认撤销”后再提交。", "Tick the confirmation box first."),
    "type": ("请选择本部门可签发的证照类型。", "Choose a certificate type your token may issue."),
    "rows": (
        f"一次最多上传 {MAX_UPLOAD_ROWS} 行，请拆分文件。",
        f"At most {MAX_UPLOAD_ROWS} rows per upload: split the file.",
    ),
    "empty": ("文件中没有数据行。", "The file has no records."),
    "suspended": (
        "联盟链登记显示本部门已被暂停，不能签发。",
        "The registry lists this department as suspended.",
    ),
}


def install_console(app: FastAPI) -> None:
    """Add the console's routes and its page-shaped error answers to the issuer app."""
    app.include_router(router)

    @app.exception_handler(_NotLoggedIn)
    async def not_logged_in(request: Request, _exc: _NotLoggedIn) -> Response:
        if request.method == "GET" and not request.url.path.endswith(
            ("/progress", "/pdf", "/ofd", "/proof")
        ):
            return RedirectResponse(LOGIN_PATH, 303)
        return _html(
            request, pages.error_page(_nonce(request), 401, "请先登录。", "Please log in."), 401
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not request.url.path.startswith("/console"):
            return await http_exception_handler(request, exc)
        zh, en = _REFUSALS.get(str(exc.detail), ("无法处理此请求。", str(exc.detail)))
        if request.headers.get("x-console-upload") == "1":
            return JSONResponse({"error": f"{zh} / {en}"}, exc.status_code)
        return _html(
            request, pages.error_page(_nonce(request), exc.status_code, zh, en), exc.status_code
        )

    @app.exception_handler(RequestValidationError)
    async def form_error(request: Request, exc: RequestValidationError) -> Response:
        if not request.url.path.startswith("/console"):
            return await request_validation_exception_handler(request, exc)
        zh, en = (
            "表单内容不完整或不正确，请返回检查。",
            "The form is incomplete or wrong: go back and check it.",
        )
        return _html(request, pages.error_page(_nonce(request), 400, zh, en), 400)
