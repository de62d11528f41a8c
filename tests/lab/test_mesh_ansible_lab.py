"""``jumbopath mesh`` with an inventory Ansible reads (a dynamic inventory script) on a real lab.

The lab is the mesh lab of ``test_mesh_lab`` (real sshd, real ssh, real
check)::

             mgmt switch swm (every port 1500)
     ctl ──┬──────┬──────┬──────┬──────┐
           n1     n2     n3     n4     n5        (each host's eth0, 1500)
           │      │      │      │      │
           └──┬───┴──────┘      └──┬───┘         (each host's eth1, 9000)
             swa ════════ 9000 ═══ swb           storage switches, inter-switch link

A dynamic inventory script (JSON, as Ansible's script plugin expects) and an
inventory directory with a vault-encrypted group_vars file describe it, with
each storage address a Jinja template that Ansible renders. ``mesh`` must
reach the same verdicts from them as from the equivalent static inventory,
clean and with n3's storage switch port at 1500.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jumbopath.lab import Lab

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sshlab import REMOTE_COMMAND, SshLab, tools_missing  # noqa: E402
from test_mesh_lab import (  # noqa: E402
    LEFT,
    NODES,
    RIGHT,
    mesh_json,
    net,
    own_inventory,
    storage_addr,
    topology,
)

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def env() -> Iterator[tuple[Lab, SshLab]]:
    if os.geteuid() != 0:
        pytest.fail("the mesh lab needs root (network namespaces)")
    missing = tools_missing()
    if missing:
        pytest.fail(f"install openssh-server and openssh-client (missing: {', '.join(missing)})")
    if not Path(sys.executable).with_name("ansible-inventory").exists():
        pytest.fail("ansible-core is a test dependency: pip install ansible-core")
    with Lab(topology()) as lab, SshLab(lab, NODES, peer="swm") as ssh:
        yield lab, ssh


def lab_vars(lab: Lab, ssh: SshLab) -> tuple[dict[str, Any], dict[str, Any]]:
    """(host variables, cluster variables): storage addresses come from a template."""
    hostvars = {n: {"ansible_host": ssh.addr(n)} for n in NODES}
    cluster = {
        "ansible_user": "root",
        "jumbopath_command": REMOTE_COMMAND,
        "storage_addresses": {n: storage_addr(lab, n) for n in NODES},
        "storage_ip": "{{ storage_addresses[inventory_hostname] }}",
        "jumbopath_networks": {
            "storage": {"mtu": 9000, "var": "storage_ip"},
            "mgmt": {"mtu": 1500, "var": "ansible_host"},
        },
    }
    return hostvars, cluster


def dynamic_inventory(lab: Lab, ssh: SshLab, path: Path) -> Path:
    """The lab as a dynamic inventory script (``--list`` JSON; two groups under one parent)."""
    hostvars, cluster = lab_vars(lab, ssh)
    doc = {
        "_meta": {"hostvars": hostvars},
        "all": {"children": ["cluster"]},
        "cluster": {"children": ["left", "right"], "vars": cluster},
        "left": {"hosts": LEFT},
        "right": {"hosts": RIGHT},
    }
    path.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        "if '--host' in sys.argv:\n    print('{}')\nelse:\n"
        f"    print(json.dumps({doc!r}))\n"
    )
    path.chmod(0o755)
    return path


def vault_inventory(lab: Lab, ssh: SshLab, root: Path) -> tuple[Path, Path]:
    """The lab as an inventory directory whose group_vars/cluster.yml is vault-encrypted."""
    hostvars, cluster = lab_vars(lab, ssh)
    d = root / "inventory"
    (d / "group_vars").mkdir(parents=True)
    (d / "10-left.ini").write_text(
        "[left]\n" + "".join(f"{n} ansible_host={hostvars[n]['ansible_host']}\n" for n in LEFT)
    )
    (d / "20-right.yml").write_text(
        json.dumps({"right": {"hosts": {n: hostvars[n] for n in RIGHT}}})
    )
    (d / "30-cluster.ini").write_text("[cluster:children]\nleft\nright\n")
    secret = d / "group_vars" / "cluster.yml"
    secret.write_text(json.dumps(cluster))
    password = root / "vault-pass"
    password.write_text("lab secret\n")
    vault = Path(sys.executable).with_name("ansible-vault")
    subprocess.run(
        [str(vault), "encrypt", f"--vault-password-file={password}", str(secret)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return d, password


def verdicts(doc: dict[str, Any]) -> dict[str, Any]:
    """What must not depend on the inventory's form: per network, cells, failures, verdicts."""
    out = {}
    for network in doc["networks"]:
        out[network["name"]] = {
            "mtu": network["expected_mtu"],
            "hosts": sorted(network["hosts"]),
            "cells": sorted((c["source"], c["destination"], c["status"]) for c in network["cells"]),
            "failing": sorted((f["source"], f["destination"]) for f in network["failing"]),
            "verdicts": sorted(
                json.dumps({k: v[k] for k in ("kind", "cause", "hosts") if k in v}, sort_keys=True)
                for v in network["verdicts"]
            ),
        }
    return out


