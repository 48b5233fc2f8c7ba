"""Per-process lookups: fresh for new rows, dropped on admin changes, expiring for the rest."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from hotline.extensions import db
from hotline.models import ApiKey, utcnow
from hotline.services import accounts


@pytest.fixture
def app_config():
    return {"LOOKUP_CACHE_SECONDS": 0.5}


def test_a_key_revoked_elsewhere_stops_working_within_the_ttl(app):
    row, key = accounts.create_api_key("Ứng dụng A")
    db.session.commit()
    assert accounts.verify_api_key(key).id == row.id
    # Another process (or a SQL console) revokes it: this process notices after the TTL.
    db.session.execute(update(ApiKey).where(ApiKey.id == row.id).values(revoked_at=utcnow()))
    db.session.commit()
    assert accounts.verify_api_key(key) is not None
    time.sleep(0.6)
    assert accounts.verify_api_key(key) is None


def test_an_unknown_key_is_not_remembered(app):
    assert accounts.verify_api_key("h1022_not-yet") is None
    row, key = accounts.create_api_key("Ứng dụng B")
    db.session.commit()
    assert accounts.verify_api_key(key).id == row.id  # no negative entry in the way
