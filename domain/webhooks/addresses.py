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
NAT64 = ipaddress.ip_network("64:ff9b::/96")
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
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_public(address: Address) -> bool:
    """Whether a delivery may reach `address` without the operator's leave: a global
    unicast address (not loopback, private, link-local, shared, reserved or multicast)."""
    inner = reached(address)
    if isinstance(inner, ipaddress.IPv6Address) and inner.teredo is not None:
        return False
    return inner.is_global and not inner.is_multicast


def allowed(host: str, addresses: list[Address], allow: frozenset[str]) -> bool:
    """Whether the operator's allow-list names the host or one of its addresses."""
    if host.lower().strip("[]") in allow:
        return True
    return any(str(a) in allow or str(reached(a)) in allow for a in addresses)
