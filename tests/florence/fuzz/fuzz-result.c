/* fuzz-result.c: parse arbitrary bytes as a stored result (what the gallery reads back)
 *
 * Checks that whatever parses writes JSON that parses to the same JSON.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

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
