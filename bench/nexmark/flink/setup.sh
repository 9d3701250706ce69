#!/usr/bin/env bash
# Installs what the Flink side of the Nexmark benchmark needs, idempotently:
#   - a Java 17 runtime (Debian's openjdk-17-jre-headless), only if `java` is not on PATH;
#   - a Python venv at bench/nexmark/.venv with apache-flink (PyFlink) pinned below.
# Everything comes from Debian's archive and PyPI: the apache-flink-libraries wheel bundles
# flink-dist, the table planner/runtime, flink-json, flink-csv and flink-connector-files under
# pyflink/lib, so nothing is fetched from Maven at run time.
set -euo pipefail

# 1.20.3 (the 1.x LTS line), not 2.x: Flink 2.2.1 and 2.3.0 plan Nexmark q9's Top-1
# (ROW_NUMBER() OVER (PARTITION BY A.id ORDER BY B.price DESC, B.dateTime ASC) ... rownum <= 1 over a
# regular join) as insert-only, so every bid that was ever the top one stays in the result; 1.20.3
# plans it as an updating rank and gets it right. Override with FLINK_VERSION=... at your own risk.
FLINK_VERSION="${FLINK_VERSION:-1.20.3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NEXMARK="$(cd "$HERE/.." && pwd)"
VENV="$NEXMARK/.venv"
PYTHON="${PYTHON:-python3}"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

if ! command -v java >/dev/null 2>&1; then
  echo "setup: installing openjdk-17-jre-headless" >&2
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends openjdk-17-jre-headless
fi
java -version 2>&1 | head -1 >&2

if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)'; then
  echo "setup: $PYTHON is older than 3.9; apache-flink $FLINK_VERSION needs 3.9+" >&2
  exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV" >&2
  if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
    # Debian's python3 ships venv separately.
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q python3-venv
    "$PYTHON" -m venv "$VENV"
  fi
fi

have="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("apache-flink"))' 2>/dev/null || true)"
if [ -n "$have" ] && [ "$have" != "$FLINK_VERSION" ]; then
  # Another version's dependency pins (apache-beam, pandas, ...) differ: start from a clean venv.
  echo "setup: $VENV has apache-flink $have; recreating it for $FLINK_VERSION" >&2
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
fi
if [ "$have" != "$FLINK_VERSION" ]; then
  echo "setup: installing apache-flink==$FLINK_VERSION into $VENV (about 500 MB with its dependencies)" >&2
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q "apache-flink==$FLINK_VERSION"
fi

# The jars run_query.py relies on: the JSON format and the filesystem connector.
LIB="$("$VENV/bin/python" -c 'import os, pyflink; print(os.path.join(os.path.dirname(os.path.abspath(pyflink.__file__)), "lib"))')"
missing=0
for jar in flink-json flink-connector-files flink-table-planner-loader flink-table-runtime flink-dist; do
  if ! ls "$LIB/$jar"-*.jar >/dev/null 2>&1; then
    echo "setup: MISSING $LIB/$jar-*.jar" >&2
    missing=1
  fi
done
if [ "$missing" != 0 ]; then exit 1; fi
echo "setup: ok: apache-flink $FLINK_VERSION in $VENV (jars in $LIB)" >&2
