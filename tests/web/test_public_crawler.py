"""The crawler: personal data planted through every channel never reaches a public surface.

A corpus of names, phones, e-mails, CCCD numbers, plates and home addresses is planted
through each door as a citizen uses it — a phone call on the operator's form, the web
form, an Open311 POST, Telegram, Zalo and Facebook webhooks (their real payload formats,
signed), and e-mail over a real SMTP conversation. The tickets are then handled (the
handler's questions, internal notes, results and the citizens' replies all carry more
of it), moderated (the manager approves the machine-redacted draft, as the moderation
page proposes it) and published — one is left open, one withheld, one refused by its
citizen. Then a stranger crawls every public page by its links and every API response
(Open311 JSON and XML, with and without ``extensions``, list and per request, the
nearby hint, share and status pages) and no planted string may appear anywhere.
"""
from __future__ import annotations

import html
import io
import json
import re
import smtplib
import time
from collections import deque
from email.message import EmailMessage
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import responses
from flask import g
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from channels.facebook import SIGNATURE_HEADER as FACEBOOK_SIGNATURE
from channels.facebook import signature as facebook_signature
from channels.mail_inbound import smtp_controller
from channels.telegram import SECRET_HEADER as TELEGRAM_SECRET
from channels.zalo import SIGNATURE_HEADER as ZALO_SIGNATURE
from channels.zalo import signature as zalo_signature
from hotline.domain import text
from hotline.extensions import db
from hotline.models import Agency, Ticket
from hotline.services import accounts, handling, publication, publication_choice
from tests.channels import fake_telegram
from tests.channels.conftest import (CHANNEL_SETTINGS, HOTLINE_ADDRESS, SIGNATURES, fixture_bytes,
                                     free_port, settle)
from tests.photos import image_bytes
from tests.staff_fixtures import login

# One person per door, so a hit says which path leaked.
PEOPLE = {
    "phone": dict(name="Nguyễn Văn Thắng", phone="0912 345 671", email="thang.nguyen71@gmail.com",
                  cccd="079188004321", plate="93A-123.45", address="số 27 hẻm 14 đường Lê Quý Đôn"),
    "web": dict(name="Trần Thị Mỹ Duyên", phone="0903.456.782", email="myduyen.tran@yahoo.com",
                cccd="070195001122", plate="93C1-456.78", address="số 118 đường Hùng Vương"),
    "open311": dict(name="Lê Hoàng Phúc", phone="0977 888 213", email="phuc.le@outlook.com",
                    cccd="074099007788", plate="61A-987.65", address="số 9 hẻm 3 đường Trần Hưng Đạo"),
    "telegram": dict(name="Phạm Thị Thu Hà", phone="0388 123 454", email="thuha.pham@gmail.com",
                     cccd="072300112233", plate="93B-222.11", address="số 45 đường Phú Riềng Đỏ"),
    "zalo": dict(name="Võ Minh Khang", phone="0356 777 895", email="khang.vo95@gmail.com",
                 cccd="079099334455", plate="93H-345.67", address="số 61 hẻm 22 đường Nguyễn Huệ"),
    "facebook": dict(name="Đặng Thị Kim Ngân", phone="0868 246 806", email="kimngan.dang@gmail.com",
                     cccd="075301556677", plate="60A-555.66", address="số 203 đường Lý Thường Kiệt"),
    "email": dict(name="Bùi Quốc Huy", phone="0707 135 797", email="quochuy.bui@gmail.com",
                  cccd="079203998877", plate="93E-777.88", address="số 15 hẻm 8 đường Tôn Đức Thắng"),
    # Tickets that are not published: left open, withheld by a manager, refused by the citizen.
    "open": dict(name="Huỳnh Văn Lợi", phone="0932 111 338", email="loi.huynh@gmail.com",
                 cccd="087188223344", plate="93K-111.22", address="số 88 đường Quang Trung"),
    "withheld": dict(name="Mai Thị Hồng Nhung", phone="0945 222 669", email="hongnhung.mai@gmail.com",
                     cccd="080190445566", plate="93L-333.44", address="số 12 hẻm 5 đường Ngô Quyền"),
    "refused": dict(name="Đỗ Khắc Tài", phone="0916 333 450", email="tai.do@gmail.com",
                    cccd="082188667788", plate="93M-444.55", address="số 7 đường Trần Phú"),
}
# Everything a stranger can reach is fetched (staff pages answer with the sign-in page);
# only the static assets are skipped.
SKIP_PREFIXES = ("/static/",)


