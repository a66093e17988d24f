"""The install's mail settings that admins change through the API: whether new items are
acknowledged, the name, logo and colour mail is branded with, and the SMTP server mail
leaves through (it wins over `LEDGERDESK_SMTP_URL`). One aggregate for the install.

The SMTP password arrives sealed (`commands.credentials`): events hold only the token."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValueError
from domain.mail.addresses import Address
from domain.values import Actor

MAIL_SETTINGS_ID = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/mail/settings")
SECURITY = ("tls", "starttls", "none")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULTS: dict[str, Any] = {
    "acknowledge": True,
    "company_name": "ledgerdesk",
    "logo_url": None,
    "colour": "#1f6feb",
    # Buttons and the widget's launcher, white text on it.
    "button_colour": "#0a4cb5",
    # The name mail from the support address shows (None: the company's name).
    "support_name": None,
    "smtp": None,
    # An uploaded logo (`{"sha256", "media_type"}`, in the blob store); `logo_url` is then
    # where it is served.
    "logo": None,
}
LOGO_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def logo_type(head: bytes) -> str | None:
    """The image type of a file by its first bytes (None: none we take as a logo). SVG is
    not one: it can carry script."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def checked_logo(logo: Any) -> dict[str, str] | None:
    if logo is None:
        return None
    if (
        not isinstance(logo, dict)
        or not _SHA256.match(str(logo.get("sha256", "")))
        or logo.get("media_type") not in LOGO_TYPES
    ):
        raise InvalidValueError("logo", "an uploaded image")
    return {"sha256": logo["sha256"], "media_type": logo["media_type"]}


def checked_smtp(smtp: dict[str, Any] | None) -> dict[str, Any] | None:
    """An SMTP server as events carry it: host, port, security, user, the sealed password
    (`password_token`), and the From address and name (None: the install's)."""
    if smtp is None:
        return None
    host = str(smtp.get("host") or "").strip()
    if not host or any(c.isspace() for c in host):
        raise InvalidValueError("smtp.host", "a host name or address")
    port = smtp.get("port")
    if not isinstance(port, int) or not 0 < port < 65536:
        raise InvalidValueError("smtp.port", "a port number from 1 to 65535")
    security = smtp.get("security", "starttls")
    if security not in SECURITY:
        raise InvalidValueError("smtp.security", f"one of {', '.join(SECURITY)}")
    sender = smtp.get("from_address")
    if sender is not None and (
        Address.parse(str(sender)) is None
        or not re.fullmatch(r"[^\s@]+@[^\s@]+\.[^\s@]+", str(sender))
    ):
        raise InvalidValueError("smtp.from_address", f"not an address: {sender!r}")
    return {
        "host": host,
        "port": port,
        "security": security,
        "user": smtp.get("user") or None,
        "password_token": smtp.get("password_token") or None,
        "from_address": str(sender).lower() if sender else None,
        "from_name": smtp.get("from_name") or None,
    }


# WCAG 2 AA: normal text needs a contrast of 4.5:1 with what is behind it.
LEAST_CONTRAST = 4.5


def _luminance(colour: str) -> float:
    """The relative luminance of `#rrggbb` (WCAG 2)."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    """The contrast ratio of two `#rrggbb` colours (1 to 21)."""
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _colour(values: dict[str, Any], name: str) -> str:
    colour = values.get(name, DEFAULTS[name])
    if not isinstance(colour, str) or not _COLOUR.match(colour):
        raise InvalidValueError(name, "a colour as #rrggbb")
    return colour


def filled(stored: dict[str, Any]) -> dict[str, Any]:
    """Settings stored before some were added, completed: the defaults, but a button colour
    of the brand's own colour when white text reads on it (the widget's launcher had it)."""
    values = {**DEFAULTS, **stored}
    if "button_colour" not in stored:
        colour = stored.get("colour", DEFAULTS["colour"])
        if contrast(colour, "#ffffff") >= LEAST_CONTRAST:
            values["button_colour"] = colour
    return values


def company_of(values: dict[str, Any]) -> dict[str, Any]:
    """The brand as the pages, the widget and mail templates see it (`company.*`)."""
    return {
        "name": values["company_name"],
        "logo_url": values["logo_url"],
        "colour": values["colour"],
        "button_colour": values.get("button_colour", DEFAULTS["button_colour"]),
    }


def checked(values: dict[str, Any]) -> dict[str, Any]:
    colour = _colour(values, "colour")
    button = _colour(values, "button_colour")
    ratio = contrast(button, "#ffffff")
    if ratio < LEAST_CONTRAST:
        shown = math.floor(ratio * 100) / 100  # Rounded down: 4.48 is not "4.5".
        raise InvalidValueError(
            "button_colour",
            f"white text on {button} contrasts {shown:.2f}:1, and buttons need at least"
            f" {LEAST_CONTRAST}:1 to be read (WCAG AA): choose a darker colour",
        )
    logo = values.get("logo_url")
    if logo is not None and not str(logo).startswith(("https://", "http://")):
        raise InvalidValueError("logo_url", "an http(s) address of an image")
    name = str(values.get("company_name") or "").strip()
    if not name or len(name) > 200:
        raise InvalidValueError("company_name", "a name of 1 to 200 characters")
    support = values.get("support_name")
    if support is not None:
        support = str(support).strip()
        if not support or len(support) > 200 or any(c in support for c in '"<>\r\n'):
            raise InvalidValueError(
                "support_name", "a name of 1 to 200 characters, without quotes or brackets"
            )
    return {
        "acknowledge": bool(values.get("acknowledge", True)),
        "company_name": name,
        "support_name": support,
        "logo_url": logo,
        "colour": colour,
        "button_colour": button,
        "smtp": checked_smtp(values.get("smtp")),
        "logo": checked_logo(values.get("logo")),
    }


class MailSettings(Aggregate):
    """What admins set for mail; absent until first changed (the defaults apply)."""

    TOPIC = "ledgerdesk:MailSettings"

    if TYPE_CHECKING:
        Changed: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id() -> Any:
        return MAIL_SETTINGS_ID

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:MailSettings.Created"

    class Set(Aggregate.Created):
        TOPIC = "ledgerdesk:MailSettings.Set"
        values: dict[str, Any]
        actor: str
        correlation_id: str

    @event(Set)
    def __init__(self, values: dict[str, Any], actor: str, correlation_id: str) -> None:
        self.values = values

    @classmethod
    def first(cls, values: dict[str, Any], actor: Actor, correlation_id: str) -> MailSettings:
        return cls._create(
            cls.Set,
            id=MAIL_SETTINGS_ID,
            values=checked(values),
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    def change(self, values: dict[str, Any], actor: Actor, correlation_id: str) -> None:
        new = checked(values)
        if new != self.values:
            self._changed(values=new, actor=actor.ref, correlation_id=correlation_id)

    @event("Changed", topic="ledgerdesk:MailSettings.Changed")
    def _changed(self, values: dict[str, Any], actor: str, correlation_id: str) -> None:
        self.values = values
