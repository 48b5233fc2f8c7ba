"""A small fixed dataset for the report tests: tickets inserted directly with chosen times.

All times are local (Asia/Ho_Chi_Minh, UTC+7) in November 2026 unless said; the
working day is 07:30–11:30 + 13:00–17:00 and Tuesday 24/11/2026 is a public
holiday. "Now" is Thursday 3/12/2026 10:00. Expected figures are worked out by
hand in the comments and in the tests.

Agencies: A = UBND-689 (district), B = SO-GTVT (province), C = UBND-25432 (commune).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from hotline.extensions import db
from hotline.models import Ticket, TicketEvent, User
from tests.factories import Org

VN = timezone(timedelta(hours=7))


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN).astimezone(UTC)


NOW = at(12, 3, 10)


@dataclass
class Data:
    org: Org
    tickets: dict[str, Ticket] = field(default_factory=dict)
    operator: User | None = None

    def id(self, name: str) -> int:
        return self.tickets[name].id


def build(org: Org, operator: User | None = None) -> Data:
    data = Data(org, operator=operator)
    ag, ar, fl = org.agencies, org.areas, org.fields
    A, B, C = ag["UBND-689"], ag["SO-GTVT"], ag["UBND-25432"]

    def put(name, agency, received, due, *, resolved=None, status="closed", sla=None,
            paused=None, rating=None, channel="phone", field_code="CS", area="25435",
            assigned=True, created_by=None, due_soon=None, merged_into=None, reopened=0,
            returned=0, kind="phan_anh"):
        t = Ticket(
            code=f"PA-26-{name}", kind=kind, channel=channel, external_id=f"x-{name}",
            title=f"Phiếu {name}", description="Nội dung", search_text="noi dung",
            field_id=fl[field_code].id if field_code else None,
            area_id=ar[area].id if area else None, status=status, priority="normal",
            agency_id=agency.id if agency else None, received_at=received,
            assigned_at=received if assigned and agency else None,
            due_at=due, due_soon_at=due_soon or (due - timedelta(days=1) if due else None),
            sla_state=sla, sla_paused_at=paused, resolved_at=resolved, rating=rating,
            created_by_id=created_by.id if created_by else None,
            merged_into_id=data.tickets[merged_into].id if merged_into else None,
            reopened_count=reopened, returned_count=returned, status_token=f"tok-{name}")
        db.session.add(t)
        db.session.flush()
        data.tickets[name] = t
        return t

    def event(name, when, to_status, agency, type_=None, from_status=None):
        db.session.add(TicketEvent(ticket_id=data.id(name), at=when, type=type_ or to_status,
                                   actor_label="test", from_status=from_status,
                                   to_status=to_status, agency_id=agency.id if agency else None))

    # --- agency A, resolved in November ----------------------------------------------
    # T1: Mon 2 08:00 → Thu 5 08:00 = 24 working h; due Mon 9 08:00: on time. Rating 5.
    put("T1", A, at(11, 2, 8), at(11, 9, 8), resolved=at(11, 5, 8), rating=5,
        created_by=operator)
    # T2: resolved exactly at its due time (Tue 10 09:00) = 40 h: on time. Rating 3.
    put("T2", A, at(11, 3, 9), at(11, 10, 9), resolved=at(11, 10, 9), rating=3)
    # T3: Wed 4 08:00 → Thu 12 08:00 = 48 h, due Wed 11 08:00: late.
    put("T3", A, at(11, 4, 8), at(11, 11, 8), resolved=at(11, 12, 8), status="published",
        channel="web")
    # T4: paused and extended: original due Mon 16 08:00 moved to Fri 20 08:00; resolved
    # Thu 19 14:00 → on time. Mon 9 08:00 → Thu 19 14:00 = 40 + 24 + 4.5 = 68.5 h. Rating 4.
    put("T4", A, at(11, 9, 8), at(11, 20, 8), resolved=at(11, 19, 14), status="approved",
        rating=4, channel="zalo")
    event("T4", at(11, 10, 9), "waiting_citizen", A, from_status="in_progress")
    event("T4", at(11, 12, 9), "in_progress", A, type_="citizen_replied",
          from_status="waiting_citizen")
    event("T4", at(11, 13, 9), None, A, type_="extension_decided")
    # T5: resolved Fri 20 16:00, reopened Mon 23 09:00, resolved again Wed 25 10:00 after
    # its due (Mon 23 08:00): late. Mon 16 08:00 → Wed 25 10:00 = 40 + 7.5 + 0 + 2.5 = 50 h.
    put("T5", A, at(11, 16, 8), at(11, 23, 8), resolved=at(11, 25, 10), reopened=1)
    event("T5", at(11, 23, 9), "reopened", A, from_status="closed")

    # --- agency A, open -----------------------------------------------------------------
    # T6: overdue since Thu 26 08:00 → now: 7.5 + 8×4 + 2.5 = 42 h. District 689 (25432).
    put("T6", A, at(11, 18, 8), at(11, 26, 8), status="in_progress", sla="overdue",
        area="25432")
    # T7: still marked due_soon (scan lag) but due Wed 2 Dec 15:00: overdue 2 + 2.5 = 4.5 h.
    put("T7", A, at(11, 23, 8), at(12, 2, 15), status="assigned", sla="due_soon")
    # T8: paused Tue 10 09:00 after its due (Mon 9 08:00): overdue frozen at 7.5 + 1.5 = 9 h.
    put("T8", A, at(11, 2, 8), at(11, 9, 8), status="waiting_citizen", sla="paused",
        paused=at(11, 10, 9))
    # T9: paused before its due: neither overdue nor due soon.
    put("T9", A, at(11, 30, 8), at(12, 7, 8), status="waiting_citizen", sla="paused",
        paused=at(12, 1, 10))
    # T10: on_track but its due-soon time (Thu 3 08:00) has passed: due soon, 1.5+4+0.5 = 6 h left.
    put("T10", A, at(11, 26, 8), at(12, 4, 8), status="in_progress", sla="on_track",
        due_soon=at(12, 3, 8))
    # T11: received in December, on track: in nothing.
    put("T11", A, at(12, 2, 8), at(12, 9, 8), status="assigned", sla="on_track")

    # --- agency B -----------------------------------------------------------------------
    # T12: Mon 2 09:00 → Fri 6 09:00 = 32 h, on time, rating 2 (Zalo, Phú Riềng).
    put("T12", B, at(11, 2, 9), at(11, 9, 9), resolved=at(11, 6, 9), rating=2, channel="zalo",
        field_code="GT", area="25600")
    # T13: overdue since Tue 10 10:00: 5.5 + 15 days × 8 + 2.5 = 128 h (district 691).
    put("T13", B, at(11, 3, 10), at(11, 10, 10), status="in_progress", sla="overdue",
        field_code="GT", area="25600")
    # T14: C returned it as misrouted (Thu 5 09:00), B resolved it Mon 9 10:00, due Wed 11:
    # on time; Wed 4 08:00 → Mon 9 10:00 = 7.5 + 8 + 8 + 2.5 = 26 h. Rating 5.
    put("T14", B, at(11, 4, 8), at(11, 11, 8), resolved=at(11, 9, 10), rating=5,
        field_code="TTDT", area="25432", returned=1)
    event("T14", at(11, 5, 9), "returned", C, from_status="assigned")
    # T21: due soon (state due_soon), due Fri 4 Dec 15:00: 1.5 + 4 + 4 + 2 = 11.5 h left.
    put("T21", B, at(11, 27, 8), at(12, 4, 15), status="in_progress", sla="due_soon",
        due_soon=at(12, 3, 9), field_code="GT", area="25600")

    # --- no agency: operators' direct answers, triage, spam, a merged duplicate ---------
    put("T15", None, at(11, 3, 8), at(11, 6, 8), resolved=at(11, 3, 8, 5), status="answered",
        created_by=operator, kind="hoi_dap", field_code="TTHC", area=None)
    put("T16", None, at(11, 4, 8), at(11, 9, 8), resolved=at(11, 4, 8, 10), status="closed",
        created_by=operator, kind="hoi_dap", field_code="TTHC", area=None)
    put("T18", None, at(11, 5, 8), None, status="rejected", channel="facebook", field_code=None,
        area=None)
    put("T19", A, at(11, 5, 9), None, status="rejected", merged_into="T1")
    # T20: triage, overdue since Mon 23 08:00: 7.5 + 0 + 6 × 8 + 2.5 = 58 h; no area.
    put("T20", None, at(11, 16, 8), at(11, 23, 8), status="new", sla="overdue", channel="email",
        field_code=None, area=None)

    # --- October (the previous period) for A --------------------------------------------
    # P1: Mon 5 Oct 08:00 → Fri 9 Oct 08:00 = 32 h, on time, rating 4.
    put("P1", A, at(10, 5, 8), at(10, 12, 8), resolved=at(10, 9, 8), rating=4)
    # P2: Tue 6 Oct 08:00 → Wed 14 Oct 08:00 = 48 h, due Tue 13: late.
    put("P2", A, at(10, 6, 8), at(10, 13, 8), resolved=at(10, 14, 8))
    db.session.commit()
    return data
