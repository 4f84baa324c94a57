"""The holder's page (``ecert serve wallet``, on the holder's own device, 127.0.0.1 only): pick a
certificate, tick the fields to show, get a QR that stops working in a few minutes, with a
countdown in the device's local time. Large type, Chinese first, every input labelled. The PDF
and proof stay in this process's memory for ten minutes at most; without a proof file the proof
is fetched from the issuer's public proof endpoint."""

from __future__ import annotations

import base64
import io
import os
import time
from datetime import timedelta
from html import escape
from typing import Annotated

from eth_account.signers.local import LocalAccount
from fastapi import FastAPI, Form, HTTPException, Request, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from cli.holder import certificate_claims, fetch_proof, present_from_files, presentation_qr
from ledger.catalogue import catalogue
from ledger.presentation import HOLDER_CLAIM, PresentationError

__all__ = ["create_wallet_app"]

_KEEP_S = 600.0
_TTLS = {"2": "2 分钟 / 2 min", "5": "5 分钟 / 5 min", "10": "10 分钟 / 10 min"}
_STYLE = """body{font-family:"WenQuanYi Micro Hei","Noto Sans CJK SC",sans-serif;font-size:22px;
line-height:1.6;margin:0;background:#f6f6f4;color:#111}main{max-width:720px;margin:0 auto;
padding:16px}label{display:block;margin:10px 0}input[type=checkbox],input[type=radio]{width:28px;
height:28px;vertical-align:middle}input,textarea{font-size:20px;max-width:100%}
fieldset{border:2px solid #999;border-radius:10px;margin:16px 0}legend{font-weight:bold}
button{font-size:26px;padding:12px 28px;background:#1a4fa0;color:#fff;border:0;border-radius:10px}
img{width:100%;max-width:520px;image-rendering:pixelated;background:#fff}.small{font-size:18px}
.en{color:#444}button .en{color:#fff}#left{font-size:34px;font-weight:bold}
.error{background:#fbe7e5;border-left:6px solid #9c1f17;padding:12px}
:focus-visible{outline:4px solid #c25e00;outline-offset:2px}"""
_COUNTDOWN = """
const timer = document.getElementById('left');
const until = new Date(timer.dataset.until);
for (const el of document.querySelectorAll('.until')) {
  el.textContent = until.toLocaleTimeString('zh-CN', {hour12: false});
}
function tick() {
  const s = Math.max(0, Math.round((until - new Date()) / 1000));
  timer.textContent = s > 0
    ? '还剩 ' + Math.floor(s / 60) + ' 分 ' + String(s % 60).padStart(2, '0') + ' 秒'
    : '已失效，请重新生成 / expired: make a new one';
  if (s > 0) setTimeout(tick, 1000);
}
tick();
"""


def _page(body: str, script: str = "", status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>出示电子证照</title><style>{_STYLE}</style></head><body><main>"
        '<h1>出示电子证照 <span lang="en" class="en">Show a certificate</span></h1>'
        f"{body}</main>{f'<script>{script}</script>' if script else ''}</body></html>",
        status_code,
    )


