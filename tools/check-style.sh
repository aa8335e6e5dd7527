#!/usr/bin/env bash
# tools/check-style.sh: the C++ sources against .clang-format (Google, 120
# columns) and every shell script against shellcheck at warning level.
# Prints what is off and exits 1; 0 if all is clean. CI runs it.
#
#   tools/check-style.sh          check
#   tools/check-style.sh --fix    reformat the C++ files in place (shell findings stay to fix by hand)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
fix=0
case "${1:-}" in
  --fix) fix=1 ;;
  "") ;;
  *) echo "usage: tools/check-style.sh [--fix]" >&2; exit 2 ;;
esac

for tool in clang-format shellcheck; do
  command -v "$tool" >/dev/null || { echo "check-style: $tool not found (tools/install-deps.sh installs it)" >&2; exit 1; }
done

mapfile -t cpp < <(git ls-files '*.cpp' '*.hpp' '*.hpp.in')
mapfile -t shell < <(git ls-files '*.sh' '*.bash' '*.sbatch' '.ci/run')
status=0
if ((fix)); then
  clang-format -i "${cpp[@]}"
elif ! clang-format --dry-run --Werror "${cpp[@]}" 2>/tmp/check-style.$$; then
  grep -E '^[^ ].*(warning|error):' /tmp/check-style.$$ | sed 's/: warning: code should be clang-formatted.*/: not formatted as .clang-format says (tools\/check-style.sh --fix)/' | sort -u >&2
  status=1
fi
rm -f /tmp/check-style.$$
if ! shellcheck -S warning -x "${shell[@]}" >&2; then
  status=1
fi
if ((status)); then
  echo "check-style: findings above" >&2
else
  echo "check-style: ${#cpp[@]} C++ files formatted, ${#shell[@]} shell scripts clean at shellcheck's warning level"
fi
exit "$status"
