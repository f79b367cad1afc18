/* gallery-pipeline.h: photos prepared ahead of the engine, for batch tagging
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The engine never waits for the disk or the decoder: worker threads read the next photos,
 * decode them with their EXIF orientation, make the gallery thumbnail from that decode and
 * resize and normalize them to the model's input (FlorenceModelImage), at most depth photos
 * ahead (the memory stays flat however long the batch), while the thread that owns the model
 * runs the tasks of the current photo on one set of image features. Photos come out in the
 * order they went in.
 *
 * Threads: push, pop, run_task and gallery_photo_free from the one thread that uses the model
 * (the batch's thread); the workers touch no engine. The workers run at a lower priority than
 * the engine, so that on a CPU engine decoding fills the gaps without taking the engine's
 * cores, and waiting for a photo lets them run at full speed.
 */
#pragma once

#include <gio/gio.h>

#include "florence/model/florence-model.h"
#include "gallery/gallery-run.h"
#include "gallery/gallery-store.h"
#include "image/image-rgb.h"

G_BEGIN_DECLS

typedef struct _GalleryPipeline GalleryPipeline;

/* Told while a task runs on a photo, in the model's thread: the photo, the task and the
 * tokens made so far. */
typedef void (*GalleryPipelineTokenFunc) (const char *path, const char *task, guint n_tokens,
                                          gpointer user_data);

typedef struct {
  FlorenceModel *model;     /* not owned: free the pipeline first */
  int image_size;           /* model input side, 0: the model's */
  int thumbnail_size;       /* longest side of each photo's thumbnail, 0: none */
  gboolean save_thumbnails; /* also keep them in the desktop's thumbnail cache (made at
                             * IMAGE_THUMBNAIL_CACHE_LARGE for the app's gallery) */
  guint workers;            /* decoding threads, 0: from the number of cores */
  guint depth;              /* most photos pushed and not yet popped, 0: from workers and batch */
  GalleryPipelineTokenFunc token_func; /* may be NULL */
  gpointer token_data;
} GalleryPipelineOptions;

/* A photo as the workers left it. */
typedef struct {
  char *path;
  FlorenceModelImage *image;     /* pixel values at the input size; NULL when error is set */
  ImageRgb *thumbnail;           /* NULL unless asked for (or when it could not be made) */
  int width, height;             /* oriented pixels */
  GalleryImageIdentity identity; /* what the gallery knows the photo by (its decoded pixels) */
  GError *error;                 /* the photo could not be read or decoded */
  double decode_seconds;         /* reading and decoding (orientation included) and the identity */
  double thumbnail_seconds;
  double preprocess_seconds; /* resize and normalize */
} GalleryPhoto;

/* Sums over the photos popped so far (seconds). decode, thumbnail and preprocess are spent by
 * the workers, in parallel with the engine; wait is the engine's time spent waiting for a
 * photo, engine its time in vision, encoder and decoder (run_task, batched vision included). */
typedef struct {
  guint photos;
  double decode, thumbnail, preprocess;
  double wait, engine;
  double vision, encoder, generate;
  guint vision_calls; /* engine calls that made image features (several photos each where
                       * the engine batches) */
} GalleryPipelineStats;

GalleryPipeline *gallery_pipeline_new (const GalleryPipelineOptions *options);
/* Cancels what is queued and waits for the workers. */
void gallery_pipeline_free (GalleryPipeline *self);

/* How many photos may be pushed and not yet popped; push refuses more. */
guint gallery_pipeline_get_depth (GalleryPipeline *self);
/* Photos pushed and not yet popped. */
guint gallery_pipeline_get_queued (GalleryPipeline *self);
/* Queues a photo for the workers. FALSE (nothing queued) when depth photos are queued. */
gboolean gallery_pipeline_push (GalleryPipeline *self, const char *path);
/* The oldest photo pushed and not yet popped, waiting for the workers to finish it (the time
 * counts as the engine's wait). A photo the workers could not read comes back with its error
 * set. NULL with G_IO_ERROR_CANCELLED when cancelled, or G_IO_ERROR_NOT_FOUND when nothing is
 * queued. Where the engine batches its vision tower, the features of this photo and of the
 * next ready ones are made in one call here. */
GalleryPhoto *gallery_pipeline_pop (GalleryPipeline *self, GCancellable *cancellable,
                                    GError **error);

/* One task on a popped photo: the features are made on the first task and shared by the
 * others; a GalleryRun holding the task, its input, raw_text, token_ids, result, timings
 * (with "cached") and the picture's size, ready for gallery_store_add_run once the model name,
 * weights hash and settings are filled in. */
GalleryRun *gallery_pipeline_run_task (GalleryPipeline *self, GalleryPhoto *photo, const char *task,
                                       const char *text_input, guint num_beams,
                                       guint max_new_tokens, GCancellable *cancellable,
                                       GError **error);

void gallery_pipeline_get_stats (GalleryPipeline *self, GalleryPipelineStats *stats);

/* Frees the photo and its features: from the model's thread. */
void gallery_photo_free (GalleryPhoto *photo);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleryPipeline, gallery_pipeline_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleryPhoto, gallery_photo_free)

G_END_DECLS
