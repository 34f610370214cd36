"""Access and portability: the export ZIP, written by a background job as a stream.

The archive goes through the app's file store (``leadthe.storage``: the local folder, or S3-compatible
object storage) as it is produced, and becomes visible only when complete (the local ``.part`` file is
renamed, the multipart upload completed), so a worker that dies half-way leaves nothing that can be
downloaded; the job is retried, clears what the dead worker left and starts the file afresh.
Rows are read in batches (``yield_per``) and written straight into the ZIP, so memory stays flat
however long a person's history is.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from leadthe import audit
from leadthe.database import write_transaction
from leadthe.extensions import db
from leadthe.net import absolute_url
from leadthe.mail import long_date, queue_mail
from leadthe.models import DataExport, PrivacyRequest, User, utcnow
from leadthe.models.enums import ExportStatus
from leadthe.privacy.registry import CATEGORIES, RETENTION_RULES, personal_sources
from leadthe.privacy.report import write_report
from leadthe.privacy.services import record_request, row_counts, subject_clause
from leadthe.storage import LocalStorage, send, storage
from leadthe.worker import enqueue_job

FORMAT = "leadthe-export/1"
BATCH = 1000
PROGRESS_EVERY = 1.0  # seconds between progress writes while an export is built
PREFIX = "exports/"  # the archives' keys in the file store (locally: the EXPORT_DIR folder)
MIMETYPE = "application/zip"
LINK_SECONDS = 300  # a presigned download URL's lifetime
BUSY_QUEUE = 10  # this many exports queued before one: its status page says the queue is long


@dataclass(frozen=True)
class Written:
    """A finished archive in the file store."""
    key: str
    name: str
    size: int
    sha256: str


def export_key(file_name: str) -> str:
    return PREFIX + file_name


def _key_prefix(export_id: int) -> str:
    return export_key(f"leadthe-export-{export_id}-")


def lifetime() -> timedelta:
    return timedelta(days=current_app.config.get("EXPORT_DAYS", 7))


def start_export(user: User, jurisdiction: str = "gdpr") -> DataExport:
    request = record_request(user, "portability", jurisdiction, self_service=True, status="in_progress",
                             details="Self-service export from the privacy centre")
    db.session.flush()
    export = DataExport(user_id=user.id, request_id=request.id)
    db.session.add(export)
    db.session.flush()
    enqueue_job("privacy.export", {"export_id": export.id})
    audit.record("privacy.export_requested", actor=user, subject=user, export_id=export.id)
    return export


def exports_ahead(export: DataExport) -> int:
    """How many exports (anyone's: the workers take them oldest first) are queued before this one."""
    if export.status != ExportStatus.QUEUED:
        return 0
    return db.session.scalar(sa.select(sa.func.count()).select_from(DataExport).where(
        DataExport.status == ExportStatus.QUEUED, DataExport.id < export.id)) or 0


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="leadthe.export-download")


def download_token(export: DataExport) -> str:
    return _serializer().dumps({"e": export.id, "u": export.user_id})


def export_for_token(token: str, user: User) -> DataExport | None:
    """The export a download link is for, if the link is genuine, unexpired and for this signed-in owner."""
    try:
        data = _serializer().loads(token, max_age=int(lifetime().total_seconds()))
    except (BadSignature, SignatureExpired):
        return None
    export = db.session.get(DataExport, data.get("e"))
    if export is None or export.user_id != user.id or data.get("u") != user.id:
        return None
    if export.status != ExportStatus.READY or (export.expires_at and export.expires_at <= utcnow()):
        return None
    return export


def mark_downloaded(export: DataExport, user: User) -> None:
    """Note the download (and audit it) in a short transaction of its own: the download is a GET."""
    with write_transaction() as conn:
        conn.execute(sa.update(DataExport).where(DataExport.id == export.id).values(downloaded_at=utcnow()))
        audit.record_apart("privacy.export_downloaded", actor=user, subject=user, export_id=export.id, conn=conn)


