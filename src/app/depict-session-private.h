/* depict-session-private.h: what depict-session.c and depict-session-worker.c share
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "depict-job-private.h"
#include "depict-session.h"
#include "florence/model/florence-image-cache.h"
#include "florence/model/florence-model.h"

G_BEGIN_DECLS

/* The worker thread and what only it touches. */
typedef struct {
  GThread *thread;
  GMutex lock; /* guards the queues and quit */
  GCond cond;
  GQueue runs;    /* DepictJob waiting, done before batches */
  GQueue batches; /* DepictJob waiting */
  gboolean quit;

  /* Worker thread only */
  FlorenceModel *model;
  char *model_key;            /* model folder, tokenizer folder and device it was loaded for */
  FlorenceImageCache *images; /* the features of the photos run last (freed before the model) */
  gboolean preparing;         /* the next run is the graphics card's first (first_gpu_use) */

  /* Seconds one task took on one photo, measured by the worker, for the main context to
   * keep in the settings (guarded by lock); 0: nothing new. */
  double measured_seconds;
  char *measured_key;
} DepictWorker;

struct _DepictSession {
  GObject parent_instance;

  GSettings *settings;
  char *gallery_path;

  /* The gallery connection of the process (the store is safe to use from any thread). */
  GMutex store_lock; /* guards opening it */
  GalleryStore *store;
  guint store_readers;    /* loads of stored answers in flight (main context) */
  guint store_generation; /* main context */

  DepictWorker worker;

  /* Main context */
  GPtrArray *jobs; /* queued or under way */
  DepictJob *batch;
  gboolean batch_paused;
};

void _depict_session_worker_start (DepictSession *self);
void _depict_session_worker_push (DepictSession *self, DepictJob *job);
/* Cancels what is queued and under way, and waits for the thread to end. */
void _depict_session_worker_stop (DepictSession *self);

/* The key of the task-seconds setting for SETTINGS' model and device. */
char *_depict_session_task_seconds_key (const DepictRunSettings *settings);

/* Main context: a job of the worker finished. */
void _depict_session_job_done (GObject *session, DepictJob *job);

G_END_DECLS
