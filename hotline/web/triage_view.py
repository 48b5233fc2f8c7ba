"""Triage suggestions as the operator screens show them: translated banners, the fields
with their confidence and deciding words, KB articles and duplicate candidates."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from hotline.extensions import db
from hotline.models import KbArticle, Ticket
from hotline.services import triage, triage_duplicates

MAX_TEXT = 5000


def banner(scope: str, number: str | None) -> str | None:
    """The operator's banner for a scope (translated), ``None`` for an ordinary report."""
    if scope == "emergency":
        number = number or "113"
        service = {"113": _("Công an"), "114": _("Cứu nạn, cứu hộ - chữa cháy"),
                   "115": _("Cấp cứu y tế")}.get(number, "")
        return _("Tình huống khẩn cấp: chuyển %(n)s (%(s)s). Hướng dẫn người dân gọi ngay "
                 "113 / 114 / 115; phiếu vẫn được ghi nhận.", n=number, s=service)
    if scope == "khieu_nai":
        return _("Khiếu nại: theo Luật Khiếu nại 2011, gửi người đã ra quyết định hành chính "
                 "hoặc cơ quan có người có hành vi hành chính bị khiếu nại (giải quyết lần đầu), "
                 "hoặc Ban Tiếp công dân. Tổng đài ghi nhận và hướng dẫn, không giải quyết.")
    if scope == "to_cao":
        return _("Tố cáo: theo Luật Tố cáo 2018, gửi người đứng đầu cơ quan, tổ chức quản lý "
                 "người bị tố cáo, cơ quan thanh tra hoặc Ban Tiếp công dân. Tổng đài ghi nhận "
                 "và hướng dẫn, không giải quyết.")
    return None


def as_json(suggestion: triage.Suggestion) -> dict:
    """The JSON the new-call form reads."""
    bodies = {}
    if suggestion.kb:
        ids = [a["id"] for a in suggestion.kb]
        bodies = {a.id: a for a in db.session.query(KbArticle).filter(KbArticle.id.in_(ids))}
    return {
        "fields": suggestion.fields, "scope": suggestion.scope, "number": suggestion.number,
        "banner": banner(suggestion.scope, suggestion.number),
        "scope_words": suggestion.scope_words, "source": suggestion.source,
        "kb": [{"id": a["id"], "title": a["title"], "score": a["score"],
                "body": bodies[a["id"]].body if a["id"] in bodies else "",
                "snippet": bodies[a["id"]].body[:220] if a["id"] in bodies else ""}
               for a in suggestion.kb],
    }


def for_ticket(ticket: Ticket) -> dict:
    """What the ticket page's triage box shows."""
    suggestion = triage.suggest(f"{ticket.title}. {ticket.description}"[:MAX_TEXT])
    duplicates = [{"code": d.ticket.code, "title": d.ticket.title, "score": d.score,
                   "metres": d.metres, "received_at": d.ticket.received_at,
                   "url": url_for("operator.ticket", code=d.ticket.code)}
                  for d in triage_duplicates.for_ticket(ticket)]
    return {"suggestion": suggestion, "banner": banner(suggestion.scope, suggestion.number),
            "duplicates": duplicates, "status": triage.status()["state"]}


def for_rows(rows) -> dict[int, dict]:
    """The scope banner and best field of each ticket in a triage list (one page of rows),
    read from the title: the list loads no description (a page stays one small query)."""
    out: dict[int, dict] = {}
    if not rows:
        return out
    fields = triage.active_fields()
    for t in rows:
        s = triage.suggest(t.title, with_kb=False, fields=fields)
        out[t.id] = {"scope": s.scope, "banner": banner(s.scope, s.number), "fields": s.fields}
    return out
