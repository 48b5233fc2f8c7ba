"""Job: ask "has it been fixed?" ``SATISFACTION_FOLLOWUP_DAYS`` after a result.

Idempotent (the outbox key names the ticket and its result), so it may run as
often as wanted; once a day is enough. Also ``flask --app hotline
satisfaction-followup`` for a system cron without Redis.
"""
from __future__ import annotations

import logging

from hotline.models import utcnow
from hotline.tx import commit

log = logging.getLogger(__name__)


def satisfaction_followup() -> int:
    """Queue the follow-up question for every ticket now due for one; returns how many."""
    from hotline.services import satisfaction
    queued = satisfaction.send_followups(utcnow())
    commit()
    if queued:
        log.info("satisfaction follow-up: %d message(s) queued", queued)
    return queued
