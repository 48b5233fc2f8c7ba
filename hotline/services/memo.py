"""A batch's memo: reference reads (rules, policies, the calendar) made once per batch.

A job that processes hundreds of messages in one transaction would otherwise read the
same routing rules and SLA policies for every one. Inside ``with memo.batch():`` a
service's ``remember(key, load)`` loads once and reuses the value until the block ends;
outside one it simply loads, so requests and tests always read the current rows.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")
_current: ContextVar[dict | None] = ContextVar("hotline_memo", default=None)


@contextmanager
def batch() -> Iterator[None]:
    """Remember reference reads until the block ends."""
    token = _current.set({})
    try:
        yield
    finally:
        _current.reset(token)


def remember(key: Hashable, load: Callable[[], T]) -> T:
    """``load()``, or its value from earlier in this batch."""
    memo = _current.get()
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return memo[key]
