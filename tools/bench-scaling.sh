#!/usr/bin/env bash
# Strong scaling (printed figures, not a test): trains one dataset at 1, 2,
# 4, 8, 16 ranks x 1 thread and at 1 rank x 16 threads, and prints seconds
# per iteration, strong-scaling efficiency T(1) / (P * T(P)), the exchange's
# share of the iteration and peak memory per rank.
#
#   tools/bench-scaling.sh [--dataset netflix|ml20m|small|tiny] [--ranks "1 2 4 8 16"]
#                          [--threads 16] [--factors 64] [--solver cholesky|cg]
#                          [--iterations 3]
#   tools/bench-scaling.sh --hosts "1 2 3" [--dataset small] [--factors 16]
#                          [--links "plain 1ms 10ms 1%"] [--exchanges "allgather routed"] ...
#
# --hosts: across namespaced hosts on this machine instead
# (tools/local-hosts/hosts.sh, root): H hosts x 1 rank for each H, with the
# allgather and the routed exchange, printing seconds per iteration, the
# exchange's share, what dals reports sending per iteration (busiest rank)
# and what each host's link carried (hosts.sh stats: the busiest link, sent
# and received, per iteration, start-up included), and whether the model
# is bit-identical to the first row's (dals-test-model-diff). This is for
# correctness and the shape of the exchange cost: the hosts share this
# machine's cores, so it says nothing about speed on a cluster. Defaults
# there: --dataset small --factors 16. --links: each host count again with
# every cable slowed (hosts.sh slow): `plain` (the veth cable), `Dms` (each
# host's outgoing frames delayed D ms), `L%` (L percent of them lost) or
# `Dms+L%`; the table then adds the slowdown of each row against the plain
# row of the same hosts and exchange, measured in the same run. See
# docs/multi-host.md.
#
# Meant for a machine with at least as many cores as the largest rank count
# (on fewer cores the ranks share cores and the efficiency says nothing).
# It uses an existing build (DALS_BUILD, default ./build) and installs
# nothing, so that it can run on a machine that only has the runtime
# libraries: on a machine without Boost.Program_options, copy
# libboost_program_options.so.* next to the binaries and set LD_LIBRARY_PATH.
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dataset=netflix ranks_list="1 2 4 8 16" threads=16 factors=64 solver=cholesky iterations=3 hosts_list=""
links_list=plain exchanges_list="allgather routed"
dataset_given="" factors_given=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --dataset) dataset="$2"; dataset_given=1; shift 2 ;;
    --hosts) hosts_list="$2"; shift 2 ;;
    --links) links_list="$2"; shift 2 ;;
    --exchanges) exchanges_list="$2"; shift 2 ;;
    --ranks) ranks_list="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --factors) factors="$2"; factors_given=1; shift 2 ;;
    --solver) solver="$2"; shift 2 ;;
    --iterations) iterations="$2"; shift 2 ;;
    *) printf 'bench-scaling.sh: error: unknown argument %s (see --help)\n' "$1" >&2; exit 2 ;;
  esac
done
if [ -n "$hosts_list" ]; then  # a size the 2 cores of a dev machine train in seconds
  [ -n "$dataset_given" ] || dataset=small
  [ -n "$factors_given" ] || factors=16
fi
case "$dataset" in
  tiny) shape=(4000 2000 200000 4) ;;
  small) shape=(20000 5000 1000000 16) ;;
  ml20m) shape=(138000 27000 20000000 16) ;;
  netflix) shape=(480189 17770 100000000 32) ;;
  *) printf 'bench-scaling.sh: error: unknown dataset %s\n' "$dataset" >&2; exit 2 ;;
esac
dals_setup_env
for exe in dals-generate dals-train; do
  [ -x "$DALS_BUILD/$exe" ] || dals_die "$DALS_BUILD/$exe: not built (run tools/test.sh or set DALS_BUILD)"
