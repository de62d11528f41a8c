"""Property tests: any ``ansible-inventory --list`` document is an inventory or one UsageError line.

What a dynamic inventory makes Ansible print is outside data: random and
hostile documents (shapes, names, values) never produce a traceback.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from jumbopath.errors import UsageError
from jumbopath.mesh.bounded import loads
from jumbopath.mesh.inventory.ansible_source import needs_rendering, tree_from_list
from jumbopath.mesh.inventory.ansible_tree import resolve

NAMES = st.sampled_from(
    ["a", "b", "g", "all", "ungrouped", "..", "a b", "a;b", "$(x)", "-o", "\x1b[2J", "", "é", "n1"]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    NAMES,
    st.sampled_from(["198.18.1.1", "2001:db8::1", "{{ x }}", "-oProxyCommand=x", "root;x"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4),
    max_leaves=20,
)
NETWORKS = st.one_of(
    VALUES,
    st.dictionaries(
        NAMES,
        st.fixed_dictionaries(
            {"mtu": st.one_of(st.integers(0, 70000), SCALARS)},
            optional={"var": st.sampled_from(["ansible_host", "s", "x"]), "family": SCALARS},
        ),
        max_size=3,
    ),
)
HOSTVARS = st.dictionaries(
    st.sampled_from(
        ["ansible_host", "ansible_user", "ansible_port", "s", "jumbopath_command",
         "ansible_ssh_private_key_file", "jumbopath_addresses", "x"]
    ),
    VALUES,
    max_size=5,
).map(lambda d: d)  # fmt: skip
GROUP = st.fixed_dictionaries(
    {},
    optional={
        "hosts": st.one_of(st.lists(NAMES, max_size=4), VALUES),
        "children": st.one_of(st.lists(NAMES, max_size=3), VALUES),
        "vars": VALUES,
    },
)


@st.composite
def listings(draw: Any) -> Any:
    """A document shaped like ``ansible-inventory --list`` output, with random holes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(VALUES)
    doc: dict[str, Any] = {name: draw(GROUP) for name in draw(st.lists(NAMES, max_size=4))}
    hostvars = draw(st.dictionaries(NAMES, HOSTVARS, max_size=4))
    for hv in hostvars.values():
        if draw(st.booleans()):
            hv["jumbopath_networks"] = draw(NETWORKS)
    doc["_meta"] = {"hostvars": hostvars} if draw(st.integers(0, 9)) else draw(VALUES)
    if draw(st.booleans()):  # coherent: hosts in a group under all, on one network
        names = draw(st.lists(st.sampled_from(["n1", "n2", "n3", "a.b", "x-y"]), unique=True))
        doc["all"] = {"children": ["g"]}
        doc["g"] = {"hosts": names}
        hostvars = {
            n: {"s": f"198.18.1.{i + 1}", "jumbopath_networks": {"st": {"mtu": 9000, "var": "s"}}}
            for i, n in enumerate(names)
        }
        if names and draw(st.booleans()):  # one outside value somewhere
            hostvars[draw(st.sampled_from(names))].update(draw(HOSTVARS))
        doc["_meta"] = {"hostvars": hostvars}
    return doc


@settings(max_examples=400, deadline=None)
@given(listings())
def test_any_listing_is_an_inventory_or_one_line(doc: Any) -> None:
    try:
        doc = loads(json.dumps(doc))  # as jumbopath reads Ansible's output
    except ValueError:
        return
    try:
        tree = tree_from_list(doc, "inventory.py")
        needs_rendering(tree)
        inv = resolve(tree, var_dirs=())
    except UsageError as exc:
        event("refused")
        text = str(exc)
        assert text.startswith("inventory.py") and "\n" not in text and "\x1b" not in text
        return
    event("an inventory")
    for host in inv.hosts:
        assert not host.ssh_host.startswith("-")
        assert not any(c in host.ssh_host for c in ";$`| \x1b")
    for network in inv.networks:
        assert 68 <= network.mtu <= 65535
