"""Any inventory source Ansible accepts, read by Ansible itself.

``ansible-inventory -i SOURCE... --list`` (vault options passed on) gives
the groups, and every host's variables merged with Ansible's own precedence,
plugins (dynamic inventory scripts, NetBox, cloud plugins), ``group_vars/``
and vault decryption. Its JSON is read bounded (:func:`~jumbopath.mesh.bounded.loads`)
and becomes a :class:`~.ansible_tree.Tree`; from there it is checked by exactly
the validators of the built-in readers, so a dynamic inventory can bring in
nothing a static file could not.

``ansible-inventory`` prints variables as written: a Jinja template stays a
template, a ``!vault`` value stays encrypted. When a variable jumbopath uses
is one (``jumbopath_networks``, a network's address variable, ``ansible_host``,
user, port, key, ``jumbopath_command``), Ansible renders it: the helper
:mod:`.ansible_helper` runs under ansible-core's interpreter and uses
Ansible's Python API (``InventoryManager``, ``VariableManager``, ``Templar``),
one process for all hosts. It is used rather than a generated playbook run
with ``ansible -m debug`` because it is several times faster (200 hosts:
about 0.6 s against 3.7 s for ``ansible-playbook`` and 5.7 s for ``ansible``
ad hoc, which fork per host) and needs no callback plugin to print JSON
(ansible-core has none built in). Ansible prints variables with their keys
sorted, so networks come in name order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jumbopath.mesh.bounded import loads
from jumbopath.mesh.inventory import ansible_run
from jumbopath.mesh.inventory.ansible_run import INSTALL, AnsibleOptions
from jumbopath.mesh.inventory.ansible_switches import SWITCH_VARS
from jumbopath.mesh.inventory.ansible_tree import (
    ADDRESSES_VAR,
    AGENT_VAR,
    COMMAND_VAR,
    NETSTACK_VAR,
    NETWORKS_VAR,
    OS_HINTS,
    OS_VAR,
    VMK_VAR,
    Tree,
    Variables,
    is_switch_host,
    resolve,
)
from jumbopath.mesh.inventory.model import Inventory
from jumbopath.mesh.inventory.validate import MAX_DEPTH, bad, check_name, show

RENDERED = (
    NETWORKS_VAR,
    ADDRESSES_VAR,
    COMMAND_VAR,
    "ansible_host",
    "ansible_ssh_host",
    "ansible_user",
    "ansible_ssh_user",
    "ansible_port",
    "ansible_ssh_port",
    "ansible_ssh_private_key_file",
    AGENT_VAR,
    OS_VAR,
    VMK_VAR,
    NETSTACK_VAR,
    *(name for name, _ in OS_HINTS),
    *SWITCH_VARS,
)
"""Host variables jumbopath uses (with each network's address variable)."""

_MARKERS = ("{{", "{%", "{#")
_VAULT_KEY = "__ansible_vault"
_UNSAFE_KEY = "__ansible_unsafe"


def describe(sources: Sequence[str]) -> str:
    """The sources as messages name them."""
    return ", ".join(sources)


def read_with_ansible(sources: Sequence[str], options: AnsibleOptions) -> Inventory:
    """Ask Ansible for the inventory, render the templates jumbopath needs, validate it all."""
    source = describe(sources)
    command = ansible_run.find_ansible_inventory()
    if command is None:
        raise bad(source, None, f"this inventory needs Ansible to read it: {INSTALL}")
    argv = [command, *(f"--inventory={s}" for s in sources), "--list", *options.vault_args()]
    text = ansible_run.run(
        argv,
        "ansible-inventory",
        options.timeout_s,
        options.max_output,
        interactive=options.ask_vault_pass,
        source=source,
    )
    doc = _json(text, source, "ansible-inventory --list")
    tree = tree_from_list(doc, source)
    if needs_rendering(tree):
        render(tree, sources, options, command)
    return resolve(tree, var_dirs=())


def _json(text: str, source: str, what: str) -> Any:
    try:
        return loads(text)
    except ValueError as exc:
        raise bad(source, None, f"{what} printed JSON jumbopath refuses: {exc}") from exc


def _mapping(value: Any, source: str, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise bad(source, None, f"{what} must be a mapping, not {show(value)}")
    return value


def _list(value: Any, source: str, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad(source, None, f"{what} must be a list, not {show(value)}")
    return value


def tree_from_list(doc: Any, source: str) -> Tree:
    """``ansible-inventory --list`` output as a :class:`Tree` (groups from ``all`` down)."""
    doc = _mapping(doc, source, "the inventory")
    hostvars = _mapping(
        _mapping(doc.get("_meta"), source, "_meta").get("hostvars"), source, "_meta.hostvars"
    )
    tree = Tree(source)
    tree.group("all")
    seen = {"all"}
    stack: list[tuple[str, int]] = [("all", 0)]
    while stack:  # depth first, children in Ansible's order, without recursion
        name, depth = stack.pop()
        spec = _mapping(doc.get(name), source, f"group {name!r}")
        for host in _list(spec.get("hosts"), source, f"group {name!r}: hosts"):
            tree.add_host(name, check_name(source, "host", host), {}, None)
        children = [
            check_name(source, "group", child)
            for child in _list(spec.get("children"), source, f"group {name!r}: children")
        ]
        for child in children:
            tree.add_child(name, child, None)
        if depth >= MAX_DEPTH and children:
            raise bad(source, None, f"groups are nested more than {MAX_DEPTH} deep")
        stack += [(c, depth + 1) for c in reversed(children) if c not in seen]
        seen.update(children)
    for host in tree.host_vars:
        own = _mapping(hostvars.get(host), source, f"the variables of host {host!r}")
        tree.host_vars[host] = {str(k): _unwrap(v) for k, v in own.items()}
    return tree


def _unwrap(value: Any) -> Any:
    """Ansible's marking of a string it will never template (``{"__ansible_unsafe": s}``) → s.

    The document passed :func:`loads`, so the recursion is bounded.
    """
    if isinstance(value, Mapping):
        if len(value) == 1 and isinstance(value.get(_UNSAFE_KEY), str):
            return value[_UNSAFE_KEY]
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _templated(value: Any) -> bool:
    """Whether a value holds a template or an encrypted (vault) value Ansible must resolve."""
    stack = [value]
    while stack:  # the document passed loads(): nesting is bounded
        item = stack.pop()
        if isinstance(item, str):
            if any(m in item for m in _MARKERS):
                return True
        elif isinstance(item, Mapping):
            if _VAULT_KEY in item:
                return True
            stack += list(item.values())
        elif isinstance(item, list):
            stack += item
    return False


def needs_rendering(tree: Tree) -> bool:
    """Whether a variable jumbopath uses is a template (or vault-encrypted) for some
    host: a mesh host's, or a switch's (its address, credentials, port, network OS)."""
    variables = None
    for host, hv in tree.host_vars.items():
        if NETWORKS_VAR not in hv:
            variables = variables or Variables(tree)
            if is_switch_host(variables, host) and any(
                _templated(hv[n]) for n in SWITCH_VARS if n in hv
            ):
                return True
            continue
        names = list(RENDERED)
        nets = hv[NETWORKS_VAR]
        if isinstance(nets, Mapping):
            names += [
                s["var"]
                for s in nets.values()
                if isinstance(s, Mapping) and isinstance(s.get("var"), str)
            ]
        if any(_templated(hv[n]) for n in names if n in hv):
            return True
    return False


def render(tree: Tree, sources: Sequence[str], options: AnsibleOptions, command: str) -> None:
    """Replace the variables jumbopath uses with their values as Ansible renders them."""
    source = tree.source
    request = {
        "sources": list(sources),
        "vault_ids": list(options.vault_ids),
        "vault_password_files": list(options.vault_password_files),
        "ask_vault_pass": options.ask_vault_pass,
        "names": list(RENDERED),
        "networks_var": NETWORKS_VAR,
    }
    helper = Path(__file__).with_name("ansible_helper.py").read_text(encoding="utf-8")
    python = ansible_run.ansible_python(command, options.timeout_s)
    text = ansible_run.run(
        [*python, "-c", helper, json.dumps(request)],
        "Ansible (rendering templates)",
        options.timeout_s,
        options.max_output,
        interactive=options.ask_vault_pass,
        source=source,
    )
    doc = _mapping(_json(text, source, "Ansible's template rendering"), source, "the rendering")
    if "error" in doc:
        raise bad(source, None, f"Ansible could not render the templates: {show(doc['error'])}")
    hosts = _mapping(doc.get("hosts"), source, "the rendered hosts")
    errors = {
        (str(e[0]), str(e[1])): str(e[2])
        for e in _list(doc.get("errors"), source, "errors")
        if isinstance(e, list) and len(e) == 3
    }
    for host, hv in tree.host_vars.items():
        rendered = _mapping(hosts.get(host), source, f"host {host!r}: rendered variables")
        if NETWORKS_VAR in hv or NETWORKS_VAR in rendered:
            for (h, var), why in errors.items():
                if h == host:
                    raise bad(
                        source,
                        None,
                        f"host {host!r}: Ansible could not render {var}: {why[:200]}",
                    )
        hv.update({str(k): v for k, v in rendered.items()})
