"""A staged message survives its JSON payload unchanged."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from hotline.domain.messages import (ContactHandle, IncomingAttachment, IncomingMessage,
                                     from_payload, to_payload)


def test_a_message_round_trips_through_json():
    msg = IncomingMessage(
        channel="zalo", external_id="m-1", text="Cống tắc, nước tràn lên đường.",
        received_at=datetime(2026, 12, 6, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=7))),
        contact=ContactHandle(name="Lan", zalo_user_id="z-77", phone="0912345678"),
        field_code="CS", area_code="25435", lat=11.53, lon=106.88, priority="urgent",
        attachments=(IncomingAttachment("anh.jpg", "image/jpeg", remote_ref="https://x/1"),),
        consent_publish=True, force_new=True, code="PA-26-7K3M9Q", status_token="t" * 22)
    back = from_payload(json.loads(json.dumps(to_payload(msg))))
    assert back == msg


def test_file_bytes_never_go_into_a_payload():
    msg = IncomingMessage(channel="web", external_id="w-1", received_at=datetime.now(timezone.utc),
                          attachments=(IncomingAttachment("a.jpg", "image/jpeg", data=b"x"),))
    with pytest.raises(ValueError):
        to_payload(msg)
