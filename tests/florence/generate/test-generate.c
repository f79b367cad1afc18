/* test-generate.c: generation bookkeeping on small scripted decoders
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The real semantics are proven against the reference in test-model-reference.c; these tests
 * pin down the pieces on models small enough to follow by hand.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "florence/generate/florence-generate.h"

/* ------------------------------------------------------------------------------------------
 * A bigram decoder: the logits of the next token are a row of a table chosen by the input
 * token. Optionally a "hashed" decoder whose logits depend on the whole history, which it
 * rebuilds from the step's tokens and reorder indices (as a KV cache would).
 * ---------------------------------------------------------------------------------------- */

#define V_SMALL 8

typedef struct {
  FlorenceDecoderBackend parent;
  const float (*table)[V_SMALL]; /* bigram: [last token][next] */
  gboolean hashed;
  int vocab;
  guint n_beams;
  GArray *hist[8];
  guint n_steps;
  gboolean topk;    /* serve step_topk through florence_generate_select_topk */
  gboolean no_norm; /* step_topk leaves FlorenceDecodeStep.log_norm unwritten */
  guint n_norms;    /* steps that asked for the normaliser */
} Script;

static gboolean
script_begin (FlorenceDecoderBackend *b, guint n_beams, GError **error)
{
  Script *s = (Script *) b;
  g_assert_cmpuint (n_beams, <=, G_N_ELEMENTS (s->hist));
  s->n_beams = n_beams;
  for (guint i = 0; i < G_N_ELEMENTS (s->hist); i++)
    {
      if (s->hist[i] == NULL)
        s->hist[i] = g_array_new (FALSE, FALSE, sizeof (gint32));
      g_array_set_size (s->hist[i], 0);
    }
  return TRUE;
}

static void
script_logits (Script *s, const FlorenceDecodeStep *step, float *logits)
{
  g_assert_cmpuint (step->n_beams, ==, s->n_beams);
  /* rebuild the histories as a cache would: reorder, then append */
  GArray *old[8];
  for (guint b = 0; b < s->n_beams; b++)
    {
      old[b] = g_array_copy (s->hist[b]);
      g_assert_cmpuint (old[b]->len, ==, step->position);
    }
  for (guint b = 0; b < s->n_beams; b++)
    {
      GArray *src = old[step->reorder != NULL ? step->reorder[b] : b];
      g_array_set_size (s->hist[b], 0);
      g_array_append_vals (s->hist[b], src->data, src->len);
      g_array_append_val (s->hist[b], step->tokens[b]);
    }
  for (guint b = 0; b < s->n_beams; b++)
    g_array_unref (old[b]);

  for (guint b = 0; b < s->n_beams; b++)
    {
      float *row = logits + (gsize) b * s->vocab;
      if (!s->hashed)
        {
          memcpy (row, s->table[step->tokens[b]], V_SMALL * sizeof (float));
          continue;
        }
      guint32 h = 2166136261u;
      for (guint i = 0; i < s->hist[b]->len; i++)
        h = (h ^ (guint32) g_array_index (s->hist[b], gint32, i)) * 16777619u;
      GRand *r = g_rand_new_with_seed (h);
      for (int v = 0; v < s->vocab; v++)
        row[v] = (float) g_rand_double_range (r, -4.0, 4.0);
      g_rand_free (r);
    }
  s->n_steps++;
}

static gboolean
script_step_logits (FlorenceDecoderBackend *b, const FlorenceDecodeStep *step, float *logits,
                    GError **error)
{
  script_logits ((Script *) b, step, logits);
  return TRUE;
}

