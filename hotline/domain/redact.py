"""Removing personal data from Vietnamese text (see :mod:`hotline.domain.redaction`)."""
from __future__ import annotations

from hotline.domain.redaction import (
    LABELS,
    SUSPICIOUS,
    Finding,
    find_personal_data,
    mark_segments,
    redact,
    review_marks,
)

__all__ = ["LABELS", "SUSPICIOUS", "Finding", "find_personal_data", "mark_segments", "redact",
           "review_marks"]
