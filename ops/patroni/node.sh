#!/usr/bin/env bash
# Acts on one member of the cluster in HA_DIR (for drills and test:ha):
#   node.sh start N | stop N | kill9 N      a PostgreSQL node (Patroni + PostgreSQL)
#   node.sh etcd-start | etcd-stop          the etcd member
#   node.sh leader                          prints the current leader's name
#   node.sh cut N | heal N                  takes node N off the network and back
#                                           (clusters started with HA_NETNS=on)
#   node.sh sql N QUERY                     runs QUERY on node N's PostgreSQL from
#                                           inside its namespace (works while cut)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
load_cluster
case "${1:-}" in
  start) start_node "${2:?node number}" ;;
  stop) stop_node "${2:?node number}" ;;
  kill9) kill9_node "${2:?node number}" ;;
  etcd-start) start_etcd ;;
  etcd-stop) stop_etcd ;;
  leader) leader_name ;;
  cut) cut_node "${2:?node number}" ;;
  heal) heal_node "${2:?node number}" ;;
  sql) node_sql "${2:?node number}" "${3:?query}" ;;
  *) die "usage: node.sh start|stop|kill9|cut|heal N | sql N QUERY | etcd-start | etcd-stop | leader" ;;
esac
