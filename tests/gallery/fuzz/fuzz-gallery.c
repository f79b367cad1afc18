/* fuzz-gallery.c: arbitrary bytes as a gallery database (a file that claims to be a Depict
 * gallery but is damaged)
 *
 * The bytes become gallery.db in a private temporary folder, on tmpfs (/dev/shm) where there is
 * one, so that SQLite's syncs cost nothing. It is opened read-only, then
 * read-write; what opens is searched and listed (images, their runs and tags) and closed.
 * Nothing may crash, every failure is a GError with a message, and a file that was refused
 * must be left byte for byte as it was (the promise of gallery_store_open). A read-only
 * open never changes the file, refused or not. DEPICT_FUZZ_VERBOSE=1 says what each input gave.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gallery/gallery-search.h"
#include "gallery/gallery-store.h"

/* Images (and runs, tags) looked at per input: enough for the code paths, not for time. */
#define FUZZ_MAX_IMAGES 8

static char *fuzz_dir;
static char *fuzz_db;

static void
remove_side_files (void)
{
  static const char *const suffixes[] = { "-wal", "-shm", "-journal" };

  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *side = g_strconcat (fuzz_db, suffixes[i], NULL);
      g_unlink (side);
    }
}

static void
remove_temp_dir (void)
{
  remove_side_files ();
  g_unlink (fuzz_db);
  g_rmdir (fuzz_dir);
  g_clear_pointer (&fuzz_db, g_free);
  g_clear_pointer (&fuzz_dir, g_free);
}

/* The file's bytes are still data[size]. */
static void
check_unchanged (const uint8_t *data, size_t size)
{
  g_autofree char *now = NULL;
  gsize len = 0;

  FUZZ_CHECK (g_file_get_contents (fuzz_db, &now, &len, NULL));
  FUZZ_CHECK (len == size && (size == 0 || memcmp (now, data, size) == 0));
}

static void
exercise (GalleryStore *store)
{
  g_autoptr (GError) error = NULL;
  static const GalleryQuery queries[] = {
    { .text = "cat sofa", .prefix_last = TRUE },
    { .tag = "holiday" },
    { .task = "<OD>", .since = 1, .limit = 5 },
    { .text = "exit", .folder = "/", .offset = 1 },
  };

  for (gsize q = 0; q < G_N_ELEMENTS (queries); q++)
    {
      g_autoptr (GError) search_error = NULL;
      g_autoptr (GPtrArray) hits = gallery_search_run (store, &queries[q], &search_error);
      if (hits == NULL)
        FUZZ_CHECK_ERROR (search_error);
      else
        for (guint i = 0; i < hits->len; i++)
          {
            GalleryHit *hit = g_ptr_array_index (hits, i);
            FUZZ_CHECK (hit->snippet != NULL && hit->caption != NULL);
          }
    }

  if (gallery_store_count_runs (store, &error) < 0)
    {
      FUZZ_CHECK_ERROR (error);
      g_clear_error (&error);
    }

  g_autoptr (GPtrArray) images = gallery_store_list_images (store, NULL, &error);
  if (g_getenv ("DEPICT_FUZZ_VERBOSE") != NULL)
    g_printerr ("opened, %s\n", images != NULL ? "images listed" : error->message);
  if (images == NULL)
    {
      FUZZ_CHECK_ERROR (error);
      return;
    }
  for (guint i = 0; i < images->len && i < FUZZ_MAX_IMAGES; i++)
    {
      GalleryImage *image = g_ptr_array_index (images, i);
      g_autoptr (GError) item_error = NULL;

      FUZZ_CHECK (image->hash != NULL && image->paths != NULL);
      g_autoptr (GalleryImage) again = gallery_store_get_image (store, image->id, &item_error);
      if (again == NULL)
        FUZZ_CHECK_ERROR (item_error);
      g_clear_error (&item_error);

      g_autoptr (GPtrArray) runs = gallery_store_list_runs (store, image->id, &item_error);
      if (runs == NULL)
        FUZZ_CHECK_ERROR (item_error);
      g_clear_error (&item_error);

      g_autoptr (GPtrArray) tags = gallery_store_list_tags (store, image->id, TRUE, &item_error);
      if (tags == NULL)
        FUZZ_CHECK_ERROR (item_error);
      else
        for (guint t = 0; t < tags->len; t++)
          FUZZ_CHECK (((GalleryTag *) g_ptr_array_index (tags, t))->name != NULL);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;

  if (fuzz_dir == NULL)
    {
      fuzz_dir = fuzz_make_tmp_dir ("depict-fuzz-gallery-XXXXXX");
      if (fuzz_dir == NULL)
        abort ();
      fuzz_db = g_build_filename (fuzz_dir, "gallery.db", NULL);
      atexit (remove_temp_dir);
    }
  /* A critical (a library asked to do what it must not) is a finding too. */
  fuzz_abort_on_critical (NULL);
  remove_side_files ();
  fuzz_write_file (fuzz_db, data, size);

  /* Read-only: never a change. */
  {
    g_autoptr (GalleryStore) store =
      gallery_store_open_full (fuzz_db, GALLERY_STORE_READ_ONLY, &error);
    if (store == NULL)
      FUZZ_CHECK_ERROR (error);
    else
      exercise (store);
    g_clear_error (&error);
  }
  check_unchanged (data, size);
  remove_side_files ();

  GalleryStore *store = gallery_store_open (fuzz_db, &error);
  if (store == NULL && g_getenv ("DEPICT_FUZZ_VERBOSE") != NULL)
    g_printerr ("refused: %s\n", error->message);
  if (store == NULL)
    {
      FUZZ_CHECK_ERROR (error);
      check_unchanged (data, size);
      return 0;
    }
  exercise (store);
  gallery_store_close (store);
  return 0;
}
