"""The retention job: anonymise citizens' data on tickets closed past HOTLINE_RETENTION_DAYS.

Scheduled daily by ``workers.cron`` (``CRON_RETENTION_SECONDS``, default one day);
without Redis run ``flask --app hotline privacy anonymise`` from the system's
cron. Commits once per batch, so a run over a backlog holds no long
transaction and a killed run resumes where it stopped.
"""
from __future__ import annotations

import logging

from hotline.models import utcnow
from hotline.tx import commit

log = logging.getLogger(__name__)


def anonymise_expired() -> dict[str, int]:
    from hotline.services import privacy
    from hotline.services.admin.audit import Actor, record

    report = privacy.anonymise_expired(utcnow(), on_batch=lambda _r, _rep: commit())
    if report.tickets:
        record(Actor(user=None, label="retention-job"), "anonymise", "ticket", None,
               after={"tickets": report.tickets, "contacts": report.contacts,
                      "cutoff": report.cutoff})
        commit()
        log.info(report.describe())
    return {"tickets": report.tickets, "contacts": report.contacts,
            "files_deleted": report.files_deleted}
