"""Stored files sent back to a browser without letting them run as our pages.

A citizen chooses both the bytes and the declared type of what they send (an
e-mail attachment named ``anh.png`` can be HTML with a script). So the declared
type is never used: a file is shown inline only as an image the server itself
re-encoded with Pillow, with the type of what Pillow wrote; everything else is a
download with a generic type. Every file response also carries
``X-Content-Type-Options: nosniff`` and a sandboxing CSP, so even a browser that
opened one as a page would run nothing in our origin.
"""
from __future__ import annotations

import io
import os
from urllib.parse import quote

from flask import Response, abort, current_app
from PIL import Image, UnidentifiedImageError

from hotline.domain.errors import ValidationError
from hotline.domain.photos import ALLOWED_FORMATS, inspect_photo, public_copy

SANDBOX_CSP = "default-src 'none'; sandbox"
GENERIC_TYPE = "application/octet-stream"


def stored_path(storage_key: str | None) -> str:
    """The file of ``storage_key`` under the upload folder; 404 if missing or outside it."""
    root = os.path.abspath(current_app.config["UPLOAD_FOLDER"])
    if not storage_key:
        abort(404)
    path = os.path.abspath(os.path.join(root, storage_key))
    if os.path.commonpath([path, root]) != root or not os.path.isfile(path):
        abort(404)
    return path


def _file_headers(response: Response, *, cache: str) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = SANDBOX_CSP
    response.headers["Cache-Control"] = cache
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def _disposition(kind: str, filename: str) -> str:
    # RFC 6266: an ASCII fallback plus the UTF-8 name (Vietnamese file names survive).
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    ascii_name = "".join(c for c in ascii_name if c.isprintable() and c not in '"\\;') or "tep"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download(data: bytes, filename: str, *, cache: str = "private, no-store",
             mimetype: str = GENERIC_TYPE) -> Response:
    """Bytes as a download (never rendered), under ``filename``."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = _disposition("attachment", filename)
    return _file_headers(response, cache=cache)


def download_stored(storage_key: str | None, filename: str) -> Response:
    """A stored file as a download with the generic type, whatever it claims to be."""
    with open(stored_path(storage_key), "rb") as fh:
        return download(fh.read(), filename)


def reencoded_image(storage_key: str | None, filename: str, *,
                    cache: str = "private, no-store") -> Response:
    """A stored file shown inline as an image Pillow decoded and wrote anew.

    What does not decode as a JPEG, PNG or WebP image is sent as a download instead.
    """
    with open(stored_path(storage_key), "rb") as fh:
        data = fh.read()
    try:
        inspect_photo(data, filename=filename)
        clean, content_type = public_copy(data)
    except (ValidationError, OSError, ValueError, SyntaxError):
        return download(data, filename, cache=cache)
    response = Response(clean, mimetype=content_type)
    stem = os.path.splitext(filename)[0] or "anh"
    ext = "png" if content_type == "image/png" else "jpg"
    response.headers["Content-Disposition"] = _disposition("inline", f"{stem}.{ext}")
    return _file_headers(response, cache=cache)


def server_image(storage_key: str | None, filename: str, *, cache: str) -> Response:
    """A stored image the server wrote itself (a published copy), shown inline.

    Its type comes from Pillow reading the bytes, not from the row; bytes that are not
    one of our image formats go out as a download.
    """
    with open(stored_path(storage_key), "rb") as fh:
        data = fh.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            content_type = ALLOWED_FORMATS.get(probe.format or "")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        content_type = None
    if content_type is None:
        return download(data, filename, cache=cache)
    response = Response(data, mimetype=content_type)
    response.headers["Content-Disposition"] = _disposition("inline", filename)
    return _file_headers(response, cache=cache)
