/* florence-generate.c: greedy and beam-search generation with the reference semantics
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file of this length: greedy and beam search share the logits processors (no-repeat n-grams,
 * forced tokens) and the scores, as the reference's generate does.
 */
#include "config.h"

#include "florence/generate/florence-generate.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

G_DEFINE_QUARK (florence - generate - error - quark, florence_generate_error)

void
florence_generate_options_init (FlorenceGenerateOptions *options, const FlorenceConfig *config)
{
  g_return_if_fail (options != NULL);
  g_return_if_fail (config != NULL);

  memset (options, 0, sizeof *options);
  options->num_beams = config->num_beams > 0 ? (guint) config->num_beams : 1;
  options->max_new_tokens = config->max_new_tokens > 0 ? (guint) config->max_new_tokens : 1024;
  options->no_repeat_ngram_size =
    config->no_repeat_ngram_size > 0 ? (guint) config->no_repeat_ngram_size : 0;
  options->early_stopping =
    config->early_stopping ? FLORENCE_EARLY_STOPPING_TRUE : FLORENCE_EARLY_STOPPING_FALSE;
  options->length_penalty = config->length_penalty;
  options->decoder_start_token_id = config->decoder_start_token_id;
  options->forced_bos_token_id = config->forced_bos_token_id;
  options->forced_eos_token_id = config->forced_eos_token_id;
  options->eos_token_id = config->eos_token_id;
}

/* ---------------------------------------------------------------------------------------------
 * Candidates
 * ------------------------------------------------------------------------------------------- */

void
florence_generate_ngram_bans (const gint32 *tokens, guint n_tokens, guint ngram_size, GArray *bans)
{
  /* NoRepeatNGramLogitsProcessor: with prefix = the last n-1 tokens, ban every token that
   * followed the same prefix earlier in the sequence. */
  if (ngram_size == 0 || n_tokens + 1 < ngram_size)
    return;
  if (ngram_size == 1)
    {
      g_array_append_vals (bans, tokens, n_tokens);
      return;
    }
  guint prefix_len = ngram_size - 1;
  const gint32 *prefix = tokens + n_tokens - prefix_len;
  for (guint i = 0; i + ngram_size <= n_tokens; i++)
    if (memcmp (tokens + i, prefix, prefix_len * sizeof (gint32)) == 0)
      g_array_append_val (bans, tokens[i + prefix_len]);
}

static void fill_neg_inf (gint32 *ids, float *scores, guint n, guint k);

/* log_softmax's normaliser over ALL logits (before masking), as torch computes it: the largest
 * logit and log Σ exp (logit − max). */
static void
row_normaliser (const float *logits, int vocab_size, float *max_out, double *log_sum_out)
{
  float max = -INFINITY;
  for (int v = 0; v < vocab_size; v++)
    if (logits[v] > max)
      max = logits[v];
  /* expf is exact to within an ulp of float, as torch's float32 exp; a third of exp's time */
  double sum = 0.0;
  for (int v = 0; v < vocab_size; v++)
    sum += (double) expf (logits[v] - max);
  *max_out = max;
  *log_sum_out = log (sum);
}

/* a better than b: higher score, then lower id. -inf compares equal to -inf. */
static inline gboolean
cand_better (float sa, gint32 ia, float sb, gint32 ib)
{
  if (sa > sb)
    return TRUE;
  if (sa < sb)
    return FALSE;
  return ia < ib;
}

