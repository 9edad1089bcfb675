#!/usr/bin/env bash
# A centre and two building laptops syncing live over loopback: write on each, stop one, write
# more, start it again, watch everything converge. Exits 0 only if all three end equal.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Building gridsync (release; the first build takes a few minutes)"
swift build -c release --product gridsync >/dev/null
G="$(swift build -c release --show-bin-path)/gridsync"

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port=$((20000 + RANDOM % 20000))
step() { printf '\n== %s\n' "$*"; }
start() { # name db args...
  local name=$1; shift
  "$G" daemon "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  eval "${name}_pid=$!"
}
converged() {
  local a b c
  a=$("$G" digest --db "$work/centre.db"); b=$("$G" digest --db "$work/b1.db"); c=$("$G" digest --db "$work/b2.db")
  [[ "$a" == "$b" && "$b" == "$c" ]]
}

step "Three stores: the centre and two building leads' laptops"
"$G" init --db "$work/centre.db" --name 社区服务中心 --role centre >/dev/null
"$G" init --db "$work/b1.db" --name 一号楼 --role building --grid 1 --building 1 >/dev/null
"$G" init --db "$work/b2.db" --name 二号楼 --role building --grid 1 --building 2 >/dev/null

step "Start the centre's daemon on 127.0.0.1:$port and both laptops' daemons dialing it"
start centre --db "$work/centre.db" --listen "127.0.0.1:$port"
sleep 0.5
start b1 --db "$work/b1.db" --listen none --peer "127.0.0.1:$port"
start b2 --db "$work/b2.db" --listen none --peer "127.0.0.1:$port"

step "Building 1 records a request; it reaches building 2 through the centre"
id=$("$G" request add --db "$work/b1.db" --resident 王奶奶 --category 居家养老 --title 每周理发上门)
for _ in $(seq 50); do "$G" request show --db "$work/b2.db" "$id" >/dev/null 2>&1 && break; sleep 0.2; done
"$G" request list --db "$work/b2.db"

step "Building 1's laptop goes offline (its daemon stops); everyone keeps working"
kill -TERM "$b1_pid"; wait "$b1_pid" 2>/dev/null || true
"$G" request edit --db "$work/b1.db" "$id" --title "每两周理发上门"
"$G" request add --db "$work/b1.db" --resident 李大爷 --category 物业 --title 楼道灯不亮 >/dev/null
"$G" request accept --db "$work/centre.db" "$id" --note "已联系志愿者"
"$G" request edit --db "$work/centre.db" "$id" --title "每周二理发上门"
"$G" request add --db "$work/b2.db" --resident 赵阿姨 --category 环境卫生 --title 垃圾桶满了 >/dev/null

step "Building 1 comes back online"
start b1 --db "$work/b1.db" --listen none --peer "127.0.0.1:$port"
for _ in $(seq 100); do converged && break; sleep 0.2; done

sleep 1.5   # peer status is written at most once a second
step "Peers as the centre sees them"
"$G" peers --db "$work/centre.db"
step "The conflicting title edit, identical on every node"
"$G" conflicts list --db "$work/b2.db"
step "Digests"
for n in centre b1 b2; do printf '%-7s %s\n' "$n" "$("$G" digest --db "$work/$n.db")"; done
if converged; then echo "Converged: all three stores hold the same data."; else echo "NOT converged" >&2; exit 1; fi
