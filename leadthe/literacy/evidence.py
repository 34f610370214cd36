"""The evidence pack: one ZIP of the evidence of AI-literacy measures a company admin can hand to an auditor.

An admin asks for it (with step-up re-authentication); the worker builds it (``literacy.evidence`` job,
leadthe.literacy.evidence_pack writes the files) into the app's file store (``leadthe.storage``: a ``.part``
file in the instance folder renamed when complete, or a multipart upload to object storage completed only at
the end), so a failed or interrupted build never offers a half file. The file is deleted 7 days
after it was made by the retention rule ``export_7d`` (``expire_packs``). Asking for a pack and downloading
it are audited.
"""
from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from leadthe import audit
from leadthe.database import write_transaction
from leadthe.extensions import db
from leadthe.literacy.evidence_pack import write_pack
from leadthe.models import EvidencePack, Organization, User, utcnow
from leadthe.models.enums import EvidenceStatus
from leadthe.storage import LocalStorage, send, storage
from leadthe.worker import enqueue_job
from leadthe.trust import works_council

log = logging.getLogger(__name__)

LIFETIME = timedelta(days=7)
RECENT = 10  # packs listed on the page
PREFIX = "evidence/"  # the packs' keys in the file store (locally: the EVIDENCE_DIR folder)
MIMETYPE = "application/zip"
LINK_SECONDS = 300  # a presigned download URL's lifetime


def pack_key(file_name: str) -> str:
    return PREFIX + file_name


def evidence_dir() -> Path:
    """The local folder of the finished packs (local storage only): only the app's own user may read it (0700)."""
    path = Path(current_app.config.get("EVIDENCE_DIR") or Path(current_app.instance_path) / "evidence")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def start_pack(admin: User) -> EvidencePack:
    """A new pack for the admin's company, queued for the worker (in the request's transaction)."""
    org = db.session.get(Organization, admin.org_id)
    pack = EvidencePack(org_id=admin.org_id, requested_by_id=admin.id, team_figures_only=works_council.team_figures_only(org))
    db.session.add(pack)
    db.session.flush()
    enqueue_job("literacy.evidence", {"pack_id": pack.id})
    audit.record("evidence_pack.requested", actor=admin, subject=admin, pack_id=pack.id,
                 team_figures_only=pack.team_figures_only)
    return pack


def recent_packs(org_id: int, limit: int = RECENT) -> list[tuple[EvidencePack, str | None]]:
    """The company's latest packs, newest first, each with the name of the admin who asked for it."""
    rows = db.session.execute(
        sa.select(EvidencePack, User.name).outerjoin(User, User.id == EvidencePack.requested_by_id)
        .where(EvidencePack.org_id == org_id).order_by(EvidencePack.id.desc()).limit(limit))
    return [(pack, name) for pack, name in rows]


def is_downloadable(pack: EvidencePack, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (pack.status == EvidenceStatus.READY and bool(pack.file_name)
            and (pack.expires_at is None or pack.expires_at > now) and storage().exists(pack_key(pack.file_name)))


def file_path(pack: EvidencePack) -> Path:
    """The pack's file on this machine (local storage only)."""
    store = storage()
    if not isinstance(store, LocalStorage):
        raise RuntimeError("the packs are in object storage: use leadthe.storage")
    return store.path(pack_key(pack.file_name))


def download(pack: EvidencePack):
    """The download response for a pack the caller may fetch: a presigned URL (303) or the file streamed."""
    return send(storage(), pack_key(pack.file_name), download_name(pack), MIMETYPE, expires=LINK_SECONDS)


def download_name(pack: EvidencePack) -> str:
    return f"evidence-ai-literacy-{(pack.ready_at or utcnow()):%Y-%m-%d}-{pack.id}.zip"


def mark_downloaded(pack: EvidencePack, user: User) -> None:
    """Audit the download in a short transaction of its own: the download is a GET."""
    with write_transaction() as conn:
        audit.record_apart("evidence_pack.downloaded", actor=user, subject=user, org_id=pack.org_id, pack_id=pack.id,
                           conn=conn)


def _key_prefix(pack_id: int) -> str:
    return pack_key(f"evidence-{pack_id}-")


def _set(pack_id: int, **values) -> None:
    db.session.execute(sa.update(EvidencePack).where(EvidencePack.id == pack_id).values(**values))
    db.session.commit()


def run_pack(pack_id: int) -> None:
    """Build the pack's file (the ``literacy.evidence`` job), reporting progress as it goes. A failure is
    recorded on the pack (status failed, no file) and not retried: the admin asks for a new one."""
    pack = db.session.get(EvidencePack, pack_id)
    if pack is None or pack.status in (EvidenceStatus.READY, EvidenceStatus.EXPIRED, EvidenceStatus.FAILED):
        return
    _set(pack_id, status=EvidenceStatus.RUNNING, progress=2)
    store = storage()
    # a worker killed mid-write leaves its .part file or unfinished upload behind: the job's retry clears it first
    store.discard_incomplete(_key_prefix(pack_id))
    final_name = f"evidence-{pack_id}-{os.urandom(8).hex()}.zip"
    try:
        # the writer aborts the file on an exception (nothing half-written stays behind) and raises it again
        with store.writer(pack_key(final_name), content_type=MIMETYPE) as out:
            write_pack(pack, out, progress=lambda percent: _set(pack_id, progress=percent))
    except Exception as exc:  # noqa: BLE001 - recorded on the pack
        db.session.rollback()
        log.exception("evidence pack %s failed", pack_id)
        _set(pack_id, status=EvidenceStatus.FAILED, progress=0, file_name="", error=type(exc).__name__[:300])
        return
    now = utcnow()
    _set(pack_id, status=EvidenceStatus.READY, progress=100, file_name=final_name, size_bytes=out.size,
         sha256=out.sha256, ready_at=now, expires_at=now + LIFETIME, error="")


def delete_pack_file(pack: EvidencePack) -> None:
    store = storage()
    if pack.file_name:
        store.delete(pack_key(pack.file_name))
    store.discard_incomplete(_key_prefix(pack.id))


def expire_packs(now: datetime, dry_run: bool = False, org_id: int | None = None) -> int:
    """The retention rule ``export_7d`` for evidence packs: files older than 7 days deleted, rows marked
    expired (the row stays as the record that a pack was made; the audit log says by whom). With ``org_id``:
    every ready pack of that company at once (a person of it is being erased, and the packs hold their data)."""
    due = EvidencePack.org_id == org_id if org_id is not None else EvidencePack.expires_at <= now
    packs = db.session.scalars(sa.select(EvidencePack).where(EvidencePack.status == EvidenceStatus.READY, due)).all()
    if not dry_run:
        for pack in packs:
            delete_pack_file(pack)
            pack.status, pack.file_name = EvidenceStatus.EXPIRED, ""
        db.session.commit()
    return len(packs)
