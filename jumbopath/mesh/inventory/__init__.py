"""Inventories: which hosts to reach over SSH, and each host's address on each network.

Three formats are read (see the README, "Inventory"):

- jumbopath's own YAML (``networks:`` with an MTU and the member hosts'
  addresses, and optionally ``hosts:`` with how to reach each over SSH):
  :mod:`.own_yaml`;
- Ansible INI inventories (parsed here; Ansible need not be installed):
  :mod:`.ansible_ini`;
- Ansible YAML inventories: :mod:`.ansible_yaml`; both Ansible readers share
  :mod:`.ansible_tree` (groups, variables) and :mod:`.ansible_vars`
  (``group_vars/``, ``host_vars/``); :mod:`.ansible_dir` reads directories
  of them (and several sources) as one;
- any source Ansible accepts (directories, dynamic inventory scripts and
  plugins, vault, Jinja templates), read by Ansible itself when ansible-core
  is installed: :mod:`.ansible_source` (``ansible-inventory --list``, run by
  :mod:`.ansible_run`; templates rendered by :mod:`.ansible_helper`).

Every format becomes one :class:`Inventory` (:mod:`.model`). Inventories come
from outside: files, nesting, aliases and counts are bounded
(:mod:`.validate` holds the limits, :mod:`.yamlload` the bounded reader), and
a malformed file raises one :class:`~jumbopath.errors.UsageError` line naming
the file, the line when known, and what to fix.

Modules depend one way: model ← validate ← yamlload ← formats ← load
(the Ansible modules sit with the formats).
"""

from jumbopath.mesh.inventory.ansible_ini import parse_ini, parse_ini_file
from jumbopath.mesh.inventory.ansible_run import AnsibleOptions, find_ansible_inventory
from jumbopath.mesh.inventory.ansible_tree import (
    ADDRESSES_VAR,
    COMMAND_VAR,
    NETWORKS_VAR,
    expand_pattern,
    host_variables,
)
from jumbopath.mesh.inventory.ansible_yaml import parse_yaml
from jumbopath.mesh.inventory.load import FORMATS, detect_format, load_inventory
from jumbopath.mesh.inventory.model import DEFAULT_COMMAND, Inventory, MeshHost, Network
from jumbopath.mesh.inventory.own_yaml import parse_jumbopath
from jumbopath.mesh.inventory.validate import (
    bad,
    check_address,
    check_family,
    check_mtu,
    check_name,
    check_port,
    finish,
    show,
)
from jumbopath.mesh.inventory.yamlload import line_of, load_yaml, load_yaml_text, read_text

__all__ = [
    "ADDRESSES_VAR",
    "AnsibleOptions",
    "COMMAND_VAR",
    "DEFAULT_COMMAND",
    "FORMATS",
    "NETWORKS_VAR",
    "Inventory",
    "MeshHost",
    "Network",
    "bad",
    "check_address",
    "check_family",
    "check_mtu",
    "check_name",
    "check_port",
    "detect_format",
    "expand_pattern",
    "find_ansible_inventory",
    "finish",
    "host_variables",
    "line_of",
    "load_inventory",
    "load_yaml",
    "load_yaml_text",
    "parse_ini",
    "parse_ini_file",
    "parse_jumbopath",
    "parse_yaml",
    "read_text",
    "show",
]
