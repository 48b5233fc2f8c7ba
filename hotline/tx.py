"""The one commit a request, job or command makes, followed by its deferred jobs."""
from __future__ import annotations

from hotline.extensions import db


def in_transaction() -> bool:
    """Whether this context's session has a transaction open (without making a session
    just to ask: a request that staged a lone report on its own connection never needs one)."""
    registry = db.session.registry
    return registry.has() and registry().in_transaction()


def commit() -> None:
    """Commit the session, then run jobs deferred until the data they need is durable."""
    # Nothing open (a lone staged report committed on its own): committing an empty session
    # would still build and close a transaction, a twentieth of an intake request's CPU.
    if in_transaction():
        db.session.commit()
    from workers.queue import run_deferred
    run_deferred()
