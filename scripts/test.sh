#!/usr/bin/env bash
# The full test suite, after setting up everything it needs (Debian packages, npm dependencies,
# the native addon, the TLC jar).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec npx vitest run "$@"