static void
select_topk (const float *logits, int vocab_size, FlorenceScoreKind kind, const gint32 *bans,
             guint n_bans, gint32 forced_token, guint k, const float *norm, gint32 *ids,
             float *scores)
{

  guint n = 0; /* filled, sorted best first */
  if (forced_token >= 0 && forced_token < vocab_size)
    {
      ids[0] = forced_token;
      scores[0] = 0.0f;
      n = 1;
    }
  else
    {
      g_autofree guint8 *banned = g_malloc0 ((gsize) vocab_size / 8 + 1);
      for (guint i = 0; i < n_bans; i++)
        if (bans[i] >= 0 && bans[i] < vocab_size)
          banned[bans[i] >> 3] |= (guint8) (1u << (bans[i] & 7));

      for (int v = 0; v < vocab_size; v++)
        {
          float x = logits[v];
          if (banned[v >> 3] & (1u << (v & 7)))
            continue;
          if (isnan (x) || x == -INFINITY)
            continue;
          if (n == k && !cand_better (x, v, scores[k - 1], ids[k - 1]))
            continue;
          guint pos = n < k ? n : k - 1;
          while (pos > 0 && cand_better (x, v, scores[pos - 1], ids[pos - 1]))
            {
              scores[pos] = scores[pos - 1];
              ids[pos] = ids[pos - 1];
              pos--;
            }
          scores[pos] = x;
          ids[pos] = v;
          if (n < k)
            n++;
        }

      if (kind == FLORENCE_SCORE_LOG_SOFTMAX && n > 0)
        {
          float max, log_sum;
          if (norm != NULL)
            max = norm[0], log_sum = norm[1];
          else
            {
              double log_sum_exp;
              row_normaliser (logits, vocab_size, &max, &log_sum_exp);
              log_sum = (float) log_sum_exp;
            }
          for (guint i = 0; i < n; i++)
            scores[i] = (scores[i] - max) - log_sum;
        }
    }

  fill_neg_inf (ids, scores, n, k);
}

void
florence_generate_select_topk (const float *logits, int vocab_size, FlorenceScoreKind kind,
                               const gint32 *bans, guint n_bans, gint32 forced_token, guint k,
                               gint32 *ids, float *scores)
{
  g_return_if_fail (logits != NULL && vocab_size > 0 && k > 0);
  select_topk (logits, vocab_size, kind, bans, n_bans, forced_token, k, NULL, ids, scores);
}

void
florence_generate_select_topk_normalised (const float *logits, int vocab_size,
                                          FlorenceScoreKind kind, const gint32 *bans, guint n_bans,
                                          gint32 forced_token, guint k, float max, float log_sum,
                                          gint32 *ids, float *scores)
{
  g_return_if_fail (logits != NULL && vocab_size > 0 && k > 0);
  const float norm[2] = { max, log_sum };
  select_topk (logits, vocab_size, kind, bans, n_bans, forced_token, k, norm, ids, scores);
}