static gboolean
script_step_topk (FlorenceDecoderBackend *b, const FlorenceDecodeStep *step, gint32 *ids,
                  float *scores, GError **error)
{
  Script *s = (Script *) b;
  g_autofree float *logits = g_new (float, (gsize) s->vocab * step->n_beams);
  script_logits (s, step, logits);
  for (guint i = 0; i < step->n_beams; i++)
    florence_generate_select_topk (
      logits + (gsize) i * s->vocab, s->vocab, step->score_kind, step->bans + step->ban_offsets[i],
      step->ban_offsets[i + 1] - step->ban_offsets[i], step->forced_token, step->k,
      ids + (gsize) i * step->k, scores + (gsize) i * step->k);
  if (step->log_norm != NULL)
    {
      /* asked for on the unforced steps of a greedy search only, prefilled with NaN */
      g_assert_cmpint (step->score_kind, ==, FLORENCE_SCORE_RAW_LOGITS);
      g_assert_cmpint (step->forced_token, <, 0);
      s->n_norms++;
      for (guint i = 0; i < step->n_beams; i++)
        {
          g_assert_true (isnan (step->log_norm[i]));
          if (s->no_norm)
            continue;
          double sum = 0.0;
          for (int v = 0; v < s->vocab; v++)
            sum += exp ((double) logits[(gsize) i * s->vocab + v]);
          step->log_norm[i] = (float) log (sum);
        }
    }
  return TRUE;
}

static void
script_init (Script *s, const float (*table)[V_SMALL], gboolean hashed, int vocab, gboolean topk)
{
  memset (s, 0, sizeof *s);
  s->parent.vocab_size = vocab;
  s->parent.max_positions = 1024;
  s->parent.begin = script_begin;
  if (topk)
    s->parent.step_topk = script_step_topk;
  else
    s->parent.step_logits = script_step_logits;
  s->table = table;
  s->hashed = hashed;
  s->vocab = vocab;
}

static void
script_clear (Script *s)
{
  for (guint i = 0; i < G_N_ELEMENTS (s->hist); i++)
    if (s->hist[i] != NULL)
      g_array_unref (s->hist[i]);
}

static void
options_default (FlorenceGenerateOptions *o, guint beams, guint max_new)
{
  memset (o, 0, sizeof *o);
  o->num_beams = beams;
  o->max_new_tokens = max_new;
  o->no_repeat_ngram_size = 3;
  o->early_stopping = FLORENCE_EARLY_STOPPING_TRUE;
  o->length_penalty = 1.0;
  o->decoder_start_token_id = 2;
  o->forced_bos_token_id = 0;
  o->forced_eos_token_id = 2;
  o->eos_token_id = 2;
}

static void
assert_ids (const FlorenceGeneration *gen, const gint32 *want, guint n)
{
  g_assert_cmpuint (gen->ids->len, ==, n);
  g_assert_cmpmem (gen->ids->data, n * sizeof (gint32), want, n * sizeof (gint32));
}

