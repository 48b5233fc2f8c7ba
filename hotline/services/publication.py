"""Moderation of what is published: the queue, the automatic redaction, the manager's decision.

The policy (Decision 31/2021/QĐ-TTg Art. 46 and the province's practice): a ticket's
content and result are published after redaction and moderation, the citizen's
identity never is, and a citizen may ask on any channel not to be published
(``consent_publish`` false — see :mod:`hotline.services.publication_choice`).
Every ticket whose result is out (answered, approved, closed), from every channel,
waits in the queue unless its citizen refused or a manager already decided.
``prepare_publication`` proposes a redacted summary and result
(:mod:`hotline.domain.redact`); a manager edits them and ``approve_publication``
publishes — the original text stays internal — or ``withhold_publication`` decides
not to publish (or takes a publication down) with a reason. Both decisions are
ticket events and audit-log rows. Photos are published only as re-encoded copies
without EXIF (:func:`hotline.domain.photos.public_copy`).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from hotline.domain import codes, lifecycle, text
from hotline.domain.errors import NotFound, PermissionDenied, ValidationError
from hotline.domain.lifecycle import Status
from hotline.domain.messages import IncomingAttachment
from hotline.domain.photos import ALLOWED_FORMATS, public_copy
from hotline.domain.redact import Finding, find_personal_data, redact
from hotline.domain.redact import review_marks as _review_marks
from hotline.extensions import db
from hotline.models import Attachment, Role, Ticket, User, utcnow
from hotline.services import attachments as attachment_store
from hotline.services import events
from hotline.services.admin import audit

# Statuses whose result is out and may be published (published + unpublished = taken down).
PUBLISHABLE = frozenset({Status.ANSWERED, Status.APPROVED, Status.PUBLISHED, Status.CLOSED})
PUBLIC_COPY_PREFIX = "public-"
# A house number in a report is most often the citizen's home ("nhà tôi ở số 27…") or the
# neighbour they report: the public reads the street and the alley, never the house.
HIDE_HOUSE_NUMBERS = True
_IMAGE_TYPES = tuple(ALLOWED_FORMATS.values())


def _require_manager(actor: User | None) -> None:
    if actor is None or actor.role != Role.MANAGER.value:
        raise PermissionDenied("Chỉ lãnh đạo / IOC được duyệt công khai kết quả.")


@dataclass(frozen=True)
class PublicationDraft:
    """The proposed public text and what the detector still sees in it."""

    summary: str
    result: str
    summary_findings: list[Finding]
    result_findings: list[Finding]
    photos: list[Attachment]          # the citizen's and agency's stored images (originals)
    public_photo_sources: set[int]    # originals already published as a copy


def _known_names(ticket: Ticket) -> list[str]:
    return [ticket.contact.name] if ticket.contact is not None and ticket.contact.name else []


def _original_summary(ticket: Ticket) -> str:
    parts = [ticket.description]
    if ticket.address:
        parts.append(f"Địa điểm: {ticket.address}")
    return "\n".join(p for p in parts if p)


def residual_findings(ticket: Ticket, value: str | None) -> list[Finding]:
    """Personal data the detector still finds in a (possibly edited) text."""
    return find_personal_data(value or "", known_names=_known_names(ticket),
                              hide_house_numbers=HIDE_HOUSE_NUMBERS)


def review_marks(ticket: Ticket, value: str | None) -> list[Finding]:
    """What to highlight for the moderator: personal data still found, and what only looks
    suspicious (kind ``suspicious``: long digit runs, name-like capitalised words, links)."""
    return _review_marks(value or "", known_names=_known_names(ticket),
                         hide_house_numbers=HIDE_HOUSE_NUMBERS)


# What is left of a redacted text once its placeholders ("[họ tên]") are taken out.
_PLACEHOLDER = re.compile(r"\[[^\]]*\]")


def readable(redacted: str, ticket: Ticket, what: str) -> str:
    """``redacted``, or a plain sentence when nothing but personal data was in it (so a
    report made only of a name and a phone number never publishes as an empty text)."""
    words = [w for w in re.split(r"\W+", _PLACEHOLDER.sub(" ", redacted or "")) if len(w) > 1]
    if len(words) >= 3:
        return redacted
    field = ticket.field.name if ticket.field is not None else "chưa phân loại"
    where = f" tại {ticket.area.name}" if ticket.area is not None else ""
    return (f"{what} thuộc lĩnh vực {field}{where}. Nội dung gốc chỉ gồm thông tin cá nhân "
            "nên không được công khai.")


def prepare_publication(ticket: Ticket) -> PublicationDraft:
    """The redacted summary and result to start from (a saved public text wins).

    Pure: nothing is written, so opening the moderation page changes no row.
    """
    names = _known_names(ticket)
    summary = ticket.public_summary or readable(redact(
        _original_summary(ticket), known_names=names, hide_house_numbers=HIDE_HOUSE_NUMBERS),
        ticket, "Phản ánh")
    result = ticket.public_result or readable(redact(
        ticket.result or "", known_names=names, hide_house_numbers=HIDE_HOUSE_NUMBERS),
        ticket, "Kết quả giải quyết phản ánh")
    photos = db.session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket.id,
                                 Attachment.storage_key.is_not(None),
                                 Attachment.content_type.in_(_IMAGE_TYPES),
                                 Attachment.public.is_(False))
        .order_by(Attachment.id)).all()
    published_sources = {_source_id(a) for a in _public_copies(ticket)}
    return PublicationDraft(summary, result, residual_findings(ticket, summary),
                            residual_findings(ticket, result), list(photos),
                            {i for i in published_sources if i is not None})


def _public_copies(ticket: Ticket) -> list[Attachment]:
    return list(db.session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket.id, Attachment.public.is_(True))))


def _source_id(copy: Attachment) -> int | None:
    # Copies are named "public-<original id>.<ext>": the link back to their original.
    stem = copy.filename.removeprefix(PUBLIC_COPY_PREFIX).split(".", 1)[0]
    return int(stem) if copy.filename.startswith(PUBLIC_COPY_PREFIX) and stem.isdigit() else None


def _read(attachment: Attachment) -> bytes:
    path = os.path.join(current_app.config["UPLOAD_FOLDER"], attachment.storage_key)
    with open(path, "rb") as fh:
        return fh.read()


def _publish_photos(ticket: Ticket, photo_ids: set[int]) -> list[int]:
    """Make EXIF-free public copies of the chosen originals; hide copies no longer chosen."""
    existing = {_source_id(c): c for c in _public_copies(ticket)}
    for source, copy in existing.items():
        if source not in photo_ids:
            copy.public = False
            copy.filename = f"withdrawn-{copy.filename}"[:255]
    if not photo_ids:
        return []
    originals = db.session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket.id, Attachment.id.in_(photo_ids),
                                 Attachment.public.is_(False),
                                 Attachment.storage_key.is_not(None),
                                 Attachment.content_type.in_(_IMAGE_TYPES))).all()
    if len(originals) != len(photo_ids):
        raise ValidationError("Ảnh được chọn không thuộc phiếu này.", code="unknown_photo")
    published = []
    for original in originals:
        if original.id in existing and existing[original.id].public:
            published.append(original.id)
            continue
        try:
            data, content_type = public_copy(_read(original))
        except OSError as exc:
            raise ValidationError(f"Không đọc được ảnh {original.filename}.",
                                  code="bad_image") from exc
        ext = "png" if content_type == "image/png" else "jpg"
        row = attachment_store.save(ticket, IncomingAttachment(
            filename=f"{PUBLIC_COPY_PREFIX}{original.id}.{ext}", content_type=content_type,
            data=data))
        row.public = True
        db.session.add(row)
        published.append(original.id)
    return published


def approve_publication(actor: User, ticket: Ticket, summary: str | None, result: str | None,
                        *, photo_ids=(), now=None, ip: str | None = None) -> Ticket:
    """Publish ``ticket`` with the moderator's text (manager only).

    Sets ``published_at`` (kept on later edits, so the list order stays), moves the
    status to ``published`` when the lifecycle allows it (answered/approved), and
    publishes EXIF-free copies of the chosen photos. A ticket a manager withheld may
    be published by a later decision; one whose citizen refused, never.
    """
    _require_manager(actor)
    now = now or utcnow()
    if not ticket.consent_publish:
        raise ValidationError("Người dân không đồng ý công khai phiếu này.", code="no_consent")
    if ticket.status not in {s.value for s in PUBLISHABLE}:
        raise ValidationError("Phiếu chưa có kết quả nên chưa thể công khai.",
                              code="not_publishable")
    max_len = current_app.config["MAX_TEXT_LENGTH"]
    summary = text.clean_text(summary, max_length=max_len, field="nội dung công khai",
                              required=True)
    result = text.clean_text(result, max_length=max_len, field="kết quả công khai", required=True)
    first_time = ticket.published_at is None
    was_withheld = ticket.publication_withheld_at is not None
    ticket.publication_withheld_at = None
    ticket.public_summary = summary
    ticket.public_result = result
    ticket.public_search_text = text.fold(f"{ticket.code} {summary} {result}")
    photos = _publish_photos(ticket, {int(i) for i in photo_ids})
    previous = ticket.status
    if first_time:
        ticket.published_at = now
        if lifecycle.can_transition(ticket.status, Status.PUBLISHED):
            ticket.status = Status.PUBLISHED.value
    events.record(ticket, "published" if first_time else "publication_edited", actor=actor,
                  public=first_time, at=now, from_status=previous if first_time else None,
                  to_status=ticket.status if first_time else None,
                  note="Kết quả giải quyết được công khai." if first_time
                  else "Nội dung công khai được chỉnh sửa.",
                  data={"photos": photos})
    audit.record(audit.Actor(user=actor, ip=ip), "publish" if first_time else "publish_edit",
                 "ticket", ticket.code, before={"withheld": was_withheld},
                 after={"published": True, "photos": len(photos)})
    db.session.flush()
    return ticket


def take_down(ticket: Ticket) -> None:
    """Remove every public trace of ``ticket`` at once: page, list, search, photos, Open311
    text, map point and hint (they all read ``published_at`` and the listing conditions)."""
    ticket.published_at = None
    for copy in _public_copies(ticket):
        copy.public = False


def withhold_publication(actor: User, ticket: Ticket, reason: str | None, *, now=None,
                         ip: str | None = None) -> Ticket:
    """Decide not to publish ``ticket`` — or take its publication down — with a reason
    (manager only, audited). The moderated text is kept for a later decision."""
    _require_manager(actor)
    reason = text.clean_text(reason, max_length=500, field="lý do", required=True)
    now = now or utcnow()
    was_published = ticket.published_at is not None
    if ticket.publication_withheld_at is not None and not was_published:
        raise ValidationError("Phiếu này đã được quyết định không công khai.",
                              code="already_withheld")
    take_down(ticket)
    ticket.publication_withheld_at = now
    events.record(ticket, "unpublished" if was_published else "publication_withheld",
                  actor=actor, at=now,
                  note=f"{'Gỡ công khai' if was_published else 'Không công khai'}: {reason}",
                  data={"reason": reason})
    audit.record(audit.Actor(user=actor, ip=ip), "unpublish" if was_published else "withhold",
                 "ticket", ticket.code, before={"published": was_published},
                 after={"withheld": True, "reason": reason})
    db.session.flush()
    return ticket


def unpublish(actor: User, ticket: Ticket, reason: str | None, *, ip: str | None = None) -> Ticket:
    """Take a published result down (manager only): a withholding of a published ticket."""
    if ticket.published_at is None:
        _require_manager(actor)
        raise ValidationError("Phiếu này chưa được công khai.", code="not_published")
    return withhold_publication(actor, ticket, reason, ip=ip)


@dataclass(frozen=True)
class QueuePage:
    tickets: list[Ticket]
    next_after: int | None


def publication_queue(actor: User, *, after_id: int | None = None, limit: int = 20) -> QueuePage:
    """Tickets waiting for a moderator, oldest first (keyset on id, which follows receipt).

    Waiting = a result is out, from any channel, nothing is published, the citizen did
    not refuse and no manager decided to withhold it.
    """
    _require_manager(actor)
    waiting = [s.value for s in PUBLISHABLE]
    conds = [Ticket.status.in_(waiting), Ticket.published_at.is_(None),
             Ticket.consent_publish.is_(True), Ticket.publication_withheld_at.is_(None)]
    if after_id:
        conds.append(Ticket.id > after_id)
    rows = db.session.scalars(
        select(Ticket).options(joinedload(Ticket.field), joinedload(Ticket.agency),
                               joinedload(Ticket.area), joinedload(Ticket.contact))
        .where(*conds).order_by(Ticket.id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return QueuePage(list(rows), rows[-1].id if more and rows else None)


def recently_published(actor: User, *, limit: int = 10) -> list[Ticket]:
    """The latest publications, so a moderator can correct or take one down."""
    _require_manager(actor)
    return list(db.session.scalars(
        select(Ticket).where(Ticket.published_at.is_not(None))
        .order_by(Ticket.published_at.desc(), Ticket.id.desc()).limit(limit)))


def get_for_moderation(actor: User, code: str) -> Ticket:
    """A ticket a moderator may publish or edit (any agency: publication is province-wide)."""
    _require_manager(actor)
    parsed = codes.parse_code(code)
    ticket = db.session.scalar(select(Ticket).options(joinedload(Ticket.contact))
                               .where(Ticket.code == parsed)) if parsed else None
    if ticket is None:
        raise NotFound("Không tìm thấy phiếu.")
    return ticket


__all__ = ["PUBLISHABLE", "PublicationDraft", "QueuePage", "approve_publication",
           "get_for_moderation", "prepare_publication", "publication_queue", "readable",
           "recently_published", "residual_findings", "review_marks", "take_down", "unpublish",
           "withhold_publication"]