/* -inf fillers after the n real candidates: the lowest ids not taken yet */
static void
fill_neg_inf (gint32 *ids, float *scores, guint n, guint k)
{
  gint32 next_id = 0;
  while (n < k)
    {
      gboolean taken;
      do
        {
          taken = FALSE;
          for (guint i = 0; i < n; i++)
            if (ids[i] == next_id)
              {
                taken = TRUE;
                next_id++;
                break;
              }
        }
      while (taken);
      ids[n] = next_id++;
      scores[n] = -INFINITY;
      n++;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Results
 * ------------------------------------------------------------------------------------------- */

static void
hypothesis_free (gpointer data)
{
  FlorenceHypothesis *hyp = data;
  if (hyp == NULL)
    return;
  g_array_unref (hyp->ids);
  g_array_unref (hyp->logprobs);
  g_free (hyp);
}

static GArray *
array_copy (const GArray *a, guint element_size)
{
  GArray *copy = g_array_sized_new (FALSE, FALSE, element_size, a->len);
  g_array_append_vals (copy, a->data, a->len);
  return copy;
}

static FlorenceHypothesis *
hypothesis_copy (const FlorenceHypothesis *hyp)
{
  FlorenceHypothesis *copy = g_memdup2 (hyp, sizeof *hyp);
  copy->ids = array_copy (hyp->ids, sizeof (gint32));
  copy->logprobs = array_copy (hyp->logprobs, sizeof (float));
  return copy;
}

void
florence_generation_free (FlorenceGeneration *generation)
{
  if (generation == NULL)
    return;
  g_clear_pointer (&generation->ids, g_array_unref);
  g_clear_pointer (&generation->token_logprobs, g_array_unref);
  g_clear_pointer (&generation->hypotheses, g_ptr_array_unref);
  g_clear_pointer (&generation->events, g_ptr_array_unref);
  g_free (generation);
}

static FlorenceGeneration *
generation_new (void)
{
  FlorenceGeneration *gen = g_new0 (FlorenceGeneration, 1);
  gen->ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  gen->token_logprobs = g_array_new (FALSE, FALSE, sizeof (float));
  gen->hypotheses = g_ptr_array_new_with_free_func (hypothesis_free);
  gen->events = g_ptr_array_new_with_free_func (hypothesis_free);
  return gen;
}

/* ---------------------------------------------------------------------------------------------
 * One step through the backend
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  FlorenceDecoderBackend *backend;
  guint n_beams, k;
  float *logits;    /* [n_beams × vocab] when the backend gives logits */
  gint32 *cand_ids; /* [n_beams × k] */
  float *cand_scores;
  GArray *bans; /* gint32 */
  guint *ban_offsets;
  float *log_norm; /* [n_beams] what a step_topk backend writes */
  double *norm;    /* [n_beams] each beam's log-softmax normaliser, when the step asked for it */
} StepState;

static void
step_state_clear (StepState *st)
{
  g_free (st->logits);
  g_free (st->cand_ids);
  g_free (st->cand_scores);
  if (st->bans != NULL)
    g_array_unref (st->bans);
  g_free (st->ban_offsets);
  g_free (st->log_norm);
  g_free (st->norm);
}

static void
step_state_init (StepState *st, FlorenceDecoderBackend *backend, guint n_beams, guint k)
{
  memset (st, 0, sizeof *st);
  st->backend = backend;
  st->n_beams = n_beams;
  st->k = k;
  if (backend->step_topk == NULL)
    st->logits = g_new (float, (gsize) n_beams *(gsize) backend->vocab_size);
  st->cand_ids = g_new (gint32, (gsize) n_beams * k);
  st->cand_scores = g_new (float, (gsize) n_beams *k);
  st->bans = g_array_new (FALSE, FALSE, sizeof (gint32));
  st->ban_offsets = g_new0 (guint, n_beams + 1);
  st->log_norm = g_new (float, n_beams);
  st->norm = g_new (double, n_beams);
}

static gboolean
set_non_finite_error (GError **error)
{
  g_set_error (error, FLORENCE_GENERATE_ERROR, FLORENCE_GENERATE_ERROR_NON_FINITE,
               _ ("The model computed scores that are not numbers (NaN or infinity): its weights "
                  "are damaged. Download the model again."));
  return FALSE;
}

/* seqs[b] = the full sequence of beam b (its last token is the step's input). With kind
 * FLORENCE_SCORE_RAW_LOGITS and no forced token, st->norm receives each beam's log-softmax
 * normaliser (NaN where the backend gave none). */
static gboolean
run_step (StepState *st, const FlorenceGenerateOptions *opts, guint position, GArray **seqs,
          const guint *reorder, FlorenceScoreKind kind, gint32 forced, GError **error)
{
  FlorenceDecoderBackend *backend = st->backend;
  g_autofree gint32 *tokens = g_new (gint32, st->n_beams);

  g_array_set_size (st->bans, 0);
  for (guint b = 0; b < st->n_beams; b++)
    {
      GArray *seq = seqs[b];
      tokens[b] = g_array_index (seq, gint32, seq->len - 1);
      st->ban_offsets[b] = st->bans->len;
      if (forced < 0)
        florence_generate_ngram_bans ((const gint32 *) seq->data, seq->len,
                                      opts->no_repeat_ngram_size, st->bans);
    }
  st->ban_offsets[st->n_beams] = st->bans->len;
  /* Never the NULL data of an empty array: backends add offsets to it. */
  static const gint32 no_bans[1] = { -1 };
  const gint32 *bans = st->bans->len > 0 ? (const gint32 *) st->bans->data : no_bans;
  gboolean want_norm = kind == FLORENCE_SCORE_RAW_LOGITS && forced < 0;
  for (guint b = 0; b < st->n_beams; b++)
    st->log_norm[b] = st->norm[b] = NAN;

  FlorenceDecodeStep step = {
    .n_beams = st->n_beams,
    .position = position,
    .tokens = tokens,
    .reorder = position > 0 ? reorder : NULL,
    .score_kind = kind,
    .k = st->k,
    .forced_token = forced,
    .ban_offsets = st->ban_offsets,
    .bans = bans,
    .log_norm = want_norm && backend->step_topk != NULL ? st->log_norm : NULL,
  };

  if (backend->step_topk != NULL)
    {
      if (!backend->step_topk (backend, &step, st->cand_ids, st->cand_scores, error))
        return FALSE;
      if (forced >= 0)
        {
          /* the search's own forced candidates, whatever the backend wrote */
          for (guint b = 0; b < st->n_beams; b++)
            {
              st->cand_ids[(gsize) b * st->k] = forced;
              st->cand_scores[(gsize) b * st->k] = 0.0f;
              fill_neg_inf (st->cand_ids + (gsize) b * st->k, st->cand_scores + (gsize) b * st->k,
                            1, st->k);
            }
        }
      /* Scores that are not numbers come from damaged weights (a backend's top-k over NaN
       * logits may also leave no candidate: id -1, score -inf or NaN). */
      for (guint i = 0; i < st->n_beams * st->k && forced < 0; i++)
        if (isnan (st->cand_scores[i]) || st->cand_scores[i] == INFINITY ||
            ((st->cand_ids[i] < 0 || st->cand_ids[i] >= backend->vocab_size) &&
             !isfinite (st->cand_scores[i])))
          return set_non_finite_error (error);
      /* Nor is a beam without a single candidate: a top-k that skips NaN logits (the CPU
       * engine's) leaves only -inf fillers when every logit is NaN. */
      for (guint b = 0; b < st->n_beams && forced < 0; b++)
        if (st->cand_scores[(gsize) b * st->k] == -INFINITY)
          return set_non_finite_error (error);
      for (guint i = 0; i < st->n_beams * st->k; i++)
        if (st->cand_ids[i] < 0 || st->cand_ids[i] >= backend->vocab_size)
          {
            g_set_error (error, FLORENCE_GENERATE_ERROR, FLORENCE_GENERATE_ERROR_BACKEND,
                         _ ("The decoder returned the token id %d, which is outside the "
                            "vocabulary. This is a bug; please report it."),
                         st->cand_ids[i]);
            return FALSE;
          }
      for (guint b = 0; b < st->n_beams && want_norm; b++)
        st->norm[b] = (double) st->log_norm[b];
    }
  else
    {
      gsize n_logits = (gsize) st->n_beams * (gsize) backend->vocab_size;

      if (!backend->step_logits (backend, &step, st->logits, error))
        return FALSE;
      for (gsize i = 0; i < n_logits && forced < 0; i++)
        if (!isfinite (st->logits[i]))
          return set_non_finite_error (error);
      for (guint b = 0; b < st->n_beams; b++)
        {
          guint off = st->ban_offsets[b];

          const float *row = st->logits + (gsize) b * backend->vocab_size;

          florence_generate_select_topk (
            row, backend->vocab_size, kind, bans + off, st->ban_offsets[b + 1] - off, forced, st->k,
            st->cand_ids + (gsize) b * st->k, st->cand_scores + (gsize) b * st->k);
          if (want_norm)
            {
              float max;
              double log_sum;
              row_normaliser (row, backend->vocab_size, &max, &log_sum);
              st->norm[b] = (double) max + log_sum;
            }
        }
    }

  if (opts->trace != NULL)
    opts->trace (position, st->n_beams, st->k, st->cand_ids, st->cand_scores, opts->trace_data);
  return TRUE;
}

/* The token forced at step t (cur_len = t + 1), or -1. ForcedBOS applies when cur_len == 1,
 * ForcedEOS when cur_len == max_length - 1; the EOS processor runs last and wins. */
static gint32
forced_token_at (const FlorenceGenerateOptions *opts, guint t, guint max_new_tokens)
{
  gint32 forced = -1;
  if (t == 0 && opts->forced_bos_token_id >= 0)
    forced = opts->forced_bos_token_id;
  if (t + 1 == max_new_tokens && opts->forced_eos_token_id >= 0)
    forced = opts->forced_eos_token_id;
  return forced;
}

/* ---------------------------------------------------------------------------------------------
 * Greedy
 * ------------------------------------------------------------------------------------------- */

static gboolean
generate_greedy (FlorenceDecoderBackend *backend, const FlorenceGenerateOptions *opts,
                 guint max_new_tokens, GCancellable *cancellable, FlorenceGenerateProgress progress,
                 gpointer progress_data, FlorenceGeneration *gen, GError **error)
{
  StepState st;
  guint k = MAX (1u, opts->trace_k);
  step_state_init (&st, backend, 1, k);
  gboolean ok = FALSE;

  GArray *seq = gen->ids;
  g_array_append_val (seq, opts->decoder_start_token_id);
  if (!backend->begin (backend, 1, error))
    goto out;

  for (guint t = 0; t < max_new_tokens; t++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto out;
      gint32 forced = forced_token_at (opts, t, max_new_tokens);
      if (!run_step (&st, opts, t, &seq, NULL, FLORENCE_SCORE_RAW_LOGITS, forced, error))
        goto out;
      gint32 next = st.cand_ids[0];
      g_array_append_val (seq, next);
      if (gen->token_logprobs != NULL)
        {
          /* a forced token scores 0; else its raw logit less the normaliser */
          float lp = forced >= 0 ? 0.0f : (float) ((double) st.cand_scores[0] - st.norm[0]);
          if (isnan (lp))
            g_clear_pointer (&gen->token_logprobs, g_array_unref);
          else
            g_array_append_val (gen->token_logprobs, lp);
        }
      gen->steps_run = t + 1;
      if (progress != NULL)
        progress (t + 1, progress_data);
      if (next == opts->eos_token_id)
        {
          gen->ended_with_eos = (forced < 0);
          break;
        }
    }
  ok = TRUE;

out:
  step_state_clear (&st);
  return ok;
}

/* ---------------------------------------------------------------------------------------------
 * Beam search
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  guint n_beams;
  double length_penalty;
  FlorenceEarlyStopping early_stopping;
  GPtrArray *beams; /* FlorenceHypothesis * (borrowed from events), in insertion order */
  double worst_score;
  GPtrArray *events; /* owns */
} BeamHeap;

