"""Triage at intake: a chat, e-mail or web ticket that came without a field gets the
model's field when it is sure enough, and every such ticket's scope is checked — an
emergency, a complaint or a denunciation is noted on the timeline for the operator and
told to the citizen in the acknowledgement. The ticket is recorded either way; a failing
suggestion never stops intake.
"""
from __future__ import annotations

import logging

from flask import current_app

from hotline.models import Ticket
from hotline.services import events, triage
from hotline.triage import scope as scope_rules

log = logging.getLogger(__name__)


def at_intake(ticket: Ticket, *, had_field: bool) -> str | None:
    """Pre-fill the field and note the scope; returns the citizen's notice, if any."""
    try:
        suggestion = triage.suggest(f"{ticket.title}. {ticket.description}", with_kb=False)
    except Exception:
        log.exception("triage suggestion failed for %s; intake goes on", ticket.code)
        return None
    if not had_field and ticket.field_id is None and suggestion.fields:
        best = suggestion.fields[0]
        if best["score"] >= float(current_app.config.get("TRIAGE_PREFILL_SCORE") or 0.6):
            ticket.field_id = best["id"]
            events.record(ticket, "triage", actor_label="triage",
                          note=f"Lĩnh vực gợi ý: {best['name']} ({best['score']:.0%}); "
                               f"từ: {', '.join(best['words'])}. Tổng đài viên xác nhận hoặc sửa.",
                          data={"suggested_field": best["code"], "score": best["score"],
                                "words": best["words"], "source": suggestion.source})
    if suggestion.scope == "in_scope":
        return None
    events.record(ticket, "triage", actor_label="triage", note=suggestion.notice,
                  data={"scope": suggestion.scope, "number": suggestion.number,
                        "words": suggestion.scope_words})
    return scope_rules.notice(suggestion.scope, suggestion.number, citizen=True)
