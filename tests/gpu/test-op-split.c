/* test-op-split.c: ops whose tensors pass one binding's range run in pieces, with the same
 * result as in one piece
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * On lavapipe a storage binding spans at most 128 MiB: Florence-2-large's stage-0 tokens pass
 * that from a 1472×1472 input (368² tokens × 256 channels × 4 bytes), so the ops that write or
 * read them (direct conv, LayerNorm, depthwise conv, window and channel attention) cut them
 * into pieces of rows, each bound as a window. Here a second device has its binding range
 * lowered to 16 KiB (storage and texel views alike) and each op runs on small shapes on both
 * devices: every piece computes each element exactly as the whole dispatch does, so the
 * results must be bit-identical.
 */
#include "config.h"

#include <string.h>

#include "gpu/gpu-op-attention.h"
#include "gpu/gpu-op-conv.h"
#include "gpu/gpu-op-norm.h"
#include "gpu-test-util.h"

#define LIMIT (16 * 1024)

typedef struct {
  GpuDevice *device;
  GpuRecorder *rec;
  GPtrArray *buffers;
} Side;

static void
side_init (Side *s, GpuDevice *device)
{
  g_autoptr (GError) error = NULL;
  s->device = device;
  s->rec = gpu_recorder_new (device, &error);
  g_assert_no_error (error);
  s->buffers = g_ptr_array_new_with_free_func ((GDestroyNotify) gpu_buffer_free);
}

static GpuBuffer *
side_upload (Side *s, const float *data, gsize n)
{
  g_autoptr (GError) error = NULL;
  GpuBuffer *b = data != NULL
                   ? gpu_buffer_new_from_data (s->device, data, MAX (n, (gsize) 1) * 4, &error)
                   : gpu_buffer_new (s->device, MAX (n, (gsize) 1) * 4, &error);
  g_assert_no_error (error);
  g_ptr_array_add (s->buffers, b);
  return b;
}

/* Submits, downloads @n floats of @out and frees the side's buffers. */
static float *
side_finish (Side *s, GpuBuffer *out, gsize n)
{
  g_autoptr (GError) error = NULL;
  float *host = g_new (float, n);
  gpu_recorder_download (s->rec, out, 0, host, n * 4);
  gpu_recorder_submit (s->rec, NULL, &error);
  g_assert_no_error (error);
  gpu_recorder_free (s->rec);
  g_ptr_array_unref (s->buffers);
  return host;
}

static GpuDevice *
limited_device (void)
{
  g_autoptr (GError) error = NULL;
  GpuDevice *device = gpu_device_new (&error);
  g_assert_no_error (error);
  gpu_device_limit_binding_range_for_testing (device, LIMIT);
  return device;
}

static void
assert_identical (const char *what, const float *whole, const float *pieces, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (memcmp (&whole[i], &pieces[i], sizeof (float)) != 0)
      g_error ("%s: element %" G_GSIZE_FORMAT " is %.9g in pieces, %.9g in one piece", what, i,
               pieces[i], whole[i]);
}

typedef enum {
  OP_CONV2D,
  OP_LAYERNORM,
  OP_LAYERNORM_RES,
  OP_DWCONV,
  OP_WINDOW,
  OP_CHANNEL,
} Op;

