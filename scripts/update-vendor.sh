#!/usr/bin/env bash
# Refresh the browser libraries committed under <folder>/vendor/ from the versions pinned in
# <folder>/package-lock.json, for two folders: themes/default (the theme's libraries, listed in
# theme.toml) and dev/a11y (test-only tools such as axe-core, listed in vendor.toml). Run it by
# hand when upgrading a library (edit package.json, `npm install --package-lock-only --prefix
# <folder>`, then this script); rendering and the tests never need npm.
#
# For each library listed in the folder's [vendor.<name>] tables it fetches the pinned tarball
# from the npm registry (`npm pack`), checks the tarball's sha512 against the lockfile's
# `integrity`, unpacks it, copies the listed files plus the licence and package.json into
# <folder>/vendor/<name>/, and writes vendor/<name>/SHA256SUMS, which the tests compare with
# the committed files.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for folder in themes/default dev/a11y; do
cd "$repo/$folder"
manifest=theme.toml
[ -f "$manifest" ] || manifest=vendor.toml

# Library names and their files, from the manifest's [vendor.<name>] tables.
python3 - "$manifest" > "$work/libs.txt" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    theme = tomllib.load(f)
for name, entry in theme.get("vendor", {}).items():
    print(name, " ".join(entry["files"]))
PY

while read -r name files; do
  read -r version integrity < <(python3 - "$name" <<'PY'
import json, sys
lock = json.load(open("package-lock.json"))
pkg = lock["packages"][f"node_modules/{sys.argv[1]}"]
print(pkg["version"], pkg["integrity"])
PY
)
  echo "==> $name $version"
  tarball=$(cd "$work" && npm pack --silent "$name@$version")
  algo=${integrity%%-*}
  expected=${integrity#*-}
  actual=$(openssl dgst "-$algo" -binary "$work/$tarball" | base64 -w0)
  if [ "$actual" != "$expected" ]; then
    echo "error: $folder/$tarball does not match package-lock.json ($algo-$actual != $integrity)" >&2
    exit 1
  fi
  mkdir -p "$work/$name"
  tar -xzf "$work/$tarball" -C "$work/$name"
  dest="vendor/$name"
  rm -rf "$dest"
  mkdir -p "$dest"
  cp "$work/$name/package/package.json" "$dest/package.json"
  for lic in LICENSE LICENSE.md LICENSE.txt; do
    [ -f "$work/$name/package/$lic" ] && cp "$work/$name/package/$lic" "$dest/$lic"
  done
  for f in $files; do
    mkdir -p "$dest/$(dirname "$f")"
    cp "$work/$name/package/$f" "$dest/$f"
  done
  (cd "$dest" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS)
  echo "    $(wc -l < "$dest/SHA256SUMS") files in $folder/$dest (sha512 verified)"
done < "$work/libs.txt"
done
