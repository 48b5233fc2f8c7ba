"""SQLAlchemy models, one module per aggregate. Import from here."""
from hotline.models.base import UTCDateTime, utcnow
from hotline.models.channel import ChannelToken
from hotline.models.kb import KbArticle
from hotline.models.org import Agency, Area, CalendarOverride, Field, RoutingRule, SlaPolicy
from hotline.models.outbox import OutboxMessage
from hotline.models.periodic import PeriodicJob
from hotline.models.report import (ExportLog, QualityReview, ReportMeta, ReportTarget,
                                   ReportWorkDay, StatsRefresh, TicketDailyStats)
from hotline.models.ticket import Attachment, Contact, InboundMessage, Ticket, TicketEvent
from hotline.models.user import (AGENCY_ROLES, API_SCOPE_LABELS_VI, PRIVACY_ROLES,  # noqa: I001
                                  ROLE_LABELS_VI, ApiKey, ApiScope, Role, StaffSession,
                                  User)
from hotline.models.handling import CallEvent, TicketCohandler  # noqa: E402 - after Ticket
from hotline.models.audit import AuditLog, TicketAnonymisation  # noqa: E402 - after Ticket
import hotline.models.publication  # noqa: E402,F401 - indexes of the public pages

__all__ = [
    "AGENCY_ROLES", "ROLE_LABELS_VI", "Agency", "ApiKey", "Area", "Attachment", "CalendarOverride",
    "AuditLog", "TicketAnonymisation",
    "ChannelToken",
    "Contact", "Field", "InboundMessage", "KbArticle", "OutboxMessage", "PeriodicJob", "Role", "RoutingRule",
    "SlaPolicy", "StaffSession", "Ticket", "TicketEvent", "User", "UTCDateTime", "utcnow",
    "ExportLog", "QualityReview", "ReportMeta", "ReportTarget", "ReportWorkDay", "StatsRefresh",
    "TicketDailyStats",
    "CallEvent", "TicketCohandler",
    "API_SCOPE_LABELS_VI", "ApiScope", "PRIVACY_ROLES",
]
