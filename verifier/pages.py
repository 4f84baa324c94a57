"""The pages people see: large type, plain Chinese first (English with ``?lang=en``), one clear
colour for the answer — green genuine, amber genuine but not recognised here or could not
confirm, red not valid — with the reason in the banner, and a print style for filing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from verifier.names import label
from verifier.result import Status, Verdict, VerificationReport
from verifier.verdicts import mark, style
from verifier.wording import (
    data_age,
    headline,
    local_time,
    problem_with_document,
    reason_line,
    region_name,
)

__all__ = ["RegionPicker", "result_page", "upload_page"]


@dataclass(frozen=True, slots=True)
class RegionPicker:
    """The small form on a QR page asking which province the visitor is in; the page then
    answers for that province's recognition too."""

    action: str
    """The page's own path (``/v/<payload>``): the form asks for it again with ``region``."""
    provinces: Sequence[tuple[str, str]]
    """(code, name) of every province, in the order offered."""
    selected: str | None = None
    """The visitor's province, when known."""


_TEXT = {
    "zh": {
        "title": "电子证照核验",
        "intro": "上传证照文件（PDF 或 OFD）或二维码照片，或粘贴二维码内容。",
        "file": "证照文件（PDF、OFD）或二维码照片",
        "qr": "二维码内容",
        "submit": "开始核验",
        "busy": "正在上传并核验，请稍候……",
        "switch": "English",
        "certificate": "证照信息",
        "doubtful": "以下内容来自一份未通过核验的文件，仅供参考，请勿采信。",
        "checks": "核验项目",
        "again": "核验另一份",
        "report": "下载核验报告（PDF，加盖核验机关电子印章）",
        "print": "打印本页",
        "type": "证照类型",
        "number": "证书编号",
        "issuer": "发证机关",
        "validity": "有效期",
        "forever": "长期",
        "details": "技术细节",
        "block": "链上数据截至区块",
        "node_down": "区块链节点暂不可达，使用本地数据。",
        "offline": "离线核验：使用各省共同签署的信任包，数据截至",
        "region": "核验地",
        "shown": "持证人本次只出示了以上信息，出示码剩余有效时间",
        "seconds": "秒",
        "where": "您在哪个省份使用这份证照？",
        "choose": "请选择省份",
        "check_there": "查看该省是否认可",
    },
    "en": {
        "title": "Certificate verification",
        "intro": "Upload the certificate (PDF or OFD) or a photo of its QR code, or paste its "
        "QR text.",
        "file": "Certificate file (PDF, OFD) or QR photo",
        "qr": "QR text",
        "submit": "Verify",
        "busy": "Uploading and verifying, please wait…",
        "switch": "中文",
        "certificate": "Certificate",
        "doubtful": "What follows comes from a file that failed verification: do not rely on it.",
        "checks": "Checks",
        "again": "Verify another",
        "report": "Download the verification report (PDF, sealed by this verifier)",
        "print": "Print this page",
        "type": "Type",
        "number": "Number",
        "issuer": "Issuer",
        "validity": "Valid",
        "forever": "permanent",
        "details": "Technical details",
        "block": "Ledger data as of block",
        "node_down": "The ledger node is unreachable: local data.",
        "offline": "Offline: answered from the provinces' signed trust bundle, data as of",
        "region": "Verified in",
        "shown": "The holder chose to show only the fields above; this presentation expires in",
        "seconds": "s",
        "where": "Which province will you use this certificate in?",
        "choose": "Choose a province",
        "check_there": "Check recognition there",
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
.doubtful td{color:#666;text-decoration:line-through}
li{margin:6px 0}
.ok{color:#17703a}.bad{color:#b3261e}.unk{color:#8a5a00}.skip{color:#666}
form{background:#fff;padding:16px;border-radius:12px}
label{display:block;margin:12px 0 4px}
input[type=file],textarea{width:100%;font-size:18px;padding:8px}
select{font-size:20px;padding:8px;min-width:12em;max-width:100%}
button{font-size:24px;padding:12px 28px;margin-top:16px;background:#1a4fa0;color:#fff;
border:0;border-radius:10px}
.small{font-size:16px;color:#555}
button.small{color:#fff}
.notice{background:#fff3cd;border-left:6px solid #8a5a00;padding:12px;font-size:20px}
.actions a{display:inline-block;margin:8px 16px 8px 0}
@media print{body{background:#fff;font-size:14px}.lang,.actions,form{display:none}
.banner{border:3px solid #000;color:#000;background:#fff!important}main{max-width:none}}
"""
)
# Times are written in Beijing time; a reader elsewhere sees their own.
_LOCAL_TIMES = (
    "<script>document.querySelectorAll('time[datetime]').forEach(function(t){"
    "var d=new Date(t.getAttribute('datetime'));if(!isNaN(d)&&"
    "Intl.DateTimeFormat().resolvedOptions().timeZone!=='Asia/Shanghai'){"
    "t.textContent=d.toLocaleString(document.documentElement.lang);}});</script>"
)
_UPLOAD_PROGRESS = (  # the form posts as usual; meanwhile people see that it is working
    "<script>document.getElementById('upload').addEventListener('submit',function(){"
    "document.getElementById('busy').hidden=false;"
    "document.getElementById('progress').hidden=false;});</script>"
)


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def _page(lang: str, body: str, switch_href: str, script: str = "") -> str:
    t = _TEXT[lang]
    html_lang = "en" if lang == "en" else "zh-CN"
    return (
        f'<!doctype html><html lang="{html_lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(t['title'])}</title><style>{_STYLE}</style></head><body><main>"
        f'<a class="lang" href="{escape(switch_href)}">{escape(t["switch"])}</a>'
        f"<h1>{escape(t['title'])}</h1>{body}</main>{script}</body></html>"
    )


def upload_page(lang: str = "zh") -> str:
    lang = _lang(lang)
    t = _TEXT[lang]
    body = (
        f"<p>{escape(t['intro'])}</p>"
        f'<form id="upload" method="post" action="/verify?lang={lang}" '
        'enctype="multipart/form-data">'
        f'<label for="file">{escape(t["file"])}</label>'
        '<input id="file" name="file" type="file" '
        'accept="application/pdf,.ofd,application/ofd,image/*">'
        f'<label for="qr_text">{escape(t["qr"])}</label>'
        '<textarea id="qr_text" name="qr_text" rows="3"></textarea>'
        f'<button id="verify" type="submit">{escape(t["submit"])}</button>'
        f'<p id="busy" role="status" hidden>{escape(t["busy"])}</p>'
        f'<progress id="progress" hidden aria-label="{escape(t["busy"])}"></progress></form>'
    )
    return _page(lang, body, f"/?lang={'zh' if lang == 'en' else 'en'}", _UPLOAD_PROGRESS)


def _time(iso: str | None, lang: str) -> str:
    if not iso:
        return ""
    return f'<time datetime="{escape(iso)}">{escape(local_time(iso, lang))}</time>'


def _certificate(report: VerificationReport, lang: str) -> str:
    t = _TEXT[lang]
    cert = report.certificate
    if not cert.known:
        return ""
    type_name = (cert.type_name_en if lang == "en" else cert.type_name_zh) or (cert.cert_type or "")
    until = (cert.valid_until or "")[:10] or t["forever"]
    rows = [
        (t["type"], type_name),
        (t["number"], cert.certificate_id or ""),
        (t["issuer"], cert.issuer_name or cert.issuer_id or ""),
        (t["validity"], f"{(cert.valid_from or '')[:10]} – {until}"),
    ]
    rows += [(f.label_en if lang == "en" else f.label_zh, f.value) for f in cert.fields]
    doubtful = problem_with_document(report)
    warning = f'<p id="doubtful" class="notice">{escape(t["doubtful"])}</p>' if doubtful else ""
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    css = ' class="doubtful"' if doubtful else ""
    return f"<h2>{escape(t['certificate'])}</h2>{warning}<table{css}>{table}</table>"


def _checks(report: VerificationReport, lang: str) -> str:
    items = []
    for check in report.checks:
        if check.status is Status.SKIPPED:
            continue
        sign = mark(check.status)
        text = reason_line(check, lang)
        why = f"{'：' if lang == 'zh' else ': '}{escape(text)}" if text else ""
        items.append(
            f'<li class="{sign.css}" data-check="{escape(check.name.value)}">{sign.icon} '
            f"{escape(label(check.name, lang))}{why}</li>"
        )
    return f"<h2>{escape(_TEXT[lang]['checks'])}</h2><ul>{''.join(items)}</ul>"


def _picker(picker: RegionPicker, lang: str) -> str:
    t = _TEXT[lang]
    options = [f'<option value="">{escape(t["choose"])}</option>']
    for code, name in picker.provinces:
        chosen = " selected" if code == picker.selected else ""
        shown = code if lang == "en" else f"{name}（{code}）"
        options.append(f'<option value="{escape(code)}"{chosen}>{escape(shown)}</option>')
    return (
        f'<form id="where" method="get" action="{escape(picker.action)}">'
        f'<input type="hidden" name="lang" value="{lang}">'
        f'<label for="region">{escape(t["where"])}</label>'
        f'<select id="region" name="region">{"".join(options)}</select> '
        f'<button type="submit">{escape(t["check_there"])}</button></form>'
    )


def result_page(
    report: VerificationReport,
    lang: str = "zh",
    switch_href: str = "",
    picker: RegionPicker | None = None,
) -> str:
    """The answer for one certificate; ``picker``: ask which province the visitor is in (the
    page a QR code opens)."""
    lang = _lang(lang)
    t = _TEXT[lang]
    verdict = report.verdict
    look = style(verdict)
    fresh = report.freshness
    parts = [
        f'<div id="verdict" class="banner {verdict.value}" data-verdict="{verdict.value}">'
        f"<b>{escape(look.icon)} {escape(look.word(lang))}</b>"
        f'<span id="why">{escape(headline(report, lang))}</span></div>'
    ]
    if fresh.offline:  # said right under the answer, not in the fine print
        parts.append(
            f'<p id="offline" class="notice">{escape(t["offline"])} '
            f"{_time(fresh.block_time, lang)}</p>"
        )
    elif fresh.node == "down":
        parts.append(f'<p class="notice">{escape(t["node_down"])}</p>')
    parts.append(_certificate(report, lang))
    shown = report.certificate.presentation
    if shown is not None:
        parts.append(
            f'<p id="presentation" class="small">{escape(t["shown"])} '
            f"{shown.seconds_left} {escape(t['seconds'])}</p>"
        )
    if picker is not None and picker.provinces:
        parts.append(_picker(picker, lang))
    parts.append(_checks(report, lang))
    actions = [f'<a href="/?lang={lang}">{escape(t["again"])}</a>']
    qr = report.certificate.qr
    if qr:
        where = f"&amp;region={escape(report.region)}" if report.region else ""
        actions.insert(0, f'<a id="report" href="/v/{escape(qr)}/report.pdf?lang={lang}{where}">'
                          f"{escape(t['report'])}</a>")  # fmt: skip
    actions.append(
        f'<button type="button" class="small" onclick="window.print()">{escape(t["print"])}'
        "</button>"
    )
    parts.append(f'<p class="actions">{"".join(actions)}</p>')
    parts.append(
        f'<p class="small">{escape(t["region"])} {escape(region_name(report, lang))} · '
        f"{escape(data_age(fresh.age_seconds, lang))}</p>"
        f'<details class="small"><summary>{escape(t["details"])}</summary>'
        f"{escape(t['block'])} {fresh.block} · {escape(fresh.block_time or '')} UTC · "
        f"{escape(fresh.source.value)}</details>"
    )
    return _page(
        lang,
        "".join(parts),
        switch_href or f"?lang={'zh' if lang == 'en' else 'en'}",
        _LOCAL_TIMES,
    )
