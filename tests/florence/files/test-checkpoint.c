/* test-checkpoint.c: loading weights — safetensors, pytorch_model.bin, native names, shards,
 * and every way a file can be wrong
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The crafted files are written by this test (ckpt-test-util.h) into a temporary directory,
 * byte by byte from the formats' definitions; expected values come from the spec (§6, §11.1)
 * or from the fixture files parsed here with json-glib, never from the code under test.
 *
 * Long (the ways a file can be wrong, one short case each) and one program: the cases share the
 * crafted-file writers and the fixture's expected values.
 */
#include "config.h"

#include "florence/files/florence-checkpoint.h"
#include "florence/files/florence-pickle.h"
#include "florence/files/florence-safetensors.h"

#include <math.h>

#include "ckpt-test-util.h"

#define TINY_TENSORS 274
#define SHARED "language_model.model.shared.weight"
#define LM_HEAD "language_model.lm_head.weight"
#define ENC_EMBED "language_model.model.encoder.embed_tokens.weight"
#define DEC_EMBED "language_model.model.decoder.embed_tokens.weight"

static FlorenceConfig *
tiny_config (void)
{
  g_autofree char *dir = ckpt_data_path ("models", "tiny", NULL);
  g_autoptr (GError) error = NULL;
  FlorenceConfig *c = florence_config_load (dir, &error);

  g_assert_no_error (error);
  return c;
}

static FlorenceCheckpoint *
open_fixture (const char *name, const FlorenceConfig *c)
{
  g_autofree char *dir = ckpt_data_path ("models", name, NULL);
  g_autoptr (GError) error = NULL;
  FlorenceCheckpoint *ckpt = florence_checkpoint_open (dir, c, &error);

  g_assert_no_error (error);
  g_assert_nonnull (ckpt);
  return ckpt;
}

static GBytes *
tiny_file (void)
{
  g_autofree char *path = ckpt_data_path ("models", "tiny", "model.safetensors", NULL);

  return ckpt_read_file (path);
}

/* A scratch directory that removes itself (and the files this test writes into it). */
typedef struct {
  char *dir;
} Scratch;

static const char *scratch_files[] = {
  "model.safetensors",
  "pytorch_model.bin",
  "model.safetensors.index.json",
  "model-00001-of-00002.safetensors",
  "model-00002-of-00002.safetensors",
};

static void
scratch_init (Scratch *s)
{
  s->dir = g_dir_make_tmp ("depict-ckpt-XXXXXX", NULL);
  g_assert_nonnull (s->dir);
}

static void
scratch_clear (Scratch *s)
{
  for (guint i = 0; i < G_N_ELEMENTS (scratch_files); i++)
    {
      g_autofree char *p = g_build_filename (s->dir, scratch_files[i], NULL);

      g_unlink (p);
    }
  g_rmdir (s->dir);
  g_free (s->dir);
}

