/* cli-search.c: depict-cli search — find photos in the gallery by what is in them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>

#include "cli-gallery.h"
#include "cli-options.h"
#include "depict-cli.h"
#include "gallery/gallery-search.h"
#include "gallery/gallery-tagger.h"

int
cli_search_main (int argc, char **argv)
{
  g_autofree char *tag = NULL;
  g_autofree char *task = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *since = NULL;
  g_autofree char *until = NULL;
  g_autofree char *db_path = NULL;
  g_autofree char *min_confidence = NULL;
  int limit = 50;
  gboolean json = FALSE, prefix = FALSE, by_confidence = FALSE;
  GOptionEntry entries[] = {
    { "tag", 0, 0, G_OPTION_ARG_STRING, &tag, N_ ("Only photos with this tag"), N_ ("TAG") },
    { "task", 't', 0, G_OPTION_ARG_STRING, &task,
      N_ ("Only photos with a result of this task (caption, od, ocr, …)"), N_ ("TASK") },
    { "folder", 0, 0, G_OPTION_ARG_FILENAME, &folder, N_ ("Only photos below this folder"),
      N_ ("DIR") },
    { "since", 0, 0, G_OPTION_ARG_STRING, &since, N_ ("Only photos with results from this date on"),
      N_ ("YYYY-MM-DD") },
    { "until", 0, 0, G_OPTION_ARG_STRING, &until,
      N_ ("Only photos with results from before this date"), N_ ("YYYY-MM-DD") },
    { "prefix", 0, 0, G_OPTION_ARG_NONE, &prefix,
      N_ ("The last word also matches longer words (“bak” finds “bakery”)"), NULL },
    { "min-confidence", 0, 0, G_OPTION_ARG_STRING, &min_confidence,
      N_ ("Only photos whose tags for the search the model is at least this sure of, from 0 to "
          "1"),
      N_ ("SCORE") },
    { "by-confidence", 0, 0, G_OPTION_ARG_NONE, &by_confidence,
      N_ ("The photos whose tags for the search the model is surest of first"), NULL },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, N_ ("At most this many photos (default 50)"),
      N_ ("N") },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json,
      N_ ("Print the hits as JSON Lines, one object per photo"), NULL },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db_path,
      N_ ("The gallery database (default $XDG_DATA_HOME/depict/gallery.db)"), N_ ("PATH") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_ ("[QUERY…]"));
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = NULL;
  g_autoptr (GPtrArray) hits = NULL;
  g_autofree char *text = NULL;
  GalleryQuery query = { 0 };

  g_option_context_set_summary (context, _ ("Finds photos by their captions, the text in them, "
                                            "their objects and tags. Best matches first."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!cli_options_parse (context, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (argc < 2 && tag == NULL && task == NULL && folder == NULL && since == NULL && until == NULL &&
      min_confidence == NULL)
    {
      g_printerr ("%s\n", _ ("depict-cli search: give words to look for, or a filter such as "
                             "--tag. See --help."));
      return 2;
    }
  if (limit < 1)
    {
      g_printerr ("%s\n", _ ("depict-cli search: --limit must be at least 1."));
      return 2;
    }
  text = argc > 1 ? g_strjoinv (" ", argv + 1) : NULL;
  query.text = text;
  query.tag = tag;
  query.folder = folder;
  query.prefix_last = prefix;
  query.limit = (guint) limit;
  query.check_files = TRUE; /* a photo deleted since is not offered */
  query.order_by_confidence = by_confidence;
  if (min_confidence != NULL &&
      !cli_gallery_parse_confidence (min_confidence, &query.min_confidence, &error))
    {
      g_printerr ("depict-cli search: %s\n", error->message);
      return 2;
    }
  if (task != NULL && (query.task = gallery_tagger_task_token (task)) == NULL)
    {
      g_printerr (_ ("depict-cli search: “%s” is not a task. Use a name such as caption, od or "
                     "ocr.\n"),
                  task);
      return 2;
    }
  if ((since != NULL && !cli_gallery_parse_date (since, &query.since, &error)) ||
      (until != NULL && !cli_gallery_parse_date (until, &query.until, &error)))
    return cli_fail (g_steal_pointer (&error));

  store = cli_gallery_open (db_path, TRUE, &error);
  if (store == NULL)
    return cli_fail (g_steal_pointer (&error));
  hits = gallery_search_run (store, &query, &error);
  if (hits == NULL)
    return cli_fail (g_steal_pointer (&error));

  if (json)
    {
      for (guint i = 0; i < hits->len; i++)
        {
          GalleryHit *hit = g_ptr_array_index (hits, i);
          g_autoptr (JsonBuilder) b = json_builder_new ();
          g_autoptr (JsonNode) line = NULL;

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "version");
          json_builder_add_int_value (b, 1);
          json_builder_set_member_name (b, "path");
          json_builder_add_string_value (b, hit->path);
          json_builder_set_member_name (b, "hash");
          json_builder_add_string_value (b, hit->hash);
          json_builder_set_member_name (b, "score");
          json_builder_add_double_value (b, hit->score);
          json_builder_set_member_name (b, "snippet");
          json_builder_add_string_value (b, hit->snippet);
          json_builder_set_member_name (b, "caption");
          json_builder_add_string_value (b, hit->caption);
          if (!isnan (hit->confidence))
            {
              json_builder_set_member_name (b, "confidence");
              json_builder_add_double_value (b, hit->confidence);
            }
          json_builder_end_object (b);
          line = json_builder_get_root (b);
          cli_print_json_line (line);
        }
      return 0;
    }
  for (guint i = 0; i < hits->len; i++)
    {
      GalleryHit *hit = g_ptr_array_index (hits, i);

      printf ("%s\n", cli_gallery_safe (stdout, hit->path));
      if (hit->snippet[0] != '\0')
        printf ("    %s\n", cli_gallery_safe (stdout, hit->snippet));
      else if (hit->caption[0] != '\0')
        printf ("    %s\n", cli_gallery_safe (stdout, hit->caption));
    }
  if (hits->len == 0)
    g_printerr ("%s\n", _ ("No photo matches. Try other words, or fewer filters."));
  return hits->len > 0 ? 0 : 1;
}
