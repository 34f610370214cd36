"""Staff jobs: mailing a notice (a general one, or a change of ownership) to everyone, once (resumable)."""
from flask_babel import lazy_gettext as _l

from leadthe.extensions import db
from leadthe.mail import mail_everyone, queue_mail
from leadthe.models.enums import NoticeKind
from leadthe.models.support import Notice
from leadthe.net import absolute_url
from leadthe.worker import job_handler

NOTICE_BATCH = 500  # people per transaction; each batch's mail and the progress commit together


@job_handler("notice.mail")
def mail_notice(job) -> None:
    notice = db.session.get(Notice, job.payload["notice_id"])
    ownership = notice.kind == NoticeKind.OWNERSHIP
    link = absolute_url("privacy.centre") if ownership else absolute_url("core.dashboard")
    # a fixed subject in each reader's language: what staff typed goes into the body only
    subject = _l("LeadThe.AI is changing owner") if ownership else _l("Notice from LeadThe.AI")

    def send_one(person_id, email, name, locale):
        queue_mail(email, subject, "notice", kind="notice", user_id=person_id, locale=locale,
                   name=(name or "").split(" ")[0] or _l("there"), notice=notice, link=link)

    mail_everyone(notice, send_one, NOTICE_BATCH)
