"""Bulk generation of realistic tickets for benchmarks (``flask generate-tickets N``).

Rows are written straight to the tables in large batches — COPY on PostgreSQL,
multi-row INSERTs on SQLite — because going through intake one ticket at a
time would measure Python, not the database. The tickets still look real:
Vietnamese text, fields, places, agencies chosen by the real router, deadlines
from the real working calendar, a lifecycle and a timeline of events each.
"""
from __future__ import annotations

import functools
import random
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, insert, select, text

from hotline.domain import codes
from hotline.domain.sla import compute_deadlines
from hotline.domain.text import fold
from hotline.extensions import db
from hotline.models import Area, Contact, Field, Ticket, TicketEvent
from hotline.services import routing
from hotline.services.calendar import get_calendar
from hotline.services.sla import policy_for

CHANNELS = ["phone"] * 6 + ["zalo"] * 2 + ["web", "facebook", "email", "telegram", "open311"]
PROBLEMS = [
    "Đèn đường bị hỏng nhiều ngày, buổi tối rất tối và nguy hiểm",
    "Lấn chiếm vỉa hè, lòng đường để buôn bán gây cản trở giao thông",
    "Quán karaoke hát to sau 22 giờ gây ồn ào, ảnh hưởng giấc ngủ",
    "Rác thải đổ trộm bên lề đường, bốc mùi hôi thối",
    "Ổ gà lớn trên mặt đường, xe máy đi qua rất dễ té ngã",
    "Mất nước sinh hoạt từ sáng đến giờ chưa có lại",
    "Nước sinh hoạt có mùi lạ, màu đục",
    "Cống thoát nước bị tắc, mưa xuống ngập cả đoạn đường",
    "Công trình xây dựng không che chắn, bụi bay mù mịt",
    "Xin hỏi thủ tục cấp đổi giấy phép lái xe cần những giấy tờ gì",
    "Cây xanh gãy đổ chắn ngang đường chưa được dọn",
    "Cơ sở chăn nuôi xả thải gây ô nhiễm nguồn nước",
]
STREETS = ["Phú Riềng Đỏ", "Hùng Vương", "Trần Hưng Đạo", "Lê Duẩn", "Nguyễn Huệ", "Quốc lộ 14",
           "ĐT741", "Lý Thường Kiệt", "Võ Văn Tần", "Tôn Đức Thắng"]
# status, share, whether the clock still runs
STATUS_MIX = [("closed", 34), ("published", 8), ("answered", 18), ("approved", 6),
              ("in_progress", 12), ("assigned", 10), ("waiting_citizen", 3), ("new", 4),
              ("returned", 1), ("resolved", 2), ("rejected", 2)]
OPEN = {"new", "assigned", "in_progress", "returned", "resolved"}
SLA_RUNNING = {"on_track", "due_soon", "overdue"}
# Older tickets are settled, as in a working province: but for a few stragglers, what was
# received more than SETTLED_AFTER ago is closed, published or answered.
UNSETTLED = OPEN | {"waiting_citizen", "approved"}
SETTLED_AFTER = timedelta(days=45)
STRAGGLERS = 0.03
TICKET_COLUMNS = ["id", "code", "kind", "channel", "external_id", "contact_id", "title",
                  "description", "search_text", "field_id", "area_id", "address", "status",
                  "priority", "agency_id", "received_at", "assigned_at", "accepted_at",
                  "first_response_due", "due_at", "due_soon_at", "sla_state", "sla_paused_at",
                  "sla_started_at", "escalated_at", "first_response_breached_at", "resolved_at",
                  "closed_at", "result", "published_at", "public_summary", "public_result",
                  "public_search_text", "consent_publish", "privacy_requested", "rating", "reopened_count",
                  "returned_count", "status_token", "updated_at"]
EVENT_COLUMNS = ["ticket_id", "at", "type", "actor_label", "from_status", "to_status",
                 "agency_id", "note", "public"]


@dataclass
class GenerateReport:
    tickets: int
    events: int
    contacts: int
    seconds: float


def _code(kind: str, year: int, n: int) -> str:
    # A bijection of n onto 32⁶ (odd multiplier modulo a power of two): unique, not sequential.
    value = (n * 0x2F5A_9B3D + 0x1022) % (32 ** 6)
    tail = "".join(codes.ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(6)))
    return f"{codes.PREFIXES[kind]}-{year % 100:02d}-{tail}"


def _avoid_existing(tickets: list[dict]) -> None:
    """Generated codes are unique among themselves (a bijection of the id); move the rare
    one that a ticket received through intake already holds."""
    by_code = {t["code"]: t for t in tickets}
    codes_ = list(by_code)
    for i in range(0, len(codes_), 5000):
        for taken in db.session.scalars(select(Ticket.code).where(Ticket.code.in_(codes_[i:i + 5000]))):
            row = by_code[taken]
            shift = 1
            while True:
                year = int(row["code"].split("-")[1])  # keep the (local) year it was given
                candidate = _code(row["kind"], year, row["id"] + shift * 2 ** 29)
                if candidate not in by_code and db.session.scalar(
                        select(Ticket.id).where(Ticket.code == candidate)) is None:
                    break
                shift += 1
            row["code"] = candidate
            by_code[candidate] = row


