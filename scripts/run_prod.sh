#!/usr/bin/env bash
# The production layout on this machine, for measurement: nginx on :8080 in front of gunicorn
# (REST, WSGI) and uvicorn (/ws/, ASGI), plus worker and beat, with production settings
# (DEBUG off) over plain HTTP on loopback. Started by `make run-prod` once PostgreSQL/Redis answer.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light || \
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx
  else
    echo "run-prod needs nginx from the system's packages: sudo apt-get install nginx" >&2
    exit 1
  fi
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

export DJANGO_SETTINGS_MODULE=marketplace.settings.prod
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-local-prod-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}
export DJANGO_ALLOWED_HOSTS=${DJANGO_ALLOWED_HOSTS:-localhost,127.0.0.1}
export SECURE_SSL_REDIRECT=False SECURE_HSTS_SECONDS=0 TRUST_X_REAL_IP=True
export EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend
export SMS_BACKEND=apps.notifications.sms.file.FileSmsSender
export GUNICORN_BIND=127.0.0.1:${WEB_PORT:-8010} WS_PORT=${WS_PORT:-8011} WS_PORT2=${WS_PORT2:-8012}
# Two ws processes (deploy/Procfile ws1, ws2: one per core; a process is one event loop on one
# core) behind nginx's `ws` upstream; they share the Redis channel layer.
ws_upstream="127.0.0.1:$WS_PORT; server 127.0.0.1:$WS_PORT2"
export PATH="$root/.venv/bin:$PATH"

mkdir -p var/nginx var/static var/media var/mail var/sms
# /metrics sums every process (gunicorn workers, ws processes, worker): prometheus_client's
# multiprocess mode writes each process's values under this folder, emptied at each start.
export PROMETHEUS_MULTIPROC_DIR="$root/var/prometheus"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
DB_STATEMENT_TIMEOUT_MS=0 python manage.py migrate --noinput
python manage.py collectstatic --noinput -v 0
python manage.py seed_demo
mime=/etc/nginx/mime.types
sed -e "s#@ROOT@#$root#g" -e "s#@LISTEN@#127.0.0.1:${PROD_PORT:-8080}#g" \
    -e "s#@WEB@#$GUNICORN_BIND#g" -e "s#@WS@#$ws_upstream#g" -e "s#@MIME_TYPES@#$mime#g" \
    deploy/nginx.conf > var/nginx/nginx.conf
printf 'nginx: %s -c %s -g "daemon off;"\n' "$nginx_bin" "$root/var/nginx/nginx.conf" > var/nginx/Procfile
cat deploy/Procfile >> var/nginx/Procfile
echo "production layout on http://127.0.0.1:${PROD_PORT:-8080}/  (Ctrl-C stops it)"
exec honcho -f var/nginx/Procfile -d "$root" start
