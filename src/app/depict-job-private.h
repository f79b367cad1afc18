/* depict-job-private.h: how the session makes jobs and reports on them from its worker
 *
 * The _depict_job_report_*() calls are made in the worker thread: each hands a copy of what
 * happened to the main context, where it is applied in the order it was reported (property
 * notifications and signals are only ever emitted on the main context).
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "depict-job.h"

G_BEGIN_DECLS

DepictJob *_depict_job_new (DepictJobKind kind, const DepictRunSettings *settings, GPtrArray *files,
                            const char *const *tasks, const char *text_input, const char *title);

/* Worker thread */
/* The first report marks the job as running. FILE: the photo worked on, NULL to keep it. */
void _depict_job_report_stage (DepictJob *self, DepictJobStage stage, guint n_tokens, GFile *file);
/* The same with the task being run (a batch's photos run several). */
void _depict_job_report_task_stage (DepictJob *self, DepictJobStage stage, guint n_tokens,
                                    GFile *file, const char *task);
void _depict_job_report_stored (DepictJob *self, GFile *file);
void _depict_job_report_progress (DepictJob *self, guint done, guint total, double seconds_left);
/* The same with the batch's speed, photos run through the model per hour (0: not yet known). */
void _depict_job_report_progress_rate (DepictJob *self, guint done, guint total,
                                       double seconds_left, double photos_per_hour);
void _depict_job_report_answer (DepictJob *self, GFile *file, DepictAnswer *answer);
void _depict_job_report_failure (DepictJob *self, GFile *file, const GError *error);
void _depict_job_report_store_error (DepictJob *self, const GError *error);
void _depict_job_report_summary (DepictJob *self, guint processed, guint skipped, guint failed,
                                 GPtrArray *failures);
typedef void (*DepictJobDoneFunc) (GObject *owner, DepictJob *job);

/* The last report. On the main context: the job is marked finished, "finished" is emitted,
 * then DONE_FUNC is called with OWNER (the session; held by a weak reference, skipped when it
 * is gone). ERROR may be NULL; it is copied. */
void _depict_job_report_finished (DepictJob *self, const GError *error, DepictJobDoneFunc done_func,
                                  GObject *owner);

G_END_DECLS
