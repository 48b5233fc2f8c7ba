"""Public pages through the app: the web form, status lookup and its limits, results, moderation."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Attachment, Contact, InboundMessage, Ticket, TicketEvent
from hotline.services import public
from hotline.web import public_submit
from tests.photos import image_bytes
from tests.services.test_public import give_result

PASSWORD = "correct-horse-battery"


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def form_data(**kw):
    data = {"submission_id": "a" * 32, "kind": "phan_anh", "field_code": "CS",
            "area_code": "25435", "address": "Trước chợ Tân Bình",
            "description": "Ba bóng đèn đường trước chợ Tân Bình bị hỏng từ tuần trước.",
            "name": "Nguyễn Thị Lan", "phone": "0912 345 678", "email": ""}
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def submit(client, **kw):
    files = kw.pop("files", None)
    data = form_data(**kw)
    if files:
        data["photos"] = files
    return client.post("/submit", data=data, content_type="multipart/form-data")


def login(client, username):
    return client.post("/login", data={"username": username, "password": PASSWORD})


# --- pages render --------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/", "/submit", "/status", "/results"])
def test_public_pages_are_vietnamese_and_self_hosted(client, org, url):
    resp = client.get(url)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'lang="vi"' in page
    # No CDN, no tracker: every script and stylesheet comes from this site.
    for src in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert not src.startswith(("http://", "https://", "//")), src
    assert "<script>" not in page  # no inline script (CSP without 'unsafe-inline')


def test_form_has_labels_for_every_input(client, org):
    page = client.get("/submit").get_data(as_text=True)
    ids = set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', page))
    labelled = set(re.findall(r'<label[^>]*for="([^"]+)"', page))
    radios = {i for i in ids if re.fullmatch(r"kind-\d", i)}
    assert ids - labelled - radios - {"submission_id", "csrf_token"} == set()


# --- the web form -----------------------------------------------------------------------------------

def test_filing_on_the_web(client, org):
    resp = submit(client)
    assert resp.status_code == 302
    ticket = db.session.scalar(select(Ticket))
    assert ticket.channel == "web" and ticket.external_id == "web:" + bound(client, "a" * 32)
    assert ticket.agency.code == "UBND-689" and ticket.consent_publish
    assert resp.headers["Location"].endswith(f"/status/{ticket.code}/{ticket.status_token}?new=1")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Đã gửi phản ánh thành công" in page and ticket.code in page
    assert f"https://1022.example.gov.vn/status/{ticket.code}/{ticket.status_token}" in page
    assert "UBND Thành phố Đồng Xoài" in page and "hạn xử lý" in page


def bound(client, submission_id: str) -> str:
    """The intake key of ``submission_id`` in this client's browser session."""
    with client.session_transaction() as session:
        return public_submit.bound_id(submission_id, session[public_submit.SESSION_NONCE])


def test_double_submit_files_one_ticket(client, org):
    first = submit(client)
    second = submit(client)
    assert first.headers["Location"] == second.headers["Location"]
    assert count(Ticket) == 1 and count(InboundMessage) == 1


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_a_post_without_the_page_token_stores_nothing(client, org, app_config):
    # The post is read without the form's own validation: the app-wide CSRF check guards it.
    resp = submit(client)
    assert resp.status_code == 400
    assert count(Ticket) == 0 and count(InboundMessage) == 0 and count(Contact) == 0


def test_honeypot_stores_nothing(client, org):
    resp = submit(client, website="http://spam.example")
    assert resp.status_code == 400
    assert count(Ticket) == 0 and count(Contact) == 0


@pytest.mark.parametrize("override,message", [
    ({"description": "ngắn"}, "Nội dung cần từ 10 ký tự."),
    ({"phone": "", "email": ""}, "Nhập số điện thoại hoặc e-mail"),
    ({"phone": "12345"}, "Số điện thoại không hợp lệ"),
    ({"lat": "11.5", "lon": ""}, "Cần cả vĩ độ và kinh độ"),
    ({"lat": "95", "lon": "106"}, "Vĩ độ không hợp lệ."),
    ({"field_code": "NOPE"}, "Lĩnh vực không tồn tại"),
    ({"description": "   "}, "Vui lòng nhập nội dung."),
    ({"lat": "abc", "lon": "106.8"}, "Vĩ độ không hợp lệ."),
    ({"lat": "11.5", "lon": "inf"}, "Kinh độ không hợp lệ."),
    ({"address": "x" * 401}, "Tối đa 400 ký tự."),
    ({"phone": "0" * 21}, "Tối đa 20 ký tự."),
    ({"kind": "spam"}, "Chọn loại: phản ánh, kiến nghị hoặc hỏi đáp."),
    ({"submission_id": "../../etc"}, "Biểu mẫu không hợp lệ hoặc đã cũ."),
])
def test_bad_input_is_refused_clearly_and_stores_nothing(client, org, override, message):
    resp = submit(client, **override)
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert message in page
    if "submission_id" not in override:  # a stale form says so in the banner instead
        assert "Vui lòng kiểm tra lại các mục được đánh dấu." in page
    assert count(Ticket) == 0 and count(Contact) == 0 and count(InboundMessage) == 0


