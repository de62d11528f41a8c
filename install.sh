#!/usr/bin/env bash
# Install jumbopath and everything it needs on Debian (or Ubuntu), as root.
#
#   sudo ./install.sh --demo   install, then run the built-in demo lab
#   sudo ./install.sh --test   install with the test tools, then run the whole test suite
#   sudo ./install.sh          install only
#
# The package goes into a virtual environment in .venv beside this script,
# and /usr/local/bin/jumbopath points at it.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

mode="${1:-}"
case "$mode" in ""|--demo|--test) ;; *) echo "usage: $0 [--demo|--test]" >&2; exit 2 ;; esac
if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo ./install.sh $mode): it installs Debian packages" >&2
  exit 3
fi

# Debian packages: the command each provides, so present ones are skipped.
base=(
  "python3:python3" "python3-venv:-" "python3-pip:-"
  "ip:iproute2" "nft:nftables" "ping:iputils-ping" "tracepath:iputils-tracepath"
)
test_tools=(
  "sshd:openssh-server" "ssh:openssh-client" "lldpd:lldpd" "scamper:scamper"
  "tcpdump:tcpdump" "setpriv:util-linux" "chromium:chromium"
  "snmpd:snmpd" "snmpbulkwalk:snmp"
)
wanted=("${base[@]}")
[ "$mode" = "--test" ] && wanted+=("${test_tools[@]}")

missing=()
for entry in "${wanted[@]}"; do
  cmd="${entry%%:*}"; pkg="${entry#*:}"
  if [ "$pkg" = "-" ]; then pkg="$cmd"; cmd=""; fi
  case "$cmd" in
    "") /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=("$pkg") ;;
    sshd) [ -x /usr/sbin/sshd ] || missing+=("$pkg") ;;
    lldpd) [ -x /usr/sbin/lldpd ] || missing+=("$pkg") ;;
    snmpd) [ -x /usr/sbin/snmpd ] || missing+=("$pkg") ;;
    python3) [ -x /usr/bin/python3 ] || missing+=("$pkg") ;;
    *) command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg") ;;
  esac
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install.sh: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Services from these packages are not needed on the host itself: the
  # tests start their own sshd and lldpd inside namespaces.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The venv is built on the system's Python (Debian's python3 package), never on
# whatever python3 comes first on root's PATH: a pyenv or conda Python under
# /root (mode 700) would make /usr/local/bin/jumbopath fail for every other
# user with "bad interpreter", and jumbopath runs unprivileged too.
PY=/usr/bin/python3
if [ ! -x "$PY" ]; then
  echo "install.sh: $PY is missing: apt-get install python3 python3-venv" >&2
  exit 3
fi
if [ -f .venv/pyvenv.cfg ] && ! grep -qE '^home = /usr/bin/?$' .venv/pyvenv.cfg; then
  echo "install.sh: .venv was built on another Python; rebuilding it on $PY"
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
extras=""
[ "$mode" = "--test" ] && extras="[test]"
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
ln -sf "$PWD/.venv/bin/jumbopath" /usr/local/bin/jumbopath
echo "install.sh: jumbopath installed: /usr/local/bin/jumbopath -> $PWD/.venv/bin/jumbopath"

case "$mode" in
  --demo) exec /usr/local/bin/jumbopath demo ;;
  --test)
    log=$(mktemp)
    set +e
    .venv/bin/python -m pytest -q -rs -p no:cacheprovider tests 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    set -e
    # Every test must run. The one exception: a lab test that needs a kernel
    # feature this kernel was built without (it says "kernel lacks ...").
    if [ "$status" -eq 0 ] && grep -E '^SKIPPED' "$log" | grep -vq 'kernel lacks'; then
      echo "install.sh: some tests were skipped; every lab test must run (as root, with namespaces)" >&2
      status=1
    fi
    rm -f "$log"
    exit "$status"
    ;;
esac
