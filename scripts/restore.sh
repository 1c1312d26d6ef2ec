#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into a database and a media folder:
#   scripts/restore.sh BACKUP_DIR
# TARGET_DATABASE_URL (else DATABASE_URL) names the database: created if missing; it must be
# empty unless RESTORE_FORCE=1 (then objects in the dump are dropped and recreated first).
# MEDIA_ROOT (default var/media) receives the media files. The checksums are verified first:
# a damaged backup changes nothing. pg_restore is found as in backup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
backup=${1:?usage: scripts/restore.sh BACKUP_DIR}
target=${TARGET_DATABASE_URL:-${DATABASE_URL:-}}
: "${target:?set TARGET_DATABASE_URL or DATABASE_URL}"
media=${MEDIA_ROOT:-$root/var/media}

. "$root/scripts/pg_tools.sh"

(cd "$backup" && sha256sum --quiet -c SHA256SUMS) || {
  echo "restore: $backup failed its checksums; nothing restored" >&2; exit 1; }

# the database: create it if missing (through the server's maintenance database)
name=${target##*/}; name=${name%%\?*}
admin=${target%/*}/postgres
exists=$("$(pg_tool psql "$admin")" "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '${name//\'/\'\'}'")
if [ "$exists" != 1 ]; then
  "$(pg_tool psql "$admin")" "$admin" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"${name//\"/\"\"}\""
fi
tables=$("$(pg_tool psql "$admin")" "$target" -tAc \
  "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
clean=()
if [ "$tables" != 0 ]; then
  if [ "${RESTORE_FORCE:-0}" != 1 ]; then
    echo "restore: $name already has $tables tables; set RESTORE_FORCE=1 to replace them" >&2
    exit 1
  fi
  clean=(--clean --if-exists)
fi
"$(pg_tool pg_restore "$admin")" --no-owner --no-privileges --exit-on-error --single-transaction \
  "${clean[@]}" -d "$target" "$backup/db.dump"

mkdir -p "$media"
tar -C "$media" -xzf "$backup/media.tar.gz"
echo "restored $backup into $name and $media"
