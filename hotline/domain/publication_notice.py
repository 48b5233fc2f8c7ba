"""What the citizen is told about publication, and the words they answer to refuse it.

Pure text: the first reply on every channel (:mod:`hotline.services.outbox`) and the
refusal command that intake recognises (:mod:`hotline.services.publication_choice`)
must agree, so both read them from here.
"""
from __future__ import annotations

from hotline.domain.messages import Channel

COMMAND = "KHONG CONG KHAI"
# Channels whose citizen can answer our message with the command.
REPLY_CHANNELS = frozenset({Channel.TELEGRAM, Channel.ZALO, Channel.FACEBOOK, Channel.EMAIL})

_PUBLISHED = ("Nội dung phản ánh và kết quả giải quyết sẽ được công khai trên cổng thông tin "
              "sau khi ẩn thông tin cá nhân (họ tên, số điện thoại, địa chỉ của bạn không bao "
              "giờ được công khai).")


def acknowledgement_line(channel: str, code: str, consent_publish: bool) -> str:
    """What the first reply says about publication, for the ticket's channel."""
    if not consent_publish:
        return "Theo đề nghị của bạn, phiếu này sẽ không được công khai."
    if channel in REPLY_CHANNELS:
        return f"{_PUBLISHED} Nếu không đồng ý công khai, hãy trả lời tin này: {COMMAND} {code}"
    return (f"{_PUBLISHED} Nếu không đồng ý công khai, hãy bấm «Không đồng ý công khai» "
            "tại đường dẫn tra cứu ở trên hoặc gọi 1022.")
