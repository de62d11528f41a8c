"""Ansible inventories read by Ansible itself (real ansible-core), and by the built-in readers.

Directories of several files with group_vars/, dynamic inventory scripts,
plugin configurations, vault-encrypted variables and Jinja templates. Where
both readers can read a source, they must agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import jumbopath.cli.mesh  # noqa: F401  (registers the commands)
from jumbopath.cli import app
from jumbopath.errors import CannotMeasure, UsageError
from jumbopath.mesh.inventory import (
    AnsibleOptions,
    Inventory,
    Network,
    ansible_run,
    detect_format,
    find_ansible_inventory,
    load_inventory,
)

ANSIBLE = AnsibleOptions()
"""Ask Ansible (as ``mesh`` and ``report`` do)."""
BUILT_IN = AnsibleOptions(prefer=False)
"""Only what the built-in readers cannot read goes to Ansible."""

STORAGE = '{"storage": {"mtu": 9000, "var": "storage_ip"}}'
NETWORKS = (
    '{"storage": {"mtu": 9000, "var": "storage_ip"}, "mgmt": {"mtu": 1500, "var": "ansible_host"}}'
)


@pytest.fixture(scope="module", autouse=True)
def ansible_core() -> str:
    found = find_ansible_inventory()
    if found is None:
        pytest.fail("ansible-core is a test dependency: pip install ansible-core")
    return found


@pytest.fixture
def no_ansible(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine without ansible-core."""
    monkeypatch.setattr(ansible_run, "find_ansible_inventory", lambda: None)


def ansible_tool(name: str) -> str:
    return str(Path(find_ansible_inventory() or "").with_name(name))


def shape(inv: Inventory) -> dict[str, Any]:
    """What must agree between readers (Ansible sorts variables: order may differ)."""
    return {
        "networks": {n.name: (n.mtu, sorted(n.members)) for n in inv.networks},
        "hosts": sorted((h.name, h.ssh_host, h.user, h.port, h.command) for h in inv.hosts),
    }


def net(inv: Inventory, name: str) -> Network:
    return next(n for n in inv.networks if n.name == name)


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "\x1b" not in text and "Traceback" not in text, ascii(text)
    assert len(text) < 1200
    return text


def script(path: Path, body: str) -> Path:
    """An executable dynamic inventory script (this interpreter) printing what ``body`` makes."""
    path.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        "if '--host' in sys.argv:\n    print('{}'); sys.exit()\n" + body
    )
    path.chmod(0o755)
    return path


# ---------------------------------------------------------------- directories


def inventory_dir(root: Path) -> Path:
    """Three files (INI, YAML, an ignored README.md) and group_vars/, host_vars/ beside them."""
    d = root / "inventory"
    (d / "group_vars").mkdir(parents=True)
    (d / "host_vars").mkdir()
    (d / "01-hosts.ini").write_text(
        "[left]\nn1 ansible_host=198.18.0.1 storage_ip=198.18.9.9\nn2 ansible_host=198.18.0.2\n"
    )
    (d / "02-more.yml").write_text(
        "all:\n  children:\n    right:\n      hosts:\n"
        "        n3: {ansible_host: 198.18.0.3, storage_ip: 198.18.1.3}\n"
        "    left:\n      hosts:\n        n1: {storage_ip: 198.18.1.1}\n"
    )
    (d / "03-cluster").write_text("[cluster:children]\nleft\nright\n")
    (d / "README.md").write_text("[not an inventory\n")
    (d / ".hidden.ini").write_text("[broken\n")
    (d / "group_vars" / "cluster.yml").write_text(
        f"ansible_user: root\njumbopath_networks: {NETWORKS}\n"
    )
    (d / "group_vars" / "right.yml").write_text("ansible_port: 2222\n")
    (d / "host_vars" / "n2.yml").write_text("storage_ip: 198.18.1.2\n")
    return d


