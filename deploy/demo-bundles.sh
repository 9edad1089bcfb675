#!/usr/bin/env bash
# Two nodes, conflicting edits while apart, merged by change bundles (sneakernet).
# Builds gridsync, runs every step in a temporary directory, narrates, and exits 0 only if
# both stores end with no conflicts and the same digest.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Building gridsync (release; the first build takes a few minutes)"
swift build -c release --product gridsync >/dev/null
G="$(swift build -c release --show-bin-path)/gridsync"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
centre=(--db "$work/centre.db")
b3=(--db "$work/building3.db")
step() { printf '\n== %s\n' "$*"; }

step "Create the centre's store and a building lead's laptop"
"$G" init "${centre[@]}" --name 社区服务中心 --role centre
"$G" init "${b3[@]}" --name 三号楼 --role building --grid 1 --building 3

step "The centre enrols the laptop; the laptop joins the centre's community (IDs read out by phone)"
laptop_id=$("$G" id "${b3[@]}" | head -1)
centre_id=$("$G" id "${centre[@]}" | head -1)
community=$("$G" id "${centre[@]}" | sed -n 's/^community //p')
"$G" roster add "${centre[@]}" "$laptop_id" --name 三号楼 --role building --grid 1 --building 3
"$G" join "${b3[@]}" --community "$community" --centre-id "$centre_id"

step "The building lead records a request (it gets an ID)"
id=$("$G" request add "${b3[@]}" --resident 张阿姨 --phone 13800001234 --category 居家养老 \
      --title 每周送餐上门 --detail "独居老人，腿脚不便" --due 2026-12-31)
"$G" request list "${b3[@]}"

step "The laptop brings a bundle to the centre"
"$G" bundle export "${b3[@]}" --out "$work/b3-1.gsb"
"$G" bundle import "${centre[@]}" "$work/b3-1.gsb"

step "While apart, both change the title of the same request"
"$G" request edit "${centre[@]}" "$id" --title "每周二、四送餐上门"
"$G" request edit "${b3[@]}" "$id" --title "每天送餐上门"
"$G" request accept "${centre[@]}" "$id" --note "已电话联系家属"

step "They exchange bundles, each carrying only what the other lacks"
"$G" bundle export "${centre[@]}" --out "$work/centre-1.gsb" --since "$("$G" vector "${b3[@]}")"
"$G" bundle export "${b3[@]}" --out "$work/b3-2.gsb" --since "$("$G" vector "${centre[@]}")"
"$G" bundle import "${centre[@]}" "$work/b3-2.gsb"
"$G" bundle import "${b3[@]}" "$work/centre-1.gsb"

step "Both show the same conflict, with the same winner; nothing was lost"
"$G" conflicts list "${centre[@]}"
"$G" conflicts list "${b3[@]}"
conflict=$("$G" conflicts list "${centre[@]}" --json | sed -n 's/^ *"id" : "\(.*\)",*$/\1/p' | head -1)
"$G" conflicts show "${centre[@]}" "$conflict"

step "The centre settles it by picking value 2; the next bundle carries the decision"
"$G" conflicts resolve "${centre[@]}" "$conflict" --pick 2
"$G" bundle export "${centre[@]}" --out "$work/centre-2.gsb" --since "$("$G" vector "${b3[@]}")"
"$G" bundle import "${b3[@]}" "$work/centre-2.gsb"
"$G" conflicts list "${b3[@]}"
"$G" request show "${b3[@]}" "$id"

step "Both stores hold the same data"
da=$("$G" digest "${centre[@]}")
db=$("$G" digest "${b3[@]}")
echo "centre:     $da"
echo "building 3: $db"
open_conflicts=$("$G" status "${centre[@]}" --json | sed -n 's/^ *"open_conflicts" : \([0-9]*\).*/\1/p')
if [[ "$da" == "$db" && "$open_conflicts" == "0" ]]; then
  echo "Converged: same digest, no open conflicts."
else
  echo "NOT converged" >&2
  exit 1
fi
