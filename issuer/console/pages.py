"""The console's HTML: one layout (skip link, department banner, menu, main), large type, Chinese
first with English beside it (``lang="en"`` so screen readers switch voice), times as
``<time>`` elements shown in the reader's local time, no external assets. Every value that
came from a person or a file is escaped."""

# ruff: noqa: E501
# The templates keep each element and its bilingual words on one line: split at 100 columns
# they read worse than whole.

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from issuer.console.queries import PAGE, CertificateRow, Search
from issuer.records_io import RowProblem
from issuer.store import AuditEntry, CertStatus, aware
from ledger.catalogue import catalogue
from ledger.codes import RevocationReason

__all__ = [
    "REASON_WORDS",
    "STATUS_WORDS",
    "Frame",
    "audit_page",
    "both",
    "certificate_page",
    "error_page",
    "list_page",
    "login_page",
    "upload_form",
    "upload_page",
]

STATUS_WORDS: dict[str, tuple[str, str]] = {
    CertStatus.RECEIVED: ("已接收", "received"),
    CertStatus.SEALED: ("已签章", "sealed"),
    CertStatus.BATCHED: ("待上链", "batched"),
    CertStatus.ANCHORED: ("已上链（有效）", "anchored"),
    CertStatus.REVOKED: ("已撤销", "revoked"),
    CertStatus.FAILED: ("失败", "failed"),
}
REASON_WORDS: dict[RevocationReason, tuple[str, str]] = {
    RevocationReason.UNSPECIFIED: ("未说明原因", "unspecified"),
    RevocationReason.KEY_COMPROMISE: ("印章密钥泄露", "key compromise"),
    RevocationReason.ISSUED_IN_ERROR: ("错误签发", "issued in error"),
    RevocationReason.SUPERSEDED: ("已换发新证", "superseded"),
    RevocationReason.CESSATION_OF_OPERATION: ("已注销或停业", "cessation of operation"),
    RevocationReason.PRIVILEGE_WITHDRAWN: ("资格被取消", "privilege withdrawn"),
    RevocationReason.AUTHORITY_ORDER: ("依有权机关决定", "authority order"),
}
_ACTION_WORDS = {
    "ISSUE": ("受理签发", "issued"),
    "SEAL_FAILED": ("签章失败", "sealing failed"),
    "ANCHOR": ("批次上链", "batch anchored"),
    "ANCHOR_FAILED": ("批次上链被拒", "batch refused"),
    "REVOKE": ("撤销", "revoked"),
}

