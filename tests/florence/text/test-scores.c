/* test-scores.c: the scores of a result from its tokens' log-probabilities
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Where each generated id lies in the decoded text (florence_tokenizer_decode_with_offsets(),
 * the same text as florence_tokenizer_decode() on the fixtures and on random ids), which ids
 * make each instance of a post-processed result (florence_postprocess_scored(): the same
 * instances as without scores on every post-processing fixture, and scores computed by hand on
 * small outputs of each kind), and the scores in the result's JSON form.
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "florence/text/florence-postprocess.h"
#include "florence/text/florence-result.h"
#include "florence/text/florence-tokenizer.h"

static FlorenceTokenizer *tok;

static JsonNode *
load_json (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (g_getenv ("DEPICT_TEST_DATA"), dir, name, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

/* decode_with_offsets gives decode's text, and N + 1 ascending offsets that end at its end */
static GArray *
check_offsets (const gint32 *ids, gsize n, FlorenceDecodeFlags flags, char **text_out)
{
  GArray *offsets = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_autofree char *plain = florence_tokenizer_decode (tok, ids, n, flags);
  char *text = florence_tokenizer_decode_with_offsets (tok, ids, n, flags, offsets);

  g_assert_cmpstr (text, ==, plain);
  g_assert_cmpuint (offsets->len, ==, n + 1);
  g_assert_cmpuint (g_array_index (offsets, gsize, 0), ==, 0);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpuint (g_array_index (offsets, gsize, i), <=, g_array_index (offsets, gsize, i + 1));
  g_assert_cmpuint (g_array_index (offsets, gsize, n), ==, strlen (text));
  if (text_out != NULL)
    *text_out = text;
  else
    g_free (text);
  return offsets;
}

static void
test_offsets_fixtures (void)
{
  static const FlorenceDecodeFlags flags[] = { FLORENCE_DECODE_DEFAULT, FLORENCE_DECODE_NO_CLEANUP,
                                               FLORENCE_DECODE_SKIP_SPECIAL };
  g_autoptr (JsonNode) root = load_json ("tokenizer", "decode_cases.json");
  JsonArray *cases = json_object_get_array_member (json_node_get_object (root), "cases");

  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonArray *a = json_object_get_array_member (json_array_get_object_element (cases, i), "ids");
      guint n = json_array_get_length (a);
      g_autofree gint32 *ids = g_new0 (gint32, MAX (n, 1));

      for (guint k = 0; k < n; k++)
        ids[k] = (gint32) json_array_get_int_element (a, k);
      for (gsize f = 0; f < G_N_ELEMENTS (flags); f++)
        g_array_unref (check_offsets (ids, n, flags[f], NULL));
    }
}

static void
test_offsets_random (void)
{
  /* ids of every sort: words, spaces and punctuation the clean-up joins, pieces of multi-byte
   * characters, special and added tokens, ids outside the vocabulary */
  g_autoptr (GRand) r = g_rand_new_with_seed (19);
  static const char *const words[] = { "Ġ.",  "Ġ?",   "Ġ'", "Ġn", "'t",   "Ġ'm", "Ġ's",
                                       "'ve", "Ġ're", "Ġ,", "Ġ!", "Ġcat", "Ġ",   "âĢ",
                                       "ł",   "ðŁ",   "ĺ",  "Ģ",  "A" };
  for (int round = 0; round < 300; round++)
    {
      gsize n = (gsize) g_rand_int_range (r, 0, 40);
      g_autofree gint32 *ids = g_new0 (gint32, MAX (n, 1));
      for (gsize i = 0; i < n; i++)
        {
          int kind = g_rand_int_range (r, 0, 4);
          if (kind == 0)
            ids[i] = florence_tokenizer_token_to_id (
              tok, words[g_rand_int_range (r, 0, G_N_ELEMENTS (words))]);
          else if (kind == 1)
            ids[i] = g_rand_int_range (r, 0, 51289);
          else if (kind == 2)
            ids[i] = g_rand_int_range (r, 0, 5) == 0 ? 51300 : g_rand_int_range (r, 0, 4);
          else
            ids[i] = g_rand_int_range (r, 50265, 51289);
          if (ids[i] < 0)
            ids[i] = 4;
        }
      for (int f = 0; f < 3; f++)
        g_array_unref (
          check_offsets (ids, n, (FlorenceDecodeFlags) (f == 2 ? 1 << 0 : f << 1), NULL));
    }
}

/* The ids of TEXT (added tokens matched as the tokenizer does). */
static GArray *
ids_of (const char *text)
{
  return florence_tokenizer_encode_plain (tok, text);
}

