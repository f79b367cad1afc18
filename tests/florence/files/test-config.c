/* test-config.c: config.json / preprocessor_config.json parsing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Expected values are the spec's tables (florence2-spec.md §3.1, §5.1, §10.1), typed in here,
 * not computed by the code under test.
 */
#include "config.h"

#include "florence/files/florence-config.h"

#include <glib/gstdio.h>

#include <string.h>

static char *
data_path (const char *first, ...)
{
  const char *root = g_getenv ("DEPICT_TEST_DATA");
  va_list args;
  GString *path;
  const char *part;

  if (root == NULL)
    root = TEST_DATA_DIR;
  path = g_string_new (root);
  va_start (args, first);
  for (part = first; part != NULL; part = va_arg (args, const char *))
    {
      g_string_append_c (path, G_DIR_SEPARATOR);
      g_string_append (path, part);
    }
  va_end (args);
  return g_string_free (path, FALSE);
}

static void
assert_ints (const int *have, int a, int b, int c, int d)
{
  g_assert_cmpint (have[0], ==, a);
  g_assert_cmpint (have[1], ==, b);
  g_assert_cmpint (have[2], ==, c);
  g_assert_cmpint (have[3], ==, d);
}

static void
assert_generation (const FlorenceConfig *c)
{
  g_assert_cmpint (c->num_beams, ==, 3);
  g_assert_cmpint (c->no_repeat_ngram_size, ==, 3);
  g_assert_true (c->early_stopping);
  g_assert_cmpfloat (c->length_penalty, ==, 1.0);
  g_assert_cmpint (c->decoder_start_token_id, ==, 2);
  g_assert_cmpint (c->forced_bos_token_id, ==, 0);
  g_assert_cmpint (c->forced_eos_token_id, ==, 2);
  g_assert_cmpint (c->bos_token_id, ==, 0);
  g_assert_cmpint (c->eos_token_id, ==, 2);
  g_assert_cmpint (c->pad_token_id, ==, 1);
  g_assert_cmpint (c->max_new_tokens, ==, 1024);
}

static void
assert_processor_768 (const FlorenceConfig *c)
{
  g_assert_cmpint (c->image_size, ==, 768);
  g_assert_cmpfloat (c->image_mean[0], ==, 0.485f);
  g_assert_cmpfloat (c->image_mean[1], ==, 0.456f);
  g_assert_cmpfloat (c->image_mean[2], ==, 0.406f);
  g_assert_cmpfloat (c->image_std[0], ==, 0.229f);
  g_assert_cmpfloat (c->image_std[1], ==, 0.224f);
  g_assert_cmpfloat (c->image_std[2], ==, 0.225f);
  g_assert_cmpfloat (c->rescale_factor, ==, 1.0 / 255.0);
}

static void
assert_davit_common (const FlorenceConfig *c)
{
  assert_ints (c->depths, 1, 1, 9, 1);
  assert_ints (c->patch_size, 7, 3, 3, 3);
  assert_ints (c->patch_stride, 4, 2, 2, 2);
  assert_ints (c->patch_padding, 3, 1, 1, 1);
  assert_ints (c->patch_prenorm, FALSE, TRUE, TRUE, TRUE);
  g_assert_cmpint (c->window_size, ==, 12);
  g_assert_cmpint (c->image_pos_max, ==, 50);
  g_assert_cmpint (c->temporal_max, ==, 100);
}

static void
test_hub_base (void)
{
  g_autofree char *dir = data_path ("hub", "base", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceConfig) c = florence_config_load (dir, &error);

  g_assert_no_error (error);
  g_assert_nonnull (c);
  g_assert_cmpstr (c->name, ==, "base");
  assert_ints (c->dim_embed, 128, 256, 512, 1024);
  assert_ints (c->num_heads, 4, 8, 16, 32);
  assert_ints (c->num_groups, 4, 8, 16, 32);
  assert_davit_common (c);
  g_assert_cmpint (c->projection_dim, ==, 768);
  g_assert_cmpint (c->vocab_size, ==, 51289);
  g_assert_cmpint (c->d_model, ==, 768);
  g_assert_cmpint (c->encoder_layers, ==, 6);
  g_assert_cmpint (c->decoder_layers, ==, 6);
  g_assert_cmpint (c->encoder_heads, ==, 12);
  g_assert_cmpint (c->decoder_heads, ==, 12);
  g_assert_cmpint (c->encoder_ffn_dim, ==, 3072);
  g_assert_cmpint (c->decoder_ffn_dim, ==, 3072);
  g_assert_cmpint (c->max_position_embeddings, ==, 1024);
  g_assert_cmpint (florence_config_get_total_blocks (c), ==, 12);
  assert_generation (c);
  assert_processor_768 (c);
}

