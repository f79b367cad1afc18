#!/usr/bin/env python3
# test-slurm-cluster.py: data/slurm/depict-tag.sbatch on a real Slurm cluster of one node.
#
# Starts munged, slurmctld and slurmd (Debian's munge, slurmctld, slurmd) as the user running
# the test, all of them configured by files written into a temporary folder (localhost only,
# ports chosen free), submits the array job over generated photos with the tiny fixture model
# and the dependent merge job, waits for them, and checks the merged gallery against one
# depict-cli tag over the same photos. Everything it started is stopped and its folder removed
# at the end. When Slurm cannot start, the test fails and says why (with the daemons' logs):
# it is never skipped.
#
# Usage: test-slurm-cluster.py PATH-TO-depict-tag.sbatch
#
# SPDX-License-Identifier: GPL-3.0-or-later
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from depict_test import (CLI, TAG_ARGS, check_same, content, make_photos,  # noqa: E402
                         paths, tag)

SBATCH_SCRIPT = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else ""
TASKS = 3
PROGRAMS = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo"]
SBIN = ["/usr/sbin", "/sbin", "/usr/bin"]


def program(name):
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", "")] + SBIN))
    if found is None:
        raise AssertionError("%s is not installed: Slurm cannot start (Debian: apt-get install "
                             "slurm-wlm munge, which .ci/dev test installs)" % name)
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """munged, slurmctld and slurmd of a one-node cluster in folder."""

    def __init__(self, folder):
        self.folder = folder
        self.procs = []
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self.node = "depictnode"
        self.conf = os.path.join(folder, "slurm.conf")
        self.socket = os.path.join(folder, "munge.socket")
        self.env = dict(os.environ, SLURM_CONF=self.conf)
        for name in ("SLURM_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_JOB_ID"):
            self.env.pop(name, None)

    def log(self, name):
        return os.path.join(self.folder, name + ".log")

    def logs(self):
        text = ""
        for name in ("munged", "slurmctld", "slurmd"):
            for kind in ("log", "out"):  # its log file, and what it printed
                try:
                    with open(os.path.join(self.folder, name + "." + kind), errors="replace") as f:
                        lines = f.read().splitlines()[-25:]
                except OSError:
                    continue
                if lines:
                    text += "\n--- %s.%s (end) ---\n%s" % (name, kind, "\n".join(lines))
        return text

    def start(self):
        for name in PROGRAMS:
            program(name)
        state, spool = os.path.join(self.folder, "state"), os.path.join(self.folder, "spool")
        os.makedirs(state, mode=0o700)
        os.makedirs(spool, mode=0o700)
        key = os.path.join(self.folder, "munge.key")
        with open(os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(os.urandom(1024))
        self.spawn("munged", [program("munged"), "--foreground", "--force",
                              "--key-file", key, "--socket", self.socket,
                              "--pid-file", os.path.join(self.folder, "munged.pid"),
                              "--seed-file", os.path.join(self.folder, "munged.seed"),
                              "--log-file", self.log("munged")])
        self.wait_for(lambda: os.path.exists(self.socket), 20, "munged did not open its socket")
        cpus = max(2, os.cpu_count() or 2)
        with open(self.conf, "w") as f:
            f.write("\n".join([
                "ClusterName=depicttest",
                "SlurmctldHost=%s(127.0.0.1)" % socket.gethostname(),
                "SlurmctldPort=%d" % free_port(),
                "SlurmdPort=%d" % free_port(),
                "SlurmUser=%s" % self.user,
                "SlurmdUser=%s" % self.user,
                "AuthType=auth/munge",
                "CredType=cred/munge",
                "AuthInfo=socket=%s" % self.socket,
                "StateSaveLocation=%s" % state,
                "SlurmdSpoolDir=%s" % spool,
                "SlurmctldPidFile=%s" % os.path.join(self.folder, "slurmctld.pid"),
                "SlurmdPidFile=%s" % os.path.join(self.folder, "slurmd.pid"),
                "SlurmctldLogFile=%s" % self.log("slurmctld"),
                "SlurmdLogFile=%s" % self.log("slurmd"),
                "SlurmctldDebug=info",
                "SlurmdDebug=info",
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "JobAcctGatherType=jobacct_gather/none",
                "AccountingStorageType=accounting_storage/none",
                "SwitchType=switch/none",
                "MpiDefault=none",
                "SchedulerType=sched/builtin",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_Core",
                "ReturnToService=2",
                "MinJobAge=600",
                "KillWait=5",
                "InactiveLimit=0",
                "NodeName=%s NodeHostname=%s NodeAddr=127.0.0.1 CPUs=%d State=UNKNOWN"
                % (self.node, socket.gethostname(), cpus),
                "PartitionName=test Nodes=%s Default=YES MaxTime=INFINITE State=UP" % self.node,
            ]) + "\n")
        self.spawn("slurmctld", [program("slurmctld"), "-D", "-i", "-f", self.conf])
        self.spawn("slurmd", [program("slurmd"), "-D", "-f", self.conf, "-N", self.node])
        self.wait_for(self.node_ready, 90, "the node did not come up")

    def spawn(self, name, argv):
        out = open(os.path.join(self.folder, name + ".out"), "w")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=self.env,
                                start_new_session=True)
        out.close()
        self.procs.append((name, proc))

    def wait_for(self, ready, seconds, what):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for name, proc in self.procs:
                if proc.poll() is not None:
                    raise AssertionError("Slurm could not start: %s stopped (exit status %d)%s"
                                         % (name, proc.returncode, self.logs()))
            if ready():
                return
            time.sleep(0.5)
        raise AssertionError("Slurm could not start: %s within %d s%s"
                             % (what, seconds, self.logs()))

    def run(self, *argv):
        p = subprocess.run([program(argv[0])] + list(argv[1:]), env=self.env,
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout.strip(), p.stderr.strip()

    def node_ready(self):
        status, out, _ = self.run("sinfo", "--noheader", "--nodes", self.node, "-o", "%T")
        return status == 0 and out.rstrip("*") in ("idle", "mixed", "allocated")

    def job_states(self, job):
        status, out, err = self.run("scontrol", "--oneliner", "show", "job", str(job))
        if status != 0:
            raise AssertionError("scontrol show job %s: %s%s" % (job, err, self.logs()))
        return [w.split("=", 1)[1] for line in out.splitlines() for w in line.split()
                if w.startswith("JobState=")]

    def stop(self):
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class SlurmCluster(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.path.isfile(SBATCH_SCRIPT), "give the path of depict-tag.sbatch")
        # A short path: munge's socket path must fit in a Unix socket address.
        self.folder = tempfile.mkdtemp(prefix="depict-slurm-", dir="/tmp")
        os.chmod(self.folder, 0o755)
        self.cluster = Cluster(self.folder)
        self.addCleanup(shutil.rmtree, self.folder, ignore_errors=True)
        self.addCleanup(self.cluster.stop)
        self.cluster.start()

    def test_array_job_and_merge(self):
        archive = os.path.join(self.folder, "archive")
        out = os.path.join(self.folder, "out")
        photos = make_photos(archive, 9)
        env = dict(DEPICT_CLI=CLI, DEPICT_TAG_ARGS=" ".join(TAG_ARGS))
        submit_env = dict(self.cluster.env, **env)
        log = os.path.join(self.folder, "job-%A-%a.out")

        def sbatch(*args):
            p = subprocess.run([program("sbatch"), "--parsable", "--output", log,
                                "--cpus-per-task=1", "--mem=0"] + list(args),
                               env=submit_env, capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, "sbatch refused the job: %s%s"
                             % (p.stderr, self.cluster.logs()))
            return p.stdout.strip().split(";")[0]

        array = sbatch("--array=0-%d" % (TASKS - 1), SBATCH_SCRIPT, archive, out)
        merge = sbatch("--dependency=afterok:%s" % array, SBATCH_SCRIPT, "--merge", out)
        deadline = time.monotonic() + 240
        while True:
            states = self.cluster.job_states(array) + self.cluster.job_states(merge)
            if all(s in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL",
                         "OUT_OF_MEMORY") for s in states) and len(states) == TASKS + 1:
                break
            if time.monotonic() > deadline:
                self.fail("the jobs did not finish within 240 s: %s%s"
                          % (states, self.cluster.logs()))
            time.sleep(1)
        job_logs = ""
        for name in sorted(os.listdir(self.folder)):
            if name.startswith("job-"):
                with open(os.path.join(self.folder, name), errors="replace") as f:
                    job_logs += "\n--- %s ---\n%s" % (name, f.read())
        self.assertEqual(states, ["COMPLETED"] * (TASKS + 1), job_logs)

        shards = [os.path.join(out, "gallery-%d.db" % k) for k in range(TASKS)]
        seen = [p for db in shards for p in paths(db)]
        self.assertEqual(sorted(seen), photos, "the array's shards are not a partition")
        single = os.path.join(self.folder, "single.db")
        tag(single, "--recursive", archive)
        check_same(content(os.path.join(out, "gallery.db")), content(single),
                   "the merged gallery of the Slurm job against one tag run")


if __name__ == "__main__":
    unittest.main(verbosity=2)
