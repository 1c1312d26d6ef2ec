#!/usr/bin/env bash
# The local profile (API.md section 2), run by `make run` once PostgreSQL and Redis answer.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-marketplace.settings.dev}
mkdir -p var/mail var/sms var/media
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput -v 0
.venv/bin/python manage.py seed_demo
echo
echo "  API      http://127.0.0.1:8000/api/        docs  http://127.0.0.1:8000/api/docs/"
echo "  Mail     var/mail/     SMS  var/sms/       Ctrl-C stops everything"
echo
exec .venv/bin/honcho -f deploy/Procfile.dev -d . start