_CSS = """
*{box-sizing:border-box}
html{font-size:22px}
body{margin:0;font-family:"WenQuanYi Micro Hei","Noto Sans CJK SC","PingFang SC",sans-serif;
line-height:1.6;color:#111;background:#f4f4f1}
a{color:#0b4a9e}
.skip{position:absolute;left:-9999px;top:0;background:#fff;padding:8px}
.skip:focus{left:8px;z-index:9}
:focus-visible{outline:4px solid #c25e00;outline-offset:2px}
header{background:#123b73;color:#fff;padding:10px 16px}
header p{margin:0;font-size:20px}
header a{color:#fff}
nav ul{list-style:none;margin:8px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:8px 20px}
nav a{font-size:22px}
nav a[aria-current=page]{font-weight:bold;text-decoration:underline 3px}
nav form{display:inline}
main{max-width:1000px;margin:0 auto;padding:16px}
h1{font-size:32px;margin:8px 0 16px}
h2{font-size:26px;margin:28px 0 8px}
.en{color:#444;font-size:.85em}
header .en{color:#e6ecf5}
button .en,.badge .en{color:inherit}
label{display:block;margin:14px 0 4px;font-weight:bold}
input,select,button{font-size:22px;font-family:inherit}
input[type=text],input[type=password],input[type=search],select,input[type=file]{width:100%;
max-width:560px;padding:10px;border:2px solid #555;border-radius:8px;background:#fff}
input[type=checkbox]{width:28px;height:28px;vertical-align:middle}
button{padding:12px 28px;margin-top:16px;background:#1a4fa0;color:#fff;border:0;
border-radius:10px;cursor:pointer}
button.danger{background:#a3211a}
button.link{background:none;color:#fff;padding:0;margin:0;text-decoration:underline}
.panel{background:#fff;padding:16px;border-radius:12px;margin:12px 0}
.hint{font-size:19px;color:#333;margin:4px 0}
table{width:100%;border-collapse:collapse;background:#fff}
caption{text-align:left;font-weight:bold;padding:8px 0}
th,td{padding:10px;border-bottom:1px solid #ccc;text-align:left;vertical-align:top}
thead th{background:#e9edf3}
.badge{display:inline-block;padding:2px 10px;border-radius:8px;background:#e9e9e9;color:#222}
.badge.ANCHORED{background:#e3f3e8;color:#145c30}
.badge.REVOKED,.badge.FAILED{background:#fbe7e5;color:#9c1f17}
.notice{background:#fff3cd;border-left:6px solid #8a5a00;padding:12px}
.ok{background:#e3f3e8;border-left:6px solid #145c30;padding:12px}
.error{background:#fbe7e5;border-left:6px solid #9c1f17;padding:12px}
progress{width:100%;max-width:560px;height:28px}
ol.trail li{margin:8px 0}
.pages a{margin-right:16px}
@media (max-width:600px){html{font-size:20px}table.wide thead{display:none}
table.wide td{display:block;border:0;padding:2px 10px}
table.wide tr{display:block;border-bottom:1px solid #ccc;padding:8px 0}
table.wide td[data-label]::before{content:attr(data-label) "：";font-weight:bold}}
"""

_LOCAL_TIME_JS = """
for (const t of document.querySelectorAll('time[data-local]')) {
  const d = new Date(t.dateTime);
  if (!isNaN(d)) t.textContent = d.toLocaleString('zh-CN', {hour12: false});
}
const tz = document.getElementById('tz');
if (tz) tz.textContent = '时间为本机时间 / times are local (' +
  Intl.DateTimeFormat().resolvedOptions().timeZone + ')';
"""


def both(zh: str, en: str) -> str:
    return f'{escape(zh)} <span lang="en" class="en">{escape(en)}</span>'


def _time(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    iso = moment.isoformat()
    return f'<time datetime="{escape(iso)}" data-local>{escape(moment.strftime("%Y-%m-%d %H:%M:%S"))} UTC</time>'


def _status(status: str) -> str:
    zh, en = STATUS_WORDS.get(status, (status, status))
    return f'<span class="badge {escape(status)}">{both(zh, en)}</span>'


def _type_name(code: str) -> str:
    spec = catalogue().get(code)
    return both(spec.name_zh, spec.name_en) if spec else escape(code)


@dataclass(frozen=True)
class Frame:
    """What every signed-in page shows around its content."""

    department: str
    issuer_id: str
    csrf: str
    nonce: str
    """The CSP nonce of this response's inline style and script."""


_MENU = (
    ("/console/certificates", "证照查询", "Certificates"),
    ("/console/upload", "批量上传", "Upload a batch"),
    ("/console/audit", "审计记录", "Audit trail"),
)


def _document(title: str, body: str, nonce: str, script: str = "") -> str:
    scripts = f'<script nonce="{nonce}">{_LOCAL_TIME_JS}{script}</script>'
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)} · 部门证照管理</title>"
        f'<style nonce="{nonce}">{_CSS}</style></head><body>'
        f'<a class="skip" href="#main">跳到正文 <span lang="en">Skip to content</span></a>'
        f"{body}{scripts}</body></html>"
    )


def _framed(
    frame: Frame, current: str, title: tuple[str, str], content: str, script: str = ""
) -> str:
    items = "".join(
        f'<li><a href="{href}"{" aria-current=page" if href == current else ""}>'
        f"{both(zh, en)}</a></li>"
        for href, zh, en in _MENU
    )
    logout = (
        '<li><form method="post" action="/console/logout">'
        f'<input type="hidden" name="csrf" value="{escape(frame.csrf)}">'
        f'<button class="link" type="submit">{both("退出登录", "Log out")}</button></form></li>'
    )
    header = (
        f"<header><p>{escape(frame.department)} · {escape(frame.issuer_id)}</p>"
        f'<nav aria-label="主菜单 Main menu"><ul>{items}{logout}</ul></nav></header>'
    )
    main = f'<main id="main"><h1>{both(*title)}</h1>{content}<p class="hint" id="tz"></p></main>'
    return _document(title[0], header + main, frame.nonce, script)


