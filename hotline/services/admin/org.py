"""Agencies and fields (lĩnh vực): create, edit, deactivate, import agencies from CSV.

Nothing is deleted: tickets and rules point at these rows for years; an
agency or field that stops existing is deactivated.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlalchemy import select

from hotline.domain import text
from hotline.domain.errors import NotFound, ValidationError
from hotline.extensions import db
from hotline.models import Agency, Area, Field
from hotline.services.admin import csvfile
from hotline.services.admin.audit import Actor, changes, record, snapshot

AGENCY_FIELDS = ("code", "name", "level", "parent_id", "area_id", "governs_area", "email", "zalo",
                 "requires_result_approval", "active")
FIELD_FIELDS = ("code", "name", "description", "parent_id", "keywords", "extra_questions",
                "active")
AGENCY_LEVELS = ("province", "district", "commune", "other")
AGENCY_LEVEL_ALIASES = {"tinh": "province", "huyen": "district", "xa": "commune",
                        "khac": "other", "doanh_nghiep": "other"}
_CODE = re.compile(r"^[0-9A-Za-z._-]{1,32}$")


@dataclass(frozen=True)
class AgencyData:
    """What the agency form (or a CSV line) gives."""

    code: str
    name: str
    level: str
    parent_id: int | None = None
    area_id: int | None = None
    governs_area: bool = False
    email: str | None = None
    zalo: str | None = None
    requires_result_approval: bool = False
    active: bool = True


def _code(value: str, what: str) -> str:
    value = (value or "").strip()
    if not _CODE.match(value):
        raise ValidationError(f"Mã {what} không hợp lệ: «{value}» (chữ, số, . _ -; tối đa 32 ký tự).",
                              code="invalid_code")
    return value


def _agency_level(value: str) -> str:
    key = text.fold(value).replace(" ", "_")
    level = AGENCY_LEVEL_ALIASES.get(key, key)
    if level not in AGENCY_LEVELS:
        raise ValidationError(f"Cấp cơ quan không hợp lệ: {value} (province/district/commune/other).",
                              code="invalid_level")
    return level


def get_agency(agency_id: int) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise NotFound("Không tìm thấy cơ quan.")
    return agency


def list_agencies(*, include_inactive: bool = True) -> list[Agency]:
    query = select(Agency).order_by(Agency.level, Agency.name)
    if not include_inactive:
        query = query.where(Agency.active.is_(True))
    return list(db.session.scalars(query))


def _apply_agency(agency: Agency, data: AgencyData) -> None:
    agency.code = _code(data.code, "cơ quan")
    agency.name = text.clean_text(data.name, max_length=200, field="tên cơ quan", required=True,
                                  multiline=False)
    agency.level = _agency_level(data.level)
    if data.parent_id is not None:
        parent = get_agency(data.parent_id)
        seen, node = set(), parent
        while node is not None:  # a unit may not end up under itself
            if agency.id is not None and node.id == agency.id:
                raise ValidationError("Cơ quan cấp trên không thể là chính nó hoặc cấp dưới của nó.",
                                      code="cycle")
            if node.id in seen:
                break
            seen.add(node.id)
            node = node.parent
    agency.parent_id = data.parent_id
    if data.area_id is not None and db.session.get(Area, data.area_id) is None:
        raise ValidationError("Địa bàn không tồn tại.", code="unknown_area")
    agency.area_id = data.area_id
    if data.governs_area and data.area_id is None:
        raise ValidationError("Cơ quan quản lý địa bàn phải chọn địa bàn.", code="area_required")
    agency.governs_area = bool(data.governs_area)
    agency.email = text.normalize_email(data.email)
    agency.zalo = text.clean_text(data.zalo, max_length=64, field="Zalo", multiline=False)
    agency.requires_result_approval = bool(data.requires_result_approval)
    agency.active = bool(data.active)


def create_agency(actor: Actor, data: AgencyData) -> Agency:
    if db.session.scalar(select(Agency.id).where(Agency.code == (data.code or "").strip())):
        raise ValidationError(f"Mã cơ quan đã tồn tại: {data.code}", code="duplicate")
    agency = Agency()
    _apply_agency(agency, data)
    db.session.add(agency)
    db.session.flush()
    record(actor, "create", "agency", agency.id, after=snapshot(agency, AGENCY_FIELDS))
    return agency


def update_agency(actor: Actor, agency_id: int, data: AgencyData) -> Agency:
    agency = get_agency(agency_id)
    if data.code.strip() != agency.code and db.session.scalar(
            select(Agency.id).where(Agency.code == data.code.strip())):
        raise ValidationError(f"Mã cơ quan đã tồn tại: {data.code}", code="duplicate")
    before = snapshot(agency, AGENCY_FIELDS)
    _apply_agency(agency, data)
    db.session.flush()
    b, a = changes(before, snapshot(agency, AGENCY_FIELDS))
    if a:
        record(actor, "update", "agency", agency.id, before=b, after=a)
    return agency


AGENCY_CSV_ALIASES = {"ma": "code", "ten": "name", "cap": "level", "ma_cap_tren": "parent_code",
                      "ma_dia_ban": "area_code", "quan_ly_dia_ban": "governs_area",
                      "duyet_ket_qua": "requires_result_approval", "thu_dien_tu": "email"}


def import_agencies_csv(actor: Actor, data: bytes) -> int:
    """Create or update agencies from ``code,name,level[,parent_code,area_code,governs_area,
    email,zalo,requires_result_approval]`` rows; all or nothing. Returns rows applied."""
    problems = csvfile.Problems()
    parsed: dict[str, tuple[int, dict]] = {}
    for row in csvfile.read(data, required=("code", "name", "level"), aliases=AGENCY_CSV_ALIASES,
                            what="cơ quan"):
        code = row.get("code")
        if not _CODE.match(code):
            problems.add(row.line, f"mã «{code}» không hợp lệ")
            continue
        if code in parsed:
            problems.add(row.line, f"mã {code} trùng với dòng {parsed[code][0]}")
            continue
        item = {"name": row.get("name"), "parent_code": row.get("parent_code") or None,
                "area_code": row.get("area_code") or None, "zalo": row.get("zalo") or None}
        if not item["name"]:
            problems.add(row.line, "thiếu tên")
        try:
            item["level"] = _agency_level(row.get("level"))
        except ValidationError:
            problems.add(row.line, f"cấp «{row.get('level')}» không hợp lệ")
        try:
            item["email"] = text.normalize_email(row.get("email"))
        except ValidationError:
            problems.add(row.line, f"e-mail «{row.get('email')}» không hợp lệ")
        for key in ("governs_area", "requires_result_approval"):
            try:
                item[key] = bool(csvfile.parse_bool(row.get(key)))
            except ValueError:
                problems.add(row.line, f"cột {key}: «{row.get(key)}» không phải có/không")
        parsed[code] = (row.line, item)
    if not parsed and not problems.items:
        raise ValidationError("Tệp cơ quan không có dòng dữ liệu nào.", code="csv_empty")
    agencies = {a.code: a for a in db.session.scalars(select(Agency))}
    area_codes = {i["area_code"] for _l, i in parsed.values() if i["area_code"]}
    areas = {a.code: a.id for a in db.session.scalars(select(Area).where(Area.code.in_(area_codes)))} \
        if area_codes else {}
    for code, (line, item) in parsed.items():
        parent = item["parent_code"]
        if parent and parent not in parsed and parent not in agencies:
            problems.add(line, f"mã cơ quan cấp trên {parent} không tồn tại")
        if parent == code:
            problems.add(line, "cơ quan không thể là cấp trên của chính nó")
        if item["area_code"] and item["area_code"] not in areas:
            problems.add(line, f"mã địa bàn {item['area_code']} không tồn tại (hãy nhập địa bàn trước)")
        if item.get("governs_area") and not item["area_code"]:
            problems.add(line, "cơ quan quản lý địa bàn cần mã địa bàn")
    problems.raise_if_any("cơ quan")
    # Two passes: rows first, then parents (a parent may come later in the file).
    for code, (_line, item) in parsed.items():
        agency = agencies.get(code)
        before = snapshot(agency, AGENCY_FIELDS) if agency else None
        if agency is None:
            agency = Agency(code=code)
            db.session.add(agency)
            agencies[code] = agency
        agency.name = text.clean_text(item["name"], max_length=200, field="tên cơ quan",
                                      required=True, multiline=False)
        agency.level = item["level"]
        agency.area_id = areas.get(item["area_code"]) if item["area_code"] else None
        agency.governs_area = item["governs_area"]
        agency.email = item["email"]
        agency.zalo = item["zalo"]
        agency.requires_result_approval = item["requires_result_approval"]
        agency.active = True
        item["_before"] = before
    db.session.flush()
    for code, (_line, item) in parsed.items():
        agency = agencies[code]
        agency.parent_id = agencies[item["parent_code"]].id if item["parent_code"] else None
    db.session.flush()
    record(actor, "import", "agency", None, after={"rows": len(parsed), "codes": sorted(parsed)[:200]})
    return len(parsed)


# Fields ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldData:
    code: str
    name: str
    description: str | None = None
    parent_id: int | None = None
    keywords: str | None = None
    extra_questions: str | list | None = None  # JSON text from the form, or a list
    active: bool = True


def get_field(field_id: int) -> Field:
    row = db.session.get(Field, field_id)
    if row is None:
        raise NotFound("Không tìm thấy lĩnh vực.")
    return row


def list_fields() -> list[Field]:
    return list(db.session.scalars(select(Field).order_by(Field.parent_id.is_not(None), Field.name)))


def parse_questions(value: str | list | None) -> list[dict] | None:
    """Extra questions: a JSON list of ``{"key", "label", "type"?, "required"?, "options"?}``.

    A plain list of strings is accepted too (each becomes a text question).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"Câu hỏi bổ sung không phải JSON hợp lệ (dòng {exc.lineno}, "
                                  f"cột {exc.colno}).", code="invalid_json") from None
    if not isinstance(value, list):
        raise ValidationError("Câu hỏi bổ sung phải là một danh sách.", code="invalid_questions")
    out = []
    for i, item in enumerate(value, 1):
        if isinstance(item, str):
            item = {"key": f"q{i}", "label": item}
        if not isinstance(item, dict) or not str(item.get("label") or "").strip():
            raise ValidationError(f"Câu hỏi thứ {i} cần có «label».", code="invalid_questions")
        kind = item.get("type", "text")
        if kind not in ("text", "number", "date", "choice", "yesno"):
            raise ValidationError(f"Câu hỏi thứ {i}: kiểu «{kind}» không hợp lệ "
                                  "(text, number, date, choice, yesno).", code="invalid_questions")
        if kind == "choice" and not item.get("options"):
            raise ValidationError(f"Câu hỏi thứ {i}: kiểu choice cần «options».",
                                  code="invalid_questions")
        out.append({"key": str(item.get("key") or f"q{i}")[:40], "label": str(item["label"])[:300],
                    "type": kind, "required": bool(item.get("required", False)),
                    **({"options": [str(o)[:100] for o in item["options"]]}
                       if kind == "choice" else {})})
    return out


