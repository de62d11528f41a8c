"""mesh carries --probe, --flows and --soak to every remote check."""

from __future__ import annotations

import pytest

from jumbopath.cli.mesh import _field_options
from jumbopath.errors import UsageError
from jumbopath.mesh.agentless import SOAK, check_config
from jumbopath.mesh.runs import remote_script
from jumbopath.mesh.ssh import SshOptions


def _check_args(probe: str | None, flows: int | None, soak: int | None) -> tuple[str, ...]:
    probe, flows, soak = _field_options(probe, flows, soak)
    return SshOptions(probe=probe, flows=flows, soak=soak).check_args


def test_every_remote_check_gets_the_options() -> None:
    extra = _check_args("TCP:445", 64, 0)
    assert extra == ("--probe", "tcp:445", "--flows", "64", "--soak", "0")
    script = remote_script("jumbopath", [("storage", 9000, ["198.18.1.2"], 4)], "n0nce", extra)
    line = next(x for x in script.splitlines() if x.startswith("jumbopath check"))
    assert "--expect 9000 --probe tcp:445 --flows 64 --soak 0 -4 -- 198.18.1.2" in line


def test_unset_options_are_left_to_the_remote_default() -> None:
    assert _check_args(None, None, None) == ()


@pytest.mark.parametrize(
    ("probe", "flows", "soak"), [("sctp", None, None), (None, 0, None), (None, None, -1)]
)
def test_bad_options_are_refused_before_any_session(
    probe: str | None, flows: int | None, soak: int | None
) -> None:
    with pytest.raises(UsageError):
        _check_args(probe, flows, soak)


def test_a_check_run_from_here_gets_the_same_options() -> None:
    probe, flows, soak = _field_options("TCP:445", 64, 0)
    options = SshOptions(probe=probe, flows=flows, soak=soak)
    config = check_config(options, ["198.18.1.2"], 9000, 4, 10.0)
    assert (config.probe and config.probe.value, config.port) == ("tcp", 445)
    assert (config.flows, config.soak, config.expect, config.via) == (64, 0, 9000, "ping")
    default = check_config(SshOptions(), ["198.18.1.2"], 9000, None, 10.0)
    assert (default.probe, default.flows, default.soak) == (None, 32, SOAK)
