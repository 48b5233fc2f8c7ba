"""Address → today's ward: accuracy and time on real-format addresses of Đồng Nai.

    .venv/bin/python -m bench.areas [--generated 400] [--seed 22]

Loads today's Đồng Nai with Bình Phước's and Đồng Nai's former units into a scratch
SQLite database, then asks ``services.address_areas.ward_for_address`` for:

- ``HAND``: addresses written the ways citizens and operators write them (old three-level
  and new two-level, abbreviations, missing accents, missing province, house numbers, hamlets);
  the expected ward of each was looked up by hand in the official old → new table;
- generated variants of every former commune of both provinces and every ward of today (type
  words abbreviated or dropped, accents dropped, province dropped), expected from the
  official table (a split commune: the ward the reform names first).

Reports the share proposing the right ward, the share proposing a wrong one, the share
proposing nothing, and p50/p95 per lookup. Results: ``bench/results/areas.json``.
"""
from __future__ import annotations

import argparse
import random
import tempfile
import time

from bench.common import measure, print_table, write_results

# (address, expected ward code of today). Old ones: the successor in the official table.
HAND: tuple[tuple[str, str], ...] = (
    ("ấp 3, xã Minh Hưng, huyện Chơn Thành, Bình Phước", "25441"),
    ("Số 12 đường Phú Riềng Đỏ, Phường Tân Phú, Thành phố Đồng Xoài, Bình Phước", "25195"),
    ("kp 2, p. Tân Bình, tp Đồng Xoài", "25195"),
    ("tổ 5, khu phố Suối Đá, phường Tân Xuân, TP. Đồng Xoài, tỉnh Bình Phước", "25195"),
    ("ấp 1 xã Tiến Hưng Đồng Xoài Bình Phước", "25195"),
    ("Thôn 4, xã Tân Thành, thành phố Đồng Xoài", "25210"),
    ("ĐT 741, P. Long Thủy, TX. Phước Long, Bình Phước", "25217"),
    ("phuong thac mo, thi xa phuoc long, binh phuoc", "25217"),
    ("Quốc lộ 13, phường An Lộc, thị xã Bình Long", "25326"),
    ("ấp Phú Lố, xã Thanh Lương, Bình Long, Bình Phước", "25333"),
    ("KP Hiếu Cảm, P. Thành Tâm, TX Chơn Thành, BP", "25432"),
    ("ấp 2, xã Nha Bích, huyện Chơn Thành", "25450"),
    ("Thị trấn Tân Phú, huyện Đồng Phú, tỉnh Bình Phước", "25363"),
    ("ấp Thuận Phú 1, xã Thuận Lợi, Đồng Phú, Bình Phước", "25387"),
    ("xã Tân Hưng, huyện Hớn Quản, Bình Phước", "25345"),
    ("thôn Phú Tâm, xã Bù Nho, huyện Phú Riềng, tỉnh Bình Phước", "25252"),
    ("ấp 6, xã Lộc Tấn, huyện Lộc Ninh, Bình Phước", "25279"),
    ("thôn 3, xã Đức Liễu, huyện Bù Đăng, tỉnh Bình Phước", "25417"),
    ("Bom Bo, Bù Đăng, Bình Phước", "25405"),
    ("thôn Đak Côn, xã Đak Ơ, huyện Bù Gia Mập, Bình Phước", "25225"),
    ("Số 8 Võ Thị Sáu, phường Thống Nhất, thành phố Biên Hòa, Đồng Nai", "26041"),
    ("khu phố 3, phường Trảng Dài, TP Biên Hòa, tỉnh Đồng Nai", "25993"),
    ("ấp Bến Cam, xã Phước Thiền, huyện Nhơn Trạch, Đồng Nai", "26485"),
    ("Số 45 Hùng Vương, phường Xuân An, TP. Long Khánh, Đồng Nai", "26080"),
    ("ấp 2, xã Phú Lập, huyện Tân Phú, tỉnh Đồng Nai", "26134"),
    # Today's two-level addresses.
    ("Số 12 Phú Riềng Đỏ, phường Bình Phước, Đồng Nai", "25195"),
    ("Phường Đồng Xoài, tỉnh Đồng Nai", "25210"),
    ("khu phố 5, P. Phước Long, Đồng Nai", "25217"),
    ("ấp 3, xã Nha Bích, tỉnh Đồng Nai", "25450"),
    ("xa bu dang, dong nai", "25396"),
    ("Số 20 Nguyễn Ái Quốc, phường Trấn Biên, Đồng Nai", "26041"),
    ("tổ 7, phường Long Khánh, tỉnh Đồng Nai", "26080"),
    ("ấp Bàu Trâm, phường Bình Lộc, Đồng Nai", "26089"),
    ("Xã Phú Riềng, Đồng Nai", "25252"),
    ("Phường Minh Hưng, tỉnh Đồng Nai", "25441"),
    ("Xã Lộc Ninh, Đồng Nai", "25270"),
)
TYPE_SHORT = {"Phường": ("phường", "P.", "p", ""), "Xã": ("xã", "X.", "xa", ""),
              "Thị trấn": ("thị trấn", "TT.", "tt", ""), "Đặc khu": ("đặc khu", "")}
