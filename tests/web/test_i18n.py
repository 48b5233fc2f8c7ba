"""Vietnamese by default, English on ``?lang=en`` (remembered), and a complete, compiled catalog.

The English pages are checked two ways: a few strings a reader would expect, and the
absence of every longer Vietnamese msgid — a string that reaches the page without
passing through ``gettext`` (or was never extracted) shows up in Vietnamese there.
"""
from __future__ import annotations

import gettext as stdlib_gettext
import html
import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from sqlalchemy import select

from hotline import PACKAGE_DIR, PROJECT_DIR
from hotline.domain.lifecycle import KIND_LABELS_VI, LABELS_VI
from hotline.domain.messages import CHANNEL_LABELS_VI
from hotline.extensions import db
from hotline.models import ROLE_LABELS_VI, Ticket, TicketEvent
from hotline.services import handling
from hotline.services.admin import ops
from hotline.services.reports import indicators, overdue, periods, quality
from hotline.web import errors, filters, labels_i18n

TRANSLATIONS = Path(PACKAGE_DIR) / "translations"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo"
PASSWORD = "correct-horse-battery"
VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]",
                        re.IGNORECASE)
PLACEHOLDER = re.compile(r"%(?:\([a-z_]+\))?[sdr%]|\{\d*\}")


def _catalog():
    with PO.open("rb") as fh:
        return read_po(fh)


def _translated() -> dict[str, str]:
    return {m.id: m.string for m in _catalog() if m.id}


def _untranslated_on(page: str, data: tuple[str, ...] = ()) -> list[str]:
    """Vietnamese msgids of eight characters or more found in an English page's text.

    ``data``: stored text shown on the page (event notes, routing reasons), which stays
    in the language it was written in.
    """
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    text = re.sub(r"\s+", " ", text)
    for stored in data:
        text = text.replace(re.sub(r"\s+", " ", stored), " ")
    return sorted(msgid for msgid, string in _translated().items()
                  if len(msgid) >= 8 and VIETNAMESE.search(msgid) and msgid != string
                  and msgid in text)


