/* florence-config.c: a Florence-2 model directory's configuration
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include "florence/files/florence-config.h"
#include "florence/files/florence-file.h"
#include "florence/files/florence-json.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>

G_DEFINE_QUARK (florence - config - error - quark, florence_config_error)

/* Every value that sizes memory is bounded here, before any engine sees it: at least four times
 * Florence-2-large (dims 256–2048, d_model 1024, 12+12 layers, 1 024 positions, window 12),
 * low enough that no shape product can overflow. Then the working memory such a model needs is
 * estimated (florence_config_estimate_working_bytes) and bounded as a whole. */
#define MAX_DIM 8192
#define MAX_HEAD_DIM 512 /* channels per attention head or channel group (Florence-2: 32–64) */
#define MAX_VOCAB (1 << 20)
#define MAX_LAYERS 64
#define MAX_POSITIONS 4096
#define MAX_WINDOW 32
#define MAX_BEAMS 8
#define MAX_IMAGE_SIZE 4096
#define MAX_WORKING_BYTES ((guint64) 8 << 30)
/* The threads an engine may give per-thread scratch memory: an upper bound, not this machine's. */
#define ESTIMATE_THREADS 64
/* config.json and preprocessor_config.json are a few kilobytes. */
#define MAX_CONFIG_FILE_SIZE ((gsize) 1024 * 1024)

typedef struct {
  const char *file; /* for messages: "config.json" */
  GError **error;
  gboolean failed;
} Ctx;

static void G_GNUC_PRINTF (2, 3) ctx_fail (Ctx *ctx, const char *format, ...)
{
  va_list args;
  g_autofree char *detail = NULL;

  if (ctx->failed)
    return;
  ctx->failed = TRUE;
  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (ctx->error, FLORENCE_CONFIG_ERROR, FLORENCE_CONFIG_ERROR_INVALID,
               _ ("The model configuration “%s” is not usable: %s. Check that the model directory "
                  "holds a Florence-2 model, or download it again."),
               ctx->file, detail);
}

static JsonNode *
member (JsonObject *obj, const char *name)
{
  if (obj == NULL || !json_object_has_member (obj, name))
    return NULL;
  return json_object_get_member (obj, name);
}

static gboolean
node_is_int (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_INT64;
}

static gboolean
node_is_number (JsonNode *node)
{
  GType t;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  t = json_node_get_value_type (node);
  return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
}

/* Reads an integer member in [min, max]. Absent (or null): def, or an error if required. */
static int
get_int (Ctx *ctx, JsonObject *obj, const char *prefix, const char *name, gboolean required,
         int def, gint64 min, gint64 max)
{
  JsonNode *node = member (obj, name);
  gint64 v;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        ctx_fail (ctx, _ ("the field “%s%s” is missing"), prefix, name);
      return def;
    }
  if (!node_is_int (node))
    {
      ctx_fail (ctx, _ ("the field “%s%s” is not an integer"), prefix, name);
      return def;
    }
  v = json_node_get_int (node);
  if (v < min || v > max)
    {
      ctx_fail (ctx, _ ("the field “%s%s” has the value %" PRId64 ", outside %" PRId64 "–%" PRId64),
                prefix, name, v, min, max);
      return def;
    }
  return (int) v;
}

static double
get_double (Ctx *ctx, JsonObject *obj, const char *prefix, const char *name, double def, double min,
            double max)
{
  JsonNode *node = member (obj, name);
  double v;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return def;
  if (!node_is_number (node))
    {
      ctx_fail (ctx, _ ("the field “%s%s” is not a number"), prefix, name);
      return def;
    }
  v = json_node_get_double (node);
  if (!isfinite (v) || v < min || v > max)
    {
      ctx_fail (ctx, _ ("the field “%s%s” has the value %g, outside %g–%g"), prefix, name, v, min,
                max);
      return def;
    }
  return v;
}

