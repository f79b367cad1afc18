#!/usr/bin/env python3
# Fails when a source file with translatable strings is missing from po/POTFILES.in,
# or when POTFILES.in names a file that does not exist.
# SPDX-License-Identifier: GPL-3.0-or-later
import os
import re
import sys

root = sys.argv[1]
listed = []
with open(os.path.join(root, "po", "POTFILES.in"), encoding="utf-8") as f:
    for line in f:
        line = line.strip()
        if line and not line.startswith("#"):
            listed.append(line)

c_marker = re.compile(r'(?<![A-Za-z0-9_])(?:_|N_|C_|NC_|g_dgettext|ngettext|g_dngettext)\s*\(\s*"')
ui_marker = re.compile(r'translatable="yes"')
found = set()
for top in ("src", "ui"):
    for dirpath, _dirs, files in os.walk(os.path.join(root, top)):
        for name in files:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            try:
                text = open(path, encoding="utf-8").read()
            except (UnicodeDecodeError, OSError):
                continue
            if name.endswith((".c", ".h")) and c_marker.search(text):
                found.add(rel)
            elif name.endswith(".ui") and ui_marker.search(text):
                found.add(rel)
for name in os.listdir(os.path.join(root, "data")):
    if name.endswith((".desktop.in", ".metainfo.xml.in", ".gschema.xml")):
        found.add(os.path.join("data", name))

missing = sorted(found - set(listed))
stale = sorted(p for p in listed if not os.path.exists(os.path.join(root, p)))
for p in missing:
    print(f"FAIL: {p} has translatable strings but is not listed in po/POTFILES.in")
for p in stale:
    print(f"FAIL: po/POTFILES.in lists {p}, which does not exist")
if missing or stale:
    sys.exit(1)
print(f"POTFILES.in OK: {len(listed)} files")
