/* cli-gallery-merge.c: depict-cli gallery — work on whole galleries; "gallery merge" brings the
 * galleries of several computers (the tasks of a cluster job) into one
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "cli-gallery.h"
#include "cli-options.h"
#include "depict-cli.h"
#include "gallery/gallery-merge.h"

/* The subcommand (listed in cli-commands.h). */
int cli_gallery_main (int argc, char **argv);

static int
gallery_merge_main (int argc, char **argv)
{
  g_autofree char *into = NULL;
  g_auto (GStrv) maps = NULL;
  GOptionEntry entries[] = {
    { "into", 0, 0, G_OPTION_ARG_FILENAME, &into,
      N_ ("The gallery to merge into (made when it does not exist)"), N_ ("DST.db") },
    { "map-prefix", 0, 0, G_OPTION_ARG_STRING_ARRAY, &maps,
      N_ ("Store the paths below folder OLD of the sources below NEW (may be repeated)"),
      N_ ("OLD=NEW") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_ ("SRC.db…"));
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = NULL;
  GalleryMergeOptions options = { 0 };
  GalleryMergeSummary summary = { 0 };

  g_option_context_set_summary (
    context, _ ("Merges galleries into one, for example those the tasks of a cluster job wrote. "
                "Of two results of one photo with the same task, text input, weights and "
                "settings the newer stays; tags keep where they came from, and a tag removed in "
                "any gallery stays removed. Merging again changes nothing; an interrupted merge "
                "leaves the gallery as it was."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!cli_options_parse (context, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (into == NULL || argc < 2)
    {
      g_printerr ("%s\n", _ ("depict-cli gallery merge: give the galleries to merge and the one "
                             "to merge them into with --into. See --help."));
      return 2;
    }
  for (guint i = 0; maps != NULL && maps[i] != NULL; i++)
    if (!gallery_merge_check_prefix (maps[i], &error))
      {
        g_printerr ("depict-cli gallery merge: %s\n", error->message);
        return 2;
      }
  options.map_prefixes = (const char *const *) maps;

  store = cli_gallery_open (into, FALSE, &error);
  if (store == NULL || !gallery_store_check (store, &error) ||
      !gallery_merge (store, (const char *const *) argv + 1, &options, &summary, NULL, &error))
    {
      if (store != NULL)
        g_printerr ("%s\n", _ ("Nothing was merged: the gallery is as it was."));
      return cli_fail (g_steal_pointer (&error));
    }
  g_printerr (
    g_dngettext (GETTEXT_PACKAGE, "Merged %u gallery: ", "Merged %u galleries: ", summary.sources),
    summary.sources);
  g_printerr (_ ("%u new photos, %u new results, %u newer results, %u results already there, "
                 "%u paths.\n"),
              summary.images_added, summary.runs_added, summary.runs_replaced, summary.runs_kept,
              summary.paths_added);
  return 0;
}

int
cli_gallery_main (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "merge") == 0)
    return gallery_merge_main (argc - 1, argv + 1);
  if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
    {
      printf ("%s\n\n  merge  %s\n", _ ("Usage: depict-cli gallery COMMAND [OPTION…]"),
              _ ("Merge galleries into one (see depict-cli gallery merge --help)"));
      return 0;
    }
  g_printerr ("%s\n", _ ("depict-cli gallery: give a command: merge. See --help."));
  return 2;
}
