"""Inference across targets behind the same last hop: (results, expected finding)."""

from __future__ import annotations

import pytest

from jumbopath.model import Break, BreakKind, Cause, Hop, PathResult, Status
from jumbopath.render.explain import finding_sentence
from jumbopath.triangulate import LOCAL, last_hop, triangulate

R1, R2 = "198.18.1.2", "198.18.2.2"


def result(
    address: str,
    status: Status,
    via: tuple[str | None, ...] = (R1, R2),
    *,
    mtu: int | None = None,
    family: int = 4,
    break_: Break | None = None,
) -> PathResult:
    path_mtu = mtu if mtu is not None else (9000 if status is Status.OK else 1500)
    hops = tuple(Hop(i + 1, a, 0.1, None) for i, a in enumerate((*via, address)))
    return PathResult(
        target=address,
        address=address,
        family=family,
        status=status,
        expected_mtu=9000,
        path_mtu=path_mtu,
        hops=hops,
        break_=break_,
    )


def silent(after: str, before: str) -> Break:
    return Break(BreakKind.SILENT, after, before, 1500, None, Cause.SILENT_DROP, size=1501)


def ptb(reporter: str, before: str) -> Break:
    return Break(BreakKind.PTB, reporter, before, 1500, reporter, Cause.ROUTER_TOO_BIG, size=1501)


A, B, C = "198.18.3.1", "198.18.3.2", "198.18.3.3"

# (description, results, expected (scope, hop, failing, passing) tuples)
CASES = [
    (
        "one of three fails: host-specific",
        [result(A, Status.OK), result(B, Status.BELOW, break_=silent(R2, B)), result(C, Status.OK)],
        [("host", R2, (B,), (A, C))],
    ),
    (
        "all three fail: shared element",
        [result(x, Status.BELOW, break_=silent(R2, x)) for x in (A, B, C)],
        [("shared", R2, (A, B, C), ())],
    ),
    ("all pass: nothing to say", [result(x, Status.OK) for x in (A, B, C)], []),
    ("a lone failing target: nothing to compare", [result(A, Status.BELOW)], []),
    (
        "different last hops are not compared",
        [result(A, Status.OK, via=(R1,)), result(B, Status.BELOW, via=(R1, R2))],
        [],
    ),
    (
        "families are not mixed",
        [result(A, Status.OK, family=6), result(B, Status.BELOW)],
        [],
    ),
    (
        "unreachable targets are left out",
        [result(A, Status.UNREACHABLE), result(B, Status.BELOW)],
        [],
    ),
    (
        "targets on this host's own segment",
        [result(A, Status.OK, via=()), result(B, Status.BELOW, via=())],
        [("host", None, (B,), (A,))],
    ),
    (
        "an unanswered last hop cannot group",
        [result(A, Status.OK, via=(R1, None)), result(B, Status.BELOW, via=(R1, None))],
        [],
    ),
    (
        "a quiet last hop is taken from a path that agrees on every known hop",
        [
            result(A, Status.OK),
            result(B, Status.BELOW, break_=silent(R2, B)),
            result(C, Status.OK, via=(R1, None)),
        ],
        [("host", R2, (B,), (A, C))],
    ),
    (
        "... but not from a path that disagrees",
        [
            result(A, Status.OK),
            result(B, Status.BELOW, break_=silent(R2, B)),
            result(C, Status.OK, via=("198.18.7.7", None)),
        ],
        [("host", R2, (B,), (A,))],
    ),
]


@pytest.mark.parametrize("desc,results,expected", CASES, ids=[c[0] for c in CASES])
def test_triangulate(desc: str, results: list[PathResult], expected: list[tuple]) -> None:
    found = [(f.scope, f.hop, f.failing, f.passing) for f in triangulate(results)]
    assert found == expected


def test_host_verdict_is_data() -> None:
    (f,) = triangulate([result(A, Status.OK), result(B, Status.BELOW)])
    assert (f.cause, f.hop, f.failing, f.passing) == (Cause.HOST_SPECIFIC, R2, (B,), (A,))
    assert f.expected_mtu == 9000 and f.common_break is None


def test_shared_verdict_is_data() -> None:
    (f,) = triangulate([result(x, Status.BELOW, break_=silent(R2, x)) for x in (A, B)])
    assert (f.cause, f.hop, f.failing, f.passing) == (Cause.SHARED_ELEMENT, R2, (A, B), ())
    assert f.measured == (1500,) and f.common_break is None  # two different far ends


def test_shared_verdict_keeps_a_common_break_further_up() -> None:
    (f,) = triangulate([result(x, Status.BELOW, break_=ptb(R1, R2)) for x in (A, B)])
    assert f.common_break is not None and f.common_break.reported_by == R1


# The wording, once: the sentences come from the explanation module.


def test_host_verdict_wording() -> None:
    (f,) = triangulate([result(A, Status.OK), result(B, Status.BELOW)])
    text = finding_sentence(f)
    assert B in text and R2 in text and A in text
    assert "access switch port" in text and "own NIC" in text


def test_shared_verdict_wording() -> None:
    (f,) = triangulate([result(x, Status.BELOW, break_=silent(R2, x)) for x in (A, B)])
    text = finding_sentence(f)
    assert f"{R2}'s egress" in text and "switch or uplink" in text
    (g,) = triangulate([result(x, Status.BELOW, break_=ptb(R1, R2)) for x in (A, B)])
    assert "same place" in finding_sentence(g) and R1 in finding_sentence(g)


def test_last_hop() -> None:
    assert last_hop(result(A, Status.OK)) == R2
    assert last_hop(result(A, Status.OK, via=())) == LOCAL
    no_map = PathResult(A, A, 4, Status.OK, 9000, 9000)
    assert last_hop(no_map) is None
    short = result(A, Status.OK)
    cut = PathResult(A, A, 4, Status.OK, 9000, 9000, hops=short.hops[:2])
    assert last_hop(cut) is None
