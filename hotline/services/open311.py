"""Open311 GeoReport v2 over our tickets: services from fields, requests from tickets.

Mapping (https://wiki.open311.org/GeoReport_v2):

* a **service** is a field (lĩnh vực) or sub-type: ``service_code`` = field code,
  ``group`` = the parent field's name, ``metadata`` = whether it has extra questions,
  which become ``attributes`` of the service definition;
* a **service request** is a ticket: ``service_request_id`` = ticket code, ``status``
  open/closed (our detailed status in the ``extensions``), ``status_notes`` = the
  published result, ``agency_responsible`` = the agency's name, ``expected_datetime`` =
  the SLA due time, all times ISO 8601 with the local offset (+07:00).

GET is public, so it shows the ticket's public projection and nothing else
(:mod:`hotline.services.public_projection`): no phone, e-mail or name ever; a
description, result, photos and notes only once a moderator published the ticket
(the moderated text; notes in fixed words, never an event's note); the point
rounded to about 100 m; and tickets whose citizen refused publication, or that a
manager withheld, only by their id (no point, in no list).

POST stores the request through ``services.staging.stage`` (channel ``open311``) and
answers at once with the ticket code it reserved as ``service_request_id`` — the intake
drain routes it a moment later, and until then GET shows it as open and being sorted —
so ``tokens/{token}`` is never needed. Idempotency: the spec has no idempotency key, so a client that
retries a POST would file twice. A client that sends an ``Idempotency-Key`` header (or our
extension ``request_token``, optionally with ``device_id``) gets a stable external id —
``sha256(api key id, device_id, token)``, scoped to the API key — and a retried POST
returns the same request; without one each POST gets a fresh uuid, as the spec implies.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from hotline.config import local_time, local_zone
from hotline.domain import codes, text
from hotline.domain.errors import NotFound, PermissionDenied, ValidationError
from hotline.domain.lifecycle import LABELS_VI, OPEN_STATUSES, Status
from hotline.domain.messages import Channel, ContactHandle, IncomingAttachment, IncomingMessage
from hotline.extensions import db
from hotline.models import ApiScope, Field, Ticket, utcnow
from hotline.services import accounts, lookups, public_projection, staging
from hotline.services.accounts import ApiClient

DEFAULT_WINDOW = timedelta(days=90)
_FLOOR = datetime(1900, 1, 1, tzinfo=UTC)
_CEILING = datetime(9000, 1, 1, tzinfo=UTC)
MAX_RECORDS = 1000
MAX_IDS = 200
_OPEN = frozenset(s.value for s in OPEN_STATUSES)
_ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\]]{1,40})\](\[\])?$")
_DATATYPES = {"text": "string", "number": "number", "date": "datetime", "choice": "singlevaluelist",
              "yesno": "singlevaluelist"}
_YESNO = [{"key": "co", "name": "Có"}, {"key": "khong", "name": "Không"}]


def iso(value: datetime | None) -> str | None:
    """An instant as ISO 8601 with the local offset: ``2026-11-23T09:00:00+07:00``."""
    return value.astimezone(local_zone()).isoformat(timespec="seconds") if value else None


def parse_datetime(value: str | None, name: str) -> datetime | None:
    """A W3C datetime (``2026-11-23T09:00:00Z``, with an offset, or a date); local if naive."""
    if value is None or not value.strip():
        return None
    raw = value.strip().replace(" ", "+") if "T" in value else value.strip()
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{name} không phải thời điểm W3C hợp lệ (ví dụ "
                              "2026-11-23T09:00:00+07:00).", code="invalid_datetime") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=local_zone())
    # Far past or future dates are valid W3C datetimes: clamp them instead of refusing.
    try:
        value = parsed.astimezone(UTC)
    except OverflowError:
        value = _CEILING if parsed.year > 5000 else _FLOOR
    return min(max(value, _FLOOR), _CEILING)


# --- services -------------------------------------------------------------------------

def questions(field: Field | _Service) -> list[dict]:
    """A field's extra questions in the admin's shape (plain strings become text questions)."""
    out = []
    for i, item in enumerate(field.extra_questions or [], 1):
        if isinstance(item, str):
            item = {"key": f"q{i}", "label": item, "type": "text"}
        if isinstance(item, dict) and item.get("label"):
            out.append({"key": str(item.get("key") or f"q{i}"), "label": str(item["label"]),
                        "type": item.get("type", "text"), "required": bool(item.get("required")),
                        "options": [str(o) for o in item.get("options") or []]})
    return out


def _active_fields() -> list[Field]:
    return list(db.session.scalars(select(Field).where(Field.active.is_(True))
                                   .order_by(Field.parent_id.is_not(None), Field.code)))


def list_services() -> list[dict]:
    """Every active field and sub-type as an Open311 service."""
    fields = _active_fields()
    names = {f.id: f.name for f in fields}
    return [{
        "service_code": f.code,
        "service_name": f.name,
        "description": f.description or f.name,
        "metadata": bool(questions(f)),
        "type": "realtime",
        "keywords": f.keywords or "",
        "group": names.get(f.parent_id, f.name) if f.parent_id else f.name,
    } for f in fields]


@dataclass(frozen=True)
class _Service:
    """What a request needs of its field (kept a few seconds per process, see lookups)."""

    code: str
    name: str
    extra_questions: list | None


def _field(code: str | None) -> _Service:
    def load():
        row = db.session.execute(select(Field.code, Field.name, Field.extra_questions)
                                 .where(Field.code == (code or ""), Field.active.is_(True))).first()
        return _Service(row.code, row.name, row.extra_questions) if row else None
    field = lookups.cached("services", code or "", load)
    if field is None:
        raise NotFound(f"Không có dịch vụ (lĩnh vực) với mã «{code}».")
    return field


def service_definition(code: str) -> dict:
    """The attributes (extra questions) a request of this service may carry."""
    field = _field(code)
    attributes = []
    for order, q in enumerate(questions(field), 1):
        attr = {
            "variable": True, "code": q["key"], "datatype": _DATATYPES.get(q["type"], "string"),
            "required": q["required"], "datatype_description": _datatype_description(q),
            "order": order, "description": q["label"],
        }
        if q["type"] == "choice":
            attr["values"] = [{"key": o, "name": o} for o in q["options"]]
        elif q["type"] == "yesno":
            attr["values"] = list(_YESNO)
        attributes.append(attr)
    return {"service_code": field.code, "attributes": attributes}


def _datatype_description(q: dict) -> str:
    return {"number": "Một con số.", "date": "Ngày, dạng 2026-11-23.",
            "choice": "Chọn một giá trị trong danh sách.", "yesno": "co hoặc khong."
            }.get(q["type"], "Văn bản tự do.")


# --- POST requests ------------------------------------------------------------------------

def _attributes(form: Mapping[str, object]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key in form:
        m = _ATTRIBUTE_KEY.match(key)
        if m:
            values = form.getlist(key) if hasattr(form, "getlist") else [form[key]]
            out.setdefault(m.group(1), []).extend(str(v) for v in values if str(v).strip())
    return out


def _answers(field: _Service, given: dict[str, list[str]]) -> list[str]:
    lines = []
    for q in questions(field):
        values = given.get(q["key"], [])
        if q["required"] and not values:
            raise ValidationError(f"Thiếu attribute[{q['key']}]: {q['label']}",
                                  code="missing_attribute")
        if not values:
            continue
        allowed = q["options"] if q["type"] == "choice" else (
            [v["key"] for v in _YESNO] if q["type"] == "yesno" else None)
        if allowed and any(v not in allowed for v in values):
            raise ValidationError(f"attribute[{q['key']}] phải là một trong: {', '.join(allowed)}.",
                                  code="invalid_attribute")
        shown = ["Có" if v == "co" else "Không" if v == "khong" else v for v in values]
        lines.append(f"- {q['label']}: {', '.join(shown)}")
    return lines


def _float(form, name: str) -> float | None:
    value = str(form.get(name) or "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise ValidationError(f"{name} phải là số thập phân.", code="invalid_location") from None
    if not math.isfinite(number):
        raise ValidationError(f"{name} không hợp lệ.", code="invalid_location")
    return number


def external_id(api_key: ApiClient, form: Mapping[str, object], idempotency_key: str | None) -> str:
    """Stable for a client's retried POST, else a fresh uuid.

    The retry is recognised by its ``Idempotency-Key`` header or ``request_token`` (with the
    ``device_id`` when the app sends one), always within the API key: two clients using
    the same token never see each other's request.
    """
    device = str(form.get("device_id") or "").strip()
    token = str(form.get("request_token") or idempotency_key or "").strip()
    if token:
        if len(token) > 255:
            raise ValidationError("Idempotency-Key/request_token dài quá 255 ký tự.",
                                  code="invalid_idempotency_key")
        digest = hashlib.sha256(f"{api_key.id}\x1f{device}\x1f{token}".encode()).hexdigest()
        return f"k{api_key.id}:{digest}"
    return f"k{api_key.id}:{uuid.uuid4()}"


def create_request(form: Mapping[str, object], *, idempotency_key: str | None = None,
                   now: datetime | None = None) -> dict:
    """POST requests: file a ticket for an API client; returns the spec's response item."""
    api_key = accounts.verify_api_key(str(form.get("api_key") or "").strip() or None)
    if api_key is None:
        raise PermissionDenied("api_key thiếu hoặc không hợp lệ.")
    if not api_key.may(ApiScope.OPEN311_WRITE):
        raise PermissionDenied("api_key không có quyền gửi phản ánh (phạm vi open311:write).")
    if not str(form.get("service_code") or "").strip():
        raise ValidationError("Thiếu service_code.", code="missing_service_code")
    field = _field(str(form.get("service_code")).strip())
    lat, lon = _float(form, "lat"), _float(form, "long")
    if (lat is None) != (lon is None):
        raise ValidationError("Cần cả lat và long.", code="invalid_location")
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError("lat/long nằm ngoài phạm vi.", code="invalid_location")
    address = text.clean_text(str(form.get("address_string") or ""), max_length=400,
                              field="address_string", multiline=False)
    address_id = text.clean_text(str(form.get("address_id") or ""), max_length=100,
                                 field="address_id", multiline=False)
    if lat is None and not address and not address_id:
        raise ValidationError("Cần vị trí: lat và long, hoặc address_string.",
                              code="missing_location")
    description = text.clean_text(str(form.get("description") or ""),
                                  max_length=current_app.config["MAX_TEXT_LENGTH"],
                                  field="description")
    answers = _answers(field, _attributes(form))
    body = "\n".join(filter(None, [description, ("Thông tin bổ sung:\n" + "\n".join(answers))
                                   if answers else None]))
    if not body:
        body = f"Yêu cầu «{field.name}» gửi qua ứng dụng."
    name = " ".join(filter(None, (str(form.get("first_name") or "").strip(),
                                  str(form.get("last_name") or "").strip()))) or None
    media = str(form.get("media_url") or "").strip()
    attachments = ()
    if media:
        if not media.startswith(("https://", "http://")) or len(media) > 1000:
            raise ValidationError("media_url phải là một địa chỉ http(s).", code="invalid_media_url")
        # Fetched by a guarded job once the request is a ticket (channels.media_fetch).
        attachments = (IncomingAttachment(filename="media_url", content_type="text/uri-list",
                                          remote_ref=media),)
    msg = IncomingMessage(
        channel=Channel.OPEN311, external_id=external_id(api_key, form, idempotency_key),
        received_at=now or utcnow(), text=body, title=None, kind="phan_anh",
        contact=ContactHandle(name=name, phone=str(form.get("phone") or "").strip() or None,
                              email=str(form.get("email") or "").strip() or None),
        field_code=field.code, address=address or (f"address_id: {address_id}" if address_id else None),
        lat=lat, lon=lon, attachments=attachments, force_new=True,
        # Apps have no consent box of their own: the moderator still decides what is published.
        consent_publish=True)
    result = staging.stage(msg, alone=True)
    ticket = None if result.pending else db.session.get(Ticket, result.ticket_id)
    return {"service_request_id": result.code, "service_notice": service_notice(ticket),
            "account_id": None}


