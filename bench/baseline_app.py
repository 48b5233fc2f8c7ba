"""The baseline: a bare Flask endpoint on the same stack doing one single-row INSERT.

Intake throughput is read as a fraction of what this endpoint reaches on the
same machine, database and server. ``BASELINE_DATABASE_URL`` names the database.
"""
from __future__ import annotations

import os

from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text

from hotline.config import normalize_db_url


def create_app() -> Flask:
    app = Flask(__name__)
    engine = create_engine(normalize_db_url(os.environ["BASELINE_DATABASE_URL"]), pool_size=4)
    with engine.begin() as conn:
        # Every gunicorn worker runs this at boot: one at a time, or two CREATE at once fail.
        conn.execute(text("SELECT pg_advisory_xact_lock(1022)"))
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_baseline ("
                          "id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL, at TIMESTAMPTZ DEFAULT now())"))

    @app.post("/insert")
    def insert():
        with engine.begin() as conn:
            new_id = conn.execute(text("INSERT INTO bench_baseline (body) VALUES (:b) RETURNING id"),
                                  {"b": request.get_data(as_text=True)[:2000]}).scalar_one()
        return jsonify(id=new_id), 201

    return app