def _login(client, username: str):
    resp = client.post("/login", data={"username": username, "password": PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]


# --- the language switch ------------------------------------------------------------------


@pytest.mark.parametrize("path, vietnamese", [
    ("/login", "Đăng nhập cán bộ"),
    ("/status", "Tra cứu phiếu phản ánh"),
    ("/submit", "Gửi phản ánh, kiến nghị"),
    ("/results", "Kết quả giải quyết đã công khai"),
])
def test_pages_speak_vietnamese_by_default(client, org, path, vietnamese):
    page = client.get(path).get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert vietnamese in page
    assert 'href="?lang=en"' in page


@pytest.mark.parametrize("path, english", [
    ("/login", ["Staff sign-in", "Username", "Password", "Sign in"]),
    ("/status", ["Check a ticket", "Ticket code", "Last 4 digits of the phone number you used"]),
    ("/submit", ["Send a report or proposal", "Report", "Proposal", "Question", "Phone number",
                 "Send anonymously (leave no contact details)"]),
    ("/results", ["Published results", "Search", "Handling agency"]),
])
def test_lang_en_switches_public_pages_to_english(client, org, path, english):
    resp = client.get(path, query_string={"lang": "en"})
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    # The very request that carries ?lang=en is already English, <html lang> included.
    assert '<html lang="en">' in page
    for text in english + ["Hotline 1022"]:
        assert text in page, text
    assert 'href="?lang=vi"' in page
    assert _untranslated_on(page) == []


def test_the_choice_is_remembered_until_switched_back(client, org):
    client.get("/status", query_string={"lang": "en"})
    again = client.get("/submit").get_data(as_text=True)
    assert '<html lang="en">' in again and "Send a report or proposal" in again
    back = client.get("/login", query_string={"lang": "vi"}).get_data(as_text=True)
    assert '<html lang="vi">' in back and "Đăng nhập cán bộ" in back
    assert "Đăng nhập cán bộ" in client.get("/login").get_data(as_text=True)


def test_an_unknown_language_keeps_the_current_one(client, org):
    client.get("/login", query_string={"lang": "en"})
    page = client.get("/login", query_string={"lang": "fr"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Staff sign-in" in page


def test_form_errors_and_flashes_are_english(client, org):
    client.get("/login", query_string={"lang": "en"})
    resp = client.post("/login", data={"username": "nobody", "password": "wrong-wrong-wrong"})
    assert resp.status_code == 401
    assert "Wrong username or password." in resp.get_data(as_text=True)
    page = client.post("/submit", data={"kind": "phan_anh", "description": "short"}).get_data(
        as_text=True)
    assert "Please write at least 10 characters." in page
    assert _untranslated_on(page) == []


def test_the_choice_survives_a_sign_in_redirect(client):
    resp = client.get("/operator/", query_string={"lang": "en"})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert '<html lang="en">' in page and "Staff sign-in" in page


def test_the_sign_in_prompt_is_english(client):
    resp = client.get("/account/password", query_string={"lang": "en"})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Please sign in to continue." in page


def test_error_pages_are_english(client):
    page = client.get("/no-such-page", query_string={"lang": "en"}).get_data(as_text=True)
    assert "The page or ticket you asked for was not found." in page
    assert '<html lang="en">' in page


# --- staff pages: labels from the domain go through the filters --------------------------


def test_operator_console_in_english(client, org, make_user):
    make_user("operator", username="dtv")
    _login(client, "dtv")
    page = client.get("/operator/", query_string={"lang": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    for text in ["New call", "Call operator", "Sign out", "Change password",
                 "Report", "Proposal", "Question", "Urgent", "Normal", "Complex"]:
        assert text in page, text
    assert _untranslated_on(page) == []
    # Remembered for the next signed-in page too.
    listing = client.get("/operator/tickets").get_data(as_text=True)
    assert '<html lang="en">' in listing and "Find a ticket" in listing


def test_agency_ticket_page_translates_statuses_kinds_channels_and_events(client, org, make_user,
                                                                          receive):
    result = receive()
    code = db.session.get(Ticket, result.ticket_id).code
    make_user("handler", username="cbxl", agency=org.agencies["UBND-689"])
    _login(client, "cbxl")
    inbox = client.get("/agency/", query_string={"lang": "en"}).get_data(as_text=True)
    assert code in inbox and "Inbox" in inbox and "Case handler" in inbox
    assert _untranslated_on(inbox) == []
    page = client.get(f"/agency/tickets/{code}").get_data(as_text=True)
    for text in ["Assigned to an agency", "Report", "Phone", "Timeline", "Accept the ticket",
                 "Automatic routing"]:
        assert text in page, text
    ticket = db.session.get(Ticket, result.ticket_id)
    notes = db.session.scalars(select(TicketEvent.note).where(TicketEvent.ticket_id == ticket.id))
    stored = (ticket.routing_reason or "",) + tuple(n for n in notes if n)
    assert _untranslated_on(page, stored) == []
    # The same page in Vietnamese still reads Vietnamese.
    vi = client.get(f"/agency/tickets/{code}", query_string={"lang": "vi"}).get_data(as_text=True)
    assert "Đã chuyển cơ quan xử lý" in vi and "Assigned to an agency" not in vi


def test_filters_outside_a_request_stay_vietnamese(app):
    """Jobs and commands render with an app context only: no request, no session."""
    with app.app_context():
        status = app.jinja_env.filters["status_label"]("in_progress")
        role = app.jinja_env.filters["role_label"]("operator")
    assert (status, role) == ("Đang xử lý", "Điện thoại viên")


# --- the catalog -----------------------------------------------------------------------------


def test_every_msgid_has_an_english_translation_and_no_entry_is_fuzzy():
    catalog = _catalog()
    entries = [m for m in catalog if m.id]
    assert len(entries) > 500
    assert not catalog.fuzzy
    assert [m.id for m in entries if not m.string or not str(m.string).strip()] == []
    assert [m.id for m in entries if m.fuzzy] == []
    assert [m.id for m in entries if m.pluralizable] == []  # none yet: plural forms untested
    mismatched = [(m.id, m.string) for m in entries
                  if sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))]
    assert mismatched == []
    assert [m.id for m in catalog.obsolete.values()] == []


def test_compiled_catalog_matches_the_po():
    """Compare what gettext reads from the committed .mo with the .po, entry by entry
    (not bytes: a different Babel version may lay out the same catalog differently)."""
    with MO.open("rb") as fh:
        compiled = stdlib_gettext.GNUTranslations(fh)
    mo_entries = {k: v for k, v in compiled._catalog.items() if k}
    assert mo_entries == _translated(), "run `make translations` to recompile messages.mo"


def test_every_string_in_the_code_is_in_the_catalog(tmp_path):
    """Extract the way `make translations` does; a new _() string fails here until translated."""
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F",
                                str(Path(PROJECT_DIR) / "babel.cfg"), "-k", "_l",
                                "-k", "lazy_gettext", "-o", str(pot), PROJECT_DIR])
    with pot.open("rb") as fh:
        extracted = {m.id for m in read_po(fh) if m.id}
    missing = sorted(extracted - set(_translated()))
    assert missing == [], ("new UI strings: run `make translations` and translate them in "
                           f"{PO.relative_to(PROJECT_DIR)}")


@pytest.mark.parametrize("table", [
    pytest.param(LABELS_VI, id="status"), pytest.param(KIND_LABELS_VI, id="kind"),
    pytest.param(CHANNEL_LABELS_VI, id="channel"), pytest.param(ROLE_LABELS_VI, id="role"),
    pytest.param(filters.SLA_LABELS_VI, id="sla"),
    pytest.param(filters.PRIORITY_LABELS_VI, id="priority"),
    pytest.param(errors.MESSAGES, id="errors"), pytest.param(indicators.TREND_LABELS, id="trend"),
    pytest.param(indicators.MET_LABELS, id="met"), pytest.param(periods.KIND_LABELS_VI, id="period"),
    pytest.param(overdue.KINDS, id="overdue"), pytest.param(quality.VERDICTS, id="verdict"),
    pytest.param(handling.REJECT_REASONS, id="reject"),
    pytest.param(ops.PERIODIC_JOB_LABELS_VI, id="periodic-jobs"),
])
def test_labels_kept_outside_flask_are_marked_and_translated(table):
    marked = {label for name, value in vars(labels_i18n).items()
              if isinstance(value, tuple) for label in value}
    translated = _translated()
    for label in table.values():
        assert label in marked, f"add {label!r} to hotline/web/labels_i18n.py"
        assert translated.get(label), label


def test_grouping_labels_are_marked(org):
    translated = _translated()
    assert [g.label for g in overdue.groupings() if g.label not in translated] == []


# --- WTForms' own messages (its validators' defaults) ----------------------------------------

WTFORMS_PO = TRANSLATIONS / "vi" / "LC_MESSAGES" / "wtforms.po"


def test_wtforms_defaults_are_vietnamese_by_default_and_english_on_request(client, org):
    # LoginForm's DataRequired() has no message of its own: WTForms' default is shown.
    page = client.post("/login", data={"username": "", "password": ""}).get_data(as_text=True)
    assert "Vui lòng nhập mục này." in page and "This field is required." not in page
    client.get("/login", query_string={"lang": "en"})
    page = client.post("/login", data={"username": "", "password": ""}).get_data(as_text=True)
    assert "This field is required." in page and "Vui lòng nhập mục này." not in page


def test_the_wtforms_catalog_covers_every_wtforms_message_and_is_compiled():
    from wtforms.i18n import messages_path
    with (Path(messages_path()) / "wtforms.pot").open("rb") as fh:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    with WTFORMS_PO.open("rb") as fh:
        ours = read_po(fh)
    have = {(m.id if isinstance(m.id, str) else m.id[0]): m.string for m in ours if m.id}
    assert wanted - set(have) == set()
    assert [k for k, v in have.items() if not (v if isinstance(v, str) else v[0])] == []
    with WTFORMS_PO.with_suffix(".mo").open("rb") as fh:
        compiled = stdlib_gettext.GNUTranslations(fh)
    for msgid, string in have.items():
        expected = string if isinstance(string, str) else string[0]
        assert compiled.gettext(msgid) == expected or compiled.ngettext(msgid, msgid, 1) == expected
