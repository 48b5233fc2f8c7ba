"""Job that fetches the photo an Open311 client named by ``media_url``.

The URL was typed by a third party, so the fetch is guarded: only ``http``/``https``;
never a loopback, private, link-local or otherwise non-public address (the socket's
peer is checked after each connect, redirects included, so DNS rebinding cannot
slip past a check made earlier; ``MEDIA_FETCH_ALLOW_PRIVATE`` lifts this for tests);
no proxy from the environment; at most ``MEDIA_FETCH_MAX_BYTES``, read in chunks; only
a JPEG, PNG or WebP picture, by its ``Content-Type`` and then by decoding it
(``domain.photos.inspect_photo``); ``MEDIA_FETCH_TIMEOUT`` seconds per connect or
read and ``MEDIA_FETCH_DEADLINE`` for the whole download.

The outcome is on the attachment row: the stored picture, or ``fetch_error`` with the
reason in Vietnamese for the staff's ticket page. A refusal is final; a timeout, a
connection error or a 5xx is recorded and retried by rq (``DownloadFailed``).
"""
from __future__ import annotations

import ipaddress
import logging
import socket
from time import monotonic
from urllib.parse import urlsplit

import requests
from flask import current_app
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from hotline import tx
from hotline.domain.errors import ValidationError
from hotline.domain.photos import ALLOWED_FORMATS, EXTENSIONS, inspect_photo
from hotline.services import remote_attachments
from hotline.services.attachments import MAX_BYTES

log = logging.getLogger(__name__)
IMAGE_TYPES = frozenset(ALLOWED_FORMATS.values())
MAX_REDIRECTS = 3


class DownloadFailed(RuntimeError):
    """A transient failure (timeout, connection, 5xx): rq retries the job."""


class Refused(Exception):
    """The URL or what it gave is not acceptable: recorded, not retried."""


class ForbiddenAddress(Exception):
    """The socket connected to an address that is not public."""


def _check_peer(sock: socket.socket) -> None:
    address = ipaddress.ip_address(sock.getpeername()[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if not address.is_global or address.is_multicast:
        sock.close()
        raise ForbiddenAddress(str(address))


class _PublicHTTPConnection(HTTPConnection):
    def _new_conn(self):
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _PublicHTTPSConnection(HTTPSConnection):
    def _new_conn(self):
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):
    """requests' adapter whose connections refuse non-public peers."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool,
                                                   "https": _PublicHTTPSPool}


def _session(allow_private: bool) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: the peer check must see the host
    session.max_redirects = MAX_REDIRECTS
    if not allow_private:
        adapter = _PublicOnlyAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session


def download(url: str, *, max_bytes: int, timeout: float, deadline: float,
             allow_private: bool = False) -> tuple[bytes, str]:
    """The bytes and content type behind ``url``, or ``Refused`` / ``DownloadFailed``."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise Refused("địa chỉ không phải http hoặc https")
    started = monotonic()
    try:
        with _session(allow_private) as session, \
                session.get(url, timeout=(timeout, timeout), stream=True) as response:
            if response.status_code >= 500:
                raise DownloadFailed(f"máy chủ ảnh trả lỗi HTTP {response.status_code}")
            if response.status_code != 200:
                raise Refused(f"máy chủ ảnh trả lỗi HTTP {response.status_code}")
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if content_type not in IMAGE_TYPES:
                raise Refused(f"không phải ảnh JPEG, PNG hoặc WebP ({content_type or 'không rõ'})")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise Refused(f"ảnh lớn quá {max_bytes // 1024} KB")
            data = bytearray()
            for chunk in response.iter_content(64 * 1024):
                data += chunk
                if len(data) > max_bytes:
                    raise Refused(f"ảnh lớn quá {max_bytes // 1024} KB")
                if monotonic() - started > deadline:
                    raise DownloadFailed(f"tải quá {deadline:g} giây")
            return bytes(data), content_type
    except ForbiddenAddress as exc:
        raise Refused(f"địa chỉ nội bộ không được phép ({exc})") from None
    except requests.TooManyRedirects:
        raise Refused(f"chuyển hướng quá {MAX_REDIRECTS} lần") from None
    except requests.Timeout:
        raise DownloadFailed(f"quá thời gian chờ {timeout:g} giây") from None
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        raise DownloadFailed(f"không kết nối được ({type(exc).__name__})") from None
    except requests.exceptions.InvalidURL:
        raise Refused("địa chỉ không hợp lệ") from None
    except requests.RequestException as exc:
        raise Refused(f"không tải được ({type(exc).__name__})") from None


def fetch_media(attachment_id: int) -> None:
    """Job: store the picture behind an Open311 ``media_url``; a no-op once stored."""
    pending = remote_attachments.pending(attachment_id)
    if pending is None:
        return
    config = current_app.config
    try:
        data, _declared = download(
            pending.remote_ref, max_bytes=int(config.get("MEDIA_FETCH_MAX_BYTES") or MAX_BYTES),
            timeout=float(config.get("MEDIA_FETCH_TIMEOUT") or 10),
            deadline=float(config.get("MEDIA_FETCH_DEADLINE") or 30),
            allow_private=bool(config.get("MEDIA_FETCH_ALLOW_PRIVATE")))
        info = inspect_photo(data, filename="media_url")
    except (Refused, ValidationError) as exc:
        reason = exc.message if isinstance(exc, ValidationError) else str(exc)
        log.warning("attachment %s: media_url refused: %s", attachment_id, reason)
        remote_attachments.record_failure(attachment_id, reason)
        tx.commit()
        return
    except DownloadFailed as exc:
        log.warning("attachment %s: media_url not fetched yet: %s", attachment_id, exc)
        remote_attachments.record_failure(attachment_id, str(exc))
        tx.commit()
        raise
    remote_attachments.store_fetched(attachment_id, data, info.content_type,
                                     filename=f"media_url.{EXTENSIONS[info.format]}")
    tx.commit()
