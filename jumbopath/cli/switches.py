"""``jumbopath switches``: read the switches, map layer 2, flag ports, place a check's breaks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from jumbopath.cli import app
from jumbopath.errors import UsageError
from jumbopath.model import Break
from jumbopath.status import ExitCode


@app.command("switches")
def switches_command(
    switches: list[str] = typer.Argument(
        None,
        metavar="SWITCH...",
        help="Switches to read: ADDRESS or NAME=ADDRESS.",
        show_default=False,
    ),
    switches_file: Path | None = typer.Option(
        None,
        "--switches",
        help="Switches file (YAML): switches to read, ones given as data, hosts.",
    ),
    credentials_file: Path | None = typer.Option(
        None,
        "--credentials",
        help="SNMP credentials file (mode 600). Default: JUMBOPATH_SNMP_* from the environment.",
    ),
    expect: int = typer.Option(9000, "--expect", "-e", help="IP MTU the network needs."),
    check_file: Path | None = typer.Option(
        None,
        "--check",
        help="A check/trace --json document ('-' for stdin): name the switch "
        "port behind each silent break.",
    ),
    source: list[str] = typer.Option(
        [], "--source", help="This host's address or LLDP name (for a break on the first segment)."
    ),
    timeout: float = typer.Option(1.0, "--timeout", min=0.05, max=30, help="Per SNMP request, s."),
    retries: int = typer.Option(1, "--retries", min=0, max=5, help="SNMP retries per request."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Read switches over SNMP (IF-MIB, LLDP-MIB, BRIDGE-MIB), map layer 2 and flag every
    port below --expect. With --check, name the port behind each silent break."""
    from jumbopath.sizes import check_mtu
    from jumbopath.switches import files
    from jumbopath.switches.credentials import credentials_from_env, load_credentials
    from jumbopath.switches.graph import flags
    from jumbopath.switches.render import map_dict, render_map, suspects_dict
    from jumbopath.switches.survey import specs_from_args, survey
    from jumbopath.switches.suspects import suspect_ports

    check_mtu(expect)
    spec = files.load(switches_file) if switches_file else files.SwitchesFile((), (), ())
    spec = files.SwitchesFile(spec.poll + specs_from_args(switches or []), spec.given, spec.hosts)
    if not spec.poll and not spec.given:
        raise UsageError("no switches: name SWITCH addresses or give --switches FILE")
    creds = load_credentials(credentials_file) if credentials_file else credentials_from_env()
    results = _breaks(check_file) if check_file is not None else []  # all input before polling
    graph = survey(
        spec,
        creds,
        timeout_s=timeout,
        retries=retries,
        max_time_s=max(5.0, timeout * (retries + 1) * 8),
    )
    flagged = flags(graph, expect)
    doc = map_dict(graph, flagged, expect)
    found_suspects = False
    if check_file is not None:
        placed = []
        for target, brk in results:
            s = suspect_ports(brk, graph, expected=expect, source=tuple(source))
            found_suspects = found_suspects or bool(s.ports)
            placed.append({"target": target, **suspects_dict(s)})
        doc["breaks"] = placed
    if json_out:
        typer.echo(json.dumps(doc, indent=2))
    else:
        typer.echo(render_map(graph, flagged, expect))
        for entry in doc.get("breaks", []):
            typer.echo(f"\nBreak toward {entry['target']}: {entry['explanation']}")
    if any(sw.failure is not None for sw in graph.switches):
        raise typer.Exit(int(ExitCode.CANNOT_MEASURE))
    raise typer.Exit(int(ExitCode.BELOW if flagged or found_suspects else ExitCode.OK))


def _breaks(path: Path) -> list[tuple[str, Break]]:
    """(target, Break) of every result with a break in a check/trace JSON document."""
    from jumbopath.mesh.bounded import loads
    from jumbopath.outside import read_text
    from jumbopath.schema import SchemaError, result_from_dict

    text = sys.stdin.read(8 << 20) if str(path) == "-" else read_text(path, "--check file", 8 << 20)
    try:
        doc = loads(text)  # bounded: depth, numbers
    except ValueError:
        raise UsageError(f"{path}: not a JSON document from check --json or trace --json") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise UsageError(f"{path}: no 'results': give the output of check --json or trace --json")
    out: list[tuple[str, Break]] = []
    for item in doc["results"][:1024]:
        try:
            r = result_from_dict(item)
        except SchemaError as exc:
            raise UsageError(f"{path}: {exc}") from None
        if r.break_ is not None:
            out.append((r.target, r.break_))
    return out
