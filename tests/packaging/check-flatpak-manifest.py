#!/usr/bin/env python3
# Checks the Flatpak manifest against what Depict needs and what it must not ask for.
# SPDX-License-Identifier: GPL-3.0-or-later
import json
import sys

manifest_path, metainfo_path = sys.argv[1], sys.argv[2]
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


with open(manifest_path, encoding="utf-8") as f:
    m = json.load(f)

check(m.get("id") == "io.github.depict.Depict", "id must be io.github.depict.Depict")
check(m.get("command") == "depict", "command must be depict")
check(m.get("runtime") == "org.gnome.Platform", "runtime must be org.gnome.Platform")
check(m.get("sdk") == "org.gnome.Sdk", "sdk must be org.gnome.Sdk")
version = str(m.get("runtime-version", ""))
check(version.isdigit() and int(version) >= 48,
      f"runtime-version must be a current stable GNOME release (>= 48), not {version!r}")

args = m.get("finish-args", [])
required = ["--device=dri", "--socket=wayland", "--socket=fallback-x11", "--share=ipc",
            "--share=network", "--filesystem=xdg-pictures:ro"]
for a in required:
    check(a in args, f"finish-args lacks {a}")
allowed = set(required) | {a for a in args if a.startswith("--env=GDK_PIXBUF_MODULE_FILE=")}
for a in args:
    check(a in allowed, f"finish-args has {a}, which Depict does not use")
for forbidden in ("--socket=x11", "--filesystem=host", "--filesystem=home", "--device=all",
                  "--filesystem=xdg-pictures", "--talk-name=org.freedesktop.Flatpak"):
    check(forbidden not in args, f"finish-args must not have {forbidden}")

modules = m.get("modules", [])
names = [mod.get("name") for mod in modules if isinstance(mod, dict)]
for needed in ("glslang", "exiv2", "gexiv2", "libde265", "libheif"):
    check(needed in names, f"module {needed} is missing (the GNOME runtime lacks it)")
if "libde265" in names and "libheif" in names:
    check(names.index("libde265") < names.index("libheif"), "libde265 must be built before libheif")
if "exiv2" in names and "gexiv2" in names:
    check(names.index("exiv2") < names.index("gexiv2"), "exiv2 must be built before gexiv2")
check(names and names[-1] == "depict", "the last module must be depict itself")
if names and names[-1] == "depict":
    app = modules[-1]
    check(app.get("buildsystem") == "meson", "depict builds with meson")
    check("-Dprofile=default" in app.get("config-opts", []), "the Flatpak is a release build")
# the CPU engine's BLAS: one build for every CPU (kernels picked at run time), pinned
check("openblas" in names, "module openblas is missing (the CPU engine needs a BLAS)")
for mod in modules:
    if mod.get("name") == "openblas":
        commands = " ".join(mod.get("build-commands", []))
        check("DYNAMIC_ARCH=1" in commands, "openblas must be built with DYNAMIC_ARCH=1")
        check(all(src.get("type") == "archive" and "sha256" in src for src in mod.get("sources", [])),
              "openblas: the source must be an archive pinned by sha256")
if "openblas" in names and "depict" in names:
    check(names.index("openblas") < names.index("depict"), "openblas must be built before depict")
for mod in modules:
    if mod.get("name") == "glslang":
        check("*" in mod.get("cleanup", []), "glslang is build-time only and must be cleaned up")
    for src in mod.get("sources", []):
        if src.get("type") == "git":
            check("tag" in src or "commit" in src, f"{mod['name']}: git source must be pinned")
        if src.get("type") == "archive":
            check("sha256" in src, f"{mod['name']}: archive source must have a sha256")

with open(metainfo_path, encoding="utf-8") as f:
    metainfo = f.read()
check("network" in metainfo and "download" in metainfo,
      "the metainfo must say that the network is used to download models")

if failures:
    for msg in failures:
        print("FAIL:", msg)
    sys.exit(1)
print(f"manifest OK: {len(names)} modules, {len(args)} finish-args")
