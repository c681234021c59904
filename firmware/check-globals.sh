#!/bin/sh
# check-globals.sh NM ARCHIVE... - fail when a firmware object defines a
# writable symbol (.data, .bss, common, small data). Firmware state lives
# in the module context: 84 modules share one rig process, and the target
# holds exactly one. Constant tables are fine (.rodata).
nm="$1"
shift
# Symbols the sanitizers and coverage instrumentation add (their source
# locations and counters) are the toolchain's, not ours.
bad=$("$nm" -A --defined-only "$@" 2>/dev/null |
    awk 'NF >= 3 && $(NF-1) ~ /^[dDbBCgGsS]$/ && $NF !~ /^(__unnamed_|__asan|__ubsan|__sancov|__odr_asan|__profc_|__profd_|\.L)/ { print $1, $NF }')
if [ -n "$bad" ]; then
    echo "error: writable global state in firmware objects (put it in the module context):" >&2
    echo "$bad" | sed 's/^/  /' >&2
    exit 1
fi
exit 0
