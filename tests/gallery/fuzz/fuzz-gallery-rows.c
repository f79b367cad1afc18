/* fuzz-gallery-rows.c: arbitrary text in a stored run's row, read back the way the gallery reads
 * it (gallery_store_list_runs: token ids and the result and timings JSON through the JSON
 * guard), then through what `show`, `search` and `export` do with it (gallery_result_read,
 * gallery_result_extract, gallery_export_image_json, gallery_export_csv)
 *
 * Input: the row's text columns separated by NUL bytes, in this order: task, text_input,
 * raw_text, token_ids, result, timings; a missing field is empty. One gallery (on tmpfs when
 * there is one, so that commits cost no disk) holds one picture; each input replaces its only
 * run. Nothing may crash or log a critical; every string read back is valid UTF-8; what the
 * gallery exports as JSON passes the JSON guard (Depict reads back what it writes).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "florence/files/florence-json.h"
#include "fuzz.h"
#include "gallery/gallery-export.h"
#include "gallery/gallery-result.h"
#include "gallery/gallery-store-private.h"
#include "gallery/gallery-store.h"

#define N_FIELDS 6

static GalleryStore *store;
static gint64 image_id;
static char *fuzz_dir;

static void
remove_temp_dir (void)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  g_clear_pointer (&store, gallery_store_close);
  dir = g_dir_open (fuzz_dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fuzz_dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (fuzz_dir);
}

static void
open_store (void)
{
  g_autofree char *db = NULL;
  g_autofree char *photo = NULL;
  g_autofree char *png = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  fuzz_dir = fuzz_make_tmp_dir ("depict-fuzz-rows-XXXXXX");
  db = g_build_filename (fuzz_dir, "gallery.db", NULL);
  photo = g_build_filename (fuzz_dir, "photo.png", NULL);
  png = g_build_filename (FUZZ_TEST_DATA, "preprocess", "images", "strip_50x3.png", NULL);
  {
    g_autofree char *data = NULL;
    if (!g_file_get_contents (png, &data, &len, &error) ||
        !g_file_set_contents (photo, data, (gssize) len, &error))
      {
        g_printerr ("%s\n", error->message);
        abort ();
      }
  }
  store = gallery_store_open (db, &error);
  if (store == NULL || (image_id = gallery_store_add_image (store, photo, NULL, &error)) == 0)
    {
      g_printerr ("%s\n", error->message);
      abort ();
    }
  atexit (remove_temp_dir);
}

/* Replaces the picture's runs by one row holding fields (NUL-terminated texts). */
static void
store_row (char *const *fields)
{
  static const char sql[] =
    "INSERT INTO runs (image_id, task, text_input, model_name, weights_hash, num_beams,"
    " max_new_tokens, raw_text, token_ids, result, timings, created)"
    " VALUES (?1, ?2, ?3, 'fuzz', 'ab', 3, 1024, ?4, ?5, ?6, ?7, 1)";
  g_autoptr (GError) error = NULL;
  sqlite3_stmt *stmt;

  if (!gallery_store_exec (store, "DELETE FROM runs", &error) ||
      (stmt = gallery_store_prepare (store, sql, &error)) == NULL)
    {
      g_printerr ("%s\n", error->message);
      abort ();
    }
  sqlite3_bind_int64 (stmt, 1, image_id);
  for (int i = 0; i < N_FIELDS; i++)
    sqlite3_bind_text (stmt, i + 2, fields[i], -1, SQLITE_TRANSIENT);
  if (!gallery_store_step_done (store, stmt, &error))
    {
      g_printerr ("%s\n", error->message);
      abort ();
    }
}

static void
check_utf8 (const char *s)
{
  FUZZ_CHECK (s == NULL || g_utf8_validate (s, -1, NULL));
}

static void
read_back (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) runs = gallery_store_list_runs (store, image_id, &error);

  if (runs == NULL)
    {
      FUZZ_CHECK_ERROR (error);
      return;
    }
  for (guint i = 0; i < runs->len; i++)
    {
      GalleryRun *run = g_ptr_array_index (runs, i);
      g_autoptr (GError) result_error = NULL;
      g_autoptr (FlorenceResult) typed =
        run->result != NULL ? gallery_result_read (run->task, run->result, 50, 3, &result_error)
                            : NULL;
      g_autoptr (GalleryResultText) text = gallery_result_extract (run->task, run->result);
      g_autoptr (GalleryRun) copy = gallery_run_copy (run);

      if (typed == NULL && run->result != NULL)
        FUZZ_CHECK_ERROR (result_error);
      else if (typed != NULL)
        {
          g_autofree char *json = florence_result_to_json (typed, FALSE);
          g_autoptr (GError) again = NULL;
          g_autoptr (FlorenceResult) back = florence_result_from_json (json, &again);
          FUZZ_CHECK (back != NULL);
        }
      check_utf8 (text->caption);
      check_utf8 (text->ocr);
      check_utf8 (text->labels);
      check_utf8 (run->task);
      check_utf8 (run->raw_text);
    }

  /* export --json: what Depict writes, it reads back */
  {
    g_autoptr (GError) export_error = NULL;
    g_autoptr (JsonNode) node = gallery_export_image_json (store, image_id, &export_error);

    if (node == NULL)
      FUZZ_CHECK_ERROR (export_error);
    else
      {
        g_autofree char *text = json_to_string (node, FALSE);
        g_autoptr (GError) check_error = NULL;
        if (!florence_json_check (text, -1, &check_error))
          {
            g_printerr ("the export is not JSON Depict reads: %s\n", check_error->message);
            abort ();
          }
      }
  }
  /* export --csv */
  {
    g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
    g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
    g_autoptr (GError) csv_error = NULL;

    g_array_append_val (ids, image_id);
    if (!gallery_export_csv (store, ids, out, NULL, &csv_error))
      FUZZ_CHECK_ERROR (csv_error);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *fields[N_FIELDS];
  gsize start = 0;

  fuzz_abort_on_critical (NULL);
  if (store == NULL)
    open_store ();
  for (int i = 0; i < N_FIELDS; i++)
    {
      const uint8_t *nul;
      gsize end;

      if (start >= size)
        {
          fields[i] = g_strdup ("");
          continue;
        }
      nul = memchr (data + start, 0, size - start);
      end = nul != NULL ? (gsize) (nul - data) : size;
      fields[i] = g_strndup ((const char *) data + start, end - start);
      start = end + 1;
    }
  store_row (fields);
  read_back ();
  for (int i = 0; i < N_FIELDS; i++)
    g_free (fields[i]);
  return 0;
}
