/* cli-text.c: helpers shared by depict-cli tokenize and parse
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "cli-text.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

gboolean
cli_text_parse_image_size (const char *str, int *w, int *h, GError **error)
{
  g_auto (GStrv) parts = str != NULL ? g_strsplit_set (str, "xX", -1) : NULL;
  guint64 a, b;

  if (parts == NULL || g_strv_length (parts) != 2 ||
      !g_ascii_string_to_unsigned (parts[0], 10, 1, G_MAXINT, &a, NULL) ||
      !g_ascii_string_to_unsigned (parts[1], 10, 1, G_MAXINT, &b, NULL))
    {
      g_set_error (
        error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        _ ("Give the picture size as WIDTHxHEIGHT in pixels, for example --image-size 640x480."));
      return FALSE;
    }
  *w = (int) a;
  *h = (int) b;
  return TRUE;
}

char *
cli_text_region_input (const char *str, int w, int h, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (str, ",", -1);
  double v[4];

  if (g_strv_length (parts) != 4)
    goto fail;
  for (int i = 0; i < 4; i++)
    {
      char *end = NULL;
      g_strstrip (parts[i]);
      v[i] = g_ascii_strtod (parts[i], &end);
      if (end == parts[i] || *end != '\0')
        goto fail;
    }
  {
    char *s = florence_task_region_input (v[0], v[1], v[2], v[3], w, h);
    if (s != NULL)
      return s;
  }
fail:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _ ("Give the region as four pixel coordinates X1,Y1,X2,Y2, for example --region "
                  "10,20,200,150."));
  return NULL;
}
