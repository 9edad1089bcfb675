#!/usr/bin/env bash
# Fault injection, Jepsen style: a centre and three building daemons on separate test hosts
# (network namespaces on this machine), clients writing and editing requests through the CLI on
# every node, and a nemesis that partitions, isolates, kills, pauses, skews a clock and fills a
# disk at random. At the end everything heals and the checks run:
#   (a) every write the CLI acknowledged is on every node,
#   (b) all nodes report the same digest, (c) and list the same conflicts,
#   (d) every store passes PRAGMA integrity_check,
#   (e) no daemon died except where the nemesis killed it.
#
# Usage (root; needs iproute2 nftables iptables faketime python3 — `netns.sh deps`):
#   Tests/Chaos/chaos.sh [--seed N] [--duration SECONDS] [--keep]
# A failing run prints its seed; run it again with --seed to replay the same fault schedule.
set -uo pipefail
cd "$(dirname "$0")/../.."

seed=$(( $(date +%s%N) % 1000000 ))
duration=90
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) seed=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: $0 [--seed N] [--duration SECONDS] [--keep]" >&2; exit 64 ;;
  esac
done
RANDOM=$seed

NETNS="$PWD/Tests/Chaos/netns/netns.sh"
G="${GRIDSYNC_BIN:-$PWD/.build/debug/gridsync}"
[ -x "$G" ] || { echo "chaos: $G not found; run swift build first (or set GRIDSYNC_BIN)" >&2; exit 1; }
for tool in nft iptables faketime python3; do
  command -v "$tool" >/dev/null || { echo "chaos: $tool missing; run $NETNS deps" >&2; exit 1; }
done