static void
test_hub_large (void)
{
  g_autofree char *dir = data_path ("hub", "large", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceConfig) c = florence_config_load (dir, &error);

  g_assert_no_error (error);
  g_assert_nonnull (c);
  assert_ints (c->dim_embed, 256, 512, 1024, 2048);
  assert_ints (c->num_heads, 8, 16, 32, 64);
  assert_ints (c->num_groups, 8, 16, 32, 64);
  assert_davit_common (c);
  g_assert_cmpint (c->projection_dim, ==, 1024);
  g_assert_cmpint (c->vocab_size, ==, 51289);
  g_assert_cmpint (c->d_model, ==, 1024);
  g_assert_cmpint (c->encoder_layers, ==, 12);
  g_assert_cmpint (c->decoder_layers, ==, 12);
  g_assert_cmpint (c->encoder_heads, ==, 16);
  g_assert_cmpint (c->decoder_heads, ==, 16);
  g_assert_cmpint (c->encoder_ffn_dim, ==, 4096);
  g_assert_cmpint (c->decoder_ffn_dim, ==, 4096);
  assert_generation (c);
  assert_processor_768 (c);
}

static void
test_tiny (void)
{
  g_autofree char *dir = data_path ("models", "tiny", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceConfig) c = florence_config_load (dir, &error);

  g_assert_no_error (error);
  assert_ints (c->dim_embed, 16, 32, 48, 64);
  assert_ints (c->num_heads, 1, 2, 3, 4);
  assert_ints (c->depths, 1, 1, 2, 1);
  g_assert_cmpint (c->d_model, ==, 32);
  g_assert_cmpint (c->encoder_layers, ==, 2);
  g_assert_cmpint (c->encoder_heads, ==, 2);
  g_assert_cmpint (c->encoder_ffn_dim, ==, 128);
  g_assert_cmpint (c->image_size, ==, 96);
  assert_generation (c);
}

static char *
read_hub_config (void)
{
  g_autofree char *path = data_path ("hub", "base", "config.json", NULL);
  char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

/* Replaces the first occurrence of from (which must occur) by to. Not inlined: gcc 12 at -O3
 * otherwise takes the pointer arithmetic below for a use of the caller's buffer after it is
 * freed (a -Wdangling-pointer false positive). */
static G_GNUC_NO_INLINE char *
replace_once (const char *text, const char *from, const char *to)
{
  const char *at = strstr (text, from);

  g_assert_nonnull (at);
  return g_strdup_printf ("%.*s%s%s", (int) (at - text), text, to, at + strlen (from));
}

/* Old revisions (and fine-tunes saved from them) carry top-level bos/eos/pad = 2/1/0 and a
 * 51-byte generation_config; the generation settings must come from text_config. */
static void
test_stale_top_level_ids (void)
{
  g_autofree char *text = read_hub_config ();
  g_autofree char *a = replace_once (text, "\"bos_token_id\": 0,", "\"bos_token_id\": 2,");
  g_autofree char *b = replace_once (a, "\"eos_token_id\": 2,", "\"eos_token_id\": 1,");
  g_autofree char *stale = replace_once (b, "\"pad_token_id\": 1,", "\"pad_token_id\": 0,");
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceConfig) c = NULL;

  /* The first occurrences are the top-level ones (before text_config). */
  g_assert_true (strstr (stale, "\"bos_token_id\": 2") < strstr (stale, "\"text_config\""));
  c = florence_config_load_from_data (stale, NULL, &error);
  g_assert_no_error (error);
  assert_generation (c);
  g_assert_cmpstr (c->name, ==, "Florence-2");
  assert_processor_768 (c); /* no preprocessor_config: the hub defaults */
}

static void
test_text_config_generation (void)
{
  g_autofree char *text = read_hub_config ();
  g_autofree char *a =
    replace_once (text, "\"num_beams\": 3", "\"num_beams\": 5, \"length_penalty\": 2.0");
  g_autofree char *b = replace_once (a, "\"early_stopping\": true", "\"early_stopping\": false");
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceConfig) c = florence_config_load_from_data (b, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpint (c->num_beams, ==, 5);
  g_assert_false (c->early_stopping);
  g_assert_cmpfloat (c->length_penalty, ==, 2.0);
}