static void
scratch_put (Scratch *s, const char *name, GBytes *bytes)
{
  g_autofree char *p = g_build_filename (s->dir, name, NULL);

  ckpt_write_file (p, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/* Writes file as model.safetensors (or name) and opens the directory with the tiny config. */
static FlorenceCheckpoint *
open_crafted (const char *name, GBytes *file, const FlorenceConfig *c, GError **error)
{
  Scratch s;
  FlorenceCheckpoint *ckpt;

  scratch_init (&s);
  scratch_put (&s, name, file);
  ckpt = florence_checkpoint_open (s.dir, c, error);
  scratch_clear (&s);
  return ckpt;
}

/* Opening failed with @code, and the message names @name (the file, unless NULL) and
 * @needle (the tensor or the fault it is about, unless NULL). */
static void
assert_refused (FlorenceCheckpoint *ckpt, const GError *error, int code, const char *name,
                const char *needle)
{
  g_assert_null (ckpt);
  g_assert_error (error, FLORENCE_CHECKPOINT_ERROR, code);
  g_test_message ("  %s", error->message);
  if (name != NULL)
    g_assert_nonnull (strstr (error->message, name));
  if (needle != NULL)
    g_assert_nonnull (strstr (error->message, needle));
}

static void
assert_fails (const char *name, GBytes *file, const FlorenceConfig *c, int code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceCheckpoint) ckpt = open_crafted (name, file, c, &error);

  /* every message names the file */
  assert_refused (ckpt, error, code, name, needle);
}

/* ---- the fixtures -------------------------------------------------------------------------- */

static void
test_tiny_safetensors (void)
{
  g_autoptr (FlorenceConfig) c = tiny_config ();
  g_autoptr (FlorenceCheckpoint) ckpt = open_fixture ("tiny", c);
  g_autoptr (GBytes) file = tiny_file ();
  g_autoptr (GPtrArray) entries = ckpt_parse_safetensors (file);
  const FlorenceTensor *shared, *t, *a, *b;
  CkptEntry *ea, *eb;

  g_assert_cmpuint (entries->len, ==, TINY_TENSORS);
  g_assert_cmpuint (florence_checkpoint_get_n_tensors (ckpt), ==, TINY_TENSORS);
  g_assert_cmpint (florence_checkpoint_get_format (ckpt), ==,
                   FLORENCE_CHECKPOINT_FORMAT_SAFETENSORS);
  g_assert_false (florence_checkpoint_is_native (ckpt));
  g_assert_cmpuint (florence_checkpoint_get_vocab_rows (ckpt), ==, 51289);
  g_assert_true (g_str_has_suffix (florence_checkpoint_get_path (ckpt), "model.safetensors"));

  /* Every stored tensor is served, same dtype, shape and bytes as the file says. */
  for (guint i = 0; i < entries->len; i++)
    {
      CkptEntry *e = g_ptr_array_index (entries, i);

      t = florence_checkpoint_lookup (ckpt, e->name);
      g_assert_nonnull (t);
      g_assert_cmpstr (t->name, ==, e->name);
      g_assert_cmpstr (e->dtype, ==, "F16");
      g_assert_cmpint (t->dtype, ==, FLORENCE_DTYPE_F16);
      g_assert_cmpuint (t->n_dims, ==, e->n_dims);
      for (guint d = 0; d < e->n_dims; d++)
        g_assert_cmpint (t->shape[d], ==, e->shape[d]);
      g_assert_cmpuint (t->n_elements * 2, ==, e->n_bytes);
      g_assert_cmpmem (t->data, e->n_bytes, e->data, e->n_bytes);
    }

  /* No host copy: tensors point into one mapping, as far apart as their file offsets. */
  a = florence_checkpoint_lookup (ckpt, "image_proj_norm.bias");
  b = florence_checkpoint_lookup (ckpt, SHARED);
  ea = ckpt_find (entries, "image_proj_norm.bias");
  eb = ckpt_find (entries, SHARED);
  g_assert_cmpint ((const guint8 *) b->data - (const guint8 *) a->data, ==, eb->data - ea->data);

  /* The tied names the file lacks resolve to shared.weight. */
  shared = florence_checkpoint_lookup (ckpt, SHARED);
  g_assert_cmpint (shared->shape[0], ==, 51289);
  g_assert_cmpint (shared->shape[1], ==, 32);
  g_assert_true (florence_checkpoint_lookup (ckpt, LM_HEAD) == shared);
  g_assert_true (florence_checkpoint_lookup (ckpt, ENC_EMBED) == shared);
  g_assert_true (florence_checkpoint_lookup (ckpt, DEC_EMBED) == shared);
  g_assert_null (florence_checkpoint_lookup (ckpt, "no.such.tensor"));

  t = florence_checkpoint_lookup (ckpt, "vision_tower.convs.0.proj.weight");
  g_assert_cmpuint (t->n_dims, ==, 4);
  g_assert_cmpint (t->shape[0], ==, 16);
  g_assert_cmpint (t->shape[1], ==, 3);
  g_assert_cmpint (t->shape[2], ==, 7);
  g_assert_cmpint (t->shape[3], ==, 7);
  {
    guint64 total = 0;

    for (guint i = 0; i < entries->len; i++)
      total += ((CkptEntry *) g_ptr_array_index (entries, i))->n_bytes;
    g_assert_cmpuint (florence_checkpoint_get_n_bytes (ckpt), ==, total);
  }
}

/* The stored cosine table (spec §4): P[t, 2j] = sin(t·10000^(−2j/D)), P[t, 2j+1] = cos(…). */
static void
test_temporal_table_values (void)
{
  g_autoptr (FlorenceConfig) c = tiny_config ();
  g_autoptr (FlorenceCheckpoint) ckpt = open_fixture ("tiny", c);
  const FlorenceTensor *t =
    florence_checkpoint_lookup (ckpt, "visual_temporal_embed.pos_idx_to_embed");
  g_autofree float *v = g_new (float, t->n_elements);

  g_assert_cmpint (t->shape[0], ==, 100);
  g_assert_cmpint (t->shape[1], ==, 64);
  florence_tensor_to_f32 (t, v);
  for (int row = 0; row < 100; row++)
    for (int j = 0; j < 32; j++)
      {
        double w = row * pow (10000.0, -2.0 * j / 64.0);

        g_assert_cmpfloat_with_epsilon (v[row * 64 + 2 * j], sin (w), 2e-3);
        g_assert_cmpfloat_with_epsilon (v[row * 64 + 2 * j + 1], cos (w), 2e-3);
      }
  /* Row 0 is exactly [0, 1, 0, 1, …]. */
  for (int k = 0; k < 64; k++)
    g_assert_cmpfloat (v[k], ==, k % 2 ? 1.0f : 0.0f);
}

static void
test_tiny_bin_identical (void)
{
  g_autoptr (FlorenceConfig) c = tiny_config ();
  g_autoptr (FlorenceCheckpoint) st = open_fixture ("tiny", c);
  g_autoptr (FlorenceCheckpoint) bin = open_fixture ("tiny-bin", c);
  const FlorenceTensor *shared;

  g_assert_cmpint (florence_checkpoint_get_format (bin), ==, FLORENCE_CHECKPOINT_FORMAT_PYTORCH);
  /* 274 + the three tied aliases the .bin stores. */
  g_assert_cmpuint (florence_checkpoint_get_n_tensors (bin), ==, TINY_TENSORS + 3);
  for (guint i = 0; i < florence_checkpoint_get_n_tensors (st); i++)
    {
      const FlorenceTensor *a = florence_checkpoint_get_tensor (st, i);
      const FlorenceTensor *b = florence_checkpoint_lookup (bin, a->name);

      g_assert_nonnull (b);
      g_assert_cmpint (a->dtype, ==, b->dtype);
      g_assert_cmpuint (a->n_dims, ==, b->n_dims);
      g_assert_cmpmem (a->shape, sizeof a->shape, b->shape, sizeof b->shape);
      g_assert_cmpmem (a->data, a->n_elements * 2, b->data, b->n_elements * 2);
    }
  /* The four tied names share one storage in the .bin. */
  shared = florence_checkpoint_lookup (bin, SHARED);
  g_assert_true (florence_checkpoint_lookup (bin, LM_HEAD)->data == shared->data);
  g_assert_true (florence_checkpoint_lookup (bin, ENC_EMBED)->data == shared->data);
  g_assert_true (florence_checkpoint_lookup (bin, DEC_EMBED)->data == shared->data);
  g_assert_cmpuint (florence_checkpoint_get_n_bytes (bin), ==,
                    florence_checkpoint_get_n_bytes (st));

  /* Same weights, same identity for the gallery. */
  g_assert_cmpuint (strlen (florence_checkpoint_get_sha256 (st)), ==, 64);
  g_assert_cmpstr (florence_checkpoint_get_sha256 (st), ==, florence_checkpoint_get_sha256 (bin));
}

static void
test_tiny_eos_differs (void)
{
  g_autoptr (FlorenceConfig) c = tiny_config ();
  g_autoptr (FlorenceCheckpoint) a = open_fixture ("tiny", c);
  g_autoptr (FlorenceCheckpoint) b = open_fixture ("tiny-eos", c);

  g_assert_cmpstr (florence_checkpoint_get_sha256 (a), !=, florence_checkpoint_get_sha256 (b));
}

/* ---- the table of expected tensors (spec §6.2, §11.1) ------------------------------------- */

typedef struct {
  guint n_tensors;
  guint64 params, buffers;
} Totals;

static Totals
totals (const char *hub)
{
  g_autofree char *dir = ckpt_data_path ("hub", hub, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceConfig) c = florence_config_load (dir, &error);
  g_autoptr (GPtrArray) specs = NULL;
  Totals t = { 0 };

  g_assert_no_error (error);
  specs = florence_checkpoint_expected_tensors (c, c->vocab_size);
  t.n_tensors = specs->len;
  for (guint i = 0; i < specs->len; i++)
    {
      FlorenceTensorSpec *s = g_ptr_array_index (specs, i);
      guint64 n = 1;

      for (guint d = 0; d < s->n_dims; d++)
        n *= (guint64) s->shape[d];
      if (s->is_buffer)
        t.buffers += n;
      else if (!s->is_tied)
        t.params += n;
    }
  return t;
}

static const FlorenceTensorSpec *
find_spec (GPtrArray *specs, const char *name)
{
  for (guint i = 0; i < specs->len; i++)
    if (g_str_equal (((FlorenceTensorSpec *) g_ptr_array_index (specs, i))->name, name))
      return g_ptr_array_index (specs, i);
  return NULL;
}

static void
assert_spec (GPtrArray *specs, const char *name, guint n_dims, gint64 a, gint64 b, gint64 c,
             gint64 d)
{
  const FlorenceTensorSpec *s = find_spec (specs, name);
  gint64 want[4] = { a, b, c, d };

  g_assert_nonnull (s);
  g_assert_cmpuint (s->n_dims, ==, n_dims);
  for (guint k = 0; k < n_dims; k++)
    g_assert_cmpint (s->shape[k], ==, want[k]);
}

static void
test_table (void)
{
  Totals base = totals ("base"), large = totals ("large");
  g_autofree char *dir = ckpt_data_path ("hub", "base", NULL);
  g_autoptr (FlorenceConfig) c = florence_config_load (dir, NULL);
  g_autoptr (GPtrArray) specs = florence_checkpoint_expected_tensors (c, 51289);
  g_autoptr (FlorenceConfig) tiny = tiny_config ();
  g_autoptr (GPtrArray) tiny_specs = florence_checkpoint_expected_tensors (tiny, 51289);

  /* Spec §6.2: 669 / 921 names (tied aliases included); §11.1: parameters (tied embedding
   * once, buffers excluded) and buffers (temporal table + final_logits_bias). */
  g_assert_cmpuint (base.n_tensors, ==, 669);
  g_assert_cmpuint (base.params, ==, 231414016);
  g_assert_cmpuint (base.buffers, ==, 102400 + 51289);
  g_assert_cmpuint (large.n_tensors, ==, 921);
  g_assert_cmpuint (large.params, ==, 770173952);
  g_assert_cmpuint (large.buffers, ==, 204800 + 51289);
  g_assert_cmpuint (tiny_specs->len, ==, TINY_TENSORS + 3);

  /* A few rows of the §6.2 table, base shapes. */
  assert_spec (specs, "vision_tower.convs.0.proj.weight", 4, 128, 3, 7, 7);
  assert_spec (specs, "vision_tower.convs.3.proj.weight", 4, 1024, 512, 3, 3);
  assert_spec (specs, "vision_tower.convs.0.norm.weight", 1, 128, 0, 0, 0);
  assert_spec (specs, "vision_tower.convs.1.norm.weight", 1, 128, 0, 0, 0);
  assert_spec (specs, "vision_tower.convs.3.norm.bias", 1, 512, 0, 0, 0);
  assert_spec (specs, "vision_tower.blocks.2.8.channel_block.channel_attn.fn.qkv.weight", 2, 1536,
               512, 0, 0);
  assert_spec (specs, "vision_tower.blocks.3.0.spatial_block.ffn.fn.net.fc2.weight", 2, 1024, 4096,
               0, 0);
  assert_spec (specs, "vision_tower.blocks.0.0.spatial_block.conv2.fn.dw.weight", 4, 128, 1, 3, 3);
  assert_spec (specs, "image_projection", 2, 1024, 768, 0, 0);
  assert_spec (specs, "image_pos_embed.row_embeddings.weight", 2, 50, 512, 0, 0);
  assert_spec (specs, "visual_temporal_embed.pos_idx_to_embed", 2, 100, 1024, 0, 0);
  assert_spec (specs, "language_model.final_logits_bias", 2, 1, 51289, 0, 0);
  assert_spec (specs, "language_model.model.encoder.embed_positions.weight", 2, 1026, 768, 0, 0);
  assert_spec (specs, "language_model.model.encoder.layers.5.fc1.weight", 2, 3072, 768, 0, 0);
  assert_spec (specs, "language_model.model.decoder.layers.5.encoder_attn.out_proj.bias", 1, 768, 0,
               0, 0);
  assert_spec (specs, "language_model.model.decoder.layernorm_embedding.weight", 1, 768, 0, 0, 0);
  assert_spec (specs, LM_HEAD, 2, 51289, 768, 0, 0);
  g_assert_null (find_spec (specs, "vision_tower.blocks.2.9.spatial_block.conv1.fn.dw.bias"));
  g_assert_null (find_spec (specs, "language_model.model.encoder.layers.6.fc1.weight"));
}

/* ---- conversions ---------------------------------------------------------------------------- */

static void
test_half_conversions (void)
{
  static const struct {
    guint16 h;
    float f;
  } pairs[] = {
    { 0x0000, 0.0f },
    { 0x3c00, 1.0f },
    { 0xc000, -2.0f },
    { 0x3555, 0.333251953125f },
    { 0x7bff, 65504.0f },
    { 0x0400, 6.103515625e-05f },
    { 0x0001, 5.960464477539063e-08f },
    { 0x03ff, 6.097555160522461e-05f },
    { 0x8001, -5.960464477539063e-08f },
  };
  FlorenceTensor t = { 0 };
  guint16 bf[2] = { 0x3f80, 0xc0a0 };
  float out[2], f32[2] = { 1.5f, -0.25f };

  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      g_assert_cmpfloat (florence_f16_to_f32 (pairs[i].h), ==, pairs[i].f);
      g_assert_cmphex (florence_f32_to_f16 (pairs[i].f), ==, pairs[i].h);
    }
  g_assert_true (isinf (florence_f16_to_f32 (0x7c00)));
  g_assert_true (isnan (florence_f16_to_f32 (0x7e00)));
  /* Round to nearest even; overflow to infinity; underflow to zero. */
  g_assert_cmphex (florence_f32_to_f16 (1.0f + 1.0f / 2048), ==, 0x3c00);
  g_assert_cmphex (florence_f32_to_f16 (1.0f + 3.0f / 2048), ==, 0x3c02);
  g_assert_cmphex (florence_f32_to_f16 (65520.0f), ==, 0x7c00);
  g_assert_cmphex (florence_f32_to_f16 (1e-9f), ==, 0x0000);
  g_assert_cmphex (florence_f32_to_f16 (-INFINITY), ==, 0xfc00);

  t.dtype = FLORENCE_DTYPE_BF16;
  t.n_elements = 2;
  t.data = bf;
  florence_tensor_to_f32 (&t, out);
  g_assert_cmpfloat (out[0], ==, 1.0f);
  g_assert_cmpfloat (out[1], ==, -5.0f);
  t.dtype = FLORENCE_DTYPE_F32;
  t.data = f32;
  florence_tensor_to_f32 (&t, out);
  g_assert_cmpfloat (out[0], ==, 1.5f);
  g_assert_cmpfloat (out[1], ==, -0.25f);
  g_assert_cmpuint (florence_dtype_size (FLORENCE_DTYPE_BF16), ==, 2);
  g_assert_cmpstr (florence_dtype_to_string (FLORENCE_DTYPE_F32), ==, "F32");
}

