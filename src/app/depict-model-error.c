/* depict-model-error.c
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-model-error"

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#include "depict-model-error.h"
#include "florence/files/florence-checkpoint.h"
#include "florence/files/florence-config.h"
#include "florence/hub/florence-hub.h"
#include "florence/model/florence-model.h"
#include "image/image-rgb.h"

gboolean
depict_model_error_is_photo_error (const GError *error)
{
  return error != NULL && (error->domain == IMAGE_ERROR ||
                           (error->domain == G_IO_ERROR && error->code != G_IO_ERROR_CANCELLED));
}

gboolean
depict_model_error_is_damaged_model (const GError *error)
{
  if (error == NULL)
    return FALSE;
  if (error->domain == FLORENCE_CHECKPOINT_ERROR || error->domain == FLORENCE_CONFIG_ERROR)
    return TRUE;
  /* Weights that compute NaN, a tokenizer that cannot be read; a mapped file cut short
   * while it was read (florence-file.h). */
  return g_error_matches (error, FLORENCE_MODEL_ERROR, FLORENCE_MODEL_ERROR_WEIGHTS) ||
         g_error_matches (error, FLORENCE_MODEL_ERROR, FLORENCE_MODEL_ERROR_TOKENIZER) ||
         g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_IO);
}

/* The file of the model folder that the florence layer's message names (it quotes the
 * path), or NULL. */
static char *
named_file (const char *message, const char *model_dir)
{
  const char *p = message;

  while ((p = strstr (p, "“")) != NULL)
    {
      const char *start = p + strlen ("“");
      const char *end = strstr (start, "”");
      g_autofree char *quoted = NULL;

      if (end == NULL)
        break;
      quoted = g_strndup (start, end - start);
      p = end;
      if (g_path_is_absolute (quoted) && g_file_test (quoted, G_FILE_TEST_IS_REGULAR) &&
          (model_dir == NULL || g_str_has_prefix (quoted, model_dir)))
        return g_path_get_basename (quoted);
    }
  return NULL;
}

/* The catalogue's model installed in MODEL_DIR, or NULL: a folder the person chose. */
static const FlorenceHubModel *
downloaded_model (const char *model_dir)
{
  gsize n = 0;
  const FlorenceHubModel *models = florence_hub_get_models (&n);

  for (gsize i = 0; model_dir != NULL && i < n; i++)
    {
      g_autofree char *dir = florence_hub_get_install_dir (&models[i]);

      if (g_strcmp0 (dir, model_dir) == 0)
        return &models[i];
    }
  return NULL;
}

char *
depict_model_error_describe (const GError *error, const char *model_dir, char **title)
{
  const FlorenceHubModel *catalogued = downloaded_model (model_dir);
  g_autofree char *file = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *what = NULL;

  g_return_val_if_fail (error != NULL, NULL);

  if (title != NULL)
    *title = g_strdup (_ ("The Model Is Damaged"));
  file = named_file (error->message, model_dir);
  folder = g_filename_display_basename (model_dir != NULL ? model_dir : "");
  if (catalogued != NULL)
    {
      if (file != NULL)
        /* Translators: the first %s is a file name ("model.safetensors"), the second a model
         * ("Florence-2 Base") */
        what = g_strdup_printf (_ ("The file “%s” of %s is damaged or incomplete, so the model "
                                   "cannot be used."),
                                file, _ (catalogued->title));
      else
        /* Translators: %s is a model ("Florence-2 Base") */
        what = g_strdup_printf (_ ("A file of %s is damaged or incomplete, so the model cannot "
                                   "be used."),
                                _ (catalogued->title));
      /* Translators: after a sentence that says which file is damaged */
      return g_strdup_printf (_ ("%s Delete the model in Models and download it again."), what);
    }
  /* A folder the person chose: Depict did not download it, and cannot fetch it again. */
  if (file != NULL)
    /* Translators: the first %s is a file name ("model.safetensors"), the second the name of
     * a model folder the person chose */
    what = g_strdup_printf (_ ("The file “%s” in the model folder “%s” is damaged or incomplete, "
                               "so the model cannot be used."),
                            file, folder);
  else
    /* Translators: %s is the name of a model folder the person chose */
    what = g_strdup_printf (_ ("A file in the model folder “%s” is damaged or incomplete, so the "
                               "model cannot be used."),
                            folder);
  /* Translators: after a sentence that says which file of a chosen model folder is damaged */
  return g_strdup_printf (_ ("%s Replace it with a good copy of the file, or choose another "
                             "model folder in Models."),
                          what);
}