def login_page(nonce: str, login_nonce: str, error: str = "") -> str:
    problem = f'<p id="login-error" class="error" role="alert">{error}</p>' if error else ""
    described = (
        ' aria-describedby="login-error token-hint"' if error else ' aria-describedby="token-hint"'
    )
    body = (
        '<main id="main"><h1>'
        + both("部门证照管理 · 登录", "Department console · log in")
        + "</h1>"
        + problem
        + '<form class="panel" method="post" action="/console/login">'
        f'<input type="hidden" name="login_nonce" value="{escape(login_nonce)}">'
        f'<label for="token">{both("部门令牌", "Department token")}</label>'
        f'<input id="token" name="token" type="password" autocomplete="off" required{described}>'
        '<p class="hint" id="token-hint">'
        + both(
            "令牌由系统管理员用 ecert token create 生成，以 ecert_ 开头。",
            "Your administrator makes it with ecert token create; it starts with ecert_.",
        )
        + "</p>"
        f'<button id="login" type="submit">{both("登录", "Log in")}</button></form></main>'
    )
    return _document("登录", body, nonce)


def error_page(nonce: str, status: int, zh: str, en: str, frame: Frame | None = None) -> str:
    content = (
        f'<p class="error" role="alert">{both(zh, en)}</p>'
        f'<p><a href="/console/certificates">{both("返回证照查询", "Back to certificates")}</a></p>'
    )
    title = (f"出错了（{status}）", f"Something went wrong ({status})")
    if frame is None:
        return _document(
            title[0], f'<main id="main"><h1>{both(*title)}</h1>{content}</main>', nonce
        )
    return _framed(frame, "", title, content)


def _search_form(frame: Frame, search: Search) -> str:
    options = '<option value="">' + both("全部", "any") + "</option>"
    for status, (zh, en) in STATUS_WORDS.items():
        chosen = " selected" if search.status == status else ""
        options += f'<option value="{status}"{chosen}>{escape(zh)} / {escape(en)}</option>'
    return (
        '<form class="panel" method="post" action="/console/certificates" role="search" '
        'aria-label="查找证照 Find certificates">'
        f'<input type="hidden" name="csrf" value="{escape(frame.csrf)}">'
        f'<label for="number">{both("证书编号或业务编号", "Certificate or case number")}</label>'
        f'<input id="number" name="number" type="search" value="{escape(search.number)}">'
        f'<label for="holder">{both("持证人名称", "Holder name")}</label>'
        f'<input id="holder" name="holder" type="search" value="{escape(search.holder)}" '
        'aria-describedby="holder-hint">'
        '<p class="hint" id="holder-hint">'
        + both(
            "企业名称、姓名或权利人，可只输入一部分。",
            "Company, person or owner; part of it is enough.",
        )
        + "</p>"
        f'<label for="status">{both("办理进度", "Status")}</label>'
        f'<select id="status" name="status">{options}</select>'
        f'<button id="search" type="submit">{both("查找", "Search")}</button></form>'
    )


