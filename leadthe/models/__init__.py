"""All models, imported here so that Alembic and the registry tests see every table."""
from leadthe.models.assessment import Assignment, Certificate, MaturityResult, OrgMaturity, Quiz, QuizAttempt, QuizChoice, QuizQuestion, QuizResponse
from leadthe.models.billing import (BillingAccount, BillingAdjustment, BillingEvent, BillingMember, BillingNotice, BillingRequest, Invoice,
                                    InvoiceCounter, InvoiceRecipient, Plan, PlanVersion)
from leadthe.models.base import Base, OrgOwned, TenantScoped, utcnow
from leadthe.models.consent import ConsentRecord, PageView, PolicyAcknowledgement, PolicyDocument, PolicyNotice, PolicyTranslation, UserPreference
from leadthe.models.course import ActivityDay, ContentTranslation, Course, CourseModule, Enrollment, Lesson, LessonCompletion, PracticeAnswer, SearchQuery
from leadthe.models.enums import (ORG_ROLES, PLATFORM_ROLES, ExportStatus, InvitationStatus, JobStatus, MailStatus, OrgStatus,
                                  RequestKind, RequestStatus, Role, TicketStatus, UserStatus)
from leadthe.models.lab import LabRun, LabSettings, LabUsage
from leadthe.models.literacy import AiPolicyAck, AiPolicyVersion, AiTool, EvidencePack, Requirement, RequirementRule
from leadthe.models.org import Organization, Team, TeamMembership
from leadthe.models.outbox import Job, OutboxMail
from leadthe.models.people import ImportBatch, Invitation
from leadthe.models.progress import ProgressMail, SyncReceipt
from leadthe.models.privacy import DataExport, PrivacyRequest, PrivacySettings
from leadthe.models.sso import ScimToken, SsoDomain, SsoIdentity, SsoLoginAttempt, SsoReplay, SsoSettings
from leadthe.models.security import AuditChainHead, AuditEvent, RecoveryCode, UserSession
from leadthe.models.holds import LegalHold
from leadthe.models.dpa import DpaAcceptance, DpaVersion
from leadthe.models.support import Feedback, Notice, NoticeDismissal, StaffAccessGrant, SupportMessage, SupportTicket
from leadthe.models.trust import AccessLogEntry
from leadthe.models.subprocessors import SubprocessorEntry, SubprocessorNotice, SubprocessorObjection, SubprocessorVersion
from leadthe.models.user import User
from leadthe.models.works_council import WorksCouncilNotice  # issue 21, works-council mode
from leadthe.models.alerts import CredentialNetwork, SecurityAlert, SecuritySignal  # issue 23, signs of attack

__all__ = [
    "Assignment", "Certificate", "MaturityResult", "OrgMaturity", "Quiz", "QuizAttempt", "QuizChoice", "QuizQuestion", "QuizResponse",
    "LegalHold",
    "Feedback", "Notice", "NoticeDismissal", "StaffAccessGrant", "SupportMessage", "SupportTicket",
    "ConsentRecord", "PageView", "PolicyAcknowledgement", "PolicyDocument", "PolicyNotice", "PolicyTranslation", "UserPreference",
    "Base", "OrgOwned", "TenantScoped", "utcnow", "Organization", "Team", "TeamMembership", "Job", "OutboxMail", "DataExport", "PrivacyRequest", "PrivacySettings",
    "AuditChainHead", "AuditEvent", "RecoveryCode", "UserSession", "User", "ORG_ROLES", "PLATFORM_ROLES",
    "ImportBatch", "Invitation", "ProgressMail", "SyncReceipt",
    "ExportStatus", "InvitationStatus", "JobStatus", "MailStatus", "OrgStatus", "RequestKind", "RequestStatus", "Role",
    "TicketStatus", "UserStatus",
    "LabRun", "LabSettings", "LabUsage",
    "BillingAccount", "BillingAdjustment", "BillingEvent", "BillingMember", "BillingNotice", "BillingRequest", "Invoice",
    "InvoiceCounter", "InvoiceRecipient", "Plan", "PlanVersion",
    "ScimToken", "SsoDomain", "SsoIdentity", "SsoLoginAttempt", "SsoReplay", "SsoSettings",
    "AiPolicyAck", "AiPolicyVersion", "AiTool", "EvidencePack", "Requirement", "RequirementRule",
    "AccessLogEntry",
    "DpaAcceptance", "DpaVersion",
    "WorksCouncilNotice",
    "CredentialNetwork", "SecurityAlert", "SecuritySignal",
    "SubprocessorEntry", "SubprocessorNotice", "SubprocessorObjection", "SubprocessorVersion",
    "ActivityDay", "ContentTranslation", "Course", "CourseModule", "Enrollment", "Lesson", "LessonCompletion", "PracticeAnswer", "SearchQuery",
]
