#!/usr/bin/env python3
# test-slurm-split.py: depict-cli tag --shard and --files-from, and depict-cli gallery merge,
# with the tiny fixture model: the shards are disjoint and cover the photos wherever the
# archive is mounted, --shard auto reads Slurm's and Kubernetes' variables, and the merged
# gallery of the shards is the gallery of one run over all the photos (idempotent,
# transactional, newest result, tags with their sources, paths rewritten).
#
# SPDX-License-Identifier: GPL-3.0-or-later
import os
import shutil
import resource
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from depict_test import (CLI, check_same, cli, content, dump, make_photos,  # noqa: E402
                         paths, synthetic_sources, tag)

N = 3


class Split(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="depict-split-")
        cls.photos = os.path.join(cls.work, "archive")
        cls.all = make_photos(cls.photos, 10)
        cls.single = os.path.join(cls.work, "single.db")
        tag(cls.single, "--recursive", cls.photos)
        cls.shards = []
        for k in range(N):
            db = os.path.join(cls.work, "shard%d.db" % k)
            tag(db, "--recursive", "--shard", "%d/%d" % (k, N), cls.photos)
            cls.shards.append(db)
        # A person's tags, in the single run and in the shard that has the photo.
        for db in [cls.single] + [db for db in cls.shards if cls.all[2] in paths(db)]:
            for args in (["--add", "sunset", "--add", "blurry"], ["--remove", "blurry"]):
                status, _, err = cli("tags", "--db", db, *args, cls.all[2])
                assert status == 0, err

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def db(self, name):
        return os.path.join(self.work, name)

    def test_shards_disjoint_and_covering(self):
        seen = []
        for db in self.shards:
            seen += paths(db)
        self.assertEqual(sorted(seen), self.all)
        self.assertEqual(len(set(seen)), len(seen))
        self.assertTrue(all(len(paths(db)) < len(self.all) for db in self.shards))

    def test_shard_by_content_not_path(self):
        # Another mount point of the same archive, walked from elsewhere: the same photos.
        mount = os.path.join(self.work, "mnt-elsewhere")
        shutil.copytree(self.photos, mount)
        for k in range(N):
            db = self.db("mount%d.db" % k)
            tag(db, "--recursive", "--shard", "%d/%d" % (k, N), mount)
            names = [os.path.relpath(p, mount) for p in paths(db)]
            self.assertEqual(names, [os.path.relpath(p, self.photos) for p in paths(self.shards[k])])

    def test_shard_resumes(self):
        status, _, err = tag(self.shards[1], "--recursive", "--shard", "1/%d" % N, self.photos)
        self.assertIn("0 failed", err)
        self.assertIn("already done", err)
        self.assertIn("Tagged 0 photos", err)

    def test_shard_auto(self):
        want = paths(self.shards[2])
        slurm = {"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1",
                 "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_STEP": "1",
                 "JOB_COMPLETION_INDEX": None}
        tag(self.db("slurm.db"), "-r", "--shard", "auto", self.photos, env=slurm)
        self.assertEqual(paths(self.db("slurm.db")), want)
        k8s = {"JOB_COMPLETION_INDEX": "2", "SLURM_ARRAY_TASK_ID": None}
        tag(self.db("k8s.db"), "-r", "--shard", "auto/3", self.photos, env=k8s)
        self.assertEqual(paths(self.db("k8s.db")), want)

    def test_shard_refusals(self):
        none = {"SLURM_ARRAY_TASK_ID": None, "JOB_COMPLETION_INDEX": None}
        cases = [("auto", none, "neither a task of a Slurm array"),
                 ("auto", {"SLURM_ARRAY_TASK_ID": None, "JOB_COMPLETION_INDEX": "1"},
                  "--shard auto/N"),
                 ("auto", {"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1",
                           "SLURM_ARRAY_TASK_COUNT": "3"}, "--array=0-7"),
                 ("3/3", none, "from 0 to 2"), ("1/0", none, "K/N"), ("one/two", none, "K/N")]
        for arg, env, words in cases:
            status, _, err = tag(self.db("refused.db"), "--shard", arg, self.photos, env=env,
                                 check=False)
            self.assertEqual(status, 2, (arg, err))
            self.assertIn(words, err)
        self.assertFalse(os.path.exists(self.db("refused.db")))

    def test_files_from(self):
        listed = self.all[:3]
        listing = self.db("list.txt")
        with open(listing, "w") as f:
            f.write("\n".join(listed + [os.path.join(self.work, "gone.png")]) + "\n")
        status, _, err = tag(self.db("list.db"), "--files-from", listing, check=False)
        self.assertEqual(status, 1, err)
        self.assertIn("gone.png: the file listed is not there", err)
        self.assertEqual(paths(self.db("list.db")), listed)
        # NUL-separated, from standard input, with a shard: that shard of the list.
        nul = "\0".join(self.all).encode() + b"\0"
        tag(self.db("stdin.db"), "--files-from", "-", "--shard", "0/%d" % N, stdin=nul)
        self.assertEqual(paths(self.db("stdin.db")), paths(self.shards[0]))

    def test_merge_equals_single_run(self):
        merged = self.db("merged.db")
        status, _, err = cli("gallery", "merge", *self.shards, "--into", merged)
        self.assertEqual(status, 0, err)
        self.assertIn("Merged 3 galleries", err)
        check_same(content(merged), content(self.single), "shards merged against one run")
        before = dump(merged)
        status, _, err = cli("gallery", "merge", *reversed(self.shards), "--into", merged)
        self.assertEqual(status, 0, err)
        self.assertIn("0 new results, 0 newer results", err)
        self.assertEqual(dump(merged), before, "merging again changed the gallery")

    def test_newest_result_and_tags(self):
        photo = self.all[1]
        a, b = self.db("a.db"), self.db("b.db")
        tag(a, photo)
        tag(b, photo)
        for db, args in ((a, ["--add", "kept", "--add", "gone"]), (a, ["--remove", "gone"]),
                         (b, ["--add", "gone", "--add", "only-b"])):
            status, _, err = cli("tags", "--db", db, *args, photo)
            self.assertEqual(status, 0, err)
        label = ("INSERT INTO tags (image_id, name, run_id, source, removed)"
                 " SELECT image_id, ?, id, 0, 0 FROM runs WHERE task = '<CAPTION>'")
        scored = "UPDATE tags SET score = 0.75 WHERE name = 'label-of-newer'"
        with sqlite3.connect(a) as c:  # a label a's caption proposed
            c.execute(label, ("label-of-older",))
        with sqlite3.connect(b) as c:  # b's caption ran later, and said something else
            c.execute("UPDATE runs SET created = created + 100, raw_text = 'later caption'"
                      " WHERE task = '<CAPTION>'")
            c.execute(label, ("label-of-newer",))
            c.execute(scored)
        results = []
        for order in ((a, b), (b, a)):
            into = self.db("ab%d.db" % len(results))
            status, _, err = cli("gallery", "merge", *order, "--into", into)
            self.assertEqual(status, 0, err)
            rows = content(into)
            self.assertIn("later caption", [r[7] for r in rows["runs"] if r[1] == "<CAPTION>"])
            self.assertEqual(len(rows["runs"]), 2)
            tags = {r[1]: (r[2], r[3]) for r in rows["tags"]}
            scores = {r[1]: r[4] for r in rows["tags"]}
            self.assertEqual(scores["label-of-newer"], 0.75, "a tag's score was lost")
            self.assertEqual(tags["gone"], (2, 1), "a removed tag came back")
            self.assertEqual(tags["kept"], (2, 0))
            self.assertEqual(tags["only-b"], (2, 0))
            self.assertEqual(tags["label-of-newer"], (0, 0))
            self.assertNotIn("label-of-older", tags, "a replaced result's label stayed")
            results.append(rows)
        self.assertEqual(results[0], results[1], "the order of the sources mattered")

    def test_map_prefix(self):
        into = self.db("mapped.db")
        status, _, err = cli("gallery", "merge", "--map-prefix",
                             self.photos + "/=/home/me/Pictures", *self.shards, "--into", into)
        self.assertEqual(status, 0, err)
        self.assertEqual(paths(into), sorted("/home/me/Pictures/" +
                                             os.path.relpath(p, self.photos) for p in self.all))
        status, _, err = cli("gallery", "merge", "--map-prefix", "relative=/x", self.shards[0],
                             "--into", into)
        self.assertEqual(status, 2)
        self.assertIn("is not a prefix map", err)

    def test_merge_refuses_and_leaves_destination(self):
        into = self.db("kept.db")
        status, _, err = cli("gallery", "merge", self.shards[0], "--into", into)
        self.assertEqual(status, 0, err)
        before = dump(into)
        newer = self.db("newer.db")
        shutil.copy(self.shards[2], newer)
        with sqlite3.connect(newer) as c:
            c.execute("PRAGMA user_version = 99")
        foreign = self.db("foreign.db")
        with sqlite3.connect(foreign) as c:
            c.execute("CREATE TABLE notes (x)")
        for bad, words in ((newer, "newer version of Depict (schema 99"),
                           (foreign, "another program"), (into, "the gallery being merged into")):
            # The first source merges, then the bad one stops it: nothing of either stays.
            status, _, err = cli("gallery", "merge", self.shards[1], bad, "--into", into)
            self.assertEqual(status, 1, err)
            self.assertIn(words, err)
            self.assertIn("Nothing was merged", err)
            self.assertEqual(dump(into), before)

    def test_merge_older_source(self):
        # A gallery of schema 1 (tests/gallery/gallery-v1.sql, as first released) is brought up
        # to date and merged.
        old = self.db("v1.db")
        sql = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gallery",
                           "gallery-v1.sql")
        with sqlite3.connect(old) as c:
            c.executescript(open(sql).read())
            c.executescript(
                "INSERT INTO images VALUES (1, '%s', 10, 640, 480, 1, 1700000000);"
                "INSERT INTO image_paths VALUES ('/photos/old.jpg', 1, 10, 1700000000, 1);"
                "INSERT INTO runs (id, image_id, task, model_name, weights_hash, num_beams,"
                " max_new_tokens, raw_text, token_ids, result, timings, created) VALUES"
                " (1, 1, '<CAPTION>', 'base', '0123abcd', 3, 20, 'an old caption', '[2,0,2]',"
                " '{\"<CAPTION>\": \"an old caption\"}', '{}', 1700000000);" % ("a" * 64))
        into = self.db("with-v1.db")
        status, _, err = cli("gallery", "merge", self.shards[0], old, "--into", into)
        self.assertEqual(status, 0, err)
        self.assertIn("/photos/old.jpg", paths(into))
        rows = content(into)["runs"]
        self.assertIn("an old caption", [r[7] for r in rows])
        self.assertEqual(len(rows), len(content(self.shards[0])["runs"]) + 1)

    def test_merge_killed_leaves_destination(self):
        # 4 galleries of 60 000 results in all (about 3 CPU seconds of merging), the merge
        # killed by the kernel after 1 CPU second (RLIMIT_CPU), in the middle of its
        # transaction: the destination is as it was, and a merge afterwards completes.
        into = self.db("killed.db")
        status, _, err = cli("gallery", "merge", self.shards[0], "--into", into)
        self.assertEqual(status, 0, err)
        before = dump(into)
        big = os.path.join(self.work, "big")
        os.makedirs(big)
        sources = synthetic_sources(big, self.shards[0], 60000, 4)

        def limit_cpu():
            resource.setrlimit(resource.RLIMIT_CPU, (1, 1))
        proc = subprocess.run([CLI, "gallery", "merge"] + sources + ["--into", into],
                              preexec_fn=limit_cpu, capture_output=True, timeout=300)
        self.assertLess(proc.returncode, 0, "the merge was not killed before it ended (%d): %s"
                        % (proc.returncode, proc.stderr.decode()))
        self.assertEqual(dump(into), before, "a killed merge changed the destination")
        status, _, err = cli("gallery", "merge", *sources, "--into", into)
        self.assertEqual(status, 0, err)
        def count(db):
            with sqlite3.connect("file:%s?mode=ro" % db, uri=True) as c:
                return c.execute("SELECT count(*) FROM runs").fetchone()[0]
        # Each source is a copy of shard 0 with new photos: its results are merged once.
        want = sum(count(db) for db in sources) - 3 * count(self.shards[0])
        self.assertGreater(want, 59000)
        self.assertEqual(count(into), want)

if __name__ == "__main__":
    unittest.main(verbosity=2)
