"""Knowledge-base search for operators: accent-insensitive, over the folded ``search_text``.

"thu tuc cap giay phep xay dung" finds "Thủ tục cấp giấy phép xây dựng". Every
word must appear; articles whose title holds more of the words come first.
"""
from __future__ import annotations

from sqlalchemy import and_, select

from hotline.domain import text
from hotline.domain.errors import NotFound
from hotline.extensions import db
from hotline.models import KbArticle

_MAX_WORDS = 8
_CANDIDATES = 50


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(query: str | None, *, field_id: int | None = None, limit: int = 8) -> list[KbArticle]:
    """Active articles matching every folded word of ``query``, best first."""
    words = [w for w in text.fold(query).split() if len(w) >= 2][:_MAX_WORDS]
    if not words:
        return []
    cond = and_(KbArticle.active.is_(True),
                *(KbArticle.search_text.like(f"%{_escape(w)}%", escape="\\") for w in words))
    rows = list(db.session.scalars(select(KbArticle).where(cond)
                                   .order_by(KbArticle.id.desc()).limit(_CANDIDATES)))

    def rank(article: KbArticle) -> tuple:
        title = text.fold(article.title)
        return (-sum(w in title for w in words), article.field_id != field_id, -article.id)

    return sorted(rows, key=rank)[:limit]


def get_article(article_id: int) -> KbArticle:
    """One active article (``NotFound`` otherwise)."""
    article = db.session.get(KbArticle, article_id)
    if article is None or not article.active:
        raise NotFound("Không tìm thấy bài viết.")
    return article
