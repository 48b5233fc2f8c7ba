"""Consistent backups and restores: the database and the attachment files in one archive.

``create(path)`` writes a tar archive holding ``manifest.json``, the database
(``pg_dump --format=custom`` for PostgreSQL, the SQLite online-backup API for
SQLite — both consistent while the app keeps running) and ``uploads/`` with
every stored attachment. The database is dumped *before* the files are
copied: attachment files are written before their row commits and are
content-addressed, so every file a dumped row names is already on disk.

``restore(path)`` puts both back and checks that every ticket counted in the
manifest and every attachment file a row names is there. Stop the web,
worker and cron processes first (docs/operations.md, "Backup and restore").
"""
from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from hotline.extensions import db

FORMAT = 1
PG_DUMP_NAME = "database.dump"
SQLITE_NAME = "database.sqlite3"


class BackupError(RuntimeError):
    """A backup or restore that cannot be done (wrong backend, missing tool, bad archive)."""


@dataclass(frozen=True)
class BackupReport:
    path: str
    backend: str
    tickets: int
    attachments: int
    files: int
    bytes: int

    def describe(self) -> str:
        return (f"{self.path}: {self.backend}, {self.tickets} phiếu, {self.attachments} tệp đính kèm "
                f"trong cơ sở dữ liệu, {self.files} tệp ({self.bytes / 1_048_576:.1f} MB).")


def _counts() -> tuple[int, int]:
    from hotline.models import Attachment, Ticket
    tickets = db.session.scalar(select(func.count()).select_from(Ticket)) or 0
    attachments = db.session.scalar(select(func.count()).select_from(Attachment)
                                     .where(Attachment.storage_key.is_not(None))) or 0
    return tickets, attachments


