"""Rows of generated tickets and their timelines, for :mod:`hotline.services.generate`.

Pure computation on reference data read once (fields, communes, the router's and the
SLA policies' answers, the working calendar): rows come out as tuples in the order of
``TICKET_COLUMNS`` / ``EVENT_COLUMNS``, ready for COPY. The mixes below are what make the
data look like a working province's; the per-ticket work is kept to table lookups where
the answer repeats (texts, routes, policies, deadlines of starts outside working hours).
"""
from __future__ import annotations

import base64
import os
import random
from bisect import bisect
from collections.abc import Callable
from datetime import date, datetime, timedelta
from itertools import accumulate

from hotline.domain import codes
from hotline.domain.calendar import WorkingCalendar
from hotline.domain.sla import Deadlines, SlaPolicy, compute_deadlines, due_soon_margin
from hotline.domain.text import fold

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
# status, share
STATUS_MIX = [("closed", 34), ("published", 8), ("answered", 18), ("approved", 6),
              ("in_progress", 12), ("assigned", 10), ("waiting_citizen", 3), ("new", 4),
              ("returned", 1), ("resolved", 2), ("rejected", 2)]
PRIORITY_MIX = [("normal", 85), ("urgent", 5), ("complex", 10)]
SETTLED_MIX = [("closed", 6), ("published", 2), ("answered", 2)]
OPEN = {"new", "assigned", "in_progress", "returned", "resolved"}
SLA_RUNNING = {"on_track", "due_soon", "overdue"}
RESOLVED = {"closed", "published", "approved", "resolved", "answered"}
ACCEPTED = {"in_progress", "waiting_citizen", "resolved", "approved", "published", "closed"}
# Older tickets are settled, as in a working province: but for a few stragglers, what was
# received more than SETTLED_AFTER ago is closed, published or answered.
UNSETTLED = OPEN | {"waiting_citizen", "approved"}
SETTLED_AFTER = timedelta(days=45)
STRAGGLERS = 0.03
RESULT = "Đơn vị đã kiểm tra và xử lý xong."
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
CONTACT_COLUMNS = ["id", "phone", "name", "created_at"]
_CODE = TICKET_COLUMNS.index("code")
_PUBLIC_SEARCH = TICKET_COLUMNS.index("public_search_text")
_TOKEN_BYTES = 12  # as secrets.token_urlsafe(12): 16 characters, no padding

# Two base-32 characters per table entry: a code's six are three lookups.
_PAIRS = [a + b for a in codes.ALPHABET for b in codes.ALPHABET]


def ticket_code(kind: str, year: int, n: int) -> str:
    """The code of generated ticket ``n``: a bijection of n onto 32⁶ (odd multiplier modulo a
    power of two), so unique, and not sequential."""
    value = (n * 0x2F5A_9B3D + 0x1022) % (32 ** 6)
    return (f"{codes.PREFIXES[kind]}-{year % 100:02d}-"
            f"{_PAIRS[value >> 20]}{_PAIRS[(value >> 10) & 1023]}{_PAIRS[value & 1023]}")


def recode(row: tuple, code: str) -> tuple:
    """``row`` with another code (and the published search text, which starts with it)."""
    public = row[_PUBLIC_SEARCH]
    if public is not None:
        public = f"{code.lower()}{public[len(row[_CODE]):]}"
    return (*row[:_CODE], code, *row[_CODE + 1:_PUBLIC_SEARCH], public, *row[_PUBLIC_SEARCH + 1:])


def contact_rows(first_id: int, n: int, created_at: datetime) -> list[tuple]:
    """``n`` citizens with distinct phone numbers."""
    return [(first_id + i, f"+84283{(first_id + i) % 10**7:07d}", None, created_at) for i in range(n)]


class DeadlineCache:
    """:func:`compute_deadlines`, remembered where many starts share the answer.

    A clock started outside working hours starts ticking at the next working instant, so
    every start in one stretch of non-working time (an evening, a weekend, Tết) gets the
    same deadlines: they are remembered per policy, local day and gap between shifts.
    Starts inside a shift are computed one by one. The answers are exactly
    ``compute_deadlines``'s (tests compare them).
    """

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        self._periods: dict[date, list[tuple[datetime, datetime]]] = {}
        self._known: dict[tuple[int, date, int], Deadlines] = {}
        # A zero working duration returns the start itself, which differs within a gap:
        # only policies whose three durations are positive share their answers.
        self._shareable: dict[int, bool] = {}

    def __call__(self, policy: SlaPolicy, start: datetime, local_day: date) -> Deadlines:
        """Deadlines of a clock started at ``start`` (UTC-aware), on ``local_day`` in the
        calendar's zone."""
        periods = self._periods.get(local_day)
        if periods is None:
            periods = self._periods[local_day] = self.calendar.working_periods(local_day)
        gap = 0
        for begin, end in periods:
            if start < begin:
                break
            if start < end:  # inside a shift: its own deadlines
                return compute_deadlines(self.calendar, policy, start)
            gap += 1
        shareable = self._shareable.get(id(policy))
        if shareable is None:
            shareable = self._shareable[id(policy)] = \
                policy.resolution - due_soon_margin(policy) > timedelta(0)
        if not shareable:
            return compute_deadlines(self.calendar, policy, start)
        # id(): the policies live in the caller's cache for the whole load.
        key = (id(policy), local_day, gap)
        known = self._known.get(key)
        if known is None:
            known = self._known[key] = compute_deadlines(self.calendar, policy, start)
        return known


