"""The pages people see: large type, plain Chinese first (English with ``?lang=en``), one clear
colour for the answer — green genuine, red not valid, amber could not confirm."""

from __future__ import annotations

from html import escape
from typing import Any

from ledger.catalogue import catalogue
from verifier.names import CheckName, label
from verifier.reasons import ReasonCode, message
from verifier.result import Status, Verdict, VerificationReport
from verifier.verdicts import mark, style

__all__ = ["result_page", "upload_page"]

_TEXT = {
    "zh": {
        "title": "电子证照核验",
        "intro": "上传证照 PDF 或二维码照片，或粘贴二维码内容。",
        "file": "证照文件（PDF）或二维码照片",
        "qr": "二维码内容",
        "submit": "开始核验",
        "switch": "English",
        "certificate": "证照信息",
        "checks": "核验项目",
        "again": "核验另一份",
        "type": "证照类型",
        "number": "证书编号",
        "issuer": "发证机关",
        "validity": "有效期",
        "forever": "长期",
        "data": "链上数据截至区块",
        "node_down": "（区块链节点暂不可达，使用本地数据）",
        "offline": "离线核验：使用各省共同签署的信任包，数据截至区块",
        "region": "核验地",
        "shown": "持证人本次只出示了以上信息，出示码剩余有效时间",
        "seconds": "秒",
    },
    "en": {
        "title": "Certificate verification",
        "intro": "Upload the certificate PDF or a photo of its QR code, or paste the QR text.",
        "file": "Certificate file (PDF) or QR photo",
        "qr": "QR text",
        "submit": "Verify",
        "switch": "中文",
        "certificate": "Certificate",
        "checks": "Checks",
        "again": "Verify another",
        "type": "Type",
        "number": "Number",
        "issuer": "Issuer",
        "validity": "Valid",
        "forever": "permanent",
        "data": "Ledger data as of block",
        "node_down": " (ledger node unreachable: local data)",
        "offline": "Offline: answered from the provinces' signed trust bundle, data as of block",
        "region": "Verified in",
        "shown": "The holder chose to show only the fields above; this presentation expires in",
        "seconds": "s",
    },
}

_BANNERS = "".join(f".{v.value}{{background:{style(v).colour}}}" for v in Verdict)
_STYLE = (
    _BANNERS
    + """
*{box-sizing:border-box}
body{margin:0;font-family:"WenQuanYi Micro Hei","Noto Sans CJK SC","PingFang SC",sans-serif;
font-size:20px;line-height:1.6;color:#111;background:#f6f6f4}
main{max-width:760px;margin:0 auto;padding:16px}
h1{font-size:30px;margin:8px 0 16px}
h2{font-size:24px;margin:24px 0 8px}
.lang{float:right;font-size:18px}
.banner{border-radius:12px;padding:20px;color:#fff;margin:12px 0}
.banner b{display:block;font-size:40px;line-height:1.2}
table{width:100%;border-collapse:collapse;background:#fff}
td,th{padding:10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
th{width:35%;font-weight:normal;color:#444}
li{margin:6px 0}
.ok{color:#17703a}.bad{color:#b3261e}.unk{color:#9a6700}.skip{color:#666}
form{background:#fff;padding:16px;border-radius:12px}
label{display:block;margin:12px 0 4px}
input[type=file],textarea{width:100%;font-size:18px;padding:8px}
button{font-size:24px;padding:12px 28px;margin-top:16px;background:#1a4fa0;color:#fff;
border:0;border-radius:10px}
.small{font-size:16px;color:#555}
.notice{background:#fff3cd;border-left:6px solid #9a6700;padding:12px;font-size:20px}
"""
)


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def _page(lang: str, body: str, switch_href: str) -> str:
    t = _TEXT[lang]
    html_lang = "en" if lang == "en" else "zh-CN"
    return (
        f'<!doctype html><html lang="{html_lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(t['title'])}</title><style>{_STYLE}</style></head><body><main>"
        f'<a class="lang" href="{escape(switch_href)}">{escape(t["switch"])}</a>'
        f"<h1>{escape(t['title'])}</h1>{body}</main></body></html>"
    )


def upload_page(lang: str = "zh") -> str:
    lang = _lang(lang)
    t = _TEXT[lang]
    body = (
        f"<p>{escape(t['intro'])}</p>"
        f'<form method="post" action="/verify?lang={lang}" enctype="multipart/form-data">'
        f'<label for="file">{escape(t["file"])}</label>'
        '<input id="file" name="file" type="file" accept="application/pdf,image/*">'
        f'<label for="qr_text">{escape(t["qr"])}</label>'
        '<textarea id="qr_text" name="qr_text" rows="3"></textarea>'
        f'<button id="verify" type="submit">{escape(t["submit"])}</button></form>'
    )
    return _page(lang, body, f"/?lang={'zh' if lang == 'en' else 'en'}")


