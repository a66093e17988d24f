"""Every view ledgerdesk keeps."""

from __future__ import annotations

from projections.access import AccessProjection
from projections.admin_audit import AdminAuditProjection
from projections.base import Projection
from projections.chats import ChatsProjection
from projections.customers import CustomerDirectoryProjection
from projections.flat import FlatProjection
from projections.gantt import GanttProjection
from projections.hierarchy import HierarchyProjection
from projections.import_jobs import ImportJobsProjection
from projections.integrations.feed import FeedProjection
from projections.integrations.webhooks import WebhooksProjection
from projections.item_history import ItemHistoryProjection
from projections.knowledge_base import KnowledgeBaseProjection
from projections.live.view import LiveProjection
from projections.mail.mailboxes import MailboxProjection
from projections.mail.quarantine import MailQuarantineProjection
from projections.outbox import OutboxProjection
from projections.portal import PortalProjection
from projections.portal_projects import PortalProjectsProjection
from projections.recurrence import RecurringSeriesProjection
from projections.reports.changes import ItemChangesProjection
from projections.reports.schedules import ReportSchedulesProjection
from projections.sla.view import SlaProjection
from projections.status_board import StatusBoardProjection
from projections.teams import TeamDirectoryProjection
from projections.ticket_detail import TicketDetailProjection
from projections.timesheets import TimesheetProjection
from projections.tree import TreeProjection
from projections.users import UserDirectoryProjection
from projections.views.saved import SavedViewsProjection
from projections.workflow.automations import AutomationClockProjection


def all_projections() -> list[Projection]:
    return [
        AccessProjection(),
        TicketDetailProjection(),
        FlatProjection(),
        ItemHistoryProjection(),
        UserDirectoryProjection(),
        TeamDirectoryProjection(),
        CustomerDirectoryProjection(),
        HierarchyProjection(),
        RecurringSeriesProjection(),
        PortalProjection(),
        PortalProjectsProjection(),
        TreeProjection(),
        OutboxProjection(),
        GanttProjection(),
        StatusBoardProjection(),
        TimesheetProjection(),
        MailQuarantineProjection(),
        MailboxProjection(),
        KnowledgeBaseProjection(),
        SlaProjection(),
        AutomationClockProjection(),
        ChatsProjection(),
        LiveProjection(),
        FeedProjection(),
        WebhooksProjection(),
        AdminAuditProjection(),
        SavedViewsProjection(),
        ItemChangesProjection(),
        ReportSchedulesProjection(),
        ImportJobsProjection(),
    ]
