#!/usr/bin/env bash
# Stops every Patroni, PostgreSQL and etcd process of the cluster in HA_DIR,
# removes its network namespaces and bridge (HA_NETNS=on) and the directory (HA_KEEP=1 keeps it, e.g. to read the logs).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
load_cluster
for n in $(seq "$HA_NODES" -1 1); do stop_node "$n"; done
stop_etcd
net_teardown
if [ -z "${HA_KEEP:-}" ]; then
  case "$HA_DIR" in /tmp/*) rm -rf "$HA_DIR" ;; *) echo "kept $HA_DIR (not under /tmp)" >&2 ;; esac
fi
