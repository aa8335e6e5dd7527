#!/usr/bin/env bash
# cmake --install into a prefix of one's own, as a cluster user without
# root does: the tools land in PREFIX/bin and run from there (the `dals`
# front end finds its subcommands beside itself), the headers and the
# library in include/ and lib/, the job scripts in share/dals/slurm/.
#
# Usage (as ctest runs it): bash install_prefix.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
require_commands cmake

P=$SCRATCH/prefix
check install "cmake --install puts dals into $P" cmake --install "$BUILD_DIR" --prefix "$P"
for f in bin/dals bin/dals-train bin/dals-partition bin/dals-generate bin/dals-inspect bin/dals-import \
  bin/dals-recommend lib/libdals.a include/dals/core/version.hpp include/dals/train/config.hpp \
  share/dals/slurm/train.sbatch; do
  check layout "$f is installed" test -e "$P/$f"
done
version=$("$P/bin/dals" train --version 2>&1)
check front-end "dals train --version runs the installed dals-train ($version)" \
  grep -q '^dals-train [0-9]' <<<"$version"
run_one "$SCRATCH/unknown" "$P/bin/dals" no-such-command
EXPECT_EXIT_CODE=2 expect_failure unknown "$SCRATCH/unknown" "'no-such-command' is not a dals command"
cli_finish
