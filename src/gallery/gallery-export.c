/* gallery-export.c: tags and captions into XMP sidecars; whole results as JSON or CSV
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gexiv2/gexiv2.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "gallery/gallery-export.h"
#include "gallery/gallery-result.h"
#include "gallery/gallery-store-private.h"

/* An empty XMP packet: what a new sidecar starts from. */
static const char empty_xmp[] =
  "<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
  "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
  " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
  " </rdf:RDF>\n"
  "</x:xmpmeta>\n"
  "<?xpacket end=\"w\"?>\n";

char *
gallery_export_sidecar_path (const char *photo_path)
{
  g_return_val_if_fail (photo_path != NULL, NULL);
  return g_strconcat (photo_path, ".xmp", NULL);
}

static gpointer
init_gexiv2 (gpointer data)
{
  gexiv2_initialize ();
  return NULL;
}

/* The captions of an image, latest first (from its stored runs). */
static GPtrArray *
collect_captions (GPtrArray *runs)
{
  GPtrArray *captions = g_ptr_array_new_with_free_func (g_free);

  for (guint i = runs->len; i-- > 0;)
    {
      GalleryRun *run = g_ptr_array_index (runs, i);
      g_autoptr (GalleryResultText) text = gallery_result_extract (run->task, run->result);

      if (text->caption[0] != '\0')
        g_ptr_array_add (captions, g_strdup (text->caption));
    }
  return captions;
}

static gboolean
strv_contains_str (GPtrArray *array, const char *s)
{
  for (guint i = 0; i < array->len; i++)
    if (g_strcmp0 (g_ptr_array_index (array, i), s) == 0)
      return TRUE;
  return FALSE;
}

/* Existing keywords (from other programs too) + our tags − the tags removed in Depict. */
static GPtrArray *
merge_keywords (GExiv2Metadata *metadata, const char *key, GPtrArray *tags)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) existing = gexiv2_metadata_try_get_tag_multiple (metadata, key, NULL);

  for (guint i = 0; existing != NULL && existing[i] != NULL; i++)
    {
      g_autofree char *normalized = gallery_tag_normalize (existing[i]);
      gboolean removed = FALSE;

      for (guint t = 0; t < tags->len && normalized != NULL; t++)
        {
          GalleryTag *tag = g_ptr_array_index (tags, t);

          removed = removed || (tag->removed && strcmp (tag->name, normalized) == 0);
        }
      if (!removed && !strv_contains_str (out, existing[i]))
        g_ptr_array_add (out, g_strdup (existing[i]));
    }
  for (guint t = 0; t < tags->len; t++)
    {
      GalleryTag *tag = g_ptr_array_index (tags, t);
      gboolean present = FALSE;

      if (tag->removed)
        continue;
      for (guint i = 0; i < out->len && !present; i++)
        {
          g_autofree char *normalized = gallery_tag_normalize (g_ptr_array_index (out, i));

          present = g_strcmp0 (normalized, tag->name) == 0;
        }
      if (!present)
        g_ptr_array_add (out, g_strdup (tag->name));
    }
  g_ptr_array_add (out, NULL);
  return out;
}

/* Plain text of an XMP lang-alt value ('lang="x-default" text' → "text"). */
static char *
description_text (GExiv2Metadata *metadata)
{
  g_autofree char *value =
    gexiv2_metadata_try_get_tag_string (metadata, "Xmp.dc.description", NULL);

  if (value == NULL)
    return NULL;
  if (g_str_has_prefix (value, "lang=\""))
    {
      const char *end = strstr (value + 6, "\" ");

      if (end != NULL)
        return g_strdup (end + 2);
    }
  return g_steal_pointer (&value);
}

static gboolean
apply_metadata (GExiv2Metadata *metadata, GPtrArray *tags, GPtrArray *captions, GError **error)
{
  g_autoptr (GPtrArray) subject = merge_keywords (metadata, "Xmp.dc.subject", tags);
  g_autoptr (GPtrArray) keywords = merge_keywords (metadata, "Iptc.Application2.Keywords", tags);
  g_autofree char *description = description_text (metadata);

  gexiv2_metadata_try_clear_tag (metadata, "Xmp.dc.subject", NULL);
  if (subject->len > 1 && !gexiv2_metadata_try_set_tag_multiple (
                            metadata, "Xmp.dc.subject", (const char **) subject->pdata, error))
    return FALSE;
  gexiv2_metadata_try_clear_tag (metadata, "Iptc.Application2.Keywords", NULL);
  if (keywords->len > 1 &&
      !gexiv2_metadata_try_set_tag_multiple (metadata, "Iptc.Application2.Keywords",
                                             (const char **) keywords->pdata, error))
    return FALSE;
  /* The caption replaces an empty description or one Depict wrote, never a person's. */
  if (captions->len > 0 &&
      (description == NULL || description[0] == '\0' ||
       strv_contains_str (captions, description)) &&
      !gexiv2_metadata_try_set_tag_string (metadata, "Xmp.dc.description",
                                           g_ptr_array_index (captions, 0), error))
    return FALSE;
  return TRUE;
}

