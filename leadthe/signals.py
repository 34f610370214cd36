"""What happened in one area that others react to, as blinker signals (the way Flask's own signals work).

The sending area imports only this module; a reacting area connects its receivers at app start-up
(``create_app`` calls each area's ``connect_signals()``). Receivers run synchronously, in the sender's
request and transaction, in no guaranteed order, so each must be right whichever runs first.
"""
from blinker import Namespace

_signals = Namespace()

# sender: the User; course=Course. Sent after the enrolment row is written (also when it already existed).
course_enrolled = _signals.signal("course-enrolled")
# sender: the User; course=Course, now=datetime. Sent once per (user, lesson), by the call that recorded it.
lesson_completed = _signals.signal("lesson-completed")
# sender: the User; course=Course, now=datetime. Sent by the call that set the enrolment's completed_at
# (every live lesson done and the course's quiz, if any, passed).
course_completed = _signals.signal("course-completed")
# sender: the User; course=Course, certificate=Certificate, now=datetime. Sent when a certificate is issued
# or renewed (an expired one recertified): the AI-literacy requirements count completions from it.
certificate_issued = _signals.signal("certificate-issued")
# sender: the User (already flushed, ``org_id`` set). Sent when a person joins a company (invitation
# accepted, CSV import, single sign-on) and when their team, department, job title or role changes;
# changed=a set of those field names ({"joined"} for a newcomer, {"status"} when deactivated, reactivated or
# closed). Requirement rules follow people by it.
person_changed = _signals.signal("person-changed")
# sender: the table name of a company-owned model; object_id=int, owner_org_id=int. Sent by leadthe.tenancy when
# it answered 404 for a row that exists in another company (issue 23: a burst of these is a sign of probing).
cross_company_miss = _signals.signal("cross-company-miss")
