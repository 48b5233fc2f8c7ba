"""Replies a chat channel owes a citizen outside any ticket: greetings, status answers, help.

They go through the outbox like every other message (so a webhook stores them before
it acknowledges, and the relay sends them once); the key — derived from the inbound
event — makes a redelivered event queue nothing new.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import OutboxMessage
from hotline.services import outbox


def queue_reply(channel: str, recipient: str, text: str, *, key: str,
                purpose: str = "chat_reply") -> OutboxMessage:
    """Queue ``text`` for ``recipient`` on ``channel`` once per ``key``; return the row."""
    existing = db.session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
    if existing is not None:
        return existing
    row = OutboxMessage(key=key, purpose=purpose, channel=channel, ticket_id=None,
                        recipient=recipient,
                        payload={"text": text, "subject": "Tổng đài 1022", "code": None})
    db.session.add(row)
    db.session.flush()
    # The relay listens for new outbox rows and sends them right after the commit.
    outbox.outbox_written.send(current_app._get_current_object())
    return row


def _lookup_url() -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/status"


def welcome_text(channel: str) -> str:
    """The greeting for someone who just started a chat or followed the account."""
    province = current_app.config.get("PROVINCE_NAME") or ""
    lines = [
        f"Xin chào! Đây là Tổng đài 1022 {province}".rstrip() + ".",
        ("Bạn hãy nhắn nội dung phản ánh, kiến nghị (có thể kèm ảnh và vị trí); "
         "chúng tôi sẽ gửi lại mã phiếu để bạn theo dõi."),
    ]
    if channel == "telegram":
        lines.append("Tra cứu tình trạng: gửi /status <mã phiếu>, ví dụ /status PA-26-7K3M9Q.")
    else:
        lines.append(f"Tra cứu tình trạng: {_lookup_url()}")
    lines.append("Nội dung và kết quả được công khai sau khi ẩn thông tin cá nhân; nếu không "
                 "muốn công khai, nhắn: KHONG CONG KHAI <mã phiếu>.")
    return "\n".join(lines)


def help_text(channel: str) -> str:
    """The answer to a command the bot does not know."""
    return ("Các lệnh: /start — giới thiệu; /status <mã phiếu> — tra cứu tình trạng phiếu; "
            "/rate <mã phiếu> <1-5> [nhận xét] — đánh giá kết quả; "
            "KHONG CONG KHAI <mã phiếu> — không công khai phiếu. "
            "Để gửi phản ánh, chỉ cần nhắn nội dung (kèm ảnh, vị trí nếu có).")