def test_refused_form_keeps_what_was_typed(client, org):
    page = submit(client, description="ngắn", address="Trước chợ Tân Bình",
                  lat="abc", lon="106.9").get_data(as_text=True)
    assert 'value="Trước chợ Tân Bình"' in page and "ngắn</textarea>" in page
    assert 'value="abc"' in page and 'aria-describedby="description-err"' in page


def test_a_stale_form_gets_a_fresh_id_and_goes_through_next_time(client, org):
    page = submit(client, submission_id="not-an-id").get_data(as_text=True)
    fresh = re.search(r'name="submission_id" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    assert submit(client, submission_id=fresh).status_code == 302
    assert db.session.scalar(select(Ticket.external_id)) == "web:" + bound(client, fresh)


def test_a_comma_decimal_location_is_read(client, org):
    assert submit(client, lat="11,5349", lon="106,8823").status_code == 302
    ticket = db.session.scalar(select(Ticket))
    assert (ticket.lat, ticket.lon) == (pytest.approx(11.5349), pytest.approx(106.8823))


def test_anonymous_report_gets_only_the_link(client, org):
    resp = submit(client, anonymous="y", phone="", name="Ai đó", email="")
    ticket = db.session.scalar(select(Ticket))
    assert ticket.contact_id is None and count(Contact) == 0
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert ticket.status_token in page


def test_photos_are_verified_and_their_gps_stays_internal(client, org):
    from io import BytesIO
    photos = [(BytesIO(image_bytes(gps=True)), "IMG_0001.JPG"),
              (BytesIO(image_bytes("PNG")), "chup-man-hinh.png"),
              (BytesIO(image_bytes("WEBP")), "anh.webp")]
    resp = submit(client, files=photos)
    assert resp.status_code == 302
    ticket = db.session.scalar(select(Ticket))
    rows = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert [r.content_type for r in rows] == ["image/jpeg", "image/png", "image/webp"]
    assert not any(r.public for r in rows)
    assert ticket.lat is None  # the photo's position is not the report's public point
    gps = db.session.scalar(select(TicketEvent).where(TicketEvent.type == "photo_location"))
    assert not gps.public and gps.data["photos"][0]["lat"] == pytest.approx(11.5349, abs=1e-3)
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "11.534" not in page


@pytest.mark.parametrize("files,message", [
    ([(b"MZ\x90\x00 this is an exe", "anh.jpg")], "không phải ảnh hợp lệ"),
    ([(image_bytes("JPEG")[:300], "hong.jpg")], "không phải ảnh hợp lệ"),
    ([(image_bytes(), f"{i}.jpg") for i in range(6)], "tối đa 5 ảnh"),
])
def test_bad_photos_are_refused(client, org, files, message):
    from io import BytesIO
    resp = submit(client, files=[(BytesIO(data), name) for data, name in files])
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    assert count(Ticket) == 0 and count(Attachment) == 0


def test_photo_size_limit(client, org, app):
    from io import BytesIO
    app.config["PUBLIC_PHOTO_MAX_BYTES"] = 200
    resp = submit(client, files=[(BytesIO(image_bytes()), "to.jpg")])
    assert resp.status_code == 400 and "lớn quá" in resp.get_data(as_text=True)
    assert count(Ticket) == 0


# --- status lookup ---------------------------------------------------------------------------------

@pytest.fixture
def filed(client, org):
    submit(client)
    return db.session.scalar(select(Ticket))


def lookup(client, code, last4, ip="10.0.0.1"):
    return client.post("/status", data={"code": code, "phone_last4": last4},
                       environ_base={"REMOTE_ADDR": ip})


def test_status_by_code_and_last_four_digits(client, filed):
    resp = lookup(client, filed.code.lower(), "5678")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and filed.code in page
    assert "UBND Thành phố Đồng Xoài" in page and "Tiếp nhận qua kênh" in page
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Referrer-Policy"] == "no-referrer"


def test_unknown_code_and_wrong_phone_look_the_same(client, filed):
    wrong_phone = lookup(client, filed.code, "1234")
    unknown = lookup(client, "PA-26-ZZZZZZ", "5678")
    garbage = lookup(client, "xyz", "5678")
    assert wrong_phone.status_code == unknown.status_code == garbage.status_code == 404
    body = wrong_phone.get_data(as_text=True)
    assert body.replace(filed.code, "PA-26-ZZZZZZ") == unknown.get_data(as_text=True)
    assert "Không tìm thấy phiếu" in body
    bad_link = client.get(f"/status/{filed.code}/wrong-token")
    no_ticket = client.get(f"/status/PA-26-ZZZZZZ/{filed.status_token}")
    assert bad_link.status_code == no_ticket.status_code == 404
    assert bad_link.get_data() == no_ticket.get_data()


LIMITED = {"RATELIMIT_ENABLED": True, "STATUS_LIMIT_PER_IP": "4 per minute"}


@pytest.mark.parametrize("app_config", [LIMITED])
def test_failed_lookups_are_limited_per_ip(client, filed):
    codes = [f"PA-26-{c * 6}" for c in "ABCDEFGH"]
    statuses = [lookup(client, code, "0000", ip="10.0.0.9").status_code for code in codes[:5]]
    assert statuses == [404, 404, 404, 404, 429]
    # The same IP cannot even open its own ticket now; another IP can.
    assert lookup(client, filed.code, "5678", ip="10.0.0.9").status_code == 429
    assert lookup(client, filed.code, "5678", ip="10.0.0.10").status_code == 200


@pytest.mark.parametrize("app_config", [LIMITED])
def test_strangers_wrong_guesses_never_lock_the_owner_out(client, filed):
    # Ticket codes are public: many strangers (or one with many addresses) guessing digits.
    for n in range(40):
        lookup(client, filed.code, f"{n:04d}", ip=f"10.1.{n // 4}.{n}")
    assert lookup(client, filed.code, "5678", ip="10.1.200.1").status_code == 200
    assert client.get(f"/status/{filed.code}/{filed.status_token}",
                      environ_base={"REMOTE_ADDR": "10.1.200.2"}).status_code == 200


@pytest.mark.parametrize("app_config", [LIMITED])
def test_a_limit_reached_is_a_friendly_page_that_keeps_the_code(client, filed):
    for n in range(4):
        lookup(client, filed.code, f"{n:04d}", ip="10.0.0.9")
    resp = lookup(client, filed.code, "1111", ip="10.0.0.9")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 429 and resp.headers["Cache-Control"] == "no-store"
    assert "Bạn đã tra cứu sai quá nhiều lần" in page
    assert f'value="{filed.code}"' in page and 'value="1111"' not in page
    assert 'name="phone_last4"' in page
    other = client.get("/status/PA-26-ZZZZZZ/x", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 429 and "Vui lòng đợi một chút" in other.get_data(as_text=True)
    english = client.get("/status/PA-26-ZZZZZZ/x?lang=en", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert english.status_code == 429 and "Please wait a moment" in english.get_data(as_text=True)


@pytest.mark.parametrize("app_config", [LIMITED])
def test_successful_lookups_never_lock_the_citizen_out(client, filed):
    for _ in range(8):
        assert lookup(client, filed.code, "5678").status_code == 200
        assert client.get(f"/status/{filed.code}/{filed.status_token}").status_code == 200


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True,
                                         "SUBMIT_LIMIT_PER_IP": "2 per minute"}])