# --- GET requests ---------------------------------------------------------------------------

def service_notice(ticket: Ticket | None) -> str:
    """What happens next, in one sentence (``None``: accepted, not yet sorted by intake)."""
    status = Status(ticket.status) if ticket is not None else Status.NEW
    if status == Status.NEW or status == Status.RETURNED:
        return "Tổng đài đang phân loại và sẽ chuyển đến cơ quan có thẩm quyền trong giờ hành chính."
    if status in (Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED, Status.RESOLVED):
        agency = ticket.agency.name if ticket.agency else "cơ quan có thẩm quyền"
        due = f", hạn xử lý {local_time(ticket.due_at)}" if ticket.due_at else ""
        return f"{agency} đang xử lý{due}."
    if status == Status.WAITING_CITIZEN:
        return "Cơ quan xử lý đang chờ người phản ánh bổ sung thông tin."
    if status == Status.REJECTED:
        return "Phản ánh không được tiếp nhận xử lý."
    return "Đã có kết quả giải quyết."


@dataclass(frozen=True)
class RequestQuery:
    """GET requests parameters, parsed."""

    ids: list[str] | None = None
    service_codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] | None = None
    updated_after: datetime | None = None
    page: int = 1
    page_size: int = MAX_RECORDS
    after: tuple[datetime, int] | None = None
    extensions: bool = False