def list_page(
    frame: Frame, search: Search, rows: Sequence[CertificateRow], total: int, *, posted: bool
) -> str:
    if rows:
        body = "".join(
            "<tr>"
            f'<td data-label="证书编号"><a href="/console/certificates/{escape(r.certificate_id)}">'
            f"{escape(r.certificate_id)}</a></td>"
            f'<td data-label="持证人">{escape(r.holder) or "—"}</td>'
            f'<td data-label="类型">{_type_name(r.cert_type)}</td>'
            f'<td data-label="进度">{_status(r.status)}</td>'
            f'<td data-label="更新时间">{_time(r.updated_at)}</td>'
            "</tr>"
            for r in rows
        )
        table = (
            '<table class="wide" id="results"><caption>'
            + both(f"共 {total} 份", f"{total} in all")
            + "</caption><thead><tr>"
            + "".join(
                f'<th scope="col">{both(zh, en)}</th>'
                for zh, en in (
                    ("证书编号", "Number"),
                    ("持证人", "Holder"),
                    ("类型", "Type"),
                    ("办理进度", "Status"),
                    ("更新时间", "Updated"),
                )
            )
            + f"</tr></thead><tbody>{body}</tbody></table>"
        )
    else:
        table = (
            f'<p class="notice" id="results">{both("没有找到证照。", "No certificates found.")}</p>'
        )
    pages = ""
    if not posted and total > PAGE:
        last = (total + PAGE - 1) // PAGE
        links = []
        if search.page > 1:
            links.append(
                f'<a href="?page={search.page - 1}&amp;status={escape(search.status)}">{both("上一页", "Previous")}</a>'
            )
        if search.page < last:
            links.append(
                f'<a href="?page={search.page + 1}&amp;status={escape(search.status)}">{both("下一页", "Next")}</a>'
            )
        pages = f'<p class="pages">{both(f"第 {search.page} / {last} 页", f"page {search.page} of {last}")} {"".join(links)}</p>'
    elif posted and total > PAGE:
        pages = f'<p class="hint">{both(f"只显示最新的 {PAGE} 份，请缩小查找范围。", f"Showing the newest {PAGE}; narrow the search.")}</p>'
    return _framed(
        frame,
        "/console/certificates",
        ("证照查询", "Certificates"),
        _search_form(frame, search) + f'<div aria-live="polite">{table}</div>' + pages,
    )


def certificate_page(
    frame: Frame,
    view: Mapping[str, Any],
    claims: Mapping[str, str],
    progress: Sequence[tuple[str, datetime, str]],
    *,
    message: str = "",
) -> str:
    spec = catalogue().get(str(view["cert_type"]))
    labels = {f.key: (f.label_zh, f.label_en) for f in spec.fields} if spec else {}
    number = escape(str(view["certificate_id"]))
    rows = [
        (("证书编号", "Number"), number),
        (("类型", "Type"), _type_name(str(view["cert_type"]))),
        (("业务编号", "Case number"), escape(str(view["reference"]))),
        (("办理进度", "Status"), _status(str(view["status"]))),
    ]
    if view.get("failure_reason"):
        rows.append((("失败原因", "Why it failed"), escape(str(view["failure_reason"]))))
    if view.get("revocation_reason"):
        zh, en = REASON_WORDS.get(RevocationReason(int(view["revocation_reason"])), ("", ""))
        rows.append((("撤销原因", "Revocation reason"), both(zh, en)))
    for key, value in claims.items():
        zh, en = labels.get(key, (key, key))
        rows.append(((zh, en), escape(value)))
    table = (
        '<table id="details"><caption>'
        + both("证照信息", "Details")
        + "</caption><tbody>"
        + "".join(f'<tr><th scope="row">{both(*k)}</th><td>{v}</td></tr>' for k, v in rows)
        + "</tbody></table>"
    )
    steps = "".join(
        f'<li data-status="{escape(status)}">{_status(status)} {_time(at)}'
        f"{' · ' + escape(detail) if detail else ''}</li>"
        for status, at, detail in progress
    )
    trail = f'<h2>{both("办理进度", "Progress")}</h2><ol class="trail" id="trail">{steps}</ol>'
    downloads = []
    sealed = view["status"] not in (CertStatus.RECEIVED, CertStatus.FAILED)
    if sealed and "pdf" in view.get("formats", ("pdf",)):
        downloads.append(
            f'<li><a id="pdf" href="/console/certificates/{number}/pdf">{both("下载证照 PDF", "Download the PDF")}</a></li>'
        )
    if sealed and "ofd" in view.get("formats", ()):
        downloads.append(
            f'<li><a id="ofd" href="/console/certificates/{number}/ofd">{both("下载证照 OFD（国标版式，SM2 签章）", "Download the OFD (national standard, SM2 seal)")}</a></li>'
        )
    if view.get("proof"):
        downloads.append(
            f'<li><a id="proof" href="/console/certificates/{number}/proof">{both("下载登记证明（JSON，给持证人出示用）", "Download the proof (JSON, for the holder’s wallet)")}</a></li>'
        )
    if view.get("qr"):
        downloads.append(
            f'<li><a id="verify-link" href="{escape(str(view["qr"]))}">{both("在核验页查看", "Open on the verifier page")}</a></li>'
        )
    files = (
        f"<h2>{both('下载与核验', 'Files and verification')}</h2><ul>{''.join(downloads)}</ul>"
        if downloads
        else ""
    )
    revoke = ""
    if view["status"] == CertStatus.ANCHORED:
        reasons = "".join(
            f'<option value="{int(code)}">{int(code)} {escape(zh)} / {escape(en)}</option>'
            for code, (zh, en) in REASON_WORDS.items()
        )
        revoke = (
            f"<h2>{both('撤销证照', 'Revoke')}</h2>"
            f'<form class="panel" method="post" action="/console/certificates/{number}/revoke">'
            f'<input type="hidden" name="csrf" value="{escape(frame.csrf)}">'
            f'<label for="reason">{both("撤销原因", "Reason")}</label>'
            f'<select id="reason" name="reason" required>{reasons}</select>'
            '<p><input id="confirm" name="confirm" type="checkbox" value="yes" required> '
            f'<label for="confirm" style="display:inline">{both("我确认撤销此证照，撤销后不能恢复", "I confirm: a revocation cannot be undone")}</label></p>'
            f'<button class="danger" id="revoke" type="submit">{both("撤销", "Revoke")}</button></form>'
        )
    note = f'<p class="ok" role="status" id="message">{message}</p>' if message else ""
    return _framed(
        frame,
        "",
        (f"证照 {view['certificate_id']}", f"Certificate {view['certificate_id']}"),
        note + table + trail + files + revoke,
    )


