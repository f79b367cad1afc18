#!/usr/bin/env python3
# bench-slurm.py: what splitting a batch into array tasks costs on this machine.
#
#   split   P photos tagged by 1 task, then by 2 and 4 tasks (depict-cli tag --shard K/N, run
#           side by side as the tasks of an array job on one node would), then merged:
#           photos per hour by wall time and CPU seconds, from the same photos in one run.
#   merge   depict-cli gallery merge of S galleries holding R synthetic results in all (rows
#           made from one real tagged photo, through SQLite), and the same merge again.
#
# Usage (from the build tree's environment, as meson sets it for the tests):
#   DEPICT_CLI=_build/src/cli/depict-cli DEPICT_TEST_DATA=tests/data \
#     python3 tests/slurm/bench-slurm.py [--photos 48] [--results 100000] [--sources 4]
# It prints one line per figure with /proc/loadavg.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import argparse
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from depict_test import CLI, TAG_ARGS, make_photos, synthetic_sources  # noqa: E402


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_all(commands):
    """Runs the commands side by side; (wall seconds, CPU seconds of them all)."""
    cpu0, t0 = children_cpu(), time.monotonic()
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for c in commands]
    for c, p in zip(commands, procs):
        _, err = p.communicate()
        if p.returncode != 0:
            sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(c), err.decode()))
    return time.monotonic() - t0, children_cpu() - cpu0


def bench_split(work, n_photos):
    archive = os.path.join(work, "archive")
    photos = make_photos(archive, n_photos, duplicate=False)
    print("split: %d photos, tiny fixture model on the CPU reference (tasks caption,od)"
          % len(photos))
    for n in (1, 2, 4):
        folder = os.path.join(work, "tasks%d" % n)
        os.makedirs(folder)
        dbs = [os.path.join(folder, "gallery-%d.db" % k) for k in range(n)]
        commands = [[CLI, "tag"] + TAG_ARGS + ["--recursive", "--db", dbs[k]]
                    + (["--shard", "%d/%d" % (k, n)] if n > 1 else []) + [archive]
                    for k in range(n)]
        load = loadavg()
        wall, cpu = run_all(commands)
        merge_wall, merge_cpu = run_all([[CLI, "gallery", "merge"] + dbs + [
            "--into", os.path.join(folder, "gallery.db")]])
        print("  %d task%s: %6.0f photos/h by wall time (%.1f s), %6.0f photos per CPU hour"
              " (%.1f CPU s); merge %.2f s wall, %.2f CPU s; load %s"
              % (n, "s" if n > 1 else " ", len(photos) * 3600 / wall, wall,
                 len(photos) * 3600 / cpu, cpu, merge_wall, merge_cpu, load))


def bench_merge(work, n_results, n_sources):
    photo = make_photos(os.path.join(work, "one"), 1, duplicate=False)[0]
    template = os.path.join(work, "template.db")
    subprocess.run([CLI, "tag"] + TAG_ARGS + ["--db", template, photo], check=True,
                   stderr=subprocess.DEVNULL)
    sources = synthetic_sources(work, template, n_results, n_sources)
    total = 0
    for db in sources:
        with sqlite3.connect(db) as c:
            total += c.execute("SELECT count(*) FROM runs").fetchone()[0]
    into = os.path.join(work, "merged.db")
    for what in ("merge", "merge again (nothing new)"):
        load = loadavg()
        wall, cpu = run_all([[CLI, "gallery", "merge"] + sources + ["--into", into]])
        print("  %s: %d results from %d galleries: %.2f s wall, %.2f CPU s (%.0f results/s);"
              " load %s" % (what, total, len(sources), wall, cpu, total / wall, load))
    with sqlite3.connect(into) as c:
        merged = c.execute("SELECT count(*) FROM runs").fetchone()[0]
    # The template's photo is in every source: one photo, two results, once merged.
    if merged != total - 2 * (len(sources) - 1):
        sys.exit("the merged gallery holds %d results, not %d" % (merged, total))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=48)
    parser.add_argument("--results", type=int, default=100000)
    parser.add_argument("--sources", type=int, default=4)
    parser.add_argument("--only", choices=["split", "merge"])
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="depict-bench-slurm-")
    try:
        print("depict-cli: %s; %d CPUs; load %s" % (CLI, os.cpu_count(), loadavg()))
        if args.only != "merge":
            bench_split(work, args.photos)
        if args.only != "split":
            print("merge:")
            bench_merge(work, args.results, args.sources)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
