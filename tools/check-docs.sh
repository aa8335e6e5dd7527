#!/usr/bin/env bash
# Keeps the docs true: checks README.md, docs/*.md and slurm/README.md against
# the built tools and the tree, and prints one line per stale name.
#
#   tools/check-docs.sh [BUILD]                 check (BUILD defaults to ./build)
#   tools/check-docs.sh --update-help [BUILD]   rewrite the --help blocks first
#
# What it checks:
#   options  every --name quoted anywhere in the docs is an option of a dals
#            tool (its --help), of one of our scripts (a case label in
#            tools/*.sh, an add_argument of tools/*.py) or of another program on the short list FOREIGN
#            below. Inside a command (a code line or a `span`) that runs
#            dals-X (or `dals X`, or slurm/X.sbatch), the options after it
#            must be dals-X's own; after tools/X.sh, that script's own.
#   --help   a fenced block that starts with "Usage: ... dals-X" must equal
#            the output of `BUILD/dals-X --help` (--update-help rewrites it).
#   paths    every path of ours (tools/, tests/, slurm/, docs/, src/, include/,
#            apps/, .ci/) quoted in a `span` or a code block exists (globs must
#            match), and so does every bare file name (x.cpp, x.hpp, x.sh,
#            x.sbatch, x.bash) somewhere in the tree.
#   names    in the block under "The tree" of docs/architecture.md, every
#            name listed for a subsystem folder SUB exists as
#            include/dals/SUB/NAME* or src/SUB/NAME*.
#   links    every relative link [text](target#anchor) resolves to a file, and
#            the anchor to one of its headings (GitHub's rule); the README
#            links every docs/*.md.
# Exit status: 0 if all is well, 1 if anything is stale, 2 on a usage error or
# a tool that cannot print its --help.
set -euo pipefail

# Options of programs other than dals that the docs quote. Keep it short: an
# option of ours must never be added here.
readonly FOREIGN=(
  --map-by --bind-to --host --mca                                  # mpirun
  --uts                                                            # unshare
  --ntasks-per-node --cpus-per-task --hint --signal --requeue      # sbatch/srun
  --mpi --kill-on-bad-exit                                         # srun
  --test-dir --output-on-failure                                   # ctest
  --build --install --prefix                                       # cmake
  --gtest_filter                                                   # gtest
)
readonly TOOLS=(train generate partition import inspect recommend eval export plan)

