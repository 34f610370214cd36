"""Admin-area jobs: telling everyone in a company that works-council mode was turned on or off."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from leadthe.admin.works_council import company_people, role_words
from leadthe.extensions import db
from leadthe.mail import customer_text, long_date, queue_mail
from leadthe.models import Organization, utcnow
from leadthe.models.works_council import WorksCouncilNotice
from leadthe.net import absolute_url
from leadthe.tenancy import unscoped
from leadthe.worker import job_handler

NOTICE_BATCH = 500


@job_handler("works_council.notify")
def notify_company(job, batch: int = NOTICE_BATCH) -> None:
    """Mail every active person of the notice's company once, in batches: the cursor moves in the same transaction as
    each batch's mail (as leadthe.mail.mail_everyone, limited to one company), so a worker stopped half-way resumes
    without mailing anyone twice. Nobody of another company is mailed."""
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
    while notice.finished_at is None:
        people = company_people(notice.org_id, notice.last_user_id, batch)
        if not people:
            notice.finished_at = utcnow()
            db.session.commit()
            break
        for person_id, email, name, locale in people:
            queue_mail(email, subject, "works_council_changed", kind="works_council", user_id=person_id, locale=locale,
                       name=customer_text((name or "").split(" ")[0], 60) or _l("there"), **context)
        notice.last_user_id = people[-1][0]
        notice.mailed += len(people)
        db.session.commit()
