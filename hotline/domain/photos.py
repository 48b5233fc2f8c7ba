"""Citizens' photos: verify that an upload really is a JPEG/PNG/WebP image, read the GPS
position its EXIF may carry (kept internally), and make the copy that may be shown in
public: re-encoded from the pixels, so no EXIF, GPS, camera serial or comment survives.

Pure functions over bytes (Pillow only); the caller stores the results.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from hotline.domain.errors import ValidationError

ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# The largest photo a phone takes is 50 megapixels (8160 × 6144 sensors); a few bytes of
# PNG can declare far more (8940² px in 310 KB would decode to 240 MB), so the limit is
# read from the header before a pixel is decoded. JPEG decodes at reduced size (DCT
# scaling, ``Image.draft``), so a 50 MP JPEG costs a few MB; PNG and WebP cannot, and a
# phone makes them only as screenshots, so they stop at 16 MP (a tablet screen is 6).
MAX_PIXELS = 8192 * 6144
MAX_FULL_DECODE_PIXELS = 16_000_000
# Every Pillow decode in the process refuses beyond twice this (DecompressionBombError).
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
PUBLIC_MAX_SIDE = 1600
_GPS_IFD = 0x8825


@dataclass(frozen=True)
class PhotoInfo:
    """What a verified upload is."""

    format: str          # JPEG / PNG / WEBP
    content_type: str
    width: int
    height: int
    lat: float | None    # from EXIF GPS, if the camera recorded it
    lon: float | None


def inspect_photo(data: bytes, *, filename: str = "ảnh", max_bytes: int | None = None) -> PhotoInfo:
    """Decode ``data`` fully with Pillow; raise ``ValidationError`` unless it is a sound image."""
    if not data:
        raise ValidationError(f"Tệp {filename} trống.", code="empty_file")
    if max_bytes is not None and len(data) > max_bytes:
        raise ValidationError(f"Ảnh {filename} lớn quá {max_bytes // (1024 * 1024)} MB.",
                              code="file_too_large")
    try:
        with warnings.catch_warnings():
            # Pillow warns (and with filterwarnings=error, raises) on huge images; we check
            # the size ourselves below and refuse with a message the citizen understands.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format
                width, height = probe.size
                if fmt not in ALLOWED_FORMATS:
                    raise ValidationError(
                        f"Tệp {filename} không phải ảnh JPEG, PNG hoặc WebP.", code="bad_image")
                check_size(fmt, width, height, filename)
                probe.verify()  # structure and checksums
            with Image.open(io.BytesIO(data)) as img:
                # Every pixel decodes (catches truncated files verify() misses) — a JPEG at
                # an eighth of its size, which still reads its whole compressed stream.
                img.draft(img.mode, (1, 1))
                img.load()
                lat, lon = _gps(img)
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            EOFError) as exc:
        raise ValidationError(f"Tệp {filename} không phải ảnh hợp lệ hoặc đã bị hỏng.",
                              code="bad_image") from exc
    return PhotoInfo(fmt, ALLOWED_FORMATS[fmt], width, height, lat, lon)


def check_size(fmt: str | None, width: int, height: int, filename: str = "ảnh") -> None:
    """Refuse (``ValidationError``) a picture too big to decode safely, from its header."""
    limit = MAX_PIXELS if fmt == "JPEG" else MAX_FULL_DECODE_PIXELS
    if width * height > limit:
        raise ValidationError(f"Ảnh {filename} có kích thước quá lớn "
                              f"({width}×{height} điểm ảnh).", code="bad_image")


def public_copy(data: bytes) -> tuple[bytes, str]:
    """A copy safe to publish: upright, at most ``PUBLIC_MAX_SIDE`` px, no metadata.

    Returns ``(bytes, content_type)``; PNG stays PNG (screenshots, drawings), everything
    else becomes JPEG. ``ValidationError`` for a picture too big to decode (see
    ``check_size``: a file from a chat channel was never inspected).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format
            check_size(fmt, *img.size)
            # Shrink first (a JPEG decodes straight at 1/2–1/8 size), then turn upright:
            # only the small picture is ever copied.
            width, height = img.size
            ratio = min(1.0, PUBLIC_MAX_SIDE / max(width, height))
            target = (max(1, int(width * ratio)), max(1, int(height * ratio)))
            img.draft(img.mode, target)
            img.thumbnail(target, reducing_gap=None)
            upright = ImageOps.exif_transpose(img)
    # A new image from the pixels alone: nothing of the original's info dict comes along.
    mode = "RGBA" if fmt == "PNG" and upright.mode in ("RGBA", "LA", "P") else "RGB"
    clean = Image.new(mode, upright.size)
    clean.paste(upright.convert(mode))
    out = io.BytesIO()
    if fmt == "PNG":
        clean.save(out, format="PNG", optimize=True)
        return out.getvalue(), "image/png"
    clean.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue(), "image/jpeg"


def _gps(img: Image.Image) -> tuple[float | None, float | None]:
    try:
        gps = img.getexif().get_ifd(_GPS_IFD)
    except Exception:  # noqa: BLE001 - a broken EXIF block is simply no position
        return None, None
    try:
        lat = _degrees(gps[2], gps.get(1, "N"))
        lon = _degrees(gps[4], gps.get(3, "E"))
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return None, None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    return round(lat, 7), round(lon, 7)


def _degrees(dms, ref) -> float:
    d, m, s = (float(x) for x in dms)
    value = d + m / 60 + s / 3600
    ref = ref.decode() if isinstance(ref, bytes) else str(ref)
    return -value if ref.strip().upper() in ("S", "W") else value
