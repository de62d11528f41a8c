"""The demo's claim: what check must find on a lab, read from the topology, and the
comparison of check's JSON with it (pure: no namespaces needed)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jumbopath.errors import LabError
from jumbopath.lab import Host, Link, Switch, Topology, chain, demo
from jumbopath.lab.claim import claims, demo_run, judge

TARGETS = ("stor-a", "stor-b", "stor-c")
A, B, C, R1 = "198.18.2.2", "198.18.2.3", "198.18.2.4", "198.18.1.2"


def ok(address: str) -> dict[str, Any]:
    return {
        "target": address,
        "address": address,
        "family": 4,
        "status": "ok",
        "path_mtu": 9000,
        "break": {"kind": "none", "after": None, "before": None, "mtu": 9000},
        "cause": "some-new-field",
    }


def below(address: str, mtu: int = 1500, after: str | None = R1) -> dict[str, Any]:
    brk = {"kind": "silent", "after": after, "before": address, "mtu": mtu, "reported_by": None}
    return {**ok(address), "status": "below", "path_mtu": mtu, "break": brk}


def host_finding(failing: str, *passing: str) -> dict[str, Any]:
    return {"scope": "host", "hop": R1, "failing": [failing], "passing": list(passing)}


# Built by the helpers above in the shape of check's JSON on the demo lab (only the
# fields the claim reads, plus an unknown cause it must ignore); not a capture. The
# captured document is tests/unit/data/demo-check.json (see CAPTURED below).
BUILT = {
    "schema": 1,
    "expected_mtu": 9000,
    "results": [ok(A), below(B), ok(C)],
    "findings": [host_finding(B, A, C)],
}


def test_the_demo_claim_comes_from_the_topology() -> None:
    prober, targets, expected = demo_run(demo())
    assert (prober, targets, expected) == ("client", TARGETS, 9000)
    a, b, c = claims(demo(), prober, targets)
    assert (a.path_mtu, b.path_mtu, c.path_mtu) == (9000, 1500, 9000)
    assert b.address == B and b.port == ("sw2", "stor-b")
    assert (b.upstream, b.downstream) == ("r1", "stor-b")
    assert R1 in b.upstream_addrs and b.downstream_addrs == (B,)
    assert b.describe(9000) == "stor-b (198.18.2.3): path MTU 1500, at sw2's port toward stor-b"
    assert a.describe(9000) == "stor-a (198.18.2.2): 9000 end to end"


def test_claim_follows_the_topology_data() -> None:
    moved = demo().with_mtu("sw2", "stor-b", 9000).with_mtu("stor-c", "sw2", 4000)
    a, b, c = claims(moved, "client", TARGETS)
    assert (a.path_mtu, b.path_mtu, c.path_mtu) == (9000, 9000, 4000)
    assert c.port == ("stor-c", "sw2") and c.downstream == "stor-c"
    # a router's egress between two routers: the break lies between them
    (d,) = claims(chain(3, mtus={("r2", "r3"): 1500}), "src", ["dst"])
    assert (d.path_mtu, d.port, d.upstream, d.downstream) == (1500, ("r2", "r3"), "r2", "r3")


def test_a_claim_needs_a_path_and_addresses() -> None:
    apart = Topology(
        nodes=(Host("a"), Switch("s"), Host("b"), Host("c")),
        links=(Link("a", "s"), Link("s", "b"), Link("c", "b")),  # b never forwards
    )
    with pytest.raises(LabError, match="no path from a to c"):
        claims(apart, "a", ["c"])
    with pytest.raises(LabError, match="s has no IPv4 address"):
        claims(apart, "a", ["s"])
    with pytest.raises(LabError, match="no node named 'x'"):
        claims(apart, "a", ["x"])


def test_the_built_demo_document_matches() -> None:
    verdict = judge(claims(demo(), "client", TARGETS), 9000, BUILT)
    assert verdict.ok, verdict.differences
    assert verdict.found == (
        "stor-a (198.18.2.2): ok, path MTU 9000",
        "stor-b (198.18.2.3): below, path MTU 1500, "
        "silent break between r1 (198.18.1.2) and stor-b (198.18.2.3)",
        "stor-c (198.18.2.4): ok, path MTU 9000",
        "finding (host, behind r1 (198.18.1.2)): failing stor-b (198.18.2.3); "
        "passing stor-a (198.18.2.2), stor-c (198.18.2.4)",
    )


#: What ``jumbopath check --json --expect 9000 198.18.2.2 198.18.2.3 198.18.2.4`` printed,
#: run in the demo lab's ``client`` namespace (``Lab(demo())``, as ``jumbopath demo``
#: builds it; exit status 1), saved unchanged apart from indentation.
CAPTURED = Path(__file__).parent / "data" / "demo-check.json"


def test_the_captured_demo_document_matches() -> None:
    document = json.loads(CAPTURED.read_text())
    verdict = judge(claims(demo(), "client", TARGETS), 9000, document)
    assert verdict.ok, verdict.differences
    assert verdict.found[:3] == (
        "stor-a (198.18.2.2): ok, path MTU 9000",
        "stor-b (198.18.2.3): below, path MTU 1500, "
        "silent break between r1 (198.18.1.2) and stor-b (198.18.2.3)",
        "stor-c (198.18.2.4): ok, path MTU 9000",
    )
    # The same document with stor-b's port claimed at 9000 and stor-c's at 1500 differs.
    moved = demo().with_mtu("sw2", "stor-b", 9000).with_mtu("sw2", "stor-c", 1500)
    assert not judge(claims(moved, "client", TARGETS), 9000, document).ok


def edit(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    doc = copy.deepcopy(BUILT)
    change(doc)
    return doc


def results(*rs: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc.update(results=list(rs))


# (what check got wrong, document, words every difference line must contain, in order)
WRONG: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "another target fails",
        edit(
            lambda d: d.update(results=[ok(A), ok(B), below(C)], findings=[host_finding(C, A, B)])
        ),
        [
            "stor-b (198.18.2.3): built below 9000 (path MTU 1500), but check says ok",
            "stor-b (198.18.2.3): path MTU built 1500, check measured 9000",
            "stor-b (198.18.2.3): neither a break nor a finding points at it",
            "stor-c (198.18.2.4): built to carry 9000 end to end, but check says below",
            "stor-c (198.18.2.4): carries 9000, yet a host finding blames it",
        ],
    ),
    (
        "wrong MTU",
        edit(results(ok(A), below(B, 1492), ok(C))),
        ["stor-b (198.18.2.3): path MTU built 1500, check measured 1492"],
    ),
    (
        "break in the wrong place",
        edit(results(ok(A), below(B, after="198.18.1.1"), ok(C))),
        ["check puts the break between 198.18.1.1 and 198.18.2.3, the lab has it between r1"],
    ),
    (
        "called shared",
        edit(lambda d: d.update(findings=[{**host_finding(B, A, C), "scope": "shared"}])),
        ["a shared finding names it, the lab has the fault between r1 and stor-b"],
    ),
    (
        "target missing",
        edit(results(ok(A), ok(C))),
        ["stor-b (198.18.2.3): check reported nothing for it"],
    ),
    (
        "a stranger reported",
        edit(results(ok(A), below(B), ok(C), ok("198.18.9.9"))),
        ["check reported 198.18.9.9, which is not a target of the lab"],
    ),
    (
        "unreachable",
        edit(results(ok(A), {**below(B), "status": "unreachable", "path_mtu": None}, ok(C))),
        ["but check says unreachable", "check measured none"],
    ),
    ("not a document", [], ["not a schema 1 JSON document"]),
]


@pytest.mark.parametrize(("case", "document", "words"), WRONG, ids=[w[0] for w in WRONG])
def test_a_mismatch_is_found_and_said(case: str, document: Any, words: list[str]) -> None:
    verdict = judge(claims(demo(), "client", TARGETS), 9000, document)
    assert not verdict.ok
    text = "\n".join(verdict.differences)
    for w in words:
        assert w in text, text


def test_a_lab_built_with_another_fault_is_a_mismatch() -> None:
    """The built demo document against a claim whose small port is at stor-c."""
    moved = demo().with_mtu("sw2", "stor-b", 9000).with_mtu("sw2", "stor-c", 1500)
    verdict = judge(claims(moved, "client", TARGETS), 9000, BUILT)
    assert not verdict.ok
    assert any(d.startswith("stor-c (198.18.2.4): built below 9000") for d in verdict.differences)
    assert any(
        d.startswith("stor-b (198.18.2.3): built to carry 9000") for d in verdict.differences
    )


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "schema": JSONISH,
        "results": st.lists(
            st.fixed_dictionaries(
                {"address": st.sampled_from([A, B, C, "\x1b[2J"]) | JSONISH},
                optional={"status": JSONISH, "path_mtu": JSONISH, "break": JSONISH},
            )
            | JSONISH,
            max_size=4,
        ),
        "findings": st.lists(JSONISH, max_size=3),
    },
)


@given(FIELDS | JSONISH)
def test_hostile_documents_never_raise(document: Any) -> None:
    verdict = judge(claims(demo(), "client", TARGETS), 9000, document)
    for line in verdict.found + verdict.differences:
        assert "\x1b" not in line
    json.dumps(document)  # the strategy only makes JSON values


def test_the_demo_says_what_differs_and_exits_4() -> None:
    import io

    from rich.console import Console

    from jumbopath.cli.demo import _show_verdict
    from jumbopath.status import ExitCode

    claimed = claims(demo(), "client", TARGETS)
    moved = edit(results(ok(A), below(B, 1492), ok(C)))
    for document, code in ((BUILT, ExitCode.OK), (moved, ExitCode.INTERNAL)):
        out = io.StringIO()
        console = Console(file=out, width=200, highlight=False)
        assert _show_verdict(console, claimed, 9000, judge(claimed, 9000, document)) is code
        text = out.getvalue()
        assert "stor-b (198.18.2.3): path MTU 1500, at sw2's port toward stor-b" in text
    assert "check found something else than the lab was built with" in text
    assert "stor-b (198.18.2.3): path MTU built 1500, check measured 1492" in text
    assert "bug in jumbopath" in text