/* Flushes a written file to the disk, so that the rename that follows never leaves an empty
 * file behind after a crash. */
static gboolean
sync_file (const char *path, GError **error)
{
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  int saved_errno;

  if (fd >= 0 && fsync (fd) == 0)
    {
      close (fd);
      return TRUE;
    }
  saved_errno = errno;
  if (fd >= 0)
    close (fd);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "%s",
               g_strerror (saved_errno));
  return FALSE;
}

/* Writes target through a temporary file in the same folder, renamed over it at the end. */
static gboolean
write_one (const char *photo, gboolean into_original, GPtrArray *tags, GPtrArray *captions,
           GError **error)
{
  g_autofree char *target = into_original ? g_strdup (photo) : gallery_export_sidecar_path (photo);
  g_autofree char *dir = g_path_get_dirname (target);
  g_autofree char *base = g_path_get_basename (target);
  g_autofree char *tmpl = g_strdup_printf (".%s.XXXXXX", base);
  g_autofree char *temp = NULL;
  g_autoptr (GExiv2Metadata) metadata = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  GStatBuf st;
  int fd;

  temp = g_build_filename (dir, tmpl, NULL);
  fd = g_mkstemp_full (temp, O_RDWR, 0644);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _ ("Could not write next to “%s” (%s). Check that its folder is writable."),
                   photo, g_strerror (saved_errno));
      return FALSE;
    }
  close (fd);

  /* Start from the current file (sidecar or photo), or an empty packet. */
  if (g_file_test (target, G_FILE_TEST_IS_REGULAR))
    {
      if (!g_file_get_contents (target, &contents, &length, &local_error))
        goto fail;
    }
  else
    {
      contents = g_strdup (empty_xmp);
      length = strlen (empty_xmp);
    }
  if (!g_file_set_contents (temp, contents, length, &local_error))
    goto fail;
  if (into_original && g_stat (target, &st) == 0)
    g_chmod (temp, st.st_mode & 07777);

  metadata = gexiv2_metadata_new ();
  if (!gexiv2_metadata_open_path (metadata, temp, &local_error) ||
      !apply_metadata (metadata, tags, captions, &local_error) ||
      !gexiv2_metadata_save_file (metadata, temp, &local_error) || !sync_file (temp, &local_error))
    goto fail;
  if (g_rename (temp, target) != 0)
    {
      int saved_errno = errno;

      g_set_error (&local_error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "%s",
                   g_strerror (saved_errno));
      goto fail;
    }
  return TRUE;

fail:
  g_unlink (temp);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
               _ ("Could not write the metadata of “%s” to “%s” (%s). The file was left as it "
                  "was; check that it is readable and its folder writable."),
               photo, target, local_error != NULL ? local_error->message : "");
  return FALSE;
}

gboolean
gallery_export_xmp_paths (GalleryStore *store, gint64 image_id, const char *const *paths,
                          GalleryExportFlags flags, guint *out_written, GError **error)
{
  return gallery_export_xmp_confident (store, image_id, paths, flags, 0.0, out_written, error);
}

