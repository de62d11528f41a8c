"""``jumbopath mesh`` and ``report`` on a real lab: real sshd, real ssh, real check.

One lab serves most tests (faults are set and restored around each)::

             mgmt switch swm (every port 1500)
     ctl ──┬──────┬──────┬──────┬──────┐
           n1     n2     n3     n4     n5        (each host's eth0, 1500)
           │      │      │      │      │
           └──┬───┴──────┘      └──┬───┘         (each host's eth1, 9000)
             swa ════════ 9000 ═══ swb           storage switches, inter-switch link
            (9000)                (9000)

The controller ``ctl`` runs ``jumbopath mesh`` with ``--ssh-config``; each
``n*`` runs sshd on its management address. Networks: ``storage`` (9000,
198.18.2.0/24) and ``mgmt`` (1500, 198.18.1.0/24).

The three inventory formats describe the same lab. The asymmetric-routing test
builds its own small lab (picture in its docstring).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jumbopath.lab import Host, Lab, Link, Route, Router, Switch, Topology

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sshlab import REMOTE_COMMAND, REPO, SshLab, tools_missing  # noqa: E402

pytestmark = pytest.mark.lab

NODES = ["n1", "n2", "n3", "n4", "n5"]
LEFT, RIGHT = ["n1", "n2", "n3"], ["n4", "n5"]


def topology() -> Topology:
    nodes = [Host("ctl"), *(Host(n) for n in NODES), Switch("swm"), Switch("swa"), Switch("swb")]
    links = [Link("ctl", "swm", 1500, 1500)]
    links += [Link(n, "swm", 1500, 1500) for n in NODES]
    links += [Link(n, "swa" if n in LEFT else "swb", 9000, 9000) for n in NODES]
    links.append(Link("swa", "swb", 9000, 9000))
    return Topology(tuple(nodes), tuple(links))


@pytest.fixture(scope="module")
def env() -> Iterator[tuple[Lab, SshLab]]:
    if os.geteuid() != 0:
        pytest.fail("the mesh lab needs root (network namespaces)")
    missing = tools_missing()
    if missing:
        pytest.fail(f"install openssh-server and openssh-client (missing: {', '.join(missing)})")
    with Lab(topology()) as lab, SshLab(lab, NODES, peer="swm") as ssh:
        yield lab, ssh


def storage_addr(lab: Lab, n: str) -> str:
    return lab.addr(n, 4, peer="swa" if n in LEFT else "swb")


def own_inventory(lab: Lab, ssh: SshLab, path: Path, **overrides: dict[str, Any]) -> Path:
    """The lab as jumbopath's own YAML inventory."""
    hosts = []
    for n in NODES:
        extra = "".join(f", {k}: {json.dumps(v)}" for k, v in overrides.get(n, {}).items())
        hosts.append(f"  {n}: {{ssh: {ssh.addr(n)}{extra}}}\n")
    text = (
        f"defaults:\n  user: root\n  command: {json.dumps(REMOTE_COMMAND)}\n"
        "hosts:\n" + "".join(hosts) + "networks:\n"
        "  storage:\n    mtu: 9000\n    hosts:\n"
        + "".join(f"      {n}: {storage_addr(lab, n)}\n" for n in NODES)
        + "  mgmt:\n    mtu: 1500\n    hosts:\n"
        + "".join(f"      {n}: {ssh.addr(n)}\n" for n in NODES)
    )
    path.write_text(text)
    return path


def ini_inventory(lab: Lab, ssh: SshLab, path: Path) -> Path:
    """The same lab as an Ansible INI inventory."""
    lines = ["[storage_nodes]"]
    for n in NODES[:3]:
        lines.append(f"{n} ansible_host={ssh.addr(n)} storage_ip={storage_addr(lab, n)}")
    lines += ["", "[more_nodes]"]
    for n in NODES[3:]:
        lines.append(f"{n} ansible_host={ssh.addr(n)} storage_ip={storage_addr(lab, n)}")
    lines += [
        "",
        "[cluster:children]",
        "storage_nodes",
        "more_nodes",
        "",
        "[cluster:vars]",
        "ansible_user=root",
        f"ansible_python_interpreter={sys.executable}",
        f"jumbopath_command={REMOTE_COMMAND}",
        'jumbopath_networks={"storage": {"mtu": 9000, "var": "storage_ip"}, '
        '"mgmt": {"mtu": 1500, "var": "ansible_host"}}',
        "",
    ]
    path.write_text("\n".join(lines))
    return path