EXPECTED_DIR = {
    "networks": {
        "storage": (9000, [("n1", "198.18.1.1"), ("n2", "198.18.1.2"), ("n3", "198.18.1.3")]),
        "mgmt": (1500, [("n1", "198.18.0.1"), ("n2", "198.18.0.2"), ("n3", "198.18.0.3")]),
    },
    "hosts": [
        ("n1", "198.18.0.1", "root", None, "jumbopath"),
        ("n2", "198.18.0.2", "root", None, "jumbopath"),
        ("n3", "198.18.0.3", "root", 2222, "jumbopath"),
    ],
}


def test_directory_of_several_files_with_group_vars(tmp_path: Path) -> None:
    d = inventory_dir(tmp_path)
    by_ansible = load_inventory(d, ansible=ANSIBLE)
    assert shape(by_ansible) == EXPECTED_DIR  # 02-more.yml's storage_ip for n1 wins
    assert [n.name for n in by_ansible.networks] == ["mgmt", "storage"]  # Ansible sorts
    assert shape(load_inventory(d)) == EXPECTED_DIR  # the built-in reader agrees
    assert detect_format(d, None) == "ansible"


def test_directory_without_ansible(tmp_path: Path, no_ansible: None) -> None:
    d = inventory_dir(tmp_path)
    assert shape(load_inventory(d, ansible=ANSIBLE)) == EXPECTED_DIR
    script(d / "04-dynamic", "print('{}')\n")
    with pytest.raises(UsageError) as err:
        load_inventory(d, ansible=ANSIBLE)
    assert "04-dynamic: an executable (a dynamic inventory script)" in one_line(err.value)
    assert "install ansible-core" in str(err.value)


def test_what_the_built_in_reader_cannot_read_goes_to_ansible(tmp_path: Path) -> None:
    """Even when Ansible is not preferred: a script in a directory, a vault value needed."""
    d = inventory_dir(tmp_path)
    script(d / "04-dynamic", 'print(json.dumps({"extra": {"hosts": ["n1"]}}))\n')
    inv = load_inventory(d)  # the library's default: the built-in readers first
    assert shape(inv) == EXPECTED_DIR
    (d / "04-dynamic").unlink()
    (d / "host_vars" / "n2.yml").write_text(
        "storage_ip: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n"
    )
    with pytest.raises(UsageError) as err:
        load_inventory(d)  # Ansible is asked, and needs the password
    assert "host 'n2': Ansible could not render storage_ip" in one_line(err.value)
    assert "no vault secrets found" in str(err.value)


def test_several_sources_merge_as_ansible_merges_them(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    (a / "group_vars").mkdir(parents=True)
    b.mkdir()
    (a / "hosts.ini").write_text("[g]\nh1 storage_ip=198.18.1.1\nh2 storage_ip=198.18.1.2\n")
    (a / "group_vars" / "all.yml").write_text(f"jumbopath_networks: {NETWORKS}\n")
    (b / "more.yml").write_text("all:\n  hosts:\n    h2: {storage_ip: 198.18.1.22}\n")
    sources = [a / "hosts.ini", b / "more.yml"]
    expected = {
        "storage": (9000, [("h1", "198.18.1.1"), ("h2", "198.18.1.22")]),
        "mgmt": (1500, [("h1", "h1"), ("h2", "h2")]),  # ansible_host defaults to the name
    }
    assert shape(load_inventory(sources, ansible=ANSIBLE))["networks"] == expected
    assert shape(load_inventory(sources))["networks"] == expected


def test_a_variables_link_out_of_the_folder_never_reaches_ansible(tmp_path: Path) -> None:
    """Ansible follows group_vars/all.yml to wherever it points; the folder is refused first."""
    d = inventory_dir(tmp_path)
    script(d / "04-dynamic", "print('{}')\n")  # only Ansible reads this folder
    outside = tmp_path / "elsewhere.yml"
    outside.write_text("ansible_user: taken-from-outside\n")
    (d / "group_vars" / "all.yml").symlink_to(outside)
    with pytest.raises(UsageError) as err:
        load_inventory(d, ansible=ANSIBLE)
    assert one_line(err.value).startswith(f"{d / 'group_vars' / 'all.yml'}: leads outside")


def test_an_alias_bomb_never_reaches_ansible(tmp_path: Path) -> None:
    d = tmp_path / "inv"
    d.mkdir()
    bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    bomb += [
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)
    ]
    (d / "hosts.yml").write_text("\n".join(bomb) + "\nall: {vars: {x: *i}}\n")
    started = time.monotonic()
    with pytest.raises(UsageError, match="aliases repeat more than"):
        load_inventory(d, ansible=ANSIBLE)
    assert time.monotonic() - started < 5