gboolean
gallery_export_xmp_confident (GalleryStore *store, gint64 image_id, const char *const *paths,
                              GalleryExportFlags flags, double min_confidence, guint *out_written,
                              GError **error)
{
  static GOnce once = G_ONCE_INIT;
  g_autoptr (GalleryImage) image = NULL;
  g_autoptr (GPtrArray) tags = NULL;
  g_autoptr (GPtrArray) runs = NULL;
  g_autoptr (GPtrArray) captions = NULL;
  gboolean into_original = (flags & GALLERY_EXPORT_OVERWRITE_ORIGINAL) != 0;
  guint written = 0;

  g_return_val_if_fail (store != NULL, FALSE);

  g_once (&once, init_gexiv2, NULL);
  if (out_written != NULL)
    *out_written = 0;
  if ((image = gallery_store_get_image (store, image_id, error)) == NULL ||
      (tags = gallery_store_list_tags (store, image_id, TRUE, error)) == NULL ||
      (runs = gallery_store_list_runs (store, image_id, error)) == NULL)
    return FALSE;
  captions = collect_captions (runs);
  /* a tag the model is not sure enough of is not written (what the file has stays) */
  for (guint i = tags->len; i-- > 0;)
    {
      GalleryTag *tag = g_ptr_array_index (tags, i);
      if (!tag->removed && gallery_tag_confidence (tag) < min_confidence)
        g_ptr_array_remove_index (tags, i);
    }

  for (guint i = 0; (paths != NULL ? paths : (const char *const *) image->paths)[i] != NULL; i++)
    {
      const char *photo = (paths != NULL ? paths : (const char *const *) image->paths)[i];

      /* Of all its paths, one where the photo is no longer found (moved away) is skipped; a
       * path named by the caller must be there. */
      if (!g_file_test (photo, G_FILE_TEST_IS_REGULAR))
        {
          if (paths == NULL)
            continue;
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       _ ("“%s” is not there any more, so its metadata was not written. Check the "
                          "path."),
                       photo);
          return FALSE;
        }
      if (!write_one (photo, into_original, tags, captions, error))
        return FALSE;
      if (into_original && !gallery_store_refresh_path (store, image_id, photo, error))
        return FALSE;
      written++;
    }
  if (out_written != NULL)
    *out_written = written;
  return TRUE;
}

gboolean
gallery_export_xmp (GalleryStore *store, gint64 image_id, GalleryExportFlags flags,
                    guint *out_written, GError **error)
{
  return gallery_export_xmp_paths (store, image_id, NULL, flags, out_written, error);
}

/* ------------------------------------------------------------------------------------------ */
/* JSON and CSV                                                                                */

static char *
format_time (gint64 unix_seconds)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (unix_seconds);

  return time != NULL ? g_date_time_format_iso8601 (time) : g_strdup ("");
}

JsonNode *
gallery_export_image_json (GalleryStore *store, gint64 image_id, GError **error)
{
  g_autoptr (GalleryImage) image = NULL;
  g_autoptr (GPtrArray) tags = NULL;
  g_autoptr (GPtrArray) runs = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *added = NULL;

  g_return_val_if_fail (store != NULL, NULL);

  if ((image = gallery_store_get_image (store, image_id, error)) == NULL ||
      (tags = gallery_store_list_tags (store, image_id, FALSE, error)) == NULL ||
      (runs = gallery_store_list_runs (store, image_id, error)) == NULL)
    return NULL;

  added = format_time (image->added);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "hash");
  json_builder_add_string_value (b, image->hash);
  json_builder_set_member_name (b, "pixels");
  if (image->pixels != NULL)
    json_builder_add_string_value (b, image->pixels);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "missing");
  json_builder_add_boolean_value (b, image->missing);
  json_builder_set_member_name (b, "paths");
  json_builder_begin_array (b);
  for (guint i = 0; image->paths[i] != NULL; i++)
    json_builder_add_string_value (b, image->paths[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, image->size);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, image->width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, image->height);
  json_builder_set_member_name (b, "orientation");
  json_builder_add_int_value (b, image->orientation);
  json_builder_set_member_name (b, "added");
  json_builder_add_string_value (b, added);
  json_builder_set_member_name (b, "tags");
  json_builder_begin_array (b);
  for (guint i = 0; i < tags->len; i++)
    gallery_tag_add_json (b, g_ptr_array_index (tags, i), FALSE);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "runs");
  json_builder_begin_array (b);
  for (guint i = 0; i < runs->len; i++)
    {
      GalleryRun *run = g_ptr_array_index (runs, i);
      g_autofree char *created = format_time (run->created);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "task");
      json_builder_add_string_value (b, run->task);
      json_builder_set_member_name (b, "text_input");
      json_builder_add_string_value (b, run->text_input);
      json_builder_set_member_name (b, "model");
      json_builder_add_string_value (b, run->model_name);
      json_builder_set_member_name (b, "weights_hash");
      json_builder_add_string_value (b, run->weights_hash);
      json_builder_set_member_name (b, "num_beams");
      json_builder_add_int_value (b, run->num_beams);
      json_builder_set_member_name (b, "max_new_tokens");
      json_builder_add_int_value (b, run->max_new_tokens);
      json_builder_set_member_name (b, "created");
      json_builder_add_string_value (b, created);
      json_builder_set_member_name (b, "raw_text");
      json_builder_add_string_value (b, run->raw_text);
      json_builder_set_member_name (b, "token_ids");
      json_builder_begin_array (b);
      for (guint k = 0; run->token_ids != NULL && k < run->token_ids->len; k++)
        json_builder_add_int_value (b, g_array_index (run->token_ids, gint32, k));
      json_builder_end_array (b);
      json_builder_set_member_name (b, "result");
      json_builder_add_value (b, run->result != NULL ? json_node_copy (run->result)
                                                     : json_node_new (JSON_NODE_NULL));
      json_builder_set_member_name (b, "timings");
      json_builder_add_value (b, run->timings != NULL ? json_node_copy (run->timings)
                                                      : json_node_new (JSON_NODE_NULL));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gboolean
