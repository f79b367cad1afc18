/* cli-forget.c: depict-cli forget — remove from the gallery the photos whose files are gone
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "cli-gallery.h"
#include "cli-options.h"
#include "depict-cli.h"

int
cli_forget_main (int argc, char **argv)
{
  g_autofree char *db_path = NULL;
  gboolean missing = FALSE, dry_run = FALSE;
  GOptionEntry entries[] = {
    { "missing", 0, 0, G_OPTION_ARG_NONE, &missing,
      N_ ("Forget the photos none of whose files is left (deleted, or on a disk that is not "
          "connected)"),
      NULL },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run, N_ ("Only list what would be forgotten"),
      NULL },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db_path,
      N_ ("The gallery database (default $XDG_DATA_HOME/depict/gallery.db)"), N_ ("PATH") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = NULL;
  g_autoptr (GPtrArray) images = NULL;
  guint gone = 0, n_images = 0, n_paths = 0;

  g_option_context_set_summary (context,
                                _ ("Looks at every file the gallery knows and forgets the photos "
                                   "whose files are all gone, with their results and tags. "
                                   "Their other paths that are gone go too."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!cli_options_parse (context, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (!missing || argc > 1)
    {
      g_printerr ("%s\n", _ ("depict-cli forget: say what to forget: --missing. See --help."));
      return 2;
    }

  store = cli_gallery_open (db_path, FALSE, &error);
  if (store == NULL || !gallery_store_check_files (store, NULL, &gone, NULL, &error) ||
      (images = gallery_store_list_missing (store, &error)) == NULL)
    return cli_fail (g_steal_pointer (&error));

  for (guint i = 0; i < images->len; i++)
    {
      GalleryImage *image = g_ptr_array_index (images, i);

      cli_print_path (stdout, image->paths[0] != NULL ? image->paths[0] : image->hash);
      putchar ('\n');
    }
  fflush (stdout);
  if (dry_run)
    {
      g_printerr (g_dngettext (GETTEXT_PACKAGE,
                               "%u photo would be forgotten: none of its files is left "
                               "(missing paths: %u). Run again without --dry-run to forget "
                               "it.\n",
                               "%u photos would be forgotten: none of their files is left "
                               "(missing paths: %u). Run again without --dry-run to forget "
                               "them.\n",
                               images->len),
                  images->len, gone);
      return 0;
    }
  if (!gallery_store_forget_missing (store, &n_images, &n_paths, &error))
    return cli_fail (g_steal_pointer (&error));
  g_printerr (g_dngettext (GETTEXT_PACKAGE,
                           "Forgot %u photo whose files are gone (other missing paths "
                           "forgotten: %u).\n",
                           "Forgot %u photos whose files are gone (other missing paths "
                           "forgotten: %u).\n",
                           n_images),
              n_images, n_paths);
  return 0;
}
