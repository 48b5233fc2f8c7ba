"""A free-text address, old (63-province, three levels) or new (34 provinces, two levels), to
today's ward — a proposal for an operator or a handler to confirm, with how it was found.

The package's own parsers read the address (accents and unit types optional); nothing is
sent anywhere (its ``convert_address`` may ask an online geocoder for split communes, so we
map former communes through the official old → new table instead). A three-level reading
(ward *and* district found) wins over a two-level one, because today's wards often carry the
names of former districts ("Phường Chơn Thành", "Phường Đồng Xoài").
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import select

from hotline.domain import text
from hotline.extensions import db
from hotline.models import Area
from hotline.services import area_trees
from hotline.services import official_units as official

MAX_ADDRESS = 400


@dataclass(frozen=True)
class AddressMatch:
    """Today's ward proposed for an address; ``former`` names the old unit it came through."""

    area_id: int
    code: str
    name: str
    method: str                  # "new_address" or "old_address"
    former: str | None = None    # "Phường Minh Hưng, Thị xã Chơn Thành, Tỉnh Bình Phước"

    @property
    def explanation(self) -> str:
        if self.former:
            return f"Theo địa chỉ cũ «{self.former}» → nay thuộc {self.name}."
        return f"Theo địa chỉ mới → {self.name}."


def ward_for_address(address: str | None) -> AddressMatch | None:
    """Today's ward of one of our provinces for ``address``, or None when it cannot tell."""
    cleaned = text.nfc(address or "").strip()[:MAX_ADDRESS]
    if len(text.fold(cleaned)) < 4:
        return None
    match = _read(cleaned)
    if match is None:
        # No province written ("xã Phú Lập, huyện Tân Phú"): read it as one of ours, since
        # a district name alone may exist in several provinces.
        for province in _our_provinces():
            match = _read(f"{cleaned}, {province}")
            if match is not None:
                break
    return match


def _our_provinces() -> list[str]:
    return list(db.session.scalars(select(Area.name).where(Area.level == "province")
                                   .order_by(Area.valid_to.is_(None).desc(), Area.code)))


def _read(cleaned: str) -> AddressMatch | None:
    from vietnamadminunits import ParseMode, parse_address  # 4 MB of patterns: load on use
    old = parse_address(cleaned, mode=ParseMode.LEGACY, keep_street=False, level=3)
    if old.ward_code and old.district_code:
        match = _through_former(old)
        if match:
            return match
    new = parse_address(cleaned, mode=ParseMode.FROM_2025, keep_street=False, level=2)
    if new.ward_code:
        area = _current(new.ward_code)
        if area is not None:
            return AddressMatch(area.id, area.code, area.name, "new_address")
    if old.ward_code:
        return _through_former(old)
    return None


def _through_former(old) -> AddressMatch | None:
    former_code = official.LEGACY_PREFIX + old.ward_code
    former = db.session.scalar(select(Area).where(Area.code == former_code))
    area = area_trees.current_of(former) if former is not None else None
    if area is None or area.valid_to is not None:
        successor = successor_codes().get(former_code)
        area = _current(successor) if successor else None
    if area is None:
        return None
    named = ", ".join(x for x in (old.ward, old.district, old.province) if x)
    return AddressMatch(area.id, area.code, area.name, "old_address", former=named)


def _current(code: str) -> Area | None:
    return db.session.scalar(select(Area).where(Area.code == code, Area.valid_to.is_(None),
                                                Area.level == "commune"))


@cache
def successor_codes() -> dict[str, str]:
    """Former commune code → today's ward code, across the whole country (official table)."""
    out: dict[str, str] = {}
    for code, _name in official.provinces():
        found = official.find_province(code)
        if found:
            out.update({old: s.code for old, s in official.successors(found[2]).items()})
    return out


def warm_up() -> None:
    """Load the parsers now (a web process does it at start, not on a citizen's request)."""
    from vietnamadminunits import parse_address  # noqa: F401
