/* gallery-pipeline.c: photos prepared ahead of the engine, for batch tagging
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "gallery/gallery-pipeline.h"

#include <glib/gi18n.h>
#include <string.h>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "image/image-thumbnail.h"
#include "image/image-thumbnail-cache.h"

/* How much lower than the engine the workers run (nice levels). */
#define WORKER_NICE 5
/* Most decoding threads, whatever the number of cores. */
#define MAX_WORKERS 6

typedef struct {
  GalleryPhoto *photo;
  gboolean ready; /* the workers are done with it */
} Slot;

struct _GalleryPipeline {
  FlorenceModel *model;
  int image_size;
  int thumbnail_size;
  gboolean save_thumbnails;
  guint depth;
  guint batch;
  GalleryPipelineTokenFunc token_func;
  gpointer token_data;

  GMutex lock;
  GCond cond;
  GQueue jobs;  /* Slot *, not started, oldest first */
  GQueue slots; /* Slot *, pushed and not popped, oldest first */
  gboolean closing;
  GPtrArray *threads;

  GalleryPipelineStats stats; /* the model's thread only */
};

static double
seconds_since (gint64 t0)
{
  return (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
}

void
gallery_photo_free (GalleryPhoto *photo)
{
  if (photo == NULL)
    return;
  g_free (photo->path);
  g_clear_pointer (&photo->image, florence_model_image_unref);
  g_clear_pointer (&photo->thumbnail, image_rgb_free);
  gallery_image_identity_clear (&photo->identity);
  g_clear_error (&photo->error);
  g_free (photo);
}

/* In a worker: everything the engine needs of the photo, and its thumbnail. */
static void
prepare (GalleryPipeline *self, GalleryPhoto *photo)
{
  gint64 t0 = g_get_monotonic_time ();
  photo->image = florence_model_image_new_from_file (self->model, photo->path, NULL, &photo->error);
  if (photo->image == NULL)
    {
      photo->decode_seconds = seconds_since (t0);
      return;
    }
  photo->width = florence_model_image_get_width (photo->image);
  photo->height = florence_model_image_get_height (photo->image);
  gallery_image_identity_init (&photo->identity, florence_model_image_get_picture (photo->image));
  photo->decode_seconds = seconds_since (t0);
  if (self->thumbnail_size > 0)
    {
      g_autoptr (GError) error = NULL;
      gint64 t1 = g_get_monotonic_time ();
      photo->thumbnail = image_thumbnail_scale (florence_model_image_get_picture (photo->image),
                                                self->thumbnail_size, &error);
      if (photo->thumbnail == NULL)
        g_debug ("No thumbnail for %s: %s", photo->path, error->message);
      else if (self->save_thumbnails &&
               !image_thumbnail_cache_save (photo->path, photo->thumbnail, photo->width,
                                            photo->height, &error))
        g_debug ("The thumbnail of %s is not kept: %s", photo->path, error->message);
      photo->thumbnail_seconds = seconds_since (t1);
    }
  gint64 t2 = g_get_monotonic_time ();
  if (!florence_model_image_preprocess (photo->image, self->image_size, &photo->error))
    g_clear_pointer (&photo->image, florence_model_image_unref);
  else
    florence_model_image_drop_picture (photo->image);
  photo->preprocess_seconds = seconds_since (t2);
}

static gpointer
worker (gpointer data)
{
  GalleryPipeline *self = data;

#ifdef __linux__
  /* Linux: a thread's nice value is its own; the resampler's helper threads inherit it. */
  if (setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid),
                   getpriority (PRIO_PROCESS, 0) + WORKER_NICE) != 0)
    g_debug ("The decoding thread keeps the engine's priority");