/* ---- safetensors variants and failures ----------------------------------------------------- */

/* A header of odd length leaves every tensor misaligned: served as is, no copy. */
static void
test_unaligned_not_copied (void)
{
  g_autoptr (FlorenceConfig) c = tiny_config ();
  g_autoptr (FlorenceCheckpoint) ref = open_fixture ("tiny", c);
  g_autoptr (GBytes) file = tiny_file ();
  gsize size;
  const guint8 *d = g_bytes_get_data (file, &size);
  guint64 n = 0;
  GByteArray *odd = g_byte_array_new ();
  g_autoptr (GBytes) crafted = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceCheckpoint) ckpt = NULL;
  const FlorenceTensor *a, *b;

  for (int i = 7; i >= 0; i--)
    n = (n << 8) | d[i];
  ckpt_put64 (odd, n + 1);
  g_byte_array_append (odd, d + 8, (guint) n);
  g_byte_array_append (odd, (const guint8 *) " ", 1);
  g_byte_array_append (odd, d + 8 + n, (guint) (size - 8 - n));
  crafted = g_byte_array_free_to_bytes (odd);
  ckpt = open_crafted ("model.safetensors", crafted, c, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < florence_checkpoint_get_n_tensors (ref); i++)
    {
      const FlorenceTensor *r = florence_checkpoint_get_tensor (ref, i);
      const FlorenceTensor *t = florence_checkpoint_lookup (ckpt, r->name);

      g_assert_cmpmem (t->data, t->n_elements * 2, r->data, r->n_elements * 2);
    }
  a = florence_checkpoint_lookup (ckpt, "image_proj_norm.bias");
  b = florence_checkpoint_lookup (ckpt, SHARED);
  g_assert_cmpuint ((guintptr) a->data % 2, ==, 1);
  {
    float have[32], want[32];

    florence_tensor_to_f32 (a, have); /* byte-wise: clean under UBSan's alignment check */
    florence_tensor_to_f32 (florence_checkpoint_lookup (ref, "image_proj_norm.bias"), want);
    g_assert_cmpmem (have, sizeof have, want, sizeof want);
  }
  /* Same distance as in the reference mapping: both point into the file, not into copies. */
  g_assert_cmpint (
    (const guint8 *) b->data - (const guint8 *) a->data, ==,
    (const guint8 *) florence_checkpoint_lookup (ref, SHARED)->data -
      (const guint8 *) florence_checkpoint_lookup (ref, "image_proj_norm.bias")->data);
  g_assert_cmpstr (florence_checkpoint_get_sha256 (ckpt), ==, florence_checkpoint_get_sha256 (ref));
}

static void
test_tied_stored_and_dtypes (void)
{
  g_autoptr (FlorenceConfig) c = tiny_config ();
  g_autoptr (GBytes) file = tiny_file ();
  g_autoptr (GPtrArray) entries = ckpt_parse_safetensors (file);
  CkptEntry *shared = ckpt_find (entries, SHARED),
            *norm = ckpt_find (entries, "image_proj_norm.weight");
  g_autofree float *f32 = g_new (float, 32);
  g_autoptr (GBytes) crafted = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceCheckpoint) ckpt = NULL;
  g_autoptr (FlorenceCheckpoint) ref = open_fixture ("tiny", c);
  const FlorenceTensor *t;
  float want[32];

  /* The older official layout: all four tied names stored (here as separate copies). */
  g_ptr_array_add (
    entries, ckpt_entry_new (LM_HEAD, "F16", 2, shared->shape, shared->data, shared->n_bytes));
  g_ptr_array_add (
    entries, ckpt_entry_new (ENC_EMBED, "F16", 2, shared->shape, shared->data, shared->n_bytes));
  g_ptr_array_add (
    entries, ckpt_entry_new (DEC_EMBED, "F16", 2, shared->shape, shared->data, shared->n_bytes));
  /* An F32 tensor among F16 ones, and an unknown extra tensor of any shape (ignored). */
  florence_tensor_to_f32 (florence_checkpoint_lookup (ref, "image_proj_norm.weight"), want);
  for (int i = 0; i < 32; i++)
    f32[i] = want[i];
  norm->data = (const guint8 *) f32;
  norm->n_bytes = 128;
  g_free (norm->dtype);
  norm->dtype = g_strdup ("F32");
  g_ptr_array_add (entries, ckpt_entry_new ("vision_tower.head.weight", "F16", 1, (gint64[]){ 3 },
                                            shared->data, 6));
  g_ptr_array_add (entries,
                   ckpt_entry_new ("step_counter", "I64", 1, (gint64[]){ 1 }, shared->data, 8));
  crafted = ckpt_build_safetensors (entries);
  ckpt = open_crafted ("model.safetensors", crafted, c, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (florence_checkpoint_get_n_tensors (ckpt), ==, TINY_TENSORS + 3);
  t = florence_checkpoint_lookup (ckpt, LM_HEAD);
  g_assert_true (t != florence_checkpoint_lookup (ckpt, SHARED));
  g_assert_cmpmem (t->data, shared->n_bytes, shared->data, shared->n_bytes);
  t = florence_checkpoint_lookup (ckpt, "image_proj_norm.weight");
  g_assert_cmpint (t->dtype, ==, FLORENCE_DTYPE_F32);
  {
    float got[32];

    florence_tensor_to_f32 (t, got);
    g_assert_cmpmem (got, sizeof got, want, sizeof want);
  }
  g_assert_null (florence_checkpoint_lookup (ckpt, "vision_tower.head.weight"));
  g_assert_null (florence_checkpoint_lookup (ckpt, "step_counter"));
}

typedef enum { EDIT_REMOVE, EDIT_SHAPE, EDIT_DTYPE, EDIT_ADD } EditKind;

typedef struct {
  const char *what;
  EditKind kind;
  const char *name; /* the tensor edited (or added, as a copy of source) */
  const char *dtype;
  guint n_dims;
  gint64 shape[4];
  const char *source; /* EDIT_ADD: whose bytes */
  int code;
} EditCase;

