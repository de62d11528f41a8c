"""``jumbopath mesh`` and ``jumbopath report``: every host pair of a cluster, both directions."""

from __future__ import annotations

import json
import signal
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from jumbopath.cli import app
from jumbopath.errors import UsageError
from jumbopath.safe import safe_text
from jumbopath.status import ExitCode

if TYPE_CHECKING:
    from jumbopath.mesh.matrix import Mesh
    from jumbopath.mesh.runs import HostRun
    from jumbopath.mesh.ssh import Interrupted
    from jumbopath.switches.files import SwitchesFile as SwitchesSpec

# The mesh modules (YAML, SSH, renderers) are imported by the commands that use
# them: every other jumbopath command, and so every remote ``check`` a mesh
# starts, skips that import time.
FORMATS = ("auto", "jumbopath", "ansible-yaml", "ansible-ini", "ansible")

_OUTPUTS = ("text", "json", "mermaid", "html", "prometheus")


def _output(fmt: str, as_json: bool) -> str:
    if as_json:
        return "json"
    if fmt not in _OUTPUTS:
        raise UsageError(f"--format {fmt!r}: use one of {', '.join(_OUTPUTS)}")
    return fmt


def _finish(
    mesh: Mesh,
    fmt: str,
    save: Path | None,
    compare: Path | None,
    textfile: str | None = None,
    switches: str | SwitchesSpec | None = None,
) -> None:
    """Render, save, compare; raise the exit status.

    ``switches``: a switches file (``--switches``) or an inventory's switches.
    """
    from jumbopath.mesh import document
    from jumbopath.render.mesh import render_changes, render_mermaid, render_text

    if switches is not None and any(c.break_ is not None for n in mesh.networks for c in n.cells):
        from jumbopath.environment import SystemEnvironment
        from jumbopath.mesh.switchports import with_switch_ports

        mesh = with_switch_ports(mesh, SystemEnvironment().switch_map(switches))

    previous = document.load(compare) if compare is not None else None
    doc = document.to_document(mesh)
    changes = document.compare(previous, doc) if previous is not None else None
    if save is not None:
        document.save(doc, save)
    if textfile is not None:
        import time

        from jumbopath.render import prometheus as prom

        prom.write_textfile([*prom.mesh_metrics(doc), prom.timestamp_metric(time.time())], textfile)
    console = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 160)
    if fmt == "json":
        if changes is not None:
            doc = {**doc, "changes": document.changes_document(changes)}
        document.dump(doc, sys.stdout)
    elif fmt == "mermaid":
        typer.echo(render_mermaid(mesh), nl=False)
    elif fmt == "html":
        from jumbopath.render.mesh_html import render_mesh_html

        how = " ".join(["jumbopath", *sys.argv[1:]]) if "jumbopath" in sys.argv[0] else "jumbopath"
        typer.echo(render_mesh_html(doc, how=how), nl=False)
    elif fmt == "prometheus":
        import time

        from jumbopath.render import prometheus as prom

        metrics = [*prom.mesh_metrics(doc), prom.timestamp_metric(time.time())]
        typer.echo(prom.render_openmetrics(metrics), nl=False)
    elif changes is not None:
        assert compare is not None
        render_changes(changes, str(compare), console)
    else:
        render_text(mesh, console)
    if changes is not None:
        measured = any(c.status.measured for n in mesh.networks for c in n.cells)
        if any(c.regression for c in changes):
            code = ExitCode.BELOW
        elif not measured:
            code = ExitCode.CANNOT_MEASURE
        else:
            code = ExitCode.OK
    else:
        code = mesh.exit_code
    raise typer.Exit(int(code))


def _signals_stop_the_run() -> AbstractContextManager[None]:
    """While inside, SIGINT and SIGTERM raise :class:`~jumbopath.mesh.ssh.Interrupted` (once).

    The fan-out catches it, kills its sessions and hands back what finished
    (:func:`jumbopath.procs.signals_interrupt`: a second signal, or one ignored
    when jumbopath started, is ignored).
    """
    from jumbopath.procs import signals_interrupt

    return signals_interrupt(signal.SIGINT, signal.SIGTERM)


