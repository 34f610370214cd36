"""Certificates: issued when a course is completed, verified publicly by code, printable as a one-page
PDF, and (for courses with a validity period) followed by one recertification reminder.

The verification page shows only the holder's name, the course, the date and the status: the code is
120 random bits, so pages cannot be found by guessing.
"""
from __future__ import annotations

import base64
import calendar
import functools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from fontTools.ttLib import TTFont
from fpdf import FPDF

from leadthe.courses.translation import title_of
from leadthe.extensions import db
from leadthe.i18n import format_day
from leadthe.mail import long_date, queue_mail
from leadthe.models import Certificate, Course, User, utcnow
from leadthe.models.enums import UserStatus
from leadthe.net import absolute_url
from leadthe.signals import certificate_issued
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
    else:
        return cert
    certificate_issued.send(user, course=course, certificate=cert, now=now)
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


def certificates_of(user: User) -> list[Verification]:
    """The person's certificates, newest first, each with its status ("Your certificates"); course titles in the
    reader's language."""
    rows = db.session.execute(
        sa.select(Certificate.code, User.name, Course.title, Certificate.issued_at, Certificate.expires_at,
                  Certificate.revoked_at, Certificate.course_id)
        .join(Course, Course.id == Certificate.course_id).join(User, User.id == Certificate.user_id)
        .where(Certificate.user_id == user.id).order_by(Certificate.issued_at.desc()))
    return [Verification(code, name, title_of("course", course_id, title), issued, expires, revoked)
            for code, name, title, issued, expires, revoked, course_id in rows]


def certificate_for(user_id: int, course_id: int) -> Certificate | None:
    return db.session.scalar(sa.select(Certificate).where(Certificate.user_id == user_id, Certificate.course_id == course_id))


# --- PDF ---------------------------------------------------------------------------------------------

FONTS = Path(__file__).resolve().parent.parent / "fonts"
# Open Sans covers Latin, Greek and Cyrillic; Droid Sans Fallback the CJK characters it lacks (both Apache 2.0)
_LATIN = {"": FONTS / "OpenSans-Regular.ttf", "B": FONTS / "OpenSans-Bold.ttf"}
_FALLBACK = FONTS / "DroidSansFallback.ttf"


@functools.cache
def _latin_coverage() -> frozenset[int]:
    with TTFont(_LATIN[""], lazy=True) as font:
        return frozenset(font.getBestCmap())


def _needs_fallback(*texts: str) -> bool:
    covered = _latin_coverage()
    return any(ord(ch) not in covered for text in texts for ch in text if not ch.isspace())


def add_unicode_fonts(pdf: FPDF, *texts: str) -> None:
    """Open Sans (regular and bold, as "OpenSans"), and the CJK fallback when one of ``texts`` needs it."""
    for style, path in _LATIN.items():
        pdf.add_font("OpenSans", style, str(path))
    if _needs_fallback(*texts):
        pdf.add_font("DroidSansFallback", "", str(_FALLBACK))
        pdf.set_fallback_fonts(["DroidSansFallback"], exact_match=False)


def certificate_pdf(v: Verification, verify_url: str) -> bytes:
    """A one-page A4 landscape certificate. The fonts are embedded as subsets (only the glyphs used), so
    any name prints as written: "Łucja Żółć 李雷", "Γιώργος", "Иван". The CJK font is added only when
    the text needs it (reading it takes a moment)."""
    issued = _("Issued on %(date)s", date=format_day(v.issued_at))
    if v.expires_at:
        issued = _("Issued on %(date)s, valid until %(until)s", date=format_day(v.issued_at),
                   until=format_day(v.expires_at))
    lines = [
        ("B", 30, 120, _("Certificate of completion")),
        ("", 14, 185, _("This certifies that")),
        ("B", 26, 220, v.name),
        ("", 14, 270, _("has completed the LeadThe.AI course")),
        ("B", 20, 300, v.course),
        ("", 12, 360, issued),
        ("", 10, 455, _("Verify at %(url)s", url=verify_url)),
        ("", 10, 471, _("Certificate code %(code)s", code=v.code)),
    ]
    pdf = FPDF(orientation="L", unit="pt", format="A4")
    pdf.set_title(_("Certificate %(code)s", code=v.code))
    pdf.set_creator("LeadThe.AI")
    pdf.set_auto_page_break(False)
    add_unicode_fonts(pdf, *(text for _s, _z, _y, text in lines))
    pdf.add_page()
    pdf.set_draw_color(38, 77, 153)
    pdf.set_line_width(3)
    pdf.rect(30, 30, 782, 535)
    for style, size, y, text in lines:
        pdf.set_font("OpenSans", style, size)
        pdf.set_xy(60, y)
        # one line, shrunk to fit the frame when a name or course title is very long
        while size > 8 and pdf.get_string_width(text) > 722:
            size -= 1
            pdf.set_font_size(size)
        pdf.cell(722, size * 1.4, text, align="C")
    return bytes(pdf.output())


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
        queue_mail(user.email, _l("Time to renew your certificate: %(course)s", course=course.title), "recertify", kind="learning", user=user,
                   name=user.first_name, course=course.title, expires=long_date(cert.expires_at),
                   expired=cert.expires_at <= now, link=absolute_url("courses.course", slug=course.slug))
        cert.reminder_sent_at = now
    return len(rows)
