"""The PBX's call event: "this number is ringing at that operator's extension".

``POST /channels/phone/call-event`` with the shared secret in ``X-PBX-Secret``
(``PBX_SHARED_SECRET``; compared in constant time; 401 otherwise and when no
secret is configured) and a JSON or form body ``{"caller": "0912345678",
"extension": "101", "call_id": "1700000000.42"}``. The event is stored through
``services.calls`` so that whichever web process serves the operator's console
shows the caller on its next poll. Payload and PBX set-up: docs/pbx.md.
"""
from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request

from hotline import tx
from hotline.domain.errors import ValidationError
from hotline.extensions import db
from hotline.services import calls

bp = Blueprint("pbx", __name__, url_prefix="/channels/phone")
SECRET_HEADER = "X-PBX-Secret"


def _authorised() -> bool:
    secret = current_app.config.get("PBX_SHARED_SECRET") or ""
    given = request.headers.get(SECRET_HEADER, "")
    # Compare even when unset, so timing says nothing about whether a secret exists.
    return bool(secret) & hmac.compare_digest(given.encode(), secret.encode())


@bp.post("/call-event")
def call_event():
    """Store one ringing call; 200 with its id (a repeated ``call_id`` changes nothing)."""
    if not _authorised():
        return jsonify(error={"code": 401,
                              "message": "Sai hoặc thiếu khóa bí mật của tổng đài."}), 401
    data = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    if not isinstance(data, dict):
        return jsonify(error={"code": 400, "message": "Nội dung yêu cầu không hợp lệ."}), 400
    try:
        row, created = calls.record_call_event(
            caller=_str(data.get("caller")), extension=_str(data.get("extension")),
            call_id=_str(data.get("call_id")))
        tx.commit()
    except ValidationError as exc:
        db.session.rollback()
        return jsonify(error={"code": 400, "message": exc.message}), 400
    return jsonify(status="ok", id=row.id, created=created, phone=row.caller_phone), 200


def _str(value) -> str | None:
    return None if value is None else str(value)
