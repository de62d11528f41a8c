"""Rendered by Ansible itself: the template variables jumbopath uses, for every host.

This file runs under the Python interpreter of ansible-core (which may not
be jumbopath's), as ``python -c SOURCE REQUEST``; it imports only Ansible
and the standard library. REQUEST is JSON::

    {"sources": ["inventory/"], "vault_ids": [], "vault_password_files": [],
     "ask_vault_pass": false, "names": ["ansible_host", ...],
     "networks_var": "jumbopath_networks"}

It builds the inventory and each host's variables exactly as Ansible does
(``InventoryManager``, ``VariableManager``; the same objects that
``ansible-inventory`` and ``ansible-playbook`` use) and renders the variables
named in ``names`` plus the address variable of every network in the host's
``networks_var`` (its ``var:``).

Rendering never runs code. Ansible's own ``Templar`` would run lookups
(``lookup('pipe', ...)`` runs a command, as root when jumbopath runs as
root) and Jinja's unsandboxed attribute access; an inventory is outside
data, so it is rendered here with Jinja's ``ImmutableSandboxedEnvironment``
instead: no globals (no ``lookup``, ``query``, ``q``, ``range``), Jinja's
built-in filters and tests plus a few pure ones Ansible adds
(``regex_replace``, ``regex_search``, ``ternary``, ``bool``), values of
other variables (themselves rendered the same way, at most
``MAX_DEPTH`` deep), and bounded sizes. A template that needs anything
else fails for that variable, with the reason.
It prints one JSON document, keys sorted (as ``ansible-inventory`` does)::

    {"hosts": {"HOST": {"VAR": VALUE, ...}, ...}}
    {"hosts": {...}, "errors": [["HOST", "VAR", "why"], ...]}
    {"error": "why nothing could be rendered"}

Nothing here decides anything: jumbopath validates every value it receives.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

MAX_ERRORS = 20
"""Most rendering failures reported (the first is shown; the rest are counted)."""
MAX_DEPTH = 16
"""Deepest chain of variables whose templates refer to one another."""
MAX_TEMPLATE = 4096
"""Longest template rendered (characters)."""
MAX_RESULT = 65536
"""Longest string a template may build (``'x' * n`` and friends are refused past it)."""
_MARKERS = ("{{", "{%", "{#")


def _regex_replace(
    value: Any,
    pattern: str = "",
    replacement: str = "",
    ignorecase: bool = False,
    multiline: bool = False,
    count: int = 0,
) -> str:
    flags = (re.I if ignorecase else 0) | (re.M if multiline else 0)
    return re.sub(pattern, replacement, str(value), count=count, flags=flags)


def _regex_search(
    value: Any, pattern: str = "", ignorecase: bool = False, multiline: bool = False
) -> str | None:
    flags = (re.I if ignorecase else 0) | (re.M if multiline else 0)
    found = re.search(pattern, str(value), flags=flags)
    return found.group(0) if found else None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("yes", "on", "1", "true", "y", "t")


def _ternary(value: Any, true_val: Any, false_val: Any, none_val: Any = None) -> Any:
    if value is None and none_val is not None:
        return none_val
    return true_val if value else false_val


FILTERS: dict[str, Callable[..., Any]] = {
    "regex_replace": _regex_replace,
    "regex_search": _regex_search,
    "bool": _bool,
    "ternary": _ternary,
}
"""The pure filters Ansible adds that inventories commonly use (Jinja's own come too)."""


def environment() -> Any:
    """A Jinja environment that cannot run code: sandboxed, no globals, sizes bounded."""
    from jinja2 import StrictUndefined
    from jinja2.nativetypes import NativeEnvironment
    from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

    class Bounded(NativeEnvironment, ImmutableSandboxedEnvironment):  # type: ignore[misc]
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and (abs(left) > 2**64 or abs(right) > 64):
                raise SecurityError("power too large")
            if operator == "*":
                for a, b in ((left, right), (right, left)):
                    sized = isinstance(a, (str, list, tuple)) and isinstance(b, int)
                    if sized and len(a) * b > MAX_RESULT:
                        raise SecurityError("result too long")
            return super().call_binop(context, operator, left, right)

    env = Bounded(undefined=StrictUndefined)
    env.globals.clear()
    env.filters.update(FILTERS)
    return env


def _untrusted(value: Any) -> bool:
    """Whether Ansible marks a string as never to be templated (``!unsafe``)."""
    if getattr(value, "__UNSAFE__", False):  # ansible-core before 2.19
        return True
    try:  # ansible-core 2.19+: only strings trusted as templates are rendered
        from ansible.template import is_trusted_as_template
    except ImportError:
        return False
    return not is_trusted_as_template(value)


class Renderer:
    """One host's variables, each rendered (once) in the sandbox on first use."""

    def __init__(self, env: Any, variables: Mapping[str, Any]) -> None:
        self.env = env
        self.variables = variables
        self.done: dict[str, Any] = {}
        self.active: list[str] = []

    def value(self, name: str) -> Any:
        """Variable ``name``, rendered."""
        if name in self.done:
            return self.done[name]
        if name in self.active:
            raise ValueError(
                f"templates refer to each other in a loop ({' -> '.join(self.active)})"
            )
        if len(self.active) >= MAX_DEPTH:
            raise ValueError(f"templates refer to others more than {MAX_DEPTH} deep")
        self.active.append(name)
        try:
            rendered = self.render(self.variables[name])
        finally:
            self.active.pop()
        self.done[name] = rendered
        return rendered

    def render(self, value: Any) -> Any:
        """A value with every template in it rendered."""
        if isinstance(value, Mapping):
            return {str(k): self.render(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.render(v) for v in value]
        if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
            return value
        marked = isinstance(value, str) and any(m in value for m in _MARKERS)
        text = str(value)  # a vault-encrypted value decrypts here
        if not any(m in text for m in _MARKERS) or (marked and _untrusted(value)):
            return text
        if len(text) > MAX_TEMPLATE:
            raise ValueError(f"template longer than {MAX_TEMPLATE} characters")
        from jinja2 import meta

        tree = self.env.parse(text)
        context = {
            n: self.value(n) for n in meta.find_undeclared_variables(tree) if n in self.variables
        }
        result = self.env.from_string(tree).render(context)
        if isinstance(result, str) and len(result) > MAX_RESULT:
            raise ValueError(f"rendered value longer than {MAX_RESULT} characters")
        return result


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
    env = environment()
    for host in inventory.get_hosts("all"):
        hv = variables.get_vars(host=host, include_hostvars=False)
        renderer = Renderer(env, hv)
        out: dict[str, Any] = {}
        queue = [n for n in names if n in hv]
        while queue:
            name = queue.pop(0)
            try:
                out[name] = _plain(renderer.value(name))
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
