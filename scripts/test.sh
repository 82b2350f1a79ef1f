#!/usr/bin/env bash
# The full test suite, after setting up everything it needs (Debian packages, npm dependencies,
# the native addon, the TLC jar).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# setup built the native addon: its tests must run, not skip (test/native/helpers.ts).
[ "${KVLAB_SETUP:-full}" = minimal ] || export KVLAB_REQUIRE_NATIVE="${KVLAB_REQUIRE_NATIVE:-1}"
exec npx vitest run "$@"
