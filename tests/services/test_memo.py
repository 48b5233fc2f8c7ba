"""A batch remembers reference reads; outside a batch every read is fresh."""
from __future__ import annotations

from hotline.extensions import db
from hotline.services import memo, routing
from tests.staff_fixtures import QueryCounter


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


def test_in_a_batch_an_area_is_looked_up_once_for_all_its_fields(org):
    area = org.areas["25435"]
    fields = list(org.fields.values())[:3]
    expected = [routing.suggest(field=f, area=area, kind="phan_anh") for f in fields]
    with memo.batch():
        with QueryCounter() as first:
            routing.suggest(field=fields[0], area=area, kind="phan_anh")
        with QueryCounter() as others:
            decided = [routing.suggest(field=f, area=area, kind="phan_anh") for f in fields[1:]]
    # Each further field reads only its rules: the area's chain and agencies are known.
    assert others.count == len(fields) - 1 < first.count
    assert [d.agency_id for d in decided] == [e.agency_id for e in expected[1:]]
    assert [d.rule_id for d in decided] == [e.rule_id for e in expected[1:]]
