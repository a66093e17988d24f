"""The domain's errors: a small hierarchy, one family per kind of refusal."""

from __future__ import annotations


class DomainError(Exception):
    """Raised when a command breaks a rule of the model."""


class InvalidValueError(DomainError):
    """Raised when a value given to a command is not one the model accepts."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class DisallowedCharacterError(InvalidValueError):
    """Raised when text holds a character no store keeps: NUL and the other C0 controls but
    TAB, LF and CR, a lone surrogate, U+FFFE or U+FFFF (see `domain.text`)."""


class ConflictError(DomainError):
    """Raised when a command conflicts with the current state of an aggregate."""


class NotFoundError(DomainError):
    """Raised when a command names an aggregate or part that does not exist."""


class EmptyTitleError(InvalidValueError):
    """Raised when an item would be given an empty title."""

    def __init__(self) -> None:
        super().__init__("title", "title must not be empty")


class UnknownStatusError(InvalidValueError):
    """Raised when a status is not one of the configured lifecycle statuses."""

    def __init__(self, status: str, known: list[str]) -> None:
        super().__init__("status", f"unknown status {status!r}; known: {', '.join(known)}")


class UnknownPriorityError(InvalidValueError):
    """Raised when a priority is not low, normal, high or urgent."""

    def __init__(self, priority: str) -> None:
        super().__init__(
            "priority", f"unknown priority {priority!r}; known: low, normal, high, urgent"
        )


class TicketNotFoundError(NotFoundError):
    """Raised when no ticket has the given number."""

    def __init__(self, number: int) -> None:
        super().__init__(f"no ticket #{number}")


class TaskNotFoundError(NotFoundError):
    """Raised when no task has the given number."""

    def __init__(self, number: int) -> None:
        super().__init__(f"no task #{number}")


class MessageNotFoundError(InvalidValueError):
    """Raised when a message answers a message that is not in the conversation."""

    def __init__(self, message_id: str) -> None:
        super().__init__("in_reply_to", f"no message {message_id} in this conversation")


class InternalMessageReplyError(InvalidValueError):
    """Raised when a customer-visible reply would answer an internal message."""

    def __init__(self) -> None:
        super().__init__("in_reply_to", "a customer reply cannot answer an internal message")


class EmptyMessageError(InvalidValueError):
    """Raised when a message has no body."""

    def __init__(self) -> None:
        super().__init__("body", "message body must not be empty")


class InvalidEmailError(InvalidValueError):
    """Raised when an email address is not of the form local@domain."""

    def __init__(self, field: str, value: str) -> None:
        super().__init__(field, f"{value!r} is not an email address")


class UserAlreadyExistsError(ConflictError):
    """Raised when a staff user is created with an email another user has."""

    def __init__(self, email: str) -> None:
        super().__init__(f"a user with email {email} already exists")


class UserDeactivatedError(ConflictError):
    """Raised when a deactivated user would be given a password, invitation or token."""

    def __init__(self, email: str) -> None:
        super().__init__(f"user {email} is deactivated")


class CannotDeactivateSelfError(ConflictError):
    """Raised when a user would deactivate themselves (and lock themselves out)."""

    def __init__(self) -> None:
        super().__init__("you cannot deactivate yourself")


class TokenNotFoundError(NotFoundError):
    """Raised when a user has no token with the given id."""

    def __init__(self, token_id: str) -> None:
        super().__init__(f"no token {token_id}")


class TeamNameTakenError(ConflictError):
    """Raised when a team would take a name another team holds (compared case-blind)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a team named {name!r} already exists")


class TeamMemberExistsError(ConflictError):
    """Raised when a member would be added again with another role (change the role)."""

    def __init__(self, user_id: str, role: str) -> None:
        super().__init__(f"user {user_id} is already in the team as {role}")