static void
test_safetensors_edits (void)
{
  static const EditCase cases[] = {
    { "missing tensor",
      EDIT_REMOVE,
      "vision_tower.convs.2.proj.bias",
      NULL,
      0,
      { 0 },
      NULL,
      FLORENCE_CHECKPOINT_ERROR_MISSING },
    { "missing shared",
      EDIT_REMOVE,
      SHARED,
      NULL,
      0,
      { 0 },
      NULL,
      FLORENCE_CHECKPOINT_ERROR_MISSING },
    { "missing bias",
      EDIT_REMOVE,
      "language_model.final_logits_bias",
      NULL,
      0,
      { 0 },
      NULL,
      FLORENCE_CHECKPOINT_ERROR_MISSING },
    { "transposed fc1",
      EDIT_SHAPE,
      "language_model.model.encoder.layers.1.fc1.weight",
      NULL,
      2,
      { 32, 128 },
      NULL,
      FLORENCE_CHECKPOINT_ERROR_SHAPE },
    { "flattened conv",
      EDIT_SHAPE,
      "vision_tower.convs.0.proj.weight",
      NULL,
      2,
      { 16, 147 },
      NULL,
      FLORENCE_CHECKPOINT_ERROR_SHAPE },
    { "bias with an extra dim",
      EDIT_SHAPE,
      "image_proj_norm.bias",
      NULL,
      2,
      { 1, 32 },
      NULL,
      FLORENCE_CHECKPOINT_ERROR_SHAPE },
    { "integer weights",
      EDIT_DTYPE,
      "image_proj_norm.bias",
      "I64",
      1,
      { 8 },
      NULL,
      FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED },
    { "float64 weights",
      EDIT_DTYPE,
      "image_proj_norm.bias",
      "F64",
      1,
      { 8 },
      NULL,
      FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED },
    { "unknown dtype",
      EDIT_DTYPE,
      "image_proj_norm.bias",
      "F17",
      1,
      { 32 },
      NULL,
      FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED },
    { "lm_head of the wrong shape",
      EDIT_ADD,
      LM_HEAD,
      "F16",
      2,
      { 51289, 16 },
      SHARED,
      FLORENCE_CHECKPOINT_ERROR_SHAPE },
    { "embed_tokens of the wrong shape",
      EDIT_ADD,
      DEC_EMBED,
      "F16",
      2,
      { 51288, 32 },
      SHARED,
      FLORENCE_CHECKPOINT_ERROR_SHAPE },
    { "an encoder layer too many",
      EDIT_ADD,
      "language_model.model.encoder.layers.2.fc1.weight",
      "F16",
      2,
      { 128, 32 },
      "language_model.model.encoder.layers.1.fc1.weight",
      FLORENCE_CHECKPOINT_ERROR_SHAPE },
    { "a decoder layer too many",
      EDIT_ADD,
      "language_model.model.decoder.layers.7.fc1.bias",
      "F16",
      1,
      { 128 },
      "language_model.model.decoder.layers.1.fc1.bias",
      FLORENCE_CHECKPOINT_ERROR_SHAPE },
    { "a vision block too many",
      EDIT_ADD,
      "vision_tower.blocks.2.2.spatial_block.conv1.fn.dw.bias",
      "F16",
      1,
      { 48 },
      "vision_tower.blocks.2.1.spatial_block.conv1.fn.dw.bias",
      FLORENCE_CHECKPOINT_ERROR_SHAPE },
    { "a fifth stage",
      EDIT_ADD,
      "vision_tower.convs.4.proj.bias",
      "F16",
      1,
      { 64 },
      "vision_tower.convs.3.proj.bias",
      FLORENCE_CHECKPOINT_ERROR_SHAPE },
  };
  g_autoptr (FlorenceConfig) c = tiny_config ();
  g_autoptr (GBytes) file = tiny_file ();

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const EditCase *k = &cases[i];
      g_autoptr (GPtrArray) entries = ckpt_parse_safetensors (file);
      g_autoptr (GBytes) crafted = NULL;
      CkptEntry *e;

      g_test_message ("case: %s", k->what);
      switch (k->kind)
        {
        case EDIT_REMOVE:
          ckpt_remove (entries, k->name);
          break;
        case EDIT_SHAPE:
        case EDIT_DTYPE:
          e = ckpt_find (entries, k->name);
          e->n_dims = k->n_dims;
          memcpy (e->shape, k->shape, sizeof k->shape);
          if (k->dtype != NULL)
            {
              g_free (e->dtype);
              e->dtype = g_strdup (k->dtype);
            }
          break;
        case EDIT_ADD:
          {
            CkptEntry *src = ckpt_find (entries, k->source);
            gsize n = 2;

            for (guint d = 0; d < k->n_dims; d++)
              n *= (gsize) k->shape[d];
            g_assert_cmpuint (n, <=, src->n_bytes);
            g_ptr_array_add (entries,
                             ckpt_entry_new (k->name, k->dtype, k->n_dims, k->shape, src->data, n));
            break;
          }
        default:
          g_assert_not_reached ();
        }
      crafted = ckpt_build_safetensors (entries);
      assert_fails ("model.safetensors", crafted, c, k->code, k->name);
    }
}

typedef struct {
  const char *what;
  const char *header; /* NULL: raw bytes */
  gsize data_len;
  int code;
  const char *needle;
} RawCase;

static void
test_safetensors_lies (void)
{
  static const RawCase cases[] = {
    { "offsets beyond the end", "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}",
      2, FLORENCE_CHECKPOINT_ERROR_CORRUPT, "“a”" },
    { "overlapping",
      "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F16\","
      "\"shape\":[2],\"data_offsets\":[2,6]}}",
      8, FLORENCE_CHECKPOINT_ERROR_CORRUPT, "overlaps" },
    { "same bytes twice",
      "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F16\","
      "\"shape\":[2],\"data_offsets\":[0,4]}}",
      8, FLORENCE_CHECKPOINT_ERROR_CORRUPT, "overlaps" },
    { "wrong dtype size", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8,
      FLORENCE_CHECKPOINT_ERROR_CORRUPT, "“a”" },
    { "span too long", "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,6]}}", 8,
      FLORENCE_CHECKPOINT_ERROR_CORRUPT, "“a”" },
    { "decreasing offsets", "{\"a\":{\"dtype\":\"F16\",\"shape\":[0],\"data_offsets\":[4,0]}}", 8,
      FLORENCE_CHECKPOINT_ERROR_CORRUPT, "“a”" },
    { "size overflow",
      "{\"a\":{\"dtype\":\"F16\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,0]}}", 8,
      FLORENCE_CHECKPOINT_ERROR_CORRUPT, "“a”" },
    { "negative size", "{\"a\":{\"dtype\":\"F16\",\"shape\":[-2],\"data_offsets\":[0,4]}}", 8,
      FLORENCE_CHECKPOINT_ERROR_CORRUPT, "“a”" },
    { "fractional size", "{\"a\":{\"dtype\":\"F16\",\"shape\":[2.5],\"data_offsets\":[0,4]}}", 8,
      FLORENCE_CHECKPOINT_ERROR_CORRUPT, "“a”" },
    { "negative offset", "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[-4,0]}}", 8,
      FLORENCE_CHECKPOINT_ERROR_CORRUPT, "“a”" },
    { "dtype not a string", "{\"a\":{\"dtype\":16,\"shape\":[2],\"data_offsets\":[0,4]}}", 8,
      FLORENCE_CHECKPOINT_ERROR_CORRUPT, "“a”" },
    { "no offsets", "{\"a\":{\"dtype\":\"F16\",\"shape\":[2]}}", 8,
      FLORENCE_CHECKPOINT_ERROR_CORRUPT, "“a”" },
    { "nine dims",
      "{\"a\":{\"dtype\":\"F16\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,4]}}", 8,
      FLORENCE_CHECKPOINT_ERROR_CORRUPT, "“a”" },
    { "entry not an object", "{\"a\":[1,2]}", 8, FLORENCE_CHECKPOINT_ERROR_CORRUPT, "“a”" },
    { "metadata not an object", "{\"__metadata__\":3}", 8, FLORENCE_CHECKPOINT_ERROR_CORRUPT,
      "__metadata__" },
    { "header not JSON", "{\"a\":", 8, FLORENCE_CHECKPOINT_ERROR_CORRUPT, "JSON" },
    { "header an array", "[1]", 8, FLORENCE_CHECKPOINT_ERROR_CORRUPT, "JSON" },
  };
  g_autoptr (FlorenceConfig) c = tiny_config ();
  guint8 zeros[16] = { 0 };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) crafted = ckpt_raw_safetensors (cases[i].header, zeros, cases[i].data_len);

      g_test_message ("case: %s", cases[i].what);
      assert_fails ("model.safetensors", crafted, c, cases[i].code, cases[i].needle);
    }
}

/* json-glib recurses per nesting level: a deep header must be refused before it parses. */
static void
test_safetensors_deep_header (void)
{
  g_autoptr (FlorenceConfig) c = tiny_config ();
  const gsize depth = 1000000;
  GString *h = g_string_new ("{\"a\":");
  g_autoptr (GBytes) crafted = NULL;

  for (gsize i = 0; i < depth; i++)
    g_string_append_c (h, '[');
  for (gsize i = 0; i < depth; i++)
    g_string_append_c (h, ']');
  g_string_append_c (h, '}');
  crafted = ckpt_raw_safetensors (h->str, "", 0);
  g_string_free (h, TRUE);
  assert_fails ("model.safetensors", crafted, c, FLORENCE_CHECKPOINT_ERROR_CORRUPT, "nests");
}