def ansible_yaml_inventory(lab: Lab, ssh: SshLab, path: Path) -> Path:
    """The same lab as an Ansible YAML inventory (two groups under one parent)."""
    groups = {"left": LEFT, "right": RIGHT}
    text = (
        "all:\n  vars:\n    ansible_user: root\n"
        f"    jumbopath_command: {json.dumps(REMOTE_COMMAND)}\n"
        "  children:\n    cluster:\n      vars:\n        jumbopath_networks:\n"
        "          storage: {mtu: 9000, var: storage_ip}\n"
        "          mgmt: {mtu: 1500, var: ansible_host}\n"
        "      children:\n"
    )
    for group, members in groups.items():
        text += f"        {group}:\n          hosts:\n"
        for n in members:
            text += (
                f"            {n}: {{ansible_host: {ssh.addr(n)}, "
                f"storage_ip: {storage_addr(lab, n)}}}\n"
            )
    path.write_text(text)
    return path


def jumbopath(lab: Lab, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real jumbopath command in the controller namespace."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return lab.run("ctl", [sys.executable, "-m", "jumbopath", *args], timeout=timeout, env=env)


def mesh_json(lab: Lab, ssh: SshLab, inventory: Path, *args: str) -> tuple[int, dict[str, Any]]:
    r = jumbopath(lab, "mesh", str(inventory), "--ssh-config", str(ssh.config), "--json", *args)
    assert r.stdout, r.stderr
    return r.returncode, json.loads(r.stdout)


def net(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for n in doc["networks"] if n["name"] == name)


def cell(doc: dict[str, Any], network: str, src: str, dst: str) -> dict[str, Any]:
    return next(
        c for c in net(doc, network)["cells"] if c["source"] == src and c["destination"] == dst
    )


# ---------------------------------------------------------------- tests


def test_clean_mesh_every_inventory_format(env: tuple[Lab, SshLab], tmp_path: Path) -> None:
    lab, ssh = env
    rc, doc = mesh_json(lab, ssh, own_inventory(lab, ssh, tmp_path / "inv.yml"))
    assert rc == 0, json.dumps(doc, indent=1)[:3000]
    assert [n["name"] for n in doc["networks"]] == ["storage", "mgmt"]
    for name, mtu in (("storage", 9000), ("mgmt", 1500)):
        cells = net(doc, name)["cells"]
        assert len(cells) == 20
        assert {(c["status"], c["path_mtu"]) for c in cells} == {("ok", mtu)}
    ini = ini_inventory(lab, ssh, tmp_path / "hosts.ini")
    rc2, doc2 = mesh_json(lab, ssh, ini, "--network", "storage")
    assert rc2 == 0
    assert [n["name"] for n in doc2["networks"]] == ["storage"]
    rc3, doc3 = mesh_json(lab, ssh, ansible_yaml_inventory(lab, ssh, tmp_path / "ansible.yml"))
    assert rc3 == 0
    # Read by Ansible itself when it is installed: its output sorts the networks.
    assert sorted(n["name"] for n in doc3["networks"]) == ["mgmt", "storage"]
    assert net(doc3, "storage")["hosts"] == NODES
    assert net(doc2, "storage")["cells"] == net(doc, "storage")["cells"] or all(
        c["status"] == "ok" and c["path_mtu"] == 9000 for c in net(doc2, "storage")["cells"]
    )


def test_access_port_at_1500_names_the_host(env: tuple[Lab, SshLab], tmp_path: Path) -> None:
    lab, ssh = env
    inv = own_inventory(lab, ssh, tmp_path / "inv.yml")
    saved = tmp_path / "result.json"
    lab.set_mtu("swa", "n3", 1500)
    try:
        r = jumbopath(lab, "mesh", str(inv), "--ssh-config", str(ssh.config), "--save", str(saved))
    finally:
        lab.set_mtu("swa", "n3", 9000)
    text, doc = r.stdout, json.loads(saved.read_text())
    assert r.returncode == 1, text
    storage = net(doc, "storage")
    failing = {(f["source"], f["destination"]) for f in storage["failing"]}
    expected = {("n3", o) for o in NODES if o != "n3"} | {(o, "n3") for o in NODES if o != "n3"}
    # A pair may be unmeasured (an error cell saying why: a host whose session failed on a
    # loaded machine), never measured wrong: every pair not failing must be such a cell.
    unmeasured = expected - failing
    for a, b in unmeasured:
        c = cell(doc, "storage", a, b)
        assert c["status"] in ("error", "not-measured") and c.get("error"), c
    assert failing == expected - unmeasured and len(unmeasured) <= 1, sorted(unmeasured)
    assert cell(doc, "storage", "n1", "n3")["path_mtu"] == 1500
    (verdict,) = storage["verdicts"]
    assert verdict["kind"] == "host" and verdict["hosts"] == ["n3"]
    # n3's own NIC is at 9000: its switch port is the suspect, not its NIC.
    assert verdict["cause"] == "host-port-or-nic"
    assert (verdict["interface_mtu"], verdict["both_directions"]) == (9000, True)
    assert verdict["carried_mtu"] == 1500
    assert net(doc, "mgmt")["failing"] == []
    assert "Verdict (host): Every pair with n3 on storage fails in both directions" in text


def test_inter_switch_link_at_1500_names_both_groups(
    env: tuple[Lab, SshLab], tmp_path: Path
) -> None:
    lab, ssh = env
    inv = own_inventory(lab, ssh, tmp_path / "inv.yml")
    lab.set_mtu("swa", "swb", 1500)
    lab.set_mtu("swb", "swa", 1500)
    try:
        rc, doc = mesh_json(lab, ssh, inv, "--network", "storage")
    finally:
        lab.set_mtu("swa", "swb", 9000)
        lab.set_mtu("swb", "swa", 9000)
    assert rc == 1
    assert [n["name"] for n in doc["networks"]] == ["storage"]
    (verdict,) = net(doc, "storage")["verdicts"]
    assert verdict["kind"] == "link" and verdict["cause"] == "inter-group-link"
    assert verdict["groups"] == [LEFT, RIGHT]
    assert verdict["hosts"] == LEFT + RIGHT
    assert len(net(doc, "storage")["failing"]) == 12


def test_unreachable_rows_say_why_and_the_rest_completes(
    env: tuple[Lab, SshLab], tmp_path: Path
) -> None:
    """sshd down on n2, a wrong host key for n5, a refused key on n4, no jumbopath on n1."""
    lab, ssh = env
    inv = own_inventory(
        lab, ssh, tmp_path / "inv.yml", n1={"command": "/nonexistent/bin/jumbopath"}
    )
    cfg = ssh.config_with_wrong_host_key("n5")
    ssh.stop("n2")
    ssh.refuse_keys("n4")
    saved = tmp_path / "result.json"
    try:
        r = jumbopath(lab, "mesh", str(inv), "--ssh-config", str(cfg), "--save", str(saved))
    finally:
        ssh.start("n2")
        ssh.refuse_keys("n4", refuse=False)
    text, doc = r.stdout, json.loads(saved.read_text())
    assert r.returncode == 3, text  # no pair fails, but rows are missing
    errors = {h["name"]: (h["error"] or {}).get("kind") for h in doc["hosts"]}
    assert errors == {
        "n1": "not-installed",
        "n2": "connection-refused",
        "n3": None,
        "n4": "permission-denied",
        "n5": "host-key-changed",
    }
    rows = {r["host"]: (r["error"] or {}).get("kind") for r in net(doc, "storage")["rows"]}
    assert rows["n1"] == "not-installed"
    assert rows["n3"] is None
    assert cell(doc, "storage", "n3", "n2")["status"] == "ok"  # n3's row is complete
    assert cell(doc, "storage", "n3", "n5")["path_mtu"] == 9000
    assert cell(doc, "storage", "n2", "n3")["status"] == "not-measured"
    assert "n2: connection-refused: nothing accepts SSH connections" in text
    assert "n5: host-key-changed" in text
    assert "n4: permission-denied" in text
    assert "'/nonexistent/bin/jumbopath' is not installed" in text


def test_save_fault_compare(env: tuple[Lab, SshLab], tmp_path: Path) -> None:
    lab, ssh = env
    inv = own_inventory(lab, ssh, tmp_path / "inv.yml")
    saved = tmp_path / "before.json"
    r = jumbopath(lab, "mesh", str(inv), "--ssh-config", str(ssh.config), "--save", str(saved))
    assert r.returncode == 0, r.stdout + r.stderr
    lab.set_mtu("n4", "swb", 1500)  # n4's own storage NIC
    try:
        r = jumbopath(
            lab, "mesh", str(inv), "--ssh-config", str(ssh.config), "--compare", str(saved)
        )
    finally:
        lab.set_mtu("n4", "swb", 9000)
    assert r.returncode == 1, r.stdout + r.stderr
    changed = [ln.strip() for ln in r.stdout.splitlines() if "→" in ln]
    assert len(changed) == 8, r.stdout
    assert all(ln.startswith("storage:") and "n4" in ln for ln in changed)
    # A veth NIC at 1500 still receives 1504-byte packets (room for a VLAN tag; LAB-NOTES).
    assert all(re.search(r"ok 9000 → below 150[04] \(worse\)", ln) for ln in changed), changed
    assert "8 regression(s)." in r.stdout


def test_ansible_playbook_then_report(env: tuple[Lab, SshLab], tmp_path: Path) -> None:
    lab, ssh = env
    playbook_cmd = str(Path(sys.executable).with_name("ansible-playbook"))
    if not os.path.exists(playbook_cmd):
        playbook_cmd = shutil.which("ansible-playbook") or playbook_cmd
    if not os.path.exists(playbook_cmd):
        pytest.fail("ansible-core is not installed: pip install ansible-core")
    inv = ini_inventory(lab, ssh, tmp_path / "hosts.ini")
    results = tmp_path / "results"
    env_vars = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "ANSIBLE_SSH_ARGS": f"-F {ssh.config} -o ControlMaster=auto -o ControlPersist=20s",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp"),
        "ANSIBLE_PIPELINING": "1",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-local"),
        "ANSIBLE_REMOTE_TMP": str(tmp_path / "ansible-remote"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORKS": "10",
    }
    lab.set_mtu("swa", "n2", 1500)
    try:
        r = lab.run(
            "ctl",
            [
                playbook_cmd,
                "-i",
                str(inv),
                str(REPO / "examples/ansible/jumbopath-mesh.yml"),
                "-e",
                f"jumbopath_results={results}",
                "-e",
                f"jumbopath_controller_command='{REMOTE_COMMAND}'",
            ],
            timeout=180,
            env=env_vars,
        )
    finally:
        lab.set_mtu("swa", "n2", 9000)
    files = sorted(results.glob("*.json"))
    assert [f.name for f in files] == [f"{n}.json" for n in NODES], r.stdout[-3000:]
    assert "Every pair with n2 on storage fails in both directions" in r.stdout, r.stdout[-3000:]
    assert r.returncode != 0  # the play reports the failing mesh
    rep = jumbopath(lab, "report", "--json", *map(str, files))
    assert rep.returncode == 1
    doc = json.loads(rep.stdout)
    (verdict,) = net(doc, "storage")["verdicts"]
    assert verdict["kind"] == "host" and verdict["hosts"] == ["n2"]
    assert net(doc, "mgmt")["failing"] == []


# ---------------------------------------------------------------- asymmetric routing


# ---------------------------------------------------------------- agentless hosts

# n2 and n4 have no jumbopath at all (their command does not exist): they are
# measured through their own iputils ping over one SSH connection each.
AGENTLESS = {n: {"agent": "ping", "command": "/nonexistent/bin/jumbopath"} for n in ("n2", "n4")}


def _verdicts(doc: dict[str, Any], network: str) -> list[tuple[Any, ...]]:
    return [
        (v["kind"], v["cause"], tuple(v["hosts"]), v.get("carried_mtu"))
        for v in net(doc, network)["verdicts"]
    ]


def _cells(doc: dict[str, Any], network: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {
        (c["source"], c["destination"]): (c["status"], c["path_mtu"])
        for c in net(doc, network)["cells"]
    }


def test_agentless_hosts_clean_mesh(env: tuple[Lab, SshLab], tmp_path: Path) -> None:
    lab, ssh = env
    inv = own_inventory(lab, ssh, tmp_path / "inv.yml", **AGENTLESS)
    r = jumbopath(lab, "mesh", str(inv), "--ssh-config", str(ssh.config))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Measured through their own ping over SSH (nothing installed): n2, n4" in r.stdout
    rc, doc = mesh_json(lab, ssh, inv)
    assert rc == 0
    via = {h["name"]: h["via"] for h in doc["hosts"]}
    assert via == {
        "n1": "jumbopath",
        "n2": "ping over ssh",
        "n3": "jumbopath",
        "n4": "ping over ssh",
        "n5": "jumbopath",
    }
    for name, mtu in (("storage", 9000), ("mgmt", 1500)):
        assert set(_cells(doc, name).values()) == {("ok", mtu)}
    # The far host's own interface, as its kernel routes: n2's storage NIC.
    c = cell(doc, "storage", "n2", "n4")
    assert (c["interface"], c["interface_mtu"]) == ("eth1", 9000)


def test_agentless_rows_say_why_they_could_not_be_measured(
    env: tuple[Lab, SshLab], tmp_path: Path
) -> None:
    """sshd down on agentless n2, a wrong host key for agentless n4: the control
    connection's failure is named like any SSH failure; the others complete."""
    lab, ssh = env
    inv = own_inventory(lab, ssh, tmp_path / "inv.yml", **AGENTLESS)
    cfg = ssh.config_with_wrong_host_key("n4")
    ssh.stop("n2")
    try:
        r = jumbopath(lab, "mesh", str(inv), "--ssh-config", str(cfg), "--json", "-n", "storage")
    finally:
        ssh.start("n2")
    doc = json.loads(r.stdout)
    assert r.returncode == 3, r.stdout[-2000:]
    errors = {h["name"]: ((h["error"] or {}).get("kind"), h["via"]) for h in doc["hosts"]}
    assert errors == {
        "n1": (None, "jumbopath"),
        "n2": ("connection-refused", "ping over ssh"),
        "n3": (None, "jumbopath"),
        "n4": ("host-key-changed", "ping over ssh"),
        "n5": (None, "jumbopath"),
    }
    assert cell(doc, "storage", "n1", "n2")["status"] == "ok"
    assert cell(doc, "storage", "n2", "n1")["status"] == "not-measured"
    assert not list(Path("/tmp").glob("jumbopath-ssh-*/control"))  # sockets removed


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param((("swb", "n4"),), id="agentless-host-access-port"),
        pytest.param((("n4", "swb"),), id="agentless-host-own-nic"),
        pytest.param((("swa", "n3"),), id="other-host-access-port"),
        pytest.param((("swa", "swb"), ("swb", "swa")), id="inter-switch-link"),
    ],
)
def test_agentless_hosts_give_the_same_verdicts(
    env: tuple[Lab, SshLab], tmp_path: Path, fault: tuple[tuple[str, str], ...]
) -> None:
    """The same fault, measured once with jumbopath on every host and once with
    n2 and n4 agentless: the same cells and the same verdicts."""
    lab, ssh = env
    plain = own_inventory(lab, ssh, tmp_path / "plain.yml")
    agentless = own_inventory(lab, ssh, tmp_path / "agentless.yml", **AGENTLESS)
    for a, b in fault:
        lab.set_mtu(a, b, 1500)
    try:
        rc1, doc1 = mesh_json(lab, ssh, plain, "--network", "storage")
        rc2, doc2 = mesh_json(lab, ssh, agentless, "--network", "storage")
    finally:
        for a, b in fault:
            lab.set_mtu(a, b, 9000)
    assert rc1 == rc2 == 1
    assert _verdicts(doc2, "storage") == _verdicts(doc1, "storage") != []
    cells1, cells2 = _cells(doc1, "storage"), _cells(doc2, "storage")

    # A veth NIC at 1500 still takes 1504-byte packets (LAB-NOTES): a path
    # MTU of 1500 or 1504 is the same finding.
    def norm(cells: dict[tuple[str, str], tuple[Any, ...]]) -> dict[Any, Any]:
        return {k: (s, 1500 if m in (1500, 1504) else m) for k, (s, m) in cells.items()}

    assert norm(cells2) == norm(cells1)