static gboolean
get_bool (Ctx *ctx, JsonObject *obj, const char *prefix, const char *name, gboolean def)
{
  JsonNode *node = member (obj, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return def;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      ctx_fail (ctx, _ ("the field “%s%s” is not true or false"), prefix, name);
      return def;
    }
  return json_node_get_boolean (node);
}

/* A 4-element array of integers (or booleans when is_bool). */
static void
get_array4 (Ctx *ctx, JsonObject *obj, const char *prefix, const char *name, gboolean required,
            const int *def, int *out, gboolean is_bool, gint64 min, gint64 max)
{
  JsonNode *node = member (obj, name);
  JsonArray *array;

  memcpy (out, def, 4 * sizeof (int));
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        ctx_fail (ctx, _ ("the field “%s%s” is missing"), prefix, name);
      return;
    }
  if (!JSON_NODE_HOLDS_ARRAY (node) ||
      json_array_get_length (array = json_node_get_array (node)) != 4)
    {
      ctx_fail (ctx, _ ("the field “%s%s” is not a list of 4 values"), prefix, name);
      return;
    }
  for (guint i = 0; i < 4; i++)
    {
      JsonNode *e = json_array_get_element (array, i);

      if (is_bool)
        {
          if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_BOOLEAN)
            {
              ctx_fail (ctx, _ ("the field “%s%s” holds a value that is not true or false"), prefix,
                        name);
              return;
            }
          out[i] = json_node_get_boolean (e);
        }
      else
        {
          gint64 v;

          if (!node_is_int (e))
            {
              ctx_fail (ctx, _ ("the field “%s%s” holds a value that is not an integer"), prefix,
                        name);
              return;
            }
          v = json_node_get_int (e);
          if (v < min || v > max)
            {
              ctx_fail (
                ctx,
                _ ("the field “%s%s” holds the value %" PRId64 ", outside %" PRId64 "–%" PRId64),
                prefix, name, v, min, max);
              return;
            }
          out[i] = (int) v;
        }
    }
}

static JsonObject *
get_object (Ctx *ctx, JsonObject *obj, const char *name, gboolean required)
{
  JsonNode *node = member (obj, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        ctx_fail (ctx, _ ("the section “%s” is missing"), name);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      ctx_fail (ctx, _ ("the field “%s” is not an object"), name);
      return NULL;
    }
  return json_node_get_object (node);
}

/* A string member that, when present, must have the value expected (an architecture variant
 * we do not implement otherwise). */
static void
expect_string (Ctx *ctx, JsonObject *obj, const char *prefix, const char *name,
               const char *expected)
{
  JsonNode *node = member (obj, name);
  const char *s;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      ctx_fail (ctx, _ ("the field “%s%s” is not a string"), prefix, name);
      return;
    }
  s = json_node_get_string (node);
  if (g_strcmp0 (s, expected) != 0)
    ctx_fail (ctx, _ ("the field “%s%s” is “%s”, but Florence-2 models use “%s”"), prefix, name, s,
              expected);
}

static void
expect_bool (Ctx *ctx, JsonObject *obj, const char *prefix, const char *name, gboolean expected)
{
  if (member (obj, name) != NULL && get_bool (ctx, obj, prefix, name, expected) != expected)
    ctx_fail (ctx, _ ("the field “%s%s” is %s, but Florence-2 models use %s"), prefix, name,
              expected ? "false" : "true", expected ? "true" : "false");
}