def report(p: dict) -> str:
    return (f"Tôi là {p['name']}, nhà ở {p['address']}. Đèn đường trước nhà tôi hỏng 3 bóng, tối "
            f"qua xe máy {p['plate']} của tôi suýt bị tai nạn. Gọi tôi {p['phone']} hoặc "
            f"{p['email']}, CCCD {p['cccd']}.")


def question(p: dict) -> str:
    return f"Anh/chị {p['name']} vui lòng gửi thêm ảnh hiện trường; cán bộ sẽ gọi {p['phone']}."


def reply(p: dict) -> str:
    return f"Tôi là {p['name']}, CCCD {p['cccd']}, đã gửi ảnh qua {p['email']}."


def result(p: dict) -> str:
    return (f"Đã thay 3 bóng đèn trước nhà {p['address']}. Đã gọi điện báo ông/bà {p['name']} "
            f"({p['phone']}) và chủ xe {p['plate']}.")


# --- what must never be found ---------------------------------------------------------------

def _digits_pattern(digits: str) -> re.Pattern:
    # However the number is written: spaces, dots, dashes, or none, between any digits.
    return re.compile(r"\D{0,2}".join(digits))


def needles() -> list[tuple[str, str, object]]:
    """(who, what, matcher): exact strings, folded names and numbers in any spelling."""
    out = []
    for who, p in PEOPLE.items():
        phone = re.sub(r"\D", "", p["phone"])
        out += [(who, "name", text.fold(p["name"])),
                (who, "given name", text.fold(" ".join(p["name"].split()[-2:]))),
                (who, "phone", _digits_pattern(phone)),
                (who, "phone +84", _digits_pattern(phone[1:])),
                (who, "e-mail", p["email"].lower()),
                (who, "e-mail user", p["email"].split("@")[0].lower()),
                (who, "cccd", _digits_pattern(p["cccd"])),
                (who, "plate", _digits_pattern(re.sub(r"\D", "", p["plate"]))),
                (who, "house", text.fold(p["address"].split(" đường ")[0]))]
    return out


def hits(body: str) -> list[str]:
    plain = html.unescape(body)
    folded = text.fold(plain)
    found = []
    for who, what, needle in NEEDLES:
        if isinstance(needle, re.Pattern):
            if needle.search(plain):
                found.append(f"{who} {what}")
        elif re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", folded):
            found.append(f"{who} {what}")
    return found


NEEDLES = needles()


def without_echo(url: str, body: str) -> str:
    """A search page shows the stranger's own words in its search box: not a leak. (Those
    words finding nothing is checked apart: the public search reads moderated text only.)"""
    query = parse_qs(urlsplit(url).query).get("q")
    if not query:
        return body
    return html.unescape(body).replace(query[0], "")


# --- the doors --------------------------------------------------------------------------------

class Fresh(FlaskClient):
    """A browser of its own: Flask-Login keeps the signed-in user on ``g``, which the test's
    app context shares between requests, so each request starts without it."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


def browser(app) -> Fresh:
    return Fresh(app, app.response_class, use_cookies=True)


@pytest.fixture
def telegram_api():
    fake = fake_telegram.FakeTelegram()
    server = fake_telegram.start(fake)
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_config(telegram_api):
    return {**CHANNEL_SETTINGS, "TELEGRAM_API_BASE_URL": telegram_api.url}


@pytest.fixture(autouse=True)
def platforms():
    """Zalo's and Facebook's APIs (replies go there): faked, unreachable is fine."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def smtp_port(app, org):
    port = free_port()
    controller = smtp_controller(app, "127.0.0.1", port)
    controller.start()
    yield port
    controller.stop()


