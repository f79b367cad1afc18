/* test-engine-gpu-steps.c: what the GPU engine allocates and submits, counted (gpu_counters_get)
 * on the tiny fixture model, under the validation layer with synchronization validation
 *
 * - the decoder's self-attention caches are sized to the generation's limit (max_new_tokens),
 *   never to the model's 1 024 positions up front: the buffer bytes of a decoder grow by exactly
 *   2 · layers · beams · d · 4 bytes (keys and values) + beams · 4 (the beam table) per position
 *   of the limit, up to 256 positions at first;
 * - caches that grow past the capacity they started with give the same logits, bit for bit;
 * - a decoder step creates or allocates nothing and makes one submission, from the second step
 *   on, over a whole beam search that still gives the fixture's ids;
 * - the vision tower cut into one submission per block (the device's submission_gflop at 0)
 *   gives the same image features, bit for bit, as in one submission.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "florence/engine/florence-engine-gpu-private.h"
#include "florence/engine/florence-engine.h"
#include "florence/files/florence-checkpoint.h"
#include "florence/files/florence-config.h"
#include "florence/files/florence-safetensors.h"
#include "florence/generate/florence-generate.h"
#include "gpu-test-util.h"

/* The caches' first capacity at most (CACHE_START in florence-engine-gpu-decoder.c). */
#define CACHE_START 256

typedef struct {
  FlorenceConfig *config;
  FlorenceEngine *engine;
  float *pixels;
  int size;
  GArray *input_ids, *want_ids;
  guint num_beams, max_new_tokens, steps_run;
  FlorenceImageFeatures *features;
} Fixture;

static Fixture fx;

static GArray *
json_ids (JsonArray *a)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      gint32 v = (gint32) json_array_get_int_element (a, i);
      g_array_append_val (ids, v);
    }
  return ids;
}

/* The tiny model on the GPU engine and its od_beam3 case (3 beams, 30 tokens). FALSE: no
 * Vulkan device. */
static gboolean
fixture_load (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "models", "tiny", NULL);
  fx.config = florence_config_load (dir, &error);
  g_assert_no_error (error);
  g_autoptr (FlorenceCheckpoint) ckpt = florence_checkpoint_open (dir, fx.config, &error);
  g_assert_no_error (error);
  fx.engine = florence_engine_gpu_new (fx.config, NULL, ckpt, &error);
  if (g_error_matches (error, GPU_ERROR, GPU_ERROR_NO_DEVICE))
    return FALSE;
  g_assert_no_error (error);

  g_autofree char *case_dir = g_build_filename (dir, "cases", "od_beam3", NULL);
  g_autofree char *json_path = g_build_filename (case_dir, "expected.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  json_parser_load_from_file (parser, json_path, &error);
  g_assert_no_error (error);
  JsonObject *exp = json_node_get_object (json_parser_get_root (parser));
  JsonObject *gen = json_object_get_object_member (exp, "generation");
  fx.size = (int) json_object_get_int_member (exp, "processor_image_size");
  fx.input_ids = json_ids (json_object_get_array_member (exp, "input_ids"));
  fx.want_ids = json_ids (json_object_get_array_member (exp, "generated_ids"));
  fx.num_beams = (guint) json_object_get_int_member (gen, "num_beams");
  fx.max_new_tokens = (guint) json_object_get_int_member (gen, "max_new_tokens");
  fx.steps_run = (guint) json_object_get_int_member (exp, "decode_steps_run");

  g_autofree char *st_path = g_build_filename (case_dir, "expected.safetensors", NULL);
  g_autoptr (GMappedFile) file = g_mapped_file_new (st_path, FALSE, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) tensors =
    g_ptr_array_new_with_free_func ((GDestroyNotify) florence_raw_tensor_free);
  florence_safetensors_parse ((const guint8 *) g_mapped_file_get_contents (file),
                              g_mapped_file_get_length (file), st_path, tensors, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < tensors->len; i++)
    {
      FlorenceRawTensor *t = tensors->pdata[i];
      if (strcmp (t->name, "pixel_values") == 0)
        {
          g_assert_cmpuint (t->n_elements, ==, (gsize) 3 * fx.size * fx.size);
          fx.pixels = g_new (float, t->n_elements);
          memcpy (fx.pixels, t->data, t->n_elements * sizeof (float));
        }
    }
  g_assert_nonnull (fx.pixels);
  fx.features = fx.engine->encode_image (fx.engine, fx.pixels, fx.size, NULL, NULL, &error);
  g_assert_no_error (error);
  return TRUE;
}