/* One log-probability per id after the start id, each within 1e-6 of want. */
static void
assert_logprobs (const FlorenceGeneration *gen, const double *want, guint n)
{
  g_assert_nonnull (gen->token_logprobs);
  g_assert_cmpuint (gen->token_logprobs->len, ==, gen->ids->len - 1);
  g_assert_cmpuint (gen->token_logprobs->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (g_array_index (gen->token_logprobs, float, i), want[i], 1e-6);
}

static double
logprobs_sum (const FlorenceGeneration *gen)
{
  double sum = 0.0;
  for (guint i = 0; i < gen->token_logprobs->len; i++)
    sum += g_array_index (gen->token_logprobs, float, i);
  return sum;
}

/* Every row prefers 5, then 6, then 7; EOS (2) is 0, the rest -1. After 6, EOS wins when
 * eos_after_6 is set. */
static void
fill_greedy_table (float table[V_SMALL][V_SMALL], gboolean eos_after_6)
{
  for (int r = 0; r < V_SMALL; r++)
    for (int v = 0; v < V_SMALL; v++)
      table[r][v] = v == 5 ? 3.0f : v == 6 ? 2.0f : v == 7 ? 1.0f : v == 2 ? 0.0f : -1.0f;
  if (eos_after_6)
    table[6][2] = 5.0f;
}

/* ------------------------------------------------------------------------------------------ */

static void
test_ngram_bans (void)
{
  g_autoptr (GArray) bans = g_array_new (FALSE, FALSE, sizeof (gint32));
  const gint32 a[] = { 2, 0, 5, 5, 5 };
  florence_generate_ngram_bans (a, G_N_ELEMENTS (a), 3, bans);
  g_assert_cmpuint (bans->len, ==, 1);
  g_assert_cmpint (g_array_index (bans, gint32, 0), ==, 5);

  g_array_set_size (bans, 0);
  const gint32 b[] = { 1, 2, 3, 1, 2, 4, 1, 2 };
  florence_generate_ngram_bans (b, G_N_ELEMENTS (b), 3, bans);
  g_assert_cmpuint (bans->len, ==, 2);
  g_assert_cmpint (g_array_index (bans, gint32, 0), ==, 3);
  g_assert_cmpint (g_array_index (bans, gint32, 1), ==, 4);

  /* too short for a 3-gram; size 0 disables */
  g_array_set_size (bans, 0);
  florence_generate_ngram_bans (b, 1, 3, bans);
  florence_generate_ngram_bans (b, G_N_ELEMENTS (b), 0, bans);
  g_assert_cmpuint (bans->len, ==, 0);
}

static void
test_select_topk (void)
{
  const float logits[] = { 1.0f, 3.0f, 3.0f, 2.0f, -INFINITY };
  const gint32 bans[] = { 1 };
  gint32 ids[5];
  float scores[5];

  /* banned 1; the tie between 1 and 2 does not matter then; fillers by ascending id */
  florence_generate_select_topk (logits, 5, FLORENCE_SCORE_RAW_LOGITS, bans, 1, -1, 5, ids, scores);
  const gint32 want_ids[] = { 2, 3, 0, 1, 4 };
  g_assert_cmpmem (ids, sizeof ids, want_ids, sizeof want_ids);
  g_assert_cmpfloat (scores[0], ==, 3.0f);
  g_assert_cmpfloat (scores[2], ==, 1.0f);
  g_assert_true (isinf (scores[3]) && scores[3] < 0 && isinf (scores[4]));

  /* equal scores: the lower id first */
  florence_generate_select_topk (logits, 5, FLORENCE_SCORE_RAW_LOGITS, NULL, 0, -1, 2, ids, scores);
  g_assert_cmpint (ids[0], ==, 1);
  g_assert_cmpint (ids[1], ==, 2);

  /* log_softmax over all logits, the banned one included */
  florence_generate_select_topk (logits, 5, FLORENCE_SCORE_LOG_SOFTMAX, bans, 1, -1, 1, ids,
                                 scores);
  double lse = log (exp (1.0) + 2 * exp (3.0) + exp (2.0));
  g_assert_cmpint (ids[0], ==, 2);
  g_assert_cmpfloat_with_epsilon (scores[0], 3.0 - lse, 1e-6);

  /* forced: the forced id scores 0, everything else -inf */
  florence_generate_select_topk (logits, 5, FLORENCE_SCORE_LOG_SOFTMAX, NULL, 0, 4, 3, ids, scores);
  g_assert_cmpint (ids[0], ==, 4);
  g_assert_cmpfloat (scores[0], ==, 0.0f);
  g_assert_cmpint (ids[1], ==, 0);
  g_assert_cmpint (ids[2], ==, 1);
  g_assert_true (isinf (scores[1]) && isinf (scores[2]));
}

static void
test_greedy_forced_and_ngram (void)
{
  float table[V_SMALL][V_SMALL];
  fill_greedy_table (table, FALSE);
  for (int topk = 0; topk < 2; topk++)
    {
      Script s;
      script_init (&s, (const float (*)[V_SMALL]) table, FALSE, V_SMALL, topk);
      FlorenceGenerateOptions o;
      options_default (&o, 1, 6);
      g_autoptr (GError) error = NULL;
      g_autoptr (FlorenceGeneration) gen =
        florence_generate (&s.parent, &o, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      /* forced <s>; 5 5 5; the 3-gram ban turns the next 5 into 6; forced </s> */
      const gint32 want[] = { 2, 0, 5, 5, 5, 6, 2 };
      assert_ids (gen, want, G_N_ELEMENTS (want));
      g_assert_cmpuint (gen->steps_run, ==, 6);
      g_assert_cmpuint (s.n_steps, ==, 6);
      g_assert_false (gen->ended_with_eos);
      g_assert_false (gen->has_score);
      /* forced tokens score 0; the others their logit less log Σ exp over the whole row, the
       * banned 5 included */
      double lse = log (exp (3.0) + exp (2.0) + exp (1.0) + exp (0.0) + 4 * exp (-1.0));
      const double lp[] = { 0.0, 3.0 - lse, 3.0 - lse, 3.0 - lse, 2.0 - lse, 0.0 };
      assert_logprobs (gen, lp, G_N_ELEMENTS (lp));
      /* the top-k backend was asked for the normaliser on the 4 unforced steps only */
      g_assert_cmpuint (s.n_norms, ==, topk ? 4 : 0);
      script_clear (&s);
    }
}

static void
test_greedy_stops_on_eos (void)
{
  float table[V_SMALL][V_SMALL];
  fill_greedy_table (table, TRUE);
  Script s;
  script_init (&s, (const float (*)[V_SMALL]) table, FALSE, V_SMALL, FALSE);
  FlorenceGenerateOptions o;
  options_default (&o, 1, 20);
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceGeneration) gen = florence_generate (&s.parent, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  const gint32 want[] = { 2, 0, 5, 5, 5, 6, 2 };
  assert_ids (gen, want, G_N_ELEMENTS (want));
  g_assert_true (gen->ended_with_eos);
  g_assert_cmpuint (gen->steps_run, ==, 6);
  /* the EOS it chose after 6 has its own log-probability */
  double lse = log (exp (3.0) + exp (2.0) + exp (1.0) + exp (0.0) + 4 * exp (-1.0));
  double lse6 = log (exp (3.0) + exp (2.0) + exp (1.0) + exp (5.0) + 4 * exp (-1.0));
  const double lp[] = { 0.0, 3.0 - lse, 3.0 - lse, 3.0 - lse, 2.0 - lse, 5.0 - lse6 };
  assert_logprobs (gen, lp, G_N_ELEMENTS (lp));
  script_clear (&s);
}

/* A top-k backend that gives no normaliser: the ids are the same, the log-probabilities
 * absent rather than wrong. */
static void
test_greedy_without_normaliser (void)
{
  float table[V_SMALL][V_SMALL];
  fill_greedy_table (table, FALSE);
  Script s;
  script_init (&s, (const float (*)[V_SMALL]) table, FALSE, V_SMALL, TRUE);
  s.no_norm = TRUE;
  FlorenceGenerateOptions o;
  options_default (&o, 1, 6);
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceGeneration) gen = florence_generate (&s.parent, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  const gint32 want[] = { 2, 0, 5, 5, 5, 6, 2 };
  assert_ids (gen, want, G_N_ELEMENTS (want));
  g_assert_null (gen->token_logprobs);
  g_assert_cmpuint (s.n_norms, ==, 4);
  script_clear (&s);
}

static void
test_max_new_tokens_clamped (void)
{
  float table[V_SMALL][V_SMALL];
  fill_greedy_table (table, FALSE);
  Script s;
  script_init (&s, (const float (*)[V_SMALL]) table, FALSE, V_SMALL, FALSE);
  s.parent.max_positions = 3;
  FlorenceGenerateOptions o;
  options_default (&o, 1, 1024);
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceGeneration) gen = florence_generate (&s.parent, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  const gint32 want[] = { 2, 0, 5, 2 };
  assert_ids (gen, want, G_N_ELEMENTS (want));

  /* one new token: BOS and EOS are both due at step 0, EOS wins */
  florence_generation_free (g_steal_pointer (&gen));
  o.max_new_tokens = 1;
  gen = florence_generate (&s.parent, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  const gint32 want1[] = { 2, 2 };
  assert_ids (gen, want1, G_N_ELEMENTS (want1));
  script_clear (&s);
}

/* Rows are log-probabilities, so log_softmax keeps them (up to rounding). */
static void
fill_beam_table (float t[V_SMALL][V_SMALL])
{
  for (int r = 0; r < V_SMALL; r++)
    for (int v = 0; v < V_SMALL; v++)
      t[r][v] = logf (0.1f / 6);
  /* after <s>: 5 .5, </s> .3, 6 .1, five others .02 */
  for (int v = 0; v < V_SMALL; v++)
    t[0][v] = logf (0.02f);
  t[0][5] = logf (0.5f), t[0][2] = logf (0.3f), t[0][6] = logf (0.1f);
  /* after 5: </s> .6, 7 .3, six others 1/60 */
  t[5][2] = logf (0.6f), t[5][7] = logf (0.3f);
  /* after 6: 7 .5, </s> .4, six others 1/60 */
  t[6][7] = logf (0.5f), t[6][2] = logf (0.4f);
}

static void
test_beam_bookkeeping (void)
{
  float table[V_SMALL][V_SMALL];
  fill_beam_table (table);
  for (int topk = 0; topk < 2; topk++)
    {
      Script s;
      script_init (&s, (const float (*)[V_SMALL]) table, FALSE, V_SMALL, topk);
      FlorenceGenerateOptions o;
      options_default (&o, 2, 6);
      g_autoptr (GError) error = NULL;
      g_autoptr (FlorenceGeneration) gen =
        florence_generate (&s.parent, &o, NULL, NULL, NULL, &error);
      g_assert_no_error (error);

      /* step 1: 5 (beam), </s> at rank 1 → [2 0] finished (len 2), 6 (beam);
       * step 2: </s> after 5 at rank 0 → [2 0 5] finished (len 3); two finished: done */
      const gint32 want[] = { 2, 0, 5, 2 };
      assert_ids (gen, want, G_N_ELEMENTS (want));
      g_assert_cmpuint (gen->steps_run, ==, 3);
      g_assert_true (gen->done_before_finalize);
      g_assert_cmpuint (gen->events->len, ==, 2);
      const FlorenceHypothesis *e0 = gen->events->pdata[0], *e1 = gen->events->pdata[1];
      g_assert_cmpuint (e0->ids->len, ==, 2);
      g_assert_cmpuint (e0->generated_len, ==, 2);
      g_assert_cmpfloat_with_epsilon (e0->sum_logprobs, log (0.3), 1e-5);
      g_assert_cmpfloat_with_epsilon (e0->score, log (0.3) / 2, 1e-5);
      g_assert_true (e0->kept);
      g_assert_cmpuint (e1->ids->len, ==, 3);
      g_assert_cmpuint (e1->generated_len, ==, 3);
      g_assert_cmpfloat_with_epsilon (e1->sum_logprobs, log (0.5 * 0.6), 1e-5);
      g_assert_true (e1->kept);
      g_assert_cmpuint (gen->hypotheses->len, ==, 2);
      g_assert_cmpuint (((FlorenceHypothesis *) gen->hypotheses->pdata[0])->ids->len, ==, 3);
      g_assert_true (gen->has_score);
      g_assert_cmpfloat_with_epsilon (gen->sequences_score, log (0.3) / 3, 1e-5);
      /* along the winning beam: <s> forced, 5 after <s>, </s> after 5; they add up to the
       * hypothesis' sum_logprobs, and the events carry their own */
      const double lp[] = { 0.0, log (0.5), log (0.6) };
      assert_logprobs (gen, lp, G_N_ELEMENTS (lp));
      g_assert_cmpfloat_with_epsilon (logprobs_sum (gen), e1->sum_logprobs, 1e-6);
      g_assert_cmpuint (e0->logprobs->len, ==, 2);
      g_assert_cmpfloat_with_epsilon (g_array_index (e0->logprobs, float, 1), log (0.3), 1e-6);
      g_assert_cmpuint (e1->logprobs->len, ==, 3);
      script_clear (&s);
    }
}

static void
test_beam_runs_to_max_length (void)
{
  /* EOS never wins until forced: the forced step offers every beam as a hypothesis (of
   * generated_len 4), and the best comes back with </s> appended */
  float table[V_SMALL][V_SMALL];
  fill_greedy_table (table, FALSE);
  Script s;
  script_init (&s, (const float (*)[V_SMALL]) table, FALSE, V_SMALL, FALSE);
  FlorenceGenerateOptions o;
  options_default (&o, 3, 4);
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceGeneration) gen = florence_generate (&s.parent, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (gen->ids->len, ==, 5);
  g_assert_cmpint (g_array_index (gen->ids, gint32, 0), ==, 2);
  g_assert_cmpint (g_array_index (gen->ids, gint32, 1), ==, 0);
  g_assert_cmpint (g_array_index (gen->ids, gint32, 4), ==, 2);
  /* the best path is 5 5 (the ban only starts at 5 5 5) */
  g_assert_cmpint (g_array_index (gen->ids, gint32, 2), ==, 5);
  g_assert_cmpint (g_array_index (gen->ids, gint32, 3), ==, 5);
  g_assert_cmpuint (gen->events->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (((FlorenceHypothesis *) gen->events->pdata[i])->generated_len, ==, 4);
  g_assert_true (gen->done_before_finalize);
  /* the forced </s> scores 0 */
  double lse = log (exp (3.0) + exp (2.0) + exp (1.0) + exp (0.0) + 4 * exp (-1.0));
  const double lp[] = { 0.0, 3.0 - lse, 3.0 - lse, 0.0 };
  assert_logprobs (gen, lp, G_N_ELEMENTS (lp));
  const FlorenceHypothesis *best = gen->hypotheses->pdata[0];
  g_assert_cmpfloat_with_epsilon (logprobs_sum (gen), best->sum_logprobs, 1e-5);
  g_assert_cmpfloat_with_epsilon (logprobs_sum (gen) / 4, gen->sequences_score, 1e-6);

  /* without a forced </s> the open beams are offered at the end, with max_length ids and no
   * </s> appended: one log-probability per generated id */
  florence_generation_free (g_steal_pointer (&gen));
  o.forced_eos_token_id = -1;
  o.max_new_tokens = 3;
  gen = florence_generate (&s.parent, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  const gint32 want[] = { 2, 0, 5, 5 };
  assert_ids (gen, want, G_N_ELEMENTS (want));
  g_assert_false (gen->done_before_finalize);
  const double lp_open[] = { 0.0, 3.0 - lse, 3.0 - lse };
  assert_logprobs (gen, lp_open, G_N_ELEMENTS (lp_open));
  best = gen->hypotheses->pdata[0];
  g_assert_true (best->final);
  g_assert_cmpfloat_with_epsilon (logprobs_sum (gen), best->sum_logprobs, 1e-5);
  script_clear (&s);
}

static void
test_logits_and_topk_paths_agree (void)
{
  const int V = 50;
  for (guint beams = 1; beams <= 4; beams++)
    {
      Script a, b;
      script_init (&a, NULL, TRUE, V, FALSE);
      script_init (&b, NULL, TRUE, V, TRUE);
      FlorenceGenerateOptions o;
      options_default (&o, beams, 24);
      o.no_repeat_ngram_size = 2; /* bans often with only 50 ids */
      g_autoptr (GError) error = NULL;
      g_autoptr (FlorenceGeneration) ga =
        florence_generate (&a.parent, &o, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_autoptr (FlorenceGeneration) gb =
        florence_generate (&b.parent, &o, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      assert_ids (gb, (const gint32 *) ga->ids->data, ga->ids->len);
      g_assert_cmpfloat (ga->sequences_score, ==, gb->sequences_score);
      g_assert_cmpuint (ga->events->len, ==, gb->events->len);
      /* the same log-probabilities on both paths; along the beam they add up to the best
       * hypothesis' sum, whose score is that sum over its length */
      g_assert_cmpuint (ga->token_logprobs->len, ==, ga->ids->len - 1);
      g_assert_cmpuint (gb->token_logprobs->len, ==, ga->token_logprobs->len);
      for (guint i = 0; i < ga->token_logprobs->len; i++)
        {
          float x = g_array_index (ga->token_logprobs, float, i);
          g_assert_true (isfinite (x) && x <= 0.0f);
          g_assert_cmpfloat_with_epsilon (x, g_array_index (gb->token_logprobs, float, i), 1e-5);
        }
      if (beams > 1)
        {
          const FlorenceHypothesis *best = ga->hypotheses->pdata[0];
          g_assert_cmpfloat_with_epsilon (logprobs_sum (ga), best->sum_logprobs, 1e-4);
          g_assert_cmpfloat_with_epsilon (logprobs_sum (ga) / best->generated_len,
                                          ga->sequences_score, 1e-5);
        }
      /* the 2-gram ban holds in the output */
      for (guint i = 1; i + 1 < ga->ids->len; i++)
        for (guint j = i + 1; j + 1 < ga->ids->len; j++)
          g_assert_false (
            g_array_index (ga->ids, gint32, i) == g_array_index (ga->ids, gint32, j) &&
            g_array_index (ga->ids, gint32, i + 1) == g_array_index (ga->ids, gint32, j + 1));
      script_clear (&a);
      script_clear (&b);
    }
}

typedef struct {
  GCancellable *cancellable;
  guint last;
} CancelState;

static void
cancel_after_two (guint n_tokens, gpointer user_data)
{
  CancelState *cs = user_data;
  g_assert_cmpuint (n_tokens, ==, cs->last + 1);
  cs->last = n_tokens;
  if (n_tokens == 2)
    g_cancellable_cancel (cs->cancellable);
}

static void
test_cancel_and_progress (void)
{
  float table[V_SMALL][V_SMALL];
  fill_greedy_table (table, FALSE);
  for (guint beams = 1; beams <= 3; beams += 2)
    {
      Script s;
      script_init (&s, (const float (*)[V_SMALL]) table, FALSE, V_SMALL, FALSE);
      FlorenceGenerateOptions o;
      options_default (&o, beams, 50);
      g_autoptr (GCancellable) cancellable = g_cancellable_new ();
      CancelState cs = { cancellable, 0 };
      g_autoptr (GError) error = NULL;
      g_autoptr (FlorenceGeneration) gen =
        florence_generate (&s.parent, &o, cancellable, cancel_after_two, &cs, &error);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_null (gen);
      g_assert_cmpuint (s.n_steps, ==, 2);
      script_clear (&s);
    }
}

static void
test_bad_options (void)
{
  float table[V_SMALL][V_SMALL];
  fill_greedy_table (table, FALSE);
  Script s;
  script_init (&s, (const float (*)[V_SMALL]) table, FALSE, V_SMALL, FALSE);
  FlorenceGenerateOptions o;
  options_default (&o, 0, 5);
  g_autoptr (GError) error = NULL;
  g_assert_null (florence_generate (&s.parent, &o, NULL, NULL, NULL, &error));
  g_assert_error (error, FLORENCE_GENERATE_ERROR, FLORENCE_GENERATE_ERROR_INVALID);
  g_clear_error (&error);
  options_default (&o, 1, 5);
  o.decoder_start_token_id = 99;
  g_assert_null (florence_generate (&s.parent, &o, NULL, NULL, NULL, &error));
  g_assert_error (error, FLORENCE_GENERATE_ERROR, FLORENCE_GENERATE_ERROR_INVALID);
  script_clear (&s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/florence/generate/ngram-bans", test_ngram_bans);
  g_test_add_func ("/florence/generate/select-topk", test_select_topk);
  g_test_add_func ("/florence/generate/greedy-forced-and-ngram", test_greedy_forced_and_ngram);
  g_test_add_func ("/florence/generate/greedy-stops-on-eos", test_greedy_stops_on_eos);
  g_test_add_func ("/florence/generate/greedy-without-normaliser", test_greedy_without_normaliser);
  g_test_add_func ("/florence/generate/max-new-tokens-clamped", test_max_new_tokens_clamped);
  g_test_add_func ("/florence/generate/beam-bookkeeping", test_beam_bookkeeping);
  g_test_add_func ("/florence/generate/beam-runs-to-max-length", test_beam_runs_to_max_length);
  g_test_add_func ("/florence/generate/logits-and-topk-agree", test_logits_and_topk_paths_agree);
  g_test_add_func ("/florence/generate/cancel-and-progress", test_cancel_and_progress);
  g_test_add_func ("/florence/generate/bad-options", test_bad_options);
  return g_test_run ();
}