def by_external(channel: str, external_id: str) -> Ticket:
    db.session.expire_all()
    return db.session.scalar(select(Ticket).where(Ticket.channel == channel,
                                                  Ticket.external_id == external_id))


def by_code(code: str) -> Ticket:
    db.session.expire_all()
    return db.session.scalar(select(Ticket).where(Ticket.code == code))


def phone_call(app, staff, org, p: dict, **extra) -> Ticket:
    client = login(browser(app), staff.operator)
    page = client.get("/operator/").get_data(as_text=True)
    ext = re.search(r'name="external_id" value="(call-[0-9a-f-]+)"', page).group(1)
    resp = client.post("/operator/", data={
        "external_id": ext, "phone": p["phone"], "name": p["name"], "kind": "phan_anh",
        "priority": "normal", "address": p["address"], "description": report(p),
        "decision": "forward", "field_id": org.fields["CS"].id,
        "area_id": org.areas["25435"].id, **extra})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:400]
    return by_external("phone", ext)


def web_form(app, p: dict) -> Ticket:
    client = browser(app)
    photo = (io.BytesIO(image_bytes(gps=True, maker=p["name"].encode("ascii", "ignore").decode())),
             "anh.jpg")
    resp = client.post("/submit", content_type="multipart/form-data", data={
        "submission_id": "c" * 32, "kind": "phan_anh", "field_code": "CS", "area_code": "25435",
        "address": p["address"], "description": report(p), "name": p["name"],
        "phone": p["phone"], "email": p["email"], "lat": "11.534912", "lon": "106.882345",
        "photos": photo})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:400]
    return by_code(resp.headers["Location"].split("/status/", 1)[1].split("/", 1)[0])


def open311(app, p: dict, key: str, description: str | None = None) -> Ticket:
    first, last = p["name"].split()[-1], " ".join(p["name"].split()[:-1])
    resp = browser(app).post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "CS", "lat": "11.535871", "long": "106.881502",
        "address_string": p["address"], "description": description or report(p),
        "email": p["email"], "phone": p["phone"], "first_name": first, "last_name": last})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return by_code(resp.get_json()[0]["service_request_id"])


def telegram(app, update_id: int, chat_id: int, p: dict, message: str) -> None:
    data = json.loads(fixture_bytes("telegram_text.json"))
    first, last = p["name"].split()[-1], " ".join(p["name"].split()[:-1])
    data["update_id"] = update_id
    data["message"].update(message_id=update_id % 100_000, text=message, date=int(time.time()) + 2,  # after the question
                          
                           chat={"id": chat_id, "type": "private", "first_name": first,
                                 "last_name": last},
                           **{"from": {"id": chat_id, "is_bot": False, "first_name": first,
                                       "last_name": last}})
    resp = browser(app).post("/channels/telegram/webhook",
                                  data=json.dumps(data, ensure_ascii=False).encode(),
                                  headers={"Content-Type": "application/json",
                                           TELEGRAM_SECRET: SIGNATURES["telegram_secret_token"]})
    assert resp.status_code == 200, resp.get_json()


def zalo(app, msg_id: str, sender: str, message: str) -> None:
    data = json.loads(fixture_bytes("zalo_user_send_text.json"))
    data["sender"]["id"] = sender
    data["timestamp"] = str(int(time.time() * 1000) + 2000)  # after the question
    data["message"].update(msg_id=msg_id, text=message)
    body = json.dumps(data, ensure_ascii=False).encode()
    sig = zalo_signature(SIGNATURES["zalo_app_id"], body, str(data["timestamp"]),
                         SIGNATURES["zalo_oa_secret_key"])
    resp = browser(app).post("/channels/zalo/webhook", data=body,
                                  headers={"Content-Type": "application/json",
                                           ZALO_SIGNATURE: sig})
    assert resp.status_code == 200, resp.get_json()