def _show_interrupted(mesh: Mesh, fmt: str, stop: Interrupted, total: int, save: bool) -> None:
    """What was measured before the signal, one line saying so; raise its exit status."""
    from jumbopath.mesh import document
    from jumbopath.mesh.runs import ErrorKind
    from jumbopath.render.mesh import render_mermaid, render_text

    if fmt == "json":
        doc = {**document.to_document(mesh), "interrupted": stop.name}
        typer.echo(document.dumps(doc), nl=False)
    elif fmt == "mermaid":
        typer.echo(render_mermaid(mesh), nl=False)
    else:
        render_text(mesh, Console(soft_wrap=False, width=None if sys.stdout.isatty() else 160))
    runs = stop.runs or []
    stopped = sum(1 for r in runs if r.error is not None and r.error.kind is ErrorKind.INTERRUPTED)
    typer.echo(
        f"jumbopath: interrupted ({stop.name}): {total - stopped} of {total} hosts finished, "
        "the others are marked not measured" + ("; nothing was saved (--save)" if save else ""),
        err=True,
    )
    raise typer.Exit(stop.exit_status)


def _refuse_huge(networks: Any) -> None:
    """One usage line, before anything is measured or drawn, for a matrix too large to hold."""
    from jumbopath.mesh.plan import MAX_PATHS, too_many_paths

    largest = too_many_paths(networks)
    if largest is not None:
        total = sum(len(n.members) * (len(n.members) - 1) for n in networks)
        raise UsageError(
            f"{total} paths to draw (network {safe_text(largest.name, 80)}: {largest.hosts} "
            f"hosts, {largest.paths} paths): jumbopath draws at most {MAX_PATHS}; "
            "choose networks with --network, or see the plan with --dry-run"
        )


def _show_plan(plan: Any, command: str, fmt: str) -> None:
    """Print a ``--dry-run`` plan: JSON with --json, else text, a line at a time."""
    from jumbopath.render.plan import plan_dict, plan_lines

    if fmt == "json":
        typer.echo(json.dumps(plan_dict(plan, command), indent=1))
        return
    for line in plan_lines(plan, command):
        typer.echo(line)


def _seconds(option: str, value: float, low: float, high: float) -> float:
    """A finite number of seconds in range, else one usage line."""
    import math

    if not math.isfinite(value) or not low <= value <= high:
        raise UsageError(
            f"{option}: give a number of seconds from {low:g} to {high:g}, not {value:g}"
        )
    return value


def _field_options(
    probe: str | None, flows: int | None, soak: int | None
) -> tuple[str | None, int | None, int | None]:
    """--probe, --flows and --soak for every check, validated here first."""
    from jumbopath.pathstate import check_flows, check_soak, parse_probe

    if probe is not None:
        parse_probe(probe)
    return (
        probe,
        _option("--flows", check_flows, flows),
        _option("--soak", check_soak, soak),
    )


def _option(name: str, check: Any, value: int | None) -> int | None:
    """``value`` through its range check, the usage line naming the option."""
    if value is None:
        return None
    try:
        return int(check(value))
    except UsageError as exc:
        raise UsageError(f"{name}: {exc}") from None


def _progress(total: int, quiet: bool) -> Any:
    """A callback that reports finished hosts on stderr when it is a terminal."""
    err = Console(stderr=True)
    if quiet or not err.is_terminal:
        return None
    done = [0]

    def on_done(run: HostRun) -> None:
        done[0] += 1
        state = "ok" if run.error is None else run.error.kind.value
        line = f"{done[0]}/{total} {safe_text(run.host, 80)}: {state} ({run.elapsed_s:.1f} s)"
        err.print(Text(line, style="dim"))

    return on_done


