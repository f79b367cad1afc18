/* cli-serve-queue.h: depict-cli serve's requests waiting for the engine, one at a time
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One worker thread per model takes the jobs in arrival order: it decodes the picture (the
 * pixel limit is checked from the header before any pixel is decoded), runs the task, stores
 * the result when a gallery is kept, and hands the job back to the main context that pushed
 * it. A bounded number of jobs may wait; a full queue refuses the next one (the server answers
 * 429 with Retry-After). A job whose client went away is taken out of the queue, or its run
 * cancelled if it has started.
 */
#pragma once

#include <gio/gio.h>

#include "cli-serve-request.h"
#include "florence/model/florence-model.h"

G_BEGIN_DECLS

typedef struct _CliServeQueue CliServeQueue;
typedef struct _CliServeJob CliServeJob;

/* Called in the main context of the thread that created the queue, once per pushed job. */
typedef void (*CliServeJobDone) (CliServeJob *job, gpointer user_data);

/* Keeps a finished run (the gallery): called in the worker thread with the picture's file (a
 * temporary copy of an uploaded picture, removed afterwards) and its bytes when uploaded. */
typedef gboolean (*CliServeStoreFunc) (const CliServeRequest *request, const char *path,
                                       const FlorenceRun *run, gpointer user_data, GError **error);

struct _CliServeJob {
  CliServeRequest *request; /* owned */
  GCancellable *cancellable;
  /* Set when done: the run, or the error (CLI_SERVE_ERROR, or the model's / the image
   * loader's, or G_IO_ERROR_CANCELLED). */
  FlorenceRun *run;
  GError *error;
  gint64 queued_at, started_at, finished_at; /* g_get_monotonic_time() */
  /* private */
  CliServeJobDone done;
  gpointer done_data;
  gboolean waiting;
};

CliServeJob *cli_serve_job_new (CliServeRequest *request, CliServeJobDone done, gpointer done_data);
void cli_serve_job_free (CliServeJob *job);

typedef struct {
  FlorenceModel *model;
  guint max_waiting;       /* jobs that may wait behind the running one */
  guint64 max_pixels;      /* width × height limit of a picture, from its header */
  const char *upload_dir;  /* a private folder for uploaded pictures while they are decoded */
  CliServeStoreFunc store; /* NULL: results are not kept */
  gpointer store_data;
} CliServeQueueOptions;

CliServeQueue *cli_serve_queue_new (const CliServeQueueOptions *options);
/* Cancels what waits, lets the running job finish, stops the worker. */
void cli_serve_queue_free (CliServeQueue *queue);

/* Queues the job (taking it), or returns FALSE (the caller keeps it) when max_waiting jobs
 * already wait. */
gboolean cli_serve_queue_push (CliServeQueue *queue, CliServeJob *job);
/* The client of the job went away: a waiting job is taken out and finishes at once with
 * G_IO_ERROR_CANCELLED; a running one has its cancellable cancelled. */
void cli_serve_queue_cancel (CliServeQueue *queue, CliServeJob *job);

void cli_serve_queue_get_state (CliServeQueue *queue, guint *waiting, guint *running);
guint cli_serve_queue_get_limit (CliServeQueue *queue);
/* Seconds a client refused now should wait: the jobs ahead times the mean run time, at
 * least 1. */
guint cli_serve_queue_retry_after (CliServeQueue *queue);

G_END_DECLS
