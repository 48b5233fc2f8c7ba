"""Suggestions from the database's fields and KB, the model file's states, training on
handled tickets, and the pinned CLI interface — on SQLite and PostgreSQL."""
from __future__ import annotations

import json

from hotline.extensions import db
from hotline.models import KbArticle
from hotline.services import triage
from hotline.triage.textprep import prepare


def _kb(title: str, body: str) -> None:
    db.session.add(KbArticle(title=title, body=body, search_text=prepare(title + " " + body)))
    db.session.commit()


def test_suggestion_names_database_fields_and_kb_articles(org, with_model):
    _kb("Cấp đổi giấy phép lái xe", "Đổi giấy phép lái xe hết hạn tại Sở Giao thông vận tải.")
    result = triage.suggest("đèn đường hẻm nhà tôi hư hết, tối om")
    assert result.source == "model"
    assert result.fields[0]["code"] == "CS"
    assert result.fields[0]["name"] == "Chiếu sáng đô thị"          # the province's own name
    assert result.fields[0]["id"] == org.fields["CS"].id
    assert {f["code"] for f in result.fields} <= set(org.fields)      # only fields that exist
    assert triage.suggest("bang lai xe het han thi doi o dau").kb[0]["title"] == \
        "Cấp đổi giấy phép lái xe"


def test_missing_model_falls_back_to_keywords(org, model_path):
    org.fields["CS"].keywords = "đèn đường, chiếu sáng"
    db.session.commit()
    triage.reset_caches()
    result = triage.suggest("Đèn đường hư rồi")
    assert result.source == "keywords" and result.fields[0]["code"] == "CS"
    assert triage.status()["state"] == "missing"
    assert triage.suggest("cháy nhà đang cháy lớn cứu với").scope == "emergency"


def test_corrupt_model_falls_back_and_says_so(org, model_path, client, make_user):
    model_path.parent.mkdir(parents=True, exist_ok=True)
    model_path.write_bytes(b"not a model at all")
    triage.reset_caches()
    assert triage.suggest("Đèn đường hư").source in ("keywords", "empty")
    assert triage.status()["state"] == "corrupt"


def test_training_takes_handled_tickets_as_labels(org, receive, model_path):
    from hotline.models import Ticket
    receive(external_id="t-1", text="Cột phát sóng lạ dựng trái phép", field_code="XD")
    ticket = db.session.query(Ticket).one()
    ticket.status = "new"
    db.session.commit()
    examples, sources = triage.training_examples()
    assert sources["history"] == 0           # new and untouched: no person has looked yet
    ticket.status = "assigned"
    db.session.commit()
    examples, sources = triage.training_examples()
    assert sources["history"] == 1
    assert any(e.field == "XD" and "Cột phát sóng" in e.text for e in examples)


def test_train_writes_the_model_and_suggest_uses_it(org, model_path):
    calls = []
    triage.train(lambda done, total: calls.append((done, total)))
    assert model_path.exists() and calls and calls[-1][0] == calls[-1][1]
    triage.reset_caches()
    assert triage.status()["state"] == "ok"
    assert triage.suggest("đèn đường không sáng").source == "model"


def test_cli_suggest_prints_one_json_object(org, with_model, runner):
    result = runner.invoke(args=["triage", "suggest", "--json", "Đèn đường hư mấy bữa nay"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) == {"fields", "scope", "kb"}
    assert body["fields"][0]["code"] == "CS" and len(body["fields"]) <= 3
    assert set(body["fields"][0]) == {"code", "name", "score"}
    assert body["scope"] == "in_scope"
    body = json.loads(runner.invoke(args=["triage", "suggest", "--json", "🔥🔥"]).stdout)
    assert body == {"fields": [], "scope": "in_scope", "kb": []}
