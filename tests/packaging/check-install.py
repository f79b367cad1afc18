#!/usr/bin/env python3
# Installs the build into a temporary prefix (DESTDIR) and checks the file list of a working app.
# SPDX-License-Identifier: GPL-3.0-or-later
import os
import subprocess
import sys
import tempfile

build_root, prefix, app_id = sys.argv[1], sys.argv[2], sys.argv[3]
rel_prefix = prefix.lstrip("/")
with tempfile.TemporaryDirectory() as dest:
    r = subprocess.run(["meson", "install", "-C", build_root, "--destdir", dest, "--no-rebuild",
                        "--quiet"], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        print("FAIL: meson install failed")
        sys.exit(1)
    root = os.path.join(dest, rel_prefix)
    expected = [
        "bin/depict",
        "bin/depict-cli",
        f"share/applications/{app_id}.desktop",
        f"share/metainfo/{app_id}.metainfo.xml",
        f"share/icons/hicolor/scalable/apps/{app_id}.svg",
        f"share/icons/hicolor/symbolic/apps/{app_id}-symbolic.svg",
        "share/glib-2.0/schemas/io.github.depict.Depict.gschema.xml",
        "share/locale/de/LC_MESSAGES/depict.mo",
        "share/depict/depict-result.schema.json",
        "lib/systemd/user/depict-serve.service",
        "share/depict/depict-serve-flatpak.service",
        "share/depict/slurm/depict-tag.sbatch",
        "share/depict/k8s/depict-tag-job.yaml",
    ]
    failures = [p for p in expected if not os.path.isfile(os.path.join(root, p))]
    for p in failures:
        print(f"FAIL: {p} was not installed")
    installed = sorted(os.path.relpath(os.path.join(d, f), root)
                       for d, _, fs in os.walk(root) for f in fs)
    print("installed:", *installed, sep="\n  ")
    # The installed command-line tool runs from the prefix.
    cli = os.path.join(root, "bin", "depict-cli")
    if os.path.isfile(cli):
        r = subprocess.run([cli, "--version"], capture_output=True, text=True)
        if r.returncode != 0 or "depict-cli" not in r.stdout:
            print("FAIL: installed depict-cli --version did not run:", r.stdout, r.stderr)
            failures.append("depict-cli")
    # The user service starts the depict-cli of this prefix.
    unit = os.path.join(root, "lib/systemd/user/depict-serve.service")
    if os.path.isfile(unit):
        execs = [l for l in open(unit) if l.startswith("ExecStart=")]
        want = f"ExecStart={prefix}/bin/depict-cli serve "
        if len(execs) != 1 or not execs[0].startswith(want):
            print("FAIL: depict-serve.service does not start", want, execs)
            failures.append("depict-serve.service")
    sys.exit(1 if failures else 0)