# Options shared by mesh and report.
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the mesh as JSON (schema 1).")]
DryRun = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Measure nothing: read the inventory (and files) and print what would be "
        "checked, a line per network and per host (memory linear in hosts).",
    ),
]
OutputFormat = Annotated[
    str, typer.Option("--format", help="text, json, mermaid, html or prometheus.")
]
SaveFile = Annotated[
    Path | None, typer.Option("--save", help="Write the result (JSON) for a later --compare.")
]
CompareFile = Annotated[
    Path | None,
    typer.Option(
        "--compare", help="Show only what changed since a --save; exit 1 on a regression."
    ),
]
SwitchesFile = Annotated[
    str | None,
    typer.Option(
        "--switches",
        help="A switches file (see `jumbopath switches`): name the switch port behind "
        "every silent break. Without it, the inventory's switches are read (its "
        "'switches:' section, Ansible's 'network' hosts); with it, only this file's.",
    ),
]
TextFile = Annotated[
    str | None,
    typer.Option(
        "--textfile", help="Also write Prometheus metrics to this .prom file (atomically)."
    ),
]
InventoryFormat = Annotated[
    str, typer.Option("--inventory-format", help=f"One of: {', '.join(FORMATS)}.")
]
VaultPasswordFile = Annotated[
    list[str] | None,
    typer.Option(
        "--vault-password-file", help="Passed to Ansible (repeatable); needs ansible-core."
    ),
]
VaultId = Annotated[
    list[str] | None,
    typer.Option("--vault-id", help="Passed to Ansible (repeatable): LABEL@SOURCE."),
]
AskVaultPass = Annotated[
    bool, typer.Option("--ask-vault-pass", help="Ansible prompts for the vault password.")
]


def _load(
    sources: list[Path],
    fmt: str,
    vault_password_file: list[str] | None,
    vault_id: list[str] | None,
    ask_vault_pass: bool,
) -> Any:
    """The inventory, read by Ansible when it is installed (vault options passed on)."""
    from jumbopath.mesh.inventory import AnsibleOptions, load_inventory

    if not sources:
        raise UsageError(
            "Missing argument 'INVENTORY': give an inventory (or -i SOURCE, repeatable)"
        )
    options = AnsibleOptions(
        vault_password_files=tuple(vault_password_file or ()),
        vault_ids=tuple(vault_id or ()),
        ask_vault_pass=ask_vault_pass,
    )
    return load_inventory(sources, fmt, options)


@app.command("mesh")
def mesh_command(
    inventory: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Inventory: jumbopath YAML, or any Ansible inventory (file, directory, "
            "dynamic inventory script or plugin)."
        ),
    ] = None,
    sources: Annotated[
        list[Path] | None,
        typer.Option(
            "--inventory", "-i", help="Another inventory source (repeatable, as Ansible)."
        ),
    ] = None,
    ssh_config: Annotated[
        Path | None,
        typer.Option("--ssh-config", "-F", help="OpenSSH configuration file (passed as ssh -F)."),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds allowed for one host's whole session.")
    ] = 60.0,
    connect_timeout: Annotated[
        float, typer.Option("--connect-timeout", help="SSH ConnectTimeout in seconds.")
    ] = 5.0,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-j", help="SSH sessions at once.")
    ] = 16,
    network: Annotated[
        list[str] | None,
        typer.Option("--network", "-n", help="Check only this network (repeatable)."),
    ] = None,
    as_json: JsonFlag = False,
    fmt: OutputFormat = "text",
    save: SaveFile = None,
    compare: CompareFile = None,
    textfile: TextFile = None,
    switches: SwitchesFile = None,
    inventory_format: InventoryFormat = "auto",
    probe: Annotated[
        str | None,
        typer.Option("--probe", help="Every check's probes: auto, icmp, udp[:PORT] or tcp[:PORT]."),
    ] = None,
    flows: Annotated[
        int | None,
        typer.Option("--flows", help="Every check confirms its MTU over this many flows (1: off)."),
    ] = None,
    soak: Annotated[
        int | None,
        typer.Option("--soak", help="Every check's soak at the path MTU, in probes (0: off)."),
    ] = None,
    vault_password_file: VaultPasswordFile = None,
    vault_id: VaultId = None,
    ask_vault_pass: AskVaultPass = False,
    dry_run: DryRun = False,
) -> None:
    """Check every host pair of every network in an inventory, both directions, over SSH."""
    from jumbopath.mesh.matrix import build_mesh
    from jumbopath.mesh.ssh import Interrupted, SshOptions, fan_out

    try:
        with _signals_stop_the_run():
            out = _output(fmt, as_json)
            inv = _load(
                [*(inventory or ()), *(sources or ())],
                inventory_format,
                vault_password_file,
                vault_id,
                ask_vault_pass,
            ).only(network or [])
            if dry_run:
                from jumbopath.mesh.plan import mesh_plan

                _show_plan(mesh_plan(inv), "mesh", out)
                raise typer.Exit(int(ExitCode.OK))
            _refuse_huge(inv.networks)
            if compare is not None and not compare.is_file():
                raise UsageError(
                    f"{compare}: no such file (--compare takes a file written by --save)"
                )
            probe, flows, soak = _field_options(probe, flows, soak)
            options = SshOptions(
                ssh_config=str(ssh_config) if ssh_config is not None else None,
                connect_timeout_s=_seconds("--connect-timeout", connect_timeout, 0.1, 600),
                timeout_s=_seconds("--timeout", timeout, 0.1, 86_400),
                concurrency=concurrency,
                probe=probe,
                flows=flows,
                soak=soak,
            )
            try:
                runs = fan_out(inv, options, on_done=_progress(len(inv.hosts), out != "text"))
            except Interrupted as stop:
                if stop.runs is None:
                    raise
                mesh = build_mesh(inv.networks, stop.runs)
                _show_interrupted(mesh, out, stop, len(stop.runs), save is not None)
            from jumbopath.mesh.switchports import switches_for

            chosen = switches_for(switches, inv)
            _finish(build_mesh(inv.networks, runs), out, save, compare, textfile, chosen)
    except Interrupted as stop:
        typer.echo(f"jumbopath: interrupted ({stop.name})", err=True)
        raise typer.Exit(stop.exit_status) from None


