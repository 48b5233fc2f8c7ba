"""Factory fixtures: a small fixed province to route and time tickets against."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest

from hotline.domain.messages import ContactHandle, IncomingMessage
from hotline.extensions import db
from hotline.models import Agency, Area, Field, RoutingRule, SlaPolicy
from hotline.services import accounts, intake


@dataclass
class Org:
    areas: dict[str, Area] = field(default_factory=dict)
    agencies: dict[str, Agency] = field(default_factory=dict)
    fields: dict[str, Field] = field(default_factory=dict)
    rules: dict[str, RoutingRule] = field(default_factory=dict)


def _area(org: Org, code: str, name: str, level: str, parent: Area | None) -> Area:
    from hotline.domain.text import fold
    area = Area(code=code, name=name, name_folded=fold(name), level=level,
                parent_id=parent.id if parent else None, path="")
    db.session.add(area)
    db.session.flush()
    area.path = (parent.path if parent else "/") + f"{area.id}/"
    org.areas[code] = area
    return area


def build_org() -> Org:
    """Province 70 → district 689 (Đồng Xoài) → communes 25432 (Tân Phú), 25435 (Tân Bình);
    district 691 (Phú Riềng) → commune 25600 (Phú Riềng)."""
    org = Org()
    prov = _area(org, "70", "Tỉnh Bình Phước", "province", None)
    dx = _area(org, "689", "Thành phố Đồng Xoài", "district", prov)
    _area(org, "25432", "Phường Tân Phú", "commune", dx)
    _area(org, "25435", "Phường Tân Bình", "commune", dx)
    pr = _area(org, "691", "Huyện Phú Riềng", "district", prov)
    _area(org, "25600", "Xã Phú Riềng", "commune", pr)
    for code, name, level, area, governs in [
        ("SO-XD", "Sở Xây dựng", "province", "70", False),
        ("SO-GTVT", "Sở Giao thông vận tải", "province", "70", False),
        ("VP-UBND", "Văn phòng UBND tỉnh", "province", "70", False),
        ("UBND-689", "UBND Thành phố Đồng Xoài", "district", "689", True),
        ("UBND-25432", "UBND Phường Tân Phú", "commune", "25432", True),
        ("UBND-25435", "UBND Phường Tân Bình", "commune", "25435", True),
        ("DIENLUC", "Điện lực Bình Phước", "other", "70", False),
    ]:
        agency = Agency(code=code, name=name, level=level, area_id=org.areas[area].id,
                        governs_area=governs, email=f"{code.lower()}@example.gov.vn")
        db.session.add(agency)
        org.agencies[code] = agency
    for code, name in [("GT", "Giao thông"), ("TTDT", "Trật tự đô thị"), ("CS", "Chiếu sáng đô thị"),
                       ("TTHC", "Thủ tục hành chính"), ("XD", "Xây dựng")]:
        f = Field(code=code, name=name)
        db.session.add(f)
        org.fields[code] = f
    db.session.flush()
    a, f = org.agencies, org.fields
    for name, kw in [
        ("gt", dict(field_id=f["GT"].id, agency_id=a["SO-GTVT"].id)),
        ("xd", dict(field_id=f["XD"].id, agency_id=a["SO-XD"].id)),
        ("tthc", dict(field_id=f["TTHC"].id, agency_id=a["VP-UBND"].id)),
        ("ttdt_commune", dict(field_id=f["TTDT"].id, area_level="commune")),
        ("cs_dx", dict(field_id=f["CS"].id, area_id=org.areas["689"].id, agency_id=a["UBND-689"].id)),
        ("cs", dict(field_id=f["CS"].id, agency_id=a["DIENLUC"].id)),
    ]:
        rule = RoutingRule(**kw)
        db.session.add(rule)
        org.rules[name] = rule
    db.session.add_all([
        SlaPolicy(name="Khẩn", priority="urgent", resolution_minutes=240, first_response_minutes=60),
        SlaPolicy(name="Thường", priority="normal", resolution_minutes=5 * 480,
                  first_response_minutes=480, due_soon_max_minutes=480),
        SlaPolicy(name="Phức tạp", priority="complex", resolution_minutes=10 * 480,
                  first_response_minutes=960, due_soon_max_minutes=480),
        SlaPolicy(name="Hỏi đáp", kind="hoi_dap", priority="normal", resolution_minutes=3 * 480,
                  first_response_minutes=480, due_soon_max_minutes=480),
    ])
    db.session.flush()
    return org


@pytest.fixture
def org(app) -> Org:
    result = build_org()
    db.session.commit()
    return result


# Monday 23 Nov 2026, 09:00 in Hà Nội.
MONDAY_9AM = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def message(**kw) -> IncomingMessage:
    """An inbound message with sensible defaults; override any field."""
    contact = kw.pop("contact", None) or ContactHandle(name="Nguyễn Thị Lan", phone="0912345678")
    defaults = dict(channel="phone", external_id="call-1", received_at=MONDAY_9AM,
                    text="Đèn đường trên đường Phú Riềng Đỏ bị hỏng 3 bóng.",
                    field_code="CS", area_code="25435", contact=contact)
    defaults.update(kw)
    return IncomingMessage(**defaults)


@pytest.fixture
def receive(org):
    """``receive(**overrides)``: run intake on ``message(**overrides)`` and commit."""
    def _receive(**kw):
        result = intake.receive(message(**kw))
        db.session.commit()
        return result
    return _receive


@pytest.fixture
def make_user(app):
    def _make(role: str, username: str | None = None, agency: Agency | None = None,
              password: str = "correct-horse-battery"):
        user = accounts.create_user(username=username or f"{role}-{agency.code if agency else 'x'}",
                                    password=password, role=role, full_name=f"Test {role}",
                                    agency_code=agency.code if agency else None)
        db.session.commit()
        return user
    return _make
