"""Legal jobs: mailing everyone about a material policy change."""
from flask_babel import lazy_gettext as _l

from leadthe.extensions import db
from leadthe.legal.services import KINDS_IN_SENTENCE, NOTICE_BATCH
from leadthe.mail import long_date, mail_everyone, queue_mail
from leadthe.models.consent import PolicyDocument, PolicyNotice
from leadthe.net import absolute_url
from leadthe.worker import job_handler


@job_handler("policy.notify")
def notify_users(job) -> None:
    """Mail every active person about a material change: resumable and exactly once (see mail_everyone)."""
    doc = db.session.get(PolicyDocument, job.payload["document_id"])
    link = absolute_url("legal.policy_version", kind=doc.kind, number=doc.version)

    def send_one(person_id, email, name, locale):
        queue_mail(email, _l("We changed our %(policy)s", policy=KINDS_IN_SENTENCE[doc.kind]), "policy_changed",
                   kind="policy", user_id=person_id, locale=locale, name=(name or "").split(" ")[0] or _l("there"),
                   title=KINDS_IN_SENTENCE[doc.kind], summary=doc.summary, link=link, effective=long_date(doc.effective_at))

    mail_everyone(db.session.get(PolicyNotice, doc.id), send_one, NOTICE_BATCH)
