#!/usr/bin/env bash
# gpu-check.sh: the checks to run on a machine with a real GPU, in one go
#
#   tests/bench/gpu-check.sh [BUILD_DIR]      (default _build-gpu)
#
# 1. builds Depict (release build, so that timings mean something);
# 2. the op tests with the GPU kernel set (DEPICT_GPU_KERNELS=gpu: what a GPU runs by default
#    anyway) under the validation layer with synchronization validation, and the runtime tests;
# 3. the model fixture tests on the GPU engine, once per kernel set (the exact ids of the
#    reference, on a real driver);
# 4. Florence-2-base and -large with random weights (made once, next to the build) through
#    bench-model: <CAPTION>, 768×768, 32 tokens, greedy and 3 beams, with the GPU's per-op
#    times (--gpu-timestamps): ms per decoder step, total, device name.
# Everything it prints goes to BUILD_DIR/gpu-check.log as well; the figures belong in
# tests/bench/PERFORMANCE.md with the device name. Exit status: that of the first failing step.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$here"
build=${1:-_build-gpu}
log="$build/gpu-check.log"
status=0

step() {
  echo
  echo "=== $* ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
}

run() {
  "$@"
  local rc=$?
  if [ $rc -ne 0 ] && [ $status -eq 0 ]; then
    status=$rc
  fi
  return $rc
}

mkdir -p "$build"
{
  step "build"
  if [ ! -f "$build/build.ninja" ]; then
    run meson setup "$build" -Dbuildtype=release || exit 1
  fi
  run meson compile -C "$build" || exit 1
  command -v vulkaninfo > /dev/null && vulkaninfo --summary 2>/dev/null | sed -n '/Devices:/,$p'

  step "op and runtime tests, GPU kernel set, synchronization validation"
  run env DEPICT_GPU_KERNELS=gpu meson test -C "$build" --no-rebuild --print-errorlogs \
    --suite gpu --num-processes 1 --timeout-multiplier 2

  step "model fixture tests, both kernel sets"
  run meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 1 \
    model-gpu model-gpu-kernels-gpu

  for config in base large; do
    model="$build/random-florence-2-$config"
    if [ ! -f "$model/model.safetensors" ]; then
      step "make a random Florence-2-$config"
      run "$build/tests/bench/make-random-model" "$model" --config "$config" || continue
    fi
    step "bench-model Florence-2-$config, <CAPTION>, 768×768, 32 tokens, beams 1 and 3"
    run "$build/tests/bench/bench-model" --model "$model" --image-size 768 --new-tokens 32 --beams 1,3 \
      --gpu-timestamps
  done
  step "done, status $status"
  exit $status
} 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"