/* The native transformers port's layout: embed_dim, flat max_* fields, image_token_id and a
 * padded text vocab_size (spec §6.3). */
static void
test_native_layout (void)
{
  const char *json =
    "{\"model_type\": \"florence2\", \"image_token_id\": 51289,"
    " \"text_config\": {\"model_type\": \"bart\", \"vocab_size\": 51328, \"d_model\": 768,"
    "  \"encoder_layers\": 6, \"decoder_layers\": 6, \"encoder_attention_heads\": 12,"
    "  \"decoder_attention_heads\": 12, \"encoder_ffn_dim\": 3072, \"decoder_ffn_dim\": 3072,"
    "  \"max_position_embeddings\": 1024},"
    " \"vision_config\": {\"model_type\": \"florence_vision\", \"embed_dim\": [128, 256, 512, "
    "1024],"
    "  \"num_heads\": [4, 8, 16, 32], \"num_groups\": [4, 8, 16, 32], \"depths\": [1, 1, 9, 1],"
    "  \"projection_dim\": 768, \"max_temporal_embeddings\": 100, \"max_position_embeddings\": "
    "50}}";
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceConfig) c = florence_config_load_from_data (json, NULL, &error);

  g_assert_no_error (error);
  assert_ints (c->dim_embed, 128, 256, 512, 1024);
  assert_davit_common (c);
  g_assert_cmpint (c->vocab_size, ==, 51289);
  g_assert_cmpint (c->projection_dim, ==, 768);
  assert_generation (c); /* Florence-2's defaults when text_config is silent */
}

static void
test_preprocessor (void)
{
  g_autofree char *text = read_hub_config ();
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceConfig) c = NULL;

  c = florence_config_load_from_data (
    text,
    "{\"size\": {\"height\": 384, \"width\": 384},"
    " \"image_mean\": [0.5, 0.5, 0.5], \"image_std\": [0.25, 0.5, 1],"
    " \"rescale_factor\": 0.5}",
    &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->image_size, ==, 384);
  g_assert_cmpfloat (c->image_mean[2], ==, 0.5f);
  g_assert_cmpfloat (c->image_std[0], ==, 0.25f);
  g_assert_cmpfloat (c->image_std[2], ==, 1.0f);
  g_assert_cmpfloat (c->rescale_factor, ==, 0.5);
}

typedef struct {
  const char *what, *from, *to;
  const char *preprocessor;
  int code;
  const char *needle; /* in the message */
} BadCase;