static void
test_safetensors_truncated (void)
{
  g_autoptr (FlorenceConfig) c = tiny_config ();
  g_autoptr (GBytes) file = tiny_file ();
  gsize size = g_bytes_get_size (file);
  g_autoptr (GPtrArray) entries = ckpt_parse_safetensors (file);
  CkptEntry *last = NULL;
  static const guint8 huge[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0 };
  g_autoptr (GBytes) huge_len = g_bytes_new_static (huge, 8);
  g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);

  /* The tensor whose bytes end the file. */
  for (guint i = 0; i < entries->len; i++)
    {
      CkptEntry *e = g_ptr_array_index (entries, i);

      if (last == NULL || e->data > last->data)
        last = e;
    }
  {
    g_autoptr (GBytes) cut = g_bytes_new_from_bytes (file, 0, size - 1);

    g_test_message ("case: data cut short");
    assert_fails ("model.safetensors", cut, c, FLORENCE_CHECKPOINT_ERROR_CORRUPT, last->name);
  }
  {
    g_autoptr (GBytes) cut = g_bytes_new_from_bytes (file, 0, 4000);

    g_test_message ("case: header cut short");
    assert_fails ("model.safetensors", cut, c, FLORENCE_CHECKPOINT_ERROR_CORRUPT, "header");
  }
  g_test_message ("case: absurd header length");
  assert_fails ("model.safetensors", huge_len, c, FLORENCE_CHECKPOINT_ERROR_CORRUPT, "header");
  g_test_message ("case: empty file");
  assert_fails ("model.safetensors", empty, c, FLORENCE_CHECKPOINT_ERROR_CORRUPT, NULL);
}

static void
test_not_found (void)
{
  g_autoptr (FlorenceConfig) c = tiny_config ();
  g_autoptr (GError) error = NULL;
  Scratch s;
  g_autoptr (FlorenceCheckpoint) ckpt = NULL;

  scratch_init (&s);
  ckpt = florence_checkpoint_open (s.dir, c, &error);
  g_assert_null (ckpt);
  g_assert_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, s.dir));
  scratch_clear (&s);
}

/* The wrong config for the weights: base shapes against tiny weights. */
static void
test_wrong_config (void)
{
  g_autofree char *dir = ckpt_data_path ("hub", "base", NULL);
  g_autoptr (FlorenceConfig) base = florence_config_load (dir, NULL);
  g_autofree char *tiny_dir = ckpt_data_path ("models", "tiny", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceCheckpoint) ckpt = florence_checkpoint_open (tiny_dir, base, &error);

  g_assert_null (ckpt);
  g_assert_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "model.safetensors"));
}

/* ---- native transformers port (spec §6.3) --------------------------------------------------- */

static char *
replace_once_str (const char *text, const char *from, const char *to)
{
  const char *at = strstr (text, from);

  g_assert_nonnull (at);
  return g_strdup_printf ("%.*s%s%s", (int) (at - text), text, to, at + strlen (from));
}

static guint8 *
find_bytes (guint8 *hay, gsize size, const char *needle)
{
  gsize n = strlen (needle);

  for (gsize i = 0; i + n <= size; i++)
    if (memcmp (hay + i, needle, n) == 0)
      return hay + i;
  return NULL;
}

static char *
replace_all (const char *s, const char *from, const char *to)
{
  g_auto (GStrv) parts = g_strsplit (s, from, -1);

  return g_strjoinv (to, parts);
}

/* The converter's renames, written from the spec's table. */
static char *
to_native (const char *name)
{
  static const char *block_renames[][2] = {
    { ".conv1.fn.dw.", ".conv1." },
    { ".conv2.fn.dw.", ".conv2." },
    { ".window_attn.norm.", ".norm1." },
    { ".channel_attn.norm.", ".norm1." },
    { ".window_attn.fn.", ".window_attn." },
    { ".channel_attn.fn.", ".channel_attn." },
    { ".ffn.norm.", ".norm2." },
    { ".ffn.fn.net.", ".ffn." },
  };

  if (g_str_equal (name, "image_projection"))
    return g_strdup ("model.multi_modal_projector.image_projection.weight");
  if (g_str_has_prefix (name, "vision_tower.convs."))
    {
      g_autofree char *n = replace_all (name, ".proj.", ".conv.");

      return g_strconcat ("model.", n, NULL);
    }
  if (g_str_has_prefix (name, "vision_tower.blocks."))
    {
      char *n = g_strconcat ("model.", name, NULL);

      for (guint i = 0; i < G_N_ELEMENTS (block_renames); i++)
        {
          char *m = replace_all (n, block_renames[i][0], block_renames[i][1]);

          g_free (n);
          n = m;
        }
      return n;
    }
  if (g_str_has_prefix (name, "image_proj_norm."))
    return g_strconcat ("model.multi_modal_projector.", name, NULL);
  if (g_str_has_prefix (name, "image_pos_embed."))
    return g_strconcat ("model.multi_modal_projector.image_position_embed.",
                        name + strlen ("image_pos_embed."), NULL);
  if (g_str_has_prefix (name, "visual_temporal_embed."))
    return g_strconcat ("model.multi_modal_projector.", name, NULL);
  if (g_str_has_prefix (name, "language_model.model."))
    return g_strconcat ("model.language_model.", name + strlen ("language_model.model."), NULL);
  g_assert_not_reached ();
}

static void
test_native (void)
{
  g_autoptr (FlorenceConfig) c = tiny_config ();
  g_autoptr (FlorenceCheckpoint) ref = open_fixture ("tiny", c);
  g_autoptr (GBytes) file = tiny_file ();
  g_autoptr (GPtrArray) entries = ckpt_parse_safetensors (file);
  g_autoptr (GPtrArray) native = g_ptr_array_new_with_free_func ((GDestroyNotify) ckpt_entry_free);
  const gsize rows = 51328, d = 32, pad = (rows - 51289) * d * 2;
  g_autofree guint8 *padded = NULL;
  g_autofree guint8 *transposed = NULL;
  g_autoptr (GBytes) crafted = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceCheckpoint) ckpt = NULL;
  const FlorenceTensor *t, *r;

  for (guint i = 0; i < entries->len; i++)
    {
      CkptEntry *e = g_ptr_array_index (entries, i);
      g_autofree char *n = NULL;

      if (g_str_equal (e->name, "language_model.final_logits_bias"))
        continue; /* dropped by the converter */
      n = to_native (e->name);
      if (g_str_equal (e->name, SHARED))
        {
          gint64 shape[2] = { (gint64) rows, (gint64) d };

          padded = g_malloc (e->n_bytes + pad);
          memcpy (padded, e->data, e->n_bytes);
          memset (padded + e->n_bytes, 0x3c, pad);
          g_ptr_array_add (native, ckpt_entry_new (n, "F16", 2, shape, padded, e->n_bytes + pad));
        }
      else if (g_str_equal (e->name, "image_projection"))
        {
          gint64 shape[2] = { e->shape[1], e->shape[0] }; /* [d, D] */
          const guint16 *src = (const guint16 *) e->data;
          guint16 *dst;

          transposed = g_malloc (e->n_bytes);
          dst = (guint16 *) transposed;
          for (gint64 a = 0; a < e->shape[0]; a++)
            for (gint64 b = 0; b < e->shape[1]; b++)
              dst[b * e->shape[0] + a] = src[a * e->shape[1] + b];
          g_ptr_array_add (native, ckpt_entry_new (n, "F16", 2, shape, transposed, e->n_bytes));
        }
      else
        g_ptr_array_add (native,
                         ckpt_entry_new (n, e->dtype, e->n_dims, e->shape, e->data, e->n_bytes));
    }
  crafted = ckpt_build_safetensors (native);
  ckpt = open_crafted ("model.safetensors", crafted, c, &error);
  g_assert_no_error (error);
  g_assert_true (florence_checkpoint_is_native (ckpt));
  g_assert_cmpuint (florence_checkpoint_get_vocab_rows (ckpt), ==, rows);

  /* Every original name serves the original bytes (the projection transposed back). */
  for (guint i = 0; i < florence_checkpoint_get_n_tensors (ref); i++)
    {
      const FlorenceTensor *a = florence_checkpoint_get_tensor (ref, i);

      t = florence_checkpoint_lookup (ckpt, a->name);
      g_assert_nonnull (t);
      if (g_str_equal (a->name, SHARED) ||
          g_str_equal (a->name, "language_model.final_logits_bias"))
        continue;
      g_assert_cmpmem (a->shape, sizeof a->shape, t->shape, sizeof t->shape);
      g_assert_cmpmem (a->data, a->n_elements * 2, t->data, t->n_elements * 2);
    }
  t = florence_checkpoint_lookup (ckpt, SHARED);
  r = florence_checkpoint_lookup (ref, SHARED);
  g_assert_cmpint (t->shape[0], ==, rows);
  g_assert_cmpmem (t->data, r->n_elements * 2, r->data,
                   r->n_elements * 2); /* the first 51289 rows */
  g_assert_true (florence_checkpoint_lookup (ckpt, LM_HEAD) == t);
  t = florence_checkpoint_lookup (ckpt, "language_model.final_logits_bias");
  g_assert_cmpint (t->shape[0], ==, 1);
  g_assert_cmpint (t->shape[1], ==, rows);
  for (gsize k = 0; k < t->n_elements; k++)
    g_assert_cmpuint (((const guint16 *) t->data)[k], ==, 0);
}

