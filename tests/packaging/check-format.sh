#!/bin/sh
# Every C file under src/ and tests/ is formatted as .clang-format says (clang-format 14, as
# Debian 12 ships it). Fails with the names of the files that are not, and how to fix them.
set -eu
top=$1
cd "$top"
if ! command -v clang-format >/dev/null 2>&1; then
  echo "clang-format is not installed (Debian: apt-get install clang-format); .ci/dev test installs it." >&2
  exit 1
fi
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
  files=$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h')
else
  files=$(find src tests -name '*.[ch]' | sort)
fi
bad=""
for f in $files; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    bad="$bad $f"
  fi
done
if [ -n "$bad" ]; then
  echo "Not formatted as .clang-format says:" >&2
  for f in $bad; do echo "  $f" >&2; done
  echo "Fix with: clang-format -i$bad" >&2
  exit 1
fi
echo "$(echo "$files" | wc -w) files formatted as .clang-format says"