static void
fixture_clear (void)
{
  if (fx.engine != NULL)
    {
      fx.engine->features_free (fx.engine, fx.features);
      florence_engine_free (fx.engine);
    }
  g_clear_pointer (&fx.config, florence_config_free);
  g_clear_pointer (&fx.input_ids, g_array_unref);
  g_clear_pointer (&fx.want_ids, g_array_unref);
  g_clear_pointer (&fx.pixels, g_free);
}

static GpuDevice *
engine_device (void)
{
  return ((Gpu *) fx.engine->priv)->device;
}

static FlorenceDecoderBackend *
prepare (void)
{
  g_autoptr (GError) error = NULL;
  FlorenceDecoderBackend *dec =
    fx.engine->prepare_task (fx.engine, fx.features, (const gint32 *) fx.input_ids->data,
                             (int) fx.input_ids->len, NULL, NULL, &error);
  g_assert_no_error (error);
  return dec;
}

/* ------------------------------------------------------------------------------------------
 * The caches' size
 * ---------------------------------------------------------------------------------------- */

typedef struct {
  GCancellable *cancel;
  guint64 bytes;
} FirstStep;

static void
first_step_cb (guint n_tokens, gpointer user_data)
{
  FirstStep *fs = user_data;
  GpuCounters c;
  gpu_counters_get (&c);
  fs->bytes = c.buffer_bytes;
  g_cancellable_cancel (fs->cancel);
}

/* Bytes of device buffers a new decoder holds after the first step of a generation of
 * @max_new_tokens tokens with @beams beams (the generation is cancelled there). */
static guint64
decoder_bytes (guint beams, guint max_new_tokens)
{
  FlorenceDecoderBackend *dec = prepare ();
  GpuCounters before;
  gpu_counters_get (&before);
  FlorenceGenerateOptions opts;
  florence_generate_options_init (&opts, fx.config);
  opts.num_beams = beams;
  opts.max_new_tokens = max_new_tokens;
  FirstStep fs = { g_cancellable_new (), 0 };
  g_autoptr (GError) error = NULL;
  FlorenceGeneration *gen = florence_generate (dec, &opts, fs.cancel, first_step_cb, &fs, &error);
  g_assert_null (gen);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_object_unref (fs.cancel);
  fx.engine->decoder_free (fx.engine, dec);
  g_assert_cmpuint (fs.bytes, >, before.buffer_bytes);
  return fs.bytes - before.buffer_bytes;
}

static void
test_cache_size (void)
{
  const guint B = 3, layers = (guint) fx.config->decoder_layers, d = (guint) fx.config->d_model;
  /* keys and values of every layer, and the beam table, per position */
  const guint64 per_position = (guint64) 2 * layers * B * d * 4 + (guint64) B * 4;
  const guint limits[] = { 20, 30, 100, (guint) fx.config->max_position_embeddings };
  guint64 bytes[G_N_ELEMENTS (limits)];
  for (guint i = 0; i < G_N_ELEMENTS (limits); i++)
    {
      bytes[i] = decoder_bytes (B, limits[i]);
      g_test_message ("%u beams, %u new tokens at most: %" G_GUINT64_FORMAT " bytes of buffers", B,
                      limits[i], bytes[i]);
    }
  /* what does not depend on the limit (one row per beam of each activation, the logits, the
   * top-k) is the same in each; the caches hold the limit's positions, at most CACHE_START */
  for (guint i = 1; i < G_N_ELEMENTS (limits); i++)
    {
      guint64 positions = MIN (limits[i], CACHE_START) - MIN (limits[0], CACHE_START);
      g_assert_cmpuint (bytes[i] - bytes[0], ==, positions * per_position);
    }
  g_assert_cmpuint (bytes[0], >, (guint64) limits[0] * per_position);
  gpu_test_assert_validation_clean (engine_device ());
}