class RowMaker:
    """Builds the rows of one load, batch by batch, from one seeded random stream.

    ``route(field, area, kind)`` and ``policy(field, kind, priority)`` are asked once per
    field and area, and per field, kind and priority; the first is the real router, whose
    answer for a field and area is kept for the load.
    """

    def __init__(self, *, seed: int, now: datetime, years: float, fields: list, communes: list,
                 calendar: WorkingCalendar, route: Callable[[object, object, str], int | None],
                 policy: Callable[[object, str, str], SlaPolicy], first_id: int,
                 contact_base: int, n_contacts: int, run: str) -> None:
        self.rng = random.Random(seed)
        self.now, self.span = now, timedelta(days=365 * years)
        self.first_id, self.run = first_id, run
        self.contact_base, self.n_contacts = contact_base, n_contacts
        self.tz = calendar.tz  # the province's: codes carry its year, days are its days
        self.deadlines = DeadlineCache(calendar)
        # Plain tuples: ORM attribute access costs more than the rest of a row.
        self._fields = [(f, f.id, "thủ tục" in f.name.lower()) for f in fields]
        self._communes = [(a, a.id, a.name) for a in communes]
        self._route, self._policy = route, policy
        self._routes: dict[tuple[int, int], int | None] = {}
        self._policies: dict[tuple[int, str, str], SlaPolicy] = {}
        self._texts: dict[tuple[str, str, int], tuple[str, ...]] = {}

    def _text(self, problem: str, street: str, area_id: int, area_name: str) -> tuple[str, ...]:
        """Title, description, search text, address and the folded published text."""
        key = (problem, street, area_id)
        text = self._texts.get(key)
        if text is None:
            description = f"{problem}. Địa điểm: đường {street}, {area_name}."
            text = self._texts[key] = (problem[:120], description, fold(f"{problem} {description}"),
                                       f"đường {street}", fold(f"{description} {RESULT}"))
        return text

    def tickets(self, start: int, stop: int) -> list[tuple]:
        """Tickets ``start`` to ``stop`` (exclusive) of the load; their timelines come from
        the stored rows afterwards (:func:`timeline_rows`)."""
        now, span, tz = self.now, self.span, self.tz
        # Draws are indexes scaled from random(): a third of the cost of choice()/choices(),
        # with a bias below 2⁻⁴⁰.
        random_ = self.rng.random
        fields, n_fields = self._fields, len(self._fields)
        communes, n_communes = self._communes, len(self._communes)
        n_problems, n_streets, n_channels = len(PROBLEMS), len(STREETS), len(CHANNELS)
        statuses, status_cum = _mix(STATUS_MIX)
        priorities, priority_cum = _mix(PRIORITY_MIX)
        settled_statuses, settled_cum = _mix(SETTLED_MIX)
        status_total, priority_total, settled_total = \
            status_cum[-1], priority_cum[-1], settled_cum[-1]
        recent, settled_before = now - timedelta(days=20), now - SETTLED_AFTER
        escalate_before = now - timedelta(days=2)
        routes, policies = self._routes, self._policies
        tickets: list[tuple] = []
        # One system call for the batch's status tokens: base64 of 12-byte groups never pads,
        # so each 16 characters of the block are one token_urlsafe(12).
        tokens = base64.urlsafe_b64encode(os.urandom(_TOKEN_BYTES * (stop - start))).decode()
        for i in range(start, stop):
            field, field_id, procedures = fields[int(random_() * n_fields)]
            area, area_id, area_name = communes[int(random_() * n_communes)]
            kind = "hoi_dap" if procedures or random_() < 0.15 else "phan_anh"
            priority = priorities[bisect(priority_cum, random_() * priority_total)]
            received = now - span * (random_() ** 1.3)
            status = statuses[bisect(status_cum, random_() * status_total)]
            if received > recent and status in ("closed", "published"):
                status = "in_progress"
            elif received < settled_before and status in UNSETTLED and random_() > STRAGGLERS:
                status = settled_statuses[bisect(settled_cum, random_() * settled_total)]
            if (field_id, area_id) not in routes:
                routes[(field_id, area_id)] = self._route(field, area, kind)
            agency_id = routes[(field_id, area_id)] if status not in ("new", "answered") else None
            policy = policies.get((field_id, kind, priority))
            if policy is None:
                policy = policies[(field_id, kind, priority)] = self._policy(field, kind, priority)
            local = received.astimezone(tz)
            deadlines = self.deadlines(policy, received, local.date())
            due_at = deadlines.due_at
            title, description, search_text, address, public_fold = \
                self._text(PROBLEMS[int(random_() * n_problems)],
                           STREETS[int(random_() * n_streets)], area_id, area_name)
            tid = self.first_id + i
            resolved = closed = published = accepted = None
            if status in RESOLVED:
                resolved = min(now, received + (due_at - received) * (0.2 + 1.2 * random_()))
                if status == "closed":
                    closed = resolved
                elif status == "published":
                    published = resolved
            if status in ACCEPTED:
                accepted = received + timedelta(hours=0.5 + 19.5 * random_())
            sla_state = None
            if status in OPEN:
                sla_state = ("overdue" if due_at <= now else
                             "due_soon" if deadlines.due_soon_at <= now else "on_track")
            elif status == "waiting_citizen":
                sla_state = "paused"
            # A live system has long escalated what is long overdue and flagged every
            # missed first response: so the first scan sees only today's crossings.
            escalated = due_at + timedelta(days=1) \
                if sla_state == "overdue" and due_at <= escalate_before else None
            breached = deadlines.first_response_due if sla_state in SLA_RUNNING \
                and accepted is None and deadlines.first_response_due <= now else None
            code = ticket_code(kind, local.year, tid)
            result = RESULT if resolved else None
            token = (i - start) * 16
            tickets.append((
                tid, code, kind, CHANNELS[int(random_() * n_channels)], f"gen-{self.run}-{i}",
                self.contact_base + int(random_() * self.n_contacts) if random_() < 0.9 else None,
                title, description, search_text, field_id, area_id, address, status, priority,
                agency_id, received, received if agency_id else None, accepted,
                deadlines.first_response_due, due_at, deadlines.due_soon_at, sla_state,
                now if status == "waiting_citizen" else None, received, escalated, breached,
                resolved, closed, result, published,
                # Generated text names nobody, so the published text is the text itself.
                description if published else None, result if published else None,
                f"{code.lower()} {public_fold}" if published else None,
                True, False,
                1 + int(random_() * 5) if closed and random_() < 0.3 else None,
                1 if random_() < 0.02 else 0,
                1 if status == "returned" else 0,
                tokens[token:token + 16], resolved or received))
        return tickets


