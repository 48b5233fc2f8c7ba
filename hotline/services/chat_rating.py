"""Rating a result from a chat: ``/rate CODE N [nhận xét]`` or ``đánh giá CODE N [nhận xét]``.

The channel modules only recognise the command (:func:`parse_command`); the answer —
who may rate, the 1–5 check, the "not fixed" reopen rule — is the status page's
:func:`hotline.services.public.rate`, reached through :func:`rating_text_for_chat`.
A chat only rates tickets of its own contact; any other code reads "not found", like
``/status``.
"""
from __future__ import annotations

import re

from hotline.domain import codes, text
from hotline.domain.errors import ValidationError
from hotline.services import public, status

USAGE_TEXT = ("Để đánh giá kết quả, gửi: đánh giá MÃ-PHIẾU 1-5 (kèm nhận xét nếu muốn), "
              "ví dụ: đánh giá PA-26-7K3M9Q 5 Đã sửa xong. Nếu vấn đề chưa được khắc phục, "
              "hãy bắt đầu nhận xét bằng «chưa khắc phục».")
INVALID_SCORE_TEXT = "Mức đánh giá phải là một số từ 1 đến 5, ví dụ: đánh giá PA-26-7K3M9Q 4."
NOT_RATEABLE_TEXT = "Phiếu {code} chưa có kết quả nên chưa thể đánh giá."

_SLASH = re.compile(r"\s*/rate(?:@\w+)?(?:\s+(.*))?", re.DOTALL | re.IGNORECASE)
_TWO_WORDS = re.compile(r"\s*(\S+)\s+(\S+)(?:\s+(.*))?", re.DOTALL)
_ARGS = re.compile(r"\s*(\S+)(?:\s+(\S+))?(?:\s+(.*))?", re.DOTALL)
_SCORE = re.compile(r"(\d{1,2})(?:/5)?")


def parse_command(message: str | None) -> str | None:
    """The argument after ``/rate`` or ``đánh giá`` (accents and case ignored), else ``None``.

    "Đánh giá ..." is also how an ordinary complaint may begin, so it is a command
    only when a ticket code follows; ``/rate`` always is one.
    """
    if not message:
        return None
    slash = _SLASH.fullmatch(message)
    if slash:
        return (slash.group(1) or "").strip()
    words = _TWO_WORDS.fullmatch(message)
    if not words or text.fold(f"{words.group(1)} {words.group(2)}") != "danh gia":
        return None
    rest = (words.group(3) or "").strip()
    if codes.parse_code(rest.split(None, 1)[0] if rest else None) is None:
        return None
    return rest


def rating_text_for_chat(argument: str | None, channel: str, chat_handle: str) -> str:
    """Rate ticket ``CODE`` for the citizen writing from ``chat_handle``; the reply to send.

    Flushes the rating (and a reopen) when accepted; changes nothing otherwise.
    """
    args = _ARGS.fullmatch(argument or "")
    if not args:
        return USAGE_TEXT
    code, score, comment = args.group(1), args.group(2), (args.group(3) or "").strip() or None
    ticket = status.ticket_for_chat(code, channel, chat_handle)
    if ticket is None:
        return status.NOT_FOUND_TEXT
    score_match = _SCORE.fullmatch(score or "")
    if score_match is None:
        return INVALID_SCORE_TEXT
    # The status page's «Chưa khắc phục» box, in words.
    fixed = False if text.fold(comment).startswith("chua khac phuc") else None
    try:
        outcome = public.rate(ticket, rating=score_match.group(1), comment=comment, fixed=fixed,
                              actor_label="citizen")
    except ValidationError as exc:
        if exc.code == "invalid_rating":
            return INVALID_SCORE_TEXT
        if exc.code == "not_rateable":
            return NOT_RATEABLE_TEXT.format(code=ticket.code)
        return exc.message
    lines = [f"Cảm ơn bạn đã đánh giá kết quả phiếu {ticket.code}: {ticket.rating}/5."]
    if outcome.reopened:
        lines.append("Phiếu đã được mở lại và chuyển lại cơ quan xử lý.")
    elif outcome.too_late_to_reopen:
        lines.append("Đã quá thời hạn mở lại phiếu; nếu vấn đề vẫn còn, bạn hãy gửi phản ánh mới.")
    return "\n".join(lines)
