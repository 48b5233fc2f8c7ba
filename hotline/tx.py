"""The one commit a request, job or command makes, followed by its deferred jobs."""
from __future__ import annotations

from hotline.extensions import db


def commit() -> None:
    """Commit the session, then run jobs deferred until the data they need is durable."""
    db.session.commit()
    from workers.queue import run_deferred
    run_deferred()
