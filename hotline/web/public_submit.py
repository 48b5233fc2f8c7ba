"""The citizen's report as posted: read and checked without binding the WTForms form.

A burst of reports after a storm is the public site's hardest load, and binding the
16-field ``SubmitForm`` cost a fifth of a report's CPU. So a POST is read here, from
the form data, into a ``Submission`` — or refused with ``Invalid`` carrying the messages
per input — and ``SubmitForm`` is built only to draw the page (again, with the
citizen's input and these messages, when something is wrong). The limits are the ones
``SubmitForm``'s validators draw as ``maxlength``/``min``/``max``: one set of numbers.
The services check the rest (phone, e-mail, field and area codes, photos).

The ``submission_id`` makes a double-click file one report. It is bound to the
browser session that was shown the form: the intake key is a hash of the id and a
random nonce kept in that session, so an id copied into another session (a shared
computer, a cached page, a stranger) files a report of its own and never leads to
the first citizen's ticket.
"""
from __future__ import annotations

import hashlib
import math
import re
import secrets
import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from hotline.domain.lifecycle import KIND_LABELS_VI

ADDRESS_MAX = 400
DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 10_000
NAME_MAX, PHONE_MAX, EMAIL_MAX = 200, 20, 254
SUBMISSION_ID = re.compile(r"[0-9a-f]{32}")
_FALSE = ("", "false")  # what a checkbox posts when unticked, as WTForms' BooleanField reads it

TOO_SHORT = _l("Nội dung cần từ 10 ký tự.")
NO_TEXT = _l("Vui lòng nhập nội dung.")
NO_CONTACT = _l("Nhập số điện thoại hoặc e-mail để nhận mã phiếu và kết quả, hoặc chọn gửi ẩn danh.")
HALF_LOCATION = _l("Cần cả vĩ độ và kinh độ (hoặc để trống cả hai).")
BAD_LAT = _l("Vĩ độ không hợp lệ.")
BAD_LON = _l("Kinh độ không hợp lệ.")
BAD_KIND = _l("Chọn loại: phản ánh, kiến nghị hoặc hỏi đáp.")
STALE_FORM = _l("Biểu mẫu không hợp lệ hoặc đã cũ. Vui lòng gửi lại.")


SESSION_NONCE = "submit_nonce"
_NONCE = re.compile(r"[0-9a-f]{32}")


def session_nonce(session: MutableMapping) -> str:
    """This browser session's random nonce (made and stored on first use)."""
    nonce = session.get(SESSION_NONCE)
    if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
        nonce = secrets.token_hex(16)
        session[SESSION_NONCE] = nonce
    return nonce


def bound_id(submission_id: str, nonce: str) -> str:
    """The intake key of ``submission_id`` posted in the session holding ``nonce``."""
    return hashlib.sha256(f"{nonce}:{submission_id}".encode()).hexdigest()[:32]


def too_long(limit: int):
    return _l("Tối đa %(n)d ký tự.", n=limit)


@dataclass(frozen=True)
class Submission:
    """A report as the citizen posted it, shape and length checked."""

    submission_id: str
    kind: str
    field_code: str | None
    area_code: str | None
    address: str
    description: str
    lat: float | None
    lon: float | None
    anonymous: bool
    name: str
    phone: str
    email: str
    consent_publish: bool
    privacy_requested: bool


class Invalid(Exception):
    """The post is refused: ``errors`` maps input names to messages (lazy, Vietnamese)."""

    def __init__(self, errors: dict[str, list]):
        super().__init__(", ".join(errors))
        self.errors = errors


def is_spam(form: MultiDict) -> bool:
    """The honeypot input is hidden from people; only a bot fills it in."""
    return bool(form.get("website", ""))


def read(form: MultiDict) -> Submission:
    """The submission in ``form``, or ``Invalid`` naming every input that is wrong."""
    errors: dict[str, list] = {}

    def fail(name: str, message) -> None:
        errors.setdefault(name, []).append(message)

    def text(name: str, limit: int) -> str:
        value = form.get(name, "")
        if len(value) > limit:
            fail(name, too_long(limit))
        return value

    def flag(name: str) -> bool:
        return form.get(name, "") not in _FALSE

    def number(name: str, bound: float, message) -> float | None:
        raw = form.get(name, "").strip().replace(",", ".")  # a Vietnamese keyboard types 11,53
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and -bound <= value <= bound):
            fail(name, message)
            return None
        return value

    # A page always posts its id; a client that sends none files once, as before.
    submission_id = form.get("submission_id") or uuid.uuid4().hex
    if not SUBMISSION_ID.fullmatch(submission_id):
        fail("submission_id", STALE_FORM)
    kind = form.get("kind", "")
    if kind not in KIND_LABELS_VI:
        fail("kind", BAD_KIND)
    description = form.get("description", "")
    if not description.strip():
        fail("description", NO_TEXT)
    elif len(description.strip()) < DESCRIPTION_MIN:
        fail("description", TOO_SHORT)
    elif len(description) > DESCRIPTION_MAX:
        fail("description", too_long(DESCRIPTION_MAX))
    address = text("address", ADDRESS_MAX)
    lat, lon = number("lat", 90, BAD_LAT), number("lon", 180, BAD_LON)
    if (lat is None) != (lon is None) and "lat" not in errors and "lon" not in errors:
        fail("lon", HALF_LOCATION)
    anonymous = flag("anonymous")
    name, phone, email = text("name", NAME_MAX), text("phone", PHONE_MAX), text("email", EMAIL_MAX)
    if not anonymous and not phone.strip() and not email.strip():
        fail("phone", NO_CONTACT)
    if errors:
        raise Invalid(errors)
    return Submission(submission_id=submission_id, kind=kind,
                      field_code=form.get("field_code") or None,
                      area_code=form.get("area_code") or None, address=address,
                      description=description, lat=lat, lon=lon, anonymous=anonymous, name=name,
                      phone=phone, email=email, consent_publish=not flag("no_publish"),
                      privacy_requested=flag("privacy_requested"))
