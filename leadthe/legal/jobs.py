"""Legal jobs: mailing everyone about a material policy change."""
from flask_babel import force_locale

from leadthe.extensions import db
from leadthe.legal.services import KINDS, NOTICE_BATCH
from leadthe.mail import mail_everyone, queue_mail
from leadthe.models.consent import PolicyDocument, PolicyNotice
from leadthe.net import absolute_url
from leadthe.worker import job_handler


@job_handler("policy.notify")
def notify_users(job) -> None:
    """Mail every active person about a material change: resumable and exactly once (see mail_everyone)."""
    doc = db.session.get(PolicyDocument, job.payload["document_id"])
    link = absolute_url("legal.policy_version", kind=doc.kind, number=doc.version)

    def send_one(person_id, email, name):
        with force_locale("en"):  # mails are English for now
            queue_mail(email, f"We changed our {KINDS[doc.kind].lower()}", "policy_changed", kind="policy",
                       user_id=person_id, name=(name or "").split(" ")[0] or "there", title=str(KINDS[doc.kind]),
                       summary=doc.summary, link=link, effective=doc.effective_at.strftime("%d %B %Y"))

    mail_everyone(db.session.get(PolicyNotice, doc.id), send_one, NOTICE_BATCH)