DISTRICT_SHORT = {"Huyện": ("huyện", "H.", ""), "Thị xã": ("thị xã", "TX.", "tx", ""),
                  "Thành phố": ("thành phố", "TP.", "tp", "")}
PLACES = ("Số {n} đường Lê Duẩn", "ấp {n}", "khu phố {n}", "tổ {n}, ấp {n2}", "thôn {n}", "")


def _unaccent(s: str) -> str:
    from unidecode import unidecode
    return unidecode(s)


def _generated(rng: random.Random, count: int) -> list[tuple[str, str]]:
    from hotline.services import official_units as official
    former = official.legacy_tree(["tinhbinhphuoc", "tinhdongnai"])
    names = {u.code: u for u in former}
    successors = official.successors("tinhdongnai")
    cases = []
    for u in former:
        if u.level != "commune" or u.code not in successors:
            continue
        d = names[u.parent_code]
        p = names[d.parent_code]
        short = u.name.removeprefix((u.unit_type or "") + " ")
        d_short = d.name.removeprefix((d.unit_type or "") + " ")
        ward = f"{rng.choice(TYPE_SHORT.get(u.unit_type, ('',)))} {short}".strip()
        district = f"{rng.choice(DISTRICT_SHORT.get(d.unit_type, ('',)))} {d_short}".strip()
        province = rng.choice((p.name, p.name.removeprefix("Tỉnh "), ""))
        place = rng.choice(PLACES).format(n=rng.randint(1, 12), n2=rng.randint(1, 9))
        address = ", ".join(x for x in (place, ward, district, province) if x)
        if rng.random() < 0.25:
            address = _unaccent(address)
        cases.append((address, successors[u.code].code))
    for u in official.current_tree("75"):
        if u.level != "commune":
            continue
        short = u.name.removeprefix((u.unit_type or "") + " ")
        ward = f"{rng.choice(TYPE_SHORT.get(u.unit_type, ('',)))} {short}".strip()
        place = rng.choice(PLACES).format(n=rng.randint(1, 12), n2=rng.randint(1, 9))
        address = ", ".join(x for x in (place, ward, rng.choice(("Đồng Nai", "tỉnh Đồng Nai")))
                            if x)
        if rng.random() < 0.25:
            address = _unaccent(address)
        cases.append((address, u.code))
    rng.shuffle(cases)
    return cases[:count]


def run(generated: int, seed: int) -> None:
    from hotline import create_app
    from hotline.extensions import db
    from hotline.services import address_areas, area_trees
    from hotline.services.admin.audit import Actor

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/a.db",
                          "REDIS_URL": None})
        with app.app_context():
            from flask_migrate import upgrade
            upgrade()
            area_trees.import_official(Actor(user=None, label="bench"), "Đồng Nai")
            db.session.commit()
            start = time.perf_counter()
            address_areas.warm_up()
            warm = time.perf_counter() - start
            results = []
            for name, cases in (("hand-written", list(HAND)),
                                ("generated", _generated(random.Random(seed), generated))):
                right = wrong = none = 0
                latencies = []
                misses = []
                for address, expected in cases:
                    t0 = time.perf_counter()
                    match = address_areas.ward_for_address(address)
                    latencies.append(time.perf_counter() - t0)
                    if match is None:
                        none += 1
                        misses.append((address, expected, None))
                    elif match.code == expected:
                        right += 1
                    else:
                        wrong += 1
                        misses.append((address, expected, match.code))
                n = len(cases)
                results.append(measure(
                    f"address → ward ({name})", n, latencies,
                    accuracy=round(right / n, 4), wrong=round(wrong / n, 4),
                    none=round(none / n, 4), misses=[list(m) for m in misses[:15]]))
            print_table(results)
            path = write_results("areas", results, parser_load_seconds=round(warm, 2))
            print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generated", type=int, default=400)
    parser.add_argument("--seed", type=int, default=22)
    args = parser.parse_args()
    run(args.generated, args.seed)


if __name__ == "__main__":
    main()
