"""The words of the mesh: failing pairs, verdicts and summaries (jumbopath.render.explain.mesh).

The matrix tests assert on the data; these few check that the sentences
built from it say what an admin needs, and that names from outside are
made safe before they enter one.
"""

from __future__ import annotations

from typing import Any

from test_mesh_helpers import addr, mesh_of
from test_mesh_matrix import H4, H5, PTB, cross, host_fault, local_nic, silent

from jumbopath.mesh.model import NetworkMatrix
from jumbopath.render.explain.mesh import (
    legend,
    matrix_summary,
    mesh_summary,
    pair_sentence,
    verdict_sentence,
)


def said(net: NetworkMatrix) -> tuple[list[str], list[str]]:
    """(failing pair sentences, verdict sentences)."""
    return (
        [pair_sentence(f, net) for f in net.failing],
        [verdict_sentence(v, net) for v in net.verdicts],
    )


def test_link_verdict_names_both_groups() -> None:
    net = mesh_of(H4, cells=cross(["h1", "h2"], ["h3", "h4"])).networks[0]
    _, (v,) = said(net)
    assert v.startswith(
        "On storage, h1 and h2 reach each other and h3 and h4 reach each other at 9000, "
        "but the pairs between the two groups fail."
    )
    assert "Suspect the link between the two groups" in v


def test_host_verdicts_say_nic_or_access_port() -> None:
    cells = host_fault("h3", H5)
    for o in H5:
        if o != "h3":
            cells[("h3", o)] = ("below", 1500, local_nic())
    _, (nic,) = said(mesh_of(H5, cells=cells).networks[0])
    assert nic == (
        "Every pair with h3 on storage fails in both directions (its paths carry at most "
        "1500), while the other hosts reach each other at 9000. Suspect h3's own NIC: its "
        "interface eth1 is set to MTU 1500: raise it to 9000."
    )
    _, (port,) = said(mesh_of(H5, cells=host_fault("h3", H5)).networks[0])
    assert "Suspect h3's switch access port on storage" in port
    assert "(h3's own interface eth1 is set to 9000)" in port


def test_one_way_failures_are_said() -> None:
    cells: dict[tuple[str, str], Any] = {}
    for a in ("h1", "h2"):
        for b in ("h3", "h4"):
            cells[(a, b)] = ("below", 1500, {"direction": "return"})
            cells[(b, a)] = ("below", 1500, {"direction": "forward"})
    net = mesh_of(H4, cells=cells).networks[0]
    pairs, (v,) = said(net)
    assert (
        "h1 → h3: path MTU 1500, below 9000; big packets die on the way back from h3 to h1; "
        "the way there carries them." in pairs
    )
    assert "only on the way from h3 and h4 to h1 and h2" in v


def test_breaks_are_named_with_host_names() -> None:
    net = mesh_of(H4, cells=cross(["h1", "h2"], ["h3", "h4"], extra=PTB)).networks[0]
    pairs, (v,) = said(net)
    assert "on 8 failing path(s) 198.18.9.1 reports next-hop MTU 1500" in v
    assert all("198.18.9.1 reports next-hop MTU 1500" in p for p in pairs)
    cells = {
        ("h1", "h2"): ("below", 1500, silent(None, addr("h2"))),
        ("h2", "h1"): ("below", 1500, silent(None, addr("h1"))),
    }
    pairs, _ = said(mesh_of(H4, cells=cells).networks[0])
    assert f"they vanish silently after h1 and before h2 ({addr('h2')})" in pairs[0]


def test_pair_that_disagrees_and_degraded_and_network_wide() -> None:
    _, (v,) = said(mesh_of(H4, cells={("h1", "h2"): ("below", 1500)}).networks[0])
    assert v.startswith("The pair h1 – h2 fails on storage on its own. h1 → h2: path MTU 1500")
    assert v.endswith(
        "h2 → h1 carries 9000: the two hosts disagree (a one-way limit, or a flapping path)."
    )
    net = mesh_of(["h1", "h2"], cells={("h1", "h2"): ("degraded", 9000)}).networks[0]
    (p,), _ = said(net)
    assert p.startswith("h1 → h2: carries 9000, but loses big packets more often than small ones")
    assert legend(net) == "~ carries the MTU but loses big packets"
    everything = {(a, b): ("below", 1500) for a in H4 for b in H4 if a != b}
    _, (v,) = said(mesh_of(H4, cells=everything).networks[0])
    assert v.startswith("Every pair on storage fails: the network as a whole does not carry 9000.")


def test_summaries() -> None:
    mesh = mesh_of(H4, cells=cross(["h1", "h2"], ["h3", "h4"]))
    net = mesh.networks[0]
    assert matrix_summary(net) == "4 of 12 paths carry 9000."
    assert mesh_summary(mesh) == "Some pairs do not carry their network's MTU."
    assert legend(net) is None  # no pair could tell which way
    assert mesh_summary(mesh_of(H4)) == "Every pair carries its network's MTU."


def test_names_from_outside_are_made_safe_in_sentences() -> None:
    from test_mesh_helpers import check_doc, result

    from jumbopath.mesh.inventory import Network
    from jumbopath.mesh.matrix import build_mesh
    from jumbopath.mesh.runs import HostRun, NetworkRun

    evil, a1, a2 = "n\x1b[2J1", "198.18.1.1", "198.18.1.2"
    net = Network("st\u202eorage", 9000, ((evil, a1), ("n2", a2)))
    runs = [
        HostRun(
            evil,
            (
                NetworkRun(
                    net.name, 9000, (("n2", a2),), check_doc(9000, [result(a2, "below", 1500)])
                ),
            ),
        ),
        HostRun(
            "n2",
            (
                NetworkRun(
                    net.name, 9000, ((evil, a1),), check_doc(9000, [result(a1, "below", 1500)])
                ),
            ),
        ),
    ]
    matrix = build_mesh([net], runs).networks[0]
    texts = [*said(matrix)[0], *said(matrix)[1]]
    assert len(texts) == 3
    for text in texts:
        assert "\x1b" not in text and "\u202e" not in text
    assert "\\x1b[2J" in texts[0]
