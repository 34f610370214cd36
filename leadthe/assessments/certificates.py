"""Certificates: issued when a course is completed, verified publicly by code, printable as a one-page
PDF, and (for courses with a validity period) followed by one recertification reminder.

The verification page shows only the holder's name, the course, the date and the status: the code is
120 random bits, so pages cannot be found by guessing.
"""
from __future__ import annotations

import base64
import calendar
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from leadthe.courses.translation import title_of
from leadthe.extensions import db
from leadthe.mail import queue_mail
from leadthe.models import Certificate, Course, User, utcnow
from leadthe.models.enums import UserStatus
from leadthe.net import absolute_url
from leadthe.tenancy import unscoped

REMIND_BEFORE = timedelta(days=30)


def new_code() -> str:
    return base64.b32encode(secrets.token_bytes(15)).decode()  # 24 characters, A-Z and 2-7


def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def issue_certificate(user: User, course: Course, now: datetime | None = None) -> Certificate:
    """The person's certificate for the course: a new one, or the existing one (renewed when it had
    expired, so passing again recertifies). A revoked certificate stays revoked."""
    now = now or utcnow()
    expires = add_months(now, course.certificate_months) if course.certificate_months else None
    cert = db.session.scalar(sa.select(Certificate).where(Certificate.user_id == user.id, Certificate.course_id == course.id))
    if cert is None:
        cert = Certificate(org_id=user.org_id, user_id=user.id, course_id=course.id, code=new_code(), issued_at=now,
                           expires_at=expires)
        db.session.add(cert)
        db.session.flush()
    elif cert.revoked_at is None and cert.expires_at is not None and cert.expires_at <= now:
        cert.issued_at, cert.expires_at, cert.reminder_sent_at = now, expires, None
    return cert


@dataclass
class Verification:
    code: str
    name: str
    course: str
    issued_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= utcnow():
            return "expired"
        return "valid"


def verify(code: str) -> Verification | None:
    """A certificate by its code, across companies (the public page has no tenant)."""
    code = (code or "").strip().upper()
    if not code or len(code) > 40 or not code.isalnum():
        return None
    row = db.session.execute(unscoped(
        sa.select(Certificate.code, User.name, Course.title, Certificate.issued_at, Certificate.expires_at, Certificate.revoked_at)
        .join(User, User.id == Certificate.user_id).join(Course, Course.id == Certificate.course_id)
        .where(Certificate.code == code, User.status.notin_(("erasure_pending", "closed"))),
        reason="the public check of a certificate: any company's, whoever is signed in")).first()
    return Verification(*row) if row else None


def certificates_of(user: User) -> list[tuple[Certificate, str]]:
    rows = db.session.execute(
        sa.select(Certificate, Course.title).join(Course, Course.id == Certificate.course_id)
        .where(Certificate.user_id == user.id).order_by(Certificate.issued_at.desc())).all()
    return [(cert, title_of("course", cert.course_id, title)) for cert, title in rows]


def certificate_for(user_id: int, course_id: int) -> Certificate | None:
    return db.session.scalar(sa.select(Certificate).where(Certificate.user_id == user_id, Certificate.course_id == course_id))


# --- PDF ---------------------------------------------------------------------------------------------

def _pdf_text(text: str) -> str:
    raw = text.encode("cp1252", "replace").decode("latin-1")
    return raw.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def certificate_pdf(v: Verification, verify_url: str) -> bytes:
    """A one-page A4 landscape PDF written by hand: a catalog, a page, a content stream and two base
    fonts (no embedding needed for Helvetica), with an exact cross-reference table."""
    lines = [
        ("F2", 30, 421, 430, "Certificate of completion"),
        ("F1", 14, 421, 380, "This certifies that"),
        ("F2", 26, 421, 340, v.name),
        ("F1", 14, 421, 300, "has completed the LeadThe.AI course"),
        ("F2", 20, 421, 265, v.course),
        ("F1", 12, 421, 215, "Issued on " + v.issued_at.strftime("%d %B %Y")
         + (", valid until " + v.expires_at.strftime("%d %B %Y") if v.expires_at else "")),
        ("F1", 10, 421, 120, "Verify at " + verify_url),
        ("F1", 10, 421, 104, "Certificate code " + v.code),
    ]
    ops = ["0.15 0.3 0.6 RG 3 w 30 30 782 535 re S"]
    for font, size, cx, y, text in lines:
        # centre approximately: Helvetica averages about half the font size per character
        width = len(text) * size * (0.55 if font == "F2" else 0.5)
        ops.append(f"BT /{font} {size} Tf {max(40, cx - width / 2):.0f} {y} Td ({_pdf_text(text)}) Tj ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 842 595] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info << /Title (%s) >> >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, _pdf_text("Certificate " + v.code).encode("latin-1"), xref)
    return bytes(out)


# --- recertification reminders ------------------------------------------------------------------------

def send_recertification_reminders(now: datetime | None = None) -> int:
    """One reminder per certificate that expires within REMIND_BEFORE (or has expired) and was not yet
    reminded; the mail and the mark are in the same transaction, so a crash neither loses nor repeats it."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(Certificate, User, Course)
        .join(User, User.id == Certificate.user_id).join(Course, Course.id == Certificate.course_id)
        .where(Certificate.expires_at.is_not(None), Certificate.expires_at <= now + REMIND_BEFORE,
               Certificate.reminder_sent_at.is_(None), Certificate.revoked_at.is_(None), User.status == UserStatus.ACTIVE)).all()
    for cert, user, course in rows:
        queue_mail(user.email, f"Time to renew your certificate: {course.title}", "recertify", kind="learning", user=user,
                   name=user.first_name, course=course.title, expires=cert.expires_at.strftime("%d %B %Y"),
                   expired=cert.expires_at <= now, link=absolute_url("courses.course", slug=course.slug))
        cert.reminder_sent_at = now
    return len(rows)