def upload_form(
    frame: Frame, cert_types: Sequence[str], error: str = "", max_mb: float = 8.0
) -> str:
    options = "".join(
        f'<option value="{escape(code)}">{escape(catalogue()[code].name_zh)} / {escape(catalogue()[code].name_en)}</option>'
        for code in cert_types
        if code in catalogue()
    )
    problem = (
        f'<p id="upload-error" class="error" role="alert">{error}</p>'
        if error
        else ('<p id="upload-error" class="error" role="alert" hidden></p>')
    )
    script = _UPLOAD_JS
    content = (
        problem
        + '<form id="upload-form" class="panel" method="post" action="/console/upload" enctype="multipart/form-data">'
        f'<input type="hidden" name="csrf" value="{escape(frame.csrf)}">'
        f'<label for="cert_type">{both("证照类型", "Certificate type")}</label>'
        f'<select id="cert_type" name="cert_type">{options}</select>'
        f'<label for="file">{both("数据文件（CSV 或 JSONL）", "Records file (CSV or JSONL)")}</label>'
        '<input id="file" name="file" type="file" accept=".csv,.jsonl,.ndjson,text/csv" required aria-describedby="file-hint">'
        '<p class="hint" id="file-hint">'
        + both(
            f"第一行为字段名（如 uscc,name,…），每行一份证照；可用 reference 列填业务编号，valid_until 列填有效期。UTF-8 或 GBK 编码，不超过 {max_mb:g} MB。",
            f"First line: field keys (uscc,name,…); one certificate a line; optional reference and valid_until columns. UTF-8 or GBK, at most {max_mb:g} MB.",
        )
        + "</p>"
        f'<button id="upload" type="submit">{both("上传并签发", "Upload and issue")}</button>'
        f'<div id="sending" hidden><label for="upload-bar">{both("上传进度", "Upload progress")}</label>'
        '<progress id="upload-bar" max="100" value="0"></progress></div></form>'
    )
    return _framed(frame, "/console/upload", ("批量上传", "Upload a batch"), content, script)