/* Caches made for 4 positions that grow twice (to 8, then 16) when a caller steps past the
 * limit it declared give, over 12 steps, the logits of caches made for the 12 positions. */
static void
test_cache_growth (void)
{
  const guint steps = 12, V = (guint) fx.config->vocab_size;
  g_autofree float *logits0 = g_new (float, (gsize) steps *V);
  g_autofree float *logits1 = g_new (float, (gsize) steps *V);
  float *logits[2] = { logits0, logits1 };
  guint64 grown_bytes[2] = { 0 };
  for (int run = 0; run < 2; run++)
    {
      g_autoptr (GError) error = NULL;
      FlorenceDecoderBackend *dec = prepare ();
      dec->sequence_positions = run == 0 ? 4 : (int) steps;
      g_assert_true (dec->begin (dec, 1, &error));
      g_assert_no_error (error);
      GpuCounters before, after;
      gpu_counters_get (&before);
      for (guint t = 0; t < steps; t++)
        {
          gint32 token = t == 0 ? fx.config->decoder_start_token_id : (gint32) (100 + 37 * t);
          FlorenceDecodeStep step = {
            .n_beams = 1, .position = t, .tokens = &token, .forced_token = -1
          };
          g_assert_true (dec->step_logits (dec, &step, logits[run] + (gsize) t * V, &error));
          g_assert_no_error (error);
        }
      gpu_counters_get (&after);
      grown_bytes[run] = after.buffer_bytes - before.buffer_bytes;
      fx.engine->decoder_free (fx.engine, dec);
    }
  /* the first run's caches grew from 4 to 12 positions, the second's were made for 12 */
  const guint64 per_position = (guint64) 2 * fx.config->decoder_layers * fx.config->d_model * 4 + 4;
  g_assert_cmpuint (grown_bytes[0], >=, 8 * per_position);
  g_assert_cmpuint (grown_bytes[1], <, per_position);
  g_assert_cmpint (memcmp (logits[0], logits[1], (gsize) steps * V * sizeof (float)), ==, 0);
  gpu_test_assert_validation_clean (engine_device ());
}

/* ------------------------------------------------------------------------------------------
 * No allocation in a decoder step
 * ---------------------------------------------------------------------------------------- */

static void
per_step_cb (guint n_tokens, gpointer user_data)
{
  GArray *per_step = user_data;
  GpuCounters c;
  gpu_counters_get (&c);
  g_array_append_val (per_step, c);
}

/* A generation of @beams beams and @max_new_tokens tokens at most: from its second step on, no
 * step creates anything, and each makes one submission. @want_ids: the ids it must give. */
static void
check_steps (guint beams, guint max_new_tokens, GArray *want_ids, guint want_steps)
{
  g_autoptr (GError) error = NULL;
  FlorenceDecoderBackend *dec = prepare ();
  FlorenceGenerateOptions opts;
  florence_generate_options_init (&opts, fx.config);
  opts.num_beams = beams;
  opts.max_new_tokens = max_new_tokens;
  g_autoptr (GArray) per_step = g_array_new (FALSE, FALSE, sizeof (GpuCounters));
  GpuCounters before;
  gpu_counters_get (&before);
  g_autoptr (FlorenceGeneration) gen =
    florence_generate (dec, &opts, NULL, per_step_cb, per_step, &error);
  g_assert_no_error (error);

  if (want_ids != NULL)
    {
      g_assert_cmpuint (gen->steps_run, ==, want_steps);
      g_assert_cmpuint (gen->ids->len, ==, want_ids->len);
      g_assert_cmpint (memcmp (gen->ids->data, want_ids->data, want_ids->len * sizeof (gint32)), ==,
                       0);
    }

  g_assert_cmpuint (per_step->len, ==, gen->steps_run);
  const GpuCounters *first = &g_array_index (per_step, GpuCounters, 0);
  for (guint s = 1; s < per_step->len; s++)
    {
      const GpuCounters *c = &g_array_index (per_step, GpuCounters, s);
      const GpuCounters *prev = &g_array_index (per_step, GpuCounters, s - 1);
      if (c->vk_objects != first->vk_objects || c->buffers != first->buffers ||
          c->buffer_bytes != first->buffer_bytes)
        g_test_fail_printf (
          "decoder step %u made %" G_GUINT64_FORMAT " Vulkan objects and %" G_GINT64_FORMAT
          " buffers since the first step; it should make none",
          s + 1, c->vk_objects - first->vk_objects, (gint64) c->buffers - (gint64) first->buffers);
      g_assert_cmpuint (c->submissions - prev->submissions, ==, 1);
    }
  g_test_message ("%u steps of %u beams: %" G_GUINT64_FORMAT " Vulkan objects made by begin and "
                  "the first step, none after",
                  per_step->len, beams, first->vk_objects - before.vk_objects);
  fx.engine->decoder_free (fx.engine, dec);
  gpu_test_assert_validation_clean (engine_device ());
}

