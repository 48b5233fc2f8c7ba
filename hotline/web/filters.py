"""Template helpers: local time, labels (Vietnamese, translated at render), language choice."""
from __future__ import annotations

from datetime import datetime

from flask import Flask, has_request_context, request, session
from flask_babel import get_locale, gettext, refresh
from markupsafe import Markup

from hotline.config import local_time
from hotline.domain import bidi
from hotline.domain.lifecycle import KIND_LABELS_VI, LABELS_VI, Kind, Status
from hotline.domain.messages import CHANNEL_LABELS_VI, Channel
from hotline.models import ROLE_LABELS_VI, Role

LANGUAGES = ("vi", "en")
SLA_LABELS_VI = {"on_track": "Trong hạn", "due_soon": "Sắp đến hạn", "overdue": "Quá hạn",
                 "paused": "Tạm dừng (chờ người dân)"}
PRIORITY_LABELS_VI = {"urgent": "Khẩn", "normal": "Thường", "complex": "Phức tạp"}


def select_locale() -> str:
    """``?lang=en`` switches and is remembered in the session; Vietnamese by default."""
    if not has_request_context():  # jobs and commands speak Vietnamese
        return "vi"
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["lang"] = wanted
    return session.get("lang", "vi")


def localtime(value: datetime | None, fmt: str = "%H:%M %d/%m/%Y") -> str:
    if value is None:
        return ""
    return local_time(value, fmt)


def _label(table: dict, enum_cls):
    """A filter: enum value → its Vietnamese label, translated to the page's language.

    The labels are msgids because ``hotline.web.labels_i18n`` marks them for extraction.
    """
    def lookup(value) -> str:
        if value is None:
            return ""
        try:
            return gettext(table[enum_cls(value)])
        except (ValueError, KeyError):
            return str(value)
    return lookup


def _plain_label(table: dict):
    def lookup(value) -> str:
        label = table.get(value)
        return gettext(label) if label else (value or "")
    return lookup


def current_lang() -> str:
    """The language this response is rendered in (``vi`` or ``en``)."""
    locale = get_locale()
    return locale.language if locale is not None else "vi"


def _finalize(value):
    """Every ``{{ … }}`` of every template: format characters (bidi overrides, zero-width
    spaces) are shown as markers. Markup too: form widgets put citizen text in textareas
    (the moderation form's proposal is published as it is saved), and a marker holds no
    HTML syntax to break."""
    if isinstance(value, str):
        shown = bidi.neutralise(value)
        if shown is not value:
            return Markup(shown) if isinstance(value, Markup) else shown
    return value


def init_app(app: Flask) -> None:
    app.jinja_env.finalize = _finalize
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(_label(LABELS_VI, Status), "status_label")
    app.add_template_filter(_label(KIND_LABELS_VI, Kind), "kind_label")
    app.add_template_filter(_label(CHANNEL_LABELS_VI, Channel), "channel_label")
    app.add_template_filter(_label(ROLE_LABELS_VI, Role), "role_label")
    app.add_template_filter(_plain_label(SLA_LABELS_VI), "sla_label")
    app.add_template_filter(_plain_label(PRIORITY_LABELS_VI), "priority_label")

    @app.before_request
    def _language() -> None:
        # Flask-Babel caches the locale on ``g``; where one app context serves several
        # requests (the test client inside an app context) the last request's language
        # would stick. The language belongs to the request.
        refresh()
        # Remember ?lang= even when the response renders nothing (a sign-in redirect).
        # Other requests choose their language only if they render something: an API
        # call or a webhook never opens the session for it.
        if "lang" in request.args:
            select_locale()

    @app.context_processor
    def _globals():
        # From the locale selector, not the session: on the request that carries
        # ?lang=en the session is only updated once something asks for the locale.
        return {"current_lang": current_lang(),
                "province_name": app.config.get("PROVINCE_NAME"),
                "endpoint_exists": lambda endpoint: endpoint in app.view_functions}