def asymmetric() -> Topology:
    """Two subnets, two routers; b* reach a* through r2 only, whose port toward swa is 1500::

    ctl ─┐                       ┌─ b1
    a1 ──┼─ swa ─9000─ r1 ─9000─ swb ─┼─ b2
    a2 ──┘    └─1500─ r2 ─9000───┘
              (a → b: via r1;  b → a: via r2, egress 1500 toward swa)
    """
    nodes = [Host(n) for n in ("ctl", "a1", "a2", "b1", "b2")]
    nodes += [Router("r1"), Router("r2"), Switch("swa"), Switch("swb")]
    links = [
        Link("ctl", "swa", 9000, 9000),
        Link("a1", "swa", 9000, 9000),
        Link("a2", "swa", 9000, 9000),
        Link("r1", "swa", 9000, 9000),
        Link("r2", "swa", 1500, 9000),
        Link("b1", "swb", 9000, 9000),
        Link("b2", "swb", 9000, 9000),
        Link("r1", "swb", 9000, 9000),
        Link("r2", "swb", 9000, 9000),
    ]
    routes = [Route(b, a, "r2") for b in ("b1", "b2") for a in ("a1", "a2")]
    routes += [Route(a, b, "r1") for a in ("ctl", "a1", "a2") for b in ("b1", "b2")]
    routes += [Route(b, "ctl", "r1") for b in ("b1", "b2")]
    return Topology(tuple(nodes), tuple(links), routes=tuple(routes))


