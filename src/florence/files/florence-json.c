/* florence-json.c: guards for handing untrusted JSON to json-glib
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/files/florence-json.h"

#include <glib/gi18n.h>
#include <string.h>

gboolean
florence_json_depth_ok (const char *data, gssize len, guint max_depth)
{
  gsize n;
  gboolean in_string = FALSE;
  guint depth = 0;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  n = len < 0 ? strlen (data) : (gsize) len;
  for (gsize i = 0; i < n; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > max_depth)
            return FALSE;
        }
      else if ((c == ']' || c == '}') && depth > 0)
        depth--;
    }
  return TRUE;
}

gboolean
florence_json_load (JsonParser *parser, const char *data, gssize len, GError **error)
{
  g_return_val_if_fail (JSON_IS_PARSER (parser), FALSE);
  g_return_val_if_fail (data != NULL, FALSE);

  if (!florence_json_depth_ok (data, len, FLORENCE_JSON_MAX_DEPTH))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _ ("it nests more than %u levels deep"), FLORENCE_JSON_MAX_DEPTH);
      return FALSE;
    }
  return json_parser_load_from_data (parser, data, len, error);
}

gboolean
florence_json_load_file (JsonParser *parser, const char *path, GError **error)
{
  g_autoptr (GMappedFile) mapped = NULL;
  const char *data;

  g_return_val_if_fail (JSON_IS_PARSER (parser), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  mapped = g_mapped_file_new (path, FALSE, error);
  if (mapped == NULL)
    return FALSE;
  /* An empty file maps to NULL contents. */
  data = g_mapped_file_get_contents (mapped);
  return florence_json_load (parser, data != NULL ? data : "",
                             (gssize) g_mapped_file_get_length (mapped), error);
}
