#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for `make run` / `make test`, then syncs the locked venv.
# Idempotent: every step checks first, so a second run costs a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[[ -x /usr/lib/postgresql/15/bin/initdb ]] || need_apt+=(postgresql)
command -v dot >/dev/null || need_apt+=(graphviz)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
[[ -x /usr/sbin/pgpool ]] || need_apt+=(pgpool2)
command -v wrk >/dev/null || need_apt+=(wrk)
# The dashboard's browser tests (Playwright drives Debian's Chromium; its own browser download cannot work here),
# the PDF report checks (pdftotext) and a TrueType font the PDF embeds.
[[ -x /usr/bin/chromium ]] || need_apt+=(chromium)
command -v pdftotext >/dev/null || need_apt+=(poppler-utils)
[[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || need_apt+=(fonts-dejavu-core)
if ((${#need_apt[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing Debian packages: ${need_apt[*]} (run as root or: sudo apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
  echo "installing Debian packages: ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # Debian starts a default cluster on 5432; the project never uses it, so keep the machine quiet.
  if [[ " ${need_apt[*]} " == *" postgresql "* ]] && command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster 15 main stop 2>/dev/null || true
  fi
fi

if ! command -v uv >/dev/null; then
  echo "installing uv with pip"
  python3 -m pip install --quiet --disable-pip-version-check uv
fi
export UV_PYTHON_DOWNLOADS=never
uv sync --frozen --quiet
