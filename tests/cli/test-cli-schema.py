#!/usr/bin/env python3
# Every depict-cli command's JSON output against data/depict-result.schema.json: each line of
# run --json, parse (and parse --reference), tokenize, preprocess, models --json,
# devices --json, search --json, show --json, tags --json and export --json is one JSON
# object with a "version" that validates against the schema's definition for that command
# (and against the schema as a whole).
#
# usage: test-cli-schema.py SCHEMA   with DEPICT_CLI and DEPICT_TEST_DATA set
# SPDX-License-Identifier: GPL-3.0-or-later
import json
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import jsonschema
except ImportError:
    print("FAIL: the Python module jsonschema is missing (Debian: apt-get install "
          "python3-jsonschema; .ci/dev test installs it).")
    sys.exit(1)

schema_path = sys.argv[1]
cli = os.environ["DEPICT_CLI"]
data = os.environ["DEPICT_TEST_DATA"]
with open(schema_path, encoding="utf-8") as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
whole = jsonschema.Draft202012Validator(schema)
validators = {}
counts = {}


def validator(name):
    if name not in validators:
        sub = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{name}"}
        validators[name] = jsonschema.Draft202012Validator(sub)
    return validators[name]


def run(*args, env=None, stdin=None, status=0):
    r = subprocess.run([cli, *args], capture_output=True, text=True, input=stdin,
                       env={**os.environ, **(env or {})})
    if r.returncode != status:
        sys.exit(f"FAIL: depict-cli {' '.join(args)} exited {r.returncode}: {r.stderr}")
    return r.stdout


def check_lines(definition, out, expect_lines=None, versioned=True):
    """Each non-empty line of OUT is one JSON object valid against $defs/DEFINITION."""
    lines = [line for line in out.split("\n") if line != ""]
    if expect_lines is not None and len(lines) != expect_lines:
        sys.exit(f"FAIL: {definition}: {len(lines)} lines, expected {expect_lines}:\n{out}")
    objects = []
    for line in lines:
        obj = json.loads(line)  # one whole object per line: JSON Lines
        if not isinstance(obj, dict):
            sys.exit(f"FAIL: {definition}: a line is not an object: {line}")
        if versioned and not isinstance(obj.get("version"), int):
            sys.exit(f"FAIL: {definition}: no version: {line}")
        errors = sorted(validator(definition).iter_errors(obj), key=lambda e: list(e.path))
        if errors:
            sys.exit(f"FAIL: {definition}: {line}\n" +
                     "\n".join(f"  at {list(e.path)}: {e.message}" for e in errors[:5]))
        whole.validate(obj)
        objects.append(obj)
    counts[definition] = counts.get(definition, 0) + len(objects)
    return objects


def must_fail(definition, obj, why):
    if validator(definition).is_valid(obj):
        sys.exit(f"FAIL: the schema accepts {why}: {json.dumps(obj)}")


