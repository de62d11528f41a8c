#!/bin/sh
# Monitoring check (Nagios/Icinga plugin conventions) for the local side of
# jumbo frames: every interface at the expected MTU, bridges and bonds
# consistent, and no LLDP neighbour with too small a maximum frame size.
#
#   nics-monitor.sh [EXPECTED_MTU]     (default 9000)
#
# Exit: 0 OK, 2 CRITICAL (a problem was found), 3 UNKNOWN (could not run).
# Needs python3 for reading the JSON; LLDP comes from lldpd when it runs.

expect="${1:-9000}"
out="$(jumbopath nics --json --expect "$expect" 2>&1)"
status=$?

case "$status" in
  0) echo "OK - every interface carries MTU $expect"; exit 0 ;;
  1) printf '%s' "$out" | python3 -c '
import json, sys
problems = json.load(sys.stdin)["problems"]
print(f"CRITICAL - {len(problems)} problem(s): " + "; ".join(p["message"] for p in problems))
for p in problems:
    print("  fix: " + p["fix"])
'
     exit 2 ;;
  *) echo "UNKNOWN - jumbopath nics: $out"; exit 3 ;;
esac