_UPLOAD_JS = """
const form = document.getElementById('upload-form');
form.addEventListener('submit', (event) => {
  event.preventDefault();
  const bar = document.getElementById('upload-bar');
  const problem = document.getElementById('upload-error');
  document.getElementById('sending').hidden = false;
  document.getElementById('upload').disabled = true;
  problem.hidden = true;
  const xhr = new XMLHttpRequest();
  xhr.open('POST', form.action);
  xhr.setRequestHeader('X-Console-Upload', '1');
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = 100 * e.loaded / e.total; };
  xhr.onload = () => {
    let answer = {};
    try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {}; }
    if (xhr.status < 300 && answer.redirect) { location.assign(answer.redirect); return; }
    problem.textContent = answer.error || answer.detail || ('上传失败 / upload failed (' + xhr.status + ')');
    problem.hidden = false;
    document.getElementById('upload').disabled = false;
  };
  xhr.onerror = () => {
    problem.textContent = '网络中断，请重试 / the connection failed, try again';
    problem.hidden = false;
    document.getElementById('upload').disabled = false;
  };
  xhr.send(new FormData(form));
});
"""


def _bar(key: str, zh: str, en: str, value: int, total: int) -> str:
    return (
        f'<label for="p-{key}">{both(zh, en)}</label>'
        f'<progress id="p-{key}" max="{max(total, 1)}" value="{value}"></progress>'
        f' <span id="t-{key}">{value} / {total}</span>'
    )


def progress_numbers(counts: Mapping[str, int], total: int) -> dict[str, int | bool]:
    sealed = sum(counts.get(s, 0) for s in ("SEALED", "BATCHED", "ANCHORED", "REVOKED"))
    anchored = counts.get("ANCHORED", 0) + counts.get("REVOKED", 0)
    failed = counts.get("FAILED", 0)
    return {
        "total": total,
        "sealed": sealed,
        "anchored": anchored,
        "failed": failed,
        "done": anchored + failed >= total,
    }


_PROGRESS_JS = """
const box = document.getElementById('progress');
async function tick() {
  let p;
  try {
    const r = await fetch(box.dataset.src, {credentials: 'same-origin', cache: 'no-store'});
    p = await r.json();
  } catch (e) { setTimeout(tick, 2000); return; }
  for (const k of ['sealed', 'anchored', 'failed']) {
    document.getElementById('p-' + k).value = p[k];
    document.getElementById('t-' + k).textContent = p[k] + ' / ' + p.total;
  }
  if (p.done) {
    document.getElementById('state').textContent = p.failed
      ? '处理完毕，' + p.failed + ' 份失败 / done, ' + p.failed + ' failed'
      : '全部签章上链完毕 / all sealed and anchored';
    box.dataset.done = 'true';
  } else { setTimeout(tick, 1000); }
}
if (box.dataset.done !== 'true') setTimeout(tick, 500);
"""


