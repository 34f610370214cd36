"""The Nu HTML checker (vnu.jar), obtained from the npm registry and run on saved HTML files.

The jar is the ``package/build/dist/vnu.jar`` of the pinned ``vnu-jar`` npm package: ``npm pack`` fetches
the tarball into ``tests/browser/.cache`` (git-ignored), its SHA-512 is checked against the pinned
integrity, and the jar is extracted once. The checker runs in one JVM for a whole batch of files: the
JVM is slow to start, so pages are saved first and checked together.

Without Java or npm the checks skip, except in CI (``CI=true``) or with ``LEADTHE_REQUIRE_BROWSER=1``,
where they fail, like the browser itself (see ``conftest.browser_required``).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

# `npm view vnu-jar@<version> dist.integrity` gives the integrity; bump both together.
VNU_VERSION = "26.9.27"
VNU_INTEGRITY = "sha512-TkQd5DFfOaWC9ebtvozTsrH2Vaod3jYg+vrOeREzIXxBexLz9+rS2DNtjn7+RPUiZhgli0SghgBX6RJRNea0KA=="
CACHE = Path(__file__).resolve().parent / ".cache"
JAR_IN_PACKAGE = "package/build/dist/vnu.jar"


class Unavailable(Exception):
    """Java, npm or the package cannot be had here: the caller skips (or fails, in CI)."""


@dataclass(frozen=True)
class Message:
    file: str
    line: int | None
    text: str
    extract: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        extract = " ".join(self.extract.split())
        return f"{where}: {self.text}" + (f"\n    {extract[:160]}" if extract else "")


def vnu_jar() -> Path:
    """The path of the pinned vnu.jar, fetching it into the cache on first use."""
    jar = CACHE / f"vnu-jar-{VNU_VERSION}" / "vnu.jar"
    if jar.exists():
        return jar
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable("npm is missing (needed once, to fetch vnu-jar from the npm registry)")
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n")
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        done = subprocess.run([npm, "pack", f"vnu-jar@{VNU_VERSION}", "--pack-destination", tmp, "--silent"],
                              capture_output=True, text=True, timeout=300)
        tarball = Path(tmp) / f"vnu-jar-{VNU_VERSION}.tgz"
        if done.returncode != 0 or not tarball.exists():
            raise Unavailable(f"`npm pack vnu-jar@{VNU_VERSION}` failed: {(done.stderr or done.stdout).strip()[-500:]}")
        digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if digest != VNU_INTEGRITY:
            raise AssertionError(f"vnu-jar {VNU_VERSION} does not match its pinned integrity: got {digest}")
        with tarfile.open(tarball) as archive:
            member = archive.getmember(JAR_IN_PACKAGE)
            data = archive.extractfile(member).read()
        staged = Path(tmp) / "vnu.jar"
        staged.write_bytes(data)
        jar.parent.mkdir(exist_ok=True)
        os.replace(staged, jar)  # atomic: a concurrent run sees the whole jar or none
    return jar


def java() -> str:
    found = shutil.which("java")
    if found is None:
        raise Unavailable("Java is missing (apt-get install default-jre-headless)")
    return found


def check_files(files: list[Path]) -> list[Message]:
    """Errors (and fatal problems) the Nu checker finds in ``files``; warnings and info are left out."""
    if not files:
        return []
    command = [java(), "-jar", str(vnu_jar()), "--format", "json", "--stdout", "--exit-zero-always",
               *[str(f) for f in files]]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"the Nu checker gave no report (exit {done.returncode}): {done.stderr[-1000:]}") from exc
    messages = []
    for m in report.get("messages", []):
        if m.get("type") == "info":  # info and warnings ("subType": "warning")
            continue
        name = Path(m.get("url", "").removeprefix("file:")).name or "?"
        messages.append(Message(name, m.get("lastLine"), f"{m.get('type')}: {m.get('message', '')}", m.get("extract", "")))
    return messages
