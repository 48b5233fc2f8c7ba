"""Knowledge-base articles for operators: write, review, import from CSV (audited).

``search_text`` is ``fold(title + body)`` so "thu tuc cap phep" finds
"Thủ tục cấp phép"; ``reviewed_at`` tells operators how fresh a procedure is.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import select

from hotline.domain import text
from hotline.domain.errors import NotFound, ValidationError
from hotline.extensions import db
from hotline.models import Field, KbArticle
from hotline.services.admin import csvfile
from hotline.services.admin.audit import Actor, changes, record, snapshot

FIELDS = ("title", "field_id", "source_url", "reviewed_at", "active")
MAX_BODY = 50_000


@dataclass(frozen=True)
class ArticleData:
    title: str
    body: str
    field_id: int | None = None
    source_url: str | None = None
    reviewed_on: date | None = None
    active: bool = True


def get(article_id: int) -> KbArticle:
    row = db.session.get(KbArticle, article_id)
    if row is None:
        raise NotFound("Không tìm thấy bài viết.")
    return row


def search(q: str | None = None, *, field_id: int | None = None, limit: int = 100) -> list[KbArticle]:
    query = select(KbArticle).order_by(KbArticle.title)
    folded = text.fold(q)
    for word in folded.split()[:6]:
        query = query.where(KbArticle.search_text.contains(word))
    if field_id:
        query = query.where(KbArticle.field_id == field_id)
    return list(db.session.scalars(query.limit(limit)))


def _url(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.startswith(("https://", "http://")) or len(value) > 500:
        raise ValidationError(f"Liên kết nguồn không hợp lệ: {value[:80]}", code="invalid_url")
    return value


def _reviewed_at(day: date | None) -> datetime | None:
    # A review day is a calendar date; store noon UTC so it reads as that day in Việt Nam.
    return datetime.combine(day, time(5, 0), tzinfo=UTC) if day else None


def _apply(row: KbArticle, data: ArticleData) -> None:
    row.title = text.clean_text(data.title, max_length=300, field="tiêu đề", required=True,
                                multiline=False)
    row.body = text.clean_text(data.body, max_length=MAX_BODY, field="nội dung", required=True)
    if data.field_id is not None and db.session.get(Field, data.field_id) is None:
        raise ValidationError("Lĩnh vực không tồn tại.", code="unknown_field")
    row.field_id = data.field_id
    row.source_url = _url(data.source_url)
    row.reviewed_at = _reviewed_at(data.reviewed_on)
    row.active = bool(data.active)
    row.search_text = text.fold(f"{row.title} {row.body}")


def create(actor: Actor, data: ArticleData) -> KbArticle:
    row = KbArticle()
    _apply(row, data)
    db.session.add(row)
    db.session.flush()
    record(actor, "create", "kb_article", row.id, after=snapshot(row, FIELDS))
    return row


def update(actor: Actor, article_id: int, data: ArticleData) -> KbArticle:
    row = get(article_id)
    before = {**snapshot(row, FIELDS), "body_chars": len(row.body)}
    _apply(row, data)
    db.session.flush()
    b, a = changes(before, {**snapshot(row, FIELDS), "body_chars": len(row.body)})
    if a:
        record(actor, "update", "kb_article", row.id, before=b, after=a)
    return row


CSV_ALIASES = {"tieu_de": "title", "noi_dung": "body", "linh_vuc": "field_code",
               "ma_linh_vuc": "field_code", "nguon": "source_url", "lien_ket": "source_url",
               "ngay_ra_soat": "reviewed_on", "reviewed_at": "reviewed_on"}


def _parse_day(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def import_csv(actor: Actor, data: bytes) -> int:
    """Add articles from ``title,body[,field_code,source_url,reviewed_on]``; all or nothing.

    A row whose title matches an existing article's title updates that article.
    """
    problems = csvfile.Problems()
    fields = {f.code: f.id for f in db.session.scalars(select(Field))}
    items = []
    seen: dict[str, int] = {}
    for row in csvfile.read(data, required=("title", "body"), aliases=CSV_ALIASES,
                            what="kiến thức"):
        title, body = row.get("title"), row.get("body")
        if not title:
            problems.add(row.line, "thiếu tiêu đề")
        elif len(title) > 300:
            problems.add(row.line, "tiêu đề dài quá 300 ký tự")
        elif text.fold(title) in seen:
            problems.add(row.line, f"tiêu đề trùng với dòng {seen[text.fold(title)]}")
        else:
            seen[text.fold(title)] = row.line
        if not body:
            problems.add(row.line, "thiếu nội dung")
        field_code = row.get("field_code")
        if field_code and field_code not in fields:
            problems.add(row.line, f"mã lĩnh vực {field_code} không tồn tại")
        try:
            reviewed = _parse_day(row.get("reviewed_on"))
        except ValueError:
            problems.add(row.line, f"ngày rà soát «{row.get('reviewed_on')}» không hợp lệ "
                                   "(dd/mm/yyyy)")
            reviewed = None
        try:
            source = _url(row.get("source_url"))
        except ValidationError:
            problems.add(row.line, "liên kết nguồn không hợp lệ (cần http:// hoặc https://)")
            source = None
        items.append(ArticleData(title=title, body=body, field_id=fields.get(field_code),
                                 source_url=source, reviewed_on=reviewed))
    if not items and not problems.items:
        raise ValidationError("Tệp kiến thức không có dòng dữ liệu nào.", code="csv_empty")
    problems.raise_if_any("kiến thức")
    existing = {text.fold(a.title): a for a in db.session.scalars(select(KbArticle))}
    for item in items:
        row = existing.get(text.fold(item.title))
        if row is None:
            row = KbArticle()
            db.session.add(row)
        _apply(row, item)
    db.session.flush()
    record(actor, "import", "kb_article", None, after={"rows": len(items)})
    return len(items)
