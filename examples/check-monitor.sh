#!/bin/sh
# Monitoring check (Nagios/Icinga plugin conventions) for jumbo frames on
# the paths to a list of peers, e.g. from cron or a monitoring agent:
#
#   check-monitor.sh 9000 storage-a storage-b 198.18.2.1
#
# Exit: 0 OK, 2 CRITICAL (a path below the MTU or unreachable), 3 UNKNOWN.
# Needs root (raw sockets) and python3 to read the JSON.

expect="$1"; shift
out="$(jumbopath check --json --expect "$expect" "$@" 2>&1)"
status=$?

case "$status" in
  0) echo "OK - $# path(s) carry MTU $expect"; exit 0 ;;
  1) printf '%s' "$out" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
bad = [r for r in doc["results"] if r["status"] != "ok"]
words = ["%s %s (path MTU %s)" % (r["target"], r["status"], r["path_mtu"]) for r in bad]
print("CRITICAL - %d path(s) below %s: %s" % (len(bad), doc["expected_mtu"], "; ".join(words)))
for r in bad:
    if r.get("break"):
        print("  " + r["break"]["explanation"])
'
     exit 2 ;;
  *) echo "UNKNOWN - jumbopath check: $out"; exit 3 ;;
esac
