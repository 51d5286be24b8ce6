# A throw-away PostgreSQL server for the test suite's postgres project. Source it from bash:
#
#   source .ci/postgres.sh && npm test
#
# It installs Debian's postgresql package when initdb/pg_ctl are missing (as root), creates a
# cluster in a fresh temporary directory owned by the non-root `postgres` user, starts it on a
# free port (unix socket in that directory, trust auth on 127.0.0.1 only, durability off: the data
# is thrown away), creates the superuser role `flowdeck`, and exports
#   FLOWDECK_TEST_PG_URL=postgres://flowdeck@127.0.0.1:<port>/postgres
# An EXIT trap stops the server and removes the directory. Nothing here waits for input.

flowdeck_pg_bindir() {
  local dir
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    # Follow symlinks to the real bin directory, which also holds psql and pg_isready.
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return 0
  fi
  # Debian keeps the server binaries off PATH, one directory per major version: take the newest.
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5nr); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

flowdeck_pg_as_owner() {
  # The server refuses to run as root; as any other user it runs as that user.
  if [ "$(id -u)" = 0 ]; then
    # From a directory the postgres user can read (the caller's may be private to root).
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

flowdeck_pg_free_port() {
  node -e "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();})"
}

flowdeck_pg_stop() {
  if [ -n "${FLOWDECK_PG_DIR:-}" ] && [ -d "$FLOWDECK_PG_DIR" ]; then
    flowdeck_pg_as_owner "$FLOWDECK_PG_BIN/pg_ctl" -D "$FLOWDECK_PG_DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    rm -rf "$FLOWDECK_PG_DIR"
  fi
  FLOWDECK_PG_DIR=
}

flowdeck_pg_start() {
  local port tries
  FLOWDECK_PG_BIN=$(flowdeck_pg_bindir) || {
    if [ "$(id -u)" != 0 ]; then
      echo "postgres.sh: initdb/pg_ctl not found and not root: install Debian's postgresql package" >&2
      return 1
    fi
    echo "postgres.sh: installing Debian's postgresql package" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null || return 1
    FLOWDECK_PG_BIN=$(flowdeck_pg_bindir) || { echo "postgres.sh: no initdb after installing postgresql" >&2; return 1; }
  }
  if [ "$(id -u)" = 0 ] && ! id -u postgres >/dev/null 2>&1; then
    useradd --system --user-group --home-dir /nonexistent --shell /usr/sbin/nologin postgres || return 1
  fi

  # As root in /tmp: the postgres user must reach the directory (root's TMPDIR may be private).
  local parent="${TMPDIR:-/tmp}"
  if [ "$(id -u)" = 0 ]; then parent=/tmp; fi
  FLOWDECK_PG_DIR=$(mktemp -d "$parent/flowdeck-pg.XXXXXX") || return 1
  trap flowdeck_pg_stop EXIT
  # mktemp makes the directory 0700 for its creator; the server's user owns it.
  if [ "$(id -u)" = 0 ]; then chown postgres: "$FLOWDECK_PG_DIR"; fi

  flowdeck_pg_as_owner "$FLOWDECK_PG_BIN/initdb" -D "$FLOWDECK_PG_DIR/data" -U postgres -E UTF8 --no-locale \
    --auth-local=trust --auth-host=reject >"$FLOWDECK_PG_DIR/initdb.log" 2>&1 || {
    cat "$FLOWDECK_PG_DIR/initdb.log" >&2
    return 1
  }
  # Trust on the loopback only; the default file has no host lines (--auth-host=reject above).
  printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' >"$FLOWDECK_PG_DIR/data/pg_hba.conf"

  # A port found free may be taken before the server binds it: try a few.
  for tries in 1 2 3 4 5; do
    port=$(flowdeck_pg_free_port) || return 1
    if flowdeck_pg_as_owner "$FLOWDECK_PG_BIN/pg_ctl" -D "$FLOWDECK_PG_DIR/data" -l "$FLOWDECK_PG_DIR/server.log" -w -t 60 \
      -o "-p $port -k $FLOWDECK_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null; then
      break
    fi
    port=
  done
  if [ -z "$port" ]; then
    echo "postgres.sh: the server did not start:" >&2
    tail -n 20 "$FLOWDECK_PG_DIR/server.log" >&2
    return 1
  fi

  for tries in $(seq 1 60); do
    PGCONNECT_TIMEOUT=5 "$FLOWDECK_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" && break
    sleep 0.5
  done
  PGCONNECT_TIMEOUT=5 "$FLOWDECK_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" || { echo "postgres.sh: pg_isready failed" >&2; return 1; }
  PGCONNECT_TIMEOUT=5 "$FLOWDECK_PG_BIN/psql" -X -q -w -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE flowdeck LOGIN SUPERUSER" || return 1

  export FLOWDECK_TEST_PG_URL="postgres://flowdeck@127.0.0.1:$port/postgres"
  echo "postgres.sh: PostgreSQL $("$FLOWDECK_PG_BIN/postgres" --version | awk '{print $3}') at $FLOWDECK_TEST_PG_URL (data in $FLOWDECK_PG_DIR)"
}

flowdeck_pg_start
