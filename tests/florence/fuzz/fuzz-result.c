/* fuzz-result.c: parse arbitrary bytes as a stored result (what the gallery reads back), in
 * Depict's form and in the reference's {task: answer}
 *
 * Checks that whatever parses writes JSON that parses to the same JSON.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "florence/files/florence-json.h"
#include "florence/text/florence-result.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceResult) r = florence_result_from_json (text, &error);
  g_autofree char *json = NULL, *json2 = NULL;
  g_autoptr (FlorenceResult) back = NULL;

  {
    g_autoptr (JsonParser) parser = json_parser_new ();
    JsonNode *root;

    if (florence_json_load (parser, text, -1, NULL) &&
        (root = json_parser_get_root (parser)) != NULL)
      {
        g_autoptr (FlorenceResult) ref =
          florence_result_from_reference_json_node (root, NULL, 640, 480, NULL);

        if (ref != NULL)
          {
            g_autoptr (JsonNode) node = florence_result_to_reference_json_node (ref);
            g_autoptr (FlorenceResult) again =
              florence_result_from_reference_json_node (node, NULL, 640, 480, NULL);
            g_autofree char *a = florence_result_to_json (ref, FALSE);
            g_autofree char *b = NULL;

            FUZZ_CHECK (again != NULL);
            b = florence_result_to_json (again, FALSE);
            FUZZ_CHECK (strcmp (a, b) == 0);
          }
      }
  }
  if (r == NULL)
    {
      FUZZ_CHECK (error != NULL);
      return 0;
    }
  json = florence_result_to_json (r, TRUE);
  back = florence_result_from_json (json, &error);
  FUZZ_CHECK (back != NULL);
  json2 = florence_result_to_json (back, TRUE);
  FUZZ_CHECK (strcmp (json, json2) == 0);
  return 0;
}
