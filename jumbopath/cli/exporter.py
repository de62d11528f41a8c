"""``jumbopath exporter``: serve the latest check results to Prometheus."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

import typer

from jumbopath.cli import app
from jumbopath.errors import UsageError


@app.command("exporter")
def exporter_command(
    listen: str = typer.Option(
        ..., "--listen", "-l", help="ADDRESS:PORT to serve /metrics on, e.g. 0.0.0.0:9799."
    ),
    config: Path = typer.Option(
        ..., "--config", help="YAML file naming the checks (see the README)."
    ),
) -> None:
    """Check the configured targets on a schedule; serve the latest results on /metrics.

    A scrape is answered from cache and never sends a probe; at most
    `concurrency` checks run at once. Stop with Ctrl-C or SIGTERM.
    """
    # prometheus_client is imported by this command only.
    from prometheus_client import start_http_server

    from jumbopath.exporter import Exporter, load_config, parse_listen, registry_for

    address, port = parse_listen(listen)
    exporter = Exporter(load_config(config))
    try:
        server, _ = start_http_server(port, address, registry_for(exporter))
    except OSError as exc:
        raise UsageError(f"--listen {listen}: cannot listen: {exc.strerror}") from exc

    def stop(signum: int, frame: FrameType | None) -> None:
        exporter.stop()

    signal.signal(signal.SIGTERM, stop)
    typer.echo(
        f"jumbopath exporter: serving http://{listen}/metrics, "
        f"{len(exporter.config.checks)} check(s) every {exporter.config.interval_s:g} s",
        err=True,
    )
    try:
        exporter.loop()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        exporter.close()