static void
test_offsets_spans (void)
{
  /* the clean-up drops the space before "." (the "." stays Ġ.'s), an added token is its own
   * span, a character split by an added token becomes one U+FFFD per side */
  g_autoptr (GArray) ids = ids_of ("A cat .<loc_12>dog");
  g_autofree char *text = NULL;
  g_autoptr (GArray) offsets =
    check_offsets ((gint32 *) ids->data, ids->len, FLORENCE_DECODE_DEFAULT, &text);
  static const char *const want[] = { "A", " cat", ".", "<loc_12>", "dog" };

  g_assert_cmpstr (text, ==, "A cat.<loc_12>dog");
  g_assert_cmpuint (ids->len, ==, G_N_ELEMENTS (want));
  for (guint i = 0; i < ids->len; i++)
    {
      gsize a = g_array_index (offsets, gsize, i), b = g_array_index (offsets, gsize, i + 1);
      g_autofree char *span = g_strndup (text + a, b - a);
      g_assert_cmpstr (span, ==, want[i]);
    }
}

/* ------------------------------------------------------------------------------------------ */

/* Post-processes the decoded IDS for TASK with the log-probability LOGPROBS[i] for id i. */
static FlorenceResult *
scored (const char *task, GArray *ids, const float *logprobs)
{
  g_autofree char *text = NULL;
  g_autoptr (GArray) offsets =
    check_offsets ((gint32 *) ids->data, ids->len, FLORENCE_DECODE_DEFAULT, &text);
  FlorenceTokenScores scores = { (const gsize *) offsets->data, logprobs, ids->len };
  FlorenceResult *result = florence_postprocess_scored (task, text, 1000, 1000, &scores);

  g_assert_true (result->has_scores);
  return result;
}

/* log-probabilities: -(i + 1) / 10 for id i, NaN for id 0 (the decoder start id) */
static float *
ramp (guint n)
{
  float *lp = g_new (float, n);
  for (guint i = 0; i < n; i++)
    lp[i] = i == 0 ? NAN : -(float) (i + 1) / 10.0f;
  return lp;
}

/* exp (mean of ramp over the ids FIRST..LAST and the EXTRA ones) */
static double
geo (guint first, guint last, const guint *extra, guint n_extra)
{
  double sum = 0.0;
  guint n = 0;
  for (guint i = first; i <= last; i++, n++)
    sum += -(double) (i + 1) / 10.0;
  for (guint i = 0; i < n_extra; i++, n++)
    sum += -(double) (extra[i] + 1) / 10.0;
  return exp (sum / n);
}

static void
assert_score (GArray *scores, guint i, double want)
{
  g_assert_cmpuint (i, <, scores->len);
  g_assert_cmpfloat_with_epsilon (g_array_index (scores, float, i), want, 1e-6);
}

