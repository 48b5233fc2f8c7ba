"""Peak memory of checking a citizen's photo: ``python -m bench.photos``.

Each case runs in a fresh Python process and reports its peak resident set size
(``ru_maxrss``) above that of a process that only imported the same modules, so the
figure is what the decode costs: the 310 KB PNG of 8940 × 8940 px (refused from its
header), five of them in one go, a 50 MP phone JPEG checked by ``inspect_photo``
(decoded at an eighth of its size) and published by ``public_copy``, and — for
comparison — the same JPEG decoded in full, as the check did before.
Prints a table; writes bench/results/photos.json.
"""
from __future__ import annotations

import json
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

SETUP = """
import io, resource, sys
from PIL import Image
from hotline.domain import photos
from hotline.domain.errors import ValidationError
from tests.photos import png_bomb
data = {data}
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""
CASES = {
    "baseline (imports, the file in memory)": ("png_bomb()", "pass"),
    "inspect_photo: PNG 8940x8940 (310 KB)": ("png_bomb()", """
try:
    photos.inspect_photo(data)
except ValidationError:
    pass"""),
    "inspect_photo: five PNG 8940x8940": ("png_bomb()", """
for _ in range(5):
    try:
        photos.inspect_photo(data)
    except ValidationError:
        pass"""),
    "inspect_photo: JPEG 8160x6144 (50 MP)": ("_jpeg()", "photos.inspect_photo(data)"),
    "public_copy: JPEG 8160x6144 (50 MP)": ("_jpeg()", "photos.public_copy(data)"),
    "full decode: JPEG 8160x6144 (before)": ("_jpeg()", """
Image.MAX_IMAGE_PIXELS = None
with Image.open(io.BytesIO(data)) as img:
    img.load()"""),
}
JPEG = """
def _jpeg():
    import os, tempfile
    path = os.path.join(tempfile.gettempdir(), "bench-50mp.jpg")
    if not os.path.exists(path):
        Image.new("RGB", (8160, 6144), (90, 120, 60)).save(path, "JPEG", quality=85)
    return open(path, "rb").read()
"""


def measure(data: str, body: str) -> int:
    """Peak RSS growth in KB of running ``body`` (after loading ``data``) in a fresh process."""
    code = JPEG + SETUP.format(data=data) + body + \
        "\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, cwd=Path(__file__).resolve().parents[1])
    return int(out.stdout.strip().splitlines()[-1])


def main() -> None:
    rows = []
    for name, (data, body) in CASES.items():
        kb = measure(data, body)
        rows.append({"case": name, "peak_rss_growth_mb": round(kb / 1024, 1)})
        print(f"{name:44} {kb / 1024:8.1f} MB")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "photos.json"
    path.write_text(json.dumps({
        "benchmark": "photos", "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(), "machine": platform.machine(), "results": rows,
    }, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
