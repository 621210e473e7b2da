# Database engines for CI and local runs, sourced by .ci/run (and usable by hand: `source .ci/engines.sh`).
# Both are built from their registries once and cached under CRM_CI_CACHE (default ~/.cache/crm-ci):
# - SecantusDB: MongoDB's wire protocol over WiredTiger, a single-node replica set (transactions, change
#   streams, TTL, configureFailPoint, mongod's strict handshake). A GPL test dependency, never shipped.
# - FerretDB 1.24.2 on SQLite: the portable subset (no transactions, no change streams, no TTL).
# Each start_* function sets ENGINE_URI to the engine's MongoDB URI; stop_engines stops whatever was started.

SECANTUS_VERSION=0.5.3-beta.196
FERRETDB_VERSION=v1.24.2
CACHE_DIR="${CRM_CI_CACHE:-$HOME/.cache/crm-ci}"
SECANTUS_BIN="$CACHE_DIR/secantus-$SECANTUS_VERSION/bin/secantusd-rs"
FERRETDB_BIN="$CACHE_DIR/ferretdb-$FERRETDB_VERSION"
ENGINES_DIR="${ENGINES_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/crm-engines.XXXXXX")}"
ENGINE_PIDS=()
ENGINE_URI=""
ENGINE_LOG=""

ensure_secantus() {
  if [[ -x "$SECANTUS_BIN" ]] && "$SECANTUS_BIN" --version >/dev/null 2>&1; then
    echo "reusing $SECANTUS_BIN"
    return
  fi
  command -v cargo >/dev/null || { echo "cargo is needed to build SecantusDB" >&2; return 1; }
  # The crate asks for a newer Rust than some machines have; the toolchain here builds it all the same.
  # Needs CMake and a C compiler (WiredTiger). About 18 minutes on 2 cores, once per machine.
  echo "building SecantusDB $SECANTUS_VERSION (cached afterwards)"
  cargo install secantus-mdb --version "$SECANTUS_VERSION" --locked --ignore-rust-version --quiet \
    --root "$CACHE_DIR/secantus-$SECANTUS_VERSION.tmp"
  rm -rf "$CACHE_DIR/secantus-$SECANTUS_VERSION"
  mv "$CACHE_DIR/secantus-$SECANTUS_VERSION.tmp" "$CACHE_DIR/secantus-$SECANTUS_VERSION"
}

ensure_ferretdb() {
  if [[ -x "$FERRETDB_BIN" ]] && "$FERRETDB_BIN" --version >/dev/null 2>&1; then
    echo "reusing $FERRETDB_BIN"
    return
  fi
  # `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds, but the binary panics at start:
  # the module zip lacks the generated build/version/version.txt. So build the same module, fetched from
  # the Go module proxy, with that one file written in.
  command -v go >/dev/null || { echo "Go is needed to build FerretDB" >&2; return 1; }
  echo "building FerretDB $FERRETDB_VERSION (cached afterwards)"
  local module_dir src
  module_dir=$(cd "$ENGINES_DIR" && go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).Dir))')
  src="$ENGINES_DIR/ferretdb-src"
  cp -r "$module_dir" "$src"
  chmod -R u+w "$src"
  echo "$FERRETDB_VERSION" > "$src/build/version/version.txt"
  mkdir -p "$CACHE_DIR"
  (cd "$src" && GOFLAGS=-mod=mod go build -trimpath -o "$FERRETDB_BIN.tmp" ./cmd/ferretdb)
  mv "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
  rm -rf "$src"
}

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# wait_for_uri URI PID LOG: until the server answers a ping (with the driver's full handshake).
wait_for_uri() {
  local uri=$1 pid=$2 log=$3
  for _ in $(seq 1 150); do
    if MONGODB_URI="$uri" node -e 'require("mongodb").MongoClient.connect(process.env.MONGODB_URI,{serverSelectionTimeoutMS:500,directConnection:true}).then(c=>c.db("admin").command({ping:1}).then(()=>c.close())).then(()=>process.exit(0),()=>process.exit(1))' 2>/dev/null; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "the database exited" >&2; return 1; }
    sleep 0.2
  done
  cat "$log" >&2
  echo "the database did not answer in 30 s" >&2
  return 1
}

# start_secantus [--standalone]: a fresh store in a temporary folder, 512 MB of cache, test commands on
# (configureFailPoint), and a TTL monitor that runs every second so expiry is testable.
start_secantus() {
  local port dir
  port=$(free_port)
  dir="$ENGINES_DIR/secantus-$port"
  mkdir -p "$dir/data"
  printf '[storage]\nttl_sweep_seconds = 1.0\n' > "$dir/secantusd.toml"
  "$SECANTUS_BIN" --config "$dir/secantusd.toml" --host 127.0.0.1 --port "$port" --storage-path "$dir/data" \
    --cache-size 512M --log-level WARNING --enable-test-commands "$@" > "$dir/server.log" 2>&1 &
  ENGINE_PIDS+=($!)
  wait_for_uri "mongodb://127.0.0.1:$port/" "$!" "$dir/server.log" || return 1
  ENGINE_URI="mongodb://127.0.0.1:$port/"
  ENGINE_LOG="$dir/server.log"
}

start_ferretdb() {
  local port dir
  port=$(free_port)
  dir="$ENGINES_DIR/ferretdb-$port"
  mkdir -p "$dir/data" "$dir/state"
  # busy_timeout: a write waits up to 60 s for SQLite's single write lock instead of failing after FerretDB's
  # default 10 s (README, "Database engines").
  "$FERRETDB_BIN" --handler=sqlite --sqlite-url="file:$dir/data/?_pragma=busy_timeout(60000)" --state-dir="$dir/state" \
    --listen-addr="127.0.0.1:$port" --debug-addr=127.0.0.1:0 --telemetry=disable --log-level=warn \
    > "$dir/server.log" 2>&1 &
  ENGINE_PIDS+=($!)
  wait_for_uri "mongodb://127.0.0.1:$port/" "$!" "$dir/server.log" || return 1
  ENGINE_URI="mongodb://127.0.0.1:$port/"
  ENGINE_LOG="$dir/server.log"
}

stop_engines() {
  local pid
  for pid in "${ENGINE_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  ENGINE_PIDS=()
  rm -rf "$ENGINES_DIR"
}