class TeamMemberNotFoundError(NotFoundError):
    """Raised when a team has no member with the given user id."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"user {user_id} is not a member of the team")


class PermissionDeniedError(DomainError):
    """Raised when the caller is known but may not do what they ask."""


class InvalidCredentialsError(DomainError):
    """Raised when a login, invitation or token does not check out (no detail on why)."""

    def __init__(self, message: str = "the credentials are not valid") -> None:
        super().__init__(message)


class InvalidEmailDomainError(InvalidValueError):
    """Raised when an organisation's email domain is not of the form example.com."""

    def __init__(self, value: str) -> None:
        super().__init__("domains", f"{value!r} is not an email domain")


class EmailDomainTakenError(ConflictError):
    """Raised when an organisation lists an email domain another organisation has."""

    def __init__(self, domain: str) -> None:
        super().__init__(f"the email domain {domain} belongs to another organisation")


class OrganisationNotFoundError(NotFoundError):
    """Raised when no customer organisation has the given id."""

    def __init__(self, organisation_id: object) -> None:
        super().__init__(f"no customer organisation {organisation_id}")


class ContactNotFoundError(NotFoundError):
    """Raised when no contact has the given id."""

    def __init__(self, contact_id: object) -> None:
        super().__init__(f"no contact {contact_id}")


class ContactAlreadyExistsError(ConflictError):
    """Raised when a contact is registered with an email another contact has."""

    def __init__(self, email: str) -> None:
        super().__init__(f"a contact with email {email} already exists")


class ContactWithoutOrganisationError(ConflictError):
    """Raised when a contact outside any organisation would be let see colleagues' items."""

    def __init__(self) -> None:
        super().__init__("the contact belongs to no organisation, so has no colleagues")


class ContactAlreadyStaffError(ConflictError):
    """Raised when a contact that was already turned into a staff user is turned again."""

    def __init__(self, email: str) -> None:
        super().__init__(f"contact {email} is already a staff user")


class TicketConvertedError(ConflictError):
    """Raised when a command names a ticket that now lives on as a task."""

    def __init__(self, number: int, task_number: int) -> None:
        super().__init__(f"ticket #{number} was converted to task #{task_number}")
        self.number = number
        self.task_number = task_number


class TicketAlreadyConvertedError(ConflictError):
    """Raised when a ticket that was already converted is converted again."""

    def __init__(self, number: int, task_number: int) -> None:
        super().__init__(f"ticket #{number} was already converted to task #{task_number}")
        self.number = number
        self.task_number = task_number


class TaskLinkError(InvalidValueError):
    """Raised when a dependency between tasks is not one the model accepts."""

    def __init__(self, message: str) -> None:
        super().__init__("predecessor", message)


class SubtaskLevelError(InvalidValueError):
    """Raised when a subtask would break the one-level rule (or its project)."""

    def __init__(self, message: str) -> None:
        super().__init__("parent", message)


class UnknownConstraintError(InvalidValueError):
    """Raised when a task constraint is not one of the kinds the scheduler knows."""

    def __init__(self, kind: str, known: list[str]) -> None:
        super().__init__("constraint", f"unknown constraint {kind!r}; known: {', '.join(known)}")


class ConstraintDateError(InvalidValueError):
    """Raised when a dated constraint has no date, or as soon/late as possible has one."""

    def __init__(self, kind: str, needed: bool) -> None:
        need = "needs a date" if needed else "takes no date"
        super().__init__("constraint_date", f"a {kind} constraint {need}")


class UnknownLinkKindError(InvalidValueError):
    """Raised when a dependency link kind is not finish/start to start/finish."""

    def __init__(self, kind: str, known: list[str]) -> None:
        super().__init__("kind", f"unknown link kind {kind!r}; known: {', '.join(known)}")


class DependencyCycleError(ConflictError):
    """Raised when a dependency link would close a cycle (an item waiting on itself)."""

    def __init__(self, cycle: list[int]) -> None:
        super().__init__(" → ".join(f"#{number}" for number in cycle) + " would be a cycle")
        self.cycle = tuple(cycle)