def facebook(app, mid: str, psid: str, message: str) -> None:
    data = json.loads(fixture_bytes("facebook_message.json"))
    event = data["entry"][0]["messaging"][0]
    event["sender"]["id"] = psid
    event["message"].update(mid=mid, text=message)
    body = json.dumps(data, ensure_ascii=False).encode()
    resp = browser(app).post(
        "/channels/facebook/webhook", data=body,
        headers={"Content-Type": "application/json",
                 FACEBOOK_SIGNATURE: facebook_signature(SIGNATURES["facebook_app_secret"], body)})
    assert resp.status_code == 200, resp.get_json()


def email(port: int, p: dict, message_id: str) -> None:
    msg = EmailMessage()
    msg["From"] = f"{p['name']} <{p['email']}>"
    msg["To"] = HOTLINE_ADDRESS
    msg["Subject"] = f"Phản ánh đèn đường - {p['name']} {p['phone']}"
    msg["Message-ID"] = message_id
    msg.set_content(report(p) + f"\n\nTrân trọng,\n{p['name']}\nĐT: {p['phone']}")
    raw = msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    settle()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        assert smtp.sendmail(p["email"], [HOTLINE_ADDRESS], raw) == {}
    settle()


# --- handling and moderation ------------------------------------------------------------------

def handler_of(staff, t: Ticket):
    """The handler of the agency the router (or the operator) chose."""
    return {staff.handler.agency_id: staff.handler,
            staff.co_handler.agency_id: staff.co_handler}[t.agency_id]


def handle(staff, org, t: Ticket, p: dict, *, chat_reply=None) -> Ticket:
    """Forward (if the router could not), accept, ask, hear back, note, resolve."""
    if t.agency_id is None:
        handling.forward(staff.operator, t, agency_id=org.agencies["UBND-689"].id,
                         reason="Đèn đường trong phường Tân Bình")
        db.session.commit()
    handler = handler_of(staff, t)
    handling.accept(handler, t)
    handling.ask_citizen(handler, t, question=question(p))
    db.session.commit()
    if chat_reply is not None:
        chat_reply()  # the citizen answers on their own channel
        t = by_code(t.code)
        assert t.status == "in_progress"
    else:
        handling.record_citizen_reply(handler, t, reply=reply(p))
    handling.add_note(handler, t, note=f"Đã xác minh với {p['name']} {p['phone']}.")
    handling.add_note(handler, t, note=f"Đang thay bóng đèn, đã báo {p['name']}.", public=True)
    handling.resolve(handler, t, result=result(p))
    db.session.commit()
    return by_code(t.code)


def moderate(app, staff, t: Ticket) -> None:
    """The manager approves the machine-redacted draft the moderation page proposes."""
    client = login(browser(app), staff.manager)
    page = client.get(f"/manager/publication/{t.code}")
    assert page.status_code == 200, page.get_data(as_text=True)[-1500:]
    draft = publication.prepare_publication(t)
    resp = client.post(f"/manager/publication/{t.code}", data={
        "summary": draft.summary, "result": draft.result,
        "photo": [str(photo.id) for photo in draft.photos]})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:600]
    assert by_code(t.code).published_at is not None


# --- the crawl -------------------------------------------------------------------------------

def _local(url: str, base: str) -> str | None:
    url = html.unescape(url)
    if url.startswith(base):
        url = url[len(base):] or "/"
    if not url.startswith("/") or url.startswith("//"):
        return None
    path = urlsplit(url).path
    if path.startswith(SKIP_PREFIXES):
        return None
    return url.split("#", 1)[0]


