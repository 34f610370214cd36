"""Benchmark: the AI-literacy evidence pack of the seed-scale company.

Builds a throw-away database with `leadthe seed-scale` (10,000 people in 500 teams, ~1M progress rows), adds an
AI-literacy programme with INSERT ... SELECT (four requirement rules and their ~21,000 requirements, about 60%
completed with a certificate, an AI-use policy version asked of everyone and acknowledged by most, a quiz with
attempts, a few AI tools), then generates the evidence pack in a fresh subprocess (so its peak RSS is the
generation's own), checks every SHA-256 of the manifest against the ZIP, and prints the figures. With
``--council`` it also generates the works-council ("team figures only") pack.

    .venv/bin/python bench/evidence_pack.py                      # SQLite
    .venv/bin/python bench/evidence_pack.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test_evidence

Goal (issue 17): under 60 s and under 300 MB peak memory, on SQLite and PostgreSQL; the manifest's sums match.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _app(url: str, tmp: Path):
    import logging

    logging.getLogger("fontTools").setLevel(logging.WARNING)  # fpdf's font subsetting is chatty
    os.environ.update({"LEADTHE_ENV": "test", "LEADTHE_SECRET_KEY": "b" * 40, "LEADTHE_DATA_KEY": "x",
                       "LEADTHE_INSTANCE_PATH": str(tmp)})
    from leadthe import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "BCRYPT_ROUNDS": 4, "EVIDENCE_DIR": str(tmp / "evidence")})


def _programme(org_id: int, now) -> None:
    """Rules, requirements, certificates, a policy version with acknowledgements, a quiz with attempts, tools."""
    import sqlalchemy as sa

    from leadthe.extensions import db
    from leadthe.models import AiPolicyVersion, AiTool, Course, Quiz, RequirementRule, User

    admin_id = db.session.scalar(sa.select(User.id).where(User.org_id == org_id).order_by(User.id))
    courses = list(db.session.scalars(sa.select(Course).where(Course.org_id == org_id).order_by(Course.id)))[:4]
    for n, course in enumerate(courses):
        course.objectives = [f"Objective {n + 1}.{k}: recognise when an AI answer needs checking" for k in range(1, 4)]
        course.certificate_months = 12
    rules = [RequirementRule(org_id=org_id, name="Everyone: AI basics", course_id=courses[0].id, refresh_months=12),
             RequirementRule(org_id=org_id, name="Everyone: data in AI tools", course_id=courses[1].id),
             RequirementRule(org_id=org_id, name="Dept 1: AI in claims", course_id=courses[2].id, field="department",
                             value="Dept 1"),
             RequirementRule(org_id=org_id, name="Managers: leading with AI", course_id=courses[3].id, field="role",
                             value="manager")]
    db.session.add_all(rules)
    version = AiPolicyVersion(org_id=org_id, version=1, title="Our AI rules", summary="First version", body_md="Rules.",
                              body_html="<p>Rules.</p>", change="material", published_at=now - timedelta(days=60),
                              published_by_id=admin_id)
    db.session.add(version)
    db.session.add_all([AiTool(org_id=org_id, name=f"Tool {n}", vendor="Vendor", purpose="Drafting", status="approved",
                               owner_id=admin_id) for n in range(5)])
    quiz = Quiz(course_id=courses[0].id, slug=f"scale-quiz-{org_id}", title="AI basics quiz")
    db.session.add(quiz)
    db.session.flush()
    scope = {rules[0].id: "TRUE", rules[1].id: "TRUE", rules[2].id: "u.department = 'Dept 1'",
             rules[3].id: "u.role = 'manager'"}
    params = {"org": org_id, "now": now, "done": now - timedelta(days=30), "valid": now + timedelta(days=335),
              "refresh": (now + timedelta(days=335)).date(), "past": (now - timedelta(days=10)).date(),
              "soon": (now + timedelta(days=7)).date(), "later": (now + timedelta(days=60)).date()}
    for rule in rules:
        db.session.execute(sa.text(f"""
            INSERT INTO requirement (org_id, user_id, course_id, rule_id, assigned_at, due_on, completed_at, valid_until)
            SELECT u.org_id, u.id, {rule.course_id}, {rule.id}, :now,
                   CASE WHEN u.id % 10 < 6 THEN :refresh WHEN u.id % 10 < 8 THEN :past WHEN u.id % 10 = 8 THEN :soon
                        ELSE :later END,
                   CASE WHEN u.id % 10 < 6 THEN :done END, CASE WHEN u.id % 10 < 6 THEN :valid END
            FROM user_account u WHERE u.org_id = :org AND {scope[rule.id]}"""), params)
    db.session.execute(sa.text("""
        INSERT INTO certificate (org_id, user_id, course_id, code, issued_at, expires_at)
        SELECT org_id, user_id, course_id, 'BENCH' || user_id || 'X' || course_id, completed_at, valid_until
        FROM requirement WHERE org_id = :org AND completed_at IS NOT NULL"""), params)
    db.session.execute(sa.text("""
        INSERT INTO ai_policy_ack (org_id, user_id, version_id, asked_at, acknowledged_at)
        SELECT org_id, id, :version, :now, CASE WHEN id % 5 < 4 THEN :now END FROM user_account WHERE org_id = :org"""),
                       {**params, "version": version.id})
    db.session.execute(sa.text("""
        INSERT INTO quiz_attempt (org_id, user_id, quiz_id, number, seed, score, correct_count, question_count, passed,
                                  created_at)
        SELECT org_id, id, :quiz, n.n, 0, (id * 37 + n.n * 11) % 101, 0, 10, (id * 37 + n.n * 11) % 101 >= 70, :now
        FROM user_account, (SELECT 1 AS n UNION ALL SELECT 2) AS n WHERE org_id = :org AND id % 10 < 7"""),
                       {**params, "quiz": quiz.id})
    db.session.commit()


def seed(url: str, tmp: Path, users: int, teams: int) -> tuple[int, int]:
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from leadthe.extensions import db
    from leadthe.models import Requirement, User, utcnow
    from leadthe.scale import seed_scale

    app = _app(url, tmp)
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        upgrade(revision="heads")
        t0 = time.perf_counter()
        org = seed_scale(users=users, teams=teams, echo=lambda *_: None)
        _programme(org.id, utcnow())
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Requirement).where(Requirement.org_id == org.id))
        admin = db.session.scalar(sa.select(User.id).where(User.org_id == org.id).order_by(User.id))
        print(f"seeded {users:,} people, {teams} teams, {count:,} requirements in {time.perf_counter() - t0:.0f} s "
              f"({db.engine.dialect.name})")
        org_id = org.id
        db.session.remove()
        db.engine.dispose()
    return org_id, admin


def generate(url: str, tmp: Path, org_id: int, admin_id: int, council: bool) -> None:
    """In its own process: ask for a pack, build it (timed, peak RSS), then check the manifest's sums."""
    import sqlalchemy as sa

    from leadthe.extensions import db
    from leadthe.literacy.evidence import file_path, run_pack
    from leadthe.models import EvidencePack, Organization

    app = _app(url, tmp)
    with app.app_context():
        db.session.execute(sa.update(Organization).where(Organization.id == org_id)
                           .values(literacy_team_figures_only=council))
        pack = EvidencePack(org_id=org_id, requested_by_id=admin_id, team_figures_only=council)
        db.session.add(pack)
        db.session.commit()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if os.environ.get("BENCH_TRACEMALLOC"):
            tracemalloc.start()
        t0 = time.perf_counter()
        run_pack(pack.id)
        elapsed = time.perf_counter() - t0
        peak_alloc = tracemalloc.get_traced_memory()[1] / 1e6 if tracemalloc.is_tracing() else None
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        pack = db.session.get(EvidencePack, pack.id)
        assert pack.status == "ready", (pack.status, pack.error)
        path = file_path(pack)
        checked = _check_manifest(path)
        mode = "team figures only" if council else "per person"
        print(f"pack ({mode}): {elapsed:.1f} s, {pack.size_bytes / 1e6:.1f} MB ZIP, peak RSS {rss:.0f} MB "
              f"(before: {before:.0f} MB)" + (f", Python allocations peak {peak_alloc:.0f} MB" if peak_alloc else ""))
        print(f"  manifest: {checked} files, every SHA-256 and size matches")
        ok = elapsed < 60 and rss < 300
        print("  goal (< 60 s, < 300 MB):", "met" if ok else "NOT met")