def file_path(export: DataExport) -> Path:
    """The archive's file on this machine (local storage only)."""
    store = storage()
    if not isinstance(store, LocalStorage):
        raise RuntimeError("the exports are in object storage: use leadthe.storage")
    return store.path(export_key(export.file_name))


def download(export: DataExport):
    """The download response for an export its owner may fetch: a presigned URL (303) or the file streamed."""
    return send(storage(), export_key(export.file_name), f"leadthe-data-{utcnow():%Y-%m-%d}.zip", MIMETYPE,
                expires=LINK_SECONDS)


def is_stored(export: DataExport) -> bool:
    return bool(export.file_name) and storage().exists(export_key(export.file_name))


def _value(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes, see the photo file>"
    return value


class _HashingWriter(io.RawIOBase):
    """Counts and hashes what is written into a ZIP member, for the manifest."""

    def __init__(self, target):
        self.target, self.sha, self.size = target, hashlib.sha256(), 0

    def writable(self):
        return True

    def write(self, data):
        self.sha.update(data)
        self.size += len(data)
        return self.target.write(data)


class ZipMember:
    def __init__(self, zf: zipfile.ZipFile, name: str, files: list):
        self.zf, self.name, self.files = zf, name, files

    def __enter__(self):
        self.raw = self.zf.open(self.name, "w", force_zip64=True)
        self.hashing = _HashingWriter(self.raw)
        self.text = io.TextIOWrapper(io.BufferedWriter(self.hashing, 64 * 1024), encoding="utf-8", newline="")
        return self.text

    def __exit__(self, *exc):
        self.text.flush()
        self.text.detach().flush()
        self.raw.close()
        self.files.append({"file": self.name, "bytes": self.hashing.size, "sha256": self.hashing.sha.hexdigest()})


def _exported_columns(source):
    table = db.metadata.tables[source.table]
    return [table.c[name] for name, col in source.columns.items() if col.export]


def _rows(source, user_id, counts: dict[str, int] | None = None):
    """The person's rows of ``source``; none asked for when the count at the start found the table empty (most
    of the 46 are, for most people; the manifest says 0 for them). Without ``counts`` the table is always read."""
    if counts is not None and not counts[source.table]:
        return ()
    stmt = sa.select(*_exported_columns(source)).where(subject_clause(source, user_id)).order_by(*db.metadata.tables[source.table].primary_key.columns)
    return db.session.execute(stmt.execution_options(yield_per=BATCH)).mappings()


def write_export(export: DataExport, progress=None) -> Written:
    """Write the whole archive for ``export.user_id`` into the file store; returns the finished file."""
    user = db.session.get(User, export.user_id)
    sources = personal_sources()
    counts = row_counts(user)
    store = storage()
    # A worker killed mid-write (no except clause runs) leaves its .part file or unfinished multipart upload
    # behind, full of personal data; the job's retry is the one place that knows it is dead, so it clears it first.
    store.discard_incomplete(_key_prefix(export.id))
    final_name = f"leadthe-export-{export.id}-{os.urandom(8).hex()}.zip"
    key = export_key(final_name)
    # an exception aborts the file (nothing half-written stays behind) and is raised again
    with store.writer(key, content_type=MIMETYPE) as out:
        with force_locale("en"):  # export.json and the manifest stay in English (the contract); report.html switches to the person's language
            _write_archive(out, user, sources, counts, progress)
    return Written(key=key, name=final_name, size=out.size, sha256=out.sha256)


def _write_archive(fh, user: User, sources, counts, progress) -> None:
    files: list[dict] = []
    now = utcnow()
    generated = now.isoformat()
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        with ZipMember(zf, "export.json", files) as out:
            _write_json(out, user, sources, generated, counts)
        for index, source in enumerate(sources):
            with ZipMember(zf, f"csv/{source.table}.csv", files) as out:
                _write_csv(out, user, source, counts)
            if progress:
                progress(10 + int(70 * (index + 1) / len(sources)))
        with ZipMember(zf, "report.html", files) as out:
            _write_report(out, user, sources, counts, now)
        if user.photo:
            with ZipMember(zf, "photo.jpg", files) as out:
                out.flush()
                out.buffer.write(user.photo)
        manifest = {
            "format": FORMAT, "generated_at": generated, "subject": {"id": user.id, "email": user.email},
            "sources": [{"table": s.table, "label": str(s.label), "category": s.category, "rows": counts[s.table],
                         "purpose": str(s.purpose), "legal_basis": s.basis, "retention": str(RETENTION_RULES[s.retention]),
                         "not_exported": {n: str(c.reason) for n, c in s.columns.items() if not c.export}}
                        for s in sources],
            "files": files,
        }
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))