/* seq and lps: a beam's ids and their log-probabilities; eos_lp: the log-probability of the
 * EOS that finishes it (NaN: offered at the end, without one). */
static void
heap_add (BeamHeap *heap, GArray *seq, GArray *lps, float eos_lp, float sum_logprobs,
          guint generated_len, gboolean final)
{
  FlorenceHypothesis *hyp = g_new0 (FlorenceHypothesis, 1);
  hyp->ids = array_copy (seq, sizeof (gint32));
  hyp->logprobs = array_copy (lps, sizeof (float));
  if (!isnan (eos_lp))
    g_array_append_val (hyp->logprobs, eos_lp);
  hyp->sum_logprobs = (double) sum_logprobs;
  hyp->generated_len = generated_len;
  hyp->score = hyp->sum_logprobs / pow ((double) generated_len, heap->length_penalty);
  hyp->final = final;
  g_ptr_array_add (heap->events, hyp);

  if (heap->beams->len < heap->n_beams || hyp->score > heap->worst_score)
    {
      hyp->kept = TRUE;
      g_ptr_array_add (heap->beams, hyp);
      if (heap->beams->len > heap->n_beams)
        {
          /* sorted((score, idx)): drop the first, the new worst is the second */
          guint worst = 0, second = G_MAXUINT;
          for (guint i = 1; i < heap->beams->len; i++)
            {
              double s = ((FlorenceHypothesis *) heap->beams->pdata[i])->score;
              double sw = ((FlorenceHypothesis *) heap->beams->pdata[worst])->score;
              if (s < sw)
                {
                  second = worst;
                  worst = i;
                }
              else if (second == G_MAXUINT ||
                       s < ((FlorenceHypothesis *) heap->beams->pdata[second])->score)
                second = i;
            }
          heap->worst_score = ((FlorenceHypothesis *) heap->beams->pdata[second])->score;
          g_ptr_array_remove_index (heap->beams, worst);
        }
      else
        heap->worst_score = MIN (hyp->score, heap->worst_score);
    }
}

