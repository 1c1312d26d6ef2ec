#!/usr/bin/env bash
# Migrations committed, and `check --deploy` clean under production settings with dummy secrets.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python manage.py makemigrations --check --dry-run
DJANGO_SETTINGS_MODULE=marketplace.settings.prod \
DJANGO_SECRET_KEY="ci-dummy-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
DJANGO_ALLOWED_HOSTS=marketplace.example.com \
  .venv/bin/python manage.py check --deploy --fail-level WARNING
