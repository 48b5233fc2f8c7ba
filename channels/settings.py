"""Reading channel settings: the environment gives strings, the defaults give typed values."""
from __future__ import annotations

from collections.abc import Mapping
from email.utils import parseaddr

_TRUE = {"1", "true", "yes", "on"}


def as_int(config: Mapping[str, object], key: str, default: int) -> int:
    value = config.get(key)
    if value in (None, ""):
        return default
    return int(value)  # type: ignore[arg-type]


def as_bool(config: Mapping[str, object], key: str, default: bool = False) -> bool:
    value = config.get(key)
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def base_url(config: Mapping[str, object], key: str) -> str:
    return str(config[key]).rstrip("/")


def own_addresses(config: Mapping[str, object]) -> frozenset[str]:
    """Every address the hotline itself sends or receives as (mail from them is a loop)."""
    sender = parseaddr(str(config.get("MAIL_FROM") or ""))[1].lower()
    return mail_addresses(config) | ({sender} if sender else set())


def mail_addresses(config: Mapping[str, object]) -> frozenset[str]:
    """HOTLINE_MAIL_ADDRESSES: the addresses mail is accepted for (comma or space separated)."""
    raw = config.get("HOTLINE_MAIL_ADDRESSES") or ""
    if isinstance(raw, (list, tuple, set, frozenset)):
        items = raw
    else:
        items = str(raw).replace(",", " ").split()
    return frozenset(a.strip().lower() for a in items if a.strip())
