/* gpu-op-logits.h: log-softmax with bans and forced tokens, then top-k, per vocabulary row
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The decoder step reads back only this: for each beam row, the k best (id, log-prob) and
 * the row's max logit and log-sum-exp — (2k + 2)·4 bytes per row instead of the 51 289
 * logits. Conventions as in gpu-op-norm.h.
 *
 * Semantics, per row r of @logits [rows, n] (row stride @stride):
 *   lse = log Σ_i exp (logit_i) over all n raw logits;
 *   s_i = logit_i − lse, then s_i = −inf for each banned id (n-gram blocking), or, when the
 *   row has a forced id f ≥ 0, s_f = 0 and every other s_i = −inf (forced BOS/EOS; bans are
 *   ignored then);
 *   the k largest s_i, in descending order; equal values keep the SMALLER id first
 *   (torch.topk does not promise an order for ties; in practice logits do not tie, and −inf
 *   entries — bans, forced rows, k > n − bans — come out in ascending id order).
 * Two dispatches: per (row, chunk) partial maxima, sums and top-k, then a per-row merge.
 */
#pragma once

#include "gpu/gpu-recorder.h"

G_BEGIN_DECLS

#define GPU_OP_TOPK_MAX_K 16

/* One candidate of the output. */
typedef struct {
  gint32 id;
  float value; /* log-probability */
} GpuTopkCandidate;

/* Bytes of the @scratch buffer, of the @ctl buffer (for @n_bans banned ids over all rows)
 * and of the @out buffer (rows × (2k + 2) 32-bit words). */
guint64 gpu_op_logits_topk_scratch_size (GpuDevice *device, guint rows, guint k);
guint64 gpu_op_logits_topk_ctl_size (guint rows, guint n_bans);
guint64 gpu_op_logits_topk_out_size (guint rows, guint k);

/* Records the upload of the row controls into @ctl and the two dispatches. @forced: rows
 * ids (−1: none) or NULL for none; @bans: the banned ids of every row, concatenated;
 * @ban_counts: rows counts (or NULL with no bans). Ids out of range are ignored. */
void gpu_op_logits_topk (GpuRecorder *recorder, GpuBuffer *logits, guint64 offset, guint stride,
                         guint rows, guint n, const gint32 *forced, const gint32 *bans,
                         const guint *ban_counts, guint k, GpuBuffer *ctl, GpuBuffer *scratch,
                         GpuBuffer *out);

/* The same, with the row controls written by the caller into @ctl (at most @max_bans banned ids:
 * the buffer's capacity), e.g. through an upload slot of a recording that is replayed each step.
 * gpu_op_logits_topk_fill_ctl() writes them: forced[rows], ban offsets[rows + 1], the ids. */
void gpu_op_logits_topk_ctl_given (GpuRecorder *recorder, GpuBuffer *logits, guint64 offset,
                                   guint stride, guint rows, guint n, guint max_bans, guint k,
                                   GpuBuffer *ctl, GpuBuffer *scratch, GpuBuffer *out);
void gpu_op_logits_topk_fill_ctl (void *ctl, guint rows, guint n, const gint32 *forced,
                                  const gint32 *bans, const guint *ban_counts);

/* Decodes row @row of a downloaded @out: @cand[k], and the max logit and lse (either may be
 * NULL). */
void gpu_op_logits_topk_parse (const void *out, guint row, guint k, GpuTopkCandidate *cand,
                               float *max, float *lse);

G_END_DECLS
