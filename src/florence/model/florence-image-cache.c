/* florence-image-cache.c: the features of the photos viewed last, kept for their next task
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/model/florence-image-cache.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct {
  char *path; /* canonical */
  guint64 size, mtime_ns, inode, device;
  FlorenceModelImage *image;
} Entry;

struct _FlorenceImageCache {
  FlorenceModel *model;
  guint64 budget;
  GQueue entries; /* Entry *, the one used last first */
};

static void
entry_free (Entry *e)
{
  g_free (e->path);
  florence_model_image_unref (e->image);
  g_free (e);
}

/* MemAvailable of /proc/meminfo, in bytes; 0 when unknown. */
static guint64
available_memory (void)
{
  g_autofree char *info = NULL;
  if (!g_file_get_contents ("/proc/meminfo", &info, NULL, NULL))
    return 0;
  const char *p = strstr (info, "MemAvailable:");
  return p != NULL ? g_ascii_strtoull (p + strlen ("MemAvailable:"), NULL, 10) * 1024 : 0;
}

FlorenceImageCache *
florence_image_cache_new (FlorenceModel *model, guint64 budget)
{
  g_return_val_if_fail (model != NULL, NULL);

  FlorenceImageCache *self = g_new0 (FlorenceImageCache, 1);
  self->model = model;
  if (budget == 0)
    {
      guint64 available = available_memory ();
      budget = available > 0 ? available / 16 : FLORENCE_IMAGE_CACHE_MIN_BYTES * 2;
      budget = CLAMP (budget, FLORENCE_IMAGE_CACHE_MIN_BYTES, FLORENCE_IMAGE_CACHE_MAX_BYTES);
    }
  self->budget = budget;
  g_queue_init (&self->entries);
  return self;
}

void
florence_image_cache_clear (FlorenceImageCache *self)
{
  g_return_if_fail (self != NULL);
  g_queue_clear_full (&self->entries, (GDestroyNotify) entry_free);
}

void
florence_image_cache_free (FlorenceImageCache *self)
{
  if (self == NULL)
    return;
  florence_image_cache_clear (self);
  g_free (self);
}

guint
florence_image_cache_get_n_photos (FlorenceImageCache *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->entries.length;
}

guint64
florence_image_cache_get_bytes (FlorenceImageCache *self)
{
  g_return_val_if_fail (self != NULL, 0);
  guint64 bytes = 0;
  for (GList *l = self->entries.head; l != NULL; l = l->next)
    bytes += florence_model_image_get_bytes (((Entry *) l->data)->image);
  return bytes;
}

guint64
florence_image_cache_get_budget (FlorenceImageCache *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->budget;
}

/* Within the budget: the pictures of all but the photo used last go (their features stay),
 * then the photos used least recently, never the last one. */
static void
trim (FlorenceImageCache *self)
{
  for (GList *l = self->entries.head != NULL ? self->entries.head->next : NULL; l != NULL;
       l = l->next)
    {
      Entry *e = l->data;
      if (florence_model_image_get_picture (e->image) != NULL)
        florence_model_image_drop_picture (e->image);
    }
  while (self->entries.length > 1 && (self->entries.length > FLORENCE_IMAGE_CACHE_MAX_PHOTOS ||
                                      florence_image_cache_get_bytes (self) > self->budget))
    entry_free (g_queue_pop_tail (&self->entries));
}

FlorenceModelImage *
florence_image_cache_get_file (FlorenceImageCache *self, const char *path, int image_size,
                               GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autofree char *canonical = g_canonicalize_filename (path, NULL);
  GStatBuf st;
  gboolean have_stat = g_stat (canonical, &st) == 0;
  GList *found = NULL;
  for (GList *l = self->entries.head; l != NULL; l = l->next)
    if (strcmp (((Entry *) l->data)->path, canonical) == 0)
      {
        found = l;
        break;
      }
  if (found != NULL)
    {
      Entry *e = found->data;
      gboolean same = have_stat && e->size == (guint64) st.st_size &&
                      e->mtime_ns == (guint64) st.st_mtim.tv_sec * G_GUINT64_CONSTANT (1000000000) +
                                       (guint64) st.st_mtim.tv_nsec &&
                      e->inode == (guint64) st.st_ino && e->device == (guint64) st.st_dev;
      g_queue_unlink (&self->entries, found);
      if (same && florence_model_image_can_run (e->image, image_size))
        {
          g_queue_push_head_link (&self->entries, found);
          trim (self);
          return florence_model_image_ref (e->image);
        }
      entry_free (e);
      g_list_free_1 (found);
    }

  FlorenceModelImage *image =
    florence_model_image_new_from_file (self->model, canonical, cancellable, error);
  if (image == NULL)
    return NULL;
  if (have_stat)
    {
      Entry *e = g_new0 (Entry, 1);
      e->path = g_steal_pointer (&canonical);
      e->size = (guint64) st.st_size;
      e->mtime_ns = (guint64) st.st_mtim.tv_sec * G_GUINT64_CONSTANT (1000000000) +
                    (guint64) st.st_mtim.tv_nsec;
      e->inode = (guint64) st.st_ino;
      e->device = (guint64) st.st_dev;
      e->image = florence_model_image_ref (image);
      g_queue_push_head (&self->entries, e);
      trim (self);
    }
  return image;
}
