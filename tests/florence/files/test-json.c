/* test-json.c: the JSON guard (florence-json.h) and every reader behind it: standard JSON only,
 * so that nothing nests deep enough to overflow json-glib's recursive parser (not through '…'
 * strings or comments either) and every string read is valid UTF-8; a sentence, never a crash
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "ckpt-test-util.h"
#include "florence/files/florence-checkpoint.h"
#include "florence/files/florence-config.h"
#include "florence/files/florence-json.h"
#include "florence/model/florence-processor.h"
#include "florence/text/florence-result.h"
#include "florence/text/florence-tokenizer.h"

/* Half a million levels: far past what the stack holds if parsed recursively. */
#define DEEP 500000

/* prefix, DEEP '[', DEEP ']', suffix */
static char *
deep_json (const char *prefix, const char *suffix)
{
  GString *s = g_string_new (prefix);
  for (guint i = 0; i < DEEP; i++)
    g_string_append_c (s, '[');
  for (guint i = 0; i < DEEP; i++)
    g_string_append_c (s, ']');
  g_string_append (s, suffix);
  return g_string_free (s, FALSE);
}

/* The bypasses of a guard that skips only "…" strings: a quote hidden in a '…' string or a
 * comment makes it think the brackets that follow are inside a string. */
static const char *const bypass_prefixes[] = {
  "{'x':'\"',\"a\":",
  "{/* \" */\"a\":",
  "{\"a\":",
};

typedef struct {
  const char *json;
  const char *message; /* part of the error message; NULL: accepted */
} Case;

static const Case cases[] = {
  { "{\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\\n\"], \"b\": {}}", NULL },
  { "\xEF\xBB\xBF[1]", NULL },
  { "[\"caf\xC3\xA9\"]", NULL },
  { "[9223372036854775807, -9223372036854775808, 1.5e308, 0.0, -0]", NULL },
  { "[1e16, 1e-5, 2.5e-300, 1E2, 1e-05]", NULL },
  /* json-glib would write them back as "1e+308.0", "1e+17.0", "1e-300.0": not JSON */
  { "[1e308]", "written back" },
  { "{\"total\": 1e17}", "written back" },
  { "[-1E+20]", "written back" },
  { "[1e-300]", "written back" },
  { "  \n[ ]\n ", NULL },
  { "[\"\\350\"]", "escape" },
  { "[\"\\777\"]", "escape" },
  { "[\"a\\0b\"]", "escape" },
  { "[\"\\x41\"]", "escape" },
  { "[\"\\udc00\"]", "surrogate" },
  { "[\"\\ud800\"]", "surrogate" },
  { "[\"\\ud800\\u0041\"]", "surrogate" },
  { "[\"\\u0000\"]", "NUL" },
  { "[\"\\u12\"]", "hexadecimal" },
  { "[\"\xE8\"]", "UTF-8" },
  { "[\"\xED\xA0\x80\"]", "UTF-8" },
  { "[\"\xC0\xAF\"]", "UTF-8" },
  /* json-glib writes U+001F unescaped: what Depict wrote, it must read */
  { "[\"a\tb\x1f\"]", NULL },
  { "['x']", "single quotes" },
  { "{'x': 1}", "single quotes" },
  { "/* c */ [1]", "comment" },
  { "[1] // c", "comment" },
  { "[1, /* c */ 2]", "comment" },
  { "[0x10]", "comma" },
  { "[01]", "leading zero" },
  { "[.5]", "not a JSON value" },
  { "[+1]", "not a JSON value" },
  { "[1.]", "malformed number" },
  { "[1e]", "malformed number" },
  { "[-]", "malformed number" },
  { "[99999999999999999999]", "64 bits" },
  { "[1e400]", "double" },
  { "[NaN]", "not a JSON value" },
  { "[1,]", "not a JSON value" },
  { "{\"a\":1,}", "member name" },
  { "{a:1}", "member name" },
  { "{\"a\" 1}", "colon" },
  { "[1 2]", "comma" },
  { "[1] [2]", "after the end" },
  { "[1", "ends too early" },
  { "[\"abc", "not closed" },
  { "", "empty" },
  { "   ", "empty" },
  { "tru", "not a JSON value" },
  { "truex", "not a JSON value" },
};

