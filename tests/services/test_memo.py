"""A batch remembers reference reads; outside a batch every read is fresh."""
from __future__ import annotations

from hotline.extensions import db
from hotline.services import memo, routing


def test_a_batch_reads_the_rules_once_and_a_request_always_reads_them(org):
    field, area = org.fields["CS"], org.areas["25435"]
    rule = org.rules["cs_dx"]
    before = routing.suggest(field=field, area=area, kind="phan_anh")
    assert before.rule_id == rule.id
    with memo.batch():
        first = routing.suggest(field=field, area=area, kind="phan_anh")
        rule.active = False
        db.session.flush()
        assert routing.suggest(field=field, area=area, kind="phan_anh") is first  # same batch
    after = routing.suggest(field=field, area=area, kind="phan_anh")
    assert after.rule_id != rule.id  # outside a batch the change is seen at once
    db.session.rollback()
