#!/usr/bin/env bash
# The whole harness in one run: python -m bench.<x> for each collection, ingest, and txtai on 100k.
#   bench/run_all.sh LABEL [SIZES] [--peer]      e.g. bench/run_all.sh after "20k 100k 1m" --peer
# COLLECTIONS=DIR picks another set of collection folders (same stores, derived parts of other code).
# Results: bench/results/LABEL/*.json; summarise with python -m bench.report.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python}
LABEL=${1:?label}
SIZES=${2:-"20k 100k 1m"}
PEER=${3:-}
uptime
COLLECTIONS=${COLLECTIONS:-bench/.cache/collections}
for size in $SIZES; do
  $PY -m bench.query --collection "$COLLECTIONS/$size" --label "$LABEL" --duration "${DURATION:-15}"
done
$PY -m bench.ingest --label "$LABEL"
if [ "$PEER" = "--peer" ]; then
  $PY -m bench.peer --collection "$COLLECTIONS/100k" --label txtai --duration "${DURATION:-15}" \
    --compare "bench/results/$LABEL/100k.json"
fi
uptime
