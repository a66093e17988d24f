"""Where a webhook may be sent: only to public addresses, unless the operator allows a host
(`LEDGERDESK_WEBHOOK_ALLOWED_HOSTS`). A host written as a number in any form a resolver
takes (`2130706433`, `0177.0.0.1`, `0x7f.1`), an IPv4 address inside an IPv6 one
(`::ffff:127.0.0.1`, 6to4, NAT64) and a name that resolves to a private address are all
judged by the address they reach."""

from __future__ import annotations

import ipaddress
import re
import socket

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_V6 = ipaddress.ip_network
# IPv6 prefixes that carry an IPv4 address in their last 32 bits: NAT64 (RFC 6052),
# IPv4-compatible (deprecated, RFC 4291) and SIIT's IPv4-translated (RFC 2765).
CARRYING_V4 = (_V6("64:ff9b::/96"), _V6("::/96"), _V6("::ffff:0:0:0/96"))
# Inside whatever Python's own tables say: local-use NAT64 (RFC 8215), site-local
# (deprecated, still routed by some), segment routing (RFC 9602).
INSIDE_V6 = (_V6("64:ff9b:1::/48"), _V6("fec0::/10"), _V6("5f00::/16"))
# The numeric forms C's inet_aton takes (decimal, octal, hex, with 1 to 4 parts).
_NUMERIC = re.compile(r"(?:0[xX][0-9a-fA-F]*|[0-9]+)(?:\.(?:0[xX][0-9a-fA-F]*|[0-9]+)){0,3}")


def literal_address(host: str) -> Address | None:
    """The address a host written as a number stands for (None: it is a name)."""
    text = host.strip().strip("[]")
    try:
        return ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        pass
    if _NUMERIC.fullmatch(text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def reached(address: Address) -> Address:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if int(address) > 1 and any(address in prefix for prefix in CARRYING_V4):
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_public(address: Address) -> bool:
    """Whether a delivery may reach `address` without the operator's leave: a global
    unicast address (not loopback, private, link-local, shared, reserved or multicast)."""
    inner = reached(address)
    if isinstance(inner, ipaddress.IPv6Address) and (
        inner.teredo is not None or any(inner in prefix for prefix in INSIDE_V6)
    ):
        return False
    return inner.is_global and not inner.is_multicast


def host_allowed(host: str, allow: frozenset[str]) -> bool:
    """Whether the operator's allow-list names the host itself (then any of its addresses
    may be reached)."""
    return host.lower().strip("[]").rstrip(".") in allow


def address_allowed(address: Address, allow: frozenset[str]) -> bool:
    """Whether the operator's allow-list names this address (as written or as reached)."""
    return str(address) in allow or str(reached(address)) in allow