work=$(mktemp -d /tmp/gridsync-chaos-XXXXXX)
PORT=7420
N=4                      # n1 centre, n2..n4 buildings
SKEWED=n3                # runs two hours off: behind for an even seed, ahead for an odd one
SKEW=$([ $((seed % 2)) = 0 ] && echo -2h || echo +2h)
DISKFUL=n4               # its store lives on a small tmpfs the nemesis fills
declare -A faults=()
declare -A killed=()
log() { printf '[%5ss] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }
t0=$(date +%s)

cleanup() {
  touch "$work/stop" 2>/dev/null
  "$NETNS" down >/dev/null 2>&1
  mountpoint -q "$work/$DISKFUL" && umount "$work/$DISKFUL"
  if [ "$keep" = 1 ]; then echo "chaos: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "chaos: seed $seed, ${duration}s of faults, work dir $work"
echo "chaos: replay with Tests/Chaos/chaos.sh --seed $seed --duration $duration"
"$NETNS" down >/dev/null 2>&1
"$NETNS" up $N >/dev/null || { echo "chaos: netns up failed" >&2; exit 1; }

db() { echo "$work/$1/gridsync.db"; }
for k in $(seq 1 $N); do mkdir -p "$work/n$k"; done
mount -t tmpfs -o size=48m tmpfs "$work/$DISKFUL"

# --- Stores and the community -------------------------------------------------------------
"$G" init --db "$(db n1)" --name 社区服务中心 --role centre >/dev/null
centre_id=$("$G" id --db "$(db n1)" | head -1)
community=$("$G" id --db "$(db n1)" --json | sed -n 's/.*"community_id" *: *"\([A-Z0-9-]*\)".*/\1/p')
for k in $(seq 2 $N); do
  "$G" init --db "$(db n$k)" --name "${k}号楼" --role building --grid 1 --building "$k" >/dev/null
  id=$("$G" id --db "$(db n$k)" | head -1)
  "$G" roster add --db "$(db n1)" "$id" --name "${k}号楼" --role building --grid 1 --building "$k" >/dev/null
  "$G" join --db "$(db n$k)" --community "$community" --centre-id "$centre_id" >/dev/null
done

# --- Daemons ------------------------------------------------------------------------------
daemon_args() { # node
  if [ "$1" = n1 ]; then echo "--listen 10.77.0.1:$PORT"; else echo "--listen none --peer 10.77.0.1:$PORT"; fi
}
start_daemon() { # node
  local n=$1
  if [ "$n" = "$SKEWED" ]; then
    "$NETNS" skew "$n" "$SKEW" "$G" daemon --db "$(db "$n")" $(daemon_args "$n") >>"$work/$n.log" 2>&1 &
  else
    "$NETNS" exec "$n" "$G" daemon --db "$(db "$n")" $(daemon_args "$n") >>"$work/$n.log" 2>&1 &
  fi
  echo $! >"$work/$n.pid"
}
for k in $(seq 1 $N); do start_daemon "n$k"; done
sleep 1

# --- Clients: write and edit through the CLI, record what was acknowledged ---------------
client() { # node
  local n=$1 i=0 wrap=()
  [ "$n" = "$SKEWED" ] && wrap=(faketime -f "$SKEW")
  local scope=()
  [ "$n" = n1 ] && scope=(--grid 1 --building 1)
  while [ ! -e "$work/stop" ]; do
    i=$((i + 1))
    echo "add" >>"$work/$n.attempted"
    if out=$("${wrap[@]}" "$G" request add --db "$(db "$n")" "${scope[@]}" --resident "居民$i" --category 物业 --title "$n 第${i}条" 2>/dev/null); then
      echo "$out" >>"$work/$n.acked"
    fi
    # Every third round, edit one of this node's own requests (the centre edits any).
    if [ $((i % 3)) = 0 ] && [ -s "$work/$n.acked" ]; then
      local target
      if [ "$n" = n1 ]; then target=$(cat "$work"/n*.acked 2>/dev/null | shuf -n 1 --random-source=<(yes "$i"))
      else target=$(shuf -n 1 --random-source=<(yes "$i") "$work/$n.acked"); fi
      echo "edit" >>"$work/$n.attempted"
      if "${wrap[@]}" "$G" request edit --db "$(db "$n")" "$target" --title "$n 改$i" >/dev/null 2>&1; then
        printf '%s\t%s\n' "$target" "$n 改$i" >>"$work/$n.edited"
      fi
    fi
    sleep 0.$((RANDOM % 4 + 1))
  done
}
clients=()
for k in $(seq 1 $N); do client "n$k" & clients+=($!); done

# --- Nemesis ------------------------------------------------------------------------------
pick() { echo "n$(( RANDOM % N + 1 ))"; }
pick_laptop() { echo "n$(( RANDOM % (N - 1) + 2 ))"; }
heal_everything() {
  "$NETNS" heal-all >/dev/null 2>&1
  for k in $(seq 1 $N); do "$NETNS" rejoin "n$k" >/dev/null 2>&1; "$NETNS" resume "n$k" >/dev/null 2>&1; done
  rm -f "$work/$DISKFUL/filler"
}
end=$(( $(date +%s) + duration ))
while [ "$(date +%s)" -lt "$end" ]; do
  case $(( RANDOM % 6 )) in
    0) a=$(pick); b=$(pick); [ "$a" = "$b" ] && continue
       "$NETNS" partition "$a" "$b" >/dev/null; faults[partition]=$(( ${faults[partition]:-0} + 1 )); log "partition $a $b" ;;
    1) a=$(pick); "$NETNS" isolate "$a" >/dev/null; faults[isolate]=$(( ${faults[isolate]:-0} + 1 )); log "isolate $a" ;;
    2) a=$(pick); "$NETNS" crash "$a" >/dev/null; killed[$a]=1; faults[kill]=$(( ${faults[kill]:-0} + 1 )); log "kill -9 $a"
       sleep 1; "$NETNS" resume "$a" >/dev/null 2>&1; start_daemon "$a"; log "restart $a" ;;
    3) a=$(pick); "$NETNS" pause "$a" >/dev/null; faults[pause]=$(( ${faults[pause]:-0} + 1 )); log "pause $a"
       sleep $(( RANDOM % 4 + 1 )); "$NETNS" resume "$a" >/dev/null; log "resume $a" ;;
    4) dd if=/dev/zero of="$work/$DISKFUL/filler" bs=1M >/dev/null 2>&1
       faults[disk_full]=$(( ${faults[disk_full]:-0} + 1 )); log "disk full on $DISKFUL"
       sleep $(( RANDOM % 5 + 2 )); rm -f "$work/$DISKFUL/filler"; log "disk freed on $DISKFUL" ;;
    5) heal_everything; faults[heal]=$(( ${faults[heal]:-0} + 1 )); log "heal all" ;;
  esac
  sleep $(( RANDOM % 3 + 1 ))
