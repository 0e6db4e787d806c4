#!/usr/bin/env bash
# Fails when a tracked C++ file (*.cc, *.h) is not formatted as .clang-format
# says (clang-format-14, Debian's clang-format-14 package). Fix with
#   git ls-files '*.cc' '*.h' | xargs clang-format-14 -i
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h')
if [ ${#files[@]} -eq 0 ]; then
  echo "check_format: no tracked C++ files (not a git checkout?)" >&2
  exit 1
fi
clang-format-14 --dry-run -Werror "${files[@]}"
echo "check_format: ${#files[@]} files formatted as .clang-format says" >&2
