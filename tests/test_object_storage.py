"""Generated files in S3-compatible object storage (leadthe.storage), against a moto S3 server on loopback.

An export is written to the bucket in parts as it is produced and downloaded by its owner only (through a
short-lived presigned URL, or streamed by the app); retention and erasure delete its object; a worker that
fails or is killed mid-upload leaves nothing downloadable and the job completes on retry. The evidence pack
goes the same way. The server runs as a subprocess (``python -m moto.server``) for the whole session."""
from __future__ import annotations

import hashlib
import inspect
import io
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import DataExport, EvidencePack, User, utcnow
from leadthe.worker import JOB_LEASE, run_once
from tests.conftest import PASSWORD, free_port, post_form
from tests import test_literacy_evidence as evidence_tests
from tests import test_privacy as privacy_tests
from tests.helpers import login, plant_literacy_programme
from tests.test_literacy_evidence import programme  # noqa: F401 - a fixture the evidence tests below use

pytest.importorskip("moto.server", reason="moto[server] is pinned in requirements/test.txt")
boto3 = pytest.importorskip("boto3")

BUCKET = "leadthe-test"
TEST_PART = 64 * 1024  # the moto server below accepts parts this small; production's minimum is 5 MiB
MiB = 1024 * 1024


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """A moto S3 server on a free loopback port, with the test bucket; stopped at the end of the session."""
    port = free_port()
    env = {**os.environ, "S3_UPLOAD_PART_MIN_SIZE": str(TEST_PART), "AWS_ACCESS_KEY_ID": "test",
           "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if server.poll() is not None:
                pytest.fail(f"the moto server ended at start (exit {server.returncode})")
            try:
                urllib.request.urlopen(url + "/", timeout=1).close()
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the moto server did not start")
        _client(url).create_bucket(Bucket=BUCKET)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _client(endpoint):
    return boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                 region_name="us-east-1").client("s3", endpoint_url=endpoint)


class Bucket:
    """The test's own prefix in the bucket, seen from outside the app."""

    def __init__(self, endpoint, prefix):
        self.client, self.prefix = _client(endpoint), prefix

    def keys(self):
        page = self.client.list_objects_v2(Bucket=BUCKET, Prefix=self.prefix + "/")
        return sorted(item["Key"] for item in page.get("Contents", []))

    def uploads(self):
        page = self.client.list_multipart_uploads(Bucket=BUCKET, Prefix=self.prefix + "/")
        return page.get("Uploads", [])

    def head(self, key):
        return self.client.head_object(Bucket=BUCKET, Key=key)