# ---------------------------------------------------------------- dynamic inventories


DYNAMIC = """
hosts = {f"n{i}": {"ansible_host": f"198.18.0.{i}", "host_index": i} for i in range(1, COUNT + 1)}
print(json.dumps({
    "_meta": {"hostvars": hosts},
    "all": {"children": ["cluster"]},
    "cluster": {"hosts": list(hosts), "vars": {
        "ansible_user": "root",
        "storage_prefix": "198.18.1",
        "storage_ip": "{{ storage_prefix }}.{{ host_index }}",
        "jumbopath_networks": NETWORKS,
    }},
}))
"""


def dynamic(path: Path, count: int = 3) -> Path:
    return script(
        path, DYNAMIC.replace("COUNT", str(count)).replace("NETWORKS", repr(json.loads(NETWORKS)))
    )


def test_dynamic_inventory_script_with_templated_addresses(tmp_path: Path) -> None:
    src = dynamic(tmp_path / "inventory.py")
    inv = load_inventory(src, ansible=BUILT_IN)  # a script goes to Ansible in any case
    nets = {n.name: n for n in inv.networks}
    assert nets["storage"].members == (
        ("n1", "198.18.1.1"),
        ("n2", "198.18.1.2"),
        ("n3", "198.18.1.3"),
    )
    assert nets["mgmt"].address("n2") == "198.18.0.2"
    assert {h.user for h in inv.hosts} == {"root"}
    assert detect_format(src, None) == "ansible"


def test_dynamic_inventory_without_ansible_says_install(tmp_path: Path, no_ansible: None) -> None:
    src = dynamic(tmp_path / "inventory.py")
    with pytest.raises(UsageError) as err:
        load_inventory(src, ansible=ANSIBLE)
    assert one_line(err.value).endswith(
        "install ansible-core (pip install ansible-core) so jumbopath can ask Ansible"
    )
    assert "a Python inventory script" in str(err.value)


def test_200_host_dynamic_inventory_is_quick(tmp_path: Path) -> None:
    src = dynamic(tmp_path / "inventory.py", 200)
    started = time.monotonic()
    inv = load_inventory(src, ansible=ANSIBLE)
    elapsed = time.monotonic() - started
    assert len(inv.hosts) == 200 and len(net(inv, "storage").members) == 200
    assert net(inv, "storage").address("n200") == "198.18.1.200"
    assert elapsed < 20, elapsed  # about 1.3 s here: ansible-inventory, then one rendering


def test_plugin_configuration_with_templates_from_group_vars(tmp_path: Path) -> None:
    """ansible.builtin.generator makes the hosts; group_vars beside it give templated addresses."""
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text(
        f"jumbopath_networks: {NETWORKS}\n"
        "storage_ip: \"198.18.1.{{ inventory_hostname | regex_replace('^node', '') }}\"\n"
    )
    src = tmp_path / "generated.yml"
    src.write_text(
        "plugin: ansible.builtin.generator\n"
        "hosts:\n  name: 'node{{ number }}'\n"
        "layers:\n  number: ['7', '8']\n"
    )
    assert detect_format(src, {"plugin": "x"}) == "ansible"
    inv = load_inventory(src)
    assert net(inv, "storage").members == (("node7", "198.18.1.7"), ("node8", "198.18.1.8"))


