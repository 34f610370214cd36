"""Admin-area jobs: telling everyone in a company that works-council mode was turned on or off."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from leadthe.admin.works_council import role_words
from leadthe.extensions import db
from leadthe.mail import customer_text, long_date, mail_everyone, queue_mail
from leadthe.models import Organization, User
from leadthe.models.works_council import WorksCouncilNotice
from leadthe.net import absolute_url
from leadthe.tenancy import unscoped
from leadthe.worker import job_handler

NOTICE_BATCH = 500


@job_handler("works_council.notify")
def notify_company(job, batch: int = NOTICE_BATCH) -> None:
    """Mail every active person of the notice's company once, in batches (leadthe.mail.mail_everyone limited to
    one company: the cursor moves with each batch's mail, so a worker stopped half-way resumes without mailing anyone
    twice). Nobody of another company is mailed."""
    notice = db.session.scalar(unscoped(sa.select(WorksCouncilNotice).where(WorksCouncilNotice.id == job.payload["notice_id"]),
                                        reason="the worker (no tenant) mails the notice's own company"))
    if notice is None:
        return
    org = db.session.get(Organization, notice.org_id)
    subject = (_l("Works-council mode was turned on for your company") if notice.turned_on
               else _l("Works-council mode was turned off for your company"))
    context = {"company": customer_text(org.name), "turned_on": notice.turned_on, "role": role_words(notice),
               "when": long_date(notice.created_at, with_time=True), "reason": customer_text(notice.reason, 1000),
               "link": absolute_url("privacy.centre")}

    def send_one(person_id, email, name, locale):
        queue_mail(email, subject, "works_council_changed", kind="works_council", user_id=person_id, locale=locale,
                   name=customer_text((name or "").split(" ")[0], 60) or _l("there"), **context)

    mail_everyone(notice, send_one, batch, only=(User.org_id == notice.org_id,))