@pytest.fixture
def s3(app, s3_endpoint, monkeypatch):
    """The app stores its files under a fresh prefix of the moto bucket (small parts, SSE on)."""
    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    monkeypatch.setitem(app.config, "STORAGE_URL", f"s3://{BUCKET}/{prefix}")
    monkeypatch.setitem(app.config, "S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setitem(app.config, "S3_PART_SIZE", TEST_PART)
    monkeypatch.setitem(app.config, "S3_SSE", "AES256")
    monkeypatch.setitem(app.config, "S3_PRESIGNED", True)
    yield Bucket(s3_endpoint, prefix)
    app.extensions.pop("leadthe.storage", None)


def _give_photo(app, user_id, size=300 * 1024) -> None:
    """A large, incompressible profile photo, so the archive spans several parts."""
    with app.app_context():
        db.session.get(User, user_id).photo = os.urandom(size)
        db.session.commit()


def _request_export(client) -> str:
    response = post_form(client, "/privacy/export", {"password": PASSWORD}, page="/privacy")
    assert response.status_code == 303
    return response.headers["Location"]


def _link(client, status_url) -> str | None:
    page = client.get(status_url).get_data(as_text=True)
    found = re.search(r'href="(/privacy/exports/\d+/download\?token=[^"]+)"', page)
    return found.group(1).replace("&amp;", "&") if found else None


def _fetch(url) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _export(app) -> DataExport:
    with app.app_context():
        export = db.session.scalar(sa.select(DataExport))
        db.session.expunge(export)
        return export


# --- the store itself ------------------------------------------------------------------------------------

def test_a_file_is_uploaded_in_parts_as_written_and_is_visible_only_when_complete(s3_endpoint, monkeypatch):
    from leadthe.storage import S3Storage, _MultipartUpload

    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    bucket = Bucket(s3_endpoint, f"t-{uuid.uuid4().hex[:12]}")
    store = S3Storage(BUCKET, bucket.prefix, endpoint_url=s3_endpoint, part_size=5 * MiB)  # S3's real minimum
    biggest = []
    real_write = _MultipartUpload.write

    def watch(self, data):
        real_write(self, data)
        biggest.append(len(self.buffer))

    monkeypatch.setattr(_MultipartUpload, "write", watch)
    body = os.urandom(11 * MiB + 123)
    with store.writer("exports/big.bin", content_type="application/zip") as out:
        for start in range(0, len(body), 64 * 1024):
            out.write(body[start:start + 64 * 1024])
            if start == 6 * MiB:  # one part is up, the upload is open, nothing is visible yet
                assert [u["Key"] for u in bucket.uploads()] == [f"{bucket.prefix}/exports/big.bin"]
                assert bucket.keys() == [] and not store.exists("exports/big.bin")
    assert max(biggest) < 5 * MiB  # never more than one part in memory
    head = bucket.head(f"{bucket.prefix}/exports/big.bin")
    assert head["ETag"].strip('"').endswith("-3")  # 5 MiB + 5 MiB + the rest
    assert head["ContentLength"] == len(body) == store.size("exports/big.bin") == out.size
    assert head["ServerSideEncryption"] == "AES256" and head["ContentType"] == "application/zip"
    assert out.sha256 == hashlib.sha256(body).hexdigest()
    assert store.open("exports/big.bin").read() == body
    assert bucket.uploads() == []
    store.delete("exports/big.bin")
    store.delete("exports/big.bin")  # missing is fine
    assert bucket.keys() == [] and store.size("exports/big.bin") is None


def test_an_exception_in_the_middle_of_the_writer_aborts_the_upload(s3_endpoint, monkeypatch):
    from leadthe.storage import S3Storage

    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    bucket = Bucket(s3_endpoint, f"t-{uuid.uuid4().hex[:12]}")
    store = S3Storage(BUCKET, bucket.prefix, endpoint_url=s3_endpoint, part_size=TEST_PART, sse="")
    with pytest.raises(RuntimeError, match="half-way"):
        with store.writer("exports/half.zip") as out:
            out.write(os.urandom(3 * TEST_PART))
            assert len(bucket.uploads()) == 1
            raise RuntimeError("half-way")
    assert bucket.keys() == [] and bucket.uploads() == []
    assert "ServerSideEncryption" not in _put_and_head(store, bucket)  # LEADTHE_S3_SSE="" turns it off


def _put_and_head(store, bucket):
    with store.writer("small.txt", content_type="text/plain") as out:
        out.write(b"small")
    return bucket.head(f"{bucket.prefix}/small.txt")


def test_a_missing_bucket_is_a_clear_error_and_the_cli_check_says_so(app, s3_endpoint, monkeypatch):
    from leadthe.storage import StorageError, storage

    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    monkeypatch.setitem(app.config, "STORAGE_URL", "s3://no-such-bucket/x")
    monkeypatch.setitem(app.config, "S3_ENDPOINT_URL", s3_endpoint)
    with app.app_context(), pytest.raises(StorageError, match="no-such-bucket.*does not exist"):
        storage().exists("exports/a.zip")
    result = app.test_cli_runner().invoke(args=["leadthe", "storage-check"])
    assert result.exit_code != 0 and "does not exist" in result.output
    monkeypatch.setitem(app.config, "STORAGE_URL", f"s3://{BUCKET}/checked")
    result = app.test_cli_runner().invoke(args=["leadthe", "storage-check"])
    assert result.exit_code == 0 and BUCKET in result.output and "AES256" in result.output
    assert Bucket(s3_endpoint, "checked").keys() == []  # its probe object is gone again
    app.extensions.pop("leadthe.storage", None)


def test_the_local_store_keeps_the_same_promises(tmp_path):
    from leadthe.storage import LocalStorage

    store = LocalStorage(tmp_path / "files", folders={"exports": tmp_path / "exports"})
    with pytest.raises(OSError):
        with store.writer("exports/leadthe-export-1-a.zip") as out:
            out.write(b"half")
            assert [p.name for p in (tmp_path / "exports").iterdir()] == ["leadthe-export-1-a.zip.part"]
            raise OSError("disk full")
    assert list((tmp_path / "exports").iterdir()) == [] and not store.exists("exports/leadthe-export-1-a.zip")
    with store.writer("exports/leadthe-export-1-b.zip") as out:
        out.write(b"whole")
    with store.open("exports/leadthe-export-1-b.zip") as fh:
        assert (tmp_path / "exports" / "leadthe-export-1-b.zip").read_bytes() == b"whole" == fh.read()
    assert store.size("exports/leadthe-export-1-b.zip") == 5 and out.sha256 == hashlib.sha256(b"whole").hexdigest()
    (tmp_path / "exports" / "leadthe-export-1-c.zip.part").write_bytes(b"left by a killed worker")
    (tmp_path / "exports" / "leadthe-export-12-d.zip.part").write_bytes(b"another export's")
    assert store.discard_incomplete("exports/leadthe-export-1-") == 1
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == ["leadthe-export-1-b.zip", "leadthe-export-12-d.zip.part"]
    with store.writer("invoices/2026/x.pdf") as out:
        out.write(b"%PDF")
    assert (tmp_path / "files" / "invoices" / "2026" / "x.pdf").exists()
    assert store.download_url("invoices/2026/x.pdf", "x.pdf") is None  # the app streams local files itself
    for bad in ("../escape", "exports/../../x", ""):
        with pytest.raises(ValueError):
            store.path(bad)
    store.delete("exports/leadthe-export-1-b.zip")
    store.delete("exports/leadthe-export-1-b.zip")  # missing is fine
    assert not store.exists("exports/leadthe-export-1-b.zip")


# --- data exports -----------------------------------------------------------------------------------------

def test_an_export_is_written_to_the_bucket_in_parts_and_downloaded_by_its_owner_only(client, app, companies, s3):
    a, b = companies
    _give_photo(app, a.learner.id)
    login(client, a.learner.email)
    status_url = _request_export(client)
    with app.app_context():
        run_once()
    export = _export(app)
    assert export.status == "ready"
    key = f"{s3.prefix}/exports/{export.file_name}"
    assert s3.keys() == [key] and s3.uploads() == []
    head = s3.head(key)
    parts = int(head["ETag"].strip('"').rsplit("-", 1)[1])
    assert parts >= 4 and head["ContentLength"] == export.size_bytes > 3 * TEST_PART  # written in parts
    assert head["ServerSideEncryption"] == "AES256"
    folder = app.config["EXPORT_DIR"]
    assert not os.path.isdir(folder) or os.listdir(folder) == []  # nothing on this machine's disk

    link = _link(client, status_url)
    response = client.get(link)
    assert response.status_code == 303 and response.headers["Cache-Control"] == "no-store"
    url = response.headers["Location"]
    assert url.startswith(f"{s3.client.meta.endpoint_url}/{BUCKET}/{key}?")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["300"] and "X-Amz-Signature" in query  # short-lived, signed
    signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")  # from now (the store refuses it 300 s later)
    assert abs(signed - utcnow().replace(tzinfo=None)) < timedelta(minutes=2)
    status, headers, body = _fetch(url)
    assert status == 200 and headers["Content-Disposition"].startswith("attachment; filename=\"leadthe-data-")
    assert hashlib.sha256(body).hexdigest() == export.sha256
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        assert zf.testzip() is None
        assert '"email": "learner@a.example"' in zf.read("export.json").decode()

    other = app.test_client()
    login(other, b.learner.email)
    assert other.get(link).status_code == 404 and other.get(status_url).status_code == 404
    assert app.test_client().get(link).status_code == 302  # signed out: to log-in
    assert client.get(link.split("?")[0] + "?token=forged").status_code == 404


def test_without_presigned_urls_the_app_streams_the_object(client, app, companies, s3, monkeypatch):
    a, _ = companies
    _give_photo(app, a.learner.id)
    login(client, a.learner.email)
    status_url = _request_export(client)
    with app.app_context():
        run_once()
    monkeypatch.setitem(app.config, "S3_PRESIGNED", False)  # e.g. the store's endpoint is not reachable by browsers
    with client.get(_link(client, status_url)) as response:
        assert response.status_code == 200 and response.mimetype == "application/zip"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert "no-store" in response.headers["Cache-Control"]
        body = response.get_data()
    export = _export(app)
    assert int(response.headers["Content-Length"]) == len(body) == export.size_bytes
    assert hashlib.sha256(body).hexdigest() == export.sha256


def test_retention_deletes_the_exports_object(client, app, companies, s3):
    from leadthe.privacy.retention import apply_retention

    a, _ = companies
    login(client, a.learner.email)
    status_url = _request_export(client)
    with app.app_context():
        run_once()
    link = _link(client, status_url)
    assert len(s3.keys()) == 1
    with app.app_context():
        apply_retention(now=utcnow() + timedelta(days=6))
    assert len(s3.keys()) == 1  # not yet
    with app.app_context():
        apply_retention(now=utcnow() + timedelta(days=8))
        assert db.session.scalar(sa.select(DataExport.status)) == "expired"
    assert s3.keys() == []
    assert client.get(link).status_code == 404


def test_erasure_deletes_the_exports_object(client, app, companies, s3):
    from leadthe.privacy.erasure import request_erasure, run_erasure

    a, b = companies
    for person in (a.learner, b.learner):
        each = app.test_client()
        login(each, person.email)
        _request_export(each)
    with app.app_context():
        run_once()
        theirs = db.session.scalar(sa.select(DataExport.file_name).where(DataExport.user_id == b.learner.id))
    assert len(s3.keys()) == 2
    with app.app_context(), app.test_request_context():
        req = request_erasure(db.session.get(User, a.learner.id), grace_period=False)
        db.session.commit()
        run_erasure(req)
    assert s3.keys() == [f"{s3.prefix}/exports/{theirs}"]  # the other person's export stays


def test_an_upload_failing_mid_way_leaves_nothing_downloadable_and_the_retry_completes(client, app, companies, s3,
                                                                                        monkeypatch):
    from leadthe.storage import _MultipartUpload

    a, _ = companies
    _give_photo(app, a.learner.id)
    login(client, a.learner.email)
    status_url = _request_export(client)
    real = _MultipartUpload._upload_part

    def flaky(self, chunk):
        if len(self.parts) == 2:  # two parts are up: the connection goes
            raise OSError("connection reset by peer")
        real(self, chunk)

    monkeypatch.setattr(_MultipartUpload, "_upload_part", flaky)
    with app.app_context():
        run_once()
    export = _export(app)
    assert export.status == "running" and export.file_name == ""
    assert s3.keys() == [] and s3.uploads() == []  # aborted: no object, no parts kept
    assert _link(client, status_url) is None
    monkeypatch.setattr(_MultipartUpload, "_upload_part", real)
    with app.app_context():
        run_once(utcnow() + timedelta(minutes=5))
    export = _export(app)
    assert export.status == "ready" and s3.keys() == [f"{s3.prefix}/exports/{export.file_name}"]
    status, _, body = _fetch(client.get(_link(client, status_url)).headers["Location"])
    assert status == 200 and hashlib.sha256(body).hexdigest() == export.sha256


def test_a_worker_killed_mid_upload_leaves_nothing_downloadable_and_the_job_completes_on_restart(client, app, companies,
                                                                                                 s3):
    """A real kill: a worker process gets SIGKILL from outside while its multipart upload is open."""
    from leadthe.storage import _MultipartUpload

    a, _ = companies
    _give_photo(app, a.learner.id)
    login(client, a.learner.email)
    status_url = _request_export(client)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # the child must not share the parent's connections
    app.extensions.pop("leadthe.storage", None)  # nor the parent's S3 connections
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker process
        try:
            os.close(ready_r)
            real = _MultipartUpload._upload_part

            def upload_then_wait(self, chunk):
                real(self, chunk)
                if len(self.parts) == 2:
                    os.write(ready_w, b"2")  # two parts are up; now the worker is killed
                    time.sleep(60)

            _MultipartUpload._upload_part = upload_then_wait
            with app.app_context():
                run_once()
        finally:
            os._exit(1)  # not reached when killed mid-upload
    os.close(ready_w)
    with os.fdopen(ready_r, "rb") as ready:
        assert ready.read(1) == b"2", "the worker did not reach the middle of the upload"
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    # what a killed worker leaves: an open multipart upload nobody can download, no object
    assert len(s3.uploads()) == 1 and s3.keys() == []
    export = _export(app)
    assert export.status == "running" and export.file_name == ""
    assert _link(client, status_url) is None
    # the restarted worker takes the job up once its lease has run out and aborts the dead upload first
    with app.app_context():
        run_once(utcnow() + JOB_LEASE + timedelta(minutes=1))
    export = _export(app)
    assert export.status == "ready"
    assert s3.uploads() == [] and s3.keys() == [f"{s3.prefix}/exports/{export.file_name}"]
    status, _, body = _fetch(client.get(_link(client, status_url)).headers["Location"])
    assert status == 200 and hashlib.sha256(body).hexdigest() == export.sha256


# --- evidence packs --------------------------------------------------------------------------------------

def test_an_evidence_pack_is_stored_downloaded_and_expired_in_the_bucket(client, app, companies, s3):
    from leadthe.privacy.retention import apply_retention

    a, b = companies
    with app.app_context():
        plant_literacy_programme(a.org.id, [a.learner.id, a.manager.id], a.admin.id)
        db.session.commit()
    login(client, a.admin)
    page = "/admin/literacy/evidence"
    response = post_form(client, page, {"password": PASSWORD}, page=page)
    assert response.status_code == 303
    status_url = response.headers["Location"]
    with app.app_context():
        run_once()
        pack = db.session.scalar(sa.select(EvidencePack))
        key, sha = f"{s3.prefix}/evidence/{pack.file_name}", pack.sha256
    assert pack.status == "ready" and s3.keys() == [key]
    response = client.get(status_url + "/download")
    assert response.status_code == 303
    status, headers, body = _fetch(response.headers["Location"])
    assert status == 200 and "evidence-ai-literacy-" in headers["Content-Disposition"]
    assert hashlib.sha256(body).hexdigest() == sha and zipfile.ZipFile(io.BytesIO(body)).testzip() is None
    other = app.test_client()
    login(other, b.admin)
    assert other.get(status_url + "/download").status_code == 404  # another company's pack
    with app.app_context():
        apply_retention(now=utcnow() + timedelta(days=8))
    assert s3.keys() == []
    assert client.get(status_url + "/download").status_code == 404


# --- the storage-agnostic export and evidence tests, once more on object storage ----------------------------

AGNOSTIC = [
    (privacy_tests, "test_export_holds_every_declared_value_and_nothing_of_anyone_else"),
    (privacy_tests, "test_export_manifest_lists_empty_sources_with_zero"),
    (evidence_tests, "test_the_pack_holds_the_programme_and_per_person_evidence_with_true_checksums"),
    (evidence_tests, "test_another_companys_pack_is_a_404"),
    (evidence_tests, "test_generation_and_download_are_audited"),
    (evidence_tests, "test_the_pack_is_in_the_admins_language"),
]


@pytest.mark.parametrize("module, name", AGNOSTIC, ids=[name for _, name in AGNOSTIC])
def test_the_existing_export_and_evidence_tests_pass_on_object_storage(module, name, request, app, s3, monkeypatch):
    """Run as they are (their downloads expect the file in the answer, so the app streams it here)."""
    monkeypatch.setitem(app.config, "S3_PRESIGNED", False)
    test = getattr(module, name)
    test(**{param: request.getfixturevalue(param) for param in inspect.signature(test).parameters})
    assert s3.keys(), "its files went to the bucket"


def test_a_gunicorn_master_warms_up_before_forking_without_talking_to_the_store(app, s3):
    """deploy/gunicorn.conf.py's on_starting: every template compiled and boto3's descriptions read in the master,
    no connection opened (a forked worker must not share one); the store still works afterwards."""
    from leadthe.ops.warmup import warm_up
    from leadthe.storage import storage

    done = warm_up(app)
    templates = [n for n in app.jinja_env.list_templates() if n.endswith((".html", ".txt", ".xml", ".svg"))]
    assert done["templates"] == len(templates) > 200 and done["object_storage"] is True
    with app.app_context():
        store = storage(app)
        assert store._client is None and not store._checked  # no client kept, no bucket check sent
        with store.writer("warm/check.txt", content_type="text/plain") as out:
            out.write(b"after the warm-up")
    assert s3.keys() == [f"{s3.prefix}/warm/check.txt"]
