"""Merged-province history: one instance's tickets exported, another's imported.

The format (docs/history-format.md) is JSON Lines, UTF-8: a header line
``{"format": "hotline-history", "version": 1, ...}`` then one ticket per line with its
contact, codes, state, publication and timeline. Areas travel by official code, so a former
unit (``old.25441`` or the plain pre-2025 ``25441``) is converted to the importing
instance's unit; fields and agencies travel by code and are kept by name in the timeline
when the importing instance has no such code.

``import_lines`` checks every line first and lists each bad one by number; only a clean
file is written, in one savepoint — nothing partial. A ticket already here (same code,
channel and external id) is skipped, so importing the same file twice changes nothing.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from hotline.domain import text
from hotline.domain.errors import ValidationError
from hotline.domain.lifecycle import Kind, Status
from hotline.extensions import db
from hotline.models import Agency, Area, Contact, Field, Ticket, TicketEvent
from hotline.services import area_trees
from hotline.services import official_units as official
from hotline.services.admin.audit import Actor, record

FORMAT, VERSION = "hotline-history", 1
TIMES = ("received_at", "assigned_at", "accepted_at", "due_at", "resolved_at", "closed_at",
         "published_at")
TEXTS = ("title", "description", "address", "result", "public_summary", "public_result",
         "rating_comment")
FLAGS = ("consent_publish", "privacy_requested")
CONTACT = ("name", "phone", "email")
EVENT = ("type", "actor_label", "note", "public", "from_status", "to_status", "data")
KINDS = {k.value for k in Kind}
STATUSES = {s.value for s in Status}
Progress = Callable[[int, int], None]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_lines(*, source: str, batch: int = 500) -> Iterator[str]:
    """The header, then every ticket (by id, in batches: ten million never sit in memory)."""
    yield json.dumps({"format": FORMAT, "version": VERSION, "source": source}, ensure_ascii=False)
    areas = {a.id: a.code for a in db.session.scalars(select(Area))}
    fields = dict(db.session.execute(select(Field.id, Field.code)).all())
    agencies = {a.id: (a.code, a.name) for a in db.session.scalars(select(Agency))}
    last = 0
    while True:
        tickets = list(db.session.scalars(select(Ticket).where(Ticket.id > last)
                                          .order_by(Ticket.id).limit(batch)))
        if not tickets:
            return
        events: dict[int, list[TicketEvent]] = {}
        for e in db.session.scalars(select(TicketEvent).where(
                TicketEvent.ticket_id.in_([t.id for t in tickets])).order_by(TicketEvent.id)):
            events.setdefault(e.ticket_id, []).append(e)
        for t in tickets:
            agency = agencies.get(t.agency_id)
            row = {"code": t.code, "kind": t.kind, "channel": t.channel,
                   "external_id": t.external_id, "status": t.status, "priority": t.priority,
                   "area_code": areas.get(t.area_id), "field_code": fields.get(t.field_id),
                   "agency_code": agency[0] if agency else None,
                   "agency_name": agency[1] if agency else None,
                   "lat": t.lat, "lon": t.lon, "rating": t.rating,
                   **{k: getattr(t, k) for k in TEXTS}, **{k: getattr(t, k) for k in FLAGS},
                   **{k: _iso(getattr(t, k)) for k in TIMES},
                   "contact": ({k: getattr(t.contact, k) for k in CONTACT}
                               if t.contact and not t.contact.anonymised_at else None),
                   "events": [{"at": _iso(e.at), **{k: getattr(e, k) for k in EVENT}}
                              for e in events.get(t.id, [])]}
            yield json.dumps(row, ensure_ascii=False, default=str)
        last = tickets[-1].id
        db.session.expunge_all()


@dataclass(frozen=True)
class HistoryImport:
    imported: int
    skipped: int
    areas_converted: int

    def describe(self) -> str:
        return (f"Imported {self.imported} tickets, skipped {self.skipped} already here; "
                f"{self.areas_converted} on former units converted to today's.")


def _time(value, line: int, key: str, problems: list[str]) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError
        return parsed
    except (TypeError, ValueError):
        problems.append(f"dòng {line}: {key} «{str(value)[:30]}» không phải thời điểm ISO 8601 "
                        "có múi giờ")
        return None


def import_lines(actor: Actor, lines: Iterable[str], *, progress: Progress | None = None,
                 total: int | None = None) -> HistoryImport:
    """Check every line, then write them all (one savepoint) or nothing."""
    problems: list[str] = []
    rows: list[tuple[int, dict]] = []
    for line, raw in enumerate(lines, start=1):
        raw = raw.strip()
        if not raw:
            continue
        try:
            row = json.loads(raw)
        except ValueError:
            problems.append(f"dòng {line}: không phải JSON")
            continue
        if line == 1:
            if not isinstance(row, dict) or row.get("format") != FORMAT \
                    or row.get("version") != VERSION:
                raise ValidationError(f"Dòng 1 phải là tiêu đề {FORMAT} phiên bản {VERSION}.",
                                      code="history_format")
            continue
        if not isinstance(row, dict):
            problems.append(f"dòng {line}: không phải một phiếu")
            continue
        rows.append((line, row))
    if not rows and not problems:
        raise ValidationError("Tệp lịch sử không có phiếu nào.", code="history_empty")
    areas = {a.code: a for a in db.session.scalars(select(Area))}
    fields = {f.code: f for f in db.session.scalars(select(Field))}
    agencies = {a.code: a for a in db.session.scalars(select(Agency))}
    codes = [r.get("code") for _l, r in rows if isinstance(r.get("code"), str)]
    here = {t.code: t for t in _tickets_by_code(codes)}
    plans, seen, skipped, converted = [], {}, 0, 0
    for line, row in rows:
        code = row.get("code")
        if not isinstance(code, str) or not code.strip() or len(code) > 16:
            problems.append(f"dòng {line}: thiếu mã phiếu")
            continue
        if code in seen:
            problems.append(f"dòng {line}: mã {code} trùng dòng {seen[code]}")
            continue
        seen[code] = line
        if code in here:
            same = (here[code].channel, here[code].external_id) == (row.get("channel"),
                                                                    row.get("external_id"))
            if same:
                skipped += 1
            else:
                problems.append(f"dòng {line}: mã {code} đã là một phiếu khác ở đây")
            continue
        if row.get("kind") not in KINDS or row.get("status") not in STATUSES:
            problems.append(f"dòng {line}: loại hoặc trạng thái không hợp lệ")
            continue
        if not isinstance(row.get("channel"), str) or not isinstance(row.get("external_id"), str):
            problems.append(f"dòng {line}: thiếu kênh hoặc mã tin gốc")
            continue
        times = {k: _time(row.get(k), line, k, problems) for k in TIMES}
        if times["received_at"] is None:
            problems.append(f"dòng {line}: thiếu thời điểm tiếp nhận")
            continue
        area, was_former = _area(row.get("area_code"), areas)
        if row.get("area_code") and area is None:
            problems.append(f"dòng {line}: mã địa bàn {row['area_code']} không có ở đây và "
                            "không có trong bảng chuyển đổi chính thức")
            continue
        converted += was_former
        events = row.get("events") or []
        if not isinstance(events, list) or any(
                not isinstance(e, dict) or not isinstance(e.get("type"), str) for e in events):
            problems.append(f"dòng {line}: dòng thời gian không hợp lệ")
            continue
        ev_times = [_time(e.get("at"), line, "events.at", problems) for e in events]
        plans.append((row, times, area, events, ev_times))
    if problems:
        raise ValidationError("Tệp lịch sử có lỗi; chưa nhập phiếu nào: " + "; ".join(problems[:30])
                              + ("; …" if len(problems) > 30 else ""), code="history_rows")
    with db.session.begin_nested():
        for done, (row, times, area, events, ev_times) in enumerate(plans, start=1):
            _write(row, times, area, events, ev_times, fields, agencies)
            if progress and (done % 200 == 0 or done == len(plans)):
                progress(done, total or len(plans))
        db.session.flush()
        record(actor, "import_history", "ticket", None,
               after={"imported": len(plans), "skipped": skipped, "areas_converted": converted})
    return HistoryImport(len(plans), skipped, converted)


def _tickets_by_code(codes: list[str]) -> list[Ticket]:
    out = []
    for i in range(0, len(codes), 900):
        out += db.session.scalars(select(Ticket).where(Ticket.code.in_(codes[i:i + 900]))).all()
    return out


def _area(code, areas: dict[str, Area]) -> tuple[Area | None, bool]:
    """This instance's unit for an exported area code; whether a former one was converted."""
    if not code:
        return None, False
    if code in areas:
        return areas[code], False
    former = code if code.startswith(official.LEGACY_PREFIX) else official.LEGACY_PREFIX + code
    if former in areas:
        return areas[former], True
    from hotline.services.address_areas import successor_codes
    new = successor_codes().get(former)
    return (areas[new], True) if new in areas else (None, False)


