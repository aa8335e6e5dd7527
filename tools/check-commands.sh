#!/usr/bin/env bash
# tools/check-commands.sh: every external command that the project's shell
# scripts run must be installed by tools/install-deps.sh, or come with a
# fresh Debian 12 machine. CI's machine already has whatever a developer
# installed by hand, so a test that calls a program nothing installs passes
# there and fails on a new machine; this check finds such a command without
# a new machine, in a few seconds. .ci/run runs it before the tests.
#
#   tools/check-commands.sh          exit 0: all commands accounted for; 1: not
#   tools/check-commands.sh -v       also list every command and its package
#
# How. The scripts (tools/, tests/, slurm/, .ci/: *.sh, *.bash, *.sbatch and
# files with a sh/bash #! line) are parsed by shfmt into a syntax tree; the
# command word of every simple command is taken, also inside $(...), <(...),
# pipelines and functions, looking through wrappers that run their arguments
# (env, timeout, sudo, runuser, flock, xargs, nice, nohup, exec, command,
# /usr/bin/time, mpirun, srun, find -exec, the test helpers check, run_one,
# run_ranks, start_ranks, value_of; the names given to require_commands
# count as used) and into literal code (bash -c '...', trap '...',
# eval '...', sbatch --wrap '...', and bash -c "$VAR" where VAR is assigned
# a literal in the same file). Shell builtins and keywords, functions defined
# in the scripts, the project's own programs (dals-*) and relative paths
# (project files) are left out. Each remaining command is looked up in
# /usr/sbin:/usr/bin:/sbin:/bin (what a Debian machine has; /usr/local and
# ~/.pyenv are not), and the file it resolves to (through
# /etc/alternatives: any of the alternatives) is mapped to its Debian
# package. That package must be
#  - in tools/install-deps.sh's list (tools/install-deps.sh --list), or
#  - of Priority "required" (what debootstrap --variant=minbase installs), or
#  - in tools/debian-base-packages.list (a Debian 12 server image's extras).
# A command found nowhere, or not from a Debian package, is an error too:
# the script runs it and nothing installs it.
#
# One line per offending command, naming the first script and line that
# uses it. Not seen: commands named only through a variable ("$MPIRUN",
# "${cmd[@]}") and commands that awk or another program starts.
#
# Needs shfmt and jq (tools/install-deps.sh installs both), dpkg and git.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VERBOSE=0
case "${1:-}" in
  -v | --verbose) VERBOSE=1 ;;
  -h | --help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "check-commands: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac

die() { echo "check-commands: error: $*" >&2; exit 1; }
for tool in shfmt jq dpkg-query; do
  command -v "$tool" >/dev/null || die "$tool not found: run tools/install-deps.sh first"
done

# Where a Debian machine's commands live (no /usr/local: no package puts files there).
SYSTEM_PATH=/usr/sbin:/usr/bin:/sbin:/bin
# Project helpers that run their arguments as a command: name -> words to skip first.
PROJECT_WRAPPERS='{"check": 2, "run_one": 1, "run_ranks": 2, "start_ranks": 2, "value_of": 2}'

# ---------------------------------------------------------------- the scripts
list_scripts() {
  local f
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -co --exclude-standard -- tools tests slurm .ci
  else
    find tools tests slurm .ci -type f | sort
  fi | while read -r f; do
    [[ -f "$f" ]] || continue
    case "$f" in
      *.sh | *.bash | *.sbatch) echo "$f" ;;
      *.*) ;;
      *) head -n 1 "$f" | grep -qE '^#!.*[/ ](ba)?sh( |$)' && echo "$f" ;;
    esac
  done
}