write_string (GOutputStream *out, const char *s, GCancellable *cancellable, GError **error)
{
  return g_output_stream_write_all (out, s, strlen (s), NULL, cancellable, error);
}

gboolean
gallery_export_json (GalleryStore *store, GArray *image_ids, GOutputStream *out,
                     GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (image_ids != NULL, FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (out), FALSE);

  for (guint i = 0; i < image_ids->len; i++)
    {
      g_autoptr (JsonNode) node =
        gallery_export_image_json (store, g_array_index (image_ids, gint64, i), error);
      g_autofree char *text = NULL;

      if (node == NULL)
        return FALSE;
      text = json_to_string (node, FALSE);
      if (!write_string (out, text, cancellable, error) ||
          !write_string (out, "\n", cancellable, error))
        return FALSE;
    }
  return TRUE;
}

static void
csv_cell (GString *row, const char *value, gboolean text)
{
  if (row->len > 0)
    g_string_append_c (row, ',');
  if (value == NULL)
    value = "";
  g_string_append_c (row, '"');
  /* A cell a spreadsheet would run as a formula is shown as text. */
  if (text && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@'))
    g_string_append_c (row, '\'');
  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (row, '"');
      g_string_append_c (row, *p);
    }
  g_string_append_c (row, '"');
}

gboolean
gallery_export_csv (GalleryStore *store, GArray *image_ids, GOutputStream *out,
                    GCancellable *cancellable, GError **error)
{
  static const char header[] = "hash,path,task,text_input,model,weights_hash,num_beams,"
                               "max_new_tokens,created,text,labels,tags,result\r\n";

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (image_ids != NULL, FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (out), FALSE);

  if (!write_string (out, header, cancellable, error))
    return FALSE;
  for (guint i = 0; i < image_ids->len; i++)
    {
      gint64 id = g_array_index (image_ids, gint64, i);
      g_autoptr (GalleryImage) image = NULL;
      g_autoptr (GPtrArray) tags = NULL;
      g_autoptr (GPtrArray) runs = NULL;
      g_autoptr (GString) tag_list = g_string_new (NULL);

      if ((image = gallery_store_get_image (store, id, error)) == NULL ||
          (tags = gallery_store_list_tags (store, id, FALSE, error)) == NULL ||
          (runs = gallery_store_list_runs (store, id, error)) == NULL)
        return FALSE;
      for (guint t = 0; t < tags->len; t++)
        g_string_append_printf (tag_list, "%s%s", t > 0 ? "; " : "",
                                ((GalleryTag *) g_ptr_array_index (tags, t))->name);
      for (guint r = 0; r < runs->len; r++)
        {
          GalleryRun *run = g_ptr_array_index (runs, r);
          g_autoptr (GalleryResultText) text = gallery_result_extract (run->task, run->result);
          g_autoptr (GString) row = g_string_new (NULL);
          g_autofree char *beams = g_strdup_printf ("%d", run->num_beams);
          g_autofree char *tokens = g_strdup_printf ("%d", run->max_new_tokens);
          g_autofree char *created = format_time (run->created);
          g_autofree char *result =
            run->result != NULL ? json_to_string (run->result, FALSE) : g_strdup ("null");
          const char *body = text->caption[0] != '\0' ? text->caption : text->ocr;

          csv_cell (row, image->hash, FALSE);
          csv_cell (row, image->paths[0] != NULL ? image->paths[0] : "", TRUE);
          csv_cell (row, run->task, TRUE);
          csv_cell (row, run->text_input, TRUE);
          csv_cell (row, run->model_name, TRUE);
          csv_cell (row, run->weights_hash, FALSE);
          csv_cell (row, beams, FALSE);
          csv_cell (row, tokens, FALSE);
          csv_cell (row, created, FALSE);
          csv_cell (row, body, TRUE);
          csv_cell (row, text->labels, TRUE);
          csv_cell (row, tag_list->str, TRUE);
          csv_cell (row, result, TRUE);
          g_string_append (row, "\r\n");
          if (!write_string (out, row->str, cancellable, error))
            return FALSE;
        }
    }
  return TRUE;
}