def generate(n: int, *, years: float = 3.0, seed: int = 1022, batch: int = 20_000,
             now: datetime | None = None, progress: Callable[[int], None] | None = None,
             bulk_load: bool | None = None) -> GenerateReport:
    """Insert ``n`` tickets spread over the last ``years`` years; the caller commits.

    ``bulk_load`` (PostgreSQL; by default when ``n`` is large beside the table) rebuilds
    the tickets' and events' indexes and foreign keys after loading instead of keeping them.
    """
    import time
    started = time.perf_counter()
    rng = random.Random(seed)
    now = now or datetime.now(timezone.utc)
    fields = db.session.scalars(select(Field).where(Field.active.is_(True))).all()
    communes = db.session.scalars(select(Area).where(Area.level == "commune")).all() or \
        db.session.scalars(select(Area)).all()
    if not fields or not communes:
        raise RuntimeError("No fields or areas: run `flask --app hotline seed-demo --tickets 0` first.")
    calendar = get_calendar()
    tz = ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])  # codes carry the local year
    route_cache: dict[tuple[int, int], int | None] = {}
    policy_cache: dict[tuple[int, str, str], object] = {}
    base_id = (db.session.scalar(select(func.max(Ticket.id))) or 0) + 1
    contact_base = (db.session.scalar(select(func.max(Contact.id))) or 0) + 1
    n_contacts = max(1, n // 3)
    run = secrets.token_hex(3)
    statuses, weights = zip(*STATUS_MIX)
    span = timedelta(days=365 * years)
    pg = db.engine.dialect.name == "postgresql"

    contacts = [
        {"id": contact_base + i, "phone": f"+84283{(contact_base + i) % 10**7:07d}",
         "name": None, "created_at": now - span}
        for i in range(n_contacts)
    ]
    _write(Contact.__table__, ["id", "phone", "name", "created_at"], contacts, pg)

    written_events = 0
    folded = functools.lru_cache(maxsize=65536)(fold)  # a few thousand distinct texts
    if bulk_load is None and pg:
        existing = db.session.scalar(select(func.count()).select_from(Ticket))
        bulk_load = n >= max(BULK_LOAD_MIN, existing // 2)
    # Loading much more than the table holds: drop its secondary indexes and foreign keys,
    # load, then build them in one pass each — several times faster than maintaining them.
    with _bulk_load(bool(pg and bulk_load)):
        for start in range(0, n, batch):
            tickets, events = [], []
            for i in range(start, min(n, start + batch)):
                field = rng.choice(fields)
                area = rng.choice(communes)
                kind = "hoi_dap" if "thủ tục" in field.name.lower() or rng.random() < 0.15 else "phan_anh"
                priority = rng.choices(["normal", "urgent", "complex"], [85, 5, 10])[0]
                received = now - span * (rng.random() ** 1.3)
                status = rng.choices(statuses, weights)[0]
                if received > now - timedelta(days=20) and status in ("closed", "published"):
                    status = "in_progress"
                elif received < now - SETTLED_AFTER and status in UNSETTLED \
                        and rng.random() > STRAGGLERS:
                    status = rng.choices(("closed", "published", "answered"), (6, 2, 2))[0]
                key = (field.id, area.id)
                if key not in route_cache:
                    route_cache[key] = routing.suggest(field=field, area=area, kind=kind).agency_id
                agency_id = route_cache[key] if status not in ("new", "answered") else None
                pkey = (field.id, kind, priority)
                if pkey not in policy_cache:
                    policy_cache[pkey] = policy_for(field, kind, priority)
                deadlines = compute_deadlines(calendar, policy_cache[pkey], received)
                problem = rng.choice(PROBLEMS)
                street = rng.choice(STREETS)
                description = f"{problem}. Địa điểm: đường {street}, {area.name}."
                tid = base_id + i
                resolved = closed = published = accepted = None
                if status in ("closed", "published", "approved", "resolved", "answered"):
                    resolved = min(now, received + (deadlines.due_at - received) * rng.uniform(0.2, 1.4))
                if status in ("closed",):
                    closed = resolved
                if status == "published":
                    published = resolved
                if status in ("in_progress", "waiting_citizen", "resolved", "approved", "published", "closed"):
                    accepted = received + timedelta(hours=rng.uniform(0.5, 20))
                sla_state = None
                if status in OPEN:
                    sla_state = ("overdue" if deadlines.due_at <= now else
                                 "due_soon" if deadlines.due_soon_at <= now else "on_track")
                elif status == "waiting_citizen":
                    sla_state = "paused"
                # A live system has long escalated what is long overdue and flagged every
                # missed first response: so the first scan sees only today's crossings.
                escalated = deadlines.due_at + timedelta(days=1) \
                    if sla_state == "overdue" and deadlines.due_at <= now - timedelta(days=2) else None
                breached = deadlines.first_response_due if sla_state in SLA_RUNNING \
                    and accepted is None and deadlines.first_response_due <= now else None
                code = _code(kind, received.astimezone(tz).year, tid)
                result = "Đơn vị đã kiểm tra và xử lý xong." if resolved else None
                tickets.append({
                    "id": tid, "code": code, "kind": kind,
                    "channel": rng.choice(CHANNELS), "external_id": f"gen-{run}-{i}",
                    "contact_id": contact_base + rng.randrange(n_contacts) if rng.random() < 0.9 else None,
                    "title": problem[:120], "description": description,
                    "search_text": folded(f"{problem} {description}"), "field_id": field.id,
                    "area_id": area.id, "address": f"đường {street}", "status": status,
                    "priority": priority, "agency_id": agency_id, "received_at": received,
                    "assigned_at": received if agency_id else None, "accepted_at": accepted,
                    "first_response_due": deadlines.first_response_due, "due_at": deadlines.due_at,
                    "due_soon_at": deadlines.due_soon_at, "sla_state": sla_state,
                    "sla_paused_at": now if status == "waiting_citizen" else None,
                    "sla_started_at": received, "escalated_at": escalated,
                    "first_response_breached_at": breached,
                    "resolved_at": resolved, "closed_at": closed,
                    "result": result, "published_at": published,
                    # Generated text names nobody, so the published text is the text itself.
                    "public_summary": description if published else None,
                    "public_result": result if published else None,
                    "public_search_text": f"{code.lower()} {folded(f'{description} {result}')}"
                    if published else None,
                    "consent_publish": True, "privacy_requested": False,
                    "rating": rng.randint(1, 5) if closed and rng.random() < 0.3 else None,
                    "reopened_count": 1 if rng.random() < 0.02 else 0,
                    "returned_count": 1 if status == "returned" else 0,
                    "status_token": secrets.token_urlsafe(12), "updated_at": resolved or received,
                })
                events.extend(_timeline(tid, received, status, agency_id, accepted, resolved, rng))
            _avoid_existing(tickets)
            _write(Ticket.__table__, TICKET_COLUMNS, tickets, pg)
            _write(TicketEvent.__table__, EVENT_COLUMNS, events, pg)
            written_events += len(events)
            if progress:
                progress(len(tickets))
    if pg:
        for table in ("tickets", "contacts", "ticket_events"):
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
        db.session.execute(text("ANALYZE tickets; ANALYZE ticket_events; ANALYZE contacts"))
    return GenerateReport(n, written_events, n_contacts, time.perf_counter() - started)


# Below this many tickets a load keeps the indexes (rebuilding them would cost more).
BULK_LOAD_MIN = 50_000


@contextmanager
def _bulk_load(enabled: bool) -> Iterator[None]:
    """PostgreSQL: without the secondary indexes and foreign keys of tickets and their events
    while the block loads, rebuilt (and the keys validated) after it, in the same transaction."""
    if not enabled:
        yield
        return
    tables = ("tickets", "ticket_events")
    indexes = db.session.execute(text(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(:t) "
        "AND i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = to_regclass(quote_ident(i.indexname)))"), {"t": list(tables)}).all()
    keys = db.session.execute(text(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY(ARRAY['tickets'::regclass, "
        "'ticket_events'::regclass])")).all()
    for table, name, _ in keys:
        db.session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        db.session.execute(text(f'DROP INDEX "{name}"'))
    yield
    db.session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    for _, definition in indexes:
        db.session.execute(text(definition))
    for table, name, definition in keys:
        db.session.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))


def _timeline(tid, received, status, agency_id, accepted, resolved, rng) -> Iterator[dict]:
    def ev(at, type_, frm, to, public=True, note=None):
        return {"ticket_id": tid, "at": at, "type": type_, "actor_label": "system",
                "from_status": frm, "to_status": to, "agency_id": agency_id, "note": note,
                "public": public}
    yield ev(received, "received", None, "new", note="Tiếp nhận.")
    if agency_id:
        yield ev(received, "assigned", "new", "assigned", note="Chuyển đơn vị xử lý.")
    if accepted:
        yield ev(accepted, "accepted", "assigned", "in_progress", note="Đơn vị tiếp nhận xử lý.")
        for k in range(rng.randint(0, 3)):
            yield ev(accepted + timedelta(hours=k + 1), "progress", "in_progress", "in_progress",
                     public=False, note="Cán bộ đã xuống kiểm tra hiện trường.")
    if resolved:
        yield ev(resolved, "resolved" if status != "answered" else "answered",
                 "in_progress" if accepted else "new", status, note="Đã có kết quả xử lý.")


def _write(table, columns: list[str], rows: list[dict], pg: bool) -> None:
    if not rows:
        return
    if pg:
        conn = db.session.connection().connection.driver_connection
        with conn.cursor() as cur:
            with cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row.get(c) for c in columns])
        return
    db.session.execute(insert(table), [{c: r.get(c) for c in columns} for r in rows])

