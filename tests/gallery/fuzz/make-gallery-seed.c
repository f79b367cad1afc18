/* make-gallery-seed.c: writes a small but complete Depict gallery (the store's own code:
 * images, paths, runs of several tasks, label/user/removed tags, full-text index) for the
 * seed corpus of fuzz-gallery; make-seeds.sh shrinks it and derives the other seeds.
 *
 *   make-gallery-seed DB IMAGE…
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <stdio.h>

#include "gallery/gallery-store.h"
#include "gallery-test-util.h"

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  static const char *const runs[][2] = {
    { "<MORE_DETAILED_CAPTION>",
      "{\"<MORE_DETAILED_CAPTION>\": \"A grey cat sleeps on a red sofa.\"}" },
    { "<OD>", "{\"<OD>\": {\"bboxes\": [[1, 2, 10, 11]], \"labels\": [\"cat\"]}}" },
    { "<OCR>", "{\"<OCR>\": \"EXIT 12\"}" },
  };

  if (argc < 3)
    {
      fprintf (stderr, "usage: make-gallery-seed DB IMAGE…\n");
      return 2;
    }
  g_autoptr (GalleryStore) store = gallery_store_open (argv[1], &error);
  if (store == NULL)
    goto fail;
  for (int i = 2; i < argc; i++)
    {
      gint64 id = gallery_store_add_image (store, argv[i], NULL, &error);
      if (id == 0)
        goto fail;
      for (gsize r = 0; r < G_N_ELEMENTS (runs) && r < (gsize) i; r++)
        {
          g_autoptr (GalleryRun) run = gt_make_run (runs[r][0], runs[r][1]);
          if (gallery_store_add_run (store, id, run, &error) == 0)
            goto fail;
        }
      if (!gallery_store_add_tag (store, id, "Holiday  Photos", &error))
        goto fail;
      if (i == 2 && (!gallery_store_remove_tag (store, id, "cat", &error) ||
                     !gallery_store_rename_tag (store, 0, "holiday photos", "holiday", &error)))
        goto fail;
    }
  return 0;

fail:
  fprintf (stderr, "make-gallery-seed: %s\n", error->message);
  return 1;
}
