#!/usr/bin/env bash
# kvlab's main job on its built-in defaults (after setting up what it needs).
set -euo pipefail
cd "$(dirname "$0")/.."
KVLAB_SETUP="${KVLAB_SETUP:-minimal}" scripts/setup.sh
exec node bin/kvlab.js demo "$@"
