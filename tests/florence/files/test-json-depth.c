/* test-json-depth.c: every reader of untrusted JSON refuses documents nested deep enough to
 * overflow json-glib's recursive parser, with a sentence instead of a crash
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "florence/files/florence-json.h"
#include "florence/model/florence-processor.h"
#include "florence/text/florence-result.h"
#include "florence/text/florence-tokenizer.h"

/* Half a million levels: far past what the stack holds if parsed recursively. */
#define DEEP 500000

static char *
deep_json (const char *prefix)
{
  GString *s = g_string_new (prefix);
  for (guint i = 0; i < DEEP; i++)
    g_string_append_c (s, '[');
  for (guint i = 0; i < DEEP; i++)
    g_string_append_c (s, ']');
  if (*prefix == '{')
    g_string_append_c (s, '}');
  return g_string_free (s, FALSE);
}

static void
test_depth_scanner (void)
{
  g_assert_true (florence_json_depth_ok ("{\"a\": [[1], {\"b\": []}]}", -1, 4));
  g_assert_false (florence_json_depth_ok ("{\"a\": [[1], {\"b\": [[]]}]}", -1, 4));
  /* Brackets inside strings, escaped quotes included, do not count. */
  g_assert_true (florence_json_depth_ok ("[\"[[[[\\\"[[[[\"]", -1, 1));
}

static void
test_tokenizer (void)
{
  g_autofree char *json = deep_json ("{\"model\": ");
  g_autofree char *dir = g_dir_make_tmp ("depict-json-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "tokenizer.json", NULL);
  g_autoptr (GError) error = NULL;
  FlorenceTokenizer *tok;

  g_assert_true (g_file_set_contents (path, json, -1, NULL));
  tok = florence_tokenizer_new_from_file (path, &error);
  g_assert_null (tok);
  g_assert_error (error, FLORENCE_TOKENIZER_ERROR, FLORENCE_TOKENIZER_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "tokenizer.json"));
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_result (void)
{
  g_autofree char *json = deep_json ("{\"kind\": ");
  g_autoptr (GError) error = NULL;
  FlorenceResult *result = florence_result_from_json (json, &error);

  g_assert_null (result);
  g_assert_error (error, FLORENCE_RESULT_ERROR, FLORENCE_RESULT_ERROR_INVALID);
}

static void
test_processor_config (void)
{
  g_autofree char *json = deep_json ("{\"size\": ");
  g_autoptr (GError) error = NULL;
  FlorenceProcessorConfig config;

  florence_processor_config_init (&config);
  g_assert_false (florence_processor_config_load_from_data (&config, json, -1, &error));
  g_assert_error (error, FLORENCE_PROCESSOR_ERROR, FLORENCE_PROCESSOR_ERROR_PARSE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json-depth/scanner", test_depth_scanner);
  g_test_add_func ("/json-depth/tokenizer", test_tokenizer);
  g_test_add_func ("/json-depth/result", test_result);
  g_test_add_func ("/json-depth/processor-config", test_processor_config);
  return g_test_run ();
}