work = tempfile.mkdtemp(prefix="depict-schema-")
try:
    model = os.path.join(data, "models", "tiny")
    tokenizer = os.path.join(data, "tokenizer")
    photos = os.path.join(work, "photos")
    os.mkdir(photos)
    for name in ("photo_640x480.png", "palette_200x150.png"):
        shutil.copy(os.path.join(data, "preprocess", "images", name), photos)
    images = sorted(os.path.join(photos, n) for n in os.listdir(photos))
    cpu = {"DEPICT_DEVICE": "cpu-reference"}

    # run: a task of every result kind, one line per picture
    for task, text in (("caption", None), ("od", None), ("ocr-with-region", None),
                       ("referring-expression-segmentation", "a car"),
                       ("open-vocabulary-detection", "wheels")):
        args = ["run", "--model", model, "--tokenizer", tokenizer, "--task", task, "--beams", "1",
                "--max-new-tokens", "8", "--json", *images]
        if text is not None:
            args[7:7] = ["--text", text]
        for line in check_lines("run", run(*args, env=cpu), expect_lines=len(images)):
            check_lines("result", json.dumps(line["result"]))
            # a log-probability per generated id, a score beside the labels
            if len(line["token_logprobs"]) != len(line["token_ids"]) - 1:
                sys.exit(f"FAIL: run {task}: token_logprobs do not match token_ids: {line}")
            result = line["result"]
            for labels, scores in (("labels", "scores"), ("bboxes_labels", "bboxes_scores"),
                                   ("polygons_labels", "polygons_scores")):
                if labels in result and len(result[scores]) != len(result[labels]):
                    sys.exit(f"FAIL: run {task}: {scores} do not match {labels}: {result}")

    # parse: every post-processing fixture, in Depict's form and in the reference's
    with open(os.path.join(data, "postprocess", "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    kinds = set()
    for case in cases:
        size = "%dx%d" % tuple(case["image_size"])
        result = check_lines("result", run("parse", "--task", case["task"], "--image-size", size,
                                           case["text"]), expect_lines=1)[0]
        kinds.add(result["kind"])
        ref = check_lines("reference", run("parse", "--reference", "--task", case["task"],
                                           "--image-size", size, case["text"]),
                          expect_lines=1, versioned=False)[0]
        # the reference's keys, in both forms
        expected = case["expected"][case["task"]]
        keys = set(expected) if isinstance(expected, dict) else {"text"}
        answer_keys = set(result) - {"version", "task", "kind", "image_size"}
        got = ref[case["task"]]
        if answer_keys != keys or set(got if isinstance(got, dict) else {"text"}) != keys:
            sys.exit(f"FAIL: parse {case['name']}: keys {sorted(answer_keys)}, expected "
                     f"{sorted(keys)}")
    if kinds != {"text", "boxes", "polygons", "boxes_or_polygons", "quads"}:
        sys.exit(f"FAIL: the fixtures gave only the kinds {sorted(kinds)}")

    check_lines("tokenize", run("tokenize", "--model", tokenizer, "--task", "od"), 1)
    check_lines("tokenize", run("tokenize", "--model", tokenizer, "--task", "region-to-ocr",
                                "--region", "10,20,200,150", "--image-size", "640x480"), 1)
    check_lines("preprocess", run("preprocess", images[0]), 1)

    # models: one installed, the others not
    models_dir = os.path.join(work, "models")
    base = os.path.join(models_dir, "base")
    os.makedirs(base)
    for d, name in (("models/tiny", "config.json"), ("models/tiny", "model.safetensors"),
                    ("tokenizer", "tokenizer.json"), ("tokenizer", "vocab.json")):
        shutil.copy(os.path.join(data, d, name), base)
    models = check_lines("model", run("models", "--json", env={"DEPICT_MODELS_DIR": models_dir}))
    if [m["installed"] for m in models][:1] != [True] or len(models) < 2:
        sys.exit(f"FAIL: models --json: {models}")

    # devices: the CPU engines, then every Vulkan device
    devices = check_lines("device", run("devices", "--json"))
    if not any(d["engine"] == "cpu-reference" for d in devices):
        sys.exit(f"FAIL: devices --json lists no CPU reference: {devices}")

    # the gallery commands, on a gallery that tag filled
    db = os.path.join(work, "gallery.db")
    run("tag", "--model", model, "--tokenizer", tokenizer, "--tasks", "caption,od,ocr",
        "--beams", "1", "--max-new-tokens", "6", "--db", db, "--quiet", photos, env=cpu)
    run("tags", "--db", db, "--add", "holiday", images[0])
    check_lines("hit", run("search", "--json", "--db", db, ""), expect_lines=len(images))
    check_lines("image", run("show", "--json", "--db", db, *images), expect_lines=len(images))
    check_lines("tags", run("tags", "--json", "--db", db, *images), expect_lines=len(images))
    check_lines("image", run("export", "--json", "--db", db), expect_lines=len(images))
finally:
    shutil.rmtree(work)

# The schema says something: what Depict wrote before version 2 of the result, or a line
# without its version, does not pass.
must_fail("result", {"version": 1, "task": "<OD>", "kind": "boxes", "image_size": [1, 1],
                     "bboxes": [], "bboxes_labels": []}, "a version 1 result")
must_fail("result", {"version": 2, "task": "<OD>", "kind": "boxes", "image_size": [1, 1],
                     "bboxes": [], "bboxes_labels": []}, "boxes without labels")
must_fail("result", {"version": 2, "task": "<OCR_WITH_REGION>", "kind": "quads",
                     "image_size": [1, 1], "quad_boxes": [[1, 2, 3, 4]], "labels": [""]},
          "a quad of 4 numbers")
must_fail("result", {"version": 2, "task": "<OD>", "kind": "boxes", "image_size": [1, 1],
                     "bboxes": [[1, 2, 3, 4]], "labels": ["car"], "scores": [1.5]},
          "a score above 1")
must_fail("hit", {"path": "/a.jpg", "hash": "0", "score": 1.0, "snippet": "", "caption": ""},
          "a line without version")
must_fail("reference", {"<OD>": {"bboxes": [], "bboxes_labels": [], "labels": []}},
          "labels beside bboxes_labels")

print("checked:", ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