static void
test_scores_by_kind (void)
{
  /* <OD>: "car" and its locations; "dog" (its label shared) with each group of four */
  {
    g_autoptr (GArray) ids = ids_of ("</s><s>car<loc_1><loc_2><loc_3><loc_4>dog<loc_5><loc_6>"
                                     "<loc_7><loc_8><loc_9><loc_10><loc_11><loc_12></s>");
    g_assert_cmpuint (ids->len, ==, 17);
    g_autofree float *lp = ramp (ids->len);
    g_autoptr (FlorenceResult) r = scored ("<OD>", ids, lp);
    g_assert_cmpuint (r->boxes->len, ==, 3);
    assert_score (r->box_scores, 0, geo (2, 6, NULL, 0));
    const guint dog[] = { 7 };
    assert_score (r->box_scores, 1, geo (8, 11, dog, 1));
    assert_score (r->box_scores, 2, geo (12, 15, dog, 1));
  }
  /* a label of two words with a space before it: both word tokens, not the locations of the
   * box before */
  {
    g_autoptr (GArray) ids = ids_of ("</s>cat<loc_1><loc_2><loc_3><loc_4> red car<loc_5><loc_6>"
                                     "<loc_7><loc_8></s>");
    g_assert_cmpuint (ids->len, ==, 13);
    g_autofree float *lp = ramp (ids->len);
    g_autoptr (FlorenceResult) r = scored ("<OD>", ids, lp);
    g_assert_cmpuint (r->boxes->len, ==, 2);
    g_assert_cmpstr (g_ptr_array_index (r->box_labels, 1), ==, "red car");
    assert_score (r->box_scores, 0, geo (1, 5, NULL, 0));
    assert_score (r->box_scores, 1, geo (6, 11, NULL, 0));
  }
  /* <OCR_WITH_REGION>: a line's text and its eight locations; the first keeps "</s>", the
   * start id, which has no log-probability */
  {
    g_autoptr (GArray) ids = ids_of ("</s><s>HI<loc_1><loc_2><loc_3><loc_4><loc_5><loc_6><loc_7>"
                                     "<loc_8>OK<loc_9><loc_10><loc_11><loc_12><loc_13><loc_14>"
                                     "<loc_15><loc_16></s>");
    g_assert_cmpuint (ids->len, ==, 21);
    g_autofree float *lp = ramp (ids->len);
    g_autoptr (FlorenceResult) r = scored ("<OCR_WITH_REGION>", ids, lp);
    g_assert_cmpuint (r->quads->len, ==, 2);
    g_assert_cmpstr (g_ptr_array_index (r->quad_labels, 0), ==, "</s>HI");
    assert_score (r->quad_scores, 0, geo (2, 10, NULL, 0));
    assert_score (r->quad_scores, 1, geo (11, 19, NULL, 0));
  }
  /* segmentation: every location of the instance's polygons, not the <sep> */
  {
    g_autoptr (GArray) ids =
      ids_of ("</s><s><loc_1><loc_2><loc_3><loc_4><sep><loc_5><loc_6><loc_7></s>");
    g_autofree float *lp = ramp (ids->len);
    g_autoptr (FlorenceResult) r = scored ("<REFERRING_EXPRESSION_SEGMENTATION>", ids, lp);
    g_assert_cmpuint (r->polygons->len, ==, 1);
    const guint locs[] = { 7, 8, 9 };
    assert_score (r->polygon_scores, 0, geo (2, 5, locs, 3));
  }
  /* open vocabulary with polygons: the two scores keys of that kind */
  {
    g_autoptr (GArray) ids = ids_of ("</s><s>cat<poly><loc_1><loc_2><loc_3><loc_4></poly></s>");
    g_autofree float *lp = ramp (ids->len);
    g_autoptr (FlorenceResult) r = scored ("<OPEN_VOCABULARY_DETECTION>", ids, lp);
    g_assert_cmpuint (r->polygons->len, ==, 1);
    const guint cat[] = { 2 };
    assert_score (r->polygon_scores, 0, geo (4, 7, cat, 1));
    g_autoptr (JsonNode) node = florence_result_to_json_node (r);
    JsonObject *o = json_node_get_object (node);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "polygons_scores")),
                      ==, 1);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "bboxes_scores")), ==,
                      0);
    g_assert_false (json_object_has_member (o, "scores"));
  }
  /* a caption: its words, not <s> and </s> */
  {
    g_autoptr (GArray) ids = ids_of ("</s><s>A green car</s>");
    g_autofree float *lp = ramp (ids->len);
    g_autoptr (FlorenceResult) r = scored ("<CAPTION>", ids, lp);
    g_assert_cmpstr (r->text, ==, "A green car");
    g_assert_cmpfloat_with_epsilon (r->text_score, geo (2, 4, NULL, 0), 1e-6);
  }
  /* an empty caption has no score, and its JSON no "score" */
  {
    g_autoptr (GArray) ids = ids_of ("</s><s></s>");
    g_autofree float *lp = ramp (ids->len);
    g_autoptr (FlorenceResult) r = scored ("<CAPTION>", ids, lp);
    g_assert_true (isnan (r->text_score));
    g_autoptr (JsonNode) node = florence_result_to_json_node (r);
    g_assert_false (json_object_has_member (json_node_get_object (node), "score"));
  }
}

/* Scored or not, post-processing gives the same instances: every post-processing fixture,
 * encoded and decoded back, scored with random log-probabilities. */
