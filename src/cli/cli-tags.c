/* cli-tags.c: depict-cli tags — list and edit the tags of photos in the gallery
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli-gallery.h"
#include "cli-options.h"
#include "depict-cli.h"

static void
print_tags (const char *name, GPtrArray *tags, gboolean json)
{
  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "version");
      json_builder_add_int_value (b, 1);
      json_builder_set_member_name (b, "image");
      json_builder_add_string_value (b, name);
      json_builder_set_member_name (b, "tags");
      json_builder_begin_array (b);
      for (guint i = 0; i < tags->len; i++)
        gallery_tag_add_json (b, g_ptr_array_index (tags, i), TRUE);
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cli_print_json_line (root);
      return;
    }
  printf ("%s\n", cli_gallery_safe (stdout, name));
  for (guint i = 0; i < tags->len; i++)
    {
      GalleryTag *tag = g_ptr_array_index (tags, i);
      g_autofree char *score =
        isnan (tag->score) ? g_strdup ("") : g_strdup_printf (" %.2f", tag->score);

      printf ("  %-30s %s%s%s\n", cli_gallery_safe (stdout, tag->name),
              gallery_tag_source_to_string (tag->source), score,
              tag->removed ? _ (" (removed)") : "");
    }
}

int
cli_tags_main (int argc, char **argv)
{
  g_auto (GStrv) add_tags = NULL;
  g_auto (GStrv) remove_tags = NULL;
  g_auto (GStrv) rename_tags = NULL;
  g_autofree char *db_path = NULL;
  gboolean everywhere = FALSE, json = FALSE, removed = FALSE;
  GOptionEntry entries[] = {
    { "add", 'a', 0, G_OPTION_ARG_STRING_ARRAY, &add_tags, N_ ("Add a tag (may be repeated)"),
      N_ ("TAG") },
    { "remove", 'r', 0, G_OPTION_ARG_STRING_ARRAY, &remove_tags,
      N_ ("Remove a tag; it stays removed when the photo is tagged again"), N_ ("TAG") },
    { "rename", 0, 0, G_OPTION_ARG_STRING_ARRAY, &rename_tags, N_ ("Rename a tag"),
      N_ ("OLD=NEW") },
    { "everywhere", 0, 0, G_OPTION_ARG_NONE, &everywhere,
      N_ ("With --rename: on every photo that has the tag (no IMAGE needed)"), NULL },
    { "removed", 0, 0, G_OPTION_ARG_NONE, &removed, N_ ("Also list removed tags"), NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json,
      N_ ("Print the tags as JSON Lines, one object per photo"), NULL },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db_path,
      N_ ("The gallery database (default $XDG_DATA_HOME/depict/gallery.db)"), N_ ("PATH") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_ ("[IMAGE…]"));
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = NULL;
  gboolean edits;

  g_option_context_set_summary (context, _ ("Lists the tags of photos, with where each came "
                                            "from (label, grounding, user), and edits them."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!cli_options_parse (context, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  edits = add_tags != NULL || remove_tags != NULL || rename_tags != NULL;
  if (argc < 2 && !(everywhere && rename_tags != NULL && add_tags == NULL && remove_tags == NULL))
    {
      g_printerr ("%s\n", _ ("depict-cli tags: give a photo (or --rename OLD=NEW "
                             "--everywhere). See --help."));
      return 2;
    }
  for (guint i = 0; rename_tags != NULL && rename_tags[i] != NULL; i++)
    if (strchr (rename_tags[i], '=') == NULL)
      {
        g_printerr (_ ("depict-cli tags: write --rename as OLD=NEW, not “%s”.\n"), rename_tags[i]);
        return 2;
      }

  store = cli_gallery_open (db_path, !edits, &error);
  if (store == NULL)
    return cli_fail (g_steal_pointer (&error));

  if (everywhere)
    for (guint i = 0; rename_tags != NULL && rename_tags[i] != NULL; i++)
      {
        g_auto (GStrv) pair = g_strsplit (rename_tags[i], "=", 2);

        if (!gallery_store_rename_tag (store, 0, pair[0], pair[1], &error))
          return cli_fail (g_steal_pointer (&error));
      }

  for (int a = 1; a < argc; a++)
    {
      g_autoptr (GalleryImage) image = gallery_store_find_image (store, argv[a], &error);
      g_autoptr (GPtrArray) tags = NULL;

      if (image == NULL)
        return cli_fail (g_steal_pointer (&error));
      /* All edits of one photo together: either all are saved, or none. */
      if (edits && !gallery_store_begin (store, &error))
        return cli_fail (g_steal_pointer (&error));
      for (guint i = 0; add_tags != NULL && add_tags[i] != NULL; i++)
        if (!gallery_store_add_tag (store, image->id, add_tags[i], &error))
          goto fail;
      for (guint i = 0; remove_tags != NULL && remove_tags[i] != NULL; i++)
        if (!gallery_store_remove_tag (store, image->id, remove_tags[i], &error))
          goto fail;
      for (guint i = 0; !everywhere && rename_tags != NULL && rename_tags[i] != NULL; i++)
        {
          g_auto (GStrv) pair = g_strsplit (rename_tags[i], "=", 2);

          if (!gallery_store_rename_tag (store, image->id, pair[0], pair[1], &error))
            goto fail;
        }
      if (edits && !gallery_store_commit (store, &error))
        return cli_fail (g_steal_pointer (&error));
      tags = gallery_store_list_tags (store, image->id, removed, &error);
      if (tags == NULL)
        return cli_fail (g_steal_pointer (&error));
      print_tags (image->paths[0] != NULL ? image->paths[0] : image->hash, tags, json);
      continue;

    fail:
      gallery_store_rollback (store);
      return cli_fail (g_steal_pointer (&error));
    }
  return 0;
}