done

# --- Heal, stop writing, wait until quiet ------------------------------------------------
touch "$work/stop"
heal_everything   # a client may be waiting on a paused daemon's lock
healed=$(date +%s)
for pid in "${clients[@]}"; do wait "$pid" 2>/dev/null; done
log "healed everything; clients stopped"
digests() { for k in $(seq 1 $N); do "$G" digest --db "$(db n$k)" 2>/dev/null || echo "error-n$k"; done | sort -u | wc -l; }
converged=0
while [ $(( $(date +%s) - healed )) -lt 240 ]; do
  if [ "$(digests)" = 1 ]; then converged=1; break; fi
  sleep 1
done
converge_s=$(( $(date +%s) - healed ))

# --- Checks -------------------------------------------------------------------------------
fail=0
check() { if [ "$1" = ok ]; then echo "  ✔ $2"; else echo "  ✘ $2"; fail=1; fi; }
echo
echo "chaos: checks (seed $seed)"
[ "$converged" = 1 ] && check ok "(b) all $N nodes report the same digest after ${converge_s}s" || check no "(b) digests still differ after ${converge_s}s"

for k in $(seq 1 $N); do "$G" request list --db "$(db n$k)" --json >"$work/list-n$k.json" 2>/dev/null; done
missing=$(python3 - "$work" $N <<'EOF'
import json, sys, glob, os
work, n = sys.argv[1], int(sys.argv[2])
acked = set()
for f in glob.glob(os.path.join(work, "n*.acked")):
    acked |= {l.strip() for l in open(f) if l.strip()}
bad = 0
for k in range(1, n + 1):
    ids = {r["id"] for r in json.load(open(os.path.join(work, f"list-n{k}.json")))}
    bad += len(acked - ids)
print(bad)
EOF
)
[ "$missing" = 0 ] && check ok "(a) every acknowledged write is on every node" || check no "(a) $missing acknowledged writes missing across nodes"

# Acknowledged edits: on every node that may read the request (the centre and the request's
# own building; others hold it sealed), the edited value is in its history — a later edit may
# have replaced it as the current value, but never erased it; on every other node the history
# holds as many title edits as on the centre. Sampled: 40 edits.
cat "$work"/n*.edited 2>/dev/null | shuf -n 40 --random-source=<(yes "$seed") >"$work/edits-sample"
lost_edits=0
sampled=$(wc -l <"$work/edits-sample")
while IFS=$'\t' read -r id title; do
  for k in $(seq 1 $N); do "$G" request show --db "$(db n$k)" "$id" --json >"$work/show-n$k.json" 2>/dev/null; done
  lost=$(python3 - "$work" $N "$title" <<'PY'
import json, sys, os
work, n, title = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def load(k):
    try: return json.load(open(os.path.join(work, f"show-n{k}.json")))
    except Exception: return None
centre = load(1)
if centre is None: print(n); sys.exit()
building = centre["request"]["building"]
edits = sum(1 for e in centre["history"] if e["field"] == "title")
lost = 0
for k in range(1, n + 1):
    shown = load(k)
    if shown is None: lost += 1; continue
    titles = [e["value"] for e in shown["history"] if e["field"] == "title"]
    reader = k == 1 or str(k) == building
    if reader and title not in titles: lost += 1
    if not reader and len(titles) != edits: lost += 1
print(lost)
PY
)
  lost_edits=$((lost_edits + lost))