def _write_json(out, user: User, sources, generated: str, counts: dict[str, int]) -> None:
    """export.json, streamed: the subject, then per category and table every row."""
    out.write(json.dumps({"format": FORMAT, "generated_at": generated,
                          "subject": {"id": user.id, "email": user.email}})[:-1])
    out.write(', "categories": {')
    for ci, category in enumerate(CATEGORIES):
        out.write(("," if ci else "") + json.dumps(category) + ": {")
        for si, source in enumerate(s for s in sources if s.category == category):
            out.write(("," if si else "") + json.dumps(source.table) + ": [")
            for ri, row in enumerate(_rows(source, user.id, counts)):
                record = {k: _value(v) for k, v in row.items()}
                if source.table == "user_account" and user.photo:
                    record["photo"] = "photo.jpg"
                out.write(("," if ri else "") + json.dumps(record, ensure_ascii=False))
            out.write("]")
        out.write("}")
    out.write("}}")


def _csv_value(value):
    """A cell: JSON values (a run's rubric checks, an event's details) as JSON, not as Python's repr."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return _value(value)


def _write_csv(out, user: User, source, counts: dict[str, int]) -> None:
    writer = csv.writer(out)
    writer.writerow([c.name for c in _exported_columns(source)])
    for row in _rows(source, user.id, counts):
        writer.writerow([_csv_value(v) for v in row.values()])


def _write_report(out, user, sources, counts, generated: datetime):
    write_report(out, user, sources, counts, generated)


def run_export(export_id: int) -> None:
    """Build the export's file (the ``privacy.export`` job), report progress as it goes, and mail the person."""
    export = db.session.get(DataExport, export_id)
    if export is None or export.status in (ExportStatus.READY, ExportStatus.EXPIRED):
        return
    export.status, export.progress = "running", 5
    db.session.commit()
    shown = [time.monotonic()]

    def progress(percent):
        # at most once a second: the status page asks every 2 s or less often, and a commit per table (46 of them)
        # was most of a small export's writes
        if time.monotonic() - shown[0] >= PROGRESS_EVERY:
            db.session.execute(sa.update(DataExport).where(DataExport.id == export.id).values(progress=percent))
            db.session.commit()
            shown[0] = time.monotonic()

    written = write_export(export, progress)
    now = utcnow()
    export.file_name, export.size_bytes, export.sha256 = written.name, written.size, written.sha256
    export.status, export.progress, export.ready_at, export.expires_at = "ready", 100, now, now + lifetime()
    user = db.session.get(User, export.user_id)
    if export.request_id:
        req = db.session.get(PrivacyRequest, export.request_id)
        req.status, req.completed_at = "completed", now
    queue_mail(user.email, _l("Your LeadThe.AI data export is ready"), "export_ready", kind="privacy", user=user,
               name=user.first_name, link=absolute_url("privacy.export_status", export_id=export.id),
               expires=long_date(export.expires_at))
    audit.record("privacy.export_ready", subject=user, export_id=export.id)


def delete_export_file(export: DataExport) -> None:
    """The archive and anything half-written for it go (retention, erasure); a missing file is fine."""
    store = storage()
    if export.file_name:
        store.delete(export_key(export.file_name))
    store.discard_incomplete(_key_prefix(export.id))
