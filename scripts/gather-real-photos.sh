#!/usr/bin/env bash
# Gathers real photos for the simulated forgery genome from Debian wallpaper and sample-image
# packages, then cuts them into patches with `dfg genome photos`. Nothing it fetches is
# committed: packages, extracted files and patches live under a cache folder.
#
#   scripts/gather-real-photos.sh [CACHE_DIR]     (default: $XDG_CACHE_HOME/dfg/real-photos or ~/.cache/dfg/real-photos)
#
# Output: CACHE_DIR/patches/*.png (the folder `dfg genome synth --real` reads).
# Needs apt-get (Debian/Ubuntu, package lists up to date: `apt-get update`) and a built
# project (`npx tsc -p tsconfig.json`). Re-running reuses what is already there.
set -euo pipefail

# Wallpaper and sample-image packages (about 200 MB downloaded in all). Override with DFG_PHOTO_PACKAGES.
PACKAGES=${DFG_PHOTO_PACKAGES:-"mate-backgrounds gnome-backgrounds ukui-wallpapers lomiri-wallpapers plasma-workspace-wallpapers python3-skimage-lib"}
CACHE=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/dfg/real-photos}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI="$ROOT/dist/src/cli/index.js"

if [ ! -f "$CLI" ]; then
  echo "error: $CLI is missing; build first: npx tsc -p tsconfig.json" >&2
  exit 1
fi
mkdir -p "$CACHE/debs" "$CACHE/extracted"

for pkg in $PACKAGES; do
  if ! ls "$CACHE/debs/${pkg}"_*.deb >/dev/null 2>&1; then
    echo "downloading $pkg" >&2
    (cd "$CACHE/debs" && apt-get download "$pkg") || { echo "warning: could not download $pkg (apt-get update?)" >&2; continue; }
  fi
  for deb in "$CACHE/debs/${pkg}"_*.deb; do
    [ -d "$CACHE/extracted/$pkg" ] || dpkg-deb -x "$deb" "$CACHE/extracted/$pkg"
  done
done

node "$CLI" genome photos --src "$CACHE/extracted" --out "$CACHE/patches" \
  --size "${DFG_PATCH_SIZE:-384}" --per-image "${DFG_PATCHES_PER_IMAGE:-8}" --seed "${DFG_PHOTO_SEED:-1}"
