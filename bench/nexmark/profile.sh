#!/usr/bin/env bash
# Where a Nexmark query's time goes on Floe's embedded engine, in counts that do not depend on how busy the machine is:
# instructions, memory reads and writes, and cache misses per event, from valgrind's callgrind with its cache model
# (`--cache-sim=yes`: a simulated first-level cache and one more level). The second level is the core's own L2
# (CACHE_LL, default 1 MiB, 16-way, as on this machine's EPYC; `lscpu` shows yours), not the shared L3: its misses
# are what a smaller or busier machine pays for, and what a working set that outgrows a core shows. (The VM here
# reports a 384 MiB direct-mapped L3 through CPUID, which valgrind would otherwise simulate.)
#
#   bash bench/nexmark/profile.sh                  # every query
#   QUERIES="q5 q16 q21" bash bench/nexmark/profile.sh
#
# Each query runs once under callgrind on data/10k and once on data/100k (seed 42), and the figures per event are the
# difference divided by the difference in events read: the marginal cost of an event, without the process's start-up,
# the catalog and the plan, which both runs share. Columns: Ir (instructions), Dr/Dw (data reads/writes), D1 misses
# (first-level data cache, reads + writes), LL misses (the simulated L2, instructions + data), per event; and the
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
CACHE_I1="${CACHE_I1:-32768,8,64}"
CACHE_D1="${CACHE_D1:-49152,12,64}"
CACHE_LL="${CACHE_LL:-1048576,16,64}"

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
    valgrind --tool=callgrind --cache-sim=yes --I1="$CACHE_I1" --D1="$CACHE_D1" --LL="$CACHE_LL" --callgrind-out-file="$OUT/$query-$data.callgrind" \
      "$BIN" --data "$NEXMARK/data/$data" --results "$OUT/results-$data" --mode timed --repeat 1 "$query" > "$log" 2>&1
    events[$data]="$(sed -n "s/^$query: \([0-9]*\) events in .*/\1/p" "$log")"
  done
  read -r -a small <<< "$(totals "$OUT/$query-10k.callgrind")"
  read -r -a large <<< "$(totals "$OUT/$query-100k.callgrind")"
  # The five costliest functions by self instructions, demangled, as "share% name".
  top="$(callgrind_annotate --show=Ir --threshold=100 "$OUT/$query-100k.callgrind" 2> /dev/null \
    | sed -n 's/^ *[0-9,]* (\( *[0-9.]*%\))  [^:]*:\([^ ]*\).*/\1 \2/p' | grep -v "PROGRAM TOTALS" | head -5 \
    | swift demangle --simplified --compact 2> /dev/null | sed 's/^ *//; s/(.*$//' | cut -c1-60 | paste -sd ';' | sed 's/;/; /g' || true)"
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
