"""Does the sign-in answer take as long for an unknown username as for a known one?

``python -m bench.login [--repeat 40]``

Times ``POST /login`` through the whole Flask stack (test client, a SQLite file, no
rate limit) for a wrong password on an existing account, an unknown username, a
deactivated account and a correct password, interleaved so that drift of a shared
machine hits every case alike. Prints the table and the ratios to the "wrong
password" case (1.0 means nothing to tell apart); writes bench/results/login.json.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import Measurement, measure, print_table, progress, write_results

PASSWORD = "mây-trắng-bay-qua-đồi-thông"
CASES = {
    "wrong password, existing account": ("lanhdao", "sai-mat-khau-123"),
    "unknown username": ("khong-ton-tai", "sai-mat-khau-123"),
    "deactivated account": ("nghiviec", PASSWORD),
    "correct password": ("lanhdao", PASSWORD),
}


def run(repeat: int) -> list[Measurement]:
    from hotline import create_app
    from hotline.extensions import db
    from hotline.services import accounts
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'login.db'}",
                          "REDIS_URL": None, "RATELIMIT_ENABLED": False,
                          "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench-" + "x" * 32})
        with app.app_context():
            db.create_all()
            for username in ("lanhdao", "nghiviec"):
                accounts.create_user(username=username, password=PASSWORD, role="manager",
                                     full_name="Bench")
            db.session.commit()
            from hotline.models import User
            db.session.execute(db.update(User).where(User.username == "nghiviec")
                               .values(active=False))
            db.session.commit()
            db.engine.dispose()
        client = app.test_client()
        samples: dict[str, list[float]] = {name: [] for name in CASES}
        for i in range(repeat + 3):
            for name, (username, password) in CASES.items():
                start = time.perf_counter()
                resp = client.post("/login", data={"username": username, "password": password})
                elapsed = time.perf_counter() - start
                expected = 302 if name == "correct password" else 401
                assert resp.status_code == expected, (name, resp.status_code)
                if name == "correct password":
                    client.post("/logout")
                if i >= 3:  # warm-up
                    samples[name].append(elapsed)
    base = statistics.median(samples["wrong password, existing account"])
    return [measure(name, None, values,
                    ratio_to_wrong_password=round(statistics.median(values) / base, 3))
            for name, values in samples.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    progress(f"POST /login × {args.repeat} per case")
    results = run(args.repeat)
    print_table(results)
    path = write_results("login", results, repeat=args.repeat)
    progress(f"written {path}")


if __name__ == "__main__":
    main()
