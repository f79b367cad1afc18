/* florence-generate.h: greedy and beam-search generation with the reference semantics
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reproduces what the original Florence-2 implementation's generate() does (HF transformers
 * 4.4x, spec §10.2, tests/data/README.md "Generation settings actually used"): the decoder starts
 * from decoder_start_token_id (2); the first step is forced to forced_bos_token_id (0) and the
 * step that produces token number max_new_tokens to forced_eos_token_id (2); a token that would
 * complete an n-gram (n = no_repeat_ngram_size) already present in the beam's full decoder
 * sequence, start token included, is banned; greedy takes the argmax of the processed raw
 * logits; beam search runs on log-probabilities with the reference's hypothesis bookkeeping.
 *
 * The decoder itself is a backend (FlorenceDecoderBackend): the CPU reference returns full
 * logits per beam, a GPU backend returns only the top-k candidates per beam after the bans. Both
 * go through the same per-beam candidate lists (florence_generate_select_topk() is the host
 * implementation of what a GPU backend computes), so the bookkeeping is identical.
 *
 * Token log-probabilities. For the returned sequence the search keeps, per generated token, its
 * log-probability under the model at the step that chose it: log_softmax(logits) of that step
 * with the logits processors applied as the reference applies them (a forced token scores 0;
 * a banned one cannot be chosen), along the beam the token was chosen on. This is what the
 * reference's compute_transition_scores(sequences, scores, beam_indices) gives for a beam
 * search, so the values of a finished hypothesis add up to its sum_logprobs, and its score is
 * that sum / generated_len ^ length_penalty. Greedy search scores its tokens the same way; it
 * ranks raw logits, so it asks a backend for each beam's log-softmax normaliser
 * (FlorenceDecodeStep.log_norm).
 */
#pragma once

#include <gio/gio.h>

#include "florence/files/florence-config.h"

G_BEGIN_DECLS

#define FLORENCE_GENERATE_ERROR (florence_generate_error_quark ())

typedef enum {
  FLORENCE_GENERATE_ERROR_INVALID,    /* bad options (0 beams, a start id outside the vocabulary) */
  FLORENCE_GENERATE_ERROR_BACKEND,    /* the backend returned something impossible */
  FLORENCE_GENERATE_ERROR_NON_FINITE, /* NaN or infinite scores: the weights are damaged */
} FlorenceGenerateError;

GQuark florence_generate_error_quark (void);

/* What the candidate scores of one step are. */
typedef enum {
  FLORENCE_SCORE_RAW_LOGITS,  /* greedy: processed raw logits */
  FLORENCE_SCORE_LOG_SOFTMAX, /* beam search: processed log_softmax(logits) */
} FlorenceScoreKind;

/* One decoder step for all beams, run as one batch. */
typedef struct {
  guint n_beams;
  guint position;       /* decoder position of the input tokens: 0 for the start token */
  const gint32 *tokens; /* [n_beams] input token of each beam at this position */
  const guint *reorder; /* [n_beams] beam b continues the cache (positions < position) of the
                         * previous step's beam reorder[b]; NULL at position 0 */
  /* The rest is for step_topk (a backend with step_logits can ignore it): */
  FlorenceScoreKind score_kind;
  guint k;                  /* candidates wanted per beam, best first */
  gint32 forced_token;      /* >= 0: the search forces this token; the candidates are not read and
                             * the backend may skip the LM head (the cache must still be updated) */
  const guint *ban_offsets; /* [n_beams + 1] */
  const gint32 *bans;       /* beam b bans bans[ban_offsets[b]] .. bans[ban_offsets[b + 1] - 1]
                             * (duplicates possible) */
  /* Optional output of step_topk, NULL when not wanted: [n_beams] the log-softmax normaliser
   * of each beam's row, log Σ_v exp (logit_v) over all vocab_size raw logits (final_logits_bias
   * included, before any ban). The search asks for it on the steps of a greedy search that are
   * not forced and prefills it with NaN; a backend that leaves a NaN there gives a generation
   * without token log-probabilities. step_logits ignores it (the search has the logits). */
  float *log_norm;
} FlorenceDecodeStep;

typedef struct _FlorenceDecoderBackend FlorenceDecoderBackend;

/* A decoder with its encoder output already attached (cross-attention keys/values computed).
 * Implementations embed this struct or point user_data at themselves. At least one of
 * step_logits and step_topk is set; step_topk is preferred when both are. */
struct _FlorenceDecoderBackend {
  int vocab_size;    /* candidates are ids < vocab_size */
  int max_positions; /* decoder positions available (1024) */
  /* The positions the next sequence may use at most, set by florence_generate() before begin
   * (its max_new_tokens); 0: max_positions. A backend may size its caches by it. */
  int sequence_positions;
  /* Starts a new sequence of n_beams beams: drops the self-attention cache. */
  gboolean (*begin) (FlorenceDecoderBackend *self, guint n_beams, GError **error);
  /* Runs the step and writes raw logits [n_beams × vocab_size] (final_logits_bias included). */
  gboolean (*step_logits) (FlorenceDecoderBackend *self, const FlorenceDecodeStep *step,
                           float *logits, GError **error);
  /* Runs the step and writes, per beam, step->k candidates sorted by descending score (equal
   * scores: lower id first), as florence_generate_select_topk() defines them. ids and scores
   * are [n_beams × k]. On a forced step (step->forced_token >= 0) it is still called, so that
   * the cache advances, but ids and scores are ignored. */
  gboolean (*step_topk) (FlorenceDecoderBackend *self, const FlorenceDecodeStep *step, gint32 *ids,
                         float *scores, GError **error);
  gpointer user_data;
};

