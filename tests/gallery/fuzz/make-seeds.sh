#!/bin/sh
# make-seeds.sh: (re)makes the seeds of corpus/gallery: a small gallery written by the store
# itself (then rewritten with 512-byte pages so that the fuzzer works on a few KB), the same in
# WAL mode, the version 1 schema of tests/gallery/gallery-v1.sql, and damaged shapes: cut
# short, foreign application id, newer schema version, a table missing, a torn page.
#
#   tests/gallery/fuzz/make-seeds.sh BUILDDIR [OUTDIR]
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$1
out=${2:-$here/corpus/gallery}
images=$here/../../data/preprocess/images
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$build/tests/gallery/fuzz/make-gallery-seed" "$tmp/g.db" "$images/pixel_1x1.png" \
  "$images/strip_50x3.png"
shrink () {
  sqlite3 "$1" "PRAGMA journal_mode = DELETE; PRAGMA page_size = 512; VACUUM;" >/dev/null
}
shrink "$tmp/g.db"
cp "$tmp/g.db" "$out/seed-v2.db"
cp "$tmp/g.db" "$tmp/wal.db"
sqlite3 "$tmp/wal.db" "PRAGMA journal_mode = WAL;" >/dev/null
cp "$tmp/wal.db" "$out/seed-v2-wal-mode.db"

sqlite3 "$tmp/v1.db" < "$here/../gallery-v1.sql"
shrink "$tmp/v1.db"
cp "$tmp/v1.db" "$out/seed-v1.db"

cp "$tmp/g.db" "$tmp/foreign.db"
sqlite3 "$tmp/foreign.db" "PRAGMA application_id = 1;"
cp "$tmp/foreign.db" "$out/hostile-foreign.db"
cp "$tmp/g.db" "$tmp/new.db"
sqlite3 "$tmp/new.db" "PRAGMA user_version = 99;"
cp "$tmp/new.db" "$out/hostile-newer.db"
cp "$tmp/g.db" "$tmp/missing.db"
sqlite3 "$tmp/missing.db" "DROP TABLE tags; VACUUM;"
cp "$tmp/missing.db" "$out/hostile-missing-table.db"

python3 - "$tmp/g.db" "$out" <<'PY'
import sys
db, out = sys.argv[1], sys.argv[2]
d = open(db, 'rb').read()
open(f'{out}/hostile-cut.db', 'wb').write(d[:len(d) // 2])
open(f'{out}/hostile-header-only.db', 'wb').write(d[:100])
# The last page overwritten with a pattern: the schema still reads, a table does not.
torn = bytearray(d)
torn[-512:] = bytes((i * 37) & 0xff for i in range(512))
open(f'{out}/hostile-torn-page.db', 'wb').write(bytes(torn))
# The page count in the header says more pages than the file has.
big = bytearray(d)
big[28:32] = (0x7fffffff).to_bytes(4, 'big')
open(f'{out}/hostile-page-count.db', 'wb').write(bytes(big))
open(f'{out}/hostile-not-sqlite.db', 'wb').write(b'SQLite format 2\0' + bytes(84))
open(f'{out}/hostile-empty.db', 'wb').write(b'')
PY
ls -l "$out" | awk '{ s += $5 } END { print NR - 1 " files, " s " bytes" }'