def _check_manifest(path: Path) -> int:
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        for entry in manifest["files"]:
            sha, size = hashlib.sha256(), 0
            with zf.open(entry["file"]) as member:
                for chunk in iter(lambda: member.read(1 << 20), b""):
                    sha.update(chunk)
                    size += len(chunk)
            assert sha.hexdigest() == entry["sha256"] and size == entry["bytes"], entry["file"]
            print(f"    {entry['file']}: {size / 1e6:.2f} MB")
        assert {e["file"] for e in manifest["files"]} == set(zf.namelist()) - {"manifest.json"}
    return len(manifest["files"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="a PostgreSQL URL (its public schema is dropped); default SQLite in a temp folder")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=500)
    parser.add_argument("--council", action="store_true", help="also the works-council pack (team figures only)")
    parser.add_argument("--generate", nargs=3, metavar=("TMP", "ORG", "ADMIN"), help=argparse.SUPPRESS)
    parser.add_argument("--team-figures-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        tmp = Path(args.generate[0])
        url = args.pg or f"sqlite:///{tmp}/bench.db"
        generate(url, tmp, int(args.generate[1]), int(args.generate[2]), args.team_figures_only)
        return
    tmp = Path(tempfile.mkdtemp(prefix="leadthe-evidence-bench-"))
    url = args.pg or f"sqlite:///{tmp}/bench.db"
    org_id, admin_id = seed(url, tmp, args.users, args.teams)
    for council in (False, True) if args.council else (False,):
        command = [sys.executable, __file__, "--generate", str(tmp), str(org_id), str(admin_id)]
        command += (["--pg", args.pg] if args.pg else []) + (["--team-figures-only"] if council else [])
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
