"""Structured logs: one JSON object per line, each carrying the request id.

``X-Request-ID`` from nginx (or the client) is kept when it looks sane,
otherwise a new one is made; it is echoed in the response and attached to
every log line written while the request runs, so one complaint can be
followed through web, worker and database logs. ``HOTLINE_LOG_FORMAT=json``
(the production default) or ``text``.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
HANDLER_NAME = "hotline-stream"


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", "request_id", ...extra}`` on one line."""

    _SKIP = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._SKIP and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure(app: Flask) -> None:
    """Install one stream handler on the root logger (idempotent across app factories)."""
    fmt = app.config.get("LOG_FORMAT") or (
        "json" if app.config.get("HOTLINE_ENV") == "production" else "text")
    # One line per record: Flask's own handler would print app.logger records twice.
    from flask.logging import default_handler
    app.logger.removeHandler(default_handler)
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.get_name() == HANDLER_NAME), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(HANDLER_NAME)
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    if not app.config.get("TESTING"):
        root.setLevel(app.config.get("LOG_LEVEL") or "INFO")


access_log = logging.getLogger("hotline.access")


def init_app(app: Flask) -> None:
    configure(app)

    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-ID", "")
        # 32 hex digits, as a uuid4's: os.urandom alone, without building the UUID object
        g.request_id = incoming if _REQUEST_ID.match(incoming) else os.urandom(16).hex()
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        started = g.get("request_started")
        if started is not None:
            # The user the request loaded, if it did: logging never loads one (a query).
            user_id = getattr(g.get("_login_user"), "id", None)
            if access_log.isEnabledFor(logging.INFO):
                method, path, status = request.method, request.path, response.status_code
                # makeRecord + handle is what ``info`` does, less the search of the stack
                # for the caller's file and line, which an access line does not show.
                access_log.handle(access_log.makeRecord(
                    access_log.name, logging.INFO, __file__, 0, "%s %s %s",
                    (method, path, status), None, extra={
                        "method": method, "path": path, "status": status, "user_id": user_id,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        "remote_addr": request.remote_addr}))
        return response
