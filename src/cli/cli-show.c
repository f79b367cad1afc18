/* cli-show.c: depict-cli show — everything the gallery knows about a photo
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <stdio.h>

#include "cli-gallery.h"
#include "cli-options.h"
#include "depict-cli.h"
#include "gallery/gallery-export.h"
#include "gallery/gallery-result.h"

#define SAFE(text) cli_gallery_safe (stdout, text)

static void
print_image (GalleryImage *image, GPtrArray *tags, GPtrArray *runs)
{
  for (guint i = 0; image->paths[i] != NULL; i++)
    printf ("%s\n", SAFE (image->paths[i]));
  if (image->missing)
    printf ("%s\n", _ ("  (none of its files is left: depict-cli forget --missing removes it)"));
  printf (_ ("  SHA-256  %s\n"), image->hash);
  printf (_ ("  size     %" PRId64 " bytes, %d×%d pixels, orientation %d\n"), image->size,
          image->width, image->height, image->orientation);
  printf ("%s", _ ("  tags    "));
  for (guint i = 0; i < tags->len; i++)
    {
      GalleryTag *tag = g_ptr_array_index (tags, i);

      printf (" %s%s", SAFE (tag->name), i + 1 < tags->len ? "," : "");
    }
  printf ("\n");
  for (guint i = 0; i < runs->len; i++)
    {
      GalleryRun *run = g_ptr_array_index (runs, i);
      g_autoptr (GalleryResultText) text = gallery_result_extract (run->task, run->result);
      g_autoptr (GDateTime) when = g_date_time_new_from_unix_local (run->created);
      g_autofree char *date = when != NULL ? g_date_time_format (when, "%Y-%m-%d %H:%M") : NULL;

      printf ("  %s  %s%s%s  (%s, %d beams, %s)\n", date != NULL ? date : "", SAFE (run->task),
              run->text_input[0] != '\0' ? " " : "", SAFE (run->text_input), SAFE (run->model_name),
              run->num_beams, SAFE (run->weights_hash));
      if (text->caption[0] != '\0')
        printf ("      %s\n", SAFE (text->caption));
      if (text->ocr[0] != '\0')
        printf ("      %s\n", SAFE (text->ocr));
      if (text->labels[0] != '\0')
        printf ("      %s\n", SAFE (text->labels));
    }
}

int
cli_show_main (int argc, char **argv)
{
  g_autofree char *db_path = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json,
      N_ ("Print everything stored as JSON, one line per photo (results, token ids, "
          "timings)"),
      NULL },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db_path,
      N_ ("The gallery database (default $XDG_DATA_HOME/depict/gallery.db)"), N_ ("PATH") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_ ("IMAGE…"));
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = NULL;

  g_option_context_set_summary (context, _ ("Shows what the gallery knows about photos: their "
                                            "paths, tags and every result. IMAGE is a path or "
                                            "the start of a SHA-256."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!cli_options_parse (context, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (argc < 2)
    {
      g_printerr ("%s\n", _ ("depict-cli show: give a photo. See --help."));
      return 2;
    }
  store = cli_gallery_open (db_path, TRUE, &error);
  if (store == NULL)
    return cli_fail (g_steal_pointer (&error));

  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GalleryImage) image = gallery_store_find_image (store, argv[i], &error);
      g_autoptr (GPtrArray) tags = NULL;
      g_autoptr (GPtrArray) runs = NULL;

      if (image == NULL)
        return cli_fail (g_steal_pointer (&error));
      if (json)
        {
          g_autoptr (JsonNode) node = gallery_export_image_json (store, image->id, &error);

          if (node == NULL)
            return cli_fail (g_steal_pointer (&error));
          cli_print_json_line (node);
          continue;
        }
      if ((tags = gallery_store_list_tags (store, image->id, FALSE, &error)) == NULL ||
          (runs = gallery_store_list_runs (store, image->id, &error)) == NULL)
        return cli_fail (g_steal_pointer (&error));
      print_image (image, tags, runs);
    }
  return 0;
}