def create_wallet_app(
    holder: LocalAccount, *, issuer_url: str = "http://127.0.0.1:8600"
) -> FastAPI:
    app = FastAPI(title="ecert wallet", docs_url=None, redoc_url=None, openapi_url=None)
    held: dict[str, tuple[float, bytes, bytes]] = {}

    @app.exception_handler(HTTPException)
    async def refused(_request: Request, exc: HTTPException) -> HTMLResponse:
        return _page(
            f'<p class="error" role="alert">{escape(str(exc.detail))}</p>'
            '<p><a href="/">重新开始 <span lang="en">Start again</span></a></p>',
            status_code=exc.status_code,
        )

    def forget_old() -> None:
        for token, (since, _pdf, _proof) in list(held.items()):
            if time.monotonic() - since > _KEEP_S:
                del held[token]

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse)
    async def start() -> HTMLResponse:
        return _page(
            '<form method="post" action="/fields" enctype="multipart/form-data">'
            '<label for="pdf">证照文件（PDF）<span lang="en" class="en">Certificate PDF</span>'
            "</label>"
            '<input id="pdf" name="pdf" type="file" accept="application/pdf" required>'
            '<label for="proof">登记证明（JSON，可不选）<span lang="en" class="en">Proof (JSON, '
            "optional)</span></label>"
            '<input id="proof" name="proof" type="file" accept=".json" '
            'aria-describedby="proof-hint">'
            '<p class="small" id="proof-hint">发证部门随证照提供；不选时将从发证机关自动取得。'
            '<span lang="en" class="en"> The department gives it with the certificate; if you '
            "have none it is fetched from the issuer.</span></p>"
            '<button id="next" type="submit">下一步 <span lang="en" class="en">Next</span>'
            "</button></form>"
        )

    @app.post("/fields", response_class=HTMLResponse)
    async def fields(
        pdf: Annotated[UploadFile, Form()], proof: Annotated[UploadFile | None, Form()] = None
    ) -> HTMLResponse:
        forget_old()
        pdf_bytes = await pdf.read()
        proof_bytes = await proof.read() if proof is not None else b""
        try:
            embedded = certificate_claims(pdf_bytes)
            if not proof_bytes.strip():
                proof_bytes = await run_in_threadpool(fetch_proof, issuer_url, embedded)
        except PresentationError as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
        token = base64.urlsafe_b64encode(os.urandom(18)).decode()
        held[token] = (time.monotonic(), pdf_bytes, proof_bytes)
        spec = catalogue().get(str(embedded.raw.get("cert_type")))
        labels = {f.key: f.label_zh for f in spec.fields} if spec else {}
        boxes = "".join(
            f'<label><input type="checkbox" name="field" value="{escape(k)}"> '
            f"{escape(labels.get(k, k))}：{escape(v)}</label>"
            for k, v in embedded.claims.items()
            if k != HOLDER_CLAIM
        )
        ttl = "".join(
            f'<label><input type="radio" name="ttl" value="{v}"{" checked" if v == "5" else ""}>'
            f" {escape(t)}</label>"
            for v, t in _TTLS.items()
        )
        return _page(
            '<form method="post" action="/present">'
            f'<input type="hidden" name="token" value="{token}">'
            '<fieldset><legend>选择要出示的信息 <span lang="en" class="en">Fields to show'
            f"</span></legend>{boxes}</fieldset>"
            '<fieldset><legend>有效时间 <span lang="en" class="en">Valid for</span></legend>'
            f"{ttl}</fieldset>"
            '<label for="nonce">核验方给的核验码（可不填）<span lang="en" class="en">Verifier '
            "nonce (optional)</span></label>"
            '<input id="nonce" name="nonce" maxlength="64" autocomplete="off">'
            '<p><button id="present" type="submit">生成出示码 <span lang="en" class="en">Make '
            "the QR</span></button></p></form>"
        )

    @app.post("/present", response_class=HTMLResponse)
    async def present(
        token: Annotated[str, Form()],
        field: Annotated[list[str] | None, Form()] = None,
        ttl: Annotated[str, Form()] = "5",
        nonce: Annotated[str, Form()] = "",
    ) -> HTMLResponse:
        forget_old()
        if token not in held or ttl not in _TTLS:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "start again: choose the PDF")
        _since, pdf_bytes, proof_bytes = held[token]
        try:
            shown = present_from_files(
                pdf_bytes,
                proof_bytes,
                field or [],
                holder,
                lifetime=timedelta(minutes=int(ttl)),
                nonce=bytes.fromhex(nonce.strip()),
            )
        except ValueError as exc:  # PresentationError is a ValueError
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)[:300]) from exc
        text = shown.encode()
        code = presentation_qr(text, box_size=6)
        png = io.BytesIO()
        code.make_image().save(png)
        image = base64.b64encode(png.getvalue()).decode()
        local = shown.expires_at.astimezone()  # this is the holder's own device
        return _page(
            f'<img id="qr" alt="出示码，请让核验方扫描" src="data:image/png;base64,{image}">'
            f'<p>请让核验方扫描此码。<span class="until">{local:%H:%M:%S}</span> 后失效。'
            f'<span lang="en" class="en"> Show it to the verifier; it stops working at '
            f'<span class="until">{local:%H:%M:%S}</span> (your time).</span></p>'
            f'<p id="left" role="timer" data-until="{escape(shown.expires_at.isoformat())}">'
            f"{local:%H:%M:%S} 前有效</p>"
            '<label for="text">出示码文字（扫码不便时可复制给核验方）<span lang="en" class="en">'
            "The code as text, to copy if scanning fails</span></label>"
            f'<textarea id="text" rows="4" style="width:100%" readonly>{escape(text)}</textarea>'
            '<p><a href="/">出示另一份 <span lang="en" class="en">Show another</span></a></p>',
            _COUNTDOWN,
        )

    return app
