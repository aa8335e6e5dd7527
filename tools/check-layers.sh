#!/usr/bin/env bash
# tools/check-layers.sh: the layering of docs/architecture.md, checked from
# the #include lines. A file in folder F (src/F/, include/dals/F/) may
# include "dals/G/..." only if G is F itself or one of the folders F may
# depend on (below). apps/ and tests/ may include anything. Prints one line
# per offending include and exits 1 if there is any; 0 otherwise.
#
#   tools/check-layers.sh            (from anywhere in the checkout)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The one table of allowed dependencies, bottom to top.
declare -A ALLOWED=(
  [core]=""
  [mpi]="core"
  [data]="core"
  [solve]="core"
  [train]="core mpi data solve"
  [partition]="core mpi data"
  [generate]="core mpi data"
  [checkpoint]="core mpi data solve train"
  [run]="core mpi data solve train checkpoint"
  [recommend]="core mpi data solve train checkpoint"
  [export]="core mpi data solve train checkpoint"
)

bad=0
checked=0
while IFS= read -r file; do
  case "$file" in
    src/*) folder=${file#src/} ;;
    include/dals/*) folder=${file#include/dals/} ;;
    *) continue ;;
  esac
  folder=${folder%%/*}
  if [[ -z "${ALLOWED[$folder]+set}" ]]; then
    echo "$file: folder '$folder' is not in the layer table of tools/check-layers.sh" >&2
    bad=1
    continue
  fi
  while IFS=: read -r line target; do
    checked=$((checked + 1))
    [[ "$target" == "$folder" ]] && continue
    if [[ " ${ALLOWED[$folder]} " != *" $target "* ]]; then
      echo "$file:$line: $folder/ must not include dals/$target/ (allowed: ${ALLOWED[$folder]:-none})" >&2
      bad=1
    fi
  done < <(grep -n -o '^#include "dals/[a-z_]*/' "$file" | sed 's|:#include "dals/|:|; s|/$||')
  # A private header of another folder, reached by a relative path.
  if grep -n '^#include "\.\./' "$file" >&2; then
    echo "$file: includes another folder's private header by a relative path" >&2
    bad=1
  fi
done < <(git ls-files 'src/*' 'include/dals/*' | grep -E '\.(cpp|hpp|h|in)$')

if ((bad)); then
  echo "check-layers: includes that break docs/architecture.md's layers (above)" >&2
  exit 1
fi
echo "check-layers: all $checked dals/ includes of src/ and include/ follow the layers"
