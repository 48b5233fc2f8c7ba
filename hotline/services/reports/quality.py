"""Quality review of operators' direct answers (the IOC checks what operators told people).

A manager draws a sample of tickets the operators answered directly in a
period, reads question and answer, and marks each correct or needing
correction with a comment; the operator reads the feedback on their own page.
One review per ticket: a second submission is refused with a clear message,
so a double click never writes twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError

from hotline.domain import text
from hotline.domain.errors import NotFound, PermissionDenied, ValidationError
from hotline.extensions import db
from hotline.models import QualityReview, Ticket, TicketEvent, User, utcnow
from hotline.services import events
from hotline.services.reports.daily import DIRECT_STATUSES
from hotline.services.reports.periods import Period
from hotline.services.reports.scope import require_manager
from hotline.services.reports.sqlx import dialect

VERDICTS = {"correct": "Trả lời đúng", "needs_correction": "Cần chỉnh sửa"}
SAMPLE_MAX = 50
PAGE = 30


def _answered_directly():
    t = Ticket.__table__.c
    return and_(t.assigned_at.is_(None), t.status.in_(DIRECT_STATUSES))


@dataclass
class SampleRow:
    ticket_id: int
    code: str
    title: str
    description: str
    answer: str | None
    received_at: datetime
    channel: str
    operator_id: int | None
    operator_name: str | None


def sample(actor: User, period: Period, *, size: int = 10, seed: int = 1,
           operator_id: int | None = None) -> list[SampleRow]:
    """A reproducible pseudo-random sample (same ``seed``, same tickets) of direct
    answers received in ``period`` and not reviewed yet."""
    require_manager(actor)
    size = max(1, min(size, SAMPLE_MAX))
    d = dialect()
    start, end = period.bounds(d.tz)
    t = Ticket.__table__.c
    # A multiplicative hash of the id orders the tickets "randomly" but reproducibly,
    # on both databases, without ORDER BY random() over the whole period.
    shuffle = (t.id * 7919 + seed * 104729) % 1000003
    query = (select(t.id, t.code, t.title, t.description, t.result, t.received_at, t.channel,
                    t.created_by_id)
             .outerjoin(QualityReview.__table__, QualityReview.ticket_id == t.id)
             .where(t.received_at >= start, t.received_at < end, _answered_directly(),
                    QualityReview.id.is_(None))
             .order_by(shuffle, t.id).limit(size))
    if operator_id is not None:
        query = query.where(t.created_by_id == operator_id)
    rows = db.session.execute(query).all()
    answerers = _answerers([r.id for r in rows])
    ids = {answerers.get(r.id) or r.created_by_id for r in rows} - {None}
    names = dict(db.session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all())
    out = []
    for r in rows:
        op = answerers.get(r.id) or r.created_by_id
        out.append(SampleRow(r.id, r.code, r.title, r.description, r.result, r.received_at,
                             r.channel, op, names.get(op)))
    return out


def _answerers(ticket_ids: list[int]) -> dict[int, int]:
    """ticket id → the user who moved it to ``answered`` (the last such event)."""
    if not ticket_ids:
        return {}
    e = TicketEvent.__table__.c
    found: dict[int, int] = {}
    for ticket_id, actor_id in db.session.execute(
            select(e.ticket_id, e.actor_id).where(e.ticket_id.in_(ticket_ids),
                                                  e.to_status == "answered",
                                                  e.actor_id.is_not(None)).order_by(e.id)):
        found[ticket_id] = actor_id
    return found


def review(actor: User, ticket_id: int, verdict: str, comment: str | None) -> QualityReview:
    """Record a manager's verdict on one direct answer, with an internal timeline event."""
    require_manager(actor)
    if verdict not in VERDICTS:
        raise ValidationError("Hãy chọn «Trả lời đúng» hoặc «Cần chỉnh sửa».",
                              code="invalid_verdict")
    comment = text.clean_text(comment, max_length=2000, field="nhận xét")
    if verdict == "needs_correction" and not comment:
        raise ValidationError("Cần ghi nhận xét: câu trả lời sai ở đâu, cần sửa thế nào.",
                              code="comment_required")
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("Không tìm thấy phiếu.")
    if ticket.assigned_at is not None or ticket.status not in DIRECT_STATUSES:
        raise ValidationError("Chỉ đánh giá được phiếu do tổng đài viên trả lời trực tiếp.",
                              code="not_direct_answer")
    if db.session.scalar(select(QualityReview.id).where(QualityReview.ticket_id == ticket_id)):
        raise ValidationError(f"Phiếu {ticket.code} đã được đánh giá.", code="already_reviewed")
    operator_id = _answerers([ticket_id]).get(ticket_id) or ticket.created_by_id
    row = QualityReview(ticket_id=ticket_id, operator_id=operator_id, reviewer_id=actor.id,
                        verdict=verdict, comment=comment)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError as exc:  # another manager reviewed it a moment ago
        raise ValidationError(f"Phiếu {ticket.code} đã được đánh giá.",
                              code="already_reviewed") from exc
    events.record(ticket, "quality_review", actor=actor, public=False,
                  note=f"Kiểm tra chất lượng trả lời: {VERDICTS[verdict]}."
                       + (f" {comment}" if comment else ""),
                  data={"verdict": verdict, "review_id": row.id})
    return row


@dataclass
class ReviewRow:
    id: int
    ticket_id: int
    code: str
    title: str
    answer: str | None
    verdict: str
    comment: str | None
    created_at: datetime
    reviewer: str
    operator: str | None
    seen_at: datetime | None


def _review_query():
    reviewer = User.__table__.alias("reviewer")
    operator = User.__table__.alias("operator")
    q = QualityReview.__table__.c
    t = Ticket.__table__.c
    return (select(q.id, q.ticket_id, t.code, t.title, t.result, q.verdict, q.comment,
                   q.created_at, reviewer.c.full_name, operator.c.full_name, q.seen_at)
            .join(Ticket.__table__, t.id == q.ticket_id)
            .join(reviewer, reviewer.c.id == q.reviewer_id)
            .outerjoin(operator, operator.c.id == q.operator_id))


def recent_reviews(actor: User, before_id: int | None = None, limit: int = PAGE) -> list[ReviewRow]:
    """The latest reviews, newest first (keyset on id), for managers."""
    require_manager(actor)
    query = _review_query()
    if before_id:
        query = query.where(QualityReview.id < before_id)
    return [ReviewRow(*r) for r in db.session.execute(
        query.order_by(QualityReview.id.desc()).limit(limit))]


def my_feedback(operator: User, before_id: int | None = None,
                limit: int = PAGE) -> list[ReviewRow]:
    """An operator's own reviews, newest first; shown ones are marked seen (caller commits)."""
    if operator is None or operator.role != "operator":
        raise PermissionDenied("Chỉ tổng đài viên xem được nhận xét về câu trả lời của mình.")
    query = _review_query().where(QualityReview.operator_id == operator.id)
    if before_id:
        query = query.where(QualityReview.id < before_id)
    rows = [ReviewRow(*r) for r in db.session.execute(
        query.order_by(QualityReview.id.desc()).limit(limit))]
    unseen = [r.id for r in rows if r.seen_at is None]
    if unseen:
        db.session.execute(QualityReview.__table__.update()
                           .where(QualityReview.id.in_(unseen)).values(seen_at=utcnow()))
    return rows


def unseen_count(operator: User) -> int:
    return db.session.scalar(select(func.count()).select_from(QualityReview).where(
        QualityReview.operator_id == operator.id, QualityReview.seen_at.is_(None))) or 0
