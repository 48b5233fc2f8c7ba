"""Property-based fuzzing of every public and webhook endpoint (Hypothesis; Open311 through
schemathesis and its OpenAPI document): whatever arrives — NUL bytes, lone surrogates,
huge integers, odd Unicode, malformed JSON, signed payloads of any shape — the answer is
never a 5xx, and a refusal (4xx) writes no row.

Bounded for CI: ``EXAMPLES`` per endpoint and backend, derandomised, so the whole file
takes about a minute or two on both backends.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import func, select

from channels.facebook import SIGNATURE_HEADER as FACEBOOK_SIGNATURE
from channels.telegram import SECRET_HEADER as TELEGRAM_SECRET
from channels.zalo import SIGNATURE_HEADER as ZALO_SIGNATURE
from hotline.extensions import db
from hotline.models import Attachment, Contact, InboundMessage, OutboxMessage, Ticket, TicketEvent
from hotline.services import accounts
from tests.channels.conftest import CHANNEL_SETTINGS, SIGNATURES, fixture_bytes

EXAMPLES = 25
PBX_SECRET = "pbx-secret-for-fuzzing-0123456789"
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))

# Text as an attacker sends it: anything, plus the values that broke things before.
NASTY = st.sampled_from(["\x00", "\ud800", "a\udfffb", "1e20", "9" * 30, "-1", "٣", "²",
                         "PA-26-AAAAAA", "\u202egnp.exe", "NaN", "%00", "../../etc/passwd",
                         "<script>", "' OR 1=1 --", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", ""])
# Drawn about half the time (one_of picks a branch evenly), alone or inside other text.
TEXT = st.one_of(NASTY, st.builds("{}{}{}".format, st.text(max_size=8), NASTY,
                                  st.text(max_size=8)),
                 st.text(max_size=40),
                 st.text(st.characters(codec="utf-16", exclude_categories=()), max_size=20))
NUMBERS = st.one_of(st.integers(min_value=-(10**30), max_value=10**30),
                    st.floats(allow_nan=False, allow_infinity=False), st.just(10**400),
                    st.sampled_from([0, -1, 2**63, 2**63 - 1, 1e20]))
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(TEXT, inner, max_size=3)), max_leaves=8)


@pytest.fixture
def app_config():
    return {**CHANNEL_SETTINGS, "PBX_SHARED_SECRET": PBX_SECRET,
            "MEDIA_FETCH_TIMEOUT": 0.2, "MEDIA_FETCH_DEADLINE": 0.5}


def rows() -> tuple[int, ...]:
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Ticket, TicketEvent, Contact, InboundMessage, OutboxMessage,
                           Attachment))


def check(response, before: tuple[int, ...], what: str) -> None:
    """No 5xx; a refusal leaves every table as it was; what was acknowledged was processed
    (a staged message that intake cannot turn into a ticket would be retried forever)."""
    assert response.status_code < 500, (what, response.status_code,
                                        response.get_data(as_text=True)[:300])
    if response.status_code >= 400:
        assert rows() == before, (what, response.status_code, "a refusal wrote rows")
    poisoned = db.session.scalars(select(InboundMessage.error).where(
        InboundMessage.error.is_not(None))).all()
    assert not poisoned, (what, "an acknowledged message cannot be processed", poisoned)


def wire(value) -> str:
    """``value`` percent-encoded as a client would send it (a lone surrogate as its
    CESU bytes, which no UTF-8 decoder accepts)."""
    return quote(str(value).encode("utf-8", "surrogatepass"), safe="")


def form_body(fields: dict) -> bytes:
    return "&".join(f"{wire(k)}={wire(v)}" for k, v in fields.items()).encode()


# --- public pages -------------------------------------------------------------------------------

PUBLIC_GETS = ["/", "/submit", "/submit/nearby", "/status", "/results", "/results/{a}",
               "/results/{a}/photos/{n}", "/status/{a}/{b}", "/open311/v2/services/{a}.json",
               "/open311/v2/requests/{a}.xml", "/healthz", "/privacy/", "/login"]


def test_public_get_endpoints(client, org):
    @FUZZ
    @given(path=st.sampled_from(PUBLIC_GETS), a=TEXT, b=TEXT, n=NUMBERS,
           args=st.dictionaries(st.sampled_from(["field", "lat", "lon", "area", "q", "after",
                                                 "page", "code", "status", "service_code",
                                                 "start_date"]), st.one_of(TEXT, NUMBERS),
                                max_size=4))
    # The 500s found by hand before the edges were cleaned, always tried first.
    @example(path="/open311/v2/services/{a}.json", a="\x00", b="x", n=1, args={})
    @example(path="/results/{a}/photos/{n}", a="PA-26-AAAAAA", b="x",
             n=99999999999999999999999, args={})
    @example(path="/submit/nearby", a="x", b="x", n=1, args={"field": "\x00", "lat": 11.5,
                                                             "lon": 106.8})
    def run(path, a, b, n, args):
        url = path.format(a=wire(a) or "x", b=wire(b) or "x", n=wire(n))
        query = "&".join(f"{k}={wire(v)}" for k, v in args.items())
        before = rows()
        check(client.get(f"{url}?{query}" if query else url), before, url)

    run()


def test_public_form_posts(client, org):
    fields = st.fixed_dictionaries({
        "submission_id": st.one_of(st.just("a" * 32), TEXT),
        "kind": st.one_of(st.just("phan_anh"), TEXT), "field_code": st.one_of(st.just("CS"), TEXT),
        "area_code": st.one_of(st.just("25435"), TEXT), "description": TEXT, "address": TEXT,
        "name": TEXT, "phone": st.one_of(st.just("0912345678"), TEXT), "email": TEXT,
        "lat": st.one_of(TEXT, NUMBERS), "lon": st.one_of(TEXT, NUMBERS),
        "consent_publish": st.sampled_from(["y", "", "\x00"])})

    @FUZZ
    @given(target=st.sampled_from(["/submit", "/status", "/status/PA-26-AAAAAA/x/rate"]),
           data=fields, extra=st.dictionaries(TEXT, TEXT, max_size=2))
    def run(target, data, extra):
        before = rows()
        resp = client.post(target, data=form_body({**data, **extra, "code": data["name"],
                                                    "phone_last4": data["phone"],
                                                    "rating": data["kind"]}),
                           content_type="application/x-www-form-urlencoded")
        check(resp, before, target)

    run()


# --- webhooks -----------------------------------------------------------------------------------

def _mutated(fixture: str, draw_value, paths) -> dict:
    data = json.loads(fixture_bytes(fixture))
    for path, value in zip(paths, draw_value, strict=False):
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return data


TELEGRAM_PATHS = [("update_id",), ("message", "date"), ("message", "text"),
                  ("message", "chat", "id"), ("message", "from", "first_name")]


def test_telegram_webhook(client, org):
    @FUZZ
    @given(values=st.lists(JSON_VALUES, min_size=0, max_size=len(TELEGRAM_PATHS)),
           raw=st.one_of(st.none(), JSON_VALUES))
    @example(values=[914200901, 1e20], raw=None)
    @example(values=[914200902, 1763794800, "đèn \ud800 hỏng \x00"], raw=None)
    def run(values, raw):
        body = _mutated("telegram_text.json", values, TELEGRAM_PATHS) if raw is None else raw
        before = rows()
        resp = client.post("/channels/telegram/webhook", data=json.dumps(body).encode(),
                           headers={"Content-Type": "application/json",
                                    TELEGRAM_SECRET: SIGNATURES["telegram_secret_token"]})
        check(resp, before, "telegram")

    run()


FACEBOOK_PATHS = [("entry", 0, "messaging", 0, "timestamp"),
                  ("entry", 0, "messaging", 0, "message", "text"),
                  ("entry", 0, "messaging", 0, "message", "mid"),
                  ("entry", 0, "messaging", 0, "sender", "id"), ("entry", 0, "time")]


def test_facebook_webhook(client, org):
    @FUZZ
    @given(values=st.lists(JSON_VALUES, max_size=len(FACEBOOK_PATHS)),
           raw=st.one_of(st.none(), JSON_VALUES))
    @example(values=[10**20], raw=None)
    def run(values, raw):
        body = _mutated("facebook_message.json", values, FACEBOOK_PATHS) if raw is None else raw
        data = json.dumps(body).encode()
        sig = "sha256=" + hmac.new(SIGNATURES["facebook_app_secret"].encode(), data,
                                   hashlib.sha256).hexdigest()
        before = rows()
        resp = client.post("/channels/facebook/webhook", data=data, headers={
            "Content-Type": "application/json", FACEBOOK_SIGNATURE: sig})
        check(resp, before, "facebook")

    run()


ZALO_PATHS = [("message", "text"), ("sender", "id"), ("message", "msg_id"), ("timestamp",)]


def test_zalo_webhook(client, org):
    @FUZZ
    @given(values=st.lists(JSON_VALUES, max_size=len(ZALO_PATHS)),
           raw=st.one_of(st.none(), JSON_VALUES))
    def run(values, raw):
        body = _mutated("zalo_user_send_text.json", values, ZALO_PATHS) if raw is None else raw
        data = json.dumps(body).encode()
        stamp = str(body.get("timestamp") or "") if isinstance(body, dict) else ""
        digest = hashlib.sha256(SIGNATURES["zalo_app_id"].encode() + data + stamp.encode()
                                + SIGNATURES["zalo_oa_secret_key"].encode()).hexdigest()
        before = rows()
        resp = client.post("/channels/zalo/webhook", data=data, headers={
            "Content-Type": "application/json", ZALO_SIGNATURE: f"mac={digest}"})
        check(resp, before, "zalo")

    run()


def test_pbx_call_event(client, org):
    @FUZZ
    @given(body=JSON_VALUES, as_form=st.booleans())
    def run(body, as_form):
        before = rows()
        headers = {"X-PBX-Secret": PBX_SECRET}
        if as_form and isinstance(body, dict):
            resp = client.post("/channels/phone/call-event", headers=headers,
                               data=form_body(body),
                               content_type="application/x-www-form-urlencoded")
        else:
            resp = client.post("/channels/phone/call-event", headers=headers,
                               data=json.dumps(body).encode(), content_type="application/json")
        check(resp, before, "pbx")

    run()


# --- Open311 through its OpenAPI document ------------------------------------------------------

def test_open311_by_its_openapi_document(app, client, org):
    _row, key = accounts.create_api_key("Fuzz")
    db.session.commit()
    document = json.loads(client.get("/open311/v2/openapi.json").data)
    document["servers"] = [{"url": "/open311/v2"}]
    schema = schemathesis.openapi.from_dict(document)
    schema.app = app
    started = time.monotonic()
    seen = {"2xx": 0, "4xx": 0}

    def exercise(operation):
        @FUZZ
        @given(case=operation.as_strategy())
        def run(case):
            if isinstance(case.body, dict) and seen["4xx"] % 2 == 0:
                case.body["api_key"] = key  # reach past the 403 half the time
            before = rows()
            response = case.call()
            assert response.status_code < 500, (operation.label, response.text[:300])
            case.validate_response(response, excluded_checks=[positive_data_acceptance])
            if response.status_code >= 400:
                assert rows() == before, (operation.label, "a refusal wrote rows")
            seen["2xx" if response.status_code < 300 else "4xx"] += 1

        run()

    for result in schema.get_all_operations():
        exercise(result.ok())
    assert seen["2xx"] and seen["4xx"]
    assert time.monotonic() - started < 600