def test_templated_variable_in_a_static_file(tmp_path: Path) -> None:
    src = tmp_path / "hosts.yml"
    src.write_text(
        "all:\n  vars:\n    storage_prefix: 198.18.1\n"
        f"    jumbopath_networks: {NETWORKS}\n"
        '    storage_ip: "{{ storage_prefix }}.{{ host_index }}"\n'
        "  hosts:\n    a: {host_index: 1}\n    b: {host_index: 2}\n"
    )
    inv = load_inventory(src, ansible=ANSIBLE)
    assert net(inv, "storage").members == (("a", "198.18.1.1"), ("b", "198.18.1.2"))
    with pytest.raises(UsageError) as err:
        load_inventory(src)  # the built-in reader follows only a plain {{ var }}
    assert "install ansible-core so Ansible renders it" in one_line(err.value)


def test_a_template_ansible_cannot_render_is_one_line(tmp_path: Path) -> None:
    src = tmp_path / "hosts.yml"
    src.write_text(
        f"all:\n  vars:\n    jumbopath_networks: {NETWORKS}\n"
        '    storage_ip: "{{ nowhere_defined }}.1"\n'
        "  hosts:\n    a: {}\n"
    )
    with pytest.raises(UsageError) as err:
        load_inventory(src, ansible=ANSIBLE)
    assert "host 'a': Ansible could not render storage_ip" in one_line(err.value)
    assert "nowhere_defined" in str(err.value)


def test_forced_ansible_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "hosts"
    src.write_text(f"[g]\na storage_ip=198.18.1.1\n[g:vars]\njumbopath_networks={NETWORKS}\n")
    assert net(load_inventory(src, "ansible"), "storage").members == (("a", "198.18.1.1"),)
    monkeypatch.setattr(ansible_run, "find_ansible_inventory", lambda: None)
    assert net(load_inventory(src), "storage").members == (("a", "198.18.1.1"),)
    with pytest.raises(UsageError, match="only Ansible reads it: install ansible-core"):
        load_inventory(src, "ansible")


# ---------------------------------------------------------------- vault


