# Shared by cluster-start.sh, cluster-stop.sh and node.sh (sourced, not run).
# Layout of a cluster directory ($HA_DIR):
#   cluster.env            ports, passwords, DATABASE_URL (mode 0600)
#   etcd/                  etcd data, etcd.pid, etcd.log
#   nodeN/                 node.yml, data/, patroni.pid, patroni.log
# With HA_NETNS=on (cluster-start.sh) each node runs in a network namespace of
# its own (HA_NS_PREFIX + N) with address HA_SUBNET.N on a bridge in the root
# namespace, where etcd listens on HA_SUBNET.254: `node.sh cut N` then takes a
# node off the network while it keeps running.
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() { echo "$*" >&2; exit 1; }

load_cluster() {
  [ -n "${HA_DIR:-}" ] || die "HA_DIR is not set (the directory cluster-start.sh printed)"
  [ -f "$HA_DIR/cluster.env" ] || die "$HA_DIR/cluster.env not found: not a cluster directory"
  # shellcheck disable=SC1091
  . "$HA_DIR/cluster.env"
}

pg_port() { echo $((HA_PORT_BASE + $1)); }
api_port() { echo $((HA_PORT_BASE + 10 + $1)); }

# Addresses: loopback, or the node's own address on the cluster's bridge.
netns_on() { [ -n "${HA_SUBNET:-}" ]; }
node_addr() { if netns_on; then echo "$HA_SUBNET.$1"; else echo 127.0.0.1; fi; }
etcd_addr() { if netns_on; then echo "$HA_SUBNET.254"; else echo 127.0.0.1; fi; }
node_ns() { if netns_on; then echo "${HA_NS_PREFIX}n$1"; fi; }
host_veth() { echo "${HA_NS_PREFIX}v$1"; }
bridge() { echo "${HA_NS_PREFIX}br"; }
# Runs a command inside node N's namespace (as is, on loopback).
in_node() {
  local ns; ns="$(node_ns "$1")"; shift
  if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

# Runs a command detached (own session, survives the calling shell) as the
# postgres user. Patroni refuses to run PostgreSQL as root. The process writes
# its own pid before it execs the command: $! would be runuser's, and a signal
# to runuser does not reach the command.
# SPAWN_NS names a network namespace to run it in.
spawn_as_postgres() {
  local pidfile="$1" log="$2" prefix=(); shift 2
  [ -n "${SPAWN_NS:-}" ] && prefix=(ip netns exec "$SPAWN_NS")
  rm -f "$pidfile"
  "${prefix[@]}" runuser -u postgres -- setsid sh -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >>"$log" 2>&1 </dev/null &
  for _ in $(seq 1 50); do [ -s "$pidfile" ] && return 0; sleep 0.1; done
  die "$1 did not start; see $log"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# The postmaster's pid is the first line of postmaster.pid while it runs.
postmaster_pid() {
  local f="$HA_DIR/node$1/data/postmaster.pid"
  [ -f "$f" ] && head -1 "$f"
}

start_etcd() {
  local dir="$HA_DIR/etcd"
  mkdir -p "$dir" && chown postgres:postgres "$dir" && chmod 700 "$dir"
  alive "$dir/etcd.pid" && return 0
  # One etcd member: enough for a lab on one machine. In production run three
  # members on three machines (--initial-cluster lists all three), so losing
  # one keeps a quorum.
  local client="http://$(etcd_addr):$ETCD_PORT"
  netns_on && client="http://127.0.0.1:$ETCD_PORT,$client"
  spawn_as_postgres "$dir/etcd.pid" "$dir/etcd.log" /usr/bin/etcd \
    --name tresor-etcd --data-dir "$dir/data" \
    --listen-client-urls "$client" --advertise-client-urls "http://$(etcd_addr):$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "tresor-etcd=http://127.0.0.1:$ETCD_PEER_PORT" \
    --enable-v2=true --log-level warn
  for _ in $(seq 1 50); do
    curl -fsS "http://127.0.0.1:$ETCD_PORT/health" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "etcd did not answer on port $ETCD_PORT; see $dir/etcd.log"
}

write_node_config() {
  local n="$1" dir="$HA_DIR/node$1"
  mkdir -p "$dir" && chown postgres:postgres "$dir" && chmod 700 "$dir"
  local net=127.0.0.1/32
  netns_on && net="$HA_SUBNET.0/24"
  sed -e "s|@NAME@|node$n|g" -e "s|@API_PORT@|$(api_port "$n")|g" -e "s|@PG_PORT@|$(pg_port "$n")|g" \
      -e "s|@ADDR@|$(node_addr "$n")|g" -e "s|@NET@|$net|g" \
      -e "s|@DIR@|$dir|g" -e "s|@ETCD_HOSTS@|$(etcd_addr):$ETCD_PORT|g" -e "s|@SYNC@|$HA_SYNC_BOOL|g" \
      -e "s|@SUPERUSER_PASSWORD@|$HA_SUPERUSER_PASSWORD|g" -e "s|@REPLICATION_PASSWORD@|$HA_REPLICATION_PASSWORD|g" \
      "$HERE/node.yml.in" >"$dir/node.yml"
  chown postgres:postgres "$dir/node.yml" && chmod 600 "$dir/node.yml"
}

start_node() {
  local dir="$HA_DIR/node$1"
  alive "$dir/patroni.pid" && return 0
  SPAWN_NS="$(node_ns "$1")" spawn_as_postgres "$dir/patroni.pid" "$dir/patroni.log" /usr/bin/patroni "$dir/node.yml"
}

# kill -9 of Patroni and of its PostgreSQL: the node is gone as if its machine
# had lost power (Patroni alone killed would leave a primary nobody manages).
kill9_node() {
  local dir="$HA_DIR/node$1" pm
  pm="$(postmaster_pid "$1" || true)"
  [ -f "$dir/patroni.pid" ] && kill -9 "$(cat "$dir/patroni.pid")" 2>/dev/null || true
  [ -n "$pm" ] && kill -9 "$pm" 2>/dev/null || true
  # Backends exit once they notice their postmaster is gone.
  for _ in $(seq 1 50); do
    [ -n "$pm" ] && pgrep -P "$pm" >/dev/null 2>&1 || break
    sleep 0.1
  done
}

stop_node() {
  local dir="$HA_DIR/node$1" pid pm
  pm="$(postmaster_pid "$1" || true)"
  if alive "$dir/patroni.pid"; then
    pid="$(cat "$dir/patroni.pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  # Patroni stops PostgreSQL on SIGTERM; a postmaster left behind (Patroni
  # killed earlier) is stopped here.
  if [ -n "$pm" ] && kill -0 "$pm" 2>/dev/null; then
    kill -INT "$pm" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pm" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pm" 2>/dev/null || true
  fi
  rm -f "$dir/patroni.pid"
}

stop_etcd() {
  local f="$HA_DIR/etcd/etcd.pid"
  if alive "$f"; then
    kill -TERM "$(cat "$f")" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$f" || break; sleep 0.1; done
    alive "$f" && kill -9 "$(cat "$f")" 2>/dev/null || true
  fi
  rm -f "$f"
}

# The node name Patroni's REST API reports as leader, or nothing.
leader_name() {
  python3 - "$HA_NODES" "$HA_PORT_BASE" "${HA_SUBNET:-}" <<'PY'
import json, sys, urllib.request
nodes, base, subnet = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for n in range(1, nodes + 1):
    addr = f"{subnet}.{n}" if subnet else "127.0.0.1"
    try:
        with urllib.request.urlopen(f"http://{addr}:{base + 10 + n}/cluster", timeout=2) as r:
            members = json.load(r)["members"]
    except Exception:
        continue
    print(next((m["name"] for m in members if m["role"] == "leader"), ""))
    break
PY
}

# The bridge (etcd's side, HA_SUBNET.254) and, per node, a namespace joined to
# it by a veth pair: HA_SUBNET.N on the namespace's eth0.
net_setup() {
  netns_on || return 0
  ip link add "$(bridge)" type bridge
  ip addr add "$(etcd_addr)/24" dev "$(bridge)"
  ip link set "$(bridge)" up
  for n in $(seq 1 "$HA_NODES"); do
    ip netns add "$(node_ns "$n")"
    ip link add "$(host_veth "$n")" type veth peer name eth0 netns "$(node_ns "$n")"
    ip link set "$(host_veth "$n")" master "$(bridge)" up
    ip -n "$(node_ns "$n")" addr add "$(node_addr "$n")/24" dev eth0
    ip -n "$(node_ns "$n")" link set eth0 up
    ip -n "$(node_ns "$n")" link set lo up
  done
}

net_teardown() {
  netns_on || return 0
  for n in $(seq 1 "$HA_NODES"); do
    ip link del "$(host_veth "$n")" 2>/dev/null || true
    ip netns del "$(node_ns "$n")" 2>/dev/null || true
  done
  ip link del "$(bridge)" 2>/dev/null || true
}

# Can this side open a TCP connection to addr:port within 2 s?
tcp_reaches() { timeout 2 bash -c ": </dev/tcp/$1/$2" 2>/dev/null; }

# Takes node N off the network: its end of the bridge goes down, so nothing
# passes either way (packets are dropped, not refused; established connections
# hang as on a pulled cable) while Patroni and PostgreSQL keep running. Checked
# from both sides before it returns.
cut_node() {
  netns_on || die "cut needs a cluster started with HA_NETNS=on"
  ip link set "$(host_veth "$1")" down
  ! tcp_reaches "$(node_addr "$1")" "$(pg_port "$1")" || die "node$1 still reachable from the root namespace after the cut"
  ! in_node "$1" bash -c "$(declare -f tcp_reaches); tcp_reaches $(etcd_addr) $ETCD_PORT" \
    || die "node$1 still reaches etcd after the cut"
}

heal_node() {
  netns_on || die "heal needs a cluster started with HA_NETNS=on"
  ip link set "$(host_veth "$1")" up
  for _ in $(seq 1 50); do tcp_reaches "$(node_addr "$1")" "$(api_port "$1")" && return 0; sleep 0.2; done
  die "node$1 not reachable again after healing"
}

# A query on node N's own PostgreSQL, from inside its namespace (so it works
# while the node is cut off).
node_sql() {
  in_node "$1" env PGPASSWORD="$HA_SUPERUSER_PASSWORD" PGCONNECT_TIMEOUT=3 \
    "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$(node_addr "$1")" -p "$(pg_port "$1")" -U postgres -d "${3:-tresor}" -c "$2"
}