# The jq program: from shfmt's JSON syntax tree, one record per line:
#   F NAME            a function is defined
#   C LINE NAME       a command is run
#   X LINE JSON       literal shell code to scan as well (a JSON string)
# A word is its literal text, or "\u0000" + the variable name (or just
# "\u0000") when it is not a literal.
read -r -d '' JQ_PROGRAM <<'JQ' || true
def word:
  . as $wd
  | [ (.Parts // [])[] |
    if .Type == "Lit" or .Type == "SglQuoted" then .Value
    elif .Type == "DblQuoted" then
      ([ (.Parts // [])[] | if .Type == "Lit" then .Value else null end ]
       | if map(select(. == null)) | length > 0 then null else join("") end)
    else null end ]
  | if map(select(. == null)) | length == 0 then join("")
    else
      # a lone "$VAR" or $VAR: remember the name
      ([ ($wd.Parts // [])[] | if .Type == "DblQuoted" then (.Parts // [])[] else . end ]) as $p
      | if ($p | length) == 1 and $p[0].Type == "ParamExp" and ($p[0].Exp == null) and ($p[0].Index == null)
           and ($p[0].Length | not) and ($p[0].Excl | not)
        then "\u0000" + $p[0].Param.Value else "\u0000" end
    end;
def dyn: startswith("\u0000");
def isopt: (dyn | not) and startswith("-") and . != "-";
def member($list): . as $x | any($list[]; . == $x);
# Skip leading options; those in $witharg take the next word too.
def skipopts($witharg):
  if length == 0 then .
  elif .[0] == "--" then .[1:]
  elif (.[0] | isopt) then
    if (.[0] | member($witharg)) then .[2:] | skipopts($witharg) else .[1:] | skipopts($witharg) end
  else . end;
def skipassigns: if length > 0 and (.[0] | dyn | not) and (.[0] | test("^[A-Za-z_][A-Za-z0-9_]*=")) then .[1:] | skipassigns else . end;
def code($w; $assigns):
  if ($w | dyn | not) then {code: $w}
  elif ($w | length) > 1 and $assigns[$w[1:]] != null then {code: $assigns[$w[1:]]}
  else empty end;
def resolve($assigns; $wrappers):
  if length == 0 or (.[0] | dyn) then empty else
  .[0] as $c | .[1:] as $r | {name: $c},
  if $wrappers[$c] != null then $r[$wrappers[$c]:] | resolve($assigns; $wrappers)
  elif ($c | member(["exec", "nohup", "setsid", "builtin"])) then $r | resolve($assigns; $wrappers)
  elif $c == "command" then
    if (($r[0] // "") | test("^-p?[vV]")) then empty else $r | skipopts([]) | resolve($assigns; $wrappers) end
  elif $c == "env" then $r | skipopts(["-u", "--unset", "-C", "--chdir", "-S", "--split-string"]) | skipassigns
    | resolve($assigns; $wrappers)
  elif $c == "timeout" then $r | skipopts(["-k", "--kill-after", "-s", "--signal"]) | .[1:] | resolve($assigns; $wrappers)
  elif $c == "nice" then $r | skipopts(["-n", "--adjustment"]) | resolve($assigns; $wrappers)
  elif $c == "stdbuf" then $r | skipopts(["-i", "-o", "-e"]) | resolve($assigns; $wrappers)
  elif $c == "sudo" then $r | skipopts(["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T"]) | skipassigns
    | resolve($assigns; $wrappers)
  elif $c == "runuser" or $c == "su" then
    ($r | to_entries | map(select(.value == "-c" or .value == "--command")) | .[0].key) as $k
    | if $k != null then ($r[$k + 1] // "\u0000") as $w | code($w; $assigns)
      else $r | skipopts(["-u", "--user", "-g", "--group", "-G", "--supp-group", "-s", "--shell", "-w"])
        | resolve($assigns; $wrappers) end
  elif $c == "flock" then
    ($r | to_entries | map(select(.value == "-c" or .value == "--command")) | .[0].key) as $k
    | if $k != null then ($r[$k + 1] // "\u0000") as $w | code($w; $assigns)
      else $r | skipopts(["-w", "--timeout", "-E", "--conflict-exit-code"])
        | if length == 0 or (.[0] | test("^[0-9]+$")) then empty else .[1:] | resolve($assigns; $wrappers) end end
  elif $c == "xargs" then $r | skipopts(["-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s", "--arg-file", "--delimiter",
      "--max-args", "--max-procs", "--max-lines", "--max-chars"])
    | if length == 0 then {name: "echo"} else resolve($assigns; $wrappers) end
  elif $c == "time" or $c == "/usr/bin/time" then $r | skipopts(["-f", "--format", "-o", "--output"])
    | resolve($assigns; $wrappers)
  elif $c == "mpirun" or $c == "mpiexec" or $c == "dals_mpirun" then
    def mpiskip: if length == 0 then . elif .[0] == "--mca" or .[0] == "-mca" then .[3:] | mpiskip
      elif (.[0] | isopt) then
        if (.[0] | member(["-n", "-np", "-c", "-N", "--npernode", "--map-by", "--bind-to", "--rank-by", "-x",
            "-H", "--host", "--hostfile", "-hostfile", "--machinefile", "-wdir", "--wdir", "--prefix",
            "--output-filename"])) then .[2:] | mpiskip else .[1:] | mpiskip end
      else . end;
    $r | mpiskip | resolve($assigns; $wrappers)
  elif $c == "srun" then $r | skipopts(["-n", "-N", "-c", "-t", "-o", "-e", "-p", "-J", "-w", "-D", "-A", "-q",
      "--ntasks", "--nodes", "--cpus-per-task", "--time", "--output", "--error", "--partition", "--job-name",
      "--nodelist", "--chdir", "--account", "--qos", "--mpi", "--signal"]) | resolve($assigns; $wrappers)
  elif $c == "sbatch" then
    ($r | to_entries | map(select(.value == "--wrap")) | .[0].key) as $k
    | if $k != null then code($r[$k + 1] // "\u0000"; $assigns)
      else ($r[] | select(dyn | not) | select(startswith("--wrap=")) | {code: .[7:]}) end
  elif $c == "bash" or $c == "sh" then
    ($r | to_entries | map(select((.value | isopt) and (.value | test("^-[a-zA-Z]*c[a-zA-Z]*$")))) | .[0].key) as $k
    | if $k != null then code($r[$k + 1] // "\u0000"; $assigns) else empty end
  elif $c == "require_commands" then $r[] | select(dyn | not) | {name: .}
  elif $c == "trap" then
    if ($r | length) >= 2 and ($r[0] != "-") and ($r[0] | isopt | not) then code($r[0]; $assigns) else empty end
  elif $c == "eval" then
    if ($r | length) > 0 and ($r | map(select(dyn)) | length) == 0 then {code: ($r | join(" "))} else empty end
  elif $c == "find" then
    $r | to_entries | map(select(.value | member(["-exec", "-execdir", "-ok", "-okdir"]))) | .[].key as $k
    | $r[$k + 1:] | resolve($assigns; $wrappers)
  else empty end
  end;
. as $tree
| ([ $tree | .. | objects | select(.Type == "CallExpr" and ((.Args // []) | length) == 0) | .Assigns[]?
     | select(.Value != null) | {key: .Name.Value, value: (.Value | word)} | select(.value | dyn | not) ]
   | from_entries) as $assigns
| ($tree | .. | objects | select(.Type == "FuncDecl") | "F\t\(.Name.Value)"),
  ($tree | .. | objects | select(.Type == "CallExpr" and ((.Args // []) | length) > 0)
   | .Args[0].Pos.Line as $line
   | [.Args[] | word] | resolve($assigns; $wrappers)
   | if .name != null then "C\t\($line)\t\(.name)" else "X\t\($line)\t\(.code | tojson)" end)
JQ

# scan LABEL LINE_OFFSET: reads shell code on stdin; prints "C FILE:LINE NAME"
# and "F NAME" records, recursing into literal code.
scan() {
  local label=$1 offset=$2 json out kind line rest
  if ! json=$(shfmt -ln bash --tojson 2>&1); then
    echo "E	$label:$offset	shfmt cannot parse it: ${json//$'\n'/ }"
    return 0
  fi
  if ! out=$(jq -r --argjson wrappers "$PROJECT_WRAPPERS" "$JQ_PROGRAM" 2>&1 <<<"$json"); then
    echo "E	$label:$offset	jq failed on its syntax tree: ${out//$'\n'/ }"
    return 0
  fi
  while IFS=$'\t' read -r kind line rest; do
    case "$kind" in
      F) echo "F	$line" ;;
      C) echo "C	$label:$((offset + line - 1))	$rest" ;;
      X) jq -r . <<<"$rest" | scan "$label" "$((offset + line - 1))" ;;
    esac
  done <<<"$out"
}

records=$(
  list_scripts | while read -r f; do scan "$f" 1 <"$f"; done
)
[[ -n "$records" ]] || die "no scripts found under tools/, tests/, slurm/ or .ci/"
status=0
if grep -q '^E' <<<"$records"; then
  grep '^E' <<<"$records" | cut -f2- | sed 's/\t/: /; s/^/check-commands: /' >&2
  status=1
fi

declare -A skip=() first=() uses=()
while read -r w; do skip[$w]=1; done < <(compgen -b -k)
while IFS=$'\t' read -r _ name; do skip[$name]=1; done < <(grep '^F' <<<"$records")
while IFS=$'\t' read -r _ where name; do
  [[ -n "${skip[$name]:-}" || "$name" == dals-* ]] && continue
  [[ "$name" == */* && "$name" != /* ]] && continue  # a project file
  [[ -n "${first[$name]:-}" ]] || first[$name]=$where
  uses[$name]=$((${uses[$name]:-0} + 1))
done < <(grep '^C' <<<"$records")

# ---------------------------------------------------------------- packages
declare -A listed=() base=() priority=()
while read -r p; do listed[$p]=1; done < <("$ROOT/tools/install-deps.sh" --list)
while read -r p _; do [[ -n "$p" && "$p" != \#* ]] && base[$p]=1; done <"$ROOT/tools/debian-base-packages.list"
while IFS=$'\t' read -r p prio; do priority[${p%%:*}]=$prio; done < <(dpkg-query -W -f='${Package}\t${Priority}\n')

# candidates PATH: the files PATH may stand for: itself, its target, the
# other spelling of a merged-/usr path, and each alternative of a link
# through /etc/alternatives.
candidates() {
  local p=$1 real name
  real=$(readlink -f -- "$p")
  printf '%s\n' "$p" "$real"
  case "$p" in
    /usr/bin/* | /usr/sbin/*) echo "${p#/usr}" ;;
    /bin/* | /sbin/*) echo "/usr$p" ;;
  esac
  if [[ -L "$p" && "$(readlink -- "$p")" == /etc/alternatives/* ]]; then
    name=$(basename "$(readlink -- "$p")")
    update-alternatives --list "$name" 2>/dev/null || true
  fi
}

declare -A path_of=() cands_of=()
all_cands=$(mktemp)
trap 'rm -f "$all_cands"' EXIT
for name in "${!first[@]}"; do
  path_of[$name]=""
  if [[ "$name" == /* ]]; then
    [[ -x "$name" ]] && path_of[$name]=$name
  else
    path_of[$name]=$(PATH=$SYSTEM_PATH type -P -- "$name" || true)
  fi
  if [[ -n "${path_of[$name]}" ]]; then
    cands_of[$name]=$(candidates "${path_of[$name]}" | awk '!seen[$0]++')
    printf '%s\n' "${cands_of[$name]}" >>"$all_cands"
  fi
done
# file -> package, from dpkg's file lists (one grep instead of a dpkg -S per file)
declare -A pkg_of_file=()
# (grep prints LIST:FILE; a multiarch list is named PKG:ARCH.list, so split at ".list:")
while IFS= read -r line; do
  list=${line%%.list:*} file=${line#*.list:}
  pkg=$(basename "$list")
  pkg_of_file[$file]=${pkg%%:*}
done < <(dpkg_lists=(/var/lib/dpkg/info/*.list) && sort -u "$all_cands" | grep -HFx -f - -- "${dpkg_lists[@]}" || true)

why() {  # why PACKAGE: how it gets onto a fresh machine, or nothing
  if [[ -n "${listed[$1]:-}" ]]; then echo "tools/install-deps.sh"
  elif [[ "${priority[$1]:-}" == required ]]; then echo "Priority: required"
  elif [[ -n "${base[$1]:-}" ]]; then echo "server image"
  fi
}

problems=()
for name in $(printf '%s\n' "${!first[@]}" | sort); do
  where=${first[$name]}
  more=""
  ((${uses[$name]} > 1)) && more=" (and $((${uses[$name]} - 1)) more use(s))"
  if [[ -z "${path_of[$name]:-}" ]]; then
    if [[ "$name" == /* ]]; then
      problems+=("$where: $name: no such program on this machine; nothing installs it$more")
    elif other=$(type -P -- "$name"); then
      problems+=("$where: $name: only at $other, not from a Debian package; nothing installs it$more")
    else
      problems+=("$where: $name: command not found on this machine; nothing installs it$more")
    fi
    continue
  fi
  pkgs=() ok=""
  while read -r c; do
    [[ -n "${pkg_of_file[$c]:-}" ]] || continue
    pkgs+=("${pkg_of_file[$c]}")
    reason=$(why "${pkg_of_file[$c]}")
    if [[ -n "$reason" ]]; then ok="${pkg_of_file[$c]} ($reason)"; break; fi
  done <<<"${cands_of[$name]}"
  if [[ -n "$ok" ]]; then
    ((VERBOSE)) && printf 'ok   %-14s %-28s %s%s\n' "$name" "$ok" "$where" "$more"
  elif ((${#pkgs[@]} == 0)); then
    problems+=("$where: $name: ${path_of[$name]} belongs to no Debian package; nothing installs it$more")
  else
    problems+=("$where: $name: from package ${pkgs[0]}, which is not in tools/install-deps.sh's list (add it there)$more")
  fi
done

if ((${#problems[@]})); then
  printf 'check-commands: %s\n' "${problems[@]}" >&2
  echo "check-commands: FAILED: ${#problems[@]} command(s) that a fresh Debian 12 machine would lack" >&2
  exit 1
fi
((status == 0)) || exit "$status"
echo "check-commands: all ${#first[@]} external commands of $(list_scripts | wc -l) scripts come from" \
  "tools/install-deps.sh's packages or a Debian 12 base image"