static void
test_step_allocates_nothing (void)
{
  /* the fixture's beam search, still giving the reference's ids */
  check_steps (fx.num_beams, fx.max_new_tokens, fx.want_ids, fx.steps_run);
  /* and a longer one, past where caches of a fixed start would grow */
  check_steps (fx.num_beams, 80, NULL, 0);
}

/* ------------------------------------------------------------------------------------------
 * The vision tower in several submissions
 * ---------------------------------------------------------------------------------------- */

static float *
encode (double gflop, guint64 *submissions)
{
  g_autoptr (GError) error = NULL;
  GpuDevice *device = engine_device ();
  double own = gpu_device_get_limits (device)->submission_gflop;
  gpu_device_set_submission_gflop (device, gflop);
  GpuCounters before, after;
  gpu_counters_get (&before);
  FlorenceImageFeatures *f =
    fx.engine->encode_image (fx.engine, fx.pixels, fx.size, NULL, NULL, &error);
  g_assert_no_error (error);
  gpu_counters_get (&after);
  gpu_device_set_submission_gflop (device, own);
  *submissions = after.submissions - before.submissions;
  gsize n = (gsize) f->n_tokens * fx.config->d_model;
  float *h = g_new (float, n);
  g_assert_true (gpu_buffer_download (((GpuFeatures *) f)->h, 0, h, n * 4, &error));
  g_assert_no_error (error);
  fx.engine->features_free (fx.engine, f);
  return h;
}

static void
test_vision_split (void)
{
  guint blocks = 0;
  for (int s = 0; s < 4; s++)
    blocks += 2 * (guint) fx.config->depths[s];
  guint64 n_whole = 0, n_split = 0;
  g_autofree float *whole = encode (1e9, &n_whole);
  g_autofree float *split = encode (0, &n_split);
  g_test_message ("vision tower: %" G_GUINT64_FORMAT " submissions whole, %" G_GUINT64_FORMAT
                  " cut after each of its %u blocks",
                  n_whole, n_split, blocks);
  g_assert_cmpuint (n_split, >=, n_whole + blocks - 1);
  gsize n = (gsize) fx.features->n_tokens * fx.config->d_model;
  g_assert_cmpint (memcmp (whole, split, n * sizeof (float)), ==, 0);
  gpu_test_assert_validation_clean (engine_device ());
}

int
main (int argc, char **argv)
{
  gpu_test_init (&argc, &argv);
  if (g_getenv ("DEPICT_TEST_DATA") == NULL)
    return 77;
  if (!fixture_load ())
    {
      g_printerr ("no Vulkan device: skipped\n");
      return 77;
    }
  g_printerr ("%s, synchronization validation %s\n", gpu_device_get_info (engine_device ())->name,
              gpu_device_validation_enabled (engine_device ()) ? "on"
                                                               : "off (layer not installed)");
  g_test_add_func ("/gpu/engine/decoder/cache-size", test_cache_size);
  g_test_add_func ("/gpu/engine/decoder/cache-growth", test_cache_growth);
  g_test_add_func ("/gpu/engine/decoder/step-allocates-nothing", test_step_allocates_nothing);
  g_test_add_func ("/gpu/engine/vision/split", test_vision_split);
  int status = g_test_run ();
  if (gpu_device_validation_enabled (engine_device ()) &&
      gpu_device_get_validation_errors (engine_device ()) > 0)
    status = 1;
  fixture_clear ();
  return status;
}