def test_return_path_limit_is_reported_as_return(tmp_path: Path) -> None:
    hosts = ["a1", "a2", "b1", "b2"]
    with Lab(asymmetric()) as lab, SshLab(lab, hosts) as ssh:
        inv = tmp_path / "inv.yml"
        inv.write_text(
            f"defaults: {{user: root, command: {json.dumps(REMOTE_COMMAND)}}}\n"
            "hosts:\n"
            + "".join(f"  {h}: {{ssh: {ssh.addr(h)}}}\n" for h in hosts)
            + "networks:\n  storage:\n    mtu: 9000\n    hosts:\n"
            + "".join(f"      {h}: {ssh.addr(h)}\n" for h in hosts)
        )
        rc, doc = mesh_json(lab, ssh, inv)
    assert rc == 1
    storage = net(doc, "storage")
    failing = {(f["source"], f["destination"]): f for f in storage["failing"]}
    b_to_a = {(b, a) for a in ("a1", "a2") for b in ("b1", "b2")}
    # b's big packets die on their way to a (r2's egress toward swa is 1500).
    assert b_to_a <= set(failing), json.dumps(storage["cells"], indent=1)[:3000]
    assert {failing[k]["one_way"] for k in b_to_a} == {"forward"}
    # a's probes toward b: IPv4 echo replies carry no DF, so r2 fragments them and a sees
    # 9000; if a's check does see a failure, it must be on the way back.
    for a in ("a1", "a2"):
        for b in ("b1", "b2"):
            c = cell(doc, "storage", a, b)
            assert c["status"] == "ok" or failing[(a, b)]["one_way"] == "return", c
    assert not {k for k in failing if k[0][0] == k[1][0]}  # nothing inside a group fails
    (verdict,) = storage["verdicts"]
    assert verdict["kind"] == "link" and verdict["cause"] == "inter-group-link"
    assert verdict["groups"] == [["a1", "a2"], ["b1", "b2"]]
    assert (verdict["only_from"], verdict["only_to"]) == (["b1", "b2"], ["a1", "a2"])
