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


def png_bomb(width: int = 8940, height: int = 8940) -> bytes:
    """A black RGB PNG of ``width`` × ``height`` px that is tiny on disk (8940² px: ~310 KB),
    written chunk by chunk so making it never holds the decoded image."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + \
            struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    deflate = zlib.compressobj(9)
    row = b"\0" * (1 + 3 * width)  # filter byte + black pixels
    parts = [deflate.compress(row) for _ in range(height)]
    idat = b"".join(parts) + deflate.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                             0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
