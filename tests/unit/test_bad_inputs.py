"""Every command, fed bad input, ends in one clear line and the documented exit code.

A table of hostile and malformed inputs across all commands: bad option
values (nan, inf, negative, absurd), unknown commands and options,
link-local targets without an interface, names with escape sequences and
line breaks, and bad files given as inventories, result files and
``--compare`` files (binary, deeply nested, YAML alias bombs, wrong
shapes). Each case runs the real command (``python -m jumbopath`` in a
subprocess; the cases run a few at a time to keep the file fast) and must
end with exactly one ``jumbopath: error:`` line on stderr, its exit code,
no traceback, and no raw control character anywhere in the output.

Nothing here sends a probe: every case fails before probing, targets are
unresolvable (``.invalid``) or from the documentation ranges, and every
mesh run uses an SSH configuration whose ProxyCommand fails at once, so
ssh never opens a connection (nor resolves a name) even if an inventory
were accepted.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from jumbopath.model import PathResult, Report, Status
from jumbopath.render.json import render_json
from jumbopath.status import ExitCode

JP = [sys.executable, "-m", "jumbopath"]
USAGE = int(ExitCode.USAGE)

#: Raw control characters that must never reach a terminal (newline aside).
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

ESC = "\x1b[2J\x1b]0;owned\x07"


@dataclass(frozen=True)
class Case:
    """One bad input and what it must end in."""

    id: str
    """Test id."""
    args: tuple[str, ...]
    """Arguments after ``jumbopath``; ``{d}`` is the folder of the data files."""
    code: int = USAGE
    """Expected exit status."""
    words: str = ""
    """A piece of the error line, when the wording matters."""


def case(id_: str, *args: str, code: int = USAGE, words: str = "") -> Case:
    return Case(id_, args, code, words)


def mesh(id_: str, inventory: str, *extra: str, words: str = "") -> Case:
    """``mesh`` with an SSH configuration that never connects."""
    return Case(
        id_,
        ("mesh", "-F", "{d}/ssh_config", "--timeout", "5", "--connect-timeout", "1", inventory)
        + extra,
        USAGE,
        words,
    )


def report(id_: str, *args: str, words: str = "") -> Case:
    return Case(id_, ("report", *args), USAGE, words)


# --------------------------------------------------------------------------
# Data files (written once per module into a temporary folder)

BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    + ["networks: *i"]
)


def _inventory(networks: str = "", hosts: str = "") -> str:
    """An inventory whose host ``a`` is reached as ``hosts`` says (``b`` is harmless)."""
    return f"hosts:\n{hosts}  b: {{ssh: b.invalid}}\n" + networks


def _net(name: str = "storage", mtu: str = "9000", members: str = "") -> str:
    members = members or "      a: 198.18.1.1\n      b: 198.18.1.2\n"
    return f"networks:\n  {name}:\n    mtu: {mtu}\n    hosts:\n{members}"


FILES: dict[str, str | bytes] = {
    "ssh_config": "Host *\n  ProxyCommand /bin/false\n  BatchMode yes\n",
    "binary.bin": bytes(range(256)) * 8,
    "empty.yml": "",
    "latin1.yml": "networks:\n  st\xf6rage: {}\n".encode("latin-1"),
    "deep.json": "[" * 200_000 + "]" * 200_000,
    "deep.yml": "networks: " + "[" * 50_000 + "]" * 50_000 + "\n",
    "deep-block.yml": "".join("  " * i + f"k{i}:\n" for i in range(3000)) + "  " * 3000 + "v\n",
    "bomb.yml": BILLION_LAUGHS,
    "networks-list.yml": "networks: [1]\n",
    "networks-scalar.yml": "networks: 42\n",
    "top-list.yml": "- networks\n",
    "no-networks.yml": "hosts:\n  a: {ssh: a.invalid}\n",
    "dotdot.yml": _net(".."),
    "slash.yml": _net("a/b"),
    "esc-network.yml": _net('"st\\e[2Jorage"'),
    "newline-host.yml": _net(members='      "a\\nb": 198.18.1.1\n      b: 198.18.1.2\n'),
    "esc-host.yml": _net(members='      "a\\e]0;t\\a": 198.18.1.1\n      b: 198.18.1.2\n'),
    "mtu-nan.yml": _net(mtu=".nan"),
    "mtu-inf.yml": _net(mtu=".inf"),
    "mtu-huge.yml": _net(mtu="99999999999999999999999"),
    "mtu-text.yml": _net(mtu="jumbo"),
    "mtu-neg.yml": _net(mtu="-9000"),
    "mtu-list.yml": _net(mtu="[9000]"),
    "address-bad.yml": _net(members="      a: 198.18.1.1/24\n      b: 198.18.1.2\n"),
    "address-esc.yml": _net(members='      a: "198.18.1.1\\e[2J"\n      b: 198.18.1.2\n'),
    "address-list.yml": _net(members="      a: [1, 2]\n      b: 198.18.1.2\n"),
    "ssh-semicolon.yml": _inventory(_net(), "  a: {ssh: 'a.invalid; true'}\n"),
    "ssh-subshell.yml": _inventory(_net(), "  a: {ssh: '$(true).invalid'}\n"),
    "ssh-option.yml": _inventory(_net(), "  a: {ssh: '-oProxyCommand=true'}\n"),
    "ssh-newline.yml": _inventory(_net(), '  a: {ssh: "a.invalid\\nb"}\n'),
    "user-meta.yml": _inventory(_net(), "  a: {ssh: a.invalid, user: 'root;true'}\n"),
    "user-option.yml": _inventory(_net(), "  a: {ssh: a.invalid, user: '-oProxyCommand=true'}\n"),
    "port-text.yml": _inventory(_net(), "  a: {ssh: a.invalid, port: '22; true'}\n"),
    "port-huge.yml": _inventory(_net(), "  a: {ssh: a.invalid, port: 99999}\n"),
    "port-nan.yml": _inventory(_net(), "  a: {ssh: a.invalid, port: .nan}\n"),
    "identity-meta.yml": _inventory(_net(), "  a: {ssh: a.invalid, identity_file: '`true`'}\n"),
    "command-newline.yml": _inventory(
        _net(), '  a: {ssh: a.invalid, command: "jumbopath\\ntrue"}\n'
    ),
    "hosts-list.yml": "hosts: [a, b]\n" + _net(),
    "ansible-binary.ini": b"[all]\n\x00\xff\xfe\x1b[2J\n",
    "ansible-unclosed.ini": "[all\na ansible_host=a.invalid\n",
    "ansible-networks-bad.ini": "[all]\na ansible_host=a.invalid\n[all:vars]\n"
    "jumbopath_networks={not json\n",
    "ansible-networks-dotdot.ini": "[all]\na ansible_host=a.invalid s=198.18.1.1\n"
    'b ansible_host=b.invalid s=198.18.1.2\n[all:vars]\njumbopath_networks={"..": '
    '{"mtu": 9000, "var": "s"}}\n',
    "ansible-host-meta.ini": "[all]\na ansible_host='a.invalid;true' s=198.18.1.1\n"
    'b ansible_host=b.invalid s=198.18.1.2\n[all:vars]\njumbopath_networks={"st": '
    '{"mtu": 9000, "var": "s"}}\n',
    "ansible-user-meta.ini": "[all]\na ansible_host=a.invalid ansible_user='$(true)' "
    "s=198.18.1.1\nb ansible_host=b.invalid s=198.18.1.2\n[all:vars]\n"
    'jumbopath_networks={"st": {"mtu": 9000, "var": "s"}}\n',
    "ansible-mtu-nan.ini": "[all]\na ansible_host=a.invalid s=198.18.1.1\n"
    'b ansible_host=b.invalid s=198.18.1.2\n[all:vars]\njumbopath_networks={"st": '
    '{"mtu": NaN, "var": "s"}}\n',
    "ansible-bomb.yml": BILLION_LAUGHS.replace("networks: *i", "all: *i"),
    "ansible-all-scalar.yml": "all: 1\n",
    "ansible-hosts-list.yml": "all:\n  hosts: [1, 2]\n  vars:\n    jumbopath_networks: {}\n",
    # Result files (report) and --compare files.
    "empty.json": "",
    "array.json": "[]",
    "object.json": "{}",
    "nan.json": '{"schema": 1, "expected_mtu": NaN, "results": []}',
    "results-ints.json": '{"schema": 1, "results": [1]}',
    "results-esc.json": json.dumps({"schema": 1, "results": [{"target": ESC, "status": ESC}]}),
    "host-dotdot.json": '{"schema": 1, "host": "..", "networks": []}',
    "host-newline.json": json.dumps({"schema": 1, "host": "a\nb" + ESC, "networks": []}),
    "host-list.json": '{"schema": 1, "host": ["a"], "networks": []}',
    "networks-ints.json": '{"schema": 1, "host": "a", "networks": [1]}',
    "invalid-utf8.json": b'{"results": [{"target": "\xff\xfe"}]}',
    "cells.json": '{"schema": 1, "networks": [{"name": "storage", "mtu": 9000, "cells": [1]}]}',
    "cells-esc.json": json.dumps(
        {"schema": 1, "networks": [{"name": ESC, "mtu": 9000, "cells": [{"from": ESC}]}]}
    ),
    "compare-schema2.json": '{"schema": 2, "networks": []}',
    "compare-networks-str.json": '{"schema": 1, "networks": "x"}',
    "compare-mtu-nan.json": '{"schema": 1, "networks": [{"name": "s", "mtu": NaN, "cells": []}]}',
}


def _check_result() -> str:
    """A well-formed ``check --json`` document: the good file next to the bad ones."""
    result = PathResult(
        target="198.18.1.2",
        address="198.18.1.2",
        family=4,
        status=Status.OK,
        expected_mtu=9000,
        path_mtu=9000,
    )
    return render_json(Report(9000, (result,)))


# --------------------------------------------------------------------------
# The table

LONG = "9" * 5000
CASES: list[Case] = [
    # Unknown commands and options.
    case("unknown-command", "frobnicate", words="No such command"),
    case("unknown-command-esc", f"frob{ESC}"),
    case("unknown-root-option", "--frob"),
    case("uppercase-command", "CHECK", "198.18.0.1"),
    case("debug-after-command", "check", "--debug", "198.18.0.1", words="before the command"),
    case("check-unknown-option", "check", "--bogus", "198.18.0.1", words="No such option"),
    case("check-unknown-short", "check", "-x", "198.18.0.1"),
    case("check-option-esc", "check", f"--{ESC}", "198.18.0.1"),
    case("trace-unknown-option", "trace", "--bogus", "198.18.0.1"),
    case("check-probe-unknown", "check", "--probe", "sctp", "198.18.0.1", words="--probe"),
    case("check-probe-icmp-port", "check", "--probe", "icmp:22", "198.18.0.1", words="port"),
    case("check-probe-port-zero", "check", "--probe", "tcp:0", "198.18.0.1", words="port"),
    case("check-probe-port-big", "check", "--probe", "udp:70000", "198.18.0.1"),
    case("check-probe-esc", "check", "--probe", f"tcp:{ESC}", "198.18.0.1"),
    case("check-flows-zero", "check", "--flows", "0", "198.18.0.1", words="flows"),
    case("check-flows-huge", "check", "--flows", "100000", "198.18.0.1"),
    case("check-soak-negative", "check", "--soak", "-1", "198.18.0.1", words="probes"),
    case("trace-probe-unknown", "trace", "--probe", "gre", "198.18.0.1"),
    case("nics-unknown-option", "nics", "--bogus"),
    case("sizes-unknown-option", "sizes", "--bogus", "9000"),
    case("demo-unknown-option", "demo", "--bogus"),
    case("demo-extra-argument", "demo", "198.18.0.1"),
    case("report-unknown-option", "report", "--bogus", "x.json"),
    case("mesh-missing-inventory", "mesh", words="Missing argument"),
    case("report-missing-files", "report", words="Missing argument"),
    # check: targets and options that fail before any probe.
    case("check-no-target", "check", words="no targets"),
    case("check-unresolvable", "check", "no-such-host.invalid", words="cannot resolve"),
    case("check-name-esc", "check", f"evil{ESC}.invalid", words="cannot resolve"),
    case("check-name-newline", "check", "evil\nname.invalid", words="cannot resolve"),
    case("check-name-nul-like", "check", "evil\x01\x02.invalid"),
    case("check-name-bidi", "check", "evil\u202egnp.invalid"),
    case("check-name-long", "check", "a" * 5000 + ".invalid"),
    case("check-name-empty", "check", ""),
    case("check-name-dots", "check", ".."),
    case("check-name-idna", "check", "xn--a.invalid" + "\udcff"),
    case("check-4-and-6", "check", "-4", "-6", "198.18.0.1", words="exclude each other"),
    case("check-6-with-v4", "check", "-6", "198.18.0.1", words="IPv4 address but -6"),
    case("check-4-with-v6", "check", "-4", "2001:db8::1", words="IPv6 address but -4"),
    case("check-expect-nan", "check", "--expect", "nan", "198.18.0.1"),
    case("check-expect-inf", "check", "--expect", "inf", "198.18.0.1"),
    case("check-expect-negative", "check", "--expect", "-1", "198.18.0.1", words="impossible"),
    case("check-expect-zero", "check", "--expect", "0", "198.18.0.1", words="impossible"),
    case("check-expect-huge", "check", "--expect", "70000", "198.18.0.1", words="impossible"),
    case("check-expect-absurd", "check", "--expect", LONG, "198.18.0.1"),
    case("check-expect-float", "check", "--expect", "9000.5", "198.18.0.1"),
    case("check-expect-text", "check", "--expect", "jumbo", "198.18.0.1"),
    case("check-expect-esc", "check", "--expect", f"9000{ESC}", "198.18.0.1"),
    case("check-expect-v6-small", "check", "-6", "--expect", "1000", "2001:db8::1"),
    case("check-max-time-nan", "check", "--max-time", "nan", "198.18.0.1", words="not nan"),
    case("check-max-time-inf", "check", "--max-time", "inf", "198.18.0.1", words="not inf"),
    case("check-max-time-neg-inf", "check", "--max-time", "-inf", "198.18.0.1"),
    case("check-max-time-negative", "check", "--max-time", "-5", "198.18.0.1"),
    case("check-max-time-zero", "check", "--max-time", "0", "198.18.0.1"),
    case("check-max-time-tiny", "check", "--max-time", "1e-300", "198.18.0.1"),
    case("check-max-time-absurd", "check", "--max-time", "1e300", "198.18.0.1"),
    case("check-max-time-text", "check", "--max-time", "soon", "198.18.0.1"),
    case("check-max-time-empty", "check", "--max-time", "", "198.18.0.1"),
    case("check-max-time-missing", "check", "198.18.0.1", "--max-time"),
    case("check-format-unknown", "check", "--format", "xml", "198.18.0.1"),
    case("check-format-esc", "check", "--format", ESC, "198.18.0.1"),
    case("check-link-local", "check", "fe80::1", words="fe80::1 is link-local: name the"),
    case("check-link-local-bracket", "check", "[fe80::1]", words="is link-local"),
    case("check-link-local-no-iface", "check", "fe80::1%nosuch0", words="no interface"),
    case("check-link-local-bad-iface", "check", "fe80::1%a/b", words="cannot name"),
    case("check-link-local-esc-iface", "check", f"fe80::1%{ESC}", words="cannot name"),
    case("check-link-local-empty-scope", "check", "fe80::1%", words="cannot name"),
    case("check-link-local-index", "check", "fe80::1%99999", words="no interface number"),
    case("check-global-with-scope", "check", "2001:db8::1%lo", words="only a link-local"),
    # trace: the same options.
    case("trace-no-target", "trace", words="no targets"),
    case("trace-unresolvable", "trace", "no-such-host.invalid"),
    case("trace-max-time-nan", "trace", "--max-time", "nan", "198.18.0.1"),
    case("trace-max-time-inf", "trace", "--max-time", "inf", "198.18.0.1"),
    case("trace-expect-negative", "trace", "--expect", "-9000", "198.18.0.1"),
    case("trace-link-local", "trace", "fe80::1", words="is link-local"),
    case("trace-link-local-no-iface", "trace", "fe80::1%nosuch0", words="no interface"),
    case("trace-name-esc", "trace", f"x{ESC}.invalid"),
    # nics.
    case("nics-expect-nan", "nics", "--expect", "nan"),
    case("nics-expect-negative", "nics", "--expect", "-1"),
    case("nics-expect-huge", "nics", "--expect", "99999999999"),
    case("nics-expect-absurd", "nics", "--expect", LONG),
    case("nics-expect-esc", "nics", "--expect", ESC),
    case("nics-lldp-wait-nan", "nics", "--lldp-wait", "nan", words="--lldp-wait"),
    case("nics-lldp-wait-inf", "nics", "--lldp-wait", "inf"),
    case("nics-lldp-wait-negative", "nics", "--lldp-wait", "-1"),
    case("nics-lldp-wait-absurd", "nics", "--lldp-wait", "1e400"),
    case("nics-lldp-wait-text", "nics", "--lldp-wait", "a while"),
    case("nics-unknown-interface-esc", "nics", "-i", f"eth{ESC}", words="no interface"),
    case("nics-unknown-interface-dotdot", "nics", "-i", "..", words="no interface"),
    # sizes.
    case("sizes-no-value", "sizes", words="give an MTU"),
    case("sizes-nan", "sizes", "nan"),
    case("sizes-inf", "sizes", "inf"),
    case("sizes-negative", "sizes", "--", "-5"),
    case("sizes-zero", "sizes", "0", words="impossible"),
    case("sizes-huge", "sizes", "99999999999999999999999", words="impossible"),
    case("sizes-absurd", "sizes", LONG),
    case("sizes-float", "sizes", "9000.0"),
    case("sizes-esc", "sizes", f"9000{ESC}"),
    case("sizes-from-unknown", "sizes", "--from", "bogus", "9000", words="unknown --from"),
    case("sizes-from-esc", "sizes", "--from", ESC, "9000"),
    case("sizes-from-windows-small", "sizes", "--from", "windows", "10", words="impossible"),
    case("sizes-from-mss-huge", "sizes", "--from", "mss", "99999999", words="impossible"),
    # mesh: options, and bad files given as inventories.
    mesh("mesh-no-such-file", "{d}/nope.yml"),
    mesh("mesh-directory", "{d}"),
    mesh("mesh-binary", "{d}/binary.bin"),
    mesh("mesh-empty", "{d}/empty.yml"),
    mesh("mesh-latin1", "{d}/latin1.yml"),
    mesh("mesh-deep-flow-yaml", "{d}/deep.yml"),
    mesh("mesh-deep-block-yaml", "{d}/deep-block.yml"),
    mesh("mesh-deep-json", "{d}/deep.json"),
    mesh("mesh-alias-bomb", "{d}/bomb.yml"),
    mesh("mesh-networks-list", "{d}/networks-list.yml"),
    mesh("mesh-networks-scalar", "{d}/networks-scalar.yml"),
    mesh("mesh-top-list", "{d}/top-list.yml"),
    mesh("mesh-no-networks", "{d}/no-networks.yml"),
    mesh("mesh-group-dotdot", "{d}/dotdot.yml"),
    mesh("mesh-group-slash", "{d}/slash.yml"),
    mesh("mesh-network-esc", "{d}/esc-network.yml"),
    mesh("mesh-host-newline", "{d}/newline-host.yml"),
    mesh("mesh-host-esc", "{d}/esc-host.yml"),
    mesh("mesh-mtu-nan", "{d}/mtu-nan.yml"),
    mesh("mesh-mtu-inf", "{d}/mtu-inf.yml"),
    mesh("mesh-mtu-huge", "{d}/mtu-huge.yml"),
    mesh("mesh-mtu-text", "{d}/mtu-text.yml"),
    mesh("mesh-mtu-negative", "{d}/mtu-neg.yml"),
    mesh("mesh-mtu-list", "{d}/mtu-list.yml"),
    mesh("mesh-address-bad", "{d}/address-bad.yml"),
    mesh("mesh-address-esc", "{d}/address-esc.yml"),
    mesh("mesh-address-list", "{d}/address-list.yml"),
    mesh("mesh-ssh-semicolon", "{d}/ssh-semicolon.yml"),
    mesh("mesh-ssh-subshell", "{d}/ssh-subshell.yml"),
    mesh("mesh-ssh-option", "{d}/ssh-option.yml"),
    mesh("mesh-ssh-newline", "{d}/ssh-newline.yml"),
    mesh("mesh-user-semicolon", "{d}/user-meta.yml"),
    mesh("mesh-user-option", "{d}/user-option.yml"),
    mesh("mesh-port-text", "{d}/port-text.yml"),
    mesh("mesh-port-huge", "{d}/port-huge.yml"),
    mesh("mesh-port-nan", "{d}/port-nan.yml"),
    mesh("mesh-identity-backticks", "{d}/identity-meta.yml"),
    mesh("mesh-command-newline", "{d}/command-newline.yml"),
    mesh("mesh-hosts-list", "{d}/hosts-list.yml"),
    mesh("mesh-ini-binary", "{d}/ansible-binary.ini"),
    mesh("mesh-ini-unclosed-group", "{d}/ansible-unclosed.ini"),
    mesh("mesh-ini-networks-not-json", "{d}/ansible-networks-bad.ini"),
    mesh("mesh-ini-network-dotdot", "{d}/ansible-networks-dotdot.ini"),
    mesh("mesh-ini-host-semicolon", "{d}/ansible-host-meta.ini"),
    mesh("mesh-ini-user-subshell", "{d}/ansible-user-meta.ini"),
    mesh("mesh-ini-mtu-nan", "{d}/ansible-mtu-nan.ini"),
    mesh("mesh-ansible-yaml-bomb", "{d}/ansible-bomb.yml"),
    mesh("mesh-ansible-all-scalar", "{d}/ansible-all-scalar.yml"),
    mesh("mesh-ansible-hosts-list", "{d}/ansible-hosts-list.yml"),
    mesh("mesh-inventory-format-unknown", "{d}/dotdot.yml", "--inventory-format", "toml"),
    mesh("mesh-inventory-format-esc", "{d}/dotdot.yml", "--inventory-format", ESC),
    mesh("mesh-format-unknown", "{d}/good.yml", "--format", "xml"),
    mesh("mesh-network-unknown", "{d}/good.yml", "--network", f"nosuch{ESC}"),
    mesh("mesh-concurrency-zero", "{d}/good.yml", "--concurrency", "0"),
    mesh("mesh-concurrency-negative", "{d}/good.yml", "--concurrency", "-3"),
    mesh("mesh-concurrency-absurd", "{d}/good.yml", "--concurrency", LONG),
    mesh("mesh-timeout-nan", "{d}/good.yml", "--timeout", "nan"),
    mesh("mesh-probe-unknown", "{d}/good.yml", "--probe", "sctp", words="--probe"),
    mesh("mesh-flows-zero", "{d}/good.yml", "--flows", "0", words="--flows"),
    mesh("mesh-soak-negative", "{d}/good.yml", "--soak", "-5", words="--soak"),
    mesh("mesh-connect-timeout-inf", "{d}/good.yml", "--connect-timeout", "inf"),
    mesh("mesh-compare-missing", "{d}/good.yml", "--compare", "{d}/nope.json"),
    mesh("mesh-compare-binary", "{d}/good.yml", "--compare", "{d}/binary.bin"),
    # report: bad result files, inventories and --compare / --save.
    report("report-no-such-file", "{d}/nope.json"),
    report("report-directory", "{d}"),
    report("report-binary", "{d}/binary.bin"),
    report("report-empty", "{d}/empty.json"),
    report("report-array", "{d}/array.json"),
    report("report-object", "{d}/object.json"),
    report("report-deep-json", "{d}/deep.json"),
    report("report-nan", "{d}/nan.json"),
    report("report-results-ints", "{d}/results-ints.json"),
    report("report-results-esc", "{d}/results-esc.json"),
    # A result file whose host name is odd ("..", control characters) is not
    # refused: report shows it escaped beside the other hosts' results
    # (tests/unit/test_mesh_io.py), so one host's garbage costs no other's.
    report("report-host-list", "{d}/host-list.json"),
    report("report-networks-ints", "{d}/networks-ints.json"),
    report("report-invalid-utf8", "{d}/invalid-utf8.json"),
    report("report-same-host-twice", "{d}/node1.json", "{d}/node1.json"),
    report("report-inventory-bomb", "{d}/node1.json", "-i", "{d}/bomb.yml"),
    report("report-inventory-binary", "{d}/node1.json", "-i", "{d}/binary.bin"),
    report("report-inventory-dotdot", "{d}/node1.json", "-i", "{d}/dotdot.yml"),
    report("report-network-unknown", "{d}/node1.json", "--network", f"x{ESC}"),
    report("report-format-unknown", "{d}/node1.json", "--format", "yaml"),
    report("report-compare-missing", "{d}/node1.json", "--compare", "{d}/nope.json"),
    report("report-compare-binary", "{d}/node1.json", "--compare", "{d}/binary.bin"),
    report("report-compare-deep", "{d}/node1.json", "--compare", "{d}/deep.json"),
    report("report-compare-cells-ints", "{d}/node1.json", "--compare", "{d}/cells.json"),
    report("report-compare-cells-esc", "{d}/node1.json", "--compare", "{d}/cells-esc.json"),
    report("report-compare-schema-2", "{d}/node1.json", "--compare", "{d}/compare-schema2.json"),
    report(
        "report-compare-networks-str",
        "{d}/node1.json",
        "--compare",
        "{d}/compare-networks-str.json",
    ),
    report("report-compare-mtu-nan", "{d}/node1.json", "--compare", "{d}/compare-mtu-nan.json"),
    report("report-compare-check-result", "{d}/node1.json", "--compare", "{d}/node1.json"),
    report("report-save-to-directory", "{d}/node1.json", "--save", "{d}"),
    report("report-save-no-folder", "{d}/node1.json", "--save", "{d}/no/such/folder/x.json"),
]


def test_the_table_is_large_and_distinct() -> None:
    assert len(CASES) >= 100
    assert len({c.id for c in CASES}) == len(CASES)
    assert len({c.args for c in CASES}) == len(CASES)


# --------------------------------------------------------------------------
# Running the table


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bad-inputs")
    for name, content in FILES.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    (folder / "node1.json").write_text(_check_result(), encoding="utf-8")
    (folder / "good.yml").write_text(
        "hosts:\n  a: {ssh: a.invalid}\n  b: {ssh: b.invalid}\n" + _net(), encoding="utf-8"
    )
    return folder


@dataclass(frozen=True)
class Outcome:
    """How one run ended."""

    code: int
    stdout: str
    stderr: str


def _argv(c: Case, folder: Path) -> list[str]:
    return [a.replace("{d}", str(folder)) for a in c.args]


def _in_process(
    c: Case, folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Outcome:
    """The console entry point itself (``jumbopath.cli.main``), without a new interpreter."""
    from jumbopath.cli import main

    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.setenv("COLUMNS", "200")
    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped:
        main(_argv(c, folder))
    out, err = capsys.readouterr()
    code = stopped.value.code
    return Outcome(code if isinstance(code, int) else -1, out, err)


def _subprocess(c: Case, folder: Path) -> Outcome:
    """``python -m jumbopath ...``: the installed command's way in."""
    env = {**os.environ, "HOME": str(folder), "COLUMNS": "200"}
    done = subprocess.run(
        [*JP, *_argv(c, folder)],
        capture_output=True,
        text=True,
        errors="surrogateescape",
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def _assert_one_safe_line(c: Case, done: Outcome) -> None:
    everything = done.stdout + done.stderr
    assert "Traceback" not in everything, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith("jumbopath: error: "), lines[0]
    assert done.code == c.code, lines[0]
    assert not RAW_CONTROL.search(everything), ascii(everything[-500:])
    assert len(lines[0]) < 2000
    if c.words:
        assert c.words in lines[0]


@pytest.mark.parametrize("c", [pytest.param(c, id=c.id) for c in CASES])
def test_bad_input_is_one_safe_line_and_its_exit_code(
    c: Case, data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _assert_one_safe_line(c, _in_process(c, data_dir, capsys, monkeypatch))


#: A sample of the table run through ``python -m jumbopath``: the same answers
#: from a fresh interpreter, as scripts and monitoring see them.
THROUGH_THE_COMMAND = (
    "unknown-command-esc",
    "check-name-esc",
    "check-max-time-nan",
    "check-link-local",
    "nics-lldp-wait-inf",
    "sizes-absurd",
    "mesh-host-esc",
    "report-compare-cells-ints",
)


@pytest.fixture(scope="module")
def command_outcomes(data_dir: Path) -> dict[str, Outcome]:
    chosen = [c for c in CASES if c.id in THROUGH_THE_COMMAND]
    # A few at a time: each is a fresh interpreter (a few tenths of a second).
    with ThreadPoolExecutor(max_workers=4) as pool:
        ran = pool.map(lambda c: _subprocess(c, data_dir), chosen)
        return {c.id: outcome for c, outcome in zip(chosen, ran, strict=True)}


@pytest.mark.parametrize("case_id", THROUGH_THE_COMMAND)
def test_the_command_itself_answers_the_same(
    case_id: str, command_outcomes: dict[str, Outcome]
) -> None:
    [c] = [c for c in CASES if c.id == case_id]
    _assert_one_safe_line(c, command_outcomes[case_id])
