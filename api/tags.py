"""OpenAPI tags, one per resource."""

from enum import StrEnum


class Tag(StrEnum):
    HEALTH = "health"
    TICKETS = "tickets"
    TASKS = "tasks"
    TIME = "time"
    CONVERSATION = "conversation"
    PEOPLE = "people"
    VIEWS = "views"
    PLANNING = "planning"
    USERS = "users"
    AUTH = "auth"
    ME = "me"
    CUSTOMERS = "customers"
    CONTACTS = "contacts"
    TEAMS = "teams"
    PROJECTS = "projects"
    PORTFOLIOS = "portfolios"
    FOLDERS = "folders"
    PORTAL = "portal"
    ITEMS = "items"
    REPORTS = "reports"
    MAIL = "mail"
    ADMIN = "admin"
    KNOWLEDGE_BASE = "knowledge-base"
    INTAKE = "intake"
    WORKFLOW = "workflow"
    CHATS = "chats"
    INTEGRATIONS = "integrations"


TAG_METADATA = [
    {
        "name": Tag.WORKFLOW,
        "description": "Statuses per item type, automation rules, and SLA policies: response"
        " and resolution targets per priority, in business hours.",
    },
    {
        "name": Tag.CHATS,
        "description": "The messenger: customers chat live with staff; a chat becomes a ticket"
        " or task, or is linked to one.",
    },
    {
        "name": Tag.INTAKE,
        "description": "Item types (their fields and where their items go) and the web forms"
        " that offer them.",
    },
    {
        "name": Tag.KNOWLEDGE_BASE,
        "description": "Articles staff write and customers read in the knowledge base (/kb).",
    },
    {
        "name": Tag.INTEGRATIONS,
        "description": "The event feed (the log's public events, resumable by position).",
    },
    {
        "name": Tag.ADMIN,
        "description": "The company's settings: which apps and features are switched on.",
    },
    {
        "name": Tag.MAIL,
        "description": "The mail channel: received mail in, mailboxes, the quarantine.",
    },
    {"name": Tag.HEALTH, "description": "Liveness of the service."},
    {"name": Tag.TICKETS, "description": "Customer requests: open, read, change, history."},
    {
        "name": Tag.TASKS,
        "description": "Planned work: dates, constraints, dependencies, subtasks, recurrence;"
        " converting a ticket into a task.",
    },
    {
        "name": Tag.TIME,
        "description": "Timers and timesheet entries: log, edit, withdraw, submit, approve,"
        " reject, correct.",
    },
    {"name": Tag.CONVERSATION, "description": "Messages and attachments on a ticket or task."},
    {"name": Tag.PEOPLE, "description": "Assignees, followers and team of a ticket or task."},
    {"name": Tag.VIEWS, "description": "Projected read models: lists and boards."},
    {
        "name": Tag.PLANNING,
        "description": "Planning views of the projects you may see: the Gantt chart (JSON, SVG,"
        " baselines), the status board and the calendar (JSON, iCalendar).",
    },
    {"name": Tag.USERS, "description": "Staff users: roles, app permissions, flags."},
    {"name": Tag.AUTH, "description": "Log in with a password or an invitation; log out."},
    {"name": Tag.ME, "description": "The caller's profile and API tokens."},
    {
        "name": Tag.CUSTOMERS,
        "description": "Customer organisations: email domains and how members share items.",
    },
    {"name": Tag.CONTACTS, "description": "Customer people by email; turn one into staff."},
    {"name": Tag.PROJECTS, "description": "Projects: customer folders, members, joining."},
    {"name": Tag.PORTFOLIOS, "description": "Portfolios group projects, and nest."},
    {"name": Tag.FOLDERS, "description": "Folders inside projects; they nest and move."},
    {"name": Tag.TEAMS, "description": "Teams of staff users and each member's team role."},
    {"name": Tag.ITEMS, "description": "Any kind of item by number: who could see it when."},
    {
        "name": Tag.REPORTS,
        "description": "Time reports: totals per user, item, project, customer, week or month,"
        " as JSON or a streamed CSV / XLSX export.",
    },
    {
        "name": Tag.PORTAL,
        "description": "The customer portal: invitations, sessions, and the tickets a customer"
        " may see (never an internal message).",
    },
]