typedef void (*FlorenceGenerateProgress) (guint n_tokens, gpointer user_data);

/* Called after each step with every beam's candidates (k per beam, after bans and forcing). */
typedef void (*FlorenceGenerateTrace) (guint step, guint n_beams, guint k, const gint32 *ids,
                                       const float *scores, gpointer user_data);

typedef enum {
  FLORENCE_EARLY_STOPPING_FALSE, /* the heuristic of HF transformers */
  FLORENCE_EARLY_STOPPING_TRUE,  /* stop when num_beams hypotheses are finished */
} FlorenceEarlyStopping;

typedef struct {
  guint num_beams;            /* 1 = greedy */
  guint max_new_tokens;       /* clamped to the backend's max_positions */
  guint no_repeat_ngram_size; /* 0 = off */
  FlorenceEarlyStopping early_stopping;
  double length_penalty;
  gint32 decoder_start_token_id, forced_bos_token_id, forced_eos_token_id; /* forced: -1 = off */
  gint32 eos_token_id;
  /* optional */
  guint trace_k; /* if > 0, candidates per beam for the trace (at least what the search needs) */
  FlorenceGenerateTrace trace;
  gpointer trace_data;
} FlorenceGenerateOptions;

/* Fills options from a config's generation settings (text_config). */
void florence_generate_options_init (FlorenceGenerateOptions *options,
                                     const FlorenceConfig *config);

/* One finished hypothesis offered to the beam heap. */
typedef struct {
  GArray *ids;      /* gint32, starts with the start token, no final EOS */
  GArray *logprobs; /* float: the log-probability of each id after the start token, and of
                     * the EOS that finished it (none for a hypothesis offered at the end) */
  double sum_logprobs;
  guint generated_len;
  double score;   /* sum_logprobs / generated_len ^ length_penalty */
  gboolean kept;  /* entered the heap */
  gboolean final; /* offered at finalization (open beam at max_length), not on an EOS */
} FlorenceHypothesis;

typedef struct {
  GArray *ids;             /* gint32: the full generated sequence, starting with the start id */
  guint steps_run;         /* decoder steps */
  gboolean ended_with_eos; /* greedy: stopped on an EOS it chose (not the forced one) */
  /* float, one per id of ids after the start id: each token's log-probability (see the top of
   * this file); an EOS the search appended to a hypothesis that did not choose one scores 0,
   * as compute_transition_scores gives it. Their sum is the sum_logprobs of the returned
   * hypothesis. NULL when the backend gave no normaliser for a greedy step. */
  GArray *token_logprobs;
  /* beam search only */
  gboolean has_score;
  float sequences_score;
  gboolean done_before_finalize;
  GPtrArray *hypotheses; /* FlorenceHypothesis *: the kept ones, best first */
  GPtrArray *events;     /* FlorenceHypothesis *: every offer, in order */
} FlorenceGeneration;

FlorenceGeneration *florence_generate (FlorenceDecoderBackend *backend,
                                       const FlorenceGenerateOptions *options,
                                       GCancellable *cancellable, FlorenceGenerateProgress progress,
                                       gpointer progress_data, GError **error);

void florence_generation_free (FlorenceGeneration *generation);

/* The candidates of one beam from its raw logits: log_softmax when kind says so, banned ids to
 * -inf, a forced token (>= 0) to 0 and all else to -inf; then the k best, sorted by descending
 * score, equal scores by ascending id (-inf fillers too). */
void florence_generate_select_topk (const float *logits, int vocab_size, FlorenceScoreKind kind,
                                    const gint32 *bans, guint n_bans, gint32 forced_token, guint k,
                                    gint32 *ids, float *scores);

/* The same with the log-softmax's normaliser computed by the caller (a backend that has it
 * from vectorised kernels): max, the largest logit, and log_sum = log Σ exp(logits − max).
 * Ignored for FLORENCE_SCORE_RAW_LOGITS. */
void florence_generate_select_topk_normalised (const float *logits, int vocab_size,
                                               FlorenceScoreKind kind, const gint32 *bans,
                                               guint n_bans, gint32 forced_token, guint k,
                                               float max, float log_sum, gint32 *ids,
                                               float *scores);

/* The ids that would complete an n-gram already in tokens[0..n_tokens): appended to bans. */
void florence_generate_ngram_bans (const gint32 *tokens, guint n_tokens, guint ngram_size,
                                   GArray *bans);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlorenceGeneration, florence_generation_free)

G_END_DECLS
