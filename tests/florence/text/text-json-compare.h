/* text-json-compare.h: structural comparison of JSON trees for the text-side tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

/* Compares two JSON trees: same structure, same strings, numbers equal as float32 (every
 * expected number is a float32 value printed as a Python float) — within 1e-4 at most. */
static inline void
assert_same_json (JsonNode *got, JsonNode *expected, const char *path)
{
  JsonNodeType t = json_node_get_node_type (expected);

  if (t == JSON_NODE_OBJECT)
    {
      JsonObject *eo = json_node_get_object (expected), *go;
      g_autoptr (GList) members = json_object_get_members (eo);

      if (json_node_get_node_type (got) != JSON_NODE_OBJECT)
        g_error ("%s: expected an object", path);
      go = json_node_get_object (got);
      if (json_object_get_size (go) != json_object_get_size (eo))
        g_error ("%s: %u members, expected %u", path, json_object_get_size (go),
                 json_object_get_size (eo));
      for (GList *l = members; l != NULL; l = l->next)
        {
          g_autofree char *sub = g_strdup_printf ("%s.%s", path, (const char *) l->data);
          if (!json_object_has_member (go, l->data))
            g_error ("%s: missing", sub);
          assert_same_json (json_object_get_member (go, l->data),
                            json_object_get_member (eo, l->data), sub);
        }
    }
  else if (t == JSON_NODE_ARRAY)
    {
      JsonArray *ea = json_node_get_array (expected), *ga;

      if (json_node_get_node_type (got) != JSON_NODE_ARRAY)
        g_error ("%s: expected an array", path);
      ga = json_node_get_array (got);
      if (json_array_get_length (ga) != json_array_get_length (ea))
        g_error ("%s: %u elements, expected %u", path, json_array_get_length (ga),
                 json_array_get_length (ea));
      for (guint i = 0; i < json_array_get_length (ea); i++)
        {
          g_autofree char *sub = g_strdup_printf ("%s[%u]", path, i);
          assert_same_json (json_array_get_element (ga, i), json_array_get_element (ea, i), sub);
        }
    }
  else if (json_node_get_value_type (expected) == G_TYPE_STRING)
    {
      if (json_node_get_value_type (got) != G_TYPE_STRING ||
          strcmp (json_node_get_string (got), json_node_get_string (expected)) != 0)
        g_error ("%s: got “%s”, expected “%s”", path,
                 json_node_get_value_type (got) == G_TYPE_STRING ? json_node_get_string (got) : "?",
                 json_node_get_string (expected));
    }
  else
    {
      double e = json_node_get_double (expected), g = json_node_get_double (got);
      if ((float) e != (float) g || fabs (e - g) > 1e-4)
        g_error ("%s: got %.9g, expected %.9g", path, g, e);
    }
}

/* tests/data/postprocess/cases.json, parsed (free it with json_node_unref); *cases is its
 * "cases" array. */
static inline JsonNode *
text_test_load_postprocess_cases (JsonArray **cases)
{
  g_autofree char *path =
    g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "postprocess", "cases.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonNode *root;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  root = json_node_copy (json_parser_get_root (parser));
  *cases = json_object_get_array_member (json_node_get_object (root), "cases");
  return root;
}