#endif

  g_mutex_lock (&self->lock);
  for (;;)
    {
      while (!self->closing && g_queue_is_empty (&self->jobs))
        g_cond_wait (&self->cond, &self->lock);
      if (self->closing)
        break;
      Slot *slot = g_queue_pop_head (&self->jobs);
      g_mutex_unlock (&self->lock);
      prepare (self, slot->photo);
      g_mutex_lock (&self->lock);
      slot->ready = TRUE;
      g_cond_broadcast (&self->cond);
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

GalleryPipeline *
gallery_pipeline_new (const GalleryPipelineOptions *options)
{
  g_return_val_if_fail (options != NULL && options->model != NULL, NULL);

  GalleryPipeline *self = g_new0 (GalleryPipeline, 1);
  self->model = options->model;
  self->image_size = options->image_size;
  self->thumbnail_size = options->thumbnail_size;
  self->save_thumbnails = options->save_thumbnails;
  self->token_func = options->token_func;
  self->token_data = options->token_data;
  self->batch = florence_model_get_image_batch (self->model, self->image_size);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->jobs);
  g_queue_init (&self->slots);

  /* One decoding thread per two cores: on a CPU engine the engine keeps the others. */
  guint workers =
    options->workers > 0 ? options->workers : CLAMP (g_get_num_processors () / 2, 1u, MAX_WORKERS);
  /* Enough ahead that every worker has a photo while the engine holds a batch; each photo
   * waiting holds its pixel values (7 MiB at 768) and thumbnail, not its decoded picture. */
  self->depth = options->depth > 0 ? options->depth : MAX (2 * workers, self->batch) + 1;
  self->threads = g_ptr_array_new ();
  for (guint i = 0; i < workers; i++)
    {
      g_autoptr (GError) error = NULL;
      GThread *thread = g_thread_try_new ("depict-prepare", worker, self, &error);
      if (thread == NULL)
        {
          g_warning ("Could not start a decoding thread: %s", error->message);
          break;
        }
      g_ptr_array_add (self->threads, thread);
    }
  return self;
}

static void
slot_free (Slot *slot)
{
  gallery_photo_free (slot->photo);
  g_free (slot);
}

void
gallery_pipeline_free (GalleryPipeline *self)
{
  if (self == NULL)
    return;
  g_mutex_lock (&self->lock);
  self->closing = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < self->threads->len; i++)
    g_thread_join (self->threads->pdata[i]);
  g_ptr_array_unref (self->threads);
  g_queue_clear (&self->jobs);
  g_queue_clear_full (&self->slots, (GDestroyNotify) slot_free);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

guint
gallery_pipeline_get_depth (GalleryPipeline *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->depth;
}

guint
gallery_pipeline_get_queued (GalleryPipeline *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->slots.length;
}

gboolean
gallery_pipeline_push (GalleryPipeline *self, const char *path)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (self->slots.length >= self->depth)
    return FALSE;
  Slot *slot = g_new0 (Slot, 1);
  slot->photo = g_new0 (GalleryPhoto, 1);
  slot->photo->path = g_strdup (path);
  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->slots, slot);
  if (self->threads->len > 0)
    {
      g_queue_push_tail (&self->jobs, slot);
      g_cond_signal (&self->cond);
    }
  g_mutex_unlock (&self->lock);
  if (self->threads->len == 0)
    {
      /* No thread could be started: prepare here. */
      prepare (self, slot->photo);
      slot->ready = TRUE;
    }
  return TRUE;
}

static void
wake (GCancellable *cancellable, GalleryPipeline *self)
{
  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* The features of this photo and of the ready ones behind it, batch at a time, in one engine
 * call. The workers are done with ready photos, and only this thread pops them. */
static gboolean
encode_ready (GalleryPipeline *self, GalleryPhoto *first, GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) images = g_ptr_array_new ();
  g_ptr_array_add (images, first->image);
  g_mutex_lock (&self->lock);
  for (GList *l = self->slots.head; l != NULL && images->len < self->batch; l = l->next)
    {
      Slot *slot = l->data;
      if (!slot->ready)
        break;
      if (slot->photo->image != NULL &&
          !florence_model_image_has_features (slot->photo->image, self->image_size))
        g_ptr_array_add (images, slot->photo->image);
    }
  g_mutex_unlock (&self->lock);
  if (images->len < 2)
    return TRUE; /* one photo: its first task makes the features */
  gint64 t0 = g_get_monotonic_time ();
  gboolean ok =
    florence_model_encode_images (self->model, (FlorenceModelImage *const *) images->pdata,
                                  images->len, self->image_size, cancellable, error);
  self->stats.engine += seconds_since (t0);
  self->stats.vision_calls++;
  return ok;
}