def measured(lab: Lab, ssh: SshLab, *args: Any) -> tuple[int, dict[str, Any]]:
    """``mesh --json``, run again (at most twice more) while some cell could not be
    measured: this test compares inventory forms, not one run's luck on a busy
    machine (a remote check that ran out of time is a cell "error")."""
    for _ in range(3):
        rc, doc = mesh_json(lab, ssh, *args)
        if not any(c["status"] == "error" for n in doc["networks"] for c in n["cells"]):
            break
    return rc, doc


def test_dynamic_inventory_gives_the_same_verdicts_as_static(
    env: tuple[Lab, SshLab], tmp_path: Path
) -> None:
    lab, ssh = env
    static = own_inventory(lab, ssh, tmp_path / "inv.yml")
    dynamic = dynamic_inventory(lab, ssh, tmp_path / "inventory.py")
    rc_s, doc_s = measured(lab, ssh, static)
    rc_d, doc_d = measured(lab, ssh, dynamic)
    assert rc_s == rc_d == 0, json.dumps(doc_d, indent=1)[:3000]
    assert verdicts(doc_d) == verdicts(doc_s)
    assert {c["path_mtu"] for c in net(doc_d, "storage")["cells"]} == {9000}
    lab.set_mtu("swa", "n3", 1500)
    try:
        rc_s, doc_s = measured(lab, ssh, static)
        rc_d, doc_d = measured(lab, ssh, dynamic)
    finally:
        lab.set_mtu("swa", "n3", 9000)
    assert rc_s == rc_d == 1
    assert verdicts(doc_d) == verdicts(doc_s)
    (verdict,) = net(doc_d, "storage")["verdicts"]
    assert verdict["kind"] == "host" and verdict["hosts"] == ["n3"]


def test_vault_directory_gives_the_same_verdicts_as_static(
    env: tuple[Lab, SshLab], tmp_path: Path
) -> None:
    lab, ssh = env
    static = own_inventory(lab, ssh, tmp_path / "inv.yml")
    directory, password = vault_inventory(lab, ssh, tmp_path)
    lab.set_mtu("swa", "swb", 1500)
    lab.set_mtu("swb", "swa", 1500)
    try:
        rc_s, doc_s = mesh_json(lab, ssh, static, "--network", "storage")
        rc_v, doc_v = mesh_json(
            lab, ssh, directory, "--network", "storage", "--vault-password-file", str(password)
        )
    finally:
        lab.set_mtu("swa", "swb", 9000)
        lab.set_mtu("swb", "swa", 9000)
    assert rc_s == rc_v == 1
    assert verdicts(doc_v) == verdicts(doc_s)
    (verdict,) = net(doc_v, "storage")["verdicts"]
    assert verdict["kind"] == "link" and verdict["cause"] == "inter-group-link"
