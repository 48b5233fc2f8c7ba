"""Typed reads of the app's settings.

Values from the environment arrive as strings, values from the embedded defaults
or a test mapping as numbers; these helpers accept both and fail loudly on
nonsense instead of silently falling back.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any

from flask import current_app

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _config(config: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return current_app.config if config is None else config


def setting_int(name: str, config: Mapping[str, Any] | None = None) -> int:
    """An integer setting (``"30"`` or ``30``)."""
    value = _config(config).get(name)
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"setting {name} must be an integer, got {value!r}") from exc


def setting_float(name: str, config: Mapping[str, Any] | None = None) -> float:
    """A number setting (``"1.5"`` or ``1.5``)."""
    value = _config(config).get(name)
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"setting {name} must be a number, got {value!r}") from exc


def setting_bool(name: str, config: Mapping[str, Any] | None = None) -> bool:
    """A yes/no setting (``True``, ``"1"``, ``"true"``, ``"no"`` …); unset is ``False``."""
    value = _config(config).get(name)
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"setting {name} must be yes/no, got {value!r}")


def setting_list(name: str, config: Mapping[str, Any] | None = None) -> list[str]:
    """A comma-separated list setting (or a list), blanks dropped."""
    value = _config(config).get(name)
    if not value:
        return []
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def setting_time(name: str, config: Mapping[str, Any] | None = None) -> time:
    """A local time of day setting, ``"07:30"``."""
    value = _config(config).get(name)
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ValueError(f"setting {name} must be a time like 07:30, got {value!r}") from exc
