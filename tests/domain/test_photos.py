"""Photo verification by decoding, EXIF GPS reading, and the metadata-free public copy."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from hotline.domain.errors import ValidationError
from hotline.domain.photos import inspect_photo, public_copy
from tests.photos import LAT, LON, image_bytes


@pytest.mark.parametrize("fmt,content_type", [("JPEG", "image/jpeg"), ("PNG", "image/png"),
                                              ("WEBP", "image/webp")])
def test_real_images_pass(fmt, content_type):
    info = inspect_photo(image_bytes(fmt))
    assert (info.format, info.content_type, info.width, info.height) == (fmt, content_type, 64, 48)


def test_gps_is_read_from_exif():
    info = inspect_photo(image_bytes(gps=True))
    assert (info.lat, info.lon) == (pytest.approx(LAT, abs=1e-4), pytest.approx(LON, abs=1e-4))


@pytest.mark.parametrize("data", [
    b"", b"not an image at all", b"%PDF-1.4 fake", b"GIF89a" + b"\0" * 40,
    image_bytes("JPEG")[:200],          # truncated: verify() alone would miss some of these
])
def test_anything_else_is_refused(data):
    with pytest.raises(ValidationError):
        inspect_photo(data, filename="x")


def test_gif_and_bmp_are_not_accepted():
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "GIF")
    with pytest.raises(ValidationError) as exc:
        inspect_photo(buf.getvalue())
    assert "JPEG, PNG hoặc WebP" in exc.value.message


def test_size_limit():
    with pytest.raises(ValidationError) as exc:
        inspect_photo(image_bytes(), max_bytes=100)
    assert exc.value.code == "file_too_large"


def test_public_copy_has_no_metadata():
    original = image_bytes(gps=True, maker="Serial-ABC123")
    data, content_type = public_copy(original)
    assert content_type == "image/jpeg"
    copy = Image.open(io.BytesIO(data))
    assert dict(copy.getexif()) == {}
    assert b"Serial-ABC123" not in data and b"Exif" not in data
    assert copy.size == (64, 48)


def test_public_copy_is_downscaled_and_png_stays_png():
    data, content_type = public_copy(image_bytes("PNG", size=(3200, 1600)))
    assert content_type == "image/png"
    assert Image.open(io.BytesIO(data)).size == (1600, 800)


def test_a_png_decompression_bomb_is_refused_from_its_header():
    from tests.photos import png_bomb
    bomb = png_bomb()
    assert len(bomb) < 400_000  # 310 KB that would decode to 240 MB
    with pytest.raises(ValidationError) as exc:
        inspect_photo(bomb, filename="bom.png")
    assert exc.value.code == "bad_image" and "8940×8940" in exc.value.message
    with pytest.raises(ValidationError):
        public_copy(bomb)  # a chat channel's file is never inspected before publication


def test_a_fifty_megapixel_jpeg_from_a_phone_passes_but_a_larger_one_does_not():
    from hotline.domain.photos import MAX_PIXELS
    assert 8160 * 6144 <= MAX_PIXELS < 8940 * 8940
    with pytest.raises(ValidationError):
        inspect_photo(image_bytes("PNG", size=(4100, 4000)))  # 16.4 MP: PNG decodes in full
    assert inspect_photo(image_bytes("JPEG", size=(4100, 4000))).width == 4100


def test_pillow_refuses_bombs_everywhere_in_the_process():
    from hotline.domain import photos
    assert Image.MAX_IMAGE_PIXELS == photos.MAX_PIXELS
