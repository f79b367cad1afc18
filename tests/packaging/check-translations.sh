#!/bin/sh
# Every translation in po/LINGUAS passes `msgfmt --check` and translates every message of a
# freshly extracted template (no untranslated or fuzzy entries).
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
root=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
xgettext --files-from=po/POTFILES.in --directory="$root" --from-code=UTF-8 \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 --keyword=g_dngettext:2,3 \
  --add-comments=Translators --output="$tmp/depict.pot" 2>"$tmp/xgettext.log" || {
  cat "$tmp/xgettext.log"; exit 1; }
status=0
for lang in $(grep -v '^#' po/LINGUAS); do
  po="po/$lang.po"
  if ! msgfmt --check --output-file=/dev/null "$po"; then
    echo "FAIL: $po does not pass msgfmt --check"; status=1; continue
  fi
  if ! msgcmp "$po" "$tmp/depict.pot" 2>"$tmp/msgcmp.log"; then
    echo "FAIL: $po is not complete against the current sources:"; head -n 40 "$tmp/msgcmp.log"
    status=1
  fi
  stats=$(msgfmt --statistics --output-file=/dev/null "$po" 2>&1)
  echo "$po: $stats"
  case "$stats" in
    *untranslated*|*fuzzy*) echo "FAIL: $po has untranslated or fuzzy messages"; status=1 ;;
  esac
done
exit $status
