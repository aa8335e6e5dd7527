#!/usr/bin/env bash
# dals-partition input formats: the same ratings written as CSV with a
# header, TSV, '::' (MovieLens 1M), CRLF, gzip (detected by content, not
# name), quoted CSV, blank-separated columns, columns picked by header name
# or by index from a wider file, several files by glob, and 2 ranks: every
# variant must give the same dataset (the same fingerprint).
#
# Usage (as ctest runs it): bash partition_formats.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_PARTITION=$(find_tool dals-partition)
require_tools DALS_PARTITION
require_commands jq gzip split

# The ratings, once: user, item, rating, timestamp.
RAW=$SCRATCH/raw.txt
awk 'BEGIN {
  for (u = 1; u <= 150; u++)
    for (i = 1; i <= 60; i++)
      if ((u * 5 + i * 11) % 6 == 0 || i == u % 60 + 1)
        printf "%d %d %s %d\n", 100 + u, 7000 + i, (u + i) % 2 ? (1 + (u * i) % 5) ".5" : 1 + (u + i) % 5, 978300000 + u * 97 + i
}' >"$RAW"
F=$SCRATCH/in
mkdir -p "$F"
awk 'BEGIN { print "userId,movieId,rating,timestamp" } { print $1 "," $2 "," $3 "," $4 }' "$RAW" >"$F/ratings.csv"
awk '{ print $1 "\t" $2 "\t" $3 "\t" $4 }' "$RAW" >"$F/ratings.tsv"
awk '{ print $1 "::" $2 "::" $3 "::" $4 }' "$RAW" >"$F/ratings.dat"
sed 's/$/\r/' "$F/ratings.csv" >"$F/crlf.csv"
gzip -c "$F/ratings.csv" >"$F/ratings.csv.gz"
cp "$F/ratings.csv.gz" "$F/compressed-but-named.csv"
awk 'BEGIN { print "\"userId\",\"movieId\",\"rating\",\"timestamp\"" } { printf "\"%s\",\"%s\",\"%s\",%s\n", $1, $2, $3, $4 }' \
  "$RAW" >"$F/quoted.csv"
awk '{ printf "  %s   %s\t%s %s \n", $1, $2, $3, $4 }' "$RAW" >"$F/blanks.txt"
awk 'BEGIN { print "ts;stars;note;movie;person" } { print $4 ";" $3 ";\"a; b\";" $2 ";" $1 }' "$RAW" >"$F/wide.csv"
mkdir -p "$F/parts"
head -n 1 "$F/ratings.csv" >"$F/header"
tail -n +2 "$F/ratings.csv" >"$F/body"
split -n l/3 "$F/body" "$F/parts/body-"
for p in "$F"/parts/body-*; do cat "$F/header" "$p" >"$p.csv" && rm "$p"; done
gzip "$F/parts/body-ab.csv"  # one part compressed: a mixed set of files

# variant NAME NP ARGS...: partitions with ARGS and records the fingerprint.
declare -A FINGERPRINT
variant() {
  local name=$1 np=$2
  shift 2
  run_ranks "$np" "$SCRATCH/log-$name" "$DALS_PARTITION" --output "$SCRATCH/out-$name" --blocks 3 --quiet "$@"
  if expect_success "$name" "$SCRATCH/log-$name"; then
    FINGERPRINT[$name]=$(json_field "$SCRATCH/out-$name/manifest.json" .fingerprint)
  else
    FINGERPRINT[$name]=none
  fi
}

variant csv-header 1 --input "$F/ratings.csv" --header
variant tsv 1 --input "$F/ratings.tsv"
variant tsv-explicit 1 --input "$F/ratings.tsv" --separator '\t'
variant colons 1 --input "$F/ratings.dat"
variant colons-explicit 1 --input "$F/ratings.dat" --separator ::
variant crlf 1 --input "$F/crlf.csv" --header
variant gzip 1 --input "$F/ratings.csv.gz" --header
variant gzip-by-content 1 --input "$F/compressed-but-named.csv" --header
variant quoted 1 --input "$F/quoted.csv" --header
variant blanks 1 --input "$F/blanks.txt" --separator whitespace
variant by-name 1 --input "$F/wide.csv" --header --user-column person --item-column movie --rating-column stars
variant by-index 1 --input "$F/wide.csv" --header --separator ';' --user-column 5 --item-column 4 --rating-column 2
variant columns 1 --input "$F/wide.csv" --header --columns timestamp,rating,-,item,user
variant glob-2-ranks 2 --input "$F/parts/*.csv*" --header

reference=${FINGERPRINT[csv-header]}
for name in "${!FINGERPRINT[@]}"; do
  [[ $name == csv-header ]] && continue
  check "$name" "same dataset as the CSV with a header ($reference)" test "${FINGERPRINT[$name]}" = "$reference"
done
check gzip-by-content "the summary names the detected separator" grep -q "separator ','" "$SCRATCH/log-gzip-by-content.rank0.out"

cli_finish
