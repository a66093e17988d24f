"""Is a message automatic (RFC 3834 and the headers mail systems use in practice)?

Automatic mail may open or join an item (a monitoring alert is a real ticket), but never
triggers an acknowledgement and never reopens a finished item.
"""

from __future__ import annotations

from collections.abc import Mapping

# Precedence values that mark bulk or automatic mail (RFC 2076, common practice).
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
# Headers whose mere presence says a program wrote the message.
_PRESENCE = ("x-autoreply", "x-autorespond", "x-autoresponder", "list-id", "x-loop")


def automatic_reason(headers: Mapping[str, str]) -> str | None:
    """Why a message with these headers (names in lower case) is automatic, or None."""
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto}"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in _PRESENCE:
        if name in headers:
            return f"{name} present"
    suppress = headers.get("x-auto-response-suppress", "").strip().lower()
    if suppress and suppress != "none":
        return f"X-Auto-Response-Suppress: {suppress}"
    if "return-path" in headers and headers["return-path"].strip() in ("<>", ""):
        return "empty Return-Path"
    return None