static gboolean
heap_is_done (BeamHeap *heap, float best_sum_logprobs, guint cur_len)
{
  if (heap->beams->len < heap->n_beams)
    return FALSE;
  if (heap->early_stopping == FLORENCE_EARLY_STOPPING_TRUE)
    return TRUE;
  /* early_stopping False: cur_len - decoder_prompt_len (1) tokens generated */
  double highest = (double) best_sum_logprobs / pow ((double) (cur_len - 1), heap->length_penalty);
  return heap->worst_score >= highest;
}

typedef struct {
  float score; /* the beam's score + logprob */
  guint beam;
  gint32 id;
  float logprob; /* the token's processed log-probability */
} BeamCand;

static int
beam_cand_compare (gconstpointer pa, gconstpointer pb, gpointer user_data)
{
  const BeamCand *a = pa, *b = pb;
  gint64 vocab = *(const int *) user_data;
  if (a->score > b->score)
    return -1;
  if (a->score < b->score)
    return 1;
  gint64 ia = (gint64) a->beam * vocab + a->id, ib = (gint64) b->beam * vocab + b->id;
  return ia < ib ? -1 : ia > ib;
}

static gboolean
generate_beam (FlorenceDecoderBackend *backend, const FlorenceGenerateOptions *opts,
               guint max_new_tokens, GCancellable *cancellable, FlorenceGenerateProgress progress,
               gpointer progress_data, FlorenceGeneration *gen, GError **error)
{
  const guint B = opts->num_beams;
  const guint n_keep = 2 * B;
  const guint max_length = 1 + max_new_tokens;
  StepState st;
  step_state_init (&st, backend, B, MAX (n_keep, opts->trace_k));
  gboolean ok = FALSE;

  GArray **seqs = g_new0 (GArray *, B);
  GArray **next_seqs = g_new0 (GArray *, B);
  GArray **lps = g_new0 (GArray *, B); /* float: the log-probabilities of seqs[b] after the start */
  GArray **next_lps = g_new0 (GArray *, B);
  float *beam_scores = g_new (float, B);
  float *next_scores = g_new (float, B);
  guint *reorder = g_new0 (guint, B);
  BeamCand *cands = g_new (BeamCand, (gsize) B * st.k);
  BeamHeap heap = {
    .n_beams = B,
    .length_penalty = opts->length_penalty,
    .early_stopping = opts->early_stopping,
    .beams = g_ptr_array_new (),
    .worst_score = 1e9,
    .events = gen->events,
  };
  gboolean done = FALSE;

  for (guint b = 0; b < B; b++)
    {
      seqs[b] = g_array_new (FALSE, FALSE, sizeof (gint32));
      g_array_append_val (seqs[b], opts->decoder_start_token_id);
      next_seqs[b] = g_array_new (FALSE, FALSE, sizeof (gint32));
      lps[b] = g_array_new (FALSE, FALSE, sizeof (float));
      next_lps[b] = g_array_new (FALSE, FALSE, sizeof (float));
      beam_scores[b] = b == 0 ? 0.0f : -1e9f;
      reorder[b] = b;
    }

  if (!backend->begin (backend, B, error))
    goto out;

  for (guint t = 0; t < max_new_tokens; t++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto out;
      const guint cur_len = t + 1; /* tokens in each beam */
      gint32 forced = forced_token_at (opts, t, max_new_tokens);
      if (!run_step (&st, opts, t, seqs, reorder, FLORENCE_SCORE_LOG_SOFTMAX, forced, error))
        goto out;

      /* top 2B over (beam, vocab) of beam_score + processed log-prob; each beam's own top 2B
       * holds every candidate that can make the global top 2B */
      guint n_cands = 0;
      for (guint b = 0; b < B; b++)
        for (guint j = 0; j < n_keep; j++)
          {
            gsize i = (gsize) b * st.k + j;
            cands[n_cands++] = (BeamCand){ beam_scores[b] + st.cand_scores[i], b, st.cand_ids[i],
                                           st.cand_scores[i] };
          }
      g_qsort_with_data (cands, (gint) n_cands, sizeof (BeamCand), beam_cand_compare,
                         &backend->vocab_size);

      guint filled = 0;
      for (guint rank = 0; rank < n_keep && filled < B; rank++)
        {
          const BeamCand *c = &cands[rank];
          if (c->id == opts->eos_token_id)
            {
              if (rank >= B)
                continue;
              /* generated_len = (cur_len + 1) - decoder_prompt_len */
              heap_add (&heap, seqs[c->beam], lps[c->beam], c->logprob, c->score, cur_len, FALSE);
            }
          else
            {
              GArray *ns = next_seqs[filled];
              g_array_set_size (ns, 0);
              g_array_append_vals (ns, seqs[c->beam]->data, seqs[c->beam]->len);
              g_array_append_val (ns, c->id);
              GArray *nl = next_lps[filled];
              g_array_set_size (nl, 0);
              g_array_append_vals (nl, lps[c->beam]->data, lps[c->beam]->len);
              g_array_append_val (nl, c->logprob);
              next_scores[filled] = c->score;
              reorder[filled] = c->beam;
              filled++;
            }
        }
      if (filled < B)
        {
          g_set_error (error, FLORENCE_GENERATE_ERROR, FLORENCE_GENERATE_ERROR_BACKEND,
                       _ ("Beam search found fewer than %u candidates for the next step. "
                          "This is a bug; please report it."),
                       B);
          goto out;
        }
      done = done || heap_is_done (&heap, cands[0].score, cur_len + 1);

      for (guint b = 0; b < B; b++)
        {
          GArray *tmp = seqs[b];
          seqs[b] = next_seqs[b];
          next_seqs[b] = tmp;
          tmp = lps[b];
          lps[b] = next_lps[b];
          next_lps[b] = tmp;
          beam_scores[b] = next_scores[b];
        }
      gen->steps_run = t + 1;
      if (progress != NULL)
        progress (t + 1, progress_data);
      if (done || cur_len + 1 >= max_length)
        break;
    }

  gen->done_before_finalize = done;
  if (!done)
    for (guint b = 0; b < B; b++)
      heap_add (&heap, seqs[b], lps[b], NAN, beam_scores[b], seqs[b]->len - 1, TRUE);

  /* the kept hypotheses, best first; python's stable sort then pop(): among equal scores
   * the one added last wins */
  {
    GPtrArray *kept = heap.beams;
    while (kept->len > 0)
      {
        guint best = 0;
        for (guint i = 1; i < kept->len; i++)
          if (((FlorenceHypothesis *) kept->pdata[i])->score >=
              ((FlorenceHypothesis *) kept->pdata[best])->score)
            best = i;
        g_ptr_array_add (gen->hypotheses, hypothesis_copy (kept->pdata[best]));
        g_ptr_array_remove_index (kept, best);
      }
  }
  if (gen->hypotheses->len == 0)
    {
      g_set_error (error, FLORENCE_GENERATE_ERROR, FLORENCE_GENERATE_ERROR_BACKEND,
                   _ ("Beam search finished without a hypothesis. This is a bug; please report "
                      "it."));
      goto out;
    }
  {
    const FlorenceHypothesis *best = gen->hypotheses->pdata[0];
    g_array_append_vals (gen->ids, best->ids->data, best->ids->len);
    g_array_append_vals (gen->token_logprobs, best->logprobs->data, best->logprobs->len);
    if (best->ids->len < max_length)
      g_array_append_val (gen->ids, opts->eos_token_id);
    /* an EOS appended to a hypothesis offered without one: masked to 0 by
     * compute_transition_scores */
    while (gen->token_logprobs->len + 1 < gen->ids->len)
      {
        float zero = 0.0f;
        g_array_append_val (gen->token_logprobs, zero);
      }
    gen->has_score = TRUE;
    gen->sequences_score = (float) best->score;
  }
  ok = TRUE;

out:
  for (guint b = 0; b < B; b++)
    {
      if (seqs[b] != NULL)
        g_array_unref (seqs[b]);
      if (next_seqs[b] != NULL)
        g_array_unref (next_seqs[b]);
      if (lps[b] != NULL)
        g_array_unref (lps[b]);
      if (next_lps[b] != NULL)
        g_array_unref (next_lps[b]);
    }
  g_free (seqs);
  g_free (next_seqs);
  g_free (lps);
  g_free (next_lps);
  g_free (beam_scores);
  g_free (next_scores);
  g_free (reorder);
  g_free (cands);
  g_ptr_array_unref (heap.beams);
  step_state_clear (&st);
  return ok;
}

