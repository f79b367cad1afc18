/* fuzz-json.c: arbitrary bytes through the JSON guard (florence_json_load)
 *
 * What the guard accepts, json-glib must parse (the guard is not stricter than it needs to be
 * for Depict's own output, and never lets through what json-glib would choke on), and every
 * string json-glib then hands out (values and member names) must be valid UTF-8 without a NUL;
 * the tree must nest at most FLORENCE_JSON_MAX_DEPTH levels. What the guard refuses must say
 * where and why. The tree is walked without recursion, and written back: what json-glib writes
 * of an accepted document, and can read itself, must pass the guard again (Depict reads back
 * what it wrote).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "florence/files/florence-json.h"
#include "fuzz.h"

static void
check_string (const char *s)
{
  FUZZ_CHECK (s != NULL);
  FUZZ_CHECK (g_utf8_validate (s, -1, NULL));
}

/* Every node of root, depth first, with an explicit stack. */
static void
check_tree (JsonNode *root)
{
  g_autoptr (GPtrArray) nodes = g_ptr_array_new ();
  g_autoptr (GArray) depths = g_array_new (FALSE, FALSE, sizeof (guint));
  guint zero = 0;

  g_ptr_array_add (nodes, root);
  g_array_append_val (depths, zero);
  while (nodes->len > 0)
    {
      JsonNode *node = g_ptr_array_steal_index (nodes, nodes->len - 1);
      guint depth = g_array_index (depths, guint, depths->len - 1);

      g_array_set_size (depths, depths->len - 1);
      FUZZ_CHECK (depth <= FLORENCE_JSON_MAX_DEPTH);
      switch (JSON_NODE_TYPE (node))
        {
        case JSON_NODE_OBJECT:
          {
            JsonObjectIter iter;
            const char *name;
            JsonNode *member;
            guint child = depth + 1;

            json_object_iter_init (&iter, json_node_get_object (node));
            while (json_object_iter_next (&iter, &name, &member))
              {
                check_string (name);
                g_ptr_array_add (nodes, member);
                g_array_append_val (depths, child);
              }
            break;
          }
        case JSON_NODE_ARRAY:
          {
            JsonArray *array = json_node_get_array (node);
            guint child = depth + 1;

            for (guint i = 0; i < json_array_get_length (array); i++)
              {
                g_ptr_array_add (nodes, json_array_get_element (array, i));
                g_array_append_val (depths, child);
              }
            break;
          }
        case JSON_NODE_VALUE:
          if (json_node_get_value_type (node) == G_TYPE_STRING)
            check_string (json_node_get_string (node));
          else if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
            FUZZ_CHECK (isfinite (json_node_get_double (node)));
          break;
        case JSON_NODE_NULL:
        default:
          break;
        }
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) error = NULL;

  fuzz_abort_on_critical (NULL);
  if (!florence_json_check ((const char *) data, (gssize) size, &error))
    {
      FUZZ_CHECK_ERROR (error);
      FUZZ_CHECK (g_str_has_prefix (error->message, "line ") ||
                  strstr (error->message, "line") != NULL);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  /* Accepted: json-glib parses it. */
  if (!json_parser_load_from_data (parser, (const char *) data, (gssize) size, &error))
    {
      g_printerr ("accepted by the guard, refused by json-glib: %s\n", error->message);
      abort ();
    }
  FUZZ_CHECK (json_parser_get_root (parser) != NULL);
  check_tree (json_parser_get_root (parser));

  /* Written back, it passes again: the guard refuses the doubles json-glib writes as text that
   * is not JSON ("1e+17.0"). */
  {
    g_autofree char *text = json_to_string (json_parser_get_root (parser), FALSE);
    g_autoptr (GError) again = NULL;

    if (!florence_json_check (text, -1, &again))
      {
        g_printerr ("json-glib wrote what the guard refuses: %s\n", again->message);
        abort ();
      }
  }
  return 0;
}