static void
test_check_cases (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = florence_json_check (cases[i].json, -1, &error);

      if (cases[i].message == NULL)
        {
          g_autoptr (JsonParser) parser = json_parser_new ();
          g_autofree char *written = NULL;

          g_assert_no_error (error);
          g_assert_true (ok);
          /* What Depict reads, json-glib writes back as JSON that passes again. */
          g_assert_true (json_parser_load_from_data (parser, cases[i].json, -1, NULL));
          written = json_to_string (json_parser_get_root (parser), FALSE);
          if (!florence_json_check (written, -1, &error))
            g_error ("%s written back as %s: %s", cases[i].json, written, error->message);
        }
      else
        {
          g_assert_false (ok);
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
          if (strstr (error->message, cases[i].message) == NULL)
            g_error ("%s: “%s” does not say “%s”", cases[i].json, error->message, cases[i].message);
          g_assert_nonnull (strstr (error->message, "line 1, column"));
        }
    }
}

static void
test_check_limits (void)
{
  g_autoptr (GString) nested = g_string_new (NULL);
  g_autoptr (GError) error = NULL;

  /* FLORENCE_JSON_MAX_DEPTH levels pass, one more does not. */
  for (guint i = 0; i < FLORENCE_JSON_MAX_DEPTH; i++)
    g_string_append (nested, i % 2 ? "{\"k\":" : "[");
  g_string_append (nested, "0");
  for (guint i = FLORENCE_JSON_MAX_DEPTH; i-- > 0;)
    g_string_append (nested, i % 2 ? "}" : "]");
  g_assert_true (florence_json_check (nested->str, -1, NULL));
  g_string_prepend_c (nested, '[');
  g_string_append_c (nested, ']');
  g_assert_false (florence_json_check (nested->str, -1, &error));
  g_assert_nonnull (strstr (error->message, "levels deep"));
  g_clear_error (&error);

  /* A NUL byte inside the given length is not JSON. */
  g_assert_false (florence_json_check ("[\"a\0\"]", 6, &error));
  g_assert_nonnull (strstr (error->message, "NUL"));
  g_clear_error (&error);
  g_assert_false (florence_json_check ("[1]\0", 4, NULL));
  g_assert_true (florence_json_check ("[1]\0", 3, NULL));

  /* Where: line and column. */
  g_assert_false (florence_json_check ("{\n  \"a\": 1,\n  'b': 2\n}", -1, &error));
  g_assert_nonnull (strstr (error->message, "line 3, column 3"));
}

static void
test_check_values (void)
{
  g_autoptr (GString) s = g_string_new ("[");
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < FLORENCE_JSON_MAX_VALUES; i++)
    g_string_append (s, "0,");
  g_string_append (s, "0]");
  g_assert_false (florence_json_check (s->str, (gssize) s->len, &error));
  g_assert_nonnull (strstr (error->message, "values"));
}

static void
test_deep_everywhere (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bypass_prefixes); i++)
    {
      g_autofree char *json = deep_json (bypass_prefixes[i], "}");
      g_autoptr (GError) error = NULL;

      g_assert_false (florence_json_check (json, -1, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    }
}

static char *
temp_dir (void)
{
  char *dir = g_dir_make_tmp ("depict-json-XXXXXX", NULL);
  g_assert_nonnull (dir);
  return dir;
}

static void
write_file (const char *dir, const char *name, const void *data, gssize len)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, data, len, NULL));
}