update_help=0
if [ "${1:-}" = "--update-help" ]; then update_help=1; shift; fi
if [ $# -gt 1 ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-build}"
[ -d "$build" ] || build="$root/$build"
build="$(cd "$build" 2>/dev/null && pwd)" || { echo "check-docs: no build directory ${1:-build}" >&2; exit 2; }
cd "$root"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# --help of every tool, and the options each one names.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for t in "${TOOLS[@]}"; do
  if ! "$build/dals-$t" --help >"$work/help.dals-$t" 2>&1; then
    echo "check-docs: $build/dals-$t --help failed:" >&2
    sed 's/^/  /' "$work/help.dals-$t" >&2
    exit 2
  fi
  grep -oE -- '--[A-Za-z][A-Za-z0-9_-]*' "$work/help.dals-$t" | sort -u >"$work/opts.dals-$t"
done
# Options our scripts parse: their case labels (--a | --b) ...).
for s in tools/*.sh tools/local-slurm/*.sh tools/local-hosts/*.sh; do
  grep -E '^[[:space:]]*--[a-z][a-z0-9-]*([[:space:]]*\|[[:space:]]*--[a-z][a-z0-9-]*)*[[:space:]]*\)' "$s" |
    grep -oE -- '--[a-z][a-z0-9-]*' | sort -u >"$work/opts.${s//\//_}" || true
done
# ... and our Python scripts, their argparse options.
for s in tools/*.py; do
  grep -oE -- 'add_argument\("--[a-z][a-z0-9-]*"(, *"-[a-z]")?' "$s" | grep -oE -- '--[a-z][a-z0-9-]*' |
    sort -u >"$work/opts.${s//\//_}" || true
done
{ cat "$work"/opts.*; printf '%s\n' "${FOREIGN[@]}"; } | sort -u >"$work/known"

docs=(README.md docs/*.md slurm/README.md)

if [ "$update_help" = 1 ]; then
  for d in "${docs[@]}"; do
    awk -v dir="$work" '
      skip && /^```/ { skip = 0; incode = 0; print; next }
      skip { next }
      fence && /^Usage: / && match($0, /dals-(train|generate|partition|import|inspect|recommend|eval|export|plan)/) {
        f = dir "/help." substr($0, RSTART, RLENGTH)
        while ((getline l < f) > 0) print l
        close(f); fence = 0; skip = 1; next
      }
      { fence = 0 }
      /^```/ { if (!incode) { incode = 1; fence = 1 } else incode = 0 }
      { print }' "$d" >"$work/updated" && cat "$work/updated" >"$d"
  done
fi

# One pass over each doc writes records, tab-separated:
#   OPT file line context option     context: -, dals-X or tools/X.sh
#   PATH file line path   FILE file line name   LINK file line target
#   HELP file line tool blockfile     ARCH file line sub name
extract() {
  awk -v file="$1" -v dir="$work" '
    function out(s) { print s }
    function strip(w) {
      sub(/^[`("'\''\[<]+/, "", w); sub(/[`)"'\'',.;:\]>]+$/, "", w); return w
    }
    # A command or a span: options get the tool they follow as context.
    function unit(text, line, code,   n, w, i, ctx, j, o, rest, p) {
      n = split(text, w, /[ \t]+/); ctx = "-"
      for (i = 1; i <= n; i++) {
        if (code && w[i] ~ /^#/) break
        if (w[i] ~ /^(\||\|\||&&|;)$/ || w[i] ~ /;$/) { ctx = "-"; continue }
        s = strip(w[i])
        if (s ~ /(^|\/)dals-(train|generate|partition|import|inspect|recommend|eval|export)$/) { sub(/.*\//, "", s); ctx = s; continue }
        if (s == "dals" && i < n && strip(w[i+1]) ~ /^(train|generate|partition|import|inspect|recommend|eval|export)$/) {
          ctx = "dals-" strip(w[i+1]); i++; continue
        }
        if (s ~ /^slurm\/(train|partition)\.sbatch$/) { p = s; sub(/^slurm\//, "", p); sub(/\..*/, "", p); ctx = "dals-" p }
        else if (s ~ /^(\.\/)?tools\/[a-z-]+\.sh$/) { ctx = s; sub(/^\.\//, "", ctx) }
        rest = w[i]
        while (match(rest, /(^|[^A-Za-z0-9_-])--[A-Za-z][A-Za-z0-9_-]*/)) {
          o = substr(rest, RSTART, RLENGTH); rest = substr(rest, RSTART + RLENGTH)
          sub(/^[^-]/, "", o)  # (sub() resets RSTART and RLENGTH in mawk)
          out("OPT\t" file "\t" line "\t" ctx "\t" o)
        }
        names(s, line)
      }
    }
    function names(s, line,   p) {
      if (match(s, /^(\.\/)?(tools|tests|slurm|docs|src|include|apps|\.ci)\/[A-Za-z0-9_.*\/-]*/)) {
        p = substr(s, RSTART, RLENGTH); sub(/^\.\//, "", p)
        out("PATH\t" file "\t" line "\t" p)
      } else if (s !~ /\// && s ~ /^[A-Za-z0-9_.*-]+\.(cpp|hpp|h|sh|bash|sbatch)$/) {
        out("FILE\t" file "\t" line "\t" s)
      }
    }
    function prose_options(text, line,   o) {
      while (match(text, /(^|[^A-Za-z0-9_-])--[A-Za-z][A-Za-z0-9_-]*/)) {
        o = substr(text, RSTART, RLENGTH); text = substr(text, RSTART + RLENGTH)
        sub(/^[^-]/, "", o)
        out("OPT\t" file "\t" line "\t-\t" o)
      }
    }
    function flush() { if (pend != "") unit(pend, pendline, 1); pend = "" }
    BEGIN { nblock = 0 }
    # The tree of docs/architecture.md: the block under its heading "The tree".
    /^#+ / && !fenced { arch = (file == "docs/architecture.md" && $0 ~ /^#+ The tree$/) }
    # Fenced blocks.
    /^```/ {
      flush()
      if (!fenced) { fenced = 1; first = 1; help = "" }
      else { fenced = 0; if (help != "") { close(hf); out("HELP\t" file "\t" hstart "\t" help "\t" hf) }; help = "" }
      prev_blank = 0; next
    }
    fenced {
      if (first && $0 ~ /^Usage: / && match($0, /dals-(train|generate|partition|import|inspect|recommend|eval|export|plan)/)) {
        help = substr($0, RSTART, RLENGTH); hstart = NR; hf = dir "/block." (++nblock)
      }
      first = 0
      if (help != "") { print > hf; next }
      if (arch && match($0, /^  [a-z]+\/ +/)) {
        sub_ = substr($0, 3); sub(/\/.*/, "", sub_); archlist($0, NR)
      } else if (arch && sub_ != "" && $0 ~ /^               +[a-z]/) archlist($0, NR)
      else sub_ = ""
      codeline($0, NR); next
    }
    # Indented code blocks: four spaces after a blank line or more code.
    /^    / && (prev_blank || incode) && !inlist { incode = 1; codeline($0, NR); next }
    {
      flush(); incode = 0
      if ($0 ~ /^[ \t]*$/) { prev_blank = 1; inlist = 0; next }
      if ($0 ~ /^[ \t]*([-*]|[0-9]+\.) /) inlist = 1
      prev_blank = 0
      text = $0
      while (match(text, /\]\([^) ]+\)/)) {
        t = substr(text, RSTART + 2, RLENGTH - 3)
        if (t !~ /^[a-z]+:/) out("LINK\t" file "\t" NR "\t" t)
        text = substr(text, 1, RSTART) substr(text, RSTART + RLENGTH)
      }
      rest = ""
      while (match(text, /`[^`]+`/)) {
        a = RSTART; b = RLENGTH
        unit(substr(text, a + 1, b - 2), NR, 0)
        rest = rest " " substr(text, 1, a - 1); text = substr(text, a + b)
      }
      prose_options(rest " " text, NR)
    }
    function codeline(s, line) {
      if (pend == "") pendline = line
      if (s ~ /\\$/) { sub(/\\$/, "", s); pend = pend " " s; return }
      pend = pend " " s; flush()
    }
    function archlist(s, line,   n, it, i, nm) {
      if (sub_ == "") return
      sub(/^  [a-z]+\/ +/, "", s)
      gsub(/\([^)]*\)/, "", s)
      n = split(s, it, /,/)
      for (i = 1; i <= n; i++) {
        nm = it[i]; sub(/^[ \t]+/, "", nm); sub(/[^a-z0-9_].*/, "", nm)
        if (nm != "") out("ARCH\t" file "\t" line "\t" sub_ "\t" nm)
      }
    }
    END { flush() }' "$1"
}

