#!/usr/bin/env bash
# A throwaway PostgreSQL sized for a 1,000,000-loan book, beside the machine's own, so that
# bench-cob can be run against both and the ratios compared (docs/cob_night_shape.md: the
# server's settings are not where the gap to the floor is). The floor runs on the same server
# as the night, so the ratio compares like with like on either.
#
#   bench/scratch_server.sh start            # port 5433, data in /tmp/lendcore-scratch-pg
#   make bench-cob N=1000000 BENCH_PG=postgres://postgres@127.0.0.1:5433
#   bench/scratch_server.sh stop             # stops it and deletes its data
#
# Durability stays as in production (fsync, full-page writes, synchronous commit on); only
# memory, checkpoint spacing and WAL compression are a production server's.
set -euo pipefail
PORT=${SCRATCH_PG_PORT:-5433}
DIR=${SCRATCH_PG_DIR:-/tmp/lendcore-scratch-pg}
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else bash -c "$*"; fi; }

case "${1:-}" in
start)
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
  if [ ! -f "$DIR/data/PG_VERSION" ]; then
    as_postgres "$BIN/initdb -D $DIR/data -A trust -U postgres" >/dev/null
    cat >> "$DIR/data/postgresql.conf" <<CONF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
shared_buffers = 6GB
max_wal_size = 16GB
min_wal_size = 2GB
checkpoint_timeout = 30min
checkpoint_completion_target = 0.9
wal_compression = lz4
wal_buffers = 64MB
work_mem = 32MB
maintenance_work_mem = 1GB
effective_cache_size = 16GB
random_page_cost = 1.1
max_connections = 200
shared_preload_libraries = 'pg_stat_statements'
CONF
  fi
  as_postgres "$BIN/pg_ctl -D $DIR/data -l $DIR/log -w start" >/dev/null
  echo "scratch PostgreSQL on 127.0.0.1:$PORT (BENCH_PG=postgres://postgres@127.0.0.1:$PORT)"
  ;;
stop)
  if [ -f "$DIR/data/PG_VERSION" ]; then
    as_postgres "$BIN/pg_ctl -D $DIR/data -m fast -w stop" >/dev/null || true
  fi
  rm -rf "$DIR"
  echo "scratch PostgreSQL stopped, $DIR removed"
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