def upload_page(
    frame: Frame,
    upload_id: int,
    filename: str,
    encoding: str,
    rows: int,
    accepted: int,
    problems: Sequence[RowProblem],
    numbers: Mapping[str, int | bool],
    cert_type: str,
) -> str:
    spec = catalogue().get(cert_type)
    labels = {f.key: f"{f.label_zh} ({f.key})" for f in spec.fields} if spec else {}
    done = bool(numbers["done"])
    total = int(numbers["total"])
    state = (
        "全部签章上链完毕 / all sealed and anchored"
        if done and not numbers["failed"]
        else f"处理完毕，{numbers['failed']} 份失败 / done, {numbers['failed']} failed"
        if done
        else "正在签章和上链… / sealing and anchoring…"
    )
    read_as = " · 按 GBK/GB18030 读取 / read as GBK" if encoding == "gb18030" else ""
    summary = (
        f'<p class="panel" id="summary">{both("文件", "File")}：{escape(filename)}{escape(read_as)}<br>'
        + both(
            f"共 {rows} 行：受理 {accepted} 份，退回 {len(problems)} 行。",
            f"{rows} rows: {accepted} accepted, {len(problems)} refused.",
        )
        + "</p>"
    )
    progress = (
        f'<section class="panel" id="progress" aria-labelledby="progress-title" data-src="/console/uploads/{upload_id}/progress" data-done="{"true" if done else "false"}">'
        f'<h2 id="progress-title">{both("处理进度", "Progress")}</h2>'
        + _bar("sealed", "已签章", "sealed", int(numbers["sealed"]), total)
        + _bar("anchored", "已上链", "anchored", int(numbers["anchored"]), total)
        + _bar("failed", "失败", "failed", int(numbers["failed"]), total)
        + f'<p id="state" role="status">{escape(state)}</p>'
        + f'<p><a href="/console/uploads/{upload_id}">{both("刷新", "Refresh")}</a></p></section>'
    )
    errors = ""
    if problems:
        body = "".join(
            f'<tr><td data-label="行">{p.row}</td><td data-label="业务编号">{escape(p.reference)}</td>'
            f'<td data-label="字段">{escape(labels.get(p.field, p.field))}</td><td data-label="问题">{escape(p.message)}</td></tr>'
            for p in problems
        )
        errors = (
            f"<h2>{both('退回的行', 'Refused rows')}</h2>"
            '<table class="wide" id="row-errors"><caption>'
            + both(
                "请改正后重新上传这些行；已受理的不会重复签发。",
                "Fix these rows and upload again; accepted rows are never issued twice.",
            )
            + "</caption>"
            "<thead><tr>"
            + "".join(
                f'<th scope="col">{both(zh, en)}</th>'
                for zh, en in (
                    ("行", "Line"),
                    ("业务编号", "Case number"),
                    ("字段", "Field"),
                    ("问题", "Problem"),
                )
            )
            + f"</tr></thead><tbody>{body}</tbody></table>"
        )
    return _framed(
        frame, "/console/upload", ("上传结果", "Upload"), summary + progress + errors, _PROGRESS_JS
    )


def audit_page(frame: Frame, entries: Sequence[AuditEntry], total: int, page: int) -> str:
    def details(entry: AuditEntry) -> str:
        d = entry.details
        parts = []
        if "count" in d:
            parts.append(f"{d['count']} 份 / certificates")
        if "block" in d:
            parts.append(f"区块 block {d['block']}")
        if "reason" in d:
            parts.append(f"原因 reason {d['reason']}")
        return escape(" · ".join(parts))

    body = "".join(
        f'<tr><td data-label="序号">{e.seq}</td><td data-label="时间">{_time(aware(e.at))}</td>'
        f'<td data-label="操作">{both(*_ACTION_WORDS.get(e.action, (e.action, e.action)))}</td>'
        f'<td data-label="对象">{escape(e.subject)}</td><td data-label="操作人">{escape(e.actor)}</td>'
        f'<td data-label="说明">{details(e)}</td></tr>'
        for e in entries
    )
    table = (
        '<table class="wide" id="audit"><caption>'
        + both(
            f"共 {total} 条，最新的在前；每条记录以哈希链相连，可用 ecert audit verify 核对。",
            f"{total} entries, newest first, hash-chained (check with ecert audit verify).",
        )
        + "</caption><thead><tr>"
        + "".join(
            f'<th scope="col">{both(zh, en)}</th>'
            for zh, en in (
                ("序号", "No."),
                ("时间", "Time"),
                ("操作", "Action"),
                ("对象", "Subject"),
                ("操作人", "By"),
                ("说明", "Details"),
            )
        )
        + f"</tr></thead><tbody>{body}</tbody></table>"
    )
    last = max((total + PAGE - 1) // PAGE, 1)
    links = []
    if page > 1:
        links.append(f'<a href="?page={page - 1}">{both("较新", "Newer")}</a>')
    if page < last:
        links.append(f'<a href="?page={page + 1}">{both("较早", "Older")}</a>')
    return _framed(
        frame,
        "/console/audit",
        ("审计记录", "Audit trail"),
        table + f'<p class="pages">{"".join(links)}</p>',
    )
