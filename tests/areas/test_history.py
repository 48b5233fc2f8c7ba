"""Merged-province history: the demo exported, imported into a fresh database and compared;
bad lines listed by number with nothing written; the same file twice changes nothing."""
from __future__ import annotations

import json

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from hotline import create_app
from hotline.domain.errors import ValidationError
from hotline.extensions import db
from hotline.models import Area, Ticket, TicketEvent
from hotline.services import demo, history
from hotline.services.admin.audit import Actor

ACTOR = Actor(user=None, label="test")


def _summary() -> dict:
    areas = {a.id: a.code for a in db.session.scalars(select(Area))}
    events = dict(db.session.execute(select(TicketEvent.ticket_id, func.count())
                                     .where(TicketEvent.type != "imported")
                                     .group_by(TicketEvent.ticket_id)).all())
    return {t.code: (t.status, t.kind, t.channel, t.external_id, areas.get(t.area_id),
                     areas.get(t.current_area_id), t.field.code if t.field else None,
                     t.agency.code if t.agency else None,
                     t.published_at.isoformat() if t.published_at else None, t.public_summary,
                     t.rating, events.get(t.id, 0))
            for t in db.session.scalars(select(Ticket))}


def test_demo_round_trip_into_a_fresh_database(app, tmp_path, runner):
    demo.seed(tickets=40, seed=5)
    db.session.commit()
    out = tmp_path / "binhphuoc.jsonl"
    result = runner.invoke(args=["export-history", str(out)])
    assert result.exit_code == 0, result.output
    expected = _summary()
    assert len(expected) == 40 and any(v[5] for v in expected.values())  # history on both trees

    fresh = create_app({"TESTING": True, "SECRET_KEY": "x", "REDIS_URL": None,
                        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.db'}"})
    with fresh.app_context():
        upgrade()
        demo.seed(tickets=0)
        db.session.commit()
        cli = fresh.test_cli_runner()
        done = cli.invoke(args=["import-history", str(out)])
        assert done.exit_code == 0, done.output
        assert "Imported 40 tickets" in done.output
        assert _summary() == expected
        again = cli.invoke(args=["import-history", str(out)])
        assert "Imported 0 tickets, skipped 40" in again.output
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 40
        db.session.remove()
        db.engine.dispose()


def _line(code: str, **kw) -> str:
    row = {"code": code, "kind": "phan_anh", "channel": "phone", "external_id": f"x-{code}",
           "status": "closed", "received_at": "2024-03-04T09:00:00+07:00",
           "title": "Đèn đường hỏng", "description": "Đèn đường hỏng trước chợ.",
           "area_code": None, "events": [{"type": "received", "at": "2024-03-04T09:00:00+07:00",
                                          "actor_label": "phone"}]}
    row.update(kw)
    return json.dumps(row, ensure_ascii=False)


HEADER = json.dumps({"format": "hotline-history", "version": 1, "source": "test"})


def test_former_units_converted_and_bad_lines_listed(tree):
    before = db.session.scalar(select(func.count()).select_from(Ticket))
    bad = [HEADER, _line("PA-24-00001", area_code="26029"), "{not json",
           _line("PA-24-00002", status="flying"), _line("PA-24-00003", area_code="99999"),
           _line("PA-24-00004", received_at="yesterday"), _line("PA-24-00001")]
    with pytest.raises(ValidationError) as err:
        history.import_lines(ACTOR, bad)
    for n in (3, 4, 5, 6, 7):
        assert f"dòng {n}:" in err.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == before

    good = [HEADER, _line("PA-24-00001", area_code="26029"),  # old Phường Thống Nhất, Biên Hòa
            _line("PA-24-00005", area_code="old.25441", status="in_progress")]
    result = history.import_lines(ACTOR, good)
    db.session.commit()
    assert (result.imported, result.skipped, result.areas_converted) == (2, 0, 1)
    converted = db.session.scalar(select(Ticket).where(Ticket.code == "PA-24-00001"))
    assert converted.area.code == "26041"  # Phường Trấn Biên took it over
    kept = db.session.scalar(select(Ticket).where(Ticket.code == "PA-24-00005"))
    assert kept.area.code == "old.25441" and kept.current_area.code == "25441"
    with pytest.raises(ValidationError):
        history.import_lines(ACTOR, ['{"format": "other"}', _line("PA-24-00009")])
