"""Reference rows read on every intake request, kept a few seconds in each process.

A burst of Open311 requests reads the same API key and field thousands of times a
second. Each web process keeps what it found for ``LOOKUP_CACHE_SECONDS`` (default 10;
0 turns the cache off) in a ``cachetools.TTLCache`` of the app; unknown values are never
kept, so a new key or field works at once. A change made through this process's admin
pages drops the cache here at once; other processes see it within the TTL, and what a
stale entry lets through is caught later (the staging INSERT checks the field again).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from cachetools import TTLCache
from flask import current_app

T = TypeVar("T")
_LOCK = threading.Lock()


def _cache(name: str) -> TTLCache:
    caches = current_app.extensions.setdefault("hotline_lookups", {})
    with _LOCK:
        if name not in caches:
            ttl = float(current_app.config.get("LOOKUP_CACHE_SECONDS", 10))
            caches[name] = TTLCache(maxsize=4096, ttl=ttl)
        return caches[name]


def cached(name: str, key: Hashable, load: Callable[[], T | None]) -> T | None:
    """``load()``'s value for ``key``, from this process's cache ``name`` when fresh."""
    cache = _cache(name)
    with _LOCK:
        value = cache.get(key)
    if value is not None:
        return value
    value = load()
    if value is not None:
        with _LOCK:
            cache[key] = value
    return value


def forget() -> None:
    """Drop every cached lookup of this app (after an administrator changed one)."""
    with _LOCK:
        for cache in current_app.extensions.get("hotline_lookups", {}).values():
            cache.clear()
