"""The mesh as matrices, and what they point at. Pure: no SSH, no sockets, no clock.

Per network, an N x N matrix: source hosts are rows, destinations columns,
each cell the path MTU the source's own ``check`` measured toward the
destination, read back through :mod:`jumbopath.schema` into the core model
(a result the schema refuses is that cell's error). A→B and B→A are separate
results: each host probes from its own stack.

What the failing cells point at is :mod:`jumbopath.mesh.inference`; every
conclusion is data (:mod:`jumbopath.mesh.model`): a cause code and the facts
behind it. The sentences are :mod:`jumbopath.render.explain.mesh`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from jumbopath.mesh.inference import failing_pair, infer, one_way
from jumbopath.mesh.inventory import Network
from jumbopath.mesh.model import (
    Cell,
    CellStatus,
    FailingPair,
    Mesh,
    MeshCause,
    NetworkMatrix,
    OneWay,
    RowState,
    SharedBreak,
    Verdict,
    VerdictKind,
)
from jumbopath.mesh.runs import ErrorKind, HostError, HostRun, NetworkRun
from jumbopath.model import BreakKind, Cause, PathResult, Status
from jumbopath.safe import safe_text
from jumbopath.schema import SchemaError, result_from_dict

__all__ = [
    "Cell",
    "CellStatus",
    "FailingPair",
    "Mesh",
    "MeshCause",
    "NetworkMatrix",
    "OneWay",
    "RowState",
    "SharedBreak",
    "Verdict",
    "VerdictKind",
    "build_mesh",
    "infer",
    "one_way",
]


# --------------------------------------------------------------------------
# Building


_CELL_STATUS = {
    Status.OK: CellStatus.OK,
    Status.BELOW: CellStatus.BELOW,
    Status.DEGRADED: CellStatus.DEGRADED,
    Status.UNREACHABLE: CellStatus.UNREACHABLE,
    Status.ERROR: CellStatus.ERROR,
}

_DEFAULT_CAUSE = {
    Status.OK: Cause.CARRIES,
    Status.BELOW: Cause.BELOW_UNLOCATED,
    Status.DEGRADED: Cause.BIG_FRAME_LOSS,
    Status.UNREACHABLE: Cause.NO_ANSWER,
    Status.ERROR: Cause.NOT_MEASURED,
}


def _cause(r: PathResult) -> Cause:
    """The result's cause; for a document without one, what its status and break say."""
    if r.cause is not None:
        return r.cause
    if r.status is Status.BELOW and r.break_ is not None and r.break_.kind is not BreakKind.NONE:
        return r.break_.cause
    return _DEFAULT_CAUSE[r.status]


def _cell(source: str, dest: str, r: PathResult, address: str | None) -> Cell:
    return Cell(
        source=source,
        destination=dest,
        address=r.address or address,
        status=_CELL_STATUS[r.status],
        path_mtu=r.path_mtu,
        direction=r.direction,
        break_=r.break_,
        breaks=r.breaks,
        interface=r.interface,
        interface_mtu=r.interface_mtu,
        error=r.error,
        cause=_cause(r),
    )


def _worse(a: Cell, b: Cell) -> Cell:
    """Of two results for one destination (IPv4 and IPv6 of a name), the worse."""
    if a.status.rank != b.status.rank:
        return a if a.status.rank < b.status.rank else b
    return a if (a.path_mtu or 0) <= (b.path_mtu or 0) else b


def _cells_from_run(
    net: Network, source: str, run: NetworkRun | None, row_error: HostError | None
) -> list[Cell]:
    members = dict(net.members)
    by_target: dict[str, str] = {}
    if run is not None:
        for host, addr in run.targets:
            by_target[addr] = host
            by_target[host] = host
    for host, addr in net.members:
        if addr:
            by_target.setdefault(addr, host)
    found: dict[str, Cell] = {}
    results = run.check.get("results", []) if run is not None and run.check is not None else []
    for doc in results if isinstance(results, list) else []:
        if not isinstance(doc, Mapping):
            continue
        dest = by_target.get(str(doc.get("target"))) or by_target.get(str(doc.get("address")))
        if dest is None or dest == source or dest not in members:
            continue
        try:
            cell = _cell(source, dest, result_from_dict(doc), members.get(dest) or None)
        except SchemaError as exc:
            cell = Cell(
                source,
                dest,
                members.get(dest) or None,
                CellStatus.ERROR,
                error=f"{safe_text(source, 200)}'s check printed a result for "
                f"{safe_text(dest, 200)} that cannot be read: {exc}",
            )
        found[dest] = _worse(found[dest], cell) if dest in found else cell
    cells = []
    for dest in net.hosts:
        if dest == source:
            continue
        if dest in found:
            cells.append(found[dest])
            continue
        reason: str
        if row_error is not None:
            reason = row_error.message
        elif run is None:
            reason = f"{source} did not measure this network"
        elif run.error is not None:
            reason = run.error.message
        else:
            reason = f"no result for {dest} in {source}'s check output"
        cells.append(
            Cell(source, dest, members.get(dest) or None, CellStatus.NOT_MEASURED, error=reason)
        )
    return cells


def _row_error(
    net: Network, source: str, hrun: HostRun | None, nrun: NetworkRun | None
) -> HostError | None:
    if hrun is None:
        return HostError(ErrorKind.MISSING, f"no result from {source} (no file for it was given)")
    if hrun.error is not None:
        return hrun.error
    if nrun is not None and nrun.error is not None:
        return nrun.error
    if nrun is None and len(net.hosts) > 1:
        return HostError(ErrorKind.MISSING, f"{source} has no result for network {net.name}")
    return None


def build_mesh(networks: Sequence[Network], runs: Iterable[HostRun]) -> Mesh:
    """Assemble every network's matrix from the hosts' runs, and infer."""
    runs = list(runs)
    by_host = {r.host: r for r in runs}
    matrices = []
    for net in networks:
        cells: list[Cell] = []
        rows: list[RowState] = []
        for source in net.hosts:
            hrun = by_host.get(source)
            nrun = None
            if hrun is not None:
                nrun = next((n for n in hrun.networks if n.network == net.name), None)
            row_error = _row_error(net, source, hrun, nrun)
            rows.append(RowState(source, row_error))
            cells.extend(_cells_from_run(net, source, nrun, row_error))
        matrices.append(_analyse(net, tuple(cells), tuple(rows)))
    hosts = tuple((r.host, _host_error(r), r.elapsed_s) for r in runs)
    via = tuple((r.host, r.via) for r in runs if r.via != "jumbopath")
    return Mesh(tuple(matrices), hosts, via)


def _host_error(run: HostRun) -> HostError | None:
    """The session's error, or the one error every network of the host had (not installed, ...)."""
    if run.error is not None:
        return run.error
    errors = [n.error for n in run.networks]
    first = errors[0] if errors else None
    if first is not None and all(
        e is not None and (e.kind, e.message) == (first.kind, first.message) for e in errors
    ):
        return first
    return None


def _analyse(net: Network, cells: tuple[Cell, ...], rows: tuple[RowState, ...]) -> NetworkMatrix:
    by_pair = {(c.source, c.destination): c for c in cells}
    failing = tuple(
        failing_pair(c, by_pair.get((c.destination, c.source))) for c in cells if c.status.failing
    )
    verdicts = infer(net, by_pair, failing) if failing else ()
    return NetworkMatrix(
        name=net.name,
        expected_mtu=net.mtu,
        hosts=net.hosts,
        addresses=tuple((h, a) for h, a in net.members if a),
        cells=cells,
        rows=rows,
        failing=failing,
        verdicts=verdicts,
    )
