"""The personal-data notice (``/privacy``): who processes a citizen's data, why, for how
long, and their rights — as Law 91/2025/QH15 on personal data protection and Decree
356/2025/NĐ-CP ask. The public forms carry its short form and link here.

The processor's name is the configured province (``HOTLINE_PROVINCE_NAME``) and the
retention period is ``HOTLINE_RETENTION_DAYS``, so the page says what the system does.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("notice", __name__)


def retention() -> dict[str, int]:
    """The retention period, in days and in whole years (rounded) for people to read."""
    days = int(current_app.config["RETENTION_DAYS"])
    return {"days": days, "years": max(1, round(days / 365))}


@bp.get("/privacy")
def privacy():
    return render_template("public/privacy.html", retention=retention())


@bp.app_context_processor
def _notice():
    # Only a callable: nothing is computed for pages that do not show the notice.
    return {"privacy_retention": retention}
