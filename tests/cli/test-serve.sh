#!/usr/bin/env bash
# test-serve.sh: depict-cli serve through curl, as a person or a script calls it
#
#   test-serve.sh        (DEPICT_CLI names depict-cli, DEPICT_TEST_DATA tests/data)
#
# Starts the server with a token on a loopback port (tiny model, CPU reference), then asks
# each route with curl and checks the answers with python3: the reference's ids, the run JSON
# of `depict-cli run --json`, every bad input a 4xx with a sentence, the server still up, and
# a clean exit on SIGTERM. Exits 77 (skipped) when curl is missing.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail

cli=${DEPICT_CLI:?}
data=${DEPICT_TEST_DATA:?}
if ! command -v curl >/dev/null; then
  echo "curl is not installed: skipped"
  exit 77
fi

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

head -c 24 /dev/urandom | base64 > "$tmp/token"
chmod 600 "$tmp/token"
images=$data/preprocess/images
"$cli" serve --listen 127.0.0.1:0 --model "$data/models/tiny" --tokenizer "$data/tokenizer" \
  --device cpu-reference --token-file "$tmp/token" --allow-folder "$images" \
  >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 1200); do
  if [ -s "$tmp/out" ]; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then
    cat "$tmp/err"
    echo "FAIL: the server did not start"
    exit 1
  fi
  sleep 0.1
done
url=$(head -n1 "$tmp/out")
auth="Authorization: Bearer $(cat "$tmp/token")"
echo "server at $url"

status=0
# check NAME WANTED-STATUS CURL-ARGS…: the answer lands in $tmp/body
check() {
  local name=$1 want=$2
  shift 2
  local got
  got=$(curl -sS -o "$tmp/body" -w '%{http_code}' "$@") || got="curl failed"
  if [ "$got" != "$want" ]; then
    echo "FAIL $name: $got, wanted $want: $(head -c 400 "$tmp/body")"
    status=1
    return 1
  fi
  echo "ok   $name"
}
# py NAME PYTHON-CODE: the code reads the answer as `body` (text) and `j` (JSON, if any)
py() {
  local name=$1 code=$2
  if ! python3 - "$tmp/body" "$data" <<EOF; then
import json, sys
body = open(sys.argv[1], encoding="utf-8").read()
data = sys.argv[2]
try:
    j = json.loads(body)
except ValueError:
    j = None
$code
EOF
    echo "FAIL $name"
    status=1
  fi
}
# An error answer: JSON with a sentence.
sentence='m = j["error"]["message"] if isinstance(j["error"], dict) else j["error"]
assert len(m) > 20 and m.rstrip().endswith((".", ")")), m'

# --- routes
check "healthz needs no token" 200 "${url}healthz"
check "models without the token" 401 "${url}v1/models" && py "401 says why" "$sentence"
check "models with a wrong token" 401 -H "Authorization: Bearer nope-nope-nope-nope" \
  "${url}v1/models"
check "models" 200 -H "$auth" "${url}v1/models" &&
  py "models lists tiny" 'assert j["data"][0]["id"] == "tiny", j'
check "tags" 200 -H "$auth" "${url}api/tags" &&
  py "tags lists tiny" 'assert j["models"][0]["name"] == "tiny" and len(j["models"][0]["digest"]) == 64'

jpeg=$images/photo_1500x1000_q90.jpg
printf '{"model": "tiny", "messages": [{"role": "user", "content": [{"type": "text", "text": "<CAPTION>"}, {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,%s"}}]}], "max_tokens": 20}' \
  "$(base64 -w0 "$jpeg")" >"$tmp/chat.json"
check "chat completion" 200 -H "$auth" -H "Content-Type: application/json" \
  -d @"$tmp/chat.json" "${url}v1/chat/completions" &&
  py "chat completion is the reference caption" '
want = json.load(open(data + "/models/tiny/cases/caption_beam3_jpeg/expected.json"))
d = j["depict"]
assert d["token_ids"] == want["generated_ids"], d["token_ids"]
assert j["choices"][0]["message"]["content"] == want["post_processed"]["<CAPTION>"]
assert j["usage"]["completion_tokens"] == 20'

printf '{"model": "tiny", "prompt": "<OD>", "images": ["%s"], "stream": false, "options": {"num_predict": 30}}' \
  "$(base64 -w0 "$images/photo_640x480.png")" >"$tmp/generate.json"
check "ollama generate" 200 -H "$auth" -d @"$tmp/generate.json" "${url}api/generate" &&
  py "ollama generate is the reference detection" '
