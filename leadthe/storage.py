"""One interface for every file the platform generates (data exports, evidence packs, anything later).

Two back-ends behind the same calls:

- ``LocalStorage``: a private (0700) folder under ``instance/`` -- the embedded default for ``make run``.
  Keys map to files; the first segment may be given a folder of its own (``exports/`` follows
  ``EXPORT_DIR``, ``evidence/`` follows ``EVIDENCE_DIR``), so the paths of earlier versions keep working.
- ``S3Storage``: any S3-compatible store (AWS S3, MinIO, Ceph, R2) through boto3, chosen with
  ``LEADTHE_STORAGE_URL=s3://bucket/prefix``.

A file is written with ``store.writer(key)`` as it is produced, never whole in memory. It becomes visible only
when the ``with`` block ends normally (local: the ``.part`` file is renamed; S3: the multipart upload is
completed). An exception aborts it (the ``.part`` is deleted; the upload is aborted) and is raised again, so
a file that failed half-way is never offered. A process killed outright leaves a ``.part`` file or an
unfinished multipart upload that nobody can download; ``discard_incomplete(prefix)`` clears them away (the
job's retry calls it) and the bucket's lifecycle rule is the safety net (see deploy/README.md).
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator
from urllib.parse import quote, urlsplit

from flask import Flask, Response, current_app, redirect, send_file

log = logging.getLogger(__name__)

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's smallest part (all but the last)
DEFAULT_PART_SIZE = 8 * 1024 * 1024
CHUNK = 256 * 1024


class StorageError(RuntimeError):
    """The store cannot be used as configured (missing bucket, bad URL): said clearly, at first use."""


class _Writer(io.RawIOBase):
    """The binary file-like object ``writer()`` yields: counts and hashes what goes through it.

    It answers ``tell()`` but cannot seek, so ``zipfile`` writes a streaming archive (data descriptors),
    the same bytes on either back-end."""

    def __init__(self, sink):
        super().__init__()
        self._sink, self.size, self._sha = sink, 0, hashlib.sha256()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.size

    def seek(self, *args):  # noqa: ARG002 - a stream written once
        raise io.UnsupportedOperation("the storage writer cannot seek")

    def write(self, data) -> int:
        data = bytes(data)
        if data:
            self._sink(data)
            self._sha.update(data)
            self.size += len(data)
        return len(data)

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


def attachment(filename: str) -> str:
    """A Content-Disposition that offers ``filename`` as a download (ASCII fallback plus RFC 5987)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


class Storage:
    name = "base"

    def warm_up(self) -> bool:
        """Prepare in a gunicorn master, before it forks (leadthe.ops.warmup), what every worker would otherwise
        prepare on its first use; sends no request. True when there was something to prepare."""
        return False

    def writer(self, key: str, content_type: str = "application/octet-stream"):
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def size(self, key: str) -> int | None:
        raise NotImplementedError

    def open(self, key: str) -> BinaryIO:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def delete_prefix(self, prefix: str) -> int:
        raise NotImplementedError

    def discard_incomplete(self, prefix: str) -> int:
        """Throw away half-written files whose key starts with ``prefix`` (left by a killed process)."""
        raise NotImplementedError

    def download_url(self, key: str, filename: str, expires: int = 300,
                     content_type: str = "application/octet-stream") -> str | None:
        return None

    def check(self) -> str:
        """Raise StorageError when the store cannot be used; else a line describing it."""
        raise NotImplementedError


# --- the local folder ------------------------------------------------------------------------------------