def _int(value, name: str, default: int, low: int, high: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(str(value))
    except ValueError:
        raise ValidationError(f"{name} phải là số nguyên.", code="invalid_parameter") from None
    if not low <= number <= high:
        raise ValidationError(f"{name} phải trong khoảng {low}–{high}.", code="invalid_parameter")
    return number


def _list(value) -> list[str] | None:
    items = [v.strip() for v in str(value or "").split(",") if v.strip()]
    return items or None


def encode_cursor(when: datetime, ident: int) -> str:
    return base64.urlsafe_b64encode(f"{when.isoformat()}|{ident}".encode()).decode().rstrip("=")


def _decode_cursor(value: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        key, _, ident = raw.partition("|")
        when = datetime.fromisoformat(key)
        if when.tzinfo is None:
            raise ValueError("naive")
        return when, int(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError("after không hợp lệ.", code="invalid_cursor") from None


def parse_query(args: Mapping[str, str]) -> RequestQuery:
    """Validate GET requests parameters (400 with a reason for anything malformed)."""
    statuses = _list(args.get("status"))
    if statuses and any(s not in ("open", "closed") for s in statuses):
        raise ValidationError("status chỉ nhận open, closed.", code="invalid_status")
    ids = _list(args.get("service_request_id"))
    if ids and len(ids) > MAX_IDS:
        raise ValidationError(f"Tối đa {MAX_IDS} service_request_id.", code="too_many_ids")
    after = args.get("after")
    return RequestQuery(
        ids=ids, service_codes=_list(args.get("service_code")),
        start=parse_datetime(args.get("start_date"), "start_date"),
        end=parse_datetime(args.get("end_date"), "end_date"),
        statuses=statuses,
        updated_after=parse_datetime(args.get("updated_after"), "updated_after"),
        page=_int(args.get("page"), "page", 1, 1, 100_000),
        page_size=_int(args.get("page_size"), "page_size", MAX_RECORDS, 1, MAX_RECORDS),
        after=_decode_cursor(after) if after else None,
        extensions=str(args.get("extensions") or "").lower() in ("true", "1", "yes"),
    )


def find_requests(query: RequestQuery, *, now: datetime | None = None
                  ) -> tuple[list[dict], str | None]:
    """GET requests: newest first; returns the items and the keyset cursor of the next page."""
    now = now or utcnow()
    # Tickets whose citizen refused publication, or that a manager withheld, are in no list.
    stmt = select(Ticket).options(joinedload(Ticket.field), joinedload(Ticket.agency),
                                  joinedload(Ticket.area)
                                  ).where(*public_projection.listed_conditions())
    if query.ids:
        wanted = [c for c in (codes.parse_code(i) for i in query.ids) if c]
        stmt = stmt.where(Ticket.code.in_(wanted or [""]))
    else:
        end = query.end or (query.start + DEFAULT_WINDOW if query.start else now)
        start = query.start or end - DEFAULT_WINDOW
        if start > end:
            raise ValidationError("start_date phải trước end_date.", code="invalid_range")
        stmt = stmt.where(Ticket.received_at >= start, Ticket.received_at <= end)
        if query.service_codes:
            stmt = stmt.where(Ticket.field_id.in_(
                select(Field.id).where(Field.code.in_(query.service_codes))))
        if query.statuses and len(set(query.statuses)) == 1:
            open_ = query.statuses[0] == "open"
            stmt = stmt.where(Ticket.status.in_(_OPEN) if open_ else Ticket.status.not_in(_OPEN))
        if query.updated_after:
            stmt = stmt.where(Ticket.updated_at > query.updated_after)
    if query.after:
        when, ident = query.after
        stmt = stmt.where(or_(Ticket.received_at < when,
                              and_(Ticket.received_at == when, Ticket.id < ident)))
        offset = 0
    else:
        offset = (query.page - 1) * query.page_size
    rows = db.session.scalars(stmt.order_by(Ticket.received_at.desc(), Ticket.id.desc())
                              .offset(offset).limit(query.page_size + 1)).all()
    more = len(rows) > query.page_size
    rows = rows[:query.page_size]
    nxt = encode_cursor(rows[-1].received_at, rows[-1].id) if more and rows else None
    return to_requests(rows, extensions=query.extensions), nxt


def get_request(code_text: str, *, extensions: bool = False) -> list[dict]:
    code = codes.parse_code(code_text)
    ticket = db.session.scalar(select(Ticket).options(joinedload(Ticket.field),
                                                      joinedload(Ticket.agency),
                                                      joinedload(Ticket.area))
                               .where(Ticket.code == code)) if code else None
    if ticket is None:
        ticket = staging.preview(code)  # accepted a moment ago, not processed yet
    if ticket is None:
        raise NotFound(f"Không có yêu cầu với mã «{code_text}».")
    return to_requests([ticket], extensions=extensions)


def to_requests(tickets: list[Ticket], *, extensions: bool = False) -> list[dict]:
    """Tickets as Open311 service requests: their public projection only (module docstring)."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    views = public_projection.project(tickets, timeline=extensions, photos=True)
    out = []
    for t, view in zip(tickets, views, strict=True):
        item = {
            "service_request_id": view.code,
            "status": "open" if view.status in _OPEN else "closed",
            "status_notes": view.result,
            "service_name": view.field_name,
            "service_code": view.field_code,
            "description": view.summary,
            "agency_responsible": view.agency_name,
            "service_notice": service_notice(t),
            "requested_datetime": iso(view.received_at),
            "updated_datetime": iso(view.updated_at),
            "expected_datetime": iso(view.due_at),
            # The commune, never the address the citizen typed (the moderated summary
            # carries whatever of it the moderator let through).
            "address": view.area_name if view.listed else None,
            "address_id": None,
            "zipcode": None,
            "lat": view.lat,
            "long": view.lon,
            "media_url": f"{base}/results/{view.code}/photos/{view.photos[0]}"
            if view.photos else None,
        }
        if extensions:
            item["detailed_status"] = view.status
            item["detailed_status_label"] = LABELS_VI.get(Status(view.status), view.status)
            item["channel"] = t.channel
            item["notes"] = [{"datetime": iso(e.at), "type": e.type, "summary": e.note}
                             for e in view.timeline]
        out.append(item)
    return out