/* ---- shards -------------------------------------------------------------------------------- */

/* Writes @good_index with @from replaced by @to as the shard index of @s: opening the folder
 * must fail as corrupt, naming @named. */
static void
assert_index_corrupt (Scratch *s, FlorenceConfig *c, const char *good_index, const char *from,
                      const char *to, const char *named)
{
  g_autofree char *text = replace_once_str (good_index, from, to);
  g_autoptr (GBytes) idx = g_bytes_new_static (text, strlen (text));
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceCheckpoint) ckpt = NULL;

  scratch_put (s, "model.safetensors.index.json", idx);
  ckpt = florence_checkpoint_open (s->dir, c, &error);
  assert_refused (ckpt, error, FLORENCE_CHECKPOINT_ERROR_CORRUPT, NULL, named);
}

static void
test_sharded (void)
{
  g_autoptr (FlorenceConfig) c = tiny_config ();
  g_autoptr (FlorenceCheckpoint) ref = open_fixture ("tiny", c);
  g_autoptr (GBytes) file = tiny_file ();
  g_autoptr (GPtrArray) entries = ckpt_parse_safetensors (file);
  g_autoptr (GPtrArray) one = g_ptr_array_new ();
  g_autoptr (GPtrArray) two = g_ptr_array_new ();
  g_autoptr (GBytes) b1 = NULL;
  g_autoptr (GBytes) b2 = NULL;
  GString *index = g_string_new ("{\"metadata\": {}, \"weight_map\": {");
  g_autofree char *good = NULL;
  Scratch s;

  for (guint i = 0; i < entries->len; i++)
    {
      CkptEntry *e = g_ptr_array_index (entries, i);

      g_ptr_array_add (i % 2 ? two : one, e);
      g_string_append_printf (index, "%s\"%s\": \"model-0000%u-of-00002.safetensors\"",
                              i ? ", " : "", e->name, i % 2 ? 2 : 1);
    }
  g_string_append (index, "}}");
  good = g_string_free (index, FALSE);
  b1 = ckpt_build_safetensors (one);
  b2 = ckpt_build_safetensors (two);

  scratch_init (&s);
  scratch_put (&s, "model-00001-of-00002.safetensors", b1);
  scratch_put (&s, "model-00002-of-00002.safetensors", b2);
  {
    g_autoptr (GBytes) idx = g_bytes_new_static (good, strlen (good));
    g_autoptr (GError) error = NULL;
    g_autoptr (FlorenceCheckpoint) ckpt = NULL;

    scratch_put (&s, "model.safetensors.index.json", idx);
    ckpt = florence_checkpoint_open (s.dir, c, &error);
    g_assert_no_error (error);
    g_assert_cmpint (florence_checkpoint_get_format (ckpt), ==,
                     FLORENCE_CHECKPOINT_FORMAT_SAFETENSORS_SHARDED);
    g_assert_cmpstr (florence_checkpoint_get_sha256 (ckpt), ==,
                     florence_checkpoint_get_sha256 (ref));
  }
  /* The index lies about where a tensor is. */
  assert_index_corrupt (&s, c, good, "\"image_proj_norm.bias\": \"model-00001",
                        "\"image_proj_norm.bias\": \"model-00002", "image_proj_norm.bias");
  /* A shard name that leaves the directory. */
  assert_index_corrupt (&s, c, good, "\"model-00002-of-00002.safetensors\"",
                        "\"../model-00002-of-00002.safetensors\"", "../");
  scratch_clear (&s);
}

/* ---- pytorch_model.bin ---------------------------------------------------------------------- */

/* A torch.save archive: archive/data.pkl + archive/data/<key> storages (+ version). */
static GBytes *
torch_zip (GBytes *pickle, guint n_storages, GBytes **storages, const char **keys, gboolean zip64)
{
  g_autofree CkptZipEntry *entries = g_new0 (CkptZipEntry, n_storages + 2);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GBytes) version = g_bytes_new_static ("3\n", 2);

  entries[0] = (CkptZipEntry){ "archive/data.pkl", pickle, 0 };
  for (guint i = 0; i < n_storages; i++)
    {
      char *name = g_strconcat ("archive/data/", keys[i], NULL);

      g_ptr_array_add (names, name);
      entries[i + 1] = (CkptZipEntry){ name, storages[i], 0 };
    }
  entries[n_storages + 1] = (CkptZipEntry){ "archive/version", version, 0 };
  return ckpt_build_zip (entries, n_storages + 2, zip64);
}

static gboolean
read_bin (GBytes *zip, GPtrArray *tensors, GError **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (zip, &size);

  return florence_pickle_read_state_dict (data, size, "pytorch_model.bin", tensors, error);
}

static const guint16 storage0[8] = {
  0x3c00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600, 0x4700, 0x4800
};

/* A state dict the reader must accept: two views of one storage, an offset, a 0-d tensor. */
static GBytes *
good_pickle (void)
{
  GByteArray *p = pk_dict_begin ();

  pk_tensor (p, "a.weight", "HalfStorage", "0", 8, 0, 2, (gint64[]){ 2, 4 }, NULL);
  pk_tensor (p, "b.weight", "HalfStorage", "0", 8, 2, 1, (gint64[]){ 6 }, NULL);
  pk_tensor (p, "c.scalar", "HalfStorage", "0", 8, 7, 0, NULL, NULL);
  pk_tensor (p, "d.column", "HalfStorage", "0", 8, 0, 2, (gint64[]){ 8, 1 }, (gint64[]){ 1, 5 });
  return pk_dict_end (p);
}