done <"$work/edits-sample"
[ "$lost_edits" = 0 ] && check ok "(a) every sampled acknowledged edit ($sampled) is in the history on every node" || check no "(a) $lost_edits (edit, node) pairs lost"

# The same conflicts everywhere: IDs, records, fields and how many values (the values
# themselves show only where they may be read).
for k in $(seq 1 $N); do "$G" conflicts list --db "$(db n$k)" --json 2>/dev/null \
  | python3 -c "import json,sys; print(sorted((c['id'], c['record'], c['field'], len(c['values'])) for c in json.load(sys.stdin)))" | md5sum
done | sort -u | wc -l | grep -qx 1 \
  && check ok "(c) all nodes list the same conflicts" || check no "(c) conflict lists differ"

integrity=$(for k in $(seq 1 $N); do python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])" "$(db n$k)"; done | sort -u)
[ "$integrity" = ok ] && check ok "(d) every store passes PRAGMA integrity_check" || check no "(d) integrity_check: $integrity"

crashed=""
daemon_pid() { # the gridsync process itself, not a faketime or netns wrapper around it
  local p name
  name=$(basename "$G" | cut -c1-15)   # the kernel keeps 15 characters of a process name
  for p in $(pgrep -f -- "daemon --db $(db "$1")"); do
    [ "$(cat /proc/"$p"/comm 2>/dev/null)" = "$name" ] && { echo "$p"; return; }
  done
}
for k in $(seq 1 $N); do
  n=n$k
  [ -n "$(daemon_pid "$n")" ] || crashed="$crashed $n(not running)"
  if grep -q "Fatal error\|Segmentation fault\|Illegal instruction" "$work/$n.log"; then crashed="$crashed $n(log)"; fi
done
# Stop them cleanly now: SIGTERM must end each with status 0.
for k in $(seq 1 $N); do
  pid=$(daemon_pid "n$k"); [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
  wait "$(cat "$work/n$k.pid")" 2>/dev/null; rc=$?
  [ "$rc" = 0 ] || crashed="$crashed n$k(exit $rc)"
done
[ -z "$crashed" ] && check ok "(e) no daemon died except where killed" || check no "(e) daemons died:$crashed"

attempted=$(cat "$work"/n*.attempted 2>/dev/null | grep -c add)
acked=$(cat "$work"/n*.acked 2>/dev/null | wc -l)
edits=$(cat "$work"/n*.attempted 2>/dev/null | grep -c edit)
edited=$(cat "$work"/n*.edited 2>/dev/null | wc -l)
conflicts=$("$G" conflicts list --db "$(db n1)" --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
echo
echo "chaos: figures"
echo "  seed                 $seed"
echo "  writes               $attempted attempted, $acked acknowledged; edits $edits attempted, $edited acknowledged"
printf '  faults               '; for f in "${!faults[@]}"; do printf '%s=%s ' "$f" "${faults[$f]}"; done; echo "(clock skew: $SKEWED at $SKEW throughout)"
echo "  converged after      ${converge_s}s from the final heal"
echo "  open conflicts       $conflicts (identical on every node)"
echo "  JSON {\"seed\": $seed, \"duration_s\": $duration, \"writes_attempted\": $attempted, \"writes_acked\": $acked, \"edits_attempted\": $edits, \"edits_acked\": $edited, \"converge_s\": $converge_s, \"ok\": $([ $fail = 0 ] && echo true || echo false)}"
if [ "$fail" != 0 ]; then
  echo "chaos: FAILED — replay with Tests/Chaos/chaos.sh --seed $seed --duration $duration --keep"
  for k in $(seq 1 $N); do echo "--- n$k.log (last lines)"; tail -5 "$work/n$k.log"; done
  exit 1
fi
echo "chaos: passed"