class LocalStorage(Storage):
    name = "local"

    def __init__(self, root: str | os.PathLike, folders: dict[str, str | os.PathLike] | None = None):
        self.root = Path(root)
        self.folders = {k: Path(v) for k, v in (folders or {}).items() if v}

    def _folder_and_name(self, key: str) -> tuple[Path, str]:
        key = key.lstrip("/")
        if not key or ".." in key.split("/") or "\x00" in key:
            raise ValueError("bad storage key")
        head, _, rest = key.partition("/")
        if rest and head in self.folders:
            base, rel = self.folders[head], rest
        else:
            base, rel = self.root, key
        path = base / rel
        return path.parent, path.name

    def path(self, key: str, create: bool = False) -> Path:
        folder, name = self._folder_and_name(key)
        if create:
            _private_folder(folder)
        return folder / name

    @contextmanager
    def writer(self, key: str, content_type: str = "application/octet-stream") -> Iterator[_Writer]:
        final = self.path(key, create=True)
        part = final.with_name(final.name + ".part")
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # private, whatever the umask
        fh = os.fdopen(fd, "wb")
        out = _Writer(fh.write)
        try:
            yield out
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
        except BaseException:
            fh.close()
            part.unlink(missing_ok=True)  # nothing half-written stays behind
            raise
        os.replace(part, final)  # only now is the file there

    def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            return None

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def _glob(self, prefix: str, suffix: str = "") -> list[Path]:
        folder, name = self._folder_and_name(prefix + "x")
        name = name[:-1]
        if not folder.is_dir():
            return []
        return [p for p in folder.iterdir() if p.name.startswith(name) and p.name.endswith(suffix) and p.is_file()]

    def delete_prefix(self, prefix: str) -> int:
        paths = self._glob(prefix)
        for path in paths:
            path.unlink(missing_ok=True)
        return len(paths)

    def discard_incomplete(self, prefix: str) -> int:
        paths = self._glob(prefix, ".part")
        for path in paths:
            path.unlink(missing_ok=True)
        return len(paths)

    def check(self) -> str:
        for folder in self.folders.values():
            _private_folder(folder)
            if not os.access(folder, os.W_OK):
                raise StorageError(f"the folder {folder} is not writable")
        return "local folders " + ", ".join(f"{k}/ -> {v}" for k, v in self.folders.items()) + f"; others under {self.root}"


