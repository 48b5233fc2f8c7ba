"""Job that downloads a file a platform gave us only as a URL (Zalo, Facebook CDN links).

The URL came inside a signed webhook payload; only ``https`` is fetched, with a size
cap, and a failed fetch leaves the reference in place for the next attempt.
"""
from __future__ import annotations

import logging

import requests

from hotline import tx
from hotline.services import remote_attachments
from hotline.services.attachments import MAX_BYTES

log = logging.getLogger(__name__)
TIMEOUT = (5, 30)


class DownloadFailed(RuntimeError):
    """The platform did not give us the file this time (rq retries the job)."""


def fetch_url(attachment_id: int) -> None:
    """Job: store the bytes behind the attachment's URL; a no-op once stored."""
    pending = remote_attachments.pending(attachment_id)
    if pending is None:
        return
    if not pending.remote_ref.startswith("https://"):
        log.warning("attachment %s: not fetching non-https reference", attachment_id)
        return
    try:
        with requests.get(pending.remote_ref, timeout=TIMEOUT, stream=True) as response:
            if response.status_code >= 500:
                raise DownloadFailed(f"HTTP {response.status_code}")
            if response.status_code != 200:
                # Expired CDN links do not come back: keep the reference, stop retrying.
                log.warning("attachment %s: download refused with HTTP %s", attachment_id,
                            response.status_code)
                return
            data = bytearray()
            for chunk in response.iter_content(64 * 1024):
                data += chunk
                if len(data) > MAX_BYTES:
                    log.warning("attachment %s: larger than %s bytes, not stored",
                                attachment_id, MAX_BYTES)
                    return
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise DownloadFailed(str(exc)) from exc
    remote_attachments.store_fetched(attachment_id, bytes(data),
                                     content_type if content_type.startswith(("image/", "video/",
                                                                              "audio/")) else None)
    tx.commit()