def test_the_form_is_limited_per_ip(client, org):
    results = [submit(client, submission_id=f"{n:032x}").status_code for n in range(3)]
    assert results == [302, 302, 429]
    assert count(Ticket) == 2
    # The page says why, in words, with everything the citizen typed still there.
    page = submit(client, submission_id=f"{9:032x}", description="Cây đổ chắn ngang đường "
                  "Trần Hưng Đạo từ sáng nay.").get_data(as_text=True)
    assert "Bạn đã gửi nhiều phản ánh trong thời gian ngắn" in page
    assert "Cây đổ chắn ngang đường Trần Hưng Đạo từ sáng nay.</textarea>" in page
    assert 'value="Nguyễn Thị Lan"' in page and 'value="0912 345 678"' in page


def test_a_submission_id_from_another_session_files_its_own_report(client, app, org):
    first = submit(client)
    assert first.status_code == 302
    stranger = app.test_client()
    stranger.get("/submit")
    second = submit(stranger, description="Nước ngập sâu trên đường Hùng Vương sau mưa.",
                    name="Lê Văn Tám", phone="0987 654 321")
    assert second.status_code == 302
    # Not the first citizen's private link, and the second report is not dropped.
    assert second.headers["Location"] != first.headers["Location"]
    assert count(Ticket) == 2
    tickets = db.session.scalars(select(Ticket).order_by(Ticket.id)).all()
    assert second.headers["Location"].split("?")[0].endswith(
        f"/status/{tickets[1].code}/{tickets[1].status_token}")
    assert "Hùng Vương" in tickets[1].description
    # Without any session cookie it is the same: a report of its own.
    third = submit(app.test_client(use_cookies=False), description="Đèn tín hiệu giao thông "
                   "ngã tư Đồng Xoài bị tắt.")
    assert third.status_code == 302 and count(Ticket) == 3
    assert third.headers["Location"] not in (first.headers["Location"],
                                             second.headers["Location"])


