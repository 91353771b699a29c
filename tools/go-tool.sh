#!/usr/bin/env bash
# Builds the programs of one Go tool directory (its own pinned go.mod/go.sum) into
#   ${TRELLIS_TOOLS_CACHE:-$HOME/.cache/trellis}/<tool>/<key>/bin/
# where <key> hashes go.mod, go.sum, the programs list and the directory's .go files, so an edit
# builds anew and an unchanged tool is never rebuilt. The directory lists its programs in
# `programs`, one "<binary> <go package>" per line ("." is the directory's own main package;
# "test:<go package>" compiles that package's tests into one binary, as `go test -c` does).
#   go-tool.sh DIR                  build what is missing
#   go-tool.sh DIR --print-bin-dir  print the bin dir and exit
set -euo pipefail

dir="$(cd "${1:?usage: go-tool.sh DIR [--print-bin-dir]}" && pwd)"
tool="$(basename "$dir")"
key="$(cd "$dir" && cat go.mod go.sum programs $(ls *.go 2>/dev/null) | sha256sum | cut -c1-16)"
bin_dir="${TRELLIS_TOOLS_CACHE:-$HOME/.cache/trellis}/$tool/$key/bin"
case "${2:-}" in
  --print-bin-dir) echo "$bin_dir"; exit 0 ;;
  "") ;;
  *) echo "usage: go-tool.sh DIR [--print-bin-dir]" >&2; exit 2 ;;
esac

missing=()
while read -r name pkg; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  [[ -x "$bin_dir/$name" ]] || missing+=("$name=$pkg")
done < "$dir/programs"
if [[ ${#missing[@]} == 0 ]]; then
  echo "go-tool.sh: $tool: all programs present in $bin_dir"
  exit 0
fi
mkdir -p "$bin_dir"
cd "$dir"
export GOFLAGS=-mod=mod CGO_ENABLED=0
start=$(date +%s)
for m in "${missing[@]}"; do
  name="${m%%=*}"; pkg="${m#*=}"
  echo "go-tool.sh: $tool: building $name ($pkg)"
  if [[ $pkg == test:* ]]; then
    go test -c -trimpath -ldflags "-s -w" -o "$bin_dir/$name.tmp" "${pkg#test:}"
  else
    go build -trimpath -ldflags "-s -w" -o "$bin_dir/$name.tmp" "$pkg"
  fi
  mv "$bin_dir/$name.tmp" "$bin_dir/$name"
done
echo "go-tool.sh: $tool: built ${missing[*]%%=*} into $bin_dir in $(( $(date +%s) - start ))s"