static void
test_bad_configs (void)
{
  static const BadCase cases[] = {
    { "not json", "{", "{{", NULL, FLORENCE_CONFIG_ERROR_PARSE, "JSON" },
    { "missing d_model", "\"d_model\": 768,", "", NULL, FLORENCE_CONFIG_ERROR_INVALID,
      "text_config.d_model" },
    { "d_model a string", "\"d_model\": 768", "\"d_model\": \"768\"", NULL,
      FLORENCE_CONFIG_ERROR_INVALID, "text_config.d_model" },
    { "negative layers", "\"encoder_layers\": 6", "\"encoder_layers\": -6", NULL,
      FLORENCE_CONFIG_ERROR_INVALID, "encoder_layers" },
    { "huge vocab", "\"vocab_size\": 51289", "\"vocab_size\": 99999999999", NULL,
      FLORENCE_CONFIG_ERROR_INVALID, "vocab_size" },
    { "heads do not divide", "\"encoder_attention_heads\": 12", "\"encoder_attention_heads\": 7",
      NULL, FLORENCE_CONFIG_ERROR_INVALID, "heads" },
    { "three depths", "\"depths\": [\n      1,\n      1,\n      9,\n      1\n    ]",
      "\"depths\": [1, 1, 9]", NULL, FLORENCE_CONFIG_ERROR_INVALID, "vision_config.depths" },
    { "no vision_config", "\"vision_config\"", "\"vision_configuration\"", NULL,
      FLORENCE_CONFIG_ERROR_INVALID, "vision_config" },
    { "relu", "\"activation_function\": \"gelu\"", "\"activation_function\": \"relu\"", NULL,
      FLORENCE_CONFIG_ERROR_INVALID, "activation_function" },
    { "pre-LN", "\"normalize_before\": false", "\"normalize_before\": true", NULL,
      FLORENCE_CONFIG_ERROR_INVALID, "normalize_before" },
    { "projection differs", "\"projection_dim\": 768", "\"projection_dim\": 512", NULL,
      FLORENCE_CONFIG_ERROR_INVALID, "projection_dim" },
    { "eos outside vocab", "\"eos_token_id\": 2,\n    \"forced",
      "\"eos_token_id\": 60000,\n    \"forced", NULL, FLORENCE_CONFIG_ERROR_INVALID, "vocabulary" },
    { "top level array", NULL, NULL, NULL, FLORENCE_CONFIG_ERROR_PARSE, "object" },
    { "non-square", "{", "{", "{\"size\": {\"height\": 768, \"width\": 512}}",
      FLORENCE_CONFIG_ERROR_INVALID, "square" },
    { "not /32", "{", "{", "{\"size\": {\"height\": 100, \"width\": 100}}",
      FLORENCE_CONFIG_ERROR_INVALID, "32" },
    { "too large", "{", "{", "{\"size\": {\"height\": 3200, \"width\": 3200}}",
      FLORENCE_CONFIG_ERROR_INVALID, "position table" },
    { "zero std", "{", "{", "{\"image_std\": [0.2, 0, 0.2]}", FLORENCE_CONFIG_ERROR_INVALID,
      "image_std" },
    { "two means", "{", "{", "{\"image_mean\": [0.2, 0.3]}", FLORENCE_CONFIG_ERROR_INVALID,
      "image_mean" },
    { "preprocessor not json", "{", "{", "size: 768", FLORENCE_CONFIG_ERROR_PARSE,
      "preprocessor_config.json" },
    /* Every value that sizes memory is bounded (the CPU engine asked for 4 TB). */
    { "window 1024", "\"window_size\": 12", "\"window_size\": 1024", NULL,
      FLORENCE_CONFIG_ERROR_INVALID, "vision_config.window_size" },
    { "wide channel groups", "32\n    ],\n    \"depths\"", "1\n    ],\n    \"depths\"", NULL,
      FLORENCE_CONFIG_ERROR_INVALID, "channels wide" },
    { "wide heads", "\"encoder_attention_heads\": 12", "\"encoder_attention_heads\": 1", NULL,
      FLORENCE_CONFIG_ERROR_INVALID, "channels wide" },
    { "64 beams", "\"num_beams\": 3", "\"num_beams\": 64", NULL, FLORENCE_CONFIG_ERROR_INVALID,
      "num_beams" },
    { "100 layers", "\"decoder_layers\": 6", "\"decoder_layers\": 100", NULL,
      FLORENCE_CONFIG_ERROR_INVALID, "decoder_layers" },
    { "65536 positions", "\"max_position_embeddings\": 1024", "\"max_position_embeddings\": 65536",
      NULL, FLORENCE_CONFIG_ERROR_INVALID, "max_position_embeddings" },
    { "positive in double, zero in float", "{", "{", "{\"image_std\": [1.5e-300, 0.2, 0.2]}",
      FLORENCE_CONFIG_ERROR_INVALID, "image_std" },
    { "a denormal std", "{", "{", "{\"image_std\": [1e-40, 0.2, 0.2]}",
      FLORENCE_CONFIG_ERROR_INVALID, "infinities" },
    { "a large rescale", "{", "{", "{\"rescale_factor\": 1e9, \"image_std\": [1e-30, 1, 1]}",
      FLORENCE_CONFIG_ERROR_INVALID, "infinities" },
  };
  g_autofree char *text = read_hub_config ();

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *json =
        cases[i].from ? replace_once (text, cases[i].from, cases[i].to) : g_strdup ("[1, 2]");
      g_autoptr (GError) error = NULL;
      g_autoptr (FlorenceConfig) c = NULL;

      g_test_message ("case: %s", cases[i].what);
      c = florence_config_load_from_data (json, cases[i].preprocessor, &error);
      g_assert_null (c);
      g_assert_error (error, FLORENCE_CONFIG_ERROR, cases[i].code);
      g_test_message ("  %s", error->message);
      g_assert_nonnull (strstr (error->message, cases[i].needle));
    }
}