/* Each bypass through each reader of model files: refused with the file named. */
static void
test_readers_deep (void)
{
  g_autofree char *dir = temp_dir ();
  g_autofree char *tiny = ckpt_data_path ("models", "tiny", "config.json", NULL);
  g_autofree char *tiny_config = NULL;
  g_autoptr (FlorenceConfig) config = NULL;

  g_assert_true (g_file_get_contents (tiny, &tiny_config, NULL, NULL));
  config = florence_config_load_from_data (tiny_config, NULL, NULL);
  g_assert_nonnull (config);

  for (gsize i = 0; i < G_N_ELEMENTS (bypass_prefixes); i++)
    {
      g_autofree char *json = deep_json (bypass_prefixes[i], "}");
      g_autoptr (GError) error = NULL;

      /* tokenizer.json */
      {
        g_autofree char *path = g_build_filename (dir, "tokenizer.json", NULL);
        write_file (dir, "tokenizer.json", json, -1);
        g_assert_null (florence_tokenizer_new_from_file (path, &error));
        g_assert_error (error, FLORENCE_TOKENIZER_ERROR, FLORENCE_TOKENIZER_ERROR_INVALID);
        g_assert_nonnull (strstr (error->message, "tokenizer.json"));
        g_clear_error (&error);
        g_unlink (path);
      }
      /* vocab.json */
      {
        g_autofree char *vocab = g_build_filename (dir, "vocab.json", NULL);
        g_autofree char *merges = g_build_filename (dir, "merges.txt", NULL);
        write_file (dir, "vocab.json", json, -1);
        write_file (dir, "merges.txt", "#version: 0.2\n", -1);
        g_assert_null (florence_tokenizer_new_from_vocab_merges (vocab, merges, &error));
        g_assert_error (error, FLORENCE_TOKENIZER_ERROR, FLORENCE_TOKENIZER_ERROR_INVALID);
        g_clear_error (&error);
        g_unlink (vocab);
        g_unlink (merges);
      }
      /* config.json, preprocessor_config.json */
      {
        write_file (dir, "config.json", json, -1);
        g_assert_null (florence_config_load (dir, &error));
        g_assert_error (error, FLORENCE_CONFIG_ERROR, FLORENCE_CONFIG_ERROR_PARSE);
        g_assert_nonnull (strstr (error->message, "config.json"));
        g_clear_error (&error);
        write_file (dir, "config.json", tiny_config, -1);
        write_file (dir, "preprocessor_config.json", json, -1);
        g_assert_null (florence_config_load (dir, &error));
        g_assert_error (error, FLORENCE_CONFIG_ERROR, FLORENCE_CONFIG_ERROR_PARSE);
        g_assert_nonnull (strstr (error->message, "preprocessor_config.json"));
        g_clear_error (&error);
        ckpt_remove_dir (dir);
        g_mkdir (dir, 0700);
      }
      /* the processor's own reader */
      {
        FlorenceProcessorConfig pc;
        florence_processor_config_init (&pc);
        g_assert_false (florence_processor_config_load_from_data (&pc, json, -1, &error));
        g_assert_error (error, FLORENCE_PROCESSOR_ERROR, FLORENCE_PROCESSOR_ERROR_PARSE);
        g_clear_error (&error);
      }
      /* a safetensors header */
      {
        g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
        gsize n = strlen (json);
        g_autofree guint8 *file = g_malloc (8 + n);
        for (int b = 0; b < 8; b++)
          file[b] = (guint8) ((guint64) n >> (8 * b));
        memcpy (file + 8, json, n);
        write_file (dir, "model.safetensors", file, (gssize) (8 + n));
        g_assert_null (florence_checkpoint_open_file (path, config, &error));
        g_assert_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_CORRUPT);
        g_assert_nonnull (strstr (error->message, "model.safetensors"));
        g_clear_error (&error);
        g_unlink (path);
      }
      /* a shard index */
      {
        g_autofree char *path = g_build_filename (dir, "model.safetensors.index.json", NULL);
        write_file (dir, "model.safetensors.index.json", json, -1);
        g_assert_null (florence_checkpoint_open_file (path, config, &error));
        g_assert_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_CORRUPT);
        g_assert_nonnull (strstr (error->message, "index.json"));
        g_clear_error (&error);
        g_unlink (path);
      }
      /* a stored result */
      {
        g_autofree char *result_json = deep_json (bypass_prefixes[i], "}");
        g_assert_null (florence_result_from_json (result_json, &error));
        g_assert_error (error, FLORENCE_RESULT_ERROR, FLORENCE_RESULT_ERROR_INVALID);
        g_clear_error (&error);
      }
    }
  ckpt_remove_dir (dir);
}

