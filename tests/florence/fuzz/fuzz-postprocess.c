/* fuzz-postprocess.c: post-process arbitrary text for every task and random image sizes
 *
 * Input: byte 0 selects the task (15 tasks + an unknown one), bytes 1–4 the image size
 * (two 16-bit values, 0 allowed), the rest is the generated text. Checks the result's
 * invariants and that its JSON parses back to the same JSON.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "florence/text/florence-postprocess.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  gsize n_tasks;
  const FlorenceTaskInfo *tasks = florence_task_get_all (&n_tasks);
  const FlorenceTaskInfo *task;
  g_autofree char *text = NULL, *json = NULL, *json2 = NULL;
  g_autoptr (FlorenceResult) r = NULL, back = NULL;
  g_autoptr (JsonNode) ref = NULL;
  g_autoptr (GError) error = NULL;
  int w, h;

  if (size < 5)
    return 0;
  task = data[0] % (n_tasks + 1) < n_tasks ? &tasks[data[0] % (n_tasks + 1)] : NULL;
  w = data[1] | (data[2] << 8);
  h = data[3] | (data[4] << 8);
  text = g_strndup ((const char *) data + 5, size - 5);

  r = task != NULL ? florence_postprocess (task, text, w, h)
                   : florence_postprocess_for_token ("<UNKNOWN>", text, w, h);
  FUZZ_CHECK (r != NULL);
  FUZZ_CHECK (r->boxes->len == r->box_labels->len);
  FUZZ_CHECK (r->polygons->len == r->polygon_labels->len);
  FUZZ_CHECK (r->quads->len == r->quad_labels->len);
  FUZZ_CHECK ((r->kind == FLORENCE_RESULT_TEXT) == (r->text != NULL));
  if (r->text != NULL)
    FUZZ_CHECK (g_utf8_validate (r->text, -1, NULL));
  for (guint i = 0; i < r->box_labels->len; i++)
    FUZZ_CHECK (g_utf8_validate (g_ptr_array_index (r->box_labels, i), -1, NULL));
  for (guint i = 0; i < r->polygon_labels->len; i++)
    FUZZ_CHECK (g_utf8_validate (g_ptr_array_index (r->polygon_labels, i), -1, NULL));
  for (guint i = 0; i < r->quad_labels->len; i++)
    FUZZ_CHECK (g_utf8_validate (g_ptr_array_index (r->quad_labels, i), -1, NULL));

  json = florence_result_to_json (r, FALSE);
  back = florence_result_from_json (json, &error);
  FUZZ_CHECK (back != NULL);
  json2 = florence_result_to_json (back, FALSE);
  FUZZ_CHECK (strcmp (json, json2) == 0);
  ref = florence_result_to_reference_json_node (r);
  FUZZ_CHECK (ref != NULL);
  return 0;
}
