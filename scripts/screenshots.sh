#!/usr/bin/env bash
# Regenerate docs/screenshots/: the activity page (ride with power, run, pool swim,
# multisport, indoor ride), the feed, the athlete and the stats pages, at desktop (1280 px)
# and phone (390 px) width, in headless Chromium, light (and dark for the ride).
# Usage: ./scripts/screenshots.sh   (needs chromium and ../shared/samples for the multisport file)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
cargo build --locked -p bincio-gen
gen="$repo/target/debug/bincio-gen"
chromium="$(command -v chromium || command -v chromium-browser)"
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/in"
for f in synth-ride-smart synth-run synth-pool-swim synth-indoor-ride; do
  cp "fixtures/activities/fit/$f.fit" "$work/in/"
done
multi="$repo/../shared/samples/devices/fff__activity_multisport.fit"
[ -f "$multi" ] && cp "$multi" "$work/in/multisport.fit"
"$gen" -q extract --input "$work/in" --output "$work/data" --handle eve --display-name "Eve" || true
port=$((20000 + RANDOM % 20000))
"$gen" -q serve --data-dir "$work/data" --out "$work/site" --listen "127.0.0.1:$port" &
server=$!
for _ in $(seq 1 100); do [ -f "$work/site/index.html" ] && break; sleep 0.2; done
sleep 1
out="$repo/docs/screenshots"
mkdir -p "$out"
shot() { # name url width [hash]
  "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$work/profile-$1" --virtual-time-budget=6000 \
    --window-size="$3,${5:-1800}" --screenshot="$out/$1.png" "http://127.0.0.1:$port$2${4:-}" \
    >/dev/null 2>&1
  echo "docs/screenshots/$1.png"
}
page_of() { # the activity page whose sport badge matches
  grep -l "$1" "$work"/site/activity/*/index.html | head -1 | sed "s|$work/site||; s|index.html||"
}
ride="$(page_of 'Normalized power')"
run="$(page_of 'spm<')"
swim="$(page_of '/100 m<')"
indoor="$(page_of 'No GPS track')"
multi_page="$(page_of 'Forerunner 945' || true)"
for w in 1280 390; do
  kind=$([ "$w" = 1280 ] && echo desktop || echo phone)
  shot "activity-ride-$kind" "$ride" "$w"
  shot "activity-run-$kind" "$run" "$w"
  shot "activity-swim-$kind" "$swim" "$w"
  shot "activity-indoor-$kind" "$indoor" "$w"
  [ -n "$multi_page" ] && shot "activity-multisport-$kind" "$multi_page" "$w"
  shot "feed-$kind" "/" "$w" "" 1200
  shot "athlete-$kind" "/u/eve/athlete/" "$w"
  shot "stats-$kind" "/u/eve/stats/" "$w" "" 1400
done
shot "activity-ride-desktop-dark" "$ride" 1280 "#bincio-test=theme"
shot "activity-ride-phone-dark" "$ride" 390 "#bincio-test=theme"
