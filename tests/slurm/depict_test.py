# depict_test.py: what the tests of tests/slurm share — photos made on the spot, depict-cli
# with the tiny fixture model, and a gallery read back as plain rows to compare galleries.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import os
import random
import sqlite3
import struct
import subprocess
import zlib

CLI = os.environ.get("DEPICT_CLI", "depict-cli")
DATA = os.environ.get("DEPICT_TEST_DATA", "")
TAG_ARGS = ["--model", os.path.join(DATA, "models", "tiny"),
            "--tokenizer", os.path.join(DATA, "tokenizer"),
            "--device", "cpu-reference", "--tasks", "caption,od", "--max-new-tokens", "8",
            "--beams", "1", "--quiet"]


def png(width, height, seed, level=6):
    """A PNG of width × height RGB pixels drawn from seed; level changes the bytes only."""
    rng = random.Random(seed)
    rows = b"".join(b"\0" + bytes(rng.randrange(256) for _ in range(width * 3))
                    for _ in range(height))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, level)) + chunk(b"IEND", b""))


def make_photos(folder, count, duplicate=True):
    """count photos in folder (two sub-folders deep for some), and when duplicate one more file
    with the pixels of the first but other bytes (the same photo to the gallery). Returns the
    absolute paths."""
    paths = []
    for i in range(count):
        sub = os.path.join(folder, "roll%d" % (i % 3))
        os.makedirs(sub, exist_ok=True)
        path = os.path.join(sub, "photo%03d.png" % i)
        with open(path, "wb") as f:
            f.write(png(24 + i % 5, 16 + i % 7, i))
        paths.append(os.path.abspath(path))
    if duplicate:
        path = os.path.join(folder, "copy-of-photo000.png")
        with open(path, "wb") as f:
            f.write(png(24, 16, 0, level=1))
        paths.append(os.path.abspath(path))
    return sorted(paths)


def cli(*args, env=None, stdin=None):
    """depict-cli ARGS → (status, stdout, stderr)."""
    full_env = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            full_env.pop(name, None)
        else:
            full_env[name] = value
    p = subprocess.run([CLI] + [str(a) for a in args], env=full_env, input=stdin,
                       capture_output=True, timeout=600)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def tag(db, *args, env=None, stdin=None, check=True):
    status, out, err = cli("tag", *TAG_ARGS, "--db", db, *args, env=env, stdin=stdin)
    if check and status != 0:
        raise AssertionError("depict-cli tag %s failed (%d): %s" % (args, status, err))
    return status, out, err


def connect(db):
    return sqlite3.connect("file:%s?mode=ro" % db, uri=True)


def paths(db):
    with connect(db) as c:
        return sorted(r[0] for r in c.execute("SELECT path FROM image_paths"))


def content(db):
    """The gallery as rows without ids, times and which file was seen first: what a merged
    gallery must share with a single run over the same photos."""
    with connect(db) as c:
        q = lambda sql: sorted((tuple(r) for r in c.execute(sql)),
                               key=lambda r: [(v is not None, str(v)) for v in r])
        px = "(SELECT pixels FROM images WHERE id = %s)"
        return {
            "images": q("SELECT pixels, width, height, orientation FROM images"),
            "files": q("SELECT sha256, %s FROM image_files" % (px % "image_id")),
            "paths": q("SELECT path, %s, size, mtime, missing FROM image_paths"
                       % (px % "image_id")),
            "runs": q("SELECT %s, task, text_input, model_name, weights_hash, num_beams,"
                      " max_new_tokens, raw_text, token_ids, result, text_caption, text_ocr,"
                      " text_labels FROM runs" % (px % "image_id")),
            "tags": q("SELECT %s, name, source, removed, score,"
                      " (SELECT task FROM runs WHERE id = run_id) FROM tags" % (px % "image_id")),
            "text": q("SELECT %s, captions, ocr, labels, tags FROM image_text"
                      % (px % "image_id")),
            "search": q("SELECT %s, t.captions FROM image_fts f JOIN image_text t"
                        " ON t.image_id = f.rowid WHERE image_fts MATCH"
                        " 'a* OR e* OR i* OR o* OR s* OR t*'" % (px % "t.image_id")),
        }


def dump(db):
    """Every row of every table, ids and times included: what must not change."""
    with connect(db) as c:
        return list(c.iterdump())


def check_same(got, want, what):
    for key in want:
        if got[key] != want[key]:
            missing = [r for r in want[key] if r not in got[key]][:3]
            extra = [r for r in got[key] if r not in want[key]][:3]
            raise AssertionError("%s: %s differ (%d rows against %d); missing %s; extra %s"
                                 % (what, key, len(got[key]), len(want[key]), missing, extra))


def synthetic_sources(work, template, n_results, n_sources):
    """n_sources galleries holding about n_results new runs in all, each a copy of the template
    gallery with copies of its first photo (two runs: caption and od): new pixels, files,
    paths, and results that differ by a word."""
    per_source = n_results // n_sources // 2
    sources = []
    for s in range(n_sources):
        db = os.path.join(work, "synthetic-%d.db" % s)
        with sqlite3.connect(template) as src, sqlite3.connect(db) as dst:
            src.backup(dst)
        with sqlite3.connect(db) as c:
            c.execute("PRAGMA foreign_keys = ON")
            (image,) = c.execute("SELECT min (id) FROM images").fetchone()
            (last,) = c.execute("SELECT max (id) FROM images").fetchone()
            c.execute("""
              WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
              INSERT INTO images (hash, size, width, height, orientation, added, pixels)
                SELECT printf('%064x', ?2 * 10000000 + i), size, width, height, orientation,
                       added, printf('p%063x', ?2 * 10000000 + i)
                FROM n, images WHERE images.id = ?3""", (per_source - 1, s, image))
            c.execute("INSERT INTO image_files (sha256, image_id) SELECT hash, id FROM images"
                      " WHERE id > ?1", (last,))
            c.execute("""INSERT INTO image_paths (path, image_id, size, mtime, seen)
                SELECT printf('/archive/s%d/%s.png', ?1, hash), id, size, 0, 0 FROM images
                WHERE id > ?2""", (s, last))
            c.execute("""INSERT INTO runs (image_id, task, text_input, model_name, weights_hash,
                  num_beams, max_new_tokens, raw_text, token_ids, result, timings, created,
                  text_caption, text_ocr, text_labels)
                SELECT i.id, r.task, r.text_input, r.model_name, r.weights_hash, r.num_beams,
                  r.max_new_tokens, r.raw_text || ' ' || i.id, r.token_ids, r.result, r.timings,
                  r.created, r.text_caption || ' w' || i.id, r.text_ocr, r.text_labels
                FROM images i, runs r WHERE i.id > ?2 AND r.image_id = ?1""", (image, last))
            c.execute("""INSERT INTO image_text (image_id, captions, ocr, labels, tags)
                SELECT image_id, text_caption, '', '', '' FROM runs WHERE task = '<CAPTION>'
                AND image_id > ?1""", (last,))
        sources.append(db)
    return sources