done
bench="${DALS_BENCH_DATA:-$DALS_ROOT/bench-data}"
mkdir -p "$bench"
data="$bench/data-${shape[0]}x${shape[1]}x${shape[2]}-b${shape[3]}"
if [ ! -f "$data/manifest.json" ]; then
  dals_phase "dataset $dataset: generating"
  dals_mpirun -n "$(nproc)" "$DALS_BUILD/dals-generate" --users "${shape[0]}" --items "${shape[1]}" \
    --ratings "${shape[2]}" --blocks "${shape[3]}" --test-fraction 0.1 --round --seed 1 --output "$data" --force
fi


rows=() base=""
run() {  # run RANKS THREADS
  local model="$bench/scaling-$1x$2"
  dals_phase "$1 rank(s) x $2 thread(s)"
  OMP_NUM_THREADS="$2" dals_mpirun -n "$1" "$DALS_BUILD/dals-train" --data "$data" --output "$model" --factors "$factors" \
    --solver "$solver" --iterations "$iterations" --threads "$2" --force | tee "$model.log"
  tail -n +2 "$model/metrics.jsonl" >"$model/steady.jsonl"
  local iter exch peak
  iter="$(paste -d' ' <(dals_field user_seconds "$model/steady.jsonl") <(dals_field item_seconds "$model/steady.jsonl") \
    <(dals_field exchange_seconds "$model/steady.jsonl") | awk '{ print $1 + $2 + $3 }' | dals_median)"
  exch="$(dals_field exchange_seconds "$model/steady.jsonl" | dals_median)"
  peak="$(sed -n 's/^done:.*peak memory \([0-9.]*\) MiB per rank.*/\1/p' "$model.log")"
  [ -n "$base" ] || base="$iter"
  rows+=("$(awk -v p="$(($1 * $2))" -v r="$1" -v t="$2" -v it="$iter" -v b="$base" -v e="$exch" -v m="$peak" \
    'BEGIN { printf "| %d x %d | %.3f | %.2f | %.0f%% | %.1f%% | %s |", r, t, it, b / it, 100 * b / (p * it), 100 * e / it, m }')")
}
# set_links HOSTS_SH NAME LINK: every cable of the cluster as LINK says
# (plain, Dms, L%, Dms+L%; see the header), through hosts.sh slow.
set_links() {
  local delay=0 loss=0 part
  if [ "$3" = plain ]; then
    DALS_BUILD="$DALS_BUILD" "$1" slow "$2" all off || dals_die "hosts.sh slow $2 all off failed"
    return 0
  fi
  for part in ${3//+/ }; do
    case "$part" in
      *ms) delay="${part%ms}" ;;
      *%) loss="${part%\%}" ;;
      *) dals_die "--links: '$3' is not plain, Dms, L% or Dms+L%" ;;
    esac
  done
  DALS_BUILD="$DALS_BUILD" "$1" slow "$2" all off || dals_die "hosts.sh slow $2 all off failed"
  DALS_BUILD="$DALS_BUILD" "$1" slow "$2" all "$delay" "$loss" || dals_die "--links $3: hosts.sh slow failed"
}
# across_hosts: the --hosts table (see the header).
across_hosts() {
  local hosts_sh="$DALS_ROOT/tools/local-hosts/hosts.sh" diff="$DALS_BUILD/tests/dals-test-model-diff"
  local name="bs$$" most=0 h dir why
  why="$("$hosts_sh" check 2>&1)" || dals_die "--hosts: this machine cannot make namespaced hosts: $why"
  for h in $hosts_list; do
    case "$h" in [1-9] | [1-9][0-9]) ;; *) dals_die "--hosts: '$h' is not a number of hosts (1..99)" ;; esac
    [ "$h" -le "$most" ] || most="$h"
  done
  trap '"$hosts_sh" down "$name" >/dev/null 2>&1' EXIT
  dir="$(DALS_HOSTS_QUIET=1 "$hosts_sh" up "$most" --name "$name")"
  local exchange link first="" hostlist i model before after link_mb sent_mb same iter exch plain_iter
  rows=()
  for exchange in $exchanges_list; do
    for h in $hosts_list; do
      plain_iter=""
      for link in $links_list; do
        set_links "$hosts_sh" "$name" "$link"
        hostlist="" && for ((i = 1; i <= h; i++)); do hostlist+="${hostlist:+,}$name-h$i:1"; done
        model="$bench/hosts-$exchange-$h-${link//%/pc}"
        dals_phase "$h host(s) x 1 rank, $exchange exchange, $link cables"
        before="$("$hosts_sh" stats "$name")"
        OMP_NUM_THREADS=1 "$dir/mpirun" --oversubscribe --bind-to none --host "$hostlist" -n "$h" \
          "$DALS_BUILD/dals-train" --data "$data" --output "$model" --factors "$factors" --solver "$solver" \
          --iterations "$iterations" --threads 1 --exchange "$exchange" --force | tee "$model.log"
        after="$("$hosts_sh" stats "$name")"
        # The busiest link: the most bytes sent plus received, per iteration.
        link_mb="$(join <(sort <<<"$before") <(sort <<<"$after") |
          awk -v n="$iterations" '{ b = ($6 - $2) + ($7 - $3); if (b > m) m = b } END { printf "%.2f", m / n / 1e6 }')"
        sent_mb="$(dals_field exchange_bytes_sent "$model/metrics.jsonl" | awk -v n="$iterations" '{ s += $1 } END { printf "%.2f", s / n / 1e6 }')"
        tail -n +2 "$model/metrics.jsonl" >"$model/steady.jsonl"
        iter="$(paste -d' ' <(dals_field user_seconds "$model/steady.jsonl") <(dals_field item_seconds "$model/steady.jsonl") \
          <(dals_field exchange_seconds "$model/steady.jsonl") | awk '{ print $1 + $2 + $3 }' | dals_median)"
        exch="$(dals_field exchange_seconds "$model/steady.jsonl" | dals_median)"
        [ "$link" != plain ] || plain_iter="$iter"
        same="-"
        if [ -z "$first" ]; then
          first="$model"
        elif [ -x "$diff" ]; then
          if "$diff" "$first" "$model" >/dev/null 2>&1; then same=yes; else same=NO; fi
        fi
        rows+=("$(awk -v h="$h" -v x="$exchange" -v c="$link" -v it="$iter" -v e="$exch" -v s="$sent_mb" -v l="$link_mb" \
          -v same="$same" -v p="$plain_iter" 'BEGIN { slow = (p == "" || h == 1) ? "-" : sprintf("%.2fx", it / p)
            printf "| %d x 1 | %s | %s | %.3f | %s | %.3f | %.0f%% | %s | %s | %s |", h, x, c, it, slow, e, 100 * e / it, s, l, same }')")
      done
    done
  done
  set_links "$hosts_sh" "$name" plain
  "$hosts_sh" down "$name" >/dev/null 2>&1
  trap - EXIT
  dals_phase "across namespaced hosts, $dataset (${shape[0]} x ${shape[1]}, ${shape[2]} ratings), k = $factors, $solver, $(nproc) cores shared by all hosts"
  echo "| hosts x ranks | exchange | cables | s / iteration | slowdown | exchange s / iteration | exchange share | MB sent / iteration (dals, busiest rank) | MB / iteration on the busiest link (tx + rx) | model = first row's |"
  echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  printf '%s\n' "${rows[@]}"
  [ -x "$diff" ] || echo "(dals-test-model-diff not built: models not compared)"
  case " ${rows[*]} " in *"| NO |"*) dals_die "a model differs from the first row's" ;; esac
}
if [ -n "$hosts_list" ]; then
  across_hosts
  exit 0
fi
for r in $ranks_list; do run "$r" 1; done
run 1 "$threads"

dals_phase "strong scaling, $dataset, k = $factors, $solver, $(nproc) cores ($(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1))"
echo "| ranks x threads | s / iteration | speed-up | efficiency | exchange | peak RSS MiB / rank |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