static void
test_pickle_reader (void)
{
  g_autoptr (GBytes) pickle = good_pickle ();
  g_autoptr (GBytes) st = g_bytes_new_static (storage0, sizeof storage0);
  const char *keys[] = { "0" };

  for (int zip64 = 0; zip64 < 2; zip64++)
    {
      g_autoptr (GBytes) zip = torch_zip (pickle, 1, &st, keys, zip64);
      g_autoptr (GPtrArray) tensors =
        g_ptr_array_new_with_free_func ((GDestroyNotify) florence_raw_tensor_free);
      g_autoptr (GError) error = NULL;
      FlorenceRawTensor *a, *b, *s;

      g_assert_true (read_bin (zip, tensors, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (tensors->len, ==, 4);
      a = g_ptr_array_index (tensors, 0);
      b = g_ptr_array_index (tensors, 1);
      s = g_ptr_array_index (tensors, 2);
      g_assert_cmpstr (a->name, ==, "a.weight");
      g_assert_cmpuint (a->n_dims, ==, 2);
      g_assert_cmpint (a->shape[0], ==, 2);
      g_assert_cmpint (a->shape[1], ==, 4);
      g_assert_cmpmem (a->data, a->n_bytes, storage0, sizeof storage0);
      g_assert_cmpint (b->dtype, ==, FLORENCE_DTYPE_F16);
      g_assert_true (b->data == a->data + 4);
      g_assert_cmpmem (b->data, b->n_bytes, storage0 + 2, 12);
      g_assert_cmpuint (s->n_dims, ==, 0);
      g_assert_cmpuint (s->n_elements, ==, 1);
      g_assert_cmpmem (s->data, 2, storage0 + 7, 2);
    }
}

/* Protocol-4 spelling (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL), _rebuild_parameter,
 * LONG1 integers, an OrderedDict carrying _metadata (BUILD), BFloat16/Float storages. */
static void
test_pickle_variants (void)
{
  GByteArray *p = g_byte_array_new ();
  g_autoptr (GBytes) pickle = NULL;
  static const guint16 bf[4] = { 0x3f80, 0x4000, 0x4040, 0x4080 };
  static const float f32[2] = { 0.5f, -1.0f };
  g_autoptr (GBytes) s0 = g_bytes_new_static (bf, sizeof bf);
  g_autoptr (GBytes) s1 = g_bytes_new_static (f32, sizeof f32);
  GBytes *storages[2] = { s0, s1 };
  const char *keys[] = { "k0", "k1" };
  g_autoptr (GBytes) zip = NULL;
  g_autoptr (GPtrArray) tensors =
    g_ptr_array_new_with_free_func ((GDestroyNotify) florence_raw_tensor_free);
  g_autoptr (GError) error = NULL;
  FlorenceRawTensor *t;

  pk_op (p, 0x80);
  pk_op (p, 4);
  pk_op (p, 0x95);
  ckpt_put64 (p, 0);
  pk_op (p, 0x8c);
  pk_op (p, 11);
  g_byte_array_append (p, (const guint8 *) "collections", 11);
  pk_op (p, 0x94);
  pk_op (p, 0x8c);
  pk_op (p, 11);
  g_byte_array_append (p, (const guint8 *) "OrderedDict", 11);
  pk_op (p, 0x94);
  pk_op (p, 0x93);
  pk_op (p, 0x94); /* memo 2 = OrderedDict */
  pk_op (p, ')');
  pk_op (p, 'R');
  pk_op (p, 0x94);
  pk_op (p, '(');
  /* "p" = _rebuild_parameter (_rebuild_tensor_v2 (BF16 storage, …), True, OrderedDict ()) */
  pk_str (p, "p");
  pk_global (p, "torch._utils", "_rebuild_parameter");
  pk_op (p, '(');
  pk_global (p, "torch._utils", "_rebuild_tensor_v2");
  pk_op (p, '(');
  pk_op (p, '(');
  pk_str (p, "storage");
  pk_global (p, "torch", "BFloat16Storage");
  pk_str (p, "k0");
  pk_str (p, "cpu");
  pk_op (p, 0x8a);
  pk_op (p, 1);
  pk_op (p, 4); /* LONG1 4 */
  pk_op (p, 't');
  pk_op (p, 'Q');
  pk_op (p, 0x8a);
  pk_op (p, 0); /* LONG1 0 */
  pk_ints (p, 1, (gint64[]){ 4 });
  pk_ints (p, 1, (gint64[]){ 1 });
  pk_op (p, 0x89);
  pk_op (p, 'h');
  pk_op (p, 2);
  pk_op (p, ')');
  pk_op (p, 'R');
  pk_op (p, 't');
  pk_op (p, 'R');
  pk_op (p, 0x88);
  pk_op (p, 'h');
  pk_op (p, 2);
  pk_op (p, ')');
  pk_op (p, 'R');
  pk_op (p, 't');
  pk_op (p, 'R');
  pk_tensor (p, "q", "FloatStorage", "k1", 2, 0, 1, (gint64[]){ 2 }, NULL);
  pk_op (p, 'u');
  /* BUILD {'_metadata': OrderedDict ({'': {'version': 1}})} */
  pk_op (p, '}');
  pk_str (p, "_metadata");
  pk_op (p, 'h');
  pk_op (p, 2);
  pk_op (p, ')');
  pk_op (p, 'R');
  pk_str (p, "");
  pk_op (p, '}');
  pk_str (p, "version");
  pk_int (p, 1);
  pk_op (p, 's');
  pk_op (p, 's');
  pk_op (p, 's');
  pk_op (p, 'b');
  pk_op (p, '.');
  pickle = g_byte_array_free_to_bytes (p);
  zip = torch_zip (pickle, 2, storages, keys, FALSE);

  g_assert_true (read_bin (zip, tensors, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tensors->len, ==, 2);
  t = g_ptr_array_index (tensors, 0);
  g_assert_cmpstr (t->name, ==, "p");
  g_assert_cmpint (t->dtype, ==, FLORENCE_DTYPE_BF16);
  g_assert_cmpmem (t->data, t->n_bytes, bf, sizeof bf);
  t = g_ptr_array_index (tensors, 1);
  g_assert_cmpint (t->dtype, ==, FLORENCE_DTYPE_F32);
  g_assert_cmpmem (t->data, t->n_bytes, f32, sizeof f32);
}

typedef struct {
  const char *what;
  int code;
  const char *needle;
} PickleCase;

static GBytes *
bad_pickle (guint which)
{
  GByteArray *p = pk_dict_begin ();

  switch (which)
    {
    case 0: /* a global that runs code */
      pk_str (p, "x");
      pk_global (p, "os", "system");
      pk_str (p, "echo hi");
      pk_op (p, 0x85);
      pk_op (p, 'R');
      break;
    case 1: /* INST */
      pk_op (p, 'i');
      break;
    case 2: /* not contiguous */
      pk_tensor (p, "t", "HalfStorage", "0", 8, 0, 2, (gint64[]){ 2, 4 }, (gint64[]){ 1, 2 });
      break;
    case 3: /* larger than its storage */
      pk_tensor (p, "t", "HalfStorage", "0", 8, 4, 1, (gint64[]){ 6 }, NULL);
      break;
    case 4: /* the storage's bytes do not match its declared size */
      pk_tensor (p, "t", "HalfStorage", "0", 6, 0, 1, (gint64[]){ 6 }, NULL);
      break;
    case 5: /* a storage the archive lacks */
      pk_tensor (p, "t", "HalfStorage", "9", 8, 0, 1, (gint64[]){ 8 }, NULL);
      break;
    case 6: /* calling a storage class */
      pk_str (p, "t");
      pk_global (p, "torch", "HalfStorage");
      pk_op (p, ')');
      pk_op (p, 'R');
      break;
    case 7: /* a memo entry never stored */
      pk_str (p, "t");
      pk_op (p, 'h');
      pk_op (p, 77);
      break;
    case 8: /* an integer storage */
      pk_tensor (p, "t", "LongStorage", "0", 2, 0, 1, (gint64[]){ 2 }, NULL);
      break;
    case 9: /* NEWOBJ */
      pk_global (p, "collections", "OrderedDict");
      pk_op (p, ')');
      pk_op (p, 0x81);
      break;
    case 10: /* a tensor name twice */
      pk_tensor (p, "t", "HalfStorage", "0", 8, 0, 1, (gint64[]){ 8 }, NULL);
      pk_tensor (p, "t", "HalfStorage", "0", 8, 0, 1, (gint64[]){ 8 }, NULL);
      break;
    case 11: /* a negative offset */
      pk_tensor (p, "t", "HalfStorage", "0", 8, -1, 1, (gint64[]){ 8 }, NULL);
      break;
    default:
      g_assert_not_reached ();
    }
  return pk_dict_end (p);
}

static void
test_pickle_refusals (void)
{
  static const PickleCase cases[] = {
    { "os.system", FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED, "os.system" },
    { "INST", FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED, "0x69" },
    { "strided", FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED, "contiguous" },
    { "too large for storage", FLORENCE_CHECKPOINT_ERROR_CORRUPT, "storage" },
    { "storage size lies", FLORENCE_CHECKPOINT_ERROR_CORRUPT, "archive/data/0" },
    { "storage missing", FLORENCE_CHECKPOINT_ERROR_CORRUPT, "archive/data/9" },
    { "storage called", FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED, "storage" },
    { "unknown memo", FLORENCE_CHECKPOINT_ERROR_CORRUPT, "77" },
    { "LongStorage", FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED, "torch.LongStorage" },
    { "NEWOBJ", FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED, "0x81" },
    { "duplicate", FLORENCE_CHECKPOINT_ERROR_CORRUPT, "“t”" },
    { "negative offset", FLORENCE_CHECKPOINT_ERROR_CORRUPT, NULL },
  };
  g_autoptr (GBytes) st = g_bytes_new_static (storage0, sizeof storage0);
  const char *keys[] = { "0" };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) pickle = bad_pickle (i);
      g_autoptr (GBytes) zip = torch_zip (pickle, 1, &st, keys, FALSE);
      g_autoptr (GPtrArray) tensors =
        g_ptr_array_new_with_free_func ((GDestroyNotify) florence_raw_tensor_free);
      g_autoptr (GError) error = NULL;

      g_test_message ("case: %s", cases[i].what);
      g_assert_false (read_bin (zip, tensors, &error));
      g_assert_error (error, FLORENCE_CHECKPOINT_ERROR, cases[i].code);
      g_test_message ("  %s", error->message);
      g_assert_nonnull (strstr (error->message, "pytorch_model.bin"));
      if (cases[i].needle != NULL)
        g_assert_nonnull (strstr (error->message, cases[i].needle));
    }
}

static void
assert_zip_refused (const CkptZipEntry *e, guint n, int code, const char *needle)
{
  g_autoptr (GBytes) zip = ckpt_build_zip (e, n, FALSE);
  g_autoptr (GPtrArray) tensors =
    g_ptr_array_new_with_free_func ((GDestroyNotify) florence_raw_tensor_free);
  g_autoptr (GError) error = NULL;

  g_assert_false (read_bin (zip, tensors, &error));
  g_assert_error (error, FLORENCE_CHECKPOINT_ERROR, code);
  g_test_message ("  %s", error->message);
  if (needle != NULL)
    g_assert_nonnull (strstr (error->message, needle));
}

static void
test_zip_refusals (void)
{
  g_autoptr (GBytes) pickle = good_pickle ();
  g_autoptr (GBytes) st = g_bytes_new_static (storage0, sizeof storage0);
  g_autoptr (GBytes) big = g_bytes_new_static ("big", 3);
  g_autoptr (GBytes) cut = g_bytes_new_from_bytes (pickle, 0, g_bytes_get_size (pickle) - 2);
  const CkptZipEntry deflated[2] = { { "archive/data.pkl", pickle, 0 },
                                     { "archive/data/0", st, 8 } };
  const CkptZipEntry no_pickle[1] = { { "archive/data/0", st, 0 } };
  const CkptZipEntry big_endian[3] = { { "archive/data.pkl", pickle, 0 },
                                       { "archive/data/0", st, 0 },
                                       { "archive/byteorder", big, 0 } };
  const CkptZipEntry truncated_pickle[2] = { { "archive/data.pkl", cut, 0 },
                                             { "archive/data/0", st, 0 } };

  assert_zip_refused (deflated, 2, FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED, "archive/data/0");
  assert_zip_refused (no_pickle, 1, FLORENCE_CHECKPOINT_ERROR_CORRUPT, "data.pkl");
  assert_zip_refused (big_endian, 3, FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED, "big-endian");
  assert_zip_refused (truncated_pickle, 2, FLORENCE_CHECKPOINT_ERROR_CORRUPT, "pickle");
  {
    /* A bare pickle: the pre-1.6 format. */
    g_autoptr (GPtrArray) tensors =
      g_ptr_array_new_with_free_func ((GDestroyNotify) florence_raw_tensor_free);
    g_autoptr (GError) error = NULL;

    g_assert_false (read_bin (pickle, tensors, &error));
    g_assert_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED);
    g_assert_nonnull (strstr (error->message, "legacy"));
  }
}