def crawl(app, seeds: list[str], posts: list[tuple[str, dict]]) -> dict[str, str]:
    """Fetch every seed and every public page linked from them, as a stranger."""
    client = browser(app)
    base = app.config["PUBLIC_URL"].rstrip("/")
    bodies: dict[str, str] = {}
    queue = deque(seeds)
    while queue:
        url = queue.popleft()
        if url in bodies:
            continue
        assert len(bodies) < 5000, "the crawl does not end"
        resp = client.get(url)
        assert resp.status_code < 500, url
        kind = resp.mimetype or ""
        if kind.startswith("image/"):
            image = Image.open(io.BytesIO(resp.get_data()))
            assert dict(image.getexif()) == {}, f"EXIF left on {url}"
            bodies[url] = ""
        else:
            bodies[url] = resp.get_data(as_text=True)
        for header in ("Link", "Location"):
            for link in re.findall(r"<([^>]+)>", resp.headers.get(header, "")) or \
                    ([resp.headers[header]] if header == "Location" and header in resp.headers
                     else []):
                if (local := _local(link, base)) is not None:
                    queue.append(local)
        resp.close()
        if kind == "text/html":
            for link in re.findall(r'(?:href|src|action)="([^"]+)"', bodies[url]):
                if (local := _local(link, base)) is not None:
                    queue.append(local)
        elif kind in ("application/json", "text/xml"):
            for link in re.findall(r"https?://[^\s\"<]+", bodies[url]):
                if (local := _local(link, base)) is not None:
                    queue.append(local)
    for url, data in posts:
        resp = client.post(url, data=data)
        assert resp.status_code < 500, url
        bodies[f"POST {url} {data}"] = resp.get_data(as_text=True)
    return bodies