static JsonNode *
parse_json (const char *data, const char *file, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;

  if (!florence_json_load (parser, data, -1, &local_error))
    {
      g_set_error (
        error, FLORENCE_CONFIG_ERROR, FLORENCE_CONFIG_ERROR_PARSE,
        _ ("The model configuration “%s” is not valid JSON (%s). Download the model again."), file,
        local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (
        error, FLORENCE_CONFIG_ERROR, FLORENCE_CONFIG_ERROR_PARSE,
        _ ("The model configuration “%s” is not a JSON object. Download the model again."), file);
      return NULL;
    }
  return json_node_ref (root);
}

static void
parse_vision (Ctx *ctx, FlorenceConfig *c, JsonObject *root)
{
  static const int def_size[4] = { 7, 3, 3, 3 }, def_stride[4] = { 4, 2, 2, 2 },
                   def_padding[4] = { 3, 1, 1, 1 }, def_prenorm[4] = { 0, 1, 1, 1 },
                   zero[4] = { 0, 0, 0, 0 };
  const char *p = "vision_config.";
  JsonObject *v = get_object (ctx, root, "vision_config", TRUE);
  JsonObject *pos, *temporal;

  if (v == NULL)
    return;
  /* vision_config.model_type is not checked: "davit" in the hub configs, "florence_vision" in
   * the native port's, "" in some converted ones (spec §13, item 17). */
  /* The native port calls it embed_dim, the remote code dim_embed. */
  get_array4 (ctx, v, p, json_object_has_member (v, "dim_embed") ? "dim_embed" : "embed_dim", TRUE,
              zero, c->dim_embed, FALSE, 1, MAX_DIM);
  get_array4 (ctx, v, p, "num_heads", TRUE, zero, c->num_heads, FALSE, 1, MAX_DIM);
  get_array4 (ctx, v, p, "num_groups", TRUE, zero, c->num_groups, FALSE, 1, MAX_DIM);
  get_array4 (ctx, v, p, "depths", TRUE, zero, c->depths, FALSE, 0, MAX_LAYERS);
  get_array4 (ctx, v, p, "patch_size", FALSE, def_size, c->patch_size, FALSE, 1, 64);
  get_array4 (ctx, v, p, "patch_stride", FALSE, def_stride, c->patch_stride, FALSE, 1, 64);
  get_array4 (ctx, v, p, "patch_padding", FALSE, def_padding, c->patch_padding, FALSE, 0, 64);
  get_array4 (ctx, v, p, "patch_prenorm", FALSE, def_prenorm, c->patch_prenorm, TRUE, 0, 1);
  c->window_size = get_int (ctx, v, p, "window_size", FALSE, 12, 1, MAX_WINDOW);

  /* Remote code: nested objects; native port: flat fields. */
  pos = get_object (ctx, v, "image_pos_embed", FALSE);
  if (pos != NULL)
    {
      expect_string (ctx, pos, "vision_config.image_pos_embed.", "type", "learned_abs_2d");
      c->image_pos_max = get_int (ctx, pos, "vision_config.image_pos_embed.", "max_pos_embeddings",
                                  FALSE, 50, 1, 4096);
    }
  else
    c->image_pos_max = get_int (ctx, v, p, "max_position_embeddings", FALSE, 50, 1, 4096);
  temporal = get_object (ctx, v, "visual_temporal_embedding", FALSE);
  if (temporal != NULL)
    {
      expect_string (ctx, temporal, "vision_config.visual_temporal_embedding.", "type", "COSINE");
      c->temporal_max = get_int (ctx, temporal, "vision_config.visual_temporal_embedding.",
                                 "max_temporal_embeddings", FALSE, 100, 1, 4096);
    }
  else
    c->temporal_max = get_int (ctx, v, p, "max_temporal_embeddings", FALSE, 100, 1, 4096);

  c->projection_dim = get_int (ctx, root, "", "projection_dim", FALSE, 0, 1, MAX_DIM);
  if (c->projection_dim == 0)
    c->projection_dim = get_int (ctx, v, p, "projection_dim", FALSE, 0, 1, MAX_DIM);

  for (int s = 0; s < 4 && !ctx->failed; s++)
    if (c->dim_embed[s] % c->num_heads[s] != 0 || c->dim_embed[s] % c->num_groups[s] != 0)
      ctx_fail (ctx, _ ("stage %d has %d channels, which do not split into %d heads and %d groups"),
                s, c->dim_embed[s], c->num_heads[s], c->num_groups[s]);
    else if (c->dim_embed[s] / c->num_heads[s] > MAX_HEAD_DIM ||
             c->dim_embed[s] / c->num_groups[s] > MAX_HEAD_DIM)
      ctx_fail (ctx, _ ("stage %d gives a head or group %d channels wide, more than %d"), s,
                c->dim_embed[s] / MIN (c->num_heads[s], c->num_groups[s]), MAX_HEAD_DIM);
  if (!ctx->failed && c->dim_embed[3] % 2 != 0)
    ctx_fail (ctx, _ ("the last stage width %d is odd; the 2-D position embedding needs it even"),
              c->dim_embed[3]);
}

static void
parse_text (Ctx *ctx, FlorenceConfig *c, JsonObject *root)
{
  const char *p = "text_config.";
  JsonObject *t = get_object (ctx, root, "text_config", TRUE);
  int image_token_id;

  if (t == NULL)
    return;
  c->vocab_size = get_int (ctx, t, p, "vocab_size", TRUE, 0, 4, MAX_VOCAB);
  c->d_model = get_int (ctx, t, p, "d_model", TRUE, 0, 1, MAX_DIM);
  c->encoder_layers = get_int (ctx, t, p, "encoder_layers", TRUE, 0, 1, MAX_LAYERS);
  c->decoder_layers = get_int (ctx, t, p, "decoder_layers", TRUE, 0, 1, MAX_LAYERS);
  c->encoder_heads = get_int (ctx, t, p, "encoder_attention_heads", TRUE, 0, 1, MAX_DIM);
  c->decoder_heads = get_int (ctx, t, p, "decoder_attention_heads", TRUE, 0, 1, MAX_DIM);
  c->encoder_ffn_dim = get_int (ctx, t, p, "encoder_ffn_dim", TRUE, 0, 1, 8 * MAX_DIM);
  c->decoder_ffn_dim = get_int (ctx, t, p, "decoder_ffn_dim", TRUE, 0, 1, 8 * MAX_DIM);
  c->max_position_embeddings =
    get_int (ctx, t, p, "max_position_embeddings", FALSE, 1024, 1, MAX_POSITIONS);

  /* Architecture variants BART allows but Florence-2 does not use. */
  expect_string (ctx, t, p, "activation_function", "gelu");
  expect_bool (ctx, t, p, "scale_embedding", FALSE);
  expect_bool (ctx, t, p, "normalize_before", FALSE);
  expect_bool (ctx, t, p, "add_final_layer_norm", FALSE);
  expect_bool (ctx, t, p, "add_bias_logits", FALSE);

  /* Generation: text_config is what the reference's inner generate() uses (spec §10.1). The
   * defaults are Florence-2's values, not BART's. Top-level bos/eos/pad are never read: old
   * revisions carry stale 2/1/0 there. */
  c->num_beams = get_int (ctx, t, p, "num_beams", FALSE, 3, 1, MAX_BEAMS);
  c->no_repeat_ngram_size = get_int (ctx, t, p, "no_repeat_ngram_size", FALSE, 3, 0, 1024);
  c->early_stopping = get_bool (ctx, t, p, "early_stopping", TRUE);
  c->length_penalty = get_double (ctx, t, p, "length_penalty", 1.0, -100.0, 100.0);
  c->decoder_start_token_id = get_int (ctx, t, p, "decoder_start_token_id", FALSE, 2, 0, MAX_VOCAB);
  c->forced_bos_token_id = get_int (ctx, t, p, "forced_bos_token_id", FALSE, 0, -1, MAX_VOCAB);
  c->forced_eos_token_id = get_int (ctx, t, p, "forced_eos_token_id", FALSE, 2, -1, MAX_VOCAB);
  c->bos_token_id = get_int (ctx, t, p, "bos_token_id", FALSE, 0, 0, MAX_VOCAB);
  c->eos_token_id = get_int (ctx, t, p, "eos_token_id", FALSE, 2, 0, MAX_VOCAB);
  c->pad_token_id = get_int (ctx, t, p, "pad_token_id", FALSE, 1, 0, MAX_VOCAB);
  c->max_new_tokens = MIN (1024, c->max_position_embeddings);

  /* The native port adds <image> = image_token_id (51289) and pads the text vocab_size to
   * 51328 (spec §6.3): the real vocabulary ends at the image token. */
  image_token_id = get_int (ctx, root, "", "image_token_id", FALSE, 0, 0, MAX_VOCAB);
  if (!ctx->failed && image_token_id > 4 && image_token_id < c->vocab_size)
    c->vocab_size = image_token_id;

  if (ctx->failed)
    return;
  if (c->d_model % c->encoder_heads != 0 || c->d_model % c->decoder_heads != 0)
    ctx_fail (ctx, _ ("d_model %d does not split into %d encoder and %d decoder heads"), c->d_model,
              c->encoder_heads, c->decoder_heads);
  else if (c->d_model / MIN (c->encoder_heads, c->decoder_heads) > MAX_HEAD_DIM)
    ctx_fail (ctx, _ ("d_model %d gives attention heads %d channels wide, more than %d"),
              c->d_model, c->d_model / MIN (c->encoder_heads, c->decoder_heads), MAX_HEAD_DIM);
  else if (c->decoder_start_token_id >= c->vocab_size || c->forced_bos_token_id >= c->vocab_size ||
           c->forced_eos_token_id >= c->vocab_size || c->bos_token_id >= c->vocab_size ||
           c->eos_token_id >= c->vocab_size || c->pad_token_id >= c->vocab_size)
    ctx_fail (ctx, _ ("a special token id is not inside the vocabulary of %d tokens"),
              c->vocab_size);
}

static void
parse_preprocessor (Ctx *ctx, FlorenceConfig *c, JsonObject *root)
{
  static const float def_mean[3] = { 0.485f, 0.456f, 0.406f },
                     def_std[3] = { 0.229f, 0.224f, 0.225f };
  JsonObject *size;
  const char *keys[2] = { "image_mean", "image_std" };
  float *outs[2] = { c->image_mean, c->image_std };
  const float *defs[2] = { def_mean, def_std };

  c->image_size = 768;
  memcpy (c->image_mean, def_mean, sizeof def_mean);
  memcpy (c->image_std, def_std, sizeof def_std);
  c->rescale_factor = 1.0 / 255.0;
  if (root == NULL)
    return;

  size = get_object (ctx, root, "size", FALSE);
  if (size != NULL)
    {
      int h = get_int (ctx, size, "size.", "height", TRUE, 768, 32, MAX_IMAGE_SIZE);
      int w = get_int (ctx, size, "size.", "width", TRUE, 768, 32, MAX_IMAGE_SIZE);

      if (!ctx->failed && h != w)
        ctx_fail (ctx, _ ("the input size %d×%d is not square"), w, h);
      else if (!ctx->failed && h % 32 != 0)
        ctx_fail (ctx, _ ("the input size %d is not a multiple of 32"), h);
      c->image_size = h;
    }
  for (int k = 0; k < 2; k++)
    {
      JsonNode *node = member (root, keys[k]);
      JsonArray *array;

      memcpy (outs[k], defs[k], 3 * sizeof (float));
      if (node == NULL || JSON_NODE_HOLDS_NULL (node))
        continue;
      if (!JSON_NODE_HOLDS_ARRAY (node) ||
          json_array_get_length (array = json_node_get_array (node)) != 3)
        {
          ctx_fail (ctx, _ ("the field “%s” is not a list of 3 numbers"), keys[k]);
          return;
        }
      for (guint i = 0; i < 3; i++)
        {
          JsonNode *e = json_array_get_element (array, i);
          double v;

          if (!node_is_number (e) || !isfinite (v = json_node_get_double (e)) ||
              fabs (v) > 1000.0 || (k == 1 && v <= 0.0))
            {
              ctx_fail (ctx, _ ("the field “%s” holds a value that is not a usable number"),
                        keys[k]);
              return;
            }
          outs[k][i] = (float) v;
        }
    }
  c->rescale_factor = get_double (ctx, root, "", "rescale_factor", 1.0 / 255.0, 1e-9, 1e9);
  if (!ctx->failed &&
      !florence_config_normalization_ok (TRUE, c->rescale_factor, c->image_mean, c->image_std))
    ctx_fail (ctx, _ ("image_mean, image_std and rescale_factor turn some pixel values into "
                      "infinities or NaN"));
}

/* The side of the feature grid after stage (0–3) for a square input of image_size pixels, or
 * 0 when a stage would leave nothing. */
static gint64
stage_grid (const FlorenceConfig *c, int image_size, int stage)
{
  gint64 grid = image_size;

  for (int s = 0; s <= stage; s++)
    {
      grid = (grid + 2 * c->patch_padding[s] - c->patch_size[s]) / c->patch_stride[s] + 1;
      if (grid < 1)
        return 0;
    }
  return grid;
}

/* The largest input side (a multiple of 32) whose feature grid fits the position table: what
 * no run can exceed, whatever the encoder's positions allow. */
static int
largest_image_size (const FlorenceConfig *c)
{
  int best = c->image_size;

  for (int size = 32; size <= MAX_IMAGE_SIZE; size += 32)
    {
      gint64 grid = stage_grid (c, size, 3);

      if (grid > c->image_pos_max)
        break;
      if (grid > 0)
        best = MAX (best, size);
    }
  return best;
}

/* Adds n × 4 bytes to *total, remembering what the largest part was for. */
static void
estimate_add (double *total, double n, const char **largest, double *largest_n, const char *what)
{
  *total += 4.0 * n;
  if (n > *largest_n)
    {
      *largest_n = n;
      *largest = what;
    }
}

static guint64
estimate_working_bytes (const FlorenceConfig *c, int image_size, guint num_beams,
                        const char **largest)
{
  double total = 0, largest_n = -1, c_in = 3;
  const char *what = NULL;
  double d = c->d_model, L = c->max_position_embeddings, beams = MAX (num_beams, 1u);

  /* Vision tower, stage by stage: the patch convolution (im2col), the activations of a block
   * (input, norm, q/k/v, 4× MLP, output), a window's attention matrix per thread, a channel
   * group's attention matrix. */
  for (int s = 0; s < 4; s++)
    {
      double grid = (double) stage_grid (c, image_size, s), n = grid * grid, C = c->dim_embed[s];
      double ws = c->window_size, t = ws * ws, head = C / c->num_heads[s];
      double group = C / c->num_groups[s], k = c->patch_size[s];

      estimate_add (&total, n * c_in * k * k, &what, &largest_n, "vision_config.patch_size");
      estimate_add (&total, 10 * n * C, &what, &largest_n, "vision_config.dim_embed");
      estimate_add (&total, ESTIMATE_THREADS * (t * t + 4 * t * head), &what, &largest_n,
                    "vision_config.window_size");
      estimate_add (&total, group * group + 3 * n * group, &what, &largest_n,
                    "vision_config.num_groups");
      c_in = C;
    }
  /* Encoder over at most max_position_embeddings tokens: activations, one head's scores. */
  estimate_add (&total, L * (8 * d + MAX (c->encoder_ffn_dim, c->decoder_ffn_dim)) + L * L, &what,
                &largest_n, "text_config.max_position_embeddings");
  /* Decoder: cross-attention keys/values, the self-attention cache of every beam, logits. */
  estimate_add (&total, 2 * c->decoder_layers * L * d * (1 + beams), &what, &largest_n,
                "text_config.decoder_layers");
  estimate_add (&total, 2 * beams * c->vocab_size, &what, &largest_n, "text_config.vocab_size");
  if (largest != NULL)
    *largest = what;
  return total >= (double) G_MAXUINT64 ? G_MAXUINT64 : (guint64) total;
}

guint64
florence_config_estimate_working_bytes (const FlorenceConfig *config, int image_size,
                                        guint num_beams)
{
  g_return_val_if_fail (config != NULL, 0);
  return estimate_working_bytes (config, image_size, num_beams, NULL);
}

gboolean
florence_config_normalization_ok (gboolean do_rescale, double rescale_factor, const float mean[3],
                                  const float std[3])
{
  for (int ch = 0; ch < 3; ch++)
    for (int v = 0; v < 256; v += 255)
      {
        /* As florence_processor_normalize computes it, in float. */
        volatile float x = do_rescale ? (float) ((double) v * rescale_factor) : (float) v;
        volatile float centered = x - mean[ch];
        volatile float y = centered / std[ch];

        if (!isfinite (x) || !isfinite (centered) || !isfinite (y) || !(std[ch] > 0.0f))
          return FALSE;
      }
  return TRUE;
}

static FlorenceConfig *
config_parse (const char *config_json, const char *preprocessor_json, const char *config_file,
              const char *preprocessor_file, GError **error)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (JsonNode) proc_root = NULL;
  FlorenceConfig *c;
  Ctx ctx = { config_file, error, FALSE };

  root = parse_json (config_json, config_file, error);
  if (root == NULL)
    return NULL;
  if (preprocessor_json != NULL)
    {
      proc_root = parse_json (preprocessor_json, preprocessor_file, error);
      if (proc_root == NULL)
        return NULL;
    }

  c = g_new0 (FlorenceConfig, 1);
  expect_string (&ctx, json_node_get_object (root), "", "model_type", "florence2");
  parse_text (&ctx, c, json_node_get_object (root));
  parse_vision (&ctx, c, json_node_get_object (root));
  if (!ctx.failed)
    {
      if (c->projection_dim == 0)
        c->projection_dim = c->d_model;
      if (c->projection_dim != c->d_model)
        ctx_fail (&ctx, _ ("projection_dim %d differs from text_config.d_model %d"),
                  c->projection_dim, c->d_model);
    }
  if (!ctx.failed)
    {
      Ctx pctx = { preprocessor_file, error, FALSE };

      parse_preprocessor (&pctx, c, proc_root ? json_node_get_object (proc_root) : NULL);
      ctx.failed = pctx.failed;
      /* Stage grids must fit the 2-D position table (50 × 32 = 1600 at 768-style strides). */
      if (!ctx.failed)
        {
          int grid = c->image_size;

          for (int s = 0; s < 4; s++)
            grid = (grid + 2 * c->patch_padding[s] - c->patch_size[s]) / c->patch_stride[s] + 1;
          if (grid < 1 || grid > c->image_pos_max)
            ctx_fail (&pctx,
                      _ ("the input size %d gives a %d×%d feature grid, larger than the %d×%d "
                         "position table"),
                      c->image_size, grid, grid, c->image_pos_max, c->image_pos_max);
          ctx.failed = pctx.failed;
        }
    }
  if (!ctx.failed)
    {
      /* At the largest input a run can ask for, and the most beams. */
      int size = largest_image_size (c);
      const char *largest = NULL;
      guint64 bytes = estimate_working_bytes (c, size, MAX_BEAMS, &largest);

      if (bytes > MAX_WORKING_BYTES)
        {
          g_autofree char *need = g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
          ctx_fail (&ctx,
                    _ ("the model it describes would need about %s of working memory, mostly "
                       "because of “%s”, far more than any Florence-2 model"),
                    need, largest);
        }
    }
  if (ctx.failed)
    {
      florence_config_free (c);
      return NULL;
    }
  c->name = g_strdup ("Florence-2");
  return c;
}