static void
test_same_instances (void)
{
  g_autoptr (JsonNode) root = load_json ("postprocess", "cases.json");
  JsonArray *cases = json_object_get_array_member (json_node_get_object (root), "cases");
  g_autoptr (GRand) r = g_rand_new_with_seed (7);
  guint n_scored = 0;

  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      const char *task = json_object_get_string_member (c, "task");
      g_autoptr (GArray) ids = ids_of (json_object_get_string_member (c, "text"));
      g_autofree char *text = NULL;
      g_autoptr (GArray) offsets =
        check_offsets ((gint32 *) ids->data, ids->len, FLORENCE_DECODE_NO_CLEANUP, &text);
      g_autofree float *lp = g_new (float, MAX (ids->len, 1));
      for (guint k = 0; k < ids->len; k++)
        lp[k] = k == 0 ? NAN : (float) -g_rand_double_range (r, 0.0, 8.0);
      FlorenceTokenScores scores = { (const gsize *) offsets->data, lp, ids->len };

      g_autoptr (FlorenceResult) plain = florence_postprocess_for_token (task, text, 640, 480);
      g_autoptr (FlorenceResult) with = florence_postprocess_scored (task, text, 640, 480, &scores);
      g_autoptr (JsonNode) a = florence_result_to_reference_json_node (plain);
      g_autoptr (JsonNode) b = florence_result_to_reference_json_node (with);
      g_test_message ("%s", json_object_get_string_member (c, "name"));
      g_assert_true (json_node_equal (a, b));
      g_assert_false (plain->has_scores);
      g_assert_true (with->has_scores);

      /* a score per instance, a probability */
      GArray *all[] = { with->box_scores, with->polygon_scores, with->quad_scores };
      g_assert_cmpuint (with->box_scores->len, ==, with->boxes->len);
      g_assert_cmpuint (with->polygon_scores->len, ==, with->polygons->len);
      g_assert_cmpuint (with->quad_scores->len, ==, with->quads->len);
      for (gsize k = 0; k < G_N_ELEMENTS (all); k++)
        for (guint j = 0; j < all[k]->len; j++, n_scored++)
          {
            float s = g_array_index (all[k], float, j);
            g_assert_true (s > 0.0f && s <= 1.0f);
          }
    }
  g_assert_cmpuint (n_scored, >, 40);
}

/* ------------------------------------------------------------------------------------------ */

static void
test_json_round_trip (void)
{
  g_autoptr (GArray) ids = ids_of ("</s><s>car<loc_1><loc_2><loc_3><loc_4></s>");
  g_autofree float *lp = ramp (ids->len);
  g_autoptr (FlorenceResult) r = scored ("<OD>", ids, lp);
  g_autoptr (JsonNode) node = florence_result_to_json_node (r);
  JsonObject *o = json_node_get_object (node);
  g_autoptr (GError) error = NULL;

  /* beside the reference's keys; not in the reference's own form */
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "scores")), ==, 1);
  g_autoptr (JsonNode) ref = florence_result_to_reference_json_node (r);
  g_assert_false (json_object_has_member (
    json_object_get_object_member (json_node_get_object (ref), "<OD>"), "scores"));

  g_autoptr (FlorenceResult) back = florence_result_from_json_node (node, &error);
  g_assert_no_error (error);
  g_assert_true (back->has_scores);
  assert_score (back->box_scores, 0, g_array_index (r->box_scores, float, 0));
  g_autoptr (FlorenceResult) copy = florence_result_copy (back);
  g_assert_true (copy->has_scores);
  assert_score (copy->box_scores, 0, g_array_index (r->box_scores, float, 0));

  /* without scores (results of earlier versions): NaN, no "scores" written */
  json_object_remove_member (o, "scores");
  g_autoptr (FlorenceResult) old = florence_result_from_json_node (node, &error);
  g_assert_no_error (error);
  g_assert_false (old->has_scores);
  g_assert_true (isnan (g_array_index (old->box_scores, float, 0)));
  g_autoptr (JsonNode) again = florence_result_to_json_node (old);
  g_assert_false (json_object_has_member (json_node_get_object (again), "scores"));

  /* damaged scores are refused with a sentence */
  static const char *const bad[] = { "[]", "[1.5]", "[-0.1]", "[\"x\"]", "{}", "[0.5, 0.5]" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (JsonNode) v = json_from_string (bad[i], NULL);
      json_object_set_member (o, "scores", g_steal_pointer (&v));
      g_autoptr (FlorenceResult) damaged = florence_result_from_json_node (node, &error);
      g_assert_null (damaged);
      g_assert_error (error, FLORENCE_RESULT_ERROR, FLORENCE_RESULT_ERROR_INVALID);
      g_clear_error (&error);
    }
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;

  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("DEPICT_TEST_DATA") == NULL)
    {
      g_printerr ("DEPICT_TEST_DATA is not set\n");
      return 77;
    }
  dir = g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "tokenizer", NULL);
  tok = florence_tokenizer_new_from_dir (dir, &error);
  g_assert_no_error (error);

  g_test_add_func ("/florence/scores/offsets-fixtures", test_offsets_fixtures);
  g_test_add_func ("/florence/scores/offsets-random", test_offsets_random);
  g_test_add_func ("/florence/scores/offsets-spans", test_offsets_spans);
  g_test_add_func ("/florence/scores/by-kind", test_scores_by_kind);
  g_test_add_func ("/florence/scores/same-instances", test_same_instances);
  g_test_add_func ("/florence/scores/json-round-trip", test_json_round_trip);
  int status = g_test_run ();
  florence_tokenizer_free (tok);
  return status;
}
