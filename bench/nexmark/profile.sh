#!/usr/bin/env bash
# Where a Nexmark query's time goes on Floe's embedded engine, in counts that do not depend on how busy the machine is:
# instructions, memory reads and writes, and cache misses per event, from valgrind's callgrind with its cache model
# (`--cache-sim=yes`: a simulated L1 and last-level cache, by default shaped like the host's).
#
#   bash bench/nexmark/profile.sh                  # every query
#   QUERIES="q5 q16 q21" bash bench/nexmark/profile.sh
#
# Each query runs once under callgrind on data/10k and once on data/100k (seed 42), and the figures per event are the
# difference divided by the difference in events read: the marginal cost of an event, without the process's start-up,
# the catalog and the plan, which both runs share. Columns: Ir (instructions), Dr/Dw (data reads/writes), D1 misses
# (first-level data cache, reads + writes), LL misses (last-level cache, instructions + data), per event; and the
# share of instructions spent in the 5 costliest functions of the 100k run (callgrind_annotate, inclusive of nothing:
# self cost).
#
# valgrind is installed with apt-get when missing (root or sudo). Figures are exact counts of a simulated machine,
# so two runs of the same binary agree; they are not times (a cache miss costs what the real machine makes it cost).
set -euo pipefail

NEXMARK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$NEXMARK/../.." && pwd)"
QUERIES="${QUERIES:-$(cd "$NEXMARK/queries" && ls q*.sql | sed 's/\.sql$//' | sort -V | tr '\n' ' ')}"
OUT="${OUT:-$NEXMARK/results/profile}"

if ! command -v valgrind > /dev/null; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  $SUDO apt-get install -y -q valgrind > /dev/null
fi

# shellcheck source=data.sh
source "$NEXMARK/data.sh"
make_data 10k
make_data 100k

(cd "$ROOT" && swift build -c release --product floe-nexmark-bench)
BIN="$ROOT/.build/release/floe-nexmark-bench"
mkdir -p "$OUT"

# totals FILE -> "Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw" of a callgrind output file
totals() {
  awk '/^events:/ { for (i = 2; i <= NF; i++) name[i] = $i } /^summary:/ { for (i = 2; i <= NF; i++) value[name[i]] = $i }
       END { printf "%s %s %s %s %s %s %s %s %s\n", value["Ir"], value["Dr"], value["Dw"], value["I1mr"], value["D1mr"], value["D1mw"], value["ILmr"], value["DLmr"], value["DLmw"] }' "$1"
}

printf '%-5s %12s %10s %10s %10s %10s %10s   %s\n' query events Ir/ev Dr/ev Dw/ev D1miss/ev LLmiss/ev "top functions (self Ir, 100k run)"
for query in $QUERIES; do
  declare -A events=()
  for data in 10k 100k; do
    log="$OUT/$query-$data.log"
    valgrind --tool=callgrind --cache-sim=yes --callgrind-out-file="$OUT/$query-$data.callgrind" \
      "$BIN" --data "$NEXMARK/data/$data" --results "$OUT/results-$data" --mode timed --repeat 1 "$query" > "$log" 2>&1
    events[$data]="$(sed -n "s/^$query: \([0-9]*\) events in .*/\1/p" "$log")"
  done
  read -r -a small <<< "$(totals "$OUT/$query-10k.callgrind")"
  read -r -a large <<< "$(totals "$OUT/$query-100k.callgrind")"
  top="$(callgrind_annotate --threshold=100 "$OUT/$query-100k.callgrind" 2> /dev/null \
    | awk '/^ *[0-9,]+ \([ 0-9.]+%\) / { gsub(",", "", $1); share = $2 $3; sub(/^\(/, "", share); sub(/\)$/, "", share); $1 = ""; $2 = ""; $3 = ""; sub(/^ +/, ""); sub(/ \[.*$/, ""); n++; if (n <= 5) printf "%s%s %s", (n > 1 ? "; " : ""), share, substr($0, 1, 60) }')"
  python3 - "$query" "${events[10k]}" "${events[100k]}" "${small[*]}" "${large[*]}" "$top" <<'PY'
import sys
query, e_small, e_large, small, large, top = sys.argv[1:]
small = [int(v or 0) for v in small.split()]
large = [int(v or 0) for v in large.split()]
events = int(e_large) - int(e_small)
ir, dr, dw, i1, d1r, d1w, ill, dlr, dlw = [(b - a) / events for a, b in zip(small, large)]
print(f"{query:<5} {int(e_large):>12,} {ir:10.0f} {dr:10.0f} {dw:10.0f} {d1r + d1w:10.2f} {ill + dlr + dlw:10.3f}   {top}")
PY
done
echo "(callgrind files and logs: $OUT; per function: callgrind_annotate $OUT/<query>-100k.callgrind)"