# What a timeline is made from, read back from the stored tickets (in this order).
TIMELINE_SOURCE = ["id", "received_at", "agency_id", "accepted_at", "resolved_at", "status"]


def timeline_rows(tickets, rng: random.Random) -> list[tuple]:
    """The events of stored tickets, rows of ``TIMELINE_SOURCE``: received, assigned,
    accepted, a few site visits, the result.

    Everything but the number of site visits follows from the ticket, so a timeline can be
    written after its ticket is stored, or again after a load was cut short.
    """
    events: list[tuple] = []
    event, visits = events.append, rng.randint
    for tid, received, agency_id, accepted, resolved, status in tickets:
        event((tid, received, "received", "system", None, "new", agency_id, "Tiếp nhận.", True))
        if agency_id:
            event((tid, received, "assigned", "system", "new", "assigned", agency_id,
                   "Chuyển đơn vị xử lý.", True))
        if accepted:
            event((tid, accepted, "accepted", "system", "assigned", "in_progress", agency_id,
                   "Đơn vị tiếp nhận xử lý.", True))
            for k in range(visits(0, 3)):
                event((tid, accepted + timedelta(hours=k + 1), "progress", "system",
                       "in_progress", "in_progress", agency_id,
                       "Cán bộ đã xuống kiểm tra hiện trường.", False))
        if resolved:
            event((tid, resolved, "resolved" if status != "answered" else "answered", "system",
                   "in_progress" if accepted else "new", status, agency_id,
                   "Đã có kết quả xử lý.", True))
    return events


def _mix(shares: list[tuple[str, int]]) -> tuple[tuple[str, ...], list[int]]:
    """Values and cumulative weights: ``values[bisect(cum, random() * cum[-1])]`` draws one."""
    values, weights = zip(*shares)
    return values, list(accumulate(weights))