/* ---------------------------------------------------------------------------------------------
 * Entry point
 * ------------------------------------------------------------------------------------------- */

FlorenceGeneration *
florence_generate (FlorenceDecoderBackend *backend, const FlorenceGenerateOptions *options,
                   GCancellable *cancellable, FlorenceGenerateProgress progress,
                   gpointer progress_data, GError **error)
{
  g_return_val_if_fail (backend != NULL, NULL);
  g_return_val_if_fail (backend->begin != NULL, NULL);
  g_return_val_if_fail (backend->step_logits != NULL || backend->step_topk != NULL, NULL);
  g_return_val_if_fail (options != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  const FlorenceGenerateOptions *opts = options;
  if (opts->num_beams == 0 || opts->num_beams > 64)
    {
      g_set_error (error, FLORENCE_GENERATE_ERROR, FLORENCE_GENERATE_ERROR_INVALID,
                   _ ("The number of beams must be between 1 and 64, not %u."), opts->num_beams);
      return NULL;
    }
  if (opts->decoder_start_token_id < 0 || opts->decoder_start_token_id >= backend->vocab_size ||
      opts->eos_token_id < 0 || opts->eos_token_id >= backend->vocab_size ||
      opts->forced_bos_token_id >= backend->vocab_size ||
      opts->forced_eos_token_id >= backend->vocab_size)
    {
      g_set_error (error, FLORENCE_GENERATE_ERROR, FLORENCE_GENERATE_ERROR_INVALID,
                   _ ("The model's start, end or forced token ids lie outside its vocabulary of "
                      "%d tokens. Check the model's config.json."),
                   backend->vocab_size);
      return NULL;
    }

  /* The decoder input at step t sits at position t: max_new_tokens steps need max_new_tokens
   * positions. */
  guint max_new_tokens = opts->max_new_tokens;
  if (backend->max_positions > 0 && max_new_tokens > (guint) backend->max_positions)
    max_new_tokens = (guint) backend->max_positions;
  backend->sequence_positions = (int) max_new_tokens;

  g_autoptr (FlorenceGeneration) gen = generation_new ();
  if (max_new_tokens == 0)
    {
      g_array_append_val (gen->ids, opts->decoder_start_token_id);
      return g_steal_pointer (&gen);
    }

  gboolean ok;
  if (opts->num_beams == 1)
    ok = generate_greedy (backend, opts, max_new_tokens, cancellable, progress, progress_data, gen,
                          error);
  else
    ok = generate_beam (backend, opts, max_new_tokens, cancellable, progress, progress_data, gen,
                        error);
  return ok ? g_steal_pointer (&gen) : NULL;
}