def _apply_field(row: Field, data: FieldData) -> None:
    row.code = _code(data.code, "lĩnh vực")
    row.name = text.clean_text(data.name, max_length=200, field="tên lĩnh vực", required=True,
                               multiline=False)
    row.description = text.clean_text(data.description, max_length=4000, field="mô tả")
    if data.parent_id is not None:
        parent = get_field(data.parent_id)
        if row.id is not None and (parent.id == row.id or parent.parent_id == row.id):
            raise ValidationError("Lĩnh vực cha không thể là chính nó hoặc loại con của nó.",
                                  code="cycle")
        if parent.parent_id is not None:
            raise ValidationError("Chỉ hỗ trợ hai cấp: lĩnh vực và loại việc.", code="too_deep")
    row.parent_id = data.parent_id
    row.keywords = text.clean_text(data.keywords, max_length=400, field="từ khoá", multiline=False)
    row.extra_questions = parse_questions(data.extra_questions)
    row.active = bool(data.active)


def create_field(actor: Actor, data: FieldData) -> Field:
    if db.session.scalar(select(Field.id).where(Field.code == (data.code or "").strip())):
        raise ValidationError(f"Mã lĩnh vực đã tồn tại: {data.code}", code="duplicate")
    row = Field()
    _apply_field(row, data)
    db.session.add(row)
    db.session.flush()
    record(actor, "create", "field", row.id, after=snapshot(row, FIELD_FIELDS))
    return row


def update_field(actor: Actor, field_id: int, data: FieldData) -> Field:
    row = get_field(field_id)
    if data.code.strip() != row.code and db.session.scalar(
            select(Field.id).where(Field.code == data.code.strip())):
        raise ValidationError(f"Mã lĩnh vực đã tồn tại: {data.code}", code="duplicate")
    before = snapshot(row, FIELD_FIELDS)
    _apply_field(row, data)
    db.session.flush()
    b, a = changes(before, snapshot(row, FIELD_FIELDS))
    if a:
        record(actor, "update", "field", row.id, before=b, after=a)
    return row