def test_no_planted_personal_data_on_any_public_surface(app, org, staff, smtp_port):
    key = accounts.create_api_key("Ứng dụng công dân")[1]
    db.session.commit()
    P = PEOPLE
    made: dict[str, Ticket] = {}
    # Every door, as its citizens use it.
    made["phone"] = phone_call(app, staff, org, P["phone"])
    made["web"] = web_form(app, P["web"])
    made["open311"] = open311(app, P["open311"], key)
    telegram(app, 915000001, 6012345001, P["telegram"], report(P["telegram"]))
    made["telegram"] = by_external("telegram", "915000001")
    zalo(app, "a1b2c3d4e5f60718293a", "3468458835291979001", report(P["zalo"]))
    made["zalo"] = by_external("zalo", "a1b2c3d4e5f60718293a")
    facebook(app, "m_Crawler000000001", "7012345678900001", report(P["facebook"]))
    made["facebook"] = by_external("facebook", "m_Crawler000000001")
    email(smtp_port, P["email"], "<crawler-1@gmail.com>")
    made["email"] = by_external("email", "<crawler-1@gmail.com>")
    made["open"] = open311(app, P["open"], key)
    made["withheld"] = phone_call(app, staff, org, P["withheld"])
    made["refused"] = web_form_refused(app, P["refused"])
    assert all(t is not None for t in made.values()), {k: t for k, t in made.items() if t is None}
    assert {t.channel for t in made.values()} == {"phone", "web", "open311", "telegram", "zalo",
                                                   "facebook", "email"}
    # Handling: the handler's words and the citizens' replies carry more personal data.
    org.agencies["UBND-689"].requires_result_approval = False
    db.session.commit()
    for who, t in made.items():
        if who == "open":
            handler = handler_of(staff, t)
            handling.accept(handler, t)
            handling.ask_citizen(handler, t, question=question(P[who]))
            handling.add_note(handler, t, note=result(P[who]), public=True)
            db.session.commit()
            continue
        chat_reply = None
        if who == "telegram":
            chat_reply = lambda: telegram(app, 915000002, 6012345001, P["telegram"],  # noqa: E731
                                          reply(P["telegram"]))
        elif who == "zalo":
            chat_reply = lambda: zalo(app, "a1b2c3d4e5f60718293b", "3468458835291979001",  # noqa: E731
                                      reply(P["zalo"]))
        made[who] = handle(staff, org, t, P[who], chat_reply=chat_reply)
    # Moderation and publication of every door's ticket; then one is withheld and one
    # refused by its citizen after publication (every trace must go at once).
    for who in ("phone", "web", "open311", "telegram", "zalo", "facebook", "email", "withheld",
                "refused"):
        moderate(app, staff, made[who])
    publication.withhold_publication(staff.manager, by_code(made["withheld"].code),
                                     "Liên quan đời tư")
    publication_choice.refuse(by_code(made["refused"].code), via="status_page")
    db.session.commit()
    codes = {who: t.code for who, t in made.items()}
    published = [codes[w] for w in ("phone", "web", "open311", "telegram", "zalo", "facebook",
                                    "email")]
    assert all(by_code(c).published_at is not None for c in published)

    # A stranger crawls everything public.
    seeds = ["/", "/results", "/submit", "/status", "/healthz", "/api/ioc/summary",
             "/open311/v2/discovery.json", "/open311/v2/services.json",
             "/open311/v2/services.xml", "/open311/v2/openapi.json",
             "/results?field=CS", "/results?area=25435", "/results?agency=UBND-689"]
    for fmt in ("json", "xml"):
        for extra in ("", "?extensions=true", "?extensions=true&page_size=2",
                      "?status=open&extensions=true", "?status=closed&extensions=true"):
            seeds.append(f"/open311/v2/requests.{fmt}{extra}")
    for who, code in codes.items():
        seeds += [f"/results/{code}", f"/status?code={code}", f"/status/{code}/not-the-token",
                  f"/results?q={code}"]
        for fmt in ("json", "xml"):
            seeds += [f"/open311/v2/requests/{code}.{fmt}",
                      f"/open311/v2/requests/{code}.{fmt}?extensions=true",
                      f"/open311/v2/requests.{fmt}?service_request_id={code}&extensions=true"]
        p = P[who]
        for word in (p["name"], p["phone"], p["email"], p["cccd"], p["plate"], p["address"]):
            seeds.append(f"/results?q={quote(word)}")
    for lat, lon in ((11.534912, 106.882345), (11.535871, 106.881502), (11.5349, 106.8823)):
        for d in (-0.002, 0, 0.002):
            seeds.append(f"/submit/nearby?field=CS&lat={lat + d:.6f}&lon={lon - d:.6f}")
    seeds += ["/submit/nearby?field=CS&area=25435", "/submit/nearby?field=CS&area=689"]
    posts = [("/status", {"code": code, "phone_last4": "0000"}) for code in codes.values()]
    posts += [(f"/status/{code}/wrong/no-publish", {}) for code in codes.values()]
    bodies = crawl(app, seeds, posts)

    leaks = {url: found for url, body in bodies.items() if (found := hits(without_echo(url, body)))}
    assert leaks == {}, json.dumps(leaks, ensure_ascii=False, indent=1)
    # The crawl reached what it must have: every published share page and photo, the
    # Open311 pages behind the Link headers, and nothing unpublished has a page.
    for code in published:
        assert code in bodies["/results"] or any(code in b for u, b in bodies.items()
                                                  if u.startswith("/results?after="))
        assert "Đã thay 3 bóng đèn" in bodies[f"/results/{code}"]
    assert any("/photos/" in url for url in bodies)
    assert any("after=" in url and "open311" in url for url in bodies)
    stranger = browser(app)
    for who in ("open", "withheld", "refused"):
        assert codes[who] not in bodies["/results"]
        assert stranger.get(f"/results/{codes[who]}").status_code == 404
    # Searching for anyone's personal data finds nothing.
    for who, p in P.items():
        for word in (p["name"], p["phone"], p["email"], p["cccd"]):
            assert "result-card" not in bodies[f"/results?q={quote(word)}"], (who, word)
    print(f"\npublic URLs checked: {len(bodies)}")
    assert len(bodies) > 150


def web_form_refused(app, p: dict) -> Ticket:
    client = browser(app)
    resp = client.post("/submit", data={
        "submission_id": "d" * 32, "kind": "phan_anh", "field_code": "CS", "area_code": "25435",
        "address": p["address"], "description": report(p), "name": p["name"],
        "phone": p["phone"], "email": p["email"]})
    assert resp.status_code == 302
    return by_code(resp.headers["Location"].split("/status/", 1)[1].split("/", 1)[0])