/* The fixture .bin, cut and patched, through the whole open path. */
static void
test_bin_damaged (void)
{
  g_autoptr (FlorenceConfig) c = tiny_config ();
  g_autofree char *path = ckpt_data_path ("models", "tiny-bin", "pytorch_model.bin", NULL);
  g_autoptr (GBytes) file = ckpt_read_file (path);
  gsize size = g_bytes_get_size (file);
  g_autoptr (GBytes) cut = g_bytes_new_from_bytes (file, 0, size / 2);
  g_autoptr (GBytes) tail_cut = g_bytes_new_from_bytes (file, 0, size - 1);
  g_autofree guint8 *patched = g_memdup2 (g_bytes_get_data (file, NULL), size);
  g_autoptr (GBytes) patched_bytes = NULL;
  guint8 *at;

  assert_fails ("pytorch_model.bin", cut, c, FLORENCE_CHECKPOINT_ERROR_CORRUPT, "zip");
  assert_fails ("pytorch_model.bin", tail_cut, c, FLORENCE_CHECKPOINT_ERROR_CORRUPT, NULL);
  /* Rename one tensor inside the pickle (same length): the real one is then missing. */
  at = find_bytes (patched, size, "image_proj_norm.bias");
  g_assert_nonnull (at);
  memcpy (at, "image_proj_norm.bia5", 20);
  patched_bytes = g_bytes_new (patched, size);
  assert_fails ("pytorch_model.bin", patched_bytes, c, FLORENCE_CHECKPOINT_ERROR_MISSING,
                "image_proj_norm.bias");
}

/* ---- deterministic mutations of the fixture files ------------------------------------------ */

/* Parses buf with the reader for its kind: TRUE on success, FALSE with a GError; anything else
 * (a crash, an ASan report, a failure without an error) fails the test. */
static gboolean
parse_any (gboolean pickle, const guint8 *buf, gsize size)
{
  g_autoptr (GPtrArray) tensors =
    g_ptr_array_new_with_free_func ((GDestroyNotify) florence_raw_tensor_free);
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (pickle)
    ok = florence_pickle_read_state_dict (buf, size, "pytorch_model.bin", tensors, &error);
  else
    ok = florence_safetensors_parse (buf, size, "model.safetensors", tensors, &error);
  if (!ok)
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == FLORENCE_CHECKPOINT_ERROR);
    }
  else
    {
      g_assert_no_error (error);
      for (guint i = 0; i < tensors->len; i++)
        {
          FlorenceRawTensor *t = g_ptr_array_index (tensors, i);

          g_assert_true (t->data >= buf && t->n_bytes <= size &&
                         (gsize) (t->data - buf) <= size - t->n_bytes);
        }
    }
  return ok;
}

static void
mutate_file (gboolean pickle, const char *model, const char *file)
{
  g_autofree char *path = ckpt_data_path ("models", model, file, NULL);
  g_autoptr (GBytes) bytes = ckpt_read_file (path);
  gsize size = g_bytes_get_size (bytes);
  g_autofree guint8 *buf = g_memdup2 (g_bytes_get_data (bytes, NULL), size);
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261126);
  /* Where the structure is: the JSON header, or the pickle and the central directory. */
  gsize head = pickle ? 38100 : 33400, tail = pickle ? 25000 : 0;
  guint ok = 0, failed = 0;

  g_assert_true (parse_any (pickle, buf, size));
  /* Truncations at every 1/64 of the file, each in an exact-size copy (ASan sees overreads). */
  for (guint k = 0; k < 64; k++)
    {
      gsize n = size * k / 64;
      g_autofree guint8 *cut = g_memdup2 (buf, n);

      g_assert_false (parse_any (pickle, cut, n));
      failed++;
    }
  /* Bit flips and byte smashes in the structure, undone after each parse. */
  for (guint k = 0; k < 600; k++)
    {
      gsize pos = (k % 4 == 3 && tail > 0)
                    ? size - 1 - (gsize) g_rand_int_range (rand, 0, (gint32) tail)
                    : (gsize) g_rand_int_range (rand, 0, (gint32) head);
      guint8 saved = buf[pos];

      buf[pos] = k % 2 ? (guint8) (saved ^ (1u << g_rand_int_range (rand, 0, 8)))
                       : (guint8) g_rand_int (rand);
      if (parse_any (pickle, buf, size))
        ok++;
      else
        failed++;
      buf[pos] = saved;
    }
  /* Lying lengths: the safetensors header length, the zip's directory size and offset. */
  for (guint k = 0; k < 64; k++)
    {
      static const guint64 specials[] = { 0, 1, 2, 7, 8, G_MAXUINT32, G_MAXUINT64, G_MAXINT64 };
      guint64 v = k < G_N_ELEMENTS (specials) ? specials[k] : g_rand_int (rand) % (size + 64);
      gsize at = pickle ? size - 22 + 12 + 4 * (k % 2) : 0;
      guint width = pickle ? 4 : 8;
      guint8 saved[8];

      memcpy (saved, buf + at, width);
      for (guint b = 0; b < width; b++)
        buf[at + b] = (guint8) (v >> (8 * b));
      if (parse_any (pickle, buf, size))
        ok++;
      else
        failed++;
      memcpy (buf + at, saved, width);
    }
  g_test_message ("%s: %u mutations parsed, %u refused", file, ok, failed);
  g_assert_cmpuint (failed, >, 64);
}

static void
test_mutations_safetensors (void)
{
  mutate_file (FALSE, "tiny", "model.safetensors");
}

static void
test_mutations_pickle (void)
{
  mutate_file (TRUE, "tiny-bin", "pytorch_model.bin");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/florence/checkpoint/tiny-safetensors", test_tiny_safetensors);
  g_test_add_func ("/florence/checkpoint/temporal-table-values", test_temporal_table_values);
  g_test_add_func ("/florence/checkpoint/tiny-bin-identical", test_tiny_bin_identical);
  g_test_add_func ("/florence/checkpoint/tiny-eos-differs", test_tiny_eos_differs);
  g_test_add_func ("/florence/checkpoint/table", test_table);
  g_test_add_func ("/florence/checkpoint/half-conversions", test_half_conversions);
  g_test_add_func ("/florence/checkpoint/tied-stored-and-dtypes", test_tied_stored_and_dtypes);
  g_test_add_func ("/florence/checkpoint/unaligned-not-copied", test_unaligned_not_copied);
  g_test_add_func ("/florence/checkpoint/safetensors-edits", test_safetensors_edits);
  g_test_add_func ("/florence/checkpoint/safetensors-lies", test_safetensors_lies);
  g_test_add_func ("/florence/checkpoint/safetensors-truncated", test_safetensors_truncated);
  g_test_add_func ("/florence/checkpoint/safetensors-deep-header", test_safetensors_deep_header);
  g_test_add_func ("/florence/checkpoint/not-found", test_not_found);
  g_test_add_func ("/florence/checkpoint/wrong-config", test_wrong_config);
  g_test_add_func ("/florence/checkpoint/native", test_native);
  g_test_add_func ("/florence/checkpoint/sharded", test_sharded);
  g_test_add_func ("/florence/checkpoint/pickle-reader", test_pickle_reader);
  g_test_add_func ("/florence/checkpoint/pickle-variants", test_pickle_variants);
  g_test_add_func ("/florence/checkpoint/pickle-refusals", test_pickle_refusals);
  g_test_add_func ("/florence/checkpoint/zip-refusals", test_zip_refusals);
  g_test_add_func ("/florence/checkpoint/bin-damaged", test_bin_damaged);
  g_test_add_func ("/florence/checkpoint/mutations-safetensors", test_mutations_safetensors);
  g_test_add_func ("/florence/checkpoint/mutations-pickle", test_mutations_pickle);
  return g_test_run ();
}
