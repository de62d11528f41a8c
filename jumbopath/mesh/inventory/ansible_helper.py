"""Rendered by Ansible itself: the template variables jumbopath uses, for every host.

This file runs under the Python interpreter of ansible-core (which may not
be jumbopath's), as ``python -c SOURCE REQUEST``; it imports only Ansible
and the standard library. REQUEST is JSON::

    {"sources": ["inventory/"], "vault_ids": [], "vault_password_files": [],
     "ask_vault_pass": false, "names": ["ansible_host", ...],
     "networks_var": "jumbopath_networks"}

It builds the inventory and each host's variables exactly as Ansible does
(``InventoryManager``, ``VariableManager``; the same objects that
``ansible-inventory`` and ``ansible-playbook`` use) and renders, with
Ansible's ``Templar``, the variables named in ``names`` plus the address
variable of every network in the host's ``networks_var`` (its ``var:``).
It prints one JSON document, keys sorted (as ``ansible-inventory`` does)::

    {"hosts": {"HOST": {"VAR": VALUE, ...}, ...}}
    {"hosts": {...}, "errors": [["HOST", "VAR", "why"], ...]}
    {"error": "why nothing could be rendered"}

Nothing here decides anything: jumbopath validates every value it receives.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

MAX_ERRORS = 20
"""Most rendering failures reported (the first is shown; the rest are counted)."""


def _plain(value: Any) -> Any:
    """A rendered value as plain JSON types (Ansible's may be tagged subclasses)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _wanted(names: list[str], networks_var: str, rendered: Mapping[str, Any]) -> list[str]:
    """The fixed names, then each network's address variable (once rendered)."""
    extra: list[str] = []
    nets = rendered.get(networks_var)
    if isinstance(nets, Mapping):
        for spec in nets.values():
            var = spec.get("var") if isinstance(spec, Mapping) else None
            if isinstance(var, str) and var not in names and var not in extra:
                extra.append(var)
    return extra


def render(request: Mapping[str, Any]) -> dict[str, Any]:
    """Every host's wanted variables, rendered by Ansible."""
    from ansible import constants
    from ansible.cli import CLI
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.vars.manager import VariableManager

    try:  # ansible-core 2.15+: collections (their inventory plugins) need the loader set up
        from ansible.plugins.loader import init_plugin_loader
    except ImportError:
        pass
    else:
        init_plugin_loader([])
    loader = DataLoader()
    # As every Ansible command sets up vault secrets (ansible.cli.CLI._play_prereqs).
    secrets = CLI.setup_vault_secrets(
        loader,
        vault_ids=list(constants.DEFAULT_VAULT_IDENTITY_LIST)
        + list(request.get("vault_ids") or []),
        vault_password_files=list(request.get("vault_password_files") or []),
        ask_vault_pass=bool(request.get("ask_vault_pass")),
        auto_prompt=False,
    )
    loader.set_vault_secrets(secrets)
    inventory = InventoryManager(loader=loader, sources=list(request["sources"]))
    variables = VariableManager(loader=loader, inventory=inventory)
    names = [str(n) for n in request["names"]]
    networks_var = str(request["networks_var"])
    hosts: dict[str, Any] = {}
    errors: list[list[str]] = []
    for host in inventory.get_hosts("all"):
        hv = variables.get_vars(host=host, include_hostvars=False)
        templar = Templar(loader=loader, variables=hv)
        out: dict[str, Any] = {}
        queue = [n for n in names if n in hv]
        while queue:
            name = queue.pop(0)
            try:
                out[name] = _plain(templar.template(hv[name]))
            except Exception as exc:  # noqa: BLE001 - reported per variable, never a traceback
                if len(errors) < MAX_ERRORS:
                    errors.append([host.name, name, str(exc).splitlines()[0] if str(exc) else ""])
                continue
            if name == networks_var:
                queue += [n for n in _wanted(names, networks_var, out) if n in hv and n not in out]
        hosts[host.name] = out
    result: dict[str, Any] = {"hosts": hosts}
    if errors:
        result["errors"] = errors
    return result


def main() -> int:
    """Read the request from argv, print the rendered variables (or one error)."""
    if sys.path and sys.path[0] in ("", "."):
        sys.path.pop(0)  # never import from the working directory
    try:
        result = render(json.loads(sys.argv[1]))
    except Exception as exc:  # noqa: BLE001 - one line for jumbopath, never a traceback
        text = str(exc).strip().splitlines()
        print(json.dumps({"error": f"{type(exc).__name__}: {text[0] if text else ''}"}))
        return 1
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