want = json.load(open(data + "/models/tiny/cases/od_beam3/expected.json"))
assert j["done"] is True and j["depict"]["token_ids"] == want["generated_ids"]'

png=$images/photo_640x480.png
"$cli" run --json --model "$data/models/tiny" --tokenizer "$data/tokenizer" \
  --device cpu-reference --task "<CAPTION>" --beams 1 --max-new-tokens 20 "$png" >"$tmp/cli.json"
check "depict run" 200 -H "$auth" \
  -d "{\"path\": \"$png\", \"task\": \"caption\", \"beams\": 1, \"max_new_tokens\": 20}" \
  "${url}v1/depict/run" &&
  py "depict run prints what depict-cli run --json prints" "
cli = json.load(open('$tmp/cli.json'))
for x in (cli, j):
    del x['timings']
assert cli == j, (cli, j)
assert body.endswith('}\n') and body.count('\n') == 1"

check "metrics" 200 -H "$auth" "${url}metrics" &&
  py "metrics count the answers" '
lines = dict(l.rsplit(" ", 1) for l in body.splitlines() if l and not l.startswith("#"))
assert float(lines["depict_requests_total{route=\"/v1/chat/completions\",code=\"200\"}"]) == 1
assert float(lines["depict_requests_total{route=\"/v1/models\",code=\"401\"}"]) == 2
assert lines["depict_request_duration_seconds_bucket{le=\"+Inf\"}"] == lines["depict_request_duration_seconds_count"]'

# --- bad inputs, each a 4xx with a sentence
bad() {
  local name=$1 want=$2 body=$3 route=${4:-api/generate}
  check "$name" "$want" -H "$auth" -d @"$body" "${url}$route" && py "$name says why" "$sentence"
}
b64=$(base64 -w0 "$png")
printf '{"prompt": "<OD>", "images": ["%s"]}' "${b64:0:1001}" >"$tmp/truncated.json"
bad "truncated base64" 400 "$tmp/truncated.json"
printf '{"prompt": "<OD>", "images": ["%s"]}' "$(echo 'a letter, not a photo' | base64 -w0)" \
  >"$tmp/text.json"
bad "not a picture" 415 "$tmp/text.json"
python3 - "$tmp/bomb.json" <<'EOF'
import base64, struct, sys, zlib
side = 8000  # 64 megapixels of zeros in about 60 KB
def chunk(kind, payload):
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload)))
z = zlib.compressobj(9)
idat = b"".join(z.compress(bytes(side + 1)) for _ in range(side)) + z.flush()
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
       + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
open(sys.argv[1], "w").write('{"prompt": "<OD>", "images": ["%s"]}' % base64.b64encode(png).decode())
EOF
bad "decompression bomb" 413 "$tmp/bomb.json"
echo '{"prompt": "<OD>", "images": "not a list"}' >"$tmp/types.json"
bad "wrong JSON type" 400 "$tmp/types.json"
echo '{"messages": [{"role": "user", "content": [{"type": "text", "text": "<CAPTION>"}, {"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}]}]}' \
  >"$tmp/passwd.json"
bad "a file outside the allowed folder" 403 "$tmp/passwd.json" v1/chat/completions
echo '{"messages": [' >"$tmp/broken.json"
bad "broken JSON" 400 "$tmp/broken.json" v1/chat/completions
echo '{"path": "'"$png"'", "task": "<OD>", "beams": "three"}' >"$tmp/beams.json"
bad "beams as a string" 400 "$tmp/beams.json" v1/depict/run
head -c 104857600 /dev/zero >"$tmp/huge"
check "a 100 MB body" 413 -H "$auth" --data-binary @"$tmp/huge" "${url}v1/chat/completions" &&
  py "the 100 MB body says why" "$sentence"
check "a 100 MB chunked body" 413 -H "$auth" -H "Transfer-Encoding: chunked" \
  --data-binary @"$tmp/huge" "${url}v1/chat/completions" &&
  py "the chunked body says why" "$sentence"
rm -f "$tmp/huge"

# --- still up, and a clean stop
check "still up" 200 "${url}healthz"
check "still answers" 200 -H "$auth" -d @"$tmp/chat.json" "${url}v1/chat/completions"
kill -TERM "$pid"
if wait "$pid"; then
  echo "ok   SIGTERM: exit status 0"
else
  echo "FAIL SIGTERM: exit status $?"
  status=1
fi
pid=
if [ "$status" != 0 ]; then cat "$tmp/err"; fi
exit $status