def vault_dir(root: Path) -> tuple[Path, Path]:
    """An inventory whose group_vars/cluster.yml is encrypted with ansible-vault."""
    d = root / "inv"
    (d / "group_vars").mkdir(parents=True)
    password = root / "vault-pass"
    password.write_text("correct horse\n")
    (d / "hosts.ini").write_text(
        "[cluster]\na host_index=1 ansible_host=198.18.0.1\n"
        "b host_index=2 ansible_host=198.18.0.2\n"
    )
    secret = d / "group_vars" / "cluster.yml"
    secret.write_text(
        f"jumbopath_networks: {NETWORKS}\nansible_user: admin\nstorage_prefix: 198.18.1\n"
        'storage_ip: "{{ storage_prefix }}.{{ host_index }}"\n'
    )
    subprocess.run(
        [
            ansible_tool("ansible-vault"),
            "encrypt",
            f"--vault-password-file={password}",
            str(secret),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert secret.read_text().startswith("$ANSIBLE_VAULT;")
    return d, password


def test_vault_encrypted_group_vars_with_a_password_file(tmp_path: Path) -> None:
    d, password = vault_dir(tmp_path)
    expected = [("a", "198.18.1.1"), ("b", "198.18.1.2")]
    inv = load_inventory(d, ansible=AnsibleOptions(vault_password_files=(str(password),)))
    assert shape(inv)["networks"]["storage"] == (9000, expected)
    assert {h.user for h in inv.hosts} == {"admin"}
    inv = load_inventory(d, ansible=AnsibleOptions(vault_ids=(f"prod@{password}",)))
    assert shape(inv)["networks"]["storage"] == (9000, expected)
    with pytest.raises(UsageError) as err:
        load_inventory(d, ansible=ANSIBLE)
    assert "ansible-inventory failed: Attempting to decrypt but no vault secrets found" in (
        one_line(err.value)
    )
    wrong = tmp_path / "wrong"
    wrong.write_text("nope\n")
    with pytest.raises(UsageError) as err:
        load_inventory(d, ansible=AnsibleOptions(vault_password_files=(str(wrong),)))
    assert "Decryption failed" in one_line(err.value)


def test_vault_without_ansible_says_install(tmp_path: Path, no_ansible: None) -> None:
    d, password = vault_dir(tmp_path)
    with pytest.raises(UsageError) as err:
        load_inventory(d, ansible=ANSIBLE)
    assert "cluster.yml' is encrypted with ansible-vault: install ansible-core" in one_line(
        err.value
    )
    with pytest.raises(UsageError) as err:
        load_inventory(d, ansible=AnsibleOptions(vault_password_files=(str(password),)))
    assert "vault options: only Ansible reads it: install ansible-core" in one_line(err.value)


# ---------------------------------------------------------------- the commands


SSH_NEVER = "Host *\n  ProxyCommand /bin/false\n  BatchMode yes\n"


def test_mesh_passes_vault_options_and_repeated_sources(tmp_path: Path) -> None:
    d, password = vault_dir(tmp_path)
    extra = tmp_path / "extra.ini"
    extra.write_text("[cluster]\nc host_index=3 ansible_host=198.18.0.3\n")
    ssh = tmp_path / "ssh_config"
    ssh.write_text(SSH_NEVER)
    args = ["mesh", "-F", str(ssh), "--timeout", "5", "--connect-timeout", "1", "--json"]
    res = CliRunner().invoke(
        app, [*args, str(d), "-i", str(extra), "--vault-password-file", str(password)]
    )
    assert res.exit_code == 3, res.output  # nothing can be reached: not measured
    doc = json.loads(res.stdout)
    storage = next(n for n in doc["networks"] if n["name"] == "storage")
    assert storage["hosts"] == ["a", "b", "c"]
    res = CliRunner().invoke(app, [*args, str(d), "-i", str(extra)])
    assert isinstance(res.exception, UsageError)  # exit 2 from the command
    assert "no vault secrets found" in str(res.exception)


# ---------------------------------------------------------------- hostile dynamic inventories


def listing(hostvars: dict[str, Any], hosts: list[str] | None = None, **groups: Any) -> str:
    doc = {
        "_meta": {"hostvars": hostvars},
        "all": {"children": ["g", *groups]},
        "g": {
            "hosts": hosts if hosts is not None else list(hostvars),
            "vars": {"jumbopath_networks": json.loads(STORAGE)},
        },
        **groups,
    }
    return f"print(json.dumps({doc!r}))\n"


def ok(**extra: Any) -> dict[str, Any]:
    return {"storage_ip": "198.18.1.1", **extra}


HOSTILE = {
    "name-control": (listing({"a\x1b[2Jb": ok()}), "host name 'a\\x1b[2Jb' may only hold"),
    "name-dotdot": (listing({"..": ok()}), "host name '..' may only hold"),
    "name-slash": (listing({"../../etc": ok()}), "host name '../../etc' may only hold"),
    "user-semicolon": (listing({"a": ok(ansible_user="root;reboot")}), "user 'root;reboot'"),
    "user-subshell": (listing({"a": ok(ansible_user="$(reboot)")}), "user '$(reboot)'"),
    "host-backtick": (listing({"a": ok(ansible_host="`reboot`")}), "ssh target '`reboot`'"),
    "host-option": (
        listing({"a": ok(ansible_host="-oProxyCommand=reboot")}),
        "starts with '-', which ssh would read as an option",
    ),
    "host-newline": (listing({"a": ok(ansible_host="a\nb")}), "holds control characters"),
    "command-pipe": (
        listing({"a": ok(jumbopath_command="jumbopath | sh")}),
        "command 'jumbopath | sh' must be plain words",
    ),
    "identity-meta": (
        listing({"a": ok(ansible_ssh_private_key_file="$(reboot)")}),
        "identity_file '$(reboot)' must be a plain path",
    ),
    "address-meta": (listing({"a": ok(storage_ip="1.2.3.4;true")}), "neither an IP address"),
    "port-text": (listing({"a": ok(ansible_port="22; true")}), "port must be a number"),
    "group-meta": (
        listing({"a": ok()}, **{"g;x": {"hosts": ["a"]}}),
        "group name 'g;x' may only hold",
    ),
    "deep": (
        "v = 1\nfor _ in range(60):\n    v = [v]\n"
        + listing({"a": ok()}).replace("'storage_ip'", "'deep': v, 'storage_ip'", 1),
        "nested deeper than 32 levels",
    ),
    "many-hosts": (
        "hv = {f'h{i}': {} for i in range(10_001)}\n"
        "print(json.dumps({'_meta': {'hostvars': hv}, 'all': {'children': ['g']}, "
        "'g': {'hosts': list(hv)}}))\n",
        "more than 10000 hosts",
    ),
    "not-json": ("print('\\x1b[2J{ not json')\n", "ansible-inventory failed"),
    "exit-1": (
        "sys.stderr.write('\\x1b]0;owned\\x07 boom\\n'); sys.exit(1)\n",
        "ansible-inventory failed",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_dynamic_inventory_is_one_line(tmp_path: Path, case: str) -> None:
    body, words = HOSTILE[case]
    src = script(tmp_path / "inventory.py", body)
    with pytest.raises(UsageError) as err:
        load_inventory(src, ansible=ANSIBLE)
    text = one_line(err.value)
    assert words in text, text
    assert not any(ch in text for ch in "\x1b\x07\x00")


def test_huge_output_is_cut_off(tmp_path: Path) -> None:
    src = script(
        tmp_path / "inventory.py",
        listing({"a": ok()}).replace("'storage_ip'", "'junk': 'x' * 3_000_000, 'storage_ip'", 1),
    )
    with pytest.raises(UsageError) as err:
        load_inventory(src, ansible=AnsibleOptions(max_output=1024 * 1024))
    assert "ansible-inventory printed more than 1 MiB on stdout" in one_line(err.value)


def test_a_script_that_never_ends_is_killed(tmp_path: Path) -> None:
    marker = tmp_path / "still-running"
    src = script(
        tmp_path / "inventory.py",
        f"import time\nfor _ in range(600):\n    time.sleep(0.1)\nopen({str(marker)!r}, 'w')\n",
    )
    started = time.monotonic()
    with pytest.raises(CannotMeasure, match="ansible-inventory did not finish within 3 s"):
        load_inventory(src, ansible=AnsibleOptions(timeout_s=3))
    assert time.monotonic() - started < 10
    time.sleep(1)
    assert not marker.exists()
    out = subprocess.run(["pgrep", "-f", str(src)], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == "", "the script outlived its timeout"


def test_sources_that_look_like_options_stay_sources(tmp_path: Path) -> None:
    odd = tmp_path / "--list"
    odd.write_text(f"[g]\na storage_ip=198.18.1.1\n[g:vars]\njumbopath_networks={NETWORKS}\n")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        inv = load_inventory("--list", "ansible")
    finally:
        os.chdir(cwd)
    assert net(inv, "storage").members == (("a", "198.18.1.1"),)


def test_ask_vault_pass_prompts_on_the_terminal(tmp_path: Path) -> None:
    """--ask-vault-pass: Ansible asks on the terminal (twice: the listing, then the rendering)."""
    import pty
    import select

    d, _ = vault_dir(tmp_path)
    code = (
        "from jumbopath.mesh.inventory import AnsibleOptions, load_inventory\n"
        f"inv = load_inventory({str(d)!r}, ansible=AnsibleOptions(ask_vault_pass=True))\n"
        "print('RESULT', sorted(n.members for n in inv.networks if n.name == 'storage'))\n"
    )
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execv(sys.executable, [sys.executable, "-c", code])
    seen = b""
    prompts = 0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if seen.count(b"Vault password") > prompts:
                prompts += 1
                os.write(fd, b"correct horse\n")
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen[-2000:]
    assert prompts == 2
    assert b"RESULT [(('a', '198.18.1.1'), ('b', '198.18.1.2'))]" in seen, seen[-2000:]


# ---------------------------------------------------------------- templates never run code

PIPE = "{{ lookup('pipe', 'touch MARKER') }}"
"""Ansible's Templar would run this command on the controller (as root under sudo)."""
ESCAPES = {
    "lookup-pipe": PIPE,
    "query": "{{ query('pipe', 'touch MARKER') }}",
    "q": "{{ q('pipe', 'touch MARKER') }}",
    "lookup-file": "{{ lookup('file', '/etc/shadow') }}",
    "globals": "{{ self.__init__.__globals__.__builtins__.__import__('os')"
    ".system('touch MARKER') }}",
    "class-walk": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "cycler": "{{ cycler.__init__.__globals__.os.system('touch MARKER') }}",
    "big-string": "{{ 'x' * 1000000000 }}",
    "big-power": "{{ 9 ** 99999999 }}",
    "power-chain": "{{ 2 ** 64 ** 64 ** 64 }}",
    "loop": "{{ a_loop }}",
}


def _hostile_yaml(root: Path, template: str) -> Path:
    src = root / "hosts.yml"
    src.write_text(
        f"all:\n  vars:\n    jumbopath_networks: {NETWORKS}\n"
        f"    storage_ip: {json.dumps(template.replace('MARKER', str(root / 'ran')))}\n"
        '    a_loop: "{{ b_loop }}"\n    b_loop: "{{ a_loop }}"\n'
        "  hosts:\n    a: {ansible_host: 198.18.0.1}\n"
    )
    return src


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_a_template_in_an_inventory_never_runs_code(tmp_path: Path, case: str) -> None:
    src = _hostile_yaml(tmp_path, ESCAPES[case])
    started = time.monotonic()
    with pytest.raises(UsageError) as err:
        load_inventory(src, ansible=ANSIBLE)
    assert "host 'a': Ansible could not render storage_ip" in one_line(err.value)
    assert not (tmp_path / "ran").exists()
    assert time.monotonic() - started < 30
    if case == "loop":
        assert "loop" in str(err.value)


def test_a_lookup_in_group_vars_or_a_dynamic_script_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    d = tmp_path / "inv"
    (d / "group_vars").mkdir(parents=True)
    (d / "hosts.ini").write_text("[cluster]\na ansible_host=198.18.0.1\n")
    (d / "group_vars" / "cluster.yml").write_text(
        f'jumbopath_networks: {NETWORKS}\nstorage_ip: "{PIPE.replace("MARKER", str(marker))}"\n'
    )
    with pytest.raises(UsageError, match="could not render storage_ip"):
        load_inventory(d, ansible=ANSIBLE)
    listing_doc = {
        "_meta": {
            "hostvars": {
                "a": {
                    "ansible_host": "198.18.0.1",
                    "storage_ip": PIPE.replace("MARKER", str(marker)),
                    "jumbopath_networks": json.loads(NETWORKS),
                }
            }
        },
        "all": {"hosts": ["a"]},
    }
    body = f"print(json.dumps({listing_doc!r}))\n"
    with pytest.raises(UsageError, match="could not render storage_ip"):
        load_inventory(script(tmp_path / "inventory.py", body), ansible=ANSIBLE)
    assert not marker.exists()


def test_report_from_an_inventory_never_runs_its_templates(tmp_path: Path) -> None:
    src = _hostile_yaml(tmp_path, PIPE)
    result = subprocess.run(
        [sys.executable, "-m", "jumbopath", "report", "--inventory", str(src), str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "'lookup' is undefined" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "ran").exists()


def test_safe_templates_still_render(tmp_path: Path) -> None:
    """Variables, Jinja's filters and the pure filters Ansible adds all still work."""
    src = tmp_path / "hosts.yml"
    src.write_text(
        "all:\n  vars:\n    jumbopath_networks: {NETWORKS}\n"
        '    prefix: "{{ base }}.1"\n    base: "198.18"\n'
        '    storage_ip: "{{ prefix }}.'
        "{{ inventory_hostname | regex_replace('^n', '') | int }}\"\n"
        "    ansible_user: \"{{ 'ROOT' | lower }}\"\n"
        "  hosts:\n    n7: {}\n    n8: {}\n".replace("{NETWORKS}", NETWORKS)
    )
    inv = load_inventory(src, ansible=ANSIBLE)
    assert net(inv, "storage").members == (("n7", "198.18.1.7"), ("n8", "198.18.1.8"))
    assert {h.user for h in inv.hosts} == {"root"}