def _private_folder(path: Path) -> None:
    """Only the app's own user may list or read the folder (0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)  # made by an earlier version with the umask's 0755


# --- S3-compatible object storage ------------------------------------------------------------------------

_boto3 = {"session": None, "lock": threading.Lock()}


def _boto3_client(service: str, config: dict, **options):
    """A new client (``config``: botocore's Config settings) from this process's one boto3 session. The
    session's loader keeps the service descriptions it has parsed (about a second of CPU, most of a first
    client's cost), so every later client, and every client of a gunicorn worker forked after the master's
    warm-up, starts from them. Made under a lock: a session is not thread-safe."""
    import boto3, botocore.config  # noqa: E401 - lazy: about 0.3-0.8 s to load, only object storage needs them

    with _boto3["lock"]:
        if _boto3["session"] is None:
            _boto3["session"] = boto3.session.Session()
        return _boto3["session"].client(service, config=botocore.config.Config(**config), **options)


class S3Storage(Storage):
    name = "s3"

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None, sse: str = "AES256",
                 part_size: int = DEFAULT_PART_SIZE, connect_timeout: float = 5, read_timeout: float = 60,
                 retries: int = 5, presigned: bool = True, client=None):
        if not bucket:
            raise StorageError("LEADTHE_STORAGE_URL names no bucket (s3://bucket/prefix)")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.endpoint_url, self.sse, self.part_size, self.presigned = endpoint_url or None, sse, part_size, presigned
        self._client = client
        self._timeouts = (connect_timeout, read_timeout, retries)
        self._checked = False

    @property
    def client(self):
        if self._client is None:
            self._client = self._new_client()
        if not self._checked:
            self._ensure_bucket(self._client)
        return self._client

    def _new_client(self):
        connect, read, retries = self._timeouts
        return _boto3_client(
            "s3", endpoint_url=self.endpoint_url,
            config={"connect_timeout": connect, "read_timeout": read, "signature_version": "s3v4",
                    "retries": {"max_attempts": retries, "mode": "standard"},
                    "s3": {"addressing_style": "path" if self.endpoint_url else "auto"}})

    def warm_up(self) -> bool:
        """In a gunicorn master before it forks (leadthe.ops.warmup): read the service descriptions into the
        shared session, so that each worker makes its own client in milliseconds. Sends no request."""
        self._new_client()
        return True

    def _ensure_bucket(self, client) -> None:
        try:
            client.head_bucket(Bucket=self.bucket)
        except client.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchBucket", "NotFound"):
                raise StorageError(f"the bucket {self.bucket!r} does not exist (LEADTHE_STORAGE_URL); create it first") from exc
            if code in ("403", "AccessDenied", "Forbidden"):
                raise StorageError(f"no access to the bucket {self.bucket!r}: check the credentials and the bucket policy") from exc
            raise
        self._checked = True

    def object_key(self, key: str) -> str:
        key = key.lstrip("/")
        return f"{self.prefix}/{key}" if self.prefix else key

    def _sse(self) -> dict:
        return {"ServerSideEncryption": self.sse} if self.sse else {}

    @contextmanager
    def writer(self, key: str, content_type: str = "application/octet-stream") -> Iterator[_Writer]:
        client, okey = self.client, self.object_key(key)
        upload = _MultipartUpload(client, self.bucket, okey, content_type, self._sse(), self.part_size)
        out = _Writer(upload.write)
        try:
            yield out
            upload.complete()
        except BaseException:
            upload.abort()  # nothing half-written is ever visible
            raise

    def size(self, key: str) -> int | None:
        client = self.client
        try:
            return client.head_object(Bucket=self.bucket, Key=self.object_key(key))["ContentLength"]
        except client.exceptions.ClientError as exc:  # botocore's ClientError, without importing botocore here
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def open(self, key: str) -> BinaryIO:
        return self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"]

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))  # a missing key is no error in S3

    def delete_prefix(self, prefix: str) -> int:
        client, count = self.client, 0
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.object_key(prefix)):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
                count += len(keys)
        return count

    def discard_incomplete(self, prefix: str) -> int:
        client, count = self.client, 0
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket,
                                                                             Prefix=self.object_key(prefix)):
            for upload in page.get("Uploads", []):
                client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                count += 1
        return count

    def download_url(self, key: str, filename: str, expires: int = 300,
                     content_type: str = "application/octet-stream") -> str | None:
        if not self.presigned:
            return None
        return self.client.generate_presigned_url("get_object", ExpiresIn=int(expires), Params={
            "Bucket": self.bucket, "Key": self.object_key(key), "ResponseContentType": content_type,
            "ResponseContentDisposition": attachment(filename), "ResponseCacheControl": "private, no-store"})

    def check(self) -> str:
        """The bucket exists and is ours, and a small object can be written (with SSE), read and deleted."""
        self._checked = False
        client, key = self.client, self.object_key(".leadthe-storage-check")  # head_bucket on first use
        try:
            client.put_object(Bucket=self.bucket, Key=key, Body=b"ok", **self._sse())
            client.head_object(Bucket=self.bucket, Key=key)
            client.delete_object(Bucket=self.bucket, Key=key)
        except client.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            hint = " (a store without server-side encryption: set LEADTHE_S3_SSE=)" if self.sse else ""
            raise StorageError(f"writing to the bucket {self.bucket!r} failed: {error.get('Code')} {error.get('Message', '')}"
                               f"{hint}") from exc
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"bucket {self.bucket!r}{where}, prefix {self.prefix or '(none)'!r}, SSE {self.sse or 'off'}"


class _MultipartUpload:
    """Parts of ``part_size`` bytes (the last smaller) uploaded as they fill; at most one part in memory.

    The upload is created with the first full part; a file smaller than one part is one PutObject at the end
    (atomic as well). Nothing is visible until CompleteMultipartUpload."""

    def __init__(self, client, bucket, key, content_type, sse: dict, part_size: int):
        self.client, self.bucket, self.key = client, bucket, key
        self.content_type, self.sse, self.part_size = content_type, sse, part_size
        self.buffer, self.upload_id, self.parts = bytearray(), None, []

    def write(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= self.part_size:
            chunk = bytes(self.buffer[:self.part_size])
            del self.buffer[:self.part_size]
            self._upload_part(chunk)

    def _upload_part(self, chunk: bytes) -> None:
        if self.upload_id is None:
            self.upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self.content_type, **self.sse)["UploadId"]
        number = len(self.parts) + 1
        etag = self.client.upload_part(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                                       PartNumber=number, Body=chunk)["ETag"]
        self.parts.append({"PartNumber": number, "ETag": etag})

    def complete(self) -> None:
        if self.upload_id is None:
            self.client.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self.buffer),
                                   ContentType=self.content_type, **self.sse)
            self.buffer = bytearray()
            return
        if self.buffer:
            self._upload_part(bytes(self.buffer))
            self.buffer = bytearray()
        self.client.complete_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                                              MultipartUpload={"Parts": self.parts})

    def abort(self) -> None:
        self.buffer = bytearray()
        if self.upload_id is None:
            return
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
        except Exception:  # noqa: BLE001 - the lifecycle rule and the retry's discard_incomplete catch it
            log.warning("could not abort a multipart upload; it stays invisible and is cleared later")


# --- from the app's settings -------------------------------------------------------------------------------

def from_config(config, instance_path: str) -> Storage:
    url = (config.get("STORAGE_URL") or "").strip()
    if not url:
        return LocalStorage(instance_path, folders={
            "exports": config.get("EXPORT_DIR") or Path(instance_path) / "exports",
            "evidence": config.get("EVIDENCE_DIR") or Path(instance_path) / "evidence"})
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise StorageError("LEADTHE_STORAGE_URL must be empty (the local folder) or s3://bucket/prefix")
    return S3Storage(parts.netloc, parts.path, endpoint_url=config.get("S3_ENDPOINT_URL"),
                     sse=config.get("S3_SSE", "AES256"), part_size=int(config.get("S3_PART_SIZE") or DEFAULT_PART_SIZE),
                     connect_timeout=float(config.get("S3_CONNECT_TIMEOUT", 5)),
                     read_timeout=float(config.get("S3_READ_TIMEOUT", 60)),
                     presigned=bool(config.get("S3_PRESIGNED", True)))


_SETTINGS = ("STORAGE_URL", "EXPORT_DIR", "EVIDENCE_DIR", "S3_ENDPOINT_URL", "S3_SSE", "S3_PART_SIZE",
             "S3_CONNECT_TIMEOUT", "S3_READ_TIMEOUT", "S3_PRESIGNED")


def storage(app: Flask | None = None) -> Storage:
    """The app's store, built from its settings and kept per app (rebuilt when a setting changes)."""
    app = app or current_app._get_current_object()
    signature = tuple(str(app.config.get(name)) for name in _SETTINGS)
    cached = app.extensions.get("leadthe.storage")
    if cached is None or cached[0] != signature:
        cached = (signature, from_config(app.config, app.instance_path))
        app.extensions["leadthe.storage"] = cached
    return cached[1]


def send(store: Storage, key: str, filename: str, mimetype: str, expires: int = 300):
    """The response for a download the caller has already allowed: a 303 to a short-lived presigned URL
    when the store offers one, else the file streamed by the app."""
    url = store.download_url(key, filename, expires=expires, content_type=mimetype)
    if url:
        response = redirect(url, code=303)
        response.headers["Cache-Control"] = "no-store"
        return response
    if isinstance(store, LocalStorage):
        return send_file(store.path(key), mimetype=mimetype, as_attachment=True, download_name=filename, max_age=0)
    size = store.size(key)
    body = store.open(key)

    def chunks():
        try:
            while chunk := body.read(CHUNK):
                yield chunk
        finally:
            body.close()

    headers = {"Content-Disposition": attachment(filename), "Cache-Control": "private, no-store"}
    if size is not None:
        headers["Content-Length"] = str(size)
    return Response(chunks(), mimetype=mimetype, headers=headers, direct_passthrough=True)

