"""Which client a throttle counts: an IPv4 address as it is, an IPv6 one by its /64."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from api.deps import client_address


def request_from(host: str | None) -> Request:
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    if host is not None:
        scope["client"] = (host, 50000)
    return Request(scope)


@pytest.mark.parametrize(
    ("host", "counted_as"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("testclient", "testclient"),
        (None, "unknown"),
    ],
)
def test_a_client_is_known_by_its_address_or_its_ipv6_64(host: str | None, counted_as: str) -> None:
    assert client_address(request_from(host)) == counted_as
