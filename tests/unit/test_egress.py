"""Resolution keeps an IPv6 link-local scope; a link-local target without one is bad input."""

from __future__ import annotations

import socket

import pytest

from jumbopath.egress import resolve, sockaddr_of
from jumbopath.errors import UsageError
from jumbopath.probers.base import Target

LO = socket.if_nametoindex("lo")


@pytest.mark.parametrize(
    ("typed", "address", "scope"),
    [
        ("fe80::1%lo", "fe80::1", LO),
        ("[fe80::1%lo]", "fe80::1", LO),
        (f"fe80::1%{LO}", "fe80::1", LO),
        ("FE80::0:1%lo", "fe80::1", LO),
        ("2001:db8::1", "2001:db8::1", 0),
        ("198.18.0.1", "198.18.0.1", 0),
    ],
)
def test_literals_keep_their_scope(typed: str, address: str, scope: int) -> None:
    [target] = resolve([typed], None)
    assert (target.name, target.address, target.scope_id) == (typed, address, scope)


def test_one_interface_named_twice_is_one_target() -> None:
    targets = resolve(["fe80::1%lo", f"fe80::1%{LO}", "fe80::1%lo"], 6)
    assert len(targets) == 1
    assert targets[0].scope_id == LO


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("fe80::1", "fe80::1 is link-local: name the interface, e.g. fe80::1%eth0"),
        ("[fe80::abcd]", "fe80::abcd is link-local: name the interface"),
        ("fe80::1%nosuch0", "no interface 'nosuch0'"),
        ("fe80::1%999999", "no interface number 999999"),
        ("fe80::1%99999999999999999999999", "no interface number"),
        ("fe80::1%", "'' cannot name an interface"),
        ("fe80::1%a/b", "'a/b' cannot name an interface"),
        ("fe80::1%a b", "'a b' cannot name an interface"),
        ("fe80::1%..", "'..' cannot name an interface"),
        ("fe80::1%lo%lo", "'lo%lo' cannot name an interface"),
        ("fe80::1%\x1b[2J", "cannot name an interface"),
        ("fe80::1%" + "x" * 16, "cannot name an interface"),
        ("2001:db8::1%lo", "only a link-local address"),
    ],
)
def test_link_local_without_a_usable_interface_is_usage(typed: str, words: str) -> None:
    with pytest.raises(UsageError) as raised:
        resolve([typed], None)
    assert words in str(raised.value)
    assert "e.g." in str(raised.value) or "drop" in str(raised.value)


def test_family_mismatch_is_checked_before_the_scope() -> None:
    with pytest.raises(UsageError, match="IPv6 address but -4"):
        resolve(["fe80::1%nosuch0"], 4)


def test_a_name_with_a_nul_does_not_resolve() -> None:
    with pytest.raises(UsageError, match="cannot resolve"):
        resolve(["bad\x00name.invalid"], None)


def test_socket_addresses_carry_the_scope() -> None:
    assert sockaddr_of(Target("a", "198.18.0.1", 4), 9) == ("198.18.0.1", 9)
    assert sockaddr_of(Target("b", "2001:db8::1", 6), 0) == ("2001:db8::1", 0, 0, 0)
    assert sockaddr_of(Target("c", "fe80::1", 6, scope_id=LO), 7) == ("fe80::1", 7, 0, LO)