def _revision() -> str | None:
    try:
        return db.session.execute(db.text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - a schema made by create_all has no alembic table
        db.session.rollback()
        return None


def _pg_env() -> tuple[dict[str, str], str]:
    """libpq settings from the app's URL, passed by environment so the password is not in ``ps``."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    env = dict(os.environ)
    for var, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                       ("PGPASSWORD", url.password)):
        if value:
            env[var] = str(value)
    for key, value in (url.query or {}).items():
        if key == "sslmode":
            env["PGSSLMODE"] = str(value)
    return env, url.database


def _sqlite_path() -> str:
    path = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database
    if not path or path == ":memory:":
        raise BackupError("SQLite database in memory cannot be backed up.")
    return path


def _run(args: list[str], env: dict[str, str]) -> None:
    if shutil.which(args[0]) is None:
        raise BackupError(f"{args[0]} is not installed (apt-get install postgresql-client).")
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{args[0]} failed: {done.stderr.strip()[:2000]}")


def create(path: str) -> BackupReport:
    """Write a backup archive to ``path`` (a file, or a directory to put a dated file in)."""
    if os.path.isdir(path):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = os.path.join(path, f"hotline-backup-{stamp}.tar")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    backend = db.engine.dialect.name
    tickets, attachments = _counts()
    revision = _revision()
    db.session.commit()  # end the read transaction before the dump
    uploads = current_app.config["UPLOAD_FOLDER"]
    with tempfile.TemporaryDirectory(prefix="hotline-backup-") as work:
        if backend == "postgresql":
            env, name = _pg_env()
            dump = os.path.join(work, PG_DUMP_NAME)
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                  f"--file={dump}", name], env)
        elif backend == "sqlite":
            dump = os.path.join(work, SQLITE_NAME)
            src = sqlite3.connect(_sqlite_path())
            dst = sqlite3.connect(dump)
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
        else:
            raise BackupError(f"Unsupported database: {backend}")
        files, size = 0, 0
        tmp = path + ".partial"
        with tarfile.open(tmp, "w") as tar:
            tar.add(dump, arcname=os.path.basename(dump))
            if os.path.isdir(uploads):
                for root, _dirs, names in os.walk(uploads):
                    for name in sorted(names):
                        if name.endswith(".tmp"):
                            continue  # a file still being written: its row is not committed
                        full = os.path.join(root, name)
                        rel = os.path.relpath(full, uploads)
                        tar.add(full, arcname=f"uploads/{rel}")
                        files += 1
                        size += os.path.getsize(full)
            manifest = {
                "format": FORMAT, "created_at": datetime.now(UTC).isoformat(),
                "backend": backend, "database_file": os.path.basename(dump),
                "alembic_revision": revision, "tickets": tickets,
                "attachments": attachments, "files": files, "bytes": size,
                "province": current_app.config.get("PROVINCE_NAME"),
            }
            data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            info.mtime = int(datetime.now(UTC).timestamp())
            tar.addfile(info, io.BytesIO(data))
        os.replace(tmp, path)
    return BackupReport(path, backend, tickets, attachments, files, size)


def read_manifest(path: str) -> dict:
    try:
        with tarfile.open(path, "r") as tar:
            member = tar.extractfile("manifest.json")
            if member is None:
                raise KeyError("manifest.json")
            manifest = json.loads(member.read())
    except (OSError, KeyError, tarfile.TarError, json.JSONDecodeError) as exc:
        raise BackupError(f"Not a Hotline 1022 backup archive: {path} ({exc})") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    return manifest


def restore(path: str) -> BackupReport:
    """Replace the database and restore the attachment files from the archive at ``path``."""
    manifest = read_manifest(path)
    backend = db.engine.dialect.name
    if manifest["backend"] != backend:
        raise BackupError(f"The backup is of {manifest['backend']}, this app runs on {backend}.")
    uploads = current_app.config["UPLOAD_FOLDER"]
    db.session.remove()
    db.engine.dispose()
    files = size = 0
    with tempfile.TemporaryDirectory(prefix="hotline-restore-") as work, \
            tarfile.open(path, "r") as tar:
        database_file = manifest["database_file"]
        tar.extract(database_file, work, filter="data")
        dump = os.path.join(work, database_file)
        if backend == "postgresql":
            env, name = _pg_env()
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                  "--single-transaction", f"--dbname={name}", dump], env)
        else:
            src = sqlite3.connect(dump)
            dst = sqlite3.connect(_sqlite_path())
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
        os.makedirs(uploads, exist_ok=True)
        for member in tar.getmembers():
            if not member.name.startswith("uploads/") or not member.isfile():
                continue
            rel = member.name[len("uploads/"):]
            target = os.path.normpath(os.path.join(uploads, rel))
            if not target.startswith(os.path.normpath(uploads) + os.sep):
                raise BackupError(f"Unsafe path in archive: {member.name}")
            files += 1
            size += member.size
            if os.path.exists(target):
                continue  # content-addressed: the same name is the same bytes
            os.makedirs(os.path.dirname(target), exist_ok=True)
            source = tar.extractfile(member)
            with open(target + ".restore", "wb") as out:
                shutil.copyfileobj(source, out)
            os.replace(target + ".restore", target)
    tickets, attachments = _counts()
    missing = missing_files()
    db.session.commit()
    if tickets != manifest["tickets"] or missing:
        raise BackupError(f"Restore incomplete: {tickets} tickets (backup had "
                          f"{manifest['tickets']}), {len(missing)} attachment file(s) missing.")
    return BackupReport(path, backend, tickets, attachments, files, size)


def missing_files(limit: int = 100) -> list[str]:
    """Storage keys of attachments whose file is not on disk (checked in id order)."""
    from hotline.models import Attachment
    uploads = current_app.config["UPLOAD_FOLDER"]
    missing: list[str] = []
    last = 0
    while len(missing) < limit:
        rows = db.session.execute(select(Attachment.id, Attachment.storage_key)
                                  .where(Attachment.storage_key.is_not(None), Attachment.id > last)
                                  .order_by(Attachment.id).limit(5000)).all()
        if not rows:
            break
        last = rows[-1].id
        missing.extend(r.storage_key for r in rows
                       if not os.path.exists(os.path.join(uploads, r.storage_key)))
    return missing[:limit]
