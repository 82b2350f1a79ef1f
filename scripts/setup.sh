#!/usr/bin/env bash
# Sets up a fresh Debian machine for kvlab, idempotently: Debian packages (apt-get), npm
# dependencies (native ones compiled from source against the local Node headers — only package
# registries are reachable, so nothing may download a prebuilt binary), the TypeScript build, the
# native libfabric/libpmem addon and the TLC jar. Safe to run again: each step is skipped when done.
#
#   scripts/setup.sh            everything
#   KVLAB_SETUP=minimal ...     npm dependencies and the build only (no apt, addon or TLC)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

MODE="${KVLAB_SETUP:-full}"

# --- Debian packages -------------------------------------------------------------------------
APT_PACKAGES=(
  build-essential pkg-config python3
  # canvas (chart.js-node-canvas) is compiled from source:
  libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev
  # the native backend:
  libfabric-dev libfabric-bin libpmem-dev
  # TLC:
  maven default-jre-headless
)
if [ "$MODE" = full ]; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # A JDK already on PATH (java + mvn) satisfies the TLC requirement.
  if command -v java >/dev/null && command -v mvn >/dev/null; then
    filtered=()
    for p in "${missing[@]}"; do [[ "$p" == maven || "$p" == default-jre-headless ]] || filtered+=("$p"); done
    missing=("${filtered[@]+"${filtered[@]}"}")
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    log "apt-get install ${missing[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    log "Debian packages present"
  fi
fi

# --- npm dependencies --------------------------------------------------------------------------
# node-gyp builds against the installed Node's headers, never downloaded ones.
if [ -z "${npm_config_nodedir:-}" ]; then
  NODE_PREFIX="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  if [ -f "$NODE_PREFIX/include/node/node.h" ]; then export npm_config_nodedir="$NODE_PREFIX"; fi
fi
export npm_config_build_from_source=true
STAMP=node_modules/.kvlab-lock-hash
LOCK_HASH="$(sha256sum package-lock.json package.json | sha256sum | cut -c1-16)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$LOCK_HASH" ]; then
  # `npm install` (not `npm ci`): this npm leaves other platforms' optional packages (rollup,
  # esbuild binaries) out of the lock file and then refuses `npm ci` as "out of sync".
  log "npm install (native modules built from source against ${npm_config_nodedir:-the default Node headers})"
  npm install --no-audit --no-fund
  # npm may rewrite the lock file: stamp what is there now.
  sha256sum package-lock.json package.json | sha256sum | cut -c1-16 > "$STAMP"
else
  log "npm dependencies up to date"
fi

# --- build ---------------------------------------------------------------------------------------
log "TypeScript build"
npx tsc -p tsconfig.json

if [ "$MODE" = full ]; then
  # The native addon (libfabric + libpmem), compiled by node-gyp (a devDependency) against the
  # local Node headers (nodedir above: nothing is downloaded). Rebuilt only when its sources change.
  if [ -f native/binding.gyp ]; then
    ADDON=native/build/Release/kvlab_native.node
    ADDON_STAMP=native/build/.kvlab-src-hash
    SRC_HASH="$(cat native/binding.gyp native/src/*.cc native/src/*.h "$(command -v node)" 2>/dev/null | sha256sum | cut -c1-16)"
    if [ -f "$ADDON" ] && [ -f "$ADDON_STAMP" ] && [ "$(cat "$ADDON_STAMP")" = "$SRC_HASH" ]; then
      log "native addon up to date"
    else
      log "native addon (node-gyp rebuild against ${npm_config_nodedir:-the default Node headers})"
      NODEDIR_ARG=()
      [ -n "${npm_config_nodedir:-}" ] && NODEDIR_ARG=(--nodedir="$npm_config_nodedir")
      GYP_LOG="$(mktemp)"
      (cd native && npx --no-install node-gyp rebuild "${NODEDIR_ARG[@]+"${NODEDIR_ARG[@]}"}" --jobs=max) >"$GYP_LOG" 2>&1 \
        || { tail -n 30 "$GYP_LOG" >&2; log "native addon build FAILED (needs libfabric-dev, libpmem-dev, build-essential; see docs/native.md)"; exit 1; }
      rm -f "$GYP_LOG"
      echo "$SRC_HASH" > "$ADDON_STAMP"
    fi
  fi
  if [ -f spec/fetch-tlc.sh ]; then
    log "TLC jar"
    bash spec/fetch-tlc.sh
  fi
fi
log "ready"
