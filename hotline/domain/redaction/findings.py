"""What the detectors report: a kind of personal data at a span, and its label."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LABELS", "PRIORITY", "SUSPICIOUS", "Finding", "Hit"]

LABELS = {
    "phone": "[số điện thoại]",
    "email": "[e-mail]",
    "profile": "[trang cá nhân]",
    "id_number": "[số giấy tờ]",
    "passport": "[số hộ chiếu]",
    "bank_account": "[số tài khoản]",
    "plate": "[biển số xe]",
    "name": "[họ tên]",
    "house_number": "[số nhà]",
}
# Not personal data for sure, but worth a moderator's second look (never replaced).
SUSPICIOUS = "suspicious"
# Where two findings overlap the more specific kind wins, then the longer one: a CCCD
# swallows the ten digits a phone detector would have taken out of it.
PRIORITY = {"email": 0, "profile": 1, "id_number": 2, "passport": 3, "bank_account": 4,
            "phone": 5, "plate": 6, "house_number": 7, "name": 8, SUSPICIOUS: 9}


@dataclass(frozen=True, order=True)
class Finding:
    """One piece of personal data: ``text[start:end]`` of ``kind`` (offsets as written)."""

    start: int
    end: int
    kind: str
    value: str


@dataclass(frozen=True)
class Hit:
    """A detector's finding in the normalised view (``view[start:end]``)."""

    start: int
    end: int
    kind: str