# Headings of a markdown file as GitHub anchors (duplicates get -1, -2, ...).
anchors() {
  awk '/^```/ { f = !f; next } !f && /^#+ / {
    h = tolower($0); sub(/^#+ +/, "", h); gsub(/[^a-z0-9 _-]/, "", h); gsub(/ /, "-", h)
    if (h in seen) { seen[h]++; h = h "-" seen[h] } else seen[h] = 0
    print h }' "$1"
}

tree="$work/tree"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files --cached --others --exclude-standard >"$tree"
else
  find . -type f ! -path './.git/*' | sed 's#^\./##' >"$tree"
fi

for d in "${docs[@]}"; do extract "$d"; done >"$work/records"

stale=0
report() { echo "$1:$2: $3"; stale=1; }

while IFS=$'\t' read -r kind file line a b; do
  case "$kind" in
    OPT)
      if [ "$a" = "-" ]; then
        grep -qxF -- "$b" "$work/known" || report "$file" "$line" "$b: not an option of any dals tool or script"
      elif [[ "$a" == dals-* ]]; then
        grep -qxF -- "$b" "$work/opts.$a" || report "$file" "$line" "$b: not an option of $a (see $a --help)"
      else
        f="$work/opts.${a//\//_}"
        if [ -s "$f" ]; then
          grep -qxF -- "$b" "$f" || report "$file" "$line" "$b: not an option of $a"
        else
          grep -qxF -- "$b" "$work/known" || report "$file" "$line" "$b: not an option of any dals tool or script"
        fi
      fi ;;
    PATH)
      p="${a%/}"
      if [[ "$p" == *'*'* ]]; then
        compgen -G "$p" >/dev/null || report "$file" "$line" "$a: matches no file"
      else
        [ -e "$p" ] || report "$file" "$line" "$a: no such file or directory"
      fi ;;
    FILE)
      found=0
      while IFS= read -r f; do
        # shellcheck disable=SC2254  # the name may be a glob (bench*.sh)
        case "${f##*/}" in $a) found=1; break ;; esac
      done <"$tree"
      [ "$found" = 1 ] || report "$file" "$line" "$a: no file of that name in the tree" ;;
    ARCH)
      grep -qE "^(include/dals|src)/$a/$b([._]|$)" "$tree" ||
        report "$file" "$line" "$b: no include/dals/$a/$b* or src/$a/$b* in the tree" ;;
    LINK)
      target="${a%%#*}"; anchor=""
      [[ "$a" == *'#'* ]] && anchor="${a#*#}"
      if [ -z "$target" ]; then path="$file"; else path="$(dirname "$file")/$target"; fi
      if [ ! -e "$path" ]; then
        report "$file" "$line" "link $a: no such file"
      elif [ -n "$anchor" ] && { anchors "$path" >"$work/anchors"; ! grep -qxF -- "$anchor" "$work/anchors"; }; then
        report "$file" "$line" "link $a: no such heading in $target"
      fi ;;
    HELP)
      if ! diff -q "$b" "$work/help.$a" >/dev/null; then
        first="$(diff "$b" "$work/help.$a" | sed -nE '1s/^([0-9]+).*/\1/p' || true)"
        report "$file" "$((line + first - 1))" "the $a --help block differs from $a --help (tools/check-docs.sh --update-help rewrites it)"
      fi ;;
  esac
done <"$work/records"

# The README's Documentation list links every doc.
for d in docs/*.md; do
  awk -F'\t' -v d="$d" '$1 == "LINK" && $2 == "README.md" && ($4 == d || index($4, d "#") == 1) { f = 1 }
    END { exit !f }' "$work/records" ||
    report README.md 1 "$d: not linked from the README"
done

if [ "$stale" = 0 ]; then
  echo "check-docs: ${#docs[@]} docs: every option, --help block, path and link checked against $build and the tree"
fi
exit "$stale"