/* Escapes json-glib decodes to invalid UTF-8: refused at the door, so a vocabulary key "\350"
 * can no longer make decoding read past a token's end. */
static void
test_tokenizer_utf8 (void)
{
  static const char *const keys[] = { "\\350", "\\777", "\\udc00", "\\ud800", "a\\0b" };
  g_autofree char *dir = temp_dir ();
  g_autofree char *path = g_build_filename (dir, "tokenizer.json", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *json = g_strdup_printf (
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"%s\": 0}, \"merges\": []}}", keys[i]);

      write_file (dir, "tokenizer.json", json, -1);
      g_assert_null (florence_tokenizer_new_from_file (path, &error));
      g_assert_error (error, FLORENCE_TOKENIZER_ERROR, FLORENCE_TOKENIZER_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, "tokenizer.json"));
    }
  ckpt_remove_dir (dir);
}

/* A result whose task holds "\350" was accepted, then written back as JSON Depict could not
 * read (two crashes fuzz-result found). */
static void
test_result_utf8 (void)
{
  static const char *const texts[] = {
    "{\"version\":1,\"task\":\"<CAPTION\\350>\",\"kind\":\"text\",\"image_size\":[10,10],"
    "\"text\":\"x\"}",
    "{\"version\":1,\"task\":\"<CAPTION>\",\"kind\":\"text\",\"image_size\":[10,10],"
    "\"text\":\"\\udc00\"}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (florence_result_from_json (texts[i], &error));
      g_assert_error (error, FLORENCE_RESULT_ERROR, FLORENCE_RESULT_ERROR_INVALID);
    }
}

/* Every field of tokenizer.json with the wrong JSON type: a sentence, no GLib critical (they are
 * fatal in tests), never accepted. */
static void
test_tokenizer_types (void)
{
  static const char *const bodies[] = {
    "\"model\": {\"type\": 5, \"vocab\": {}, \"merges\": []}",
    "\"model\": {\"type\": \"BPE\", \"vocab\": [], \"merges\": []}",
    "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"1\"}, \"merges\": []}",
    "\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": {}}",
    "\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": [5]}",
    "\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": [[1, 2]]}",
    "\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": [[\"a\"]]}",
    "\"model\": [], \"added_tokens\": []",
    "\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, \"added_tokens\": 3",
    "\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, \"added_tokens\": [5]",
    "\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, "
    "\"added_tokens\": [{\"content\": 5, \"id\": 1}]",
    "\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, "
    "\"added_tokens\": [{\"content\": \"<x>\", \"id\": \"1\"}]",
    "\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, "
    "\"added_tokens\": [{\"content\": \"<x>\", \"id\": 1, \"lstrip\": \"yes\"}]",
    "\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, "
    "\"added_tokens\": [{\"content\": \"<x>\", \"id\": 1, \"special\": 1}]",
    "\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, "
    "\"added_tokens\": [{\"content\": \"<x>\", \"id\": 1.5}]",
  };
  g_autofree char *dir = temp_dir ();
  g_autofree char *path = g_build_filename (dir, "tokenizer.json", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *json = g_strdup_printf ("{%s}", bodies[i]);

      write_file (dir, "tokenizer.json", json, -1);
      g_assert_null (florence_tokenizer_new_from_file (path, &error));
      g_assert_error (error, FLORENCE_TOKENIZER_ERROR, FLORENCE_TOKENIZER_ERROR_INVALID);
      if (strstr (error->message, "tokenizer.json") == NULL)
        g_error ("%s: “%s” does not name the file", json, error->message);
    }
  ckpt_remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json/check/cases", test_check_cases);
  g_test_add_func ("/json/check/limits", test_check_limits);
  g_test_add_func ("/json/check/values", test_check_values);
  g_test_add_func ("/json/check/deep", test_deep_everywhere);
  g_test_add_func ("/json/readers/deep", test_readers_deep);
  g_test_add_func ("/json/readers/tokenizer-utf8", test_tokenizer_utf8);
  g_test_add_func ("/json/readers/result-utf8", test_result_utf8);
  g_test_add_func ("/json/readers/tokenizer-types", test_tokenizer_types);
  return g_test_run ();
}