def _missing_agreement(data: Any, lang: str) -> str:
    """Which agreement is missing, in words: verifying province, issuing province, type."""
    spec = catalogue().get(str(data.get("cert_type")))
    kind = (spec.name_en if lang == "en" else spec.name_zh) if spec else str(data["cert_type"])
    verifying, issuing = data.get("verifying", ""), data.get("issuing", "")
    if lang == "en":
        return f" Missing agreement: {verifying} recognising {kind} issued in {issuing}."
    return f"缺少的互认协议：{verifying} 认可 {issuing} 签发的{kind}。"


def _judged_when(data: Any, lang: str) -> str:
    """When the seal was judged, in words: the certificate's time of existence."""
    when, block = str(data.get("existence_time") or "")[:10], data.get("block")
    if not when:
        return ""
    kind = data.get("existence")
    if lang == "en":
        how = "timestamped" if kind == "timestamp" else "sealed and recorded"
        at = f" (block {block})" if block is not None else ""
        return f"{how} on {when}{at}; the seal certificate was valid then"
    how = "盖章时间戳为" if kind == "timestamp" else "盖章并上链于"
    at = f"（区块 {block}）" if block is not None else ""
    return f"{how} {when}{at}，印章证书当时有效"


def result_page(report: VerificationReport, lang: str = "zh", switch_href: str = "") -> str:
    lang = _lang(lang)
    t = _TEXT[lang]
    verdict = report.verdict
    look = style(verdict)
    parts = [
        f'<div id="verdict" class="banner {verdict.value}" data-verdict="{verdict.value}">'
        f"<b>{escape(look.word(lang))}</b>{escape(look.hint(lang))}</div>"
    ]
    cert = report.certificate
    if cert.known:
        type_name = (cert.type_name_en if lang == "en" else cert.type_name_zh) or (
            cert.cert_type or ""
        )
        until = (cert.valid_until or "")[:10] or t["forever"]
        rows = [
            (t["type"], type_name),
            (t["number"], cert.certificate_id or ""),
            (t["issuer"], cert.issuer_name or cert.issuer_id or ""),
            (t["validity"], f"{(cert.valid_from or '')[:10]} – {until}"),
        ]
        for f in cert.fields:
            rows.append((f.label_en if lang == "en" else f.label_zh, f.value))
        parts.append(
            f"<h2>{escape(t['certificate'])}</h2><table>"
            + "".join(
                f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in rows
            )
            + "</table>"
        )
    shown = cert.presentation
    if shown is not None:
        parts.append(
            f'<p id="presentation" class="small">{escape(t["shown"])} '
            f"{shown.seconds_left} {escape(t['seconds'])}</p>"
        )
    items = []
    for check in report.checks:
        sign = mark(check.status)
        text = message(check.reason, lang) if check.reason else ""
        if check.reason is ReasonCode.NOT_RECOGNISED and check.data.get("cert_type"):
            text += _missing_agreement(check.data, lang)
        if check.name is CheckName.SEAL_TRUSTED and check.status is Status.VALID:
            text = _judged_when(check.data, lang)
        if check.status is Status.SKIPPED:
            continue
        why = f"{'：' if lang == 'zh' else ': '}{escape(text)}" if text else ""
        items.append(
            f'<li class="{sign.css}" data-check="{escape(check.name.value)}">{sign.icon} '
            f"{escape(label(check.name, lang))}{why}</li>"
        )
    parts.append(f"<h2>{escape(t['checks'])}</h2><ul>{''.join(items)}</ul>")
    fresh = report.freshness
    node_note = t["node_down"] if fresh.node == "down" else ""
    if fresh.offline:  # said right under the answer, not in the fine print
        left, right = ("（", "）") if lang == "zh" else (" (", ")")
        parts.insert(
            1,
            f'<p id="offline" class="notice">{escape(t["offline"])} '
            f"{fresh.block}{left}{escape(fresh.block_time or '')}{right}</p>",
        )
        node_note = ""
    parts.append(
        f'<p class="small">{escape(t["region"])} {escape(report.region)} · '
        f"{escape(t['data'])} {fresh.block} "
        f"({escape(fresh.block_time or '')}){escape(node_note)}</p>"
    )
    parts.append(f'<p><a href="/?lang={lang}">{escape(t["again"])}</a></p>')
    return _page(lang, "".join(parts), switch_href or f"?lang={'zh' if lang == 'en' else 'en'}")
