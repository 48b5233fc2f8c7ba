"""The one public projection: results, share page, Open311 (JSON/XML, extensions) and the
hint show moderated text only, and a withheld or refused ticket leaves no public trace."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Attachment, Ticket
from hotline.services import events, public
from tests.photos import image_bytes
from tests.services.test_public import give_result

from hotline.domain.messages import IncomingAttachment

SECRET_RESULT = "Đã liên hệ ông Trần Văn Khải (0903 111 222), nhà số 47 hẻm 9, để xử lý."
SECRET_REPLY = "Tôi là Lê Thị Hoa, CCCD 079188001234, nhà tôi ở 12 Nguyễn Huệ."
SECRET_QUESTION = "Chị Hoa gửi thêm ảnh qua số 0933 444 555 nhé."
PRIVATE = ("Trần Văn Khải", "0903", "111 222", "Lê Thị Hoa", "079188001234", "0933",
           "444 555", "47 hẻm 9", "12 Nguyễn Huệ", "Hoa")


@pytest.fixture
def manager(make_user):
    return make_user("manager", username="lanhdao")


@pytest.fixture
def handled(receive):
    """A ticket whose citizen-visible events carry what a handler and the citizen typed."""
    photo = IncomingAttachment("anh-1.jpg", "image/jpeg", image_bytes(gps=True))
    result = receive(force_new=True, external_id="proj", lat=11.534_912, lon=106.882_345,
                     text="Đèn đường hỏng trước nhà bà Lê Thị Hoa, số 0933 444 555.",
                     attachments=(photo,))
    ticket = db.session.get(Ticket, result.ticket_id)
    events.record(ticket, "asked_citizen", actor_label="handler", public=True,
                  note=SECRET_QUESTION, to_status="waiting_citizen")
    events.record(ticket, "citizen_replied", actor_label="citizen", public=True,
                  note=SECRET_REPLY, to_status="in_progress")
    events.record(ticket, "note", actor_label="handler", note="Nội bộ: " + SECRET_RESULT)
    give_result(ticket, result=SECRET_RESULT)
    events.record(ticket, "approved", actor_label="lead", public=True, note=SECRET_RESULT,
                  to_status="approved")
    db.session.commit()
    return ticket


def status_of(client, url: str) -> int:
    resp = client.get(url)
    resp.close()  # a file response holds its file open until closed
    return resp.status_code


def _public_texts(client, code: str) -> dict[str, str]:
    urls = [f"/results/{code}", "/results", "/", f"/results?q={code}",
            f"/open311/v2/requests/{code}.json", f"/open311/v2/requests/{code}.xml",
            f"/open311/v2/requests/{code}.json?extensions=true",
            f"/open311/v2/requests/{code}.xml?extensions=true",
            "/open311/v2/requests.json?extensions=true",
            "/open311/v2/requests.xml?extensions=true",
            "/submit/nearby?field=CS&lat=11.535&lon=106.8823",
            "/submit/nearby?field=CS&area=25435"]
    return {url: client.get(url).get_data(as_text=True) for url in urls}


def _assert_clean(pages: dict[str, str]) -> None:
    for url, body in pages.items():
        for secret in PRIVATE:
            assert secret not in body, f"{secret!r} leaked on {url}"


def test_unmoderated_ticket_shows_no_typed_text_anywhere(client, handled):
    pages = _public_texts(client, handled.code)
    _assert_clean(pages)
    [item] = client.get(f"/open311/v2/requests/{handled.code}.json?extensions=true").get_json()
    assert item["description"] is None and item["status_notes"] is None
    assert [n["summary"] for n in item["notes"]][:2] == [
        "Tổng đài tiếp nhận phản ánh.", "Chuyển UBND Thành phố Đồng Xoài xử lý."]
    assert "Người phản ánh đã bổ sung thông tin." in [n["summary"] for n in item["notes"]]
    assert (item["lat"], item["long"]) == (11.535, 106.882)        # the ~100 m grid
    assert client.get(f"/results/{handled.code}").status_code == 404


def test_published_page_shows_the_moderated_text_after_edits(client, handled, manager):
    draft = public.prepare_publication(handled)
    public.approve_publication(manager, handled, draft.summary, draft.result,
                               photo_ids=[draft.photos[0].id])
    db.session.commit()
    public.approve_publication(manager, handled, "Đèn đường hỏng trên đường Phú Riềng Đỏ.",
                               "UBND phường đã thay bóng đèn.", photo_ids=[draft.photos[0].id])
    db.session.commit()
    pages = _public_texts(client, handled.code)
    _assert_clean(pages)
    page = pages[f"/results/{handled.code}"]
    assert "UBND phường đã thay bóng đèn." in page and "Có kết quả giải quyết." in page
    assert "Kết quả giải quyết được công khai." in page
    [item] = client.get(f"/open311/v2/requests/{handled.code}.json").get_json()
    assert item["description"] == "Đèn đường hỏng trên đường Phú Riềng Đỏ."
    assert item["media_url"].endswith(f"/results/{handled.code}/photos/"
                                      + item["media_url"].rsplit("/", 1)[1])
    assert status_of(client, item["media_url"].split(".gov.vn", 1)[1]) == 200


@pytest.mark.parametrize("how", ["withheld", "refused"])
def test_taking_down_removes_every_public_trace_at_once(client, handled, manager, how):
    draft = public.prepare_publication(handled)
    public.approve_publication(manager, handled, draft.summary, draft.result,
                               photo_ids=[draft.photos[0].id])
    db.session.commit()
    photo = db.session.scalar(select(Attachment.id).where(Attachment.ticket_id == handled.id,
                                                          Attachment.public.is_(True)))
    assert status_of(client, f"/results/{handled.code}/photos/{photo}") == 200
    if how == "withheld":
        public.withhold_publication(manager, handled, "Nội dung nhạy cảm")
    else:
        from hotline.services import publication_choice
        publication_choice.refuse(handled, via="phone")
    db.session.commit()
    assert client.get(f"/results/{handled.code}").status_code == 404
    assert status_of(client, f"/results/{handled.code}/photos/{photo}") == 404
    for url in ("/", "/results", "/open311/v2/requests.json?extensions=true",
                "/open311/v2/requests.xml", "/submit/nearby?field=CS&lat=11.535&lon=106.8823",
                "/submit/nearby?field=CS&area=25435"):
        assert handled.code not in client.get(url).get_data(as_text=True), url
    # Its own id still answers (the app that filed it follows its status), with nothing else.
    [item] = client.get(f"/open311/v2/requests/{handled.code}.json?extensions=true").get_json()
    assert item["description"] is None and item["status_notes"] is None
    assert item["lat"] is None and item["long"] is None and item["address"] is None
    assert item["media_url"] is None and item["notes"] == []
    _assert_clean(_public_texts(client, handled.code))


def test_a_report_of_only_personal_data_publishes_a_readable_sentence(client, receive, manager):
    r = receive(force_new=True, external_id="only-pii", text="Nguyễn Văn Tám 0912 345 678")
    t = db.session.get(Ticket, r.ticket_id)
    give_result(t, result="Nguyễn Văn Tám, 0912 345 678.")
    draft = public.prepare_publication(t)
    assert draft.summary.startswith("Phản ánh thuộc lĩnh vực Chiếu sáng đô thị tại Phường Tân Bình")
    assert draft.result.startswith("Kết quả giải quyết phản ánh thuộc lĩnh vực")
    public.approve_publication(manager, t, draft.summary, draft.result)
    db.session.commit()
    page = client.get(f"/results/{t.code}").get_data(as_text=True)
    assert "Chiếu sáng đô thị" in page and "Tám" not in page and "0912" not in page
