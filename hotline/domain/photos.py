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
# A phone photo is 12–50 megapixels; anything far beyond that is a decompression bomb.
MAX_PIXELS = 80_000_000
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
                if width * height > MAX_PIXELS:
                    raise ValidationError(f"Ảnh {filename} có kích thước quá lớn.",
                                          code="bad_image")
                probe.verify()  # structure and checksums
            with Image.open(io.BytesIO(data)) as img:
                img.load()      # every pixel decodes: catches truncated files verify() misses
                lat, lon = _gps(img)
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            EOFError) as exc:
        raise ValidationError(f"Tệp {filename} không phải ảnh hợp lệ hoặc đã bị hỏng.",
                              code="bad_image") from exc
    return PhotoInfo(fmt, ALLOWED_FORMATS[fmt], width, height, lat, lon)


def public_copy(data: bytes) -> tuple[bytes, str]:
    """A copy safe to publish: upright, at most ``PUBLIC_MAX_SIDE`` px, no metadata.

    Returns ``(bytes, content_type)``; PNG stays PNG (screenshots, drawings), everything
    else becomes JPEG.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format
            upright = ImageOps.exif_transpose(img)
    upright.thumbnail((PUBLIC_MAX_SIDE, PUBLIC_MAX_SIDE))
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
