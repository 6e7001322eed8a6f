# Shared by scripts/demo and scripts/test: a virtual environment with the package.
# Sourced, not run. Needs Python 3.11+ as python3 (or $PYTHON).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${XLSHEETS_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "需要 Python 3.11 或更新版本(当前:$("$PYTHON" --version 2>&1 || echo 未找到))。" >&2
  exit 2
fi

ensure_venv() {  # $1: pip extras, e.g. "[test]" or ""
  local stamp="$VENV/.xlsheets-installed$1"
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
  fi
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT$1"
    touch "$stamp"
  fi
}
