"""The holder's page (``ecert serve wallet``, on the holder's own device, 127.0.0.1 only): pick a
certificate, tick the fields to show, get a QR that stops working in a few minutes. Large type,
Chinese first. The PDF and proof stay in this process's memory for ten minutes at most."""

from __future__ import annotations

import base64
import io
import os
import time
from datetime import timedelta
from html import escape
from typing import Annotated

from eth_account.signers.local import LocalAccount
from fastapi import FastAPI, Form, HTTPException, UploadFile, status
from fastapi.responses import HTMLResponse

from cli.holder import certificate_claims, present_from_files, presentation_qr
from ledger.catalogue import catalogue
from ledger.presentation import HOLDER_CLAIM, PresentationError

__all__ = ["create_wallet_app"]

_KEEP_S = 600.0
_TTLS = {"2": "2 分钟 / 2 min", "5": "5 分钟 / 5 min", "10": "10 分钟 / 10 min"}
_STYLE = """body{font-family:"WenQuanYi Micro Hei","Noto Sans CJK SC",sans-serif;font-size:22px;
line-height:1.6;margin:0;background:#f6f6f4;color:#111}main{max-width:720px;margin:0 auto;
padding:16px}label{display:block;margin:10px 0}input[type=checkbox]{width:28px;height:28px}
button{font-size:26px;padding:12px 28px;background:#1a4fa0;color:#fff;border:0;border-radius:10px}
img{width:100%;max-width:520px;image-rendering:pixelated;background:#fff}.small{font-size:18px}"""


def _page(body: str) -> HTMLResponse:
    return HTMLResponse(
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>出示电子证照</title><style>{_STYLE}</style></head><body><main>"
        f"<h1>出示电子证照 / Show a certificate</h1>{body}</main></body></html>"
    )


def create_wallet_app(holder: LocalAccount) -> FastAPI:
    app = FastAPI(title="ecert wallet", docs_url=None, redoc_url=None, openapi_url=None)
    held: dict[str, tuple[float, bytes, bytes]] = {}

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
            '<label>证照文件（PDF）<input name="pdf" type="file" accept="application/pdf"></label>'
            '<label>登记证明（JSON）<input name="proof" type="file" accept=".json"></label>'
            '<button id="next" type="submit">下一步 / Next</button></form>'
        )

    @app.post("/fields", response_class=HTMLResponse)
    async def fields(
        pdf: Annotated[UploadFile, Form()], proof: Annotated[UploadFile, Form()]
    ) -> HTMLResponse:
        forget_old()
        pdf_bytes, proof_bytes = await pdf.read(), await proof.read()
        try:
            embedded = certificate_claims(pdf_bytes)
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
            f"<h2>选择要出示的信息 / Fields to show</h2>{boxes}"
            f"<h2>有效时间 / Valid for</h2>{ttl}"
            "<label>核验方给的核验码（可不填）/ verifier nonce (optional)"
            '<input name="nonce" maxlength="64"></label>'
            '<button id="present" type="submit">生成出示码 / Make the QR</button></form>'
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
        return _page(
            f'<img id="qr" alt="出示码" src="data:image/png;base64,{image}">'
            f"<p>请让核验方扫描此码。{escape(shown.expires_at.isoformat())} 后失效。</p>"
            f'<p class="small">Show this to the verifier; it stops working at '
            f"{escape(shown.expires_at.isoformat())}.</p>"
            f'<p class="small">{len(text)} 字节 / bytes, QR version {code.version}</p>'
            f'<textarea id="text" rows="4" style="width:100%" readonly>{escape(text)}</textarea>'
        )

    return app
