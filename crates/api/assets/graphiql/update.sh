#!/usr/bin/env bash
# Fetches the pinned npm packages GraphiQL is served from, copies the exact files the page
# loads into this directory, and rewrites their SHA-256 checksums in MANIFEST.
#
#   ./update.sh                       refresh the files at the versions MANIFEST pins
#   ./update.sh graphiql=4.1.2 react=18.3.1 react-dom=18.3.1 @graphiql/plugin-explorer=4.0.6
#                                     pin new versions, then refresh (packages not named keep theirs)
#
# Needs npm (only `npm pack`, which downloads a tarball without installing anything),
# tar and sha256sum. Then run `cargo test -p parkgraph-api graphiql` and the browser
# test (`cargo test --test graphiql`) before committing.
set -euo pipefail
cd "$(dirname "$0")"

declare -A pin=()
for arg in "$@"; do
  case "$arg" in
    *=*) pin["${arg%=*}"]="${arg##*=}" ;;
    *) echo "usage: $0 [package=version ...]" >&2; exit 2 ;;
  esac
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Reads MANIFEST (file, package, version, path in the package, sha256, bytes) and writes
# it again with the new versions and checksums.
new="$work/MANIFEST"
sed -n '/^#/p' MANIFEST >"$new"
declare -A fetched=()
while read -r file package version inner _sha _bytes; do
  [[ -z "$file" || "$file" == \#* ]] && continue
  version="${pin[$package]:-$version}"
  tarball_dir="$work/$package@$version"
  if [[ -z "${fetched[$package@$version]:-}" ]]; then
    mkdir -p "$tarball_dir"
    tarball="$(cd "$tarball_dir" && npm pack --silent "$package@$version")"
    tar -xzf "$tarball_dir/$tarball" -C "$tarball_dir"
    # Keep each package's licence beside the files taken from it.
    mkdir -p licenses
    cp "$tarball_dir/package/LICENSE" "licenses/${package##*/}.LICENSE" 2>/dev/null || true
    fetched[$package@$version]=1
  fi
  if [[ ! -f "$tarball_dir/package/$inner" ]]; then
    echo "$package@$version has no $inner: choose another file or version" >&2
    exit 1
  fi
  cp "$tarball_dir/package/$inner" "$file"
  sha="$(sha256sum "$file" | cut -d' ' -f1)"
  bytes="$(wc -c <"$file" | tr -d ' ')"
  printf '%-28s %-26s %-8s %-34s %s %s\n' "$file" "$package" "$version" "$inner" "$sha" "$bytes" >>"$new"
done < <(grep -v '^#' MANIFEST)
mv "$new" MANIFEST
echo "updated:"
grep -v '^#' MANIFEST