def _write(row, times, area, events, ev_times, fields, agencies) -> None:
    contact = _contact(row.get("contact"))
    field = fields.get(row.get("field_code") or "")
    agency = agencies.get(row.get("agency_code") or "")
    filed, current = area_trees.filed_under(area, times["received_at"])
    description = text.nfc(row.get("description") or "")
    ticket = Ticket(
        code=row["code"], kind=row["kind"], channel=row["channel"],
        external_id=row["external_id"], contact=contact, title=text.nfc(row.get("title") or "")[:300],
        description=description, field=field, area=filed, current_area=current,
        address=row.get("address"), lat=row.get("lat"), lon=row.get("lon"),
        status=row["status"], priority=row.get("priority") or "normal", agency=agency,
        search_text=text.fold(" ".join(filter(None, [row.get("title"), description,
                                                     row.get("address")]))),
        rating=row.get("rating"), status_token=_token(),
        public_search_text=(text.fold(f"{row['code']} {row.get('public_summary') or ''} "
                                      f"{row.get('public_result') or ''}")
                            if times["published_at"] else None),
        **{k: row.get(k) for k in ("result", "public_summary", "public_result",
                                   "rating_comment")},
        **{k: bool(row.get(k)) for k in FLAGS}, **times)
    db.session.add(ticket)
    db.session.flush()
    for e, at in zip(events, ev_times, strict=True):
        db.session.add(TicketEvent(ticket_id=ticket.id, at=at or times["received_at"],
                                   agency_id=ticket.agency_id,
                                   **{k: e.get(k) for k in EVENT if k != "public"},
                                   public=bool(e.get("public"))))
    missing = [f"lĩnh vực {row['field_code']}" for _ in [0] if row.get("field_code") and not field]
    missing += [f"cơ quan {row.get('agency_name') or row['agency_code']}" for _ in [0]
                if row.get("agency_code") and not agency]
    db.session.add(TicketEvent(ticket_id=ticket.id, at=times["received_at"], type="imported",
                               actor_label="import-history", public=False,
                               note="Nhập từ lịch sử tỉnh hợp nhất." + (
                                   " Không có ở đây: " + ", ".join(missing) + "." if missing
                                   else "")))


def _contact(raw) -> Contact | None:
    if not isinstance(raw, dict):
        return None
    phone, email = raw.get("phone") or None, raw.get("email") or None
    if not phone and not email:
        return None
    found = db.session.scalar(select(Contact).where(
        (Contact.phone == phone) if phone else (Contact.email == email)))
    if found is None:
        found = Contact(name=raw.get("name"), phone=phone,
                        email=email if not phone or not _email_taken(email) else None)
        db.session.add(found)
        db.session.flush()
    return found


def _email_taken(email: str | None) -> bool:
    return bool(email) and db.session.scalar(select(Contact.id).where(Contact.email == email)) \
        is not None


def _token() -> str:
    import secrets
    return secrets.token_urlsafe(16)
