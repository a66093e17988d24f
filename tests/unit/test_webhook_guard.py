"""The delivery guard's judgement, with an injected resolver (no network): every way of
writing a loopback, private, link-local or otherwise inside address is refused, a name is
judged by what it resolves to, and the operator's allow-list lets a named host through."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from commands.webhooks.guard import Guard, TargetRefusedError
from domain.errors import InvalidValueError
from domain.webhooks.addresses import is_public, literal_address
from domain.webhooks.deliveries import MAX_ATTEMPTS, WebhookDelivery, retry_delay
from domain.webhooks.subscriptions import checked_url

NAMES = {
    "hooks.example.com": ["93.184.216.34"],
    "inside.example": ["10.1.2.3"],
    "mixed.example": ["93.184.216.34", "192.168.1.9"],
    "v6.example": ["2606:2800:220:1:248:1893:25c8:1946"],
    "mapped.example": ["::ffff:169.254.169.254"],
}


def resolve(host: str, port: int) -> list[str]:
    if host not in NAMES:
        raise OSError("no such name")
    return NAMES[host]


@pytest.mark.parametrize(
    ("url", "reached"),
    [
        ("http://127.0.0.1/in", "127.0.0.1"),
        ("http://2130706433/in", "127.0.0.1"),  # decimal
        ("http://0177.0.0.1/in", "127.0.0.1"),  # octal
        ("http://0x7f.1/in", "127.0.0.1"),  # hex, two parts
        ("http://017700000001/in", "127.0.0.1"),  # one octal number
        ("http://[::1]/in", "::1"),
        ("http://[::ffff:127.0.0.1]/in", "::ffff:7f00:1"),  # IPv4-mapped IPv6
        ("http://[::ffff:a9fe:a9fe]/in", "::ffff:a9fe:a9fe"),  # mapped link-local
        ("http://[2002:7f00:1::]/in", "2002:7f00:1::"),  # 6to4 around the loopback
        ("http://[64:ff9b::a00:1]/in", "64:ff9b::a00:1"),  # NAT64 around 10.0.0.1
        ("http://10.0.0.1/in", "10.0.0.1"),
        ("http://172.16.5.4/in", "172.16.5.4"),
        ("http://192.168.0.1/in", "192.168.0.1"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),  # cloud metadata
        ("http://100.64.0.1/in", "100.64.0.1"),  # shared address space
        ("http://0.0.0.0/in", "0.0.0.0"),
        ("http://[fe80::1]/in", "fe80::1"),
        ("http://[fc00::1]/in", "fc00::1"),
        ("http://224.0.0.1/in", "224.0.0.1"),
        ("http://inside.example/in", "10.1.2.3"),
        ("http://mixed.example/in", "192.168.1.9"),  # one inside address is enough
        ("http://mapped.example/in", "::ffff:a9fe:a9fe"),
    ],
)
def test_every_way_inside_is_refused(url: str, reached: str) -> None:
    with pytest.raises(TargetRefusedError) as refused:
        Guard(frozenset(), resolve).judge(url)
    assert "not a public address" in str(refused.value)
    # An address written in the URL is named; the inside addresses a name leads to are not
    # (they would map the install's network for whoever may subscribe)
    by_name = ".example/" in url
    assert (reached in str(refused.value)) is not by_name
    if by_name:
        assert "leads to an address, which" in str(refused.value)


def test_public_names_and_addresses_pass_and_connect_where_judged() -> None:
    guard = Guard(frozenset(), resolve)
    assert str(guard.judge("https://hooks.example.com/in").address) == "93.184.216.34"
    assert guard.judge("https://hooks.example.com/in").port == 443
    assert str(guard.judge("http://93.184.216.34:8080/in").address) == "93.184.216.34"
    assert str(guard.judge("https://v6.example/in").address).startswith("2606:2800")


def test_a_name_that_does_not_resolve_is_refused_saying_so() -> None:
    with pytest.raises(TargetRefusedError, match="does not resolve"):
        Guard(frozenset(), resolve).judge("https://nowhere.example/in")


def test_the_allow_list_lets_named_hosts_and_addresses_through() -> None:
    assert Guard(frozenset({"inside.example"}), resolve).judge("http://inside.example/in")
    assert Guard(frozenset({"10.1.2.3"}), resolve).judge("http://inside.example/in")
    assert Guard(frozenset({"127.0.0.1"}), resolve).judge("http://2130706433/in")
    with pytest.raises(TargetRefusedError):
        Guard(frozenset({"127.0.0.1"}), resolve).judge("http://10.0.0.1/in")


def test_addresses_read_as_resolvers_read_them() -> None:
    assert str(literal_address("2130706433")) == "127.0.0.1"
    assert str(literal_address("0177.0.0.1")) == "127.0.0.1"
    assert str(literal_address("[::1]")) == "::1"
    assert literal_address("hooks.example.com") is None
    assert literal_address("1.2.3.4.5") is None
    assert literal_address("08.1.1.1") is None  # 08 is no octal number: a name
    assert is_public(literal_address("93.184.216.34"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "http://[64:ff9b:1::a00:1]/in",  # local-use NAT64 (RFC 8215)
        "http://[::a00:1]/in",  # IPv4-compatible
        "http://[::ffff:0:a00:1]/in",  # SIIT
        "http://[fec0::1]/in",  # site-local
        "http://localhost./in",  # a trailing dot: resolved like any name
    ],
)
def test_inside_addresses_python_may_call_global_are_refused(url: str) -> None:
    names = {"localhost.": ["127.0.0.1"]}
    with pytest.raises(TargetRefusedError):
        Guard(frozenset(), lambda host, port: names[host]).judge(url)


def test_an_allowed_address_does_not_let_a_name_through_to_another() -> None:
    # One answer allowed, another the cloud metadata address: refused (without naming the
    # addresses a name leads to)
    names = {n: ["169.254.169.254", "10.0.0.12"] for n in ("two.example", "two.example.")}
    with pytest.raises(TargetRefusedError, match=r"two\.example leads to an address, which is not"):
        Guard(frozenset({"10.0.0.12"}), lambda h, p: names[h]).judge("http://two.example/in")
    # Naming the host lets all its answers through (the operator chose it)
    guard = Guard(frozenset({"two.example"}), lambda h, p: names[h])
    assert guard.judge("http://two.example./in")


def test_urls_that_no_delivery_could_send_are_refused_or_made_ascii() -> None:
    assert checked_url("https://bücher.example/in") == "https://xn--bcher-kva.example/in"
    for bad in ("http://hooks.example.com/a\x01b", "http://h.example:0/", "http://a b.example/"):
        with pytest.raises(InvalidValueError):
            checked_url(bad)


def test_the_retry_schedule_doubles_and_lasts_past_a_day_at_the_default() -> None:
    assert [retry_delay(n, 30) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    waited = sum(retry_delay(n, 30) for n in range(1, MAX_ATTEMPTS))
    assert waited >= 24 * 3600
    assert waited == 30 * (2 ** (MAX_ATTEMPTS - 1) - 1)


def test_an_attempt_still_on_its_way_is_not_taken_for_failed() -> None:
    delivery = WebhookDelivery.queue(uuid.uuid4(), "7", "item.created", "x", "x")
    started = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    delivery.start_attempt(1, "https://h.example/", started.isoformat(), False, "x", "x")
    # On its way: the next is not due before its timeout has passed as well
    assert delivery.next_due(30, 10) == started + timedelta(seconds=40)
    delivery.end_attempt(1, 500, None, 12, {}, "", "x", "x")
    # Failed: due after the schedule's wait alone
    assert delivery.next_due(30, 10) == started + timedelta(seconds=30)
