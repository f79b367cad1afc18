/* cli-export.c: depict-cli export — tags and captions into XMP sidecars; whole results as
 * JSON or CSV
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "cli-gallery.h"
#include "cli-options.h"
#include "depict-cli.h"
#include "gallery/gallery-export.h"

int
cli_export_main (int argc, char **argv)
{
  g_autofree char *db_path = NULL;
  g_autofree char *output = NULL;
  g_autofree char *min_confidence = NULL;
  double min_score = 0.0;
  gboolean xmp = FALSE, json = FALSE, csv = FALSE, overwrite = FALSE;
  GOptionEntry entries[] = {
    { "xmp", 0, 0, G_OPTION_ARG_NONE, &xmp,
      N_ ("Write tags and caption into XMP sidecars (photo.jpg.xmp)"), NULL },
    { "overwrite-original", 0, 0, G_OPTION_ARG_NONE, &overwrite,
      N_ ("With --xmp: write into the photos themselves instead of sidecars"), NULL },
    { "min-confidence", 0, 0, G_OPTION_ARG_STRING, &min_confidence,
      N_ ("With --xmp: write only the tags the model is at least this sure of, from 0 to 1"),
      N_ ("SCORE") },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, N_ ("Export every result as JSON"), NULL },
    { "csv", 0, 0, G_OPTION_ARG_NONE, &csv, N_ ("Export every result as CSV"), NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      N_ ("With --json or --csv: write to FILE instead of the standard output"), N_ ("FILE") },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db_path,
      N_ ("The gallery database (default $XDG_DATA_HOME/depict/gallery.db)"), N_ ("PATH") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_ ("[FILE|DIR…]"));
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = NULL;
  g_autoptr (GArray) ids = NULL;

  g_option_context_set_summary (context, _ ("Exports what the gallery knows about the given "
                                            "photos (all photos when none is given)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!cli_options_parse (context, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (xmp + json + csv != 1)
    {
      g_printerr ("%s\n", _ ("depict-cli export: choose one of --xmp, --json or --csv."));
      return 2;
    }
  if (overwrite && !xmp)
    {
      g_printerr ("%s\n", _ ("depict-cli export: --overwrite-original goes with --xmp."));
      return 2;
    }
  if (min_confidence != NULL && !xmp)
    {
      g_printerr ("%s\n", _ ("depict-cli export: --min-confidence goes with --xmp."));
      return 2;
    }
  if (min_confidence != NULL && !cli_gallery_parse_confidence (min_confidence, &min_score, &error))
    {
      g_printerr ("depict-cli export: %s\n", error->message);
      return 2;
    }
  /* Writing into originals records their new size and time in the gallery. */
  store = cli_gallery_open (db_path, !overwrite, &error);
  if (store == NULL)
    return cli_fail (g_steal_pointer (&error));
  if (xmp)
    {
      g_autoptr (GPtrArray) targets = NULL;
      guint files = 0;

      /* Exactly the files named (or found below a folder named): never another copy of the
       * same photo elsewhere. */
      targets = cli_gallery_select_paths (store, argv + 1, argc - 1, &error);
      if (targets == NULL)
        return cli_fail (g_steal_pointer (&error));
      for (guint i = 0; i < targets->len; i++)
        {
          CliImagePath *target = g_ptr_array_index (targets, i);
          const char *one[] = { target->path, NULL };
          guint written = 0;

          if (!gallery_export_xmp_confident (
                store, target->image_id, target->path != NULL ? one : NULL,
                overwrite ? GALLERY_EXPORT_OVERWRITE_ORIGINAL : GALLERY_EXPORT_FLAGS_NONE,
                min_score, &written, &error))
            return cli_fail (g_steal_pointer (&error));
          files += written;
        }
      g_printerr (g_dngettext (GETTEXT_PACKAGE, "Wrote the metadata of %u file.\n",
                               "Wrote the metadata of %u files.\n", files),
                  files);
      return 0;
    }
  else
    {
      g_autoptr (GOutputStream) memory = g_memory_output_stream_new_resizable ();
      gboolean ok;

      ids = cli_gallery_select_images (store, argv + 1, argc - 1, &error);
      if (ids == NULL)
        return cli_fail (g_steal_pointer (&error));
      ok = json ? gallery_export_json (store, ids, memory, NULL, &error)
                : gallery_export_csv (store, ids, memory, NULL, &error);
      if (!ok || !g_output_stream_close (memory, NULL, &error) ||
          !cli_gallery_write_output (
            output, g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (memory)),
            g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (memory)), &error))
        return cli_fail (g_steal_pointer (&error));
      return 0;
    }
}
