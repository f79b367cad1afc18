/* gpu.h: the Vulkan compute engine of Depict (umbrella header)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * CONVENTIONS (read before adding an op)
 *
 * Objects
 *   GpuDevice    one opened Vulkan device (gpu-device.h). Refcounted; buffers and recorders
 *                hold a reference. Pipelines are cached per device, created on first use.
 *   GpuBuffer    a device-local buffer (gpu-buffer.h), any size, suballocated from 64 MiB
 *                blocks; mapped directly on unified-memory devices (lavapipe, iGPUs).
 *   GpuRecorder  one command buffer (gpu-recorder.h): record dispatches/copies/uploads/
 *                downloads, then gpu_recorder_submit() = one submission + fence wait. Barriers
 *                are automatic (from the bindings' read/write kinds and byte ranges), and every
 *                submission starts with one after everything before it. A recording can be kept
 *                and replayed (gpu_recorder_keep/_replay, inputs written through upload slots):
 *                the decoder records a step once and replays it for every token.
 *   GpuPipeline  a compute pipeline, owned by the device (gpu_device_get_pipeline()).
 *
 * Errors: every call that can fail takes GError ** (domain GPU_ERROR). Recording calls do
 * not: the recorder keeps the first error and gpu_recorder_submit() returns it. An op
 * wrapper therefore has the shape
 *     void gpu_op_<name> (GpuRecorder *rec, <buffers, sizes, offsets…>);
 * validates its arguments (gpu_recorder_take_error (rec, g_error_new (GPU_ERROR,
 * GPU_ERROR_INVALID_ARGUMENT, …)) then return), gets its pipeline with
 * gpu_op_util_pipeline() (gpu-op-util.h; returns NULL after storing the error), builds
 * GpuBinding[] and a push-constant struct, and calls gpu_recorder_dispatch(). See gpu-selftest.c
 * for the smallest complete example, gpu-op-gemm.c for a large one (variants, splitting of big
 * tensors).
 *
 * Adding an op
 *   1. shaders/<op>.comp: '#version 450', '#extension GL_GOOGLE_include_directive : require',
 *      '#include "common.glsl"' (depict_erf, depict_gelu, depict_half_at, …).
 *      Local size from specialization constants: layout (local_size_x_id = 0) in;
 *      further tunables as 'layout (constant_id = N) const uint X = …;' with N = 1, 2, … in the
 *      order the C side passes them (all 32-bit). Bindings in set 0, binding 0, 1, … in the
 *      order of the binding string. Push constants: one block per op in shaders/gpu-abi.h,
 *      written once as a list of 32-bit fields (#define GPU_PUSH_<OP>) that the shader declares
 *      as 'layout (push_constant) uniform Push { GPU_PUSH_<OP> } p;' and the C side as the
 *      struct GpuPush<Op> (gpu-abi.h makes both; the C side asserts at compile time that it
 *      fits 128 bytes, lavapipe's limit). Flag bits shared by both sides live there too
 *      (GPU_ABI_*). A choice that changes the code (tile sizes, vector widths, weight format)
 *      is a specialization constant; one that does not (the epilogue's bias, GELU, residual) is
 *      a push-constant flag, so that it costs no extra pipeline.
 *   2. Append '<op>' to shader_names in shaders/meson.build (one line; the build compiles it
 *      with glslangValidator -V --target-env vulkan1.2 and embeds it).
 *   3. src/gpu/gpu-op-<family>.[ch] with the wrapper; add the .c to gpu_sources in
 *      src/gpu/meson.build (one line).
 *   4. tests/gpu/test-op-<family>.c against a plain C reference (see gpu-test-util.h).
 *
 * Bindings: the pipeline's binding string says, per binding, 'r' (storage, read only),
 * 'w' (storage, written or read-written) or 't' (uniform texel buffer, read). The recorder
 * derives barriers from it, so declare 'w' for everything the shader writes.
 * A binding's offset must be aligned (min_storage_buffer_offset_alignment, 16 on lavapipe;
 * up to 256 elsewhere): use gpu_op_util_bind_storage()/gpu_op_util_bind_texel(), which bind from
 * the aligned offset below and return the byte shift to pass as an element offset in push
 * constants. A binding may span at most max_storage_buffer_range bytes (128 MiB on
 * lavapipe) or max_texel_buffer_elements texels: larger tensors must be processed in
 * pieces (bind a window per piece), as gpu-op-gemm.c does for the 210 MB LM head.
 *
 * Data layout: row-major, fp32 activations; weights fp32 or fp16 (IEEE half, as in the
 * checkpoints). fp16 in storage buffers: read as uint and unpackHalf2x16 (works without
 * the 16-bit storage feature), or through an RGBA16F/R16F texel view.
 *
 * Variants: choose from gpu_device_get_limits() (kernels, subgroup_size, subgroup_arithmetic,
 * fp16_storage, max_shared_memory_size, …), never from the device name. There are two kernel
 * sets (GpuKernelSet, limits->kernels): the CPU set (texel-buffer GEMM, 8-lane workgroups, few
 * workgroups) that lavapipe runs by default, and the GPU set (matrix-vector GEMM for ≤ 8 rows,
 * shared-memory tiled GEMM, LayerNorm and top-k merge per workgroup with subgroup sums, flash
 * attention) that real GPUs run. An op with variants takes its choice from
 * limits->kernels (is_cpu only for what a CPU device cannot do, like long loops), and its test
 * registers each case for both sets (gpu_test_add_kernel_sets, tests/gpu/gpu-test-util.h), so
 * that every GPU variant runs on lavapipe before a user's GPU runs it. Shaders needing an
 * optional feature (subgroup arithmetic) are built twice, with and without it
 * (shader_variants in shaders/meson.build), and the op picks the build the device can run.
 * On CPU devices (lavapipe) each
 * dispatch costs ~40 µs: fuse what you can. Storage-buffer loads and stores cost a per-lane
 * scalar loop there (bench-gemm's "copy by shader": ~0.2 GB/s with float, ~2× that with
 * vec4 elements, against ~3 GB/s for vkCmdCopyBuffer), so prefer vec4 access, texel buffers
 * for large read-only operands, grid-stride loops over few workgroups, and
 * gpu_recorder_copy() for plain copies.
 *
 * Environment: DEPICT_VULKAN_DEVICE (index or name substring), DEPICT_VULKAN_VALIDATION=1
 * (the Khronos layer with synchronization validation: a missing barrier is an error, and the
 * tests fail on any), DEPICT_GPU_TIMESTAMPS=1 (per-op table on stderr when the device closes),
 * DEPICT_GPU_KERNELS=cpu|gpu|auto (the kernel set: "gpu" forces the GPU set on any device,
 * lavapipe included, "cpu" the CPU set; "auto" or unset: the CPU set on CPU devices only),
 * DEPICT_GPU_SUBMISSION_GFLOP=N (the work one submission holds at most, GpuDeviceLimits;
 * 0: a submission per unit of work), DEPICT_GPU_MEMORY_BUDGET=BYTES (pretend the device has no more
 * free memory, to test the refusal of models that do not fit), DEPICT_GPU_NO_PUSH_DESCRIPTORS=1,
 * DEPICT_GPU_NO_UNIFIED_MEMORY=1 and DEPICT_GPU_NO_SUBGROUP_ARITHMETIC=1 (force the fallback
 * paths, for tests: the last runs the shared-memory sums of gemv and layernorm_wg on devices
 * that add across subgroups),
 * DEPICT_GEMM_TEXEL_CONFIG="MR,NC" (the texel GEMM's tile, for tuning),
 * DEPICT_GEMM_TILED_CONFIG="BM,TM,BK" (the tiled GEMM's tile, for tuning and for tests that run
 * the GPU tile shapes on lavapipe), DEPICT_GPU_F16_MATH=1 (the tiled GEMM multiplies in fp16
 * where the device has shaderFloat16; off by default and never chosen automatically: with it
 * every tensor of Florence-2 leaves check-engines' tolerance, and the tiny fixture model's
 * first-step logits are 1e-3 relative RMS from fp32, ten times the goal (figures in
 * tests/bench/PERFORMANCE.md); the test test-op-gemm-tiled-f16 runs it, and says it is skipped
 * where the device has no fp16).
 *
 * Counters: gpu_counters_get() says how many Vulkan objects, submissions and buffers (and their
 * bytes) this process made so far; tests use it to prove that a replayed decoder step creates
 * nothing and that caches are sized to the generation's limit.
 *
 * Threads: a device may be shared between threads; a recorder and the buffers it writes
 * belong to one thread at a time.
 */
#pragma once

#include "gpu/gpu-buffer.h"
#include "gpu/gpu-device.h"
#include "gpu/gpu-half.h"
#include "gpu/gpu-recorder.h"
