"""In a real browser: a citizen on a phone taps the map and sees the ward; "use my location"
fills in the ward; the public map, the hot-spot map and a ticket's map render (screenshots)."""
from __future__ import annotations

from datetime import timedelta

from hotline.domain.messages import ContactHandle, IncomingMessage
from hotline.extensions import db
from hotline.models import Ticket, utcnow
from hotline.services import intake
from tests.browser.conftest import screenshot
from tests.staff_fixtures import PASSWORD, _user


def _published(n: int, lat: float, lon: float) -> Ticket:
    result = intake.receive(IncomingMessage(
        channel="web", external_id=f"b{n}", received_at=utcnow() - timedelta(days=3),
        text="Rác thải tồn đọng ven đường nhiều ngày.", field_code="MT", area_code="25195",
        lat=lat, lon=lon, contact=ContactHandle(phone=f"09123451{n:02d}"), force_new=True,
        consent_publish=True))
    ticket = db.session.get(Ticket, result.ticket_id)
    ticket.published_at = utcnow() - timedelta(days=1)
    ticket.public_summary, ticket.public_result = "Rác thải ven đường.", "Đã thu gom."
    db.session.commit()
    return ticket


def test_phone_tap_on_the_map_shows_the_ward(tree, phone_page):
    p = phone_page
    names = {a.name for a in tree.areas.values() if a.level == "commune" and a.valid_to is None}
    centre = tree.areas["25195"]
    home = (centre.lat + 0.002, centre.lon)
    db.session.commit()  # release SQLite for the live server
    p.goto(p.base_url + "/submit")
    pick = p.locator("#pick-map")
    pick.wait_for()
    wards = p.locator("#pick-map path.leaflet-interactive")
    wards.nth(40).wait_for()
    wards.nth(40).tap()
    ward = p.locator("#map-ward")
    ward.get_by_text("Xã, phường:").wait_for()
    shown = ward.inner_text().removeprefix("Xã, phường: ").split(" (")[0]
    assert shown in names
    assert p.locator("#lat").input_value() and p.locator("#lon").input_value()
    screenshot(p, "map-submit-phone")

    # "Use my location": the phone's position is in Phường Bình Phước (its official centroid).
    p.context.grant_permissions(["geolocation"])
    p.context.set_geolocation({"latitude": home[0], "longitude": home[1]})
    p.get_by_role("button", name="Dùng vị trí hiện tại của tôi").tap()
    ward.get_by_text("Phường Bình Phước").wait_for()
    assert p.locator("#map-ward").get_attribute("data-ward-code") == "25195"

    # Outside the province (typed coordinates in Hà Nội) the page says so, naming no ward.
    p.locator("#lat").fill("21.03")
    p.locator("#lon").fill("105.85")
    p.locator("#lon").dispatch_event("change")
    ward.get_by_text("ngoài địa bàn tỉnh").wait_for()
    assert p.locator("#map-ward").get_attribute("data-ward-code") is None


def test_public_and_staff_maps_render(tree, page, phone_page):
    centre = tree.areas["25195"]
    tickets = [_published(n, centre.lat + n * 0.002, centre.lon + n * 0.001) for n in range(6)]
    first_code = tickets[0].code
    db.session.commit()
    phone_page.goto(phone_page.base_url + "/map")
    phone_page.locator("#map-status").get_by_text("6 phản ánh").wait_for()
    screenshot(phone_page, "map-public-phone")

    manager = _user("manager", "lanhdao")
    db.session.commit()
    username = manager.username
    db.session.commit()
    page.goto(page.base_url + "/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto(page.base_url + "/staff/map")
    page.locator("#hotspot-table tbody tr").first.wait_for()
    assert "Phường Bình Phước" in page.locator("#hotspot-table").inner_text()
    screenshot(page, "map-hotspots")
    page.goto(page.base_url + f"/operator/tickets/{first_code}")
    page.locator("[data-map-ticket] path.leaflet-interactive").first.wait_for()
    screenshot(page, "map-ticket")