/* Runs @op on @device over inputs made from @seed; returns the output (*n floats). */
static float *
run_op (GpuDevice *device, Op op, guint32 seed, gsize *n)
{
  Side s;
  side_init (&s, device);
  GpuBuffer *out = NULL;
  switch (op)
    {
    case OP_CONV2D:
      {
        /* a 3×3 convolution of a 3×25×40 image into 8 channels (31 KiB of output; the
         * weight and the input fit one binding) */
        const guint cin = 3, h = 25, w = 40, cout = 8, k = 3;
        g_autofree float *in = gpu_test_random ((gsize) cin * h * w, seed, -1, 1);
        g_autofree float *wt = gpu_test_random ((gsize) cout * cin * k * k, seed + 1, -0.2f, 0.2f);
        g_autofree float *b = gpu_test_random (cout, seed + 2, -0.5f, 0.5f);
        *n = (gsize) h * w * cout;
        g_assert_cmpuint (*n * 4, >, LIMIT);
        out = side_upload (&s, NULL, *n);
        gpu_op_conv2d (s.rec, side_upload (&s, in, (gsize) cin * h * w), GPU_CONV_INPUT_CHW, cin, h,
                       w, side_upload (&s, wt, (gsize) cout * cin * k * k),
                       side_upload (&s, b, cout), FALSE, cout, k, 1, 1, out);
        break;
      }
    case OP_LAYERNORM:
    case OP_LAYERNORM_RES:
      {
        /* 301 rows of 32 channels (38 KiB), in place, with and without a residual */
        const guint rows = 301, c = 32;
        *n = (gsize) rows * c;
        g_assert_cmpuint (*n * 4, >, LIMIT);
        g_autofree float *x = gpu_test_random (*n, seed, -2, 2);
        g_autofree float *r = gpu_test_random (*n, seed + 1, -2, 2);
        g_autofree float *w = gpu_test_random (c, seed + 2, 0.5f, 1.5f);
        g_autofree float *b = gpu_test_random (c, seed + 3, -0.5f, 0.5f);
        out = side_upload (&s, x, *n);
        gpu_op_layernorm (s.rec, out, op == OP_LAYERNORM_RES ? side_upload (&s, r, *n) : NULL,
                          side_upload (&s, w, c), side_upload (&s, b, c), FALSE, rows, c, 1e-5f,
                          out);
        break;
      }
    case OP_DWCONV:
      {
        /* 67 rows of 5 tokens × 16 channels (21 KiB): pieces with a row of halo each side */
        const guint h = 67, w = 5, c = 16;
        *n = (gsize) h * w * c;
        g_assert_cmpuint (*n * 4, >, LIMIT);
        g_autofree float *x = gpu_test_random (*n, seed, -1, 1);
        g_autofree float *wt = gpu_test_random ((gsize) c * 9, seed + 1, -0.5f, 0.5f);
        g_autofree float *b = gpu_test_random (c, seed + 2, -0.5f, 0.5f);
        out = side_upload (&s, NULL, *n);
        gpu_op_dwconv3x3_residual (s.rec, side_upload (&s, x, *n), h, w, c,
                                   side_upload (&s, wt, (gsize) c * 9), side_upload (&s, b, c),
                                   FALSE, out);
        break;
      }
    case OP_WINDOW:
      {
        /* a 61×5 grid of 16 channels, 2 heads, 7×7 windows (padded right and bottom): qkv
         * 57 KiB, out 19 KiB, in bands of 2 window rows */
        const guint h = 61, w = 5, c = 16;
        gsize n_tok = (gsize) h * w;
        *n = n_tok * c;
        g_assert_cmpuint (*n * 4, >, LIMIT);
        g_autofree float *qkv = gpu_test_random (n_tok * 3 * c, seed, -1, 1);
        g_autofree float *qb = gpu_test_random ((gsize) 3 * c, seed + 1, -0.5f, 0.5f);
        out = side_upload (&s, NULL, *n);
        gpu_op_attention_window (s.rec, side_upload (&s, qkv, n_tok * 3 * c),
                                 side_upload (&s, qb, (gsize) 3 * c), FALSE, h, w, c, 2, 7, out);
        break;
      }
    case OP_CHANNEL:
      {
        /* 700 tokens of 16 channels in 2 groups: qkv 134 KiB, out 45 KiB */
        const guint n_tok = 700, c = 16, groups = 2;
        *n = (gsize) n_tok * c;
        g_assert_cmpuint (*n * 4, >, LIMIT);
        g_autofree float *qkv = gpu_test_random ((gsize) n_tok * 3 * c, seed, -1, 1);
        guint64 scratch = gpu_op_attention_channel_scratch_size (device, n_tok, c, groups);
        out = side_upload (&s, NULL, *n);
        gpu_op_attention_channel (s.rec, side_upload (&s, qkv, (gsize) n_tok * 3 * c), n_tok, c,
                                  groups, side_upload (&s, NULL, scratch / 4 + 1), out);
        break;
      }
    }
  return side_finish (&s, out, *n);
}

static void
test_split (gconstpointer data)
{
  Op op = GPOINTER_TO_INT (data);
  g_autoptr (GpuDevice) small = limited_device ();
  /* both kernel sets: the GPU set's launch shapes cut the same pieces */
  static const GpuKernelSet sets[] = { GPU_KERNELS_CPU, GPU_KERNELS_GPU };
  for (guint i = 0; i < G_N_ELEMENTS (sets); i++)
    {
      gpu_device_set_kernels (gpu_test_device (), sets[i]);
      gpu_device_set_kernels (small, sets[i]);
      gsize n_whole = 0, n_pieces = 0;
      g_autofree float *whole = run_op (gpu_test_device (), op, 100 + op * 10, &n_whole);
      g_autofree float *pieces = run_op (small, op, 100 + op * 10, &n_pieces);
      g_assert_cmpuint (n_whole, ==, n_pieces);
      g_autofree char *what =
        g_strdup_printf ("%s (%s kernels)", g_test_get_path (), gpu_kernel_set_to_string (sets[i]));
      assert_identical (what, whole, pieces, n_whole);
    }
  gpu_test_assert_validation_clean (small);
}

int
main (int argc, char **argv)
{
  gpu_test_init (&argc, &argv);
  g_test_add_data_func ("/gpu/op/split/conv2d", GINT_TO_POINTER (OP_CONV2D), test_split);
  g_test_add_data_func ("/gpu/op/split/layernorm", GINT_TO_POINTER (OP_LAYERNORM), test_split);
  g_test_add_data_func ("/gpu/op/split/layernorm-residual", GINT_TO_POINTER (OP_LAYERNORM_RES),
                        test_split);
  g_test_add_data_func ("/gpu/op/split/dwconv3x3", GINT_TO_POINTER (OP_DWCONV), test_split);
  g_test_add_data_func ("/gpu/op/split/attention-window", GINT_TO_POINTER (OP_WINDOW), test_split);
  g_test_add_data_func ("/gpu/op/split/attention-channel", GINT_TO_POINTER (OP_CHANNEL),
                        test_split);
  return gpu_test_run ();
}
