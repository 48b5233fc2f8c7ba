"""Test images: real JPEG/PNG/WebP bytes, optionally with an EXIF GPS position."""
from __future__ import annotations

import io

from PIL import Image

# Đồng Xoài, Bình Phước.
LAT, LON = 11.5349, 106.8823


def image_bytes(fmt: str = "JPEG", *, gps: bool = False, size=(64, 48),
                color=(200, 30, 30), maker: str = "PhoneMaker X1") -> bytes:
    img = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = maker
    if gps:
        ifd = exif.get_ifd(0x8825)
        ifd[1], ifd[2] = "N", (11.0, 32.0, 5.64)
        ifd[3], ifd[4] = "E", (106.0, 52.0, 56.28)
    buf = io.BytesIO()
    img.save(buf, fmt, exif=exif.tobytes())
    return buf.getvalue()