GalleryPhoto *
gallery_pipeline_pop (GalleryPipeline *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_queue_is_empty (&self->slots))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _ ("No photo is waiting to be tagged."));
      return NULL;
    }
  gint64 t0 = g_get_monotonic_time ();
  gulong handler =
    cancellable != NULL ? g_cancellable_connect (cancellable, G_CALLBACK (wake), self, NULL) : 0;
  g_mutex_lock (&self->lock);
  Slot *slot = g_queue_peek_head (&self->slots);
  while (!slot->ready && !g_cancellable_is_cancelled (cancellable))
    g_cond_wait (&self->cond, &self->lock);
  gboolean ready = slot->ready;
  if (ready)
    g_queue_pop_head (&self->slots);
  g_mutex_unlock (&self->lock);
  g_cancellable_disconnect (cancellable, handler);
  self->stats.wait += seconds_since (t0);
  if (!ready)
    {
      g_cancellable_set_error_if_cancelled (cancellable, error);
      return NULL;
    }

  GalleryPhoto *photo = slot->photo;
  g_free (slot);
  self->stats.photos++;
  self->stats.decode += photo->decode_seconds;
  self->stats.thumbnail += photo->thumbnail_seconds;
  self->stats.preprocess += photo->preprocess_seconds;
  if (photo->image != NULL && self->batch > 1 &&
      !florence_model_image_has_features (photo->image, self->image_size))
    {
      g_autoptr (GError) local_error = NULL;
      gboolean ok = encode_ready (self, photo, cancellable, &local_error);
      if (!ok && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          gallery_photo_free (photo);
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      /* Otherwise each photo's first task tries alone and reports its own error. */
    }
  return photo;
}

typedef struct {
  GalleryPipeline *self;
  const char *path;
  const char *task;
} TokenRelay;

static void
relay_tokens (guint n_tokens, gpointer user_data)
{
  TokenRelay *relay = user_data;

  relay->self->token_func (relay->path, relay->task, n_tokens, relay->self->token_data);
}

GalleryRun *
gallery_pipeline_run_task (GalleryPipeline *self, GalleryPhoto *photo, const char *task,
                           const char *text_input, guint num_beams, guint max_new_tokens,
                           GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (photo != NULL, NULL);
  g_return_val_if_fail (task != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (photo->error != NULL)
    {
      g_propagate_error (error, g_error_copy (photo->error));
      return NULL;
    }
  FlorenceRunOptions options = {
    .task = task,
    .text_input = text_input,
    .num_beams = num_beams,
    .max_new_tokens = max_new_tokens,
    .image_size = self->image_size,
  };
  gboolean had_features = florence_model_image_has_features (photo->image, self->image_size);
  gint64 t0 = g_get_monotonic_time ();
  TokenRelay relay = { self, photo->path, task };
  g_autoptr (FlorenceRun) run =
    florence_model_run_image (self->model, photo->image, &options, cancellable,
                              self->token_func != NULL ? relay_tokens : NULL, &relay, error);
  self->stats.engine += seconds_since (t0);
  if (run == NULL)
    return NULL;
  if (!had_features)
    self->stats.vision_calls++;
  self->stats.vision += run->timings.vision;
  self->stats.encoder += run->timings.encoder;
  self->stats.generate += run->timings.decode;

  /* The model's name and weights are the tagger's to fill in (the key). */
  return gallery_run_new_from_florence (run, NULL, NULL, (int) max_new_tokens);
}

void
gallery_pipeline_get_stats (GalleryPipeline *self, GalleryPipelineStats *stats)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (stats != NULL);
  *stats = self->stats;
}
