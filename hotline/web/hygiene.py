"""Input hygiene at the HTTP edge, before any view runs.

* A NUL byte or a lone surrogate in the path, the query string, a form field (name or
  value), a cookie or a header value is refused with 400 — in the API's error format on
  Open311 (its blueprint renders HTTP errors as its error list), as JSON on the webhooks,
  as a Vietnamese page elsewhere — so it never reaches a query (PostgreSQL refuses NUL in
  text) or a stored row.
* JSON bodies read through ``request.get_json`` are scrubbed instead (NUL dropped, lone
  surrogates → U+FFFD): a signed webhook's content is kept, as the citizen sent it, minus
  what no column can hold.
* Integer path parameters (``<int:…>``) stop at 2⁶³−1, the largest BIGINT: a bigger one is
  a 404 like any unknown id, instead of an overflow in the driver; ``bigint`` does the
  same for integer query and form values (``request.args.get(name, type=bigint)``).
"""
from __future__ import annotations

import builtins

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from hotline.domain.text import has_unstorable, scrub_data

MAX_BIGINT = 2**63 - 1
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class UnstorableInput(BadRequest):
    """The request carries a character no field may hold."""

    description = "Yêu cầu chứa ký tự không hợp lệ (ký tự NUL hoặc mã Unicode lỗi)."


class BoundedInt(IntegerConverter):
    """``<int:…>`` limited to what a BIGINT column holds (larger: no such row, 404)."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min,
                         max=MAX_BIGINT if max is None else builtins.min(max, MAX_BIGINT),
                         signed=signed)


def bigint(value: str) -> int:
    """``int`` for a query or form value that ends up in a BIGINT column or comparison:
    ``ValueError`` beyond its range, so ``args.get(name, type=bigint)`` gives the default
    instead of an overflow in the driver."""
    number = int(value)
    if not -MAX_BIGINT - 1 <= number <= MAX_BIGINT:
        raise ValueError("out of the BIGINT range")
    return number


class ScrubbingJSON(DefaultJSONProvider):
    """Flask's JSON provider, with parsed bodies scrubbed of NUL and lone surrogates."""

    def loads(self, s, **kwargs):
        return scrub_data(super().loads(s, **kwargs))


def _bad(pairs) -> bool:
    return any(has_unstorable(k) or has_unstorable(v) for k, v in pairs)


def check_request() -> None:
    """Refuse (400) a request whose path, query, form, cookies or headers hold NUL/surrogates."""
    if has_unstorable(request.path):
        raise UnstorableInput()
    if request.query_string and _bad(request.args.items(multi=True)):
        raise UnstorableInput()
    if _bad(request.cookies.items(multi=True)) or _bad(request.headers.items()):
        raise UnstorableInput()
    if request.mimetype in _FORM_TYPES:
        if _bad(request.form.items(multi=True)):
            raise UnstorableInput()
        if _bad((name, f.filename or "") for name, f in request.files.items(multi=True)):
            raise UnstorableInput()


def init_app(app: Flask) -> None:
    """Install the converter (before any blueprint adds its rules), the JSON provider and the
    request check."""
    app.url_map.converters["int"] = BoundedInt
    app.json_provider_class = ScrubbingJSON
    app.json = ScrubbingJSON(app)
    app.before_request(check_request)
