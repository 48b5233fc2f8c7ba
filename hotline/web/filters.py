"""Template helpers: local time, Vietnamese labels, SLA badges, language choice."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request, session

from hotline.domain.lifecycle import KIND_LABELS_VI, LABELS_VI, Kind, Status
from hotline.domain.messages import CHANNEL_LABELS_VI, Channel
from hotline.models import ROLE_LABELS_VI, Role

LANGUAGES = ("vi", "en")
SLA_LABELS_VI = {"on_track": "Trong hạn", "due_soon": "Sắp đến hạn", "overdue": "Quá hạn",
                 "paused": "Tạm dừng (chờ người dân)"}
PRIORITY_LABELS_VI = {"urgent": "Khẩn", "normal": "Thường", "complex": "Phức tạp"}


def select_locale() -> str:
    """``?lang=en`` switches and is remembered in the session; Vietnamese by default."""
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["lang"] = wanted
    return session.get("lang", "vi")


def localtime(value: datetime | None, fmt: str = "%H:%M %d/%m/%Y") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])).strftime(fmt)


def _label(table: dict, enum_cls):
    def lookup(value) -> str:
        if value is None:
            return ""
        try:
            return table[enum_cls(value)]
        except (ValueError, KeyError):
            return str(value)
    return lookup


def init_app(app: Flask) -> None:
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(_label(LABELS_VI, Status), "status_label")
    app.add_template_filter(_label(KIND_LABELS_VI, Kind), "kind_label")
    app.add_template_filter(_label(CHANNEL_LABELS_VI, Channel), "channel_label")
    app.add_template_filter(_label(ROLE_LABELS_VI, Role), "role_label")
    app.add_template_filter(lambda v: SLA_LABELS_VI.get(v, v or ""), "sla_label")
    app.add_template_filter(lambda v: PRIORITY_LABELS_VI.get(v, v or ""), "priority_label")

    @app.context_processor
    def _globals():
        return {"current_lang": session.get("lang", "vi"),
                "province_name": app.config.get("PROVINCE_NAME"),
                "endpoint_exists": lambda endpoint: endpoint in app.view_functions}
