"""Attachment storage: bytes on disk under their SHA-256, metadata in the database."""
from __future__ import annotations

import hashlib
import os
import re

from flask import current_app

from hotline.domain.errors import ValidationError
from hotline.domain.messages import IncomingAttachment
from hotline.models import Attachment, Ticket

MAX_BYTES = 10 * 1024 * 1024
_SAFE_NAME = re.compile(r"[^\w.\-]+", re.UNICODE)


def safe_filename(name: str) -> str:
    """A file name with no path and no odd characters (kept short)."""
    base = os.path.basename(name.replace("\\", "/")) or "tep"
    return _SAFE_NAME.sub("_", base)[:120] or "tep"


def save(ticket: Ticket, item: IncomingAttachment) -> Attachment:
    """Store the bytes (if any) and return the unsaved ``Attachment`` row for them."""
    row = Attachment(ticket_id=ticket.id, filename=safe_filename(item.filename),
                     content_type=(item.content_type or "application/octet-stream")[:100],
                     remote_ref=item.remote_ref)
    if item.data is not None:
        if len(item.data) > MAX_BYTES:
            raise ValidationError(f"Tệp {row.filename} lớn quá {MAX_BYTES // (1024 * 1024)} MB.",
                                  code="file_too_large")
        digest = hashlib.sha256(item.data).hexdigest()
        key = os.path.join(digest[:2], digest)
        path = os.path.join(current_app.config["UPLOAD_FOLDER"], key)
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(item.data)
            os.replace(tmp, path)  # atomic: a reader never sees half a file
        row.sha256, row.size, row.storage_key = digest, len(item.data), key
    return row
