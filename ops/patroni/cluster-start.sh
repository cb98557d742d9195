#!/usr/bin/env bash
# Starts a lab cluster on loopback: one etcd member and HA_NODES (2 or 3)
# PostgreSQL 15 nodes managed by Patroni, all from Debian's packages (installed
# here when missing), under one directory. Prints that directory on its last
# line; its cluster.env holds DATABASE_URL (multi-host, read-write) for Tresor.
#
#   HA_NODES=3        2 or 3 nodes
#   HA_SYNC=on        synchronous replication (off: asynchronous)
#   HA_PORT_BASE=55400  PostgreSQL on base+N, Patroni REST on base+10+N, etcd on base+20/21
#   HA_DIR=…          cluster directory (default: a new one under /tmp)
#   HA_NETNS=off      on: each node in a network namespace of its own with an
#                     address on a bridge (HA_SUBNET, default 10.77.<n>.0/24 from
#                     the port base), so `node.sh cut N` can partition it
#
# Stop with: HA_DIR=<dir> ops/patroni/cluster-stop.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "run as root: it installs packages and runs Patroni as the postgres user"

install_missing() {
  local missing=()
  command -v patroni >/dev/null || missing+=(patroni)
  [ -x /usr/bin/etcd ] || missing+=(etcd-server)
  [ -x "$PG_BIN/postgres" ] || missing+=(postgresql-15)
  command -v curl >/dev/null || missing+=(curl)
  [ "${HA_NETNS:-off}" = on ] && ! command -v ip >/dev/null && missing+=(iproute2)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]} (Debian packages)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_missing

HA_NODES="${HA_NODES:-3}"
[[ "$HA_NODES" =~ ^[23]$ ]] || die "HA_NODES must be 2 or 3"
case "${HA_SYNC:-on}" in on) sync=true ;; off) sync=false ;; *) die "HA_SYNC must be on or off" ;; esac
base="${HA_PORT_BASE:-55400}"
case "${HA_NETNS:-off}" in
  off) subnet="" prefix="" ;;
  on)
    subnet="${HA_SUBNET:-10.77.$(((base / 100) % 250 + 1))}"
    [[ "$subnet" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "HA_SUBNET must be three octets, e.g. 10.77.3"
    prefix="trha${subnet##*.}"
    ip link show "${prefix}br" >/dev/null 2>&1 && die "bridge ${prefix}br exists: another cluster uses $subnet.0/24"
    ip -4 addr show | grep -q " $subnet\." && die "$subnet.0/24 is in use on this machine; choose HA_SUBNET"
    ;;
  *) die "HA_NETNS must be on or off" ;;
esac

if [ -z "${HA_DIR:-}" ]; then HA_DIR="$(mktemp -d /tmp/tresor-ha.XXXXXX)"; fi
mkdir -p "$HA_DIR"
[ -f "$HA_DIR/cluster.env" ] && die "$HA_DIR already holds a cluster; stop it first or choose another HA_DIR"
chmod 711 "$HA_DIR" # postgres must traverse it to reach its node directories

secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
hosts=""
for n in $(seq 1 "$HA_NODES"); do
  addr=127.0.0.1; [ -n "$subnet" ] && addr="$subnet.$n"
  hosts="$hosts${hosts:+,}$addr:$((base + n))"
done
su_pw="$(secret)"
umask 077
cat >"$HA_DIR/cluster.env" <<ENV
HA_DIR=$HA_DIR
HA_NODES=$HA_NODES
HA_SYNC_BOOL=$sync
HA_PORT_BASE=$base
HA_SUBNET=$subnet
HA_NS_PREFIX=$prefix
ETCD_PORT=$((base + 20))
ETCD_PEER_PORT=$((base + 21))
HA_SUPERUSER_PASSWORD=$su_pw
HA_REPLICATION_PASSWORD=$(secret)
DATABASE_URL=postgres://postgres:$su_pw@$hosts/tresor?target_session_attrs=read-write
ENV
umask 022
load_cluster

# A start that fails half-way stops what it started (the logs stay in HA_DIR).
stop_on_failure() {
  local rc=$?
  [ "$rc" = 0 ] && return 0
  echo "cluster start failed; stopping what started (logs in $HA_DIR)" >&2
  for n in $(seq "$HA_NODES" -1 1); do stop_node "$n" || true; done
  stop_etcd || true
  net_teardown
  exit "$rc"
}
trap stop_on_failure EXIT

net_setup
start_etcd
for n in $(seq 1 "$HA_NODES"); do write_node_config "$n"; done
# node1 first, so it bootstraps (initdb) and the others clone from it.
start_node 1
for _ in $(seq 1 120); do [ "$(leader_name)" = node1 ] && break; sleep 0.5; done
[ "$(leader_name)" = node1 ] || die "node1 did not become leader; see $HA_DIR/node1/patroni.log"
for n in $(seq 2 "$HA_NODES"); do start_node "$n"; done

# Tresor's database, created on the leader through its unix socket.
runuser -u postgres -- "$PG_BIN/psql" -h "$HA_DIR/node1" -p "$(pg_port 1)" -d postgres -qAtc \
  "select 1 from pg_database where datname = 'tresor'" | grep -q 1 \
  || runuser -u postgres -- "$PG_BIN/createdb" -h "$HA_DIR/node1" -p "$(pg_port 1)" tresor

# Ready when every replica streams (and, in synchronous mode, one is synchronous).
want=$((HA_NODES - 1))
for _ in $(seq 1 240); do
  streaming="$(runuser -u postgres -- "$PG_BIN/psql" -h "$HA_DIR/node1" -p "$(pg_port 1)" -d postgres -qAtc \
    "select count(*) filter (where state = 'streaming'), count(*) filter (where sync_state = 'sync') from pg_stat_replication")"
  s="${streaming%%|*}"; y="${streaming##*|}"
  if [ "$s" = "$want" ] && { [ "$sync" = false ] || [ "$y" -ge 1 ]; }; then
    echo "cluster up: $HA_NODES nodes, synchronous_mode=$sync, leader node1; DATABASE_URL in $HA_DIR/cluster.env" >&2
    echo "$HA_DIR"
    exit 0
  fi
  sleep 0.5
done
die "replicas did not start streaming; see $HA_DIR/node*/patroni.log"
