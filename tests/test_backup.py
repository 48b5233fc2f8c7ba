"""Backup and restore: back up, destroy the database and the files, restore, find everything."""
from __future__ import annotations

import os
import shutil
import tarfile

import pytest
from sqlalchemy import func, select

from hotline import backup
from hotline.domain.messages import ContactHandle, IncomingAttachment
from hotline.extensions import db
from hotline.models import Attachment, Ticket


def _tickets(receive) -> dict[str, set[str]]:
    """Three tickets, two with photos (one photo shared): code → attachment sha256s."""
    receive(external_id="b1", attachments=(IncomingAttachment("a.jpg", "image/jpeg", b"photo-1"),
                                           IncomingAttachment("b.png", "image/png", b"photo-2")))
    receive(external_id="b2", channel="web", contact=ContactHandle(phone="0987654321"),
            attachments=(IncomingAttachment("a.jpg", "image/jpeg", b"photo-1"),))
    receive(external_id="b3", channel="web", contact=ContactHandle(email="x@example.com"))
    return _state()


def _state() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for code, sha in db.session.execute(select(Ticket.code, Attachment.sha256).outerjoin(
            Attachment, Attachment.ticket_id == Ticket.id)):
        out.setdefault(code, set())
        if sha:
            out[code].add(sha)
    return out


def _destroy(app) -> None:
    """Lose the database and every attachment file."""
    if db.engine.dialect.name == "postgresql":
        db.session.remove()
        db.drop_all()
    else:
        path = db.engine.url.database
        db.session.remove()
        db.engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    shutil.rmtree(app.config["UPLOAD_FOLDER"])


def test_backup_destroy_restore_finds_every_ticket_and_attachment(app, receive, runner, tmp_path,
                                                                  backend):
    before = _tickets(receive)
    assert len(before) == 3 and sum(len(v) for v in before.values()) == 3
    out = runner.invoke(args=["backup", "create", str(tmp_path)])
    assert out.exit_code == 0, out.output
    [archive] = list(tmp_path.glob("hotline-backup-*.tar"))
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "manifest.json" in names
    assert (backup.PG_DUMP_NAME if backend == "postgresql" else backup.SQLITE_NAME) in names
    assert len([n for n in names if n.startswith("uploads/")]) == 2  # the shared photo once
    manifest = backup.read_manifest(str(archive))
    assert manifest["tickets"] == 3 and manifest["attachments"] == 3 and manifest["backend"] == backend

    _destroy(app)
    out = runner.invoke(args=["backup", "restore", str(archive)], input="y\n")
    assert out.exit_code == 0, out.output
    assert "Restored" in out.output

    assert _state() == before
    for key in db.session.scalars(select(Attachment.storage_key)):
        with open(os.path.join(app.config["UPLOAD_FOLDER"], key), "rb") as fh:
            assert fh.read() in (b"photo-1", b"photo-2")
    assert backup.missing_files() == []
    # The restored database takes new tickets (sequences restored too).
    receive(external_id="after-restore", channel="web", contact=ContactHandle(phone="0911111111"))
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 4


def test_restore_refuses_a_foreign_or_broken_archive(app, tmp_path, runner):
    bogus = tmp_path / "x.tar"
    bogus.write_bytes(b"not a tar")
    out = runner.invoke(args=["backup", "restore", str(bogus), "--yes"])
    assert out.exit_code != 0 and "Not a Hotline 1022 backup" in out.output
    with pytest.raises(backup.BackupError):
        backup.read_manifest(str(bogus))


def test_restore_needs_confirmation(app, receive, runner, tmp_path):
    _tickets(receive)
    archive = tmp_path / "b.tar"
    assert runner.invoke(args=["backup", "create", str(archive)]).exit_code == 0
    out = runner.invoke(args=["backup", "restore", str(archive)], input="n\n")
    assert out.exit_code != 0 and "Aborted" in out.output
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 3
