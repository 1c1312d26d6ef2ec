#!/usr/bin/env bash
# Create the virtualenv with nothing but Python 3.11: `venv` when the system has ensurepip,
# else the system pip (or a user-installed virtualenv) as a fallback. No root needed.
set -euo pipefail
python=${1:?python} venv=${2:?venv}
[ -x "$venv/bin/python" ] && "$venv/bin/python" -m pip --version >/dev/null 2>&1 && exit 0
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$version" != "3.11" ]; then
  echo "Python 3.11 is needed (found $version at $python); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if "$python" -m venv "$venv" 2>/dev/null; then
  exit 0
fi
echo "python -m venv is unavailable (no ensurepip); trying virtualenv" >&2
rm -rf "$venv"
bootstrap=var/bootstrap
mkdir -p "$bootstrap"
"$python" -m pip install --quiet --target "$bootstrap" virtualenv
PYTHONPATH="$bootstrap" "$python" -m virtualenv --quiet "$venv"