FlorenceConfig *
florence_config_load_from_data (const char *config_json, const char *preprocessor_json,
                                GError **error)
{
  g_return_val_if_fail (config_json != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return config_parse (config_json, preprocessor_json, "config.json", "preprocessor_config.json",
                       error);
}

/* "…/models--microsoft--Florence-2-base/snapshots/<hash>" → "Florence-2-base"; else basename. */
static char *
display_name (const char *model_dir)
{
  g_autofree char *abs = g_canonicalize_filename (model_dir, NULL);
  g_autofree char *parent = g_path_get_dirname (abs);
  g_autofree char *parent_base = g_path_get_basename (parent);

  if (g_str_equal (parent_base, "snapshots"))
    {
      g_autofree char *repo_dir = g_path_get_dirname (parent);
      g_autofree char *repo = g_path_get_basename (repo_dir);
      const char *sep = g_strrstr (repo, "--");

      if (g_str_has_prefix (repo, "models--") && sep != NULL && sep[2] != '\0')
        return g_strdup (sep + 2);
    }
  return g_path_get_basename (abs);
}

FlorenceConfig *
florence_config_load (const char *model_dir, GError **error)
{
  g_autofree char *config_path = NULL;
  g_autofree char *proc_path = NULL;
  g_autofree char *config_json = NULL;
  g_autofree char *proc_json = NULL;
  g_autoptr (GError) local_error = NULL;
  FlorenceConfig *c;

  g_return_val_if_fail (model_dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  config_path = g_build_filename (model_dir, "config.json", NULL);
  proc_path = g_build_filename (model_dir, "preprocessor_config.json", NULL);
  if (!florence_file_get_contents (config_path, MAX_CONFIG_FILE_SIZE, &config_json, NULL,
                                   &local_error))
    {
      g_set_error (error, FLORENCE_CONFIG_ERROR, FLORENCE_CONFIG_ERROR_NOT_FOUND,
                   _ ("Could not read the model configuration “%s”: %s. Choose a folder that holds "
                      "a Florence-2 model (config.json and the weights)."),
                   config_path, local_error->message);
      return NULL;
    }
  if (!florence_file_get_contents (proc_path, MAX_CONFIG_FILE_SIZE, &proc_json, NULL, &local_error))
    {
      if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_set_error (error, FLORENCE_CONFIG_ERROR, FLORENCE_CONFIG_ERROR_NOT_FOUND,
                       _ ("Could not read “%s”: %s. Check the file's permissions."), proc_path,
                       local_error->message);
          return NULL;
        }
      g_debug ("%s absent: using the Florence-2 processor defaults", proc_path);
      g_clear_error (&local_error);
    }

  c = config_parse (config_json, proc_json, config_path, proc_path, error);
  if (c == NULL)
    return NULL;
  g_free (c->name);
  c->name = display_name (model_dir);
  g_debug ("%s: d_model %d, %d+%d layers, DaViT %d/%d/%d/%d, image %d", c->name, c->d_model,
           c->encoder_layers, c->decoder_layers, c->dim_embed[0], c->dim_embed[1], c->dim_embed[2],
           c->dim_embed[3], c->image_size);
  return c;
}

FlorenceConfig *
florence_config_copy (const FlorenceConfig *config)
{
  FlorenceConfig *c;

  g_return_val_if_fail (config != NULL, NULL);
  c = g_memdup2 (config, sizeof *config);
  c->name = g_strdup (config->name);
  return c;
}

void
florence_config_free (FlorenceConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->name);
  g_free (config);
}

int
florence_config_get_total_blocks (const FlorenceConfig *config)
{
  g_return_val_if_fail (config != NULL, 0);
  return config->depths[0] + config->depths[1] + config->depths[2] + config->depths[3];
}
