"""``check`` and ``trace`` held to the truth of random labs (fixed seeds).

Each seed draws a lab with :func:`jumbopath.lab.randomlab.draw` (see its
docstring for the shape) and its truth comes from the topology alone
(:func:`~jumbopath.lab.randomlab.truth`). The lab is built once; from
``src``, ``check --json --expect 9000`` and ``trace --json --expect 9000``
toward ``far`` (IPv4, and IPv6 on some) must give the truth's status, path
MTU, direction and break place (the whole ``breaks`` list once results carry
one). The seeds cover every fault class; ``bench/oracle_bench.py`` runs
hundreds more. A seed where jumbopath disagrees stays here as a strict xfail
naming what differs: it fails the suite once fixed, so the mark goes then.
"""

from __future__ import annotations

import json
import sys

import pytest

from jumbopath.lab import Lab
from jumbopath.lab.randomlab import FAR, SOURCE, compare, draw, names, truth

EXPECT = 9000
EXIT = {"ok": 0, "below": 1, "degraded": 1}


def known(seed: int, reason: str) -> pytest.ParameterSet:
    return pytest.param(seed, marks=pytest.mark.xfail(strict=True, reason=reason))


# seed: classes (IPv6 too where listed in V6)
SEEDS = [
    32,  # clean
    183,  # local-nic
    10,  # single-ptb
    190,  # single-silent (src's own switch port below its NIC), IPv6 too
    287,  # multi-limit: the tightest limit is silent behind a "too big" router
    20,  # multi-limit, no-ptb
    155,  # multi-limit, no-ptb: the tightest limit is silent behind a "too big" router
    67,  # big-loss
    29,  # single-silent, all-loss
    89,  # single-silent, asymmetric
    162,  # single-silent, asymmetric, return-limit (a looser forward limit too)
    100,  # big-loss, asymmetric, return-limit
    25,  # asymmetric, return-limit (trace right after check: far's ICMP burst spent)
    229,  # echo-filtered
    128,  # echo-filtered (far's NIC at 4000: the TCP search finds 4004)
    264,  # echo-filtered (1404 over TCP: RSTs to probes one byte apart)
    49,  # multi-limit, echo-filtered
    28,  # local-nic, multi-limit, asymmetric
    known(
        41,
        "multi-limit: a silent limit at r1-r2 between two others is missing from breaks "
        "(neither swept size falls in its range); path MTU and the tightest break are right",
    ),
]
V6 = {10, 190, 20, 162, 89}


@pytest.mark.parametrize("seed", SEEDS)
def test_oracle(seed: int) -> None:
    drawn = draw(seed)
    addresses = names(drawn.topology)
    differences: list[str] = []
    with Lab(drawn.topology) as lab:
        for family in (4, 6) if seed in V6 else (4,):
            t = truth(drawn.topology, family)
            for cmd in ("check", "trace"):
                lab.run(SOURCE, ["ip", f"-{family}", "route", "flush", "cache"])
                argv = [sys.executable, "-m", "jumbopath", cmd, "--json", "--expect", str(EXPECT)]
                done = lab.run(SOURCE, [*argv, lab.addr(FAR, family)], timeout=120)
                where = f"{cmd} IPv{family}"
                if done.returncode != EXIT[t.status(EXPECT)]:
                    differences.append(f"{where}: exit {done.returncode}")
                try:
                    result = json.loads(done.stdout)["results"][0]
                except (ValueError, KeyError, IndexError):
                    differences.append(f"{where}: no JSON result: {done.stderr[-300:]}")
                    continue
                differences += [f"{where}: {d}" for d in compare(t, result, addresses, EXPECT)]
    assert not differences, (drawn.classes, differences)