@app.command("report")
def report_command(
    files: Annotated[
        list[Path], typer.Argument(help="Per-host result files (one per source host).")
    ],
    inventory: Annotated[
        list[Path] | None,
        typer.Option(
            "--inventory",
            "-i",
            help="Inventory naming the hosts and networks (optional; repeatable, as Ansible).",
        ),
    ] = None,
    network: Annotated[
        list[str] | None, typer.Option("--network", "-n", help="Show only this network.")
    ] = None,
    as_json: JsonFlag = False,
    fmt: OutputFormat = "text",
    save: SaveFile = None,
    compare: CompareFile = None,
    textfile: TextFile = None,
    switches: SwitchesFile = None,
    inventory_format: InventoryFormat = "auto",
    vault_password_file: VaultPasswordFile = None,
    vault_id: VaultId = None,
    ask_vault_pass: AskVaultPass = False,
    dry_run: DryRun = False,
) -> None:
    """Merge per-host 'check --json' results (from Ansible, cron, ...) into the mesh matrix."""
    from jumbopath.mesh.matrix import build_mesh
    from jumbopath.mesh.report import merge

    out = _output(fmt, as_json)
    inv = (
        _load(inventory, inventory_format, vault_password_file, vault_id, ask_vault_pass)
        if inventory
        else None
    )
    networks, runs = merge(files, inv, lean=dry_run)
    if network:
        known = {n.name for n in networks}
        unknown = [n for n in network if n not in known]
        if unknown:
            raise UsageError(
                f"no network called {', '.join(unknown)}; the files have: "
                f"{', '.join(sorted(known))}"
            )
        networks = [n for n in networks if n.name in network]
    if dry_run:
        from jumbopath.mesh.plan import report_plan

        _show_plan(report_plan(networks, zip(runs, map(str, files), strict=True)), "report", out)
        raise typer.Exit(int(ExitCode.OK))
    _refuse_huge(networks)
    if compare is not None and not compare.is_file():
        raise UsageError(f"{compare}: no such file (--compare takes a file written by --save)")
    from jumbopath.mesh.switchports import switches_for

    chosen = switches_for(switches, inv)
    _finish(build_mesh(networks, runs), out, save, compare, textfile, chosen)