/* Each bound alone passes; together they would need tens of gigabytes. */
static void
test_working_memory (void)
{
  g_autofree char *text = read_hub_config ();
  g_autofree char *a = replace_once (text, "\"decoder_layers\": 6", "\"decoder_layers\": 64");
  g_autofree char *b =
    replace_once (a, "\"max_position_embeddings\": 1024", "\"max_position_embeddings\": 4096");
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceConfig) c = florence_config_load_from_data (b, NULL, &error);

  g_assert_null (c);
  g_assert_error (error, FLORENCE_CONFIG_ERROR, FLORENCE_CONFIG_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "working memory"));
  g_assert_nonnull (strstr (error->message, "text_config.decoder_layers"));
}

/* The sizes the engines and the run options go by. */
static void
test_sizes (void)
{
  g_autofree char *dir = data_path ("hub", "large", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceConfig) c = florence_config_load (dir, &error);

  g_assert_no_error (error);
  /* Florence-2-large, 768, 3 beams: between 0.3 and 3 GB. */
  g_assert_cmpuint (florence_config_estimate_working_bytes (c, 768, 3), >, 300000000);
  g_assert_cmpuint (florence_config_estimate_working_bytes (c, 768, 3), <, 3000000000);
}

/* json-glib recurses per nesting level: refuse deep nesting before parsing. */
static void
test_deep_nesting (void)
{
  GString *json = g_string_new ("{\"text_config\": ");
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceConfig) c = NULL;

  for (int i = 0; i < 1000000; i++)
    g_string_append_c (json, '[');
  c = florence_config_load_from_data (json->str, NULL, &error);
  g_assert_null (c);
  g_assert_error (error, FLORENCE_CONFIG_ERROR, FLORENCE_CONFIG_ERROR_PARSE);
  g_clear_error (&error);
  c = florence_config_load_from_data ("{\"a\": \"[[[[\\\"[[[[\"}", "{\"b\": [[[[[[[[1]]]]]]]]}",
                                      &error);
  g_assert_null (c); /* shallow enough: parsed, then refused for a missing text_config */
  g_assert_error (error, FLORENCE_CONFIG_ERROR, FLORENCE_CONFIG_ERROR_INVALID);
  g_string_free (json, TRUE);
}

static void
test_missing_dir (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("depict-config-XXXXXX", NULL);
  g_autoptr (FlorenceConfig) c = florence_config_load (tmp, &error);

  g_assert_null (c);
  g_assert_error (error, FLORENCE_CONFIG_ERROR, FLORENCE_CONFIG_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "config.json"));
  g_rmdir (tmp);
}

/* A hub cache snapshot directory is named after the repository, not the hash. */
static void
test_snapshot_name (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("depict-config-XXXXXX", NULL);
  g_autofree char *snap =
    g_build_filename (tmp, "models--microsoft--Florence-2-large-ft", "snapshots",
                      "0123456789abcdef0123456789abcdef01234567", NULL);
  g_autofree char *cfg = g_build_filename (snap, "config.json", NULL);
  g_autofree char *text = read_hub_config ();
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceConfig) c = NULL;
  g_autofree char *repo = g_build_filename (tmp, "models--microsoft--Florence-2-large-ft", NULL);
  g_autofree char *snaps = g_build_filename (repo, "snapshots", NULL);

  g_assert_cmpint (g_mkdir_with_parents (snap, 0700), ==, 0);
  g_assert_true (g_file_set_contents (cfg, text, -1, NULL));
  c = florence_config_load (snap, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->name, ==, "Florence-2-large-ft");
  g_unlink (cfg);
  g_rmdir (snap);
  g_rmdir (snaps);
  g_rmdir (repo);
  g_rmdir (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/florence/config/hub-base", test_hub_base);
  g_test_add_func ("/florence/config/hub-large", test_hub_large);
  g_test_add_func ("/florence/config/tiny", test_tiny);
  g_test_add_func ("/florence/config/stale-top-level-ids", test_stale_top_level_ids);
  g_test_add_func ("/florence/config/text-config-generation", test_text_config_generation);
  g_test_add_func ("/florence/config/native-layout", test_native_layout);
  g_test_add_func ("/florence/config/preprocessor", test_preprocessor);
  g_test_add_func ("/florence/config/bad", test_bad_configs);
  g_test_add_func ("/florence/config/sizes", test_sizes);
  g_test_add_func ("/florence/config/working-memory", test_working_memory);
  g_test_add_func ("/florence/config/deep-nesting", test_deep_nesting);
  g_test_add_func ("/florence/config/missing-dir", test_missing_dir);
  g_test_add_func ("/florence/config/snapshot-name", test_snapshot_name);
  return g_test_run ();
}
