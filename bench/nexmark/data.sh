# Sourced by run.sh and flink/run_all.sh (with NEXMARK set to bench/nexmark): make_data NAME makes data/NAME with
# generate.py unless it is there already with the same arguments. Data sets it knows (seed 42): 10k, 1m, 10m (the
# default rate, 10M events/s of event time), 100k (profile.sh), 10k-r10k, 1m-r10k (10,000 events/s).
make_data() {
  local name="$1" events rate=10000000
  case "$name" in
    10k) events=10000 ;;
    100k) events=100000 ;;
    1m) events=1000000 ;;
    10m) events=10000000 ;;
    10k-r10k) events=10000; rate=10000 ;;
    1m-r10k) events=1000000; rate=10000 ;;
    *) echo "unknown data set $name (make it with generate.py)" >&2; exit 2 ;;
  esac
  local dir="$NEXMARK/data/$name"
  if [ -f "$dir/manifest.json" ] && python3 - "$dir/manifest.json" "$events" "$rate" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
sys.exit(0 if (m["events"], m["rate"], m["seed"], m["format"]) == (int(sys.argv[2]), int(sys.argv[3]), 42, "json") else 1)
PY
  then
    return
  fi
  python3 "$NEXMARK/generate.py" --events "$events" --rate "$rate" --seed 42 --out "$dir"
}
