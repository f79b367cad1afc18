/* florence-model-dir.c: which model folder a setting or a --model option names
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/model/florence-model-dir.h"

#include <glib/gi18n.h>

#include "florence/hub/florence-hub.h"

G_DEFINE_QUARK (florence - model - dir - error - quark, florence_model_dir_error)

static gboolean
has_file (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

static gboolean
holds_model (const char *dir)
{
  return has_file (dir, "config.json") &&
         (has_file (dir, "model.safetensors") || has_file (dir, "model.safetensors.index.json") ||
          has_file (dir, "pytorch_model.bin"));
}

/* "base, base-ft, large, large-ft" */
static char *
catalogue_names (void)
{
  gsize n = 0;
  const FlorenceHubModel *models = florence_hub_get_models (&n);
  g_autoptr (GString) names = g_string_new (NULL);

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (names, "%s%s", i > 0 ? ", " : "", models[i].id);
  return g_string_free (g_steal_pointer (&names), FALSE);
}

char *
florence_model_dir_resolve (const char *model, GError **error)
{
  const FlorenceHubModel *hub;
  g_autofree char *names = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (model == NULL || model[0] == '\0')
    {
      gsize n = 0;
      const FlorenceHubModel *models = florence_hub_get_models (&n);

      for (gsize i = 0; i < n; i++)
        {
          g_autofree char *dir = florence_hub_get_install_dir (&models[i]);

          if (florence_hub_dir_is_complete (dir))
            return g_steal_pointer (&dir);
        }
      g_set_error (error, FLORENCE_MODEL_DIR_ERROR, FLORENCE_MODEL_DIR_ERROR_NONE_INSTALLED,
                   _ ("No model is installed. Download one in Depict’s Models window or with "
                      "“depict-cli download base”, or name a model folder."));
      return NULL;
    }

  hub = florence_hub_lookup (model);
  if (hub != NULL)
    {
      g_autofree char *dir = florence_hub_get_install_dir (hub);

      if (florence_hub_dir_is_complete (dir))
        return g_steal_pointer (&dir);
      g_set_error (error, FLORENCE_MODEL_DIR_ERROR, FLORENCE_MODEL_DIR_ERROR_NOT_INSTALLED,
                   _ ("The model “%s” is not installed. Download it in Depict’s Models window or "
                      "with “depict-cli download %s”."),
                   hub->id, hub->id);
      return NULL;
    }

  if (holds_model (model))
    return g_strdup (model);
  if (g_file_test (model, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, FLORENCE_MODEL_DIR_ERROR, FLORENCE_MODEL_DIR_ERROR_NOT_FOUND,
                   _ ("The folder “%s” holds no model: it needs config.json and the weights "
                      "(model.safetensors or pytorch_model.bin)."),
                   model);
      return NULL;
    }
  names = catalogue_names ();
  g_set_error (error, FLORENCE_MODEL_DIR_ERROR, FLORENCE_MODEL_DIR_ERROR_NOT_FOUND,
               _ ("“%s” is neither a model folder nor the name of a model (%s). “depict-cli "
                  "models” lists them."),
               model, names);
  return NULL;
}