# --- rating -------------------------------------------------------------------------------------------

def test_rating_from_the_status_page_reopens_when_not_fixed(client, filed):
    give_result(filed)
    filed.resolved_at = filed.received_at + timedelta(hours=1)
    db.session.commit()
    url = f"/status/{filed.code}/{filed.status_token}"
    assert "Đánh giá kết quả" in client.get(url).get_data(as_text=True)
    bad = client.post(url + "/rate", data={"rating": "9"})
    assert bad.status_code == 400 and filed.rating is None
    resp = client.post(url + "/rate", data={"rating": "1", "fixed": "no", "comment": "Vẫn tối"})
    assert resp.status_code == 302
    db.session.refresh(filed)
    assert filed.status == "reopened" and filed.rating == 1 and filed.reopened_count == 1
    page = client.get(url).get_data(as_text=True)
    assert "Phiếu đã được mở lại" in page
    assert client.post(f"/status/{filed.code}/nope/rate", data={"rating": "5"}).status_code == 404


# --- published results and moderation ---------------------------------------------------------------------

def test_moderation_is_for_managers_only(client, filed, make_user, org):
    give_result(filed)
    urls = ["/manager/publication/", f"/manager/publication/{filed.code}"]
    for url in urls:
        assert client.get(url).status_code == 302  # to the login page
    for role, agency in [("operator", None), ("handler", org.agencies["UBND-689"]),
                         ("agency_lead", org.agencies["UBND-689"]), ("admin", None)]:
        user = make_user(role, agency=agency)
        login(client, user.username)
        for url in urls:
            assert client.get(url).status_code == 403, (role, url)
        assert client.post(urls[1], data={"summary": "x" * 20, "result": "y" * 20}).status_code == 403
        client.post("/logout")
    assert filed.published_at is None


def test_manager_edits_and_publishes_then_the_public_reads_it(client, filed, make_user):
    give_result(filed)
    make_user("manager", username="lanhdao")
    login(client, "lanhdao")
    queue = client.get("/manager/publication/").get_data(as_text=True)
    assert filed.code in queue
    page = client.get(f"/manager/publication/{filed.code}").get_data(as_text=True)
    assert "[họ tên]" in page and "[số điện thoại]" in page   # the redacted proposal
    draft = public.prepare_publication(filed)
    resp = client.post(f"/manager/publication/{filed.code}",
                       data={"summary": draft.summary + " Đã kiểm tra.", "result": draft.result})
    assert resp.status_code == 302
    db.session.refresh(filed)
    assert filed.published_at is not None and filed.status == "published"
    client.post("/logout")
    listing = client.get("/results?q=den+duong").get_data(as_text=True)
    detail = client.get(f"/results/{filed.code}").get_data(as_text=True)
    for page in (listing, detail):
        assert filed.code in page
        for private in ("Nguyễn Thị Lan", "0912", "345 678", "+84912345678"):
            assert private not in page
    assert "Đã kiểm tra." in detail and f"https://1022.example.gov.vn/results/{filed.code}" in detail
    assert client.get("/results?q=nguyen+thi+lan").get_data(as_text=True).count("result-card") == 0
    assert client.get("/results?after=garbage").status_code == 400


def test_unpublished_ticket_has_no_public_page(client, filed):
    give_result(filed)
    assert client.get(f"/results/{filed.code}").status_code == 404
    assert client.get("/results/not-a-code").status_code == 404
    assert filed.code not in client.get("/results").get_data(as_text=True)


def test_nearby_hint_json(client, org, receive):
    receive(force_new=True, external_id="n1", lat=11.5349, lon=106.8823, consent_publish=True,
            title="Chị Mai 0987 654 321 báo đèn hỏng", text="Đèn đường hỏng, gọi chị Mai 0987 654 321")
    data = client.get("/submit/nearby?field=CS&lat=11.5350&lon=106.8824").get_json()
    assert len(data["items"]) == 1
    item = data["items"][0]
    assert set(item) == {"code", "status", "received", "summary", "distance", "url"}
    assert item["distance"] == "dưới 100 m" and item["summary"] is None and item["url"] is None
    assert "Mai" not in json.dumps(data, ensure_ascii=False)
    assert client.get("/submit/nearby?field=CS&lat=nan&lon=inf").get_json() == {"items": []}
    assert client.get("/submit/nearby?field=CS&lat=abc&lon=1").get_json() == {"items": []}
    assert client.get("/submit/nearby").get_json() == {"items": []}
