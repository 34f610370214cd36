"""Staff jobs: mailing a notice to everyone."""
from flask_babel import lazy_gettext as _l

from leadthe.extensions import db
from leadthe.mail import mail_everyone, queue_mail
from leadthe.models.support import Notice
from leadthe.net import absolute_url
from leadthe.worker import job_handler


@job_handler("notice.mail")
def mail_notice(job) -> None:
    notice = db.session.get(Notice, job.payload["notice_id"])
    link = absolute_url("core.dashboard")

    def send_one(person_id, email, name, locale):
        queue_mail(email, notice.title, "notice", kind="notice", user_id=person_id, locale=locale,
                   name=(name or "").split(" ")[0] or _l("there"), notice=notice, link=link)

    mail_everyone(notice, send_one)
