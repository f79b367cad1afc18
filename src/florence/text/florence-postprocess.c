/* florence-postprocess.c: the reference post-processing of Florence-2, by hand
 *
 * Each parser reproduces one regular expression of the reference
 * (processing_florence2.py, Florence2PostProcesser) with Python's semantics: "." does not
 * match "\n", "\s" and str.strip() use str.isspace(), "\d" is any Unicode decimal digit
 * (and int() reads it), findall/finditer scan left to right without overlaps. All scanning
 * is bounded by the string's end and runs in linear time (a failed match at one start
 * position is never retried at positions that must fail the same way).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/text/florence-postprocess.h"

#include <math.h>
#include <string.h>

/* A string with explicit bounds; every access checks them. */
typedef struct {
  const char *s;
  gsize len;
} Str;

static gboolean
has_prefix_at (Str t, gsize pos, const char *prefix)
{
  gsize l = strlen (prefix);

  return pos <= t.len && t.len - pos >= l && memcmp (t.s + pos, prefix, l) == 0;
}

/* Python's str.isspace() for one code point. */
static gboolean
py_isspace (gunichar c)
{
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

/* Decodes the code point at POS (the text is valid UTF-8); *NEXT receives the next index. */
static gunichar
char_at (Str t, gsize pos, gsize *next)
{
  const char *p = t.s + pos;
  const char *n = g_utf8_next_char (p);

  if ((gsize) (n - t.s) > t.len)
    n = t.s + t.len;
  *next = (gsize) (n - t.s);
  return g_utf8_get_char (p);
}

/* "\d+" at POS: Unicode decimal digits. Returns the end index (== POS when none) and
 * their value, saturated. */
static gsize
match_digits (Str t, gsize pos, gint64 *value)
{
  gint64 v = 0;
  gsize p = pos;

  while (p < t.len)
    {
      gsize next;
      gunichar c;
      int d;

      if ((guchar) t.s[p] < 0x80)
        {
          if (t.s[p] < '0' || t.s[p] > '9')
            break;
          d = t.s[p] - '0';
          next = p + 1;
        }
      else
        {
          c = char_at (t, p, &next);
          if (g_unichar_type (c) != G_UNICODE_DECIMAL_NUMBER)
            break;
          d = g_unichar_digit_value (c);
          if (d < 0)
            break;
        }
      v = v > (G_MAXINT64 - d) / 10 ? G_MAXINT64 : v * 10 + d;
      p = next;
    }
  if (value != NULL)
    *value = v;
  return p;
}

/* "<loc_(\d+)>" at POS: returns the end index, or 0 when there is none. */
static gsize
match_loc (Str t, gsize pos, gint64 *value)
{
  gsize d;

  if (!has_prefix_at (t, pos, "<loc_"))
    return 0;
  d = match_digits (t, pos + 5, value);
  if (d == pos + 5 || d >= t.len || t.s[d] != '>')
    return 0;
  return d + 1;
}

/* One token of a run: "<loc_\d+>", or with POLY also "<sep>", "<poly>", "</poly>". */
static gsize
match_run_token (Str t, gsize pos, gboolean poly)
{
  gsize e = match_loc (t, pos, NULL);

  if (e != 0 || !poly)
    return e;
  if (has_prefix_at (t, pos, "<sep>"))
    return pos + 5;
  if (has_prefix_at (t, pos, "<poly>"))
    return pos + 6;
  if (has_prefix_at (t, pos, "</poly>"))
    return pos + 7;
  return 0;
}

/* The maximal run of tokens at POS; returns its end and count. */
static gsize
match_run (Str t, gsize pos, gboolean poly, gsize *count)
{
  gsize n = 0, e;

  while ((e = match_run_token (t, pos, poly)) != 0)
    {
      pos = e;
      n++;
    }
  *count = n;
  return pos;
}

/* findall of "([^<]+(?:TOKEN){4,})" (REQUIRE_TEXT) or "(?:(?:TOKEN){4,})", starting at
 * *FROM. On success returns TRUE with the match in [*start, *end) and *FROM moved past it. */
static gboolean
next_phrase (Str t, gsize *from, gboolean require_text, gboolean poly, gsize *start, gsize *end)
{
  gsize s = *from;

  while (s < t.len)
    {
      gsize lt, run_end, count;
      const char *p;

      if (require_text)
        {
          if (t.s[s] == '<')
            {
              s++;
              continue;
            }
          p = memchr (t.s + s, '<', t.len - s);
          lt = p != NULL ? (gsize) (p - t.s) : t.len;
        }
      else
        {
          p = memchr (t.s + s, '<', t.len - s);
          if (p == NULL)
            break;
          lt = (gsize) (p - t.s);
        }
      run_end = match_run (t, lt, poly, &count);
      if (count >= 4)
        {
          *start = require_text ? s : lt;
          *end = run_end;
          *from = run_end;
          return TRUE;
        }
      /* Every start in [s, lt] fails the same way. */
      s = lt + 1;
    }
  *from = t.len;
  return FALSE;
}

/* re.search(r'^\s*(.*?)(?=<od>|</od>|<box>|</box>|<bbox>|</bbox>|<loc_[|<poly>])', t).group()
 * Returns FALSE when there is no match. */
static gboolean
search_phrase_label (Str t, gboolean poly, Str *label)
{
  static const char *const stops[] = { "<od>",   "</od>",   "<box>", "</box>",
                                       "<bbox>", "</bbox>", "<loc_", "<poly>" };
  gsize n_stops = poly ? G_N_ELEMENTS (stops) : G_N_ELEMENTS (stops) - 1;
  gsize p = 0, next;

  while (p < t.len && py_isspace (char_at (t, p, &next)))
    p = next;
  for (;;)
    {
      for (gsize i = 0; i < n_stops; i++)
        if (has_prefix_at (t, p, stops[i]))
          {
            label->s = t.s;
            label->len = p;
            return TRUE;
          }
      if (p >= t.len || t.s[p] == '\n')
        return FALSE;
      char_at (t, p, &next);
      p = next;
    }
}

/* str.strip() */
static Str
py_strip (Str t)
{
  gsize a = 0, b = t.len, next;

  while (a < b && py_isspace (char_at (t, a, &next)))
    a = next;
  while (b > a)
    {
      const char *prev = g_utf8_find_prev_char (t.s + a, t.s + b);
      gsize pb = prev != NULL ? (gsize) (prev - t.s) : a;
      if (!py_isspace (char_at (t, pb, &next)))
        break;
      b = pb;
    }
  return (Str){ t.s + a, b - a };
}

/* .encode('ascii', errors='ignore').decode('ascii') */
static char *
ascii_only (Str t)
{
  char *out = g_malloc (t.len + 1);
  gsize n = 0;

  for (gsize i = 0; i < t.len; i++)
    if ((guchar) t.s[i] < 0x80)
      out[n++] = t.s[i];
  out[n] = '\0';
  return out;
}

float
florence_postprocess_dequantize (gint64 k, int size)
{
  volatile float centre = (float) k + 0.5f;
  volatile float per_bin = (float) ((double) size / 1000.0);

  return centre * per_bin;
}

/* s.replace(FROM, ''). ORIGIN, when not NULL, holds one gsize per byte of S (where in the
 * post-processor's input it comes from) and is updated to the bytes kept. */
static char *
replace_all (const char *s, const char *from, GArray *origin)
{
  gsize lf = strlen (from), kept = 0;
  GString *out = g_string_sized_new (strlen (s));
  const char *p = s, *m;

  while ((m = strstr (p, from)) != NULL)
    {
      g_string_append_len (out, p, m - p);
      for (const char *q = p; origin != NULL && q < m; q++)
        g_array_index (origin, gsize, kept++) = g_array_index (origin, gsize, q - s);
      p = m + lf;
    }
  g_string_append (out, p);
  for (const char *q = p; origin != NULL && *q != '\0'; q++)
    g_array_index (origin, gsize, kept++) = g_array_index (origin, gsize, q - s);
  if (origin != NULL)
    g_array_set_size (origin, (guint) kept);
  return g_string_free (out, FALSE);
}

/* text.replace('<s>', '').replace('</s>', '').replace('<pad>', '') */
static char *
remove_specials (const char *text, gboolean pad, GArray *origin)
{
  g_autofree char *a = replace_all (text, "<s>", origin);
  g_autofree char *b = replace_all (a, "</s>", origin);

  return pad ? replace_all (b, "<pad>", origin) : g_steal_pointer (&b);
}

/* ------------------------------------------------------------------------------------- */
/* Scores (florence-result.h): the geometric mean of the probabilities of the ids whose bytes
 * an instance covers, each id counted once.                                                 */

typedef struct {
  const FlorenceTokenScores *scores;
  const char *base;    /* the text the parsers read */
  const gsize *origin; /* for each byte of base, the input byte it comes from */
  guint *byte_id;      /* for each input byte, the id that made it */
  guint *seen;         /* per id: the last instance that counted it */
  guint stamp;
  double sum;
  guint count;
} Scorer;

static void
scorer_begin (Scorer *sc)
{
  if (sc == NULL)
    return;
  sc->stamp++;
  sc->sum = 0.0;
  sc->count = 0;
}

/* Counts the ids that made the LEN bytes of the parsed text at FROM. */
static void
scorer_add (Scorer *sc, const char *from, gsize len)
{
  if (sc == NULL)
    return;
  for (gsize i = 0; i < len; i++)
    {
      guint id = sc->byte_id[sc->origin[(gsize) (from - sc->base) + i]];
      if (id >= sc->scores->n_ids || sc->seen[id] == sc->stamp)
        continue;
      sc->seen[id] = sc->stamp;
      if (!isnan (sc->scores->logprobs[id]))
        {
          sc->sum += sc->scores->logprobs[id];
          sc->count++;
        }
    }
}

static float
scorer_end (Scorer *sc)
{
  if (sc == NULL || sc->count == 0)
    return NAN;
  return (float) exp (sc->sum / sc->count);
}

/* The values of consecutive "<loc_N>" tokens from POS, and in ENDS (gsize) where each ends;
 * returns the count. */
static gsize
read_locs (Str t, gsize pos, gsize end, GArray *values, GArray *ends)
{
  gsize n = 0, e;
  gint64 v;

  while (pos < end && (e = match_loc (t, pos, &v)) != 0 && e <= end)
    {
      g_array_append_val (values, v);
      g_array_append_val (ends, e);
      pos = e;
      n++;
    }
  return n;
}

static const char *const grounding_black_list[] = {
  "it",         "I",           "me",         "mine",          "you",      "your",
  "yours",      "he",          "him",        "his",           "she",      "her",
  "hers",       "they",        "them",       "their",         "theirs",   "one",
  "oneself",    "we",          "us",         "our",           "ours",     "its",
  "myself",     "yourself",    "himself",    "herself",       "itself",   "ourselves",
  "yourselves", "themselves",  "this",       "that",          "these",    "those",
  "who",        "whom",        "whose",      "which",         "what",     "all",
  "another",    "any",         "anybody",    "anyone",        "anything", "each",
  "everybody",  "everyone",    "everything", "few",           "many",     "nobody",
  "none",       "several",     "some",       "somebody",      "someone",  "something",
  "each other", "one another", "the image",  "image",         "images",   "the",
  "a",          "an",          "a group",    "other objects", "lots",     "a set",
};

static gboolean
is_black_listed (Str phrase)
{
  for (gsize i = 0; i < G_N_ELEMENTS (grounding_black_list); i++)
    if (strlen (grounding_black_list[i]) == phrase.len &&
        memcmp (grounding_black_list[i], phrase.s, phrase.len) == 0)
      return TRUE;
  return FALSE;
}

/* parse_description_with_bboxes_from_text_and_spans, and with GROUNDING the phrase
 * grounding variant (black list, flattened). Boxes are added to RESULT. */
static void
parse_bboxes (FlorenceResult *result, Str t, gboolean allow_empty, gboolean grounding, Scorer *sc)
{
  g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GArray) ends = g_array_new (FALSE, FALSE, sizeof (gsize));
  gsize from = 0, start, end;

  while (next_phrase (t, &from, !allow_empty, FALSE, &start, &end))
    {
      Str phrase = { t.s + start, end - start };
      Str label;
      g_autofree char *ascii = NULL;
      gsize lt;
      const char *p;

      if (!search_phrase_label (phrase, FALSE, &label))
        continue;
      label = py_strip (label);
      if (grounding && is_black_listed (label))
        continue;

      /* finditer of four locs: the text part holds no '<', so the groups are the
       * consecutive quadruples of the run. */
      p = memchr (phrase.s, '<', phrase.len);
      lt = p != NULL ? (gsize) (p - phrase.s) : phrase.len;
      g_array_set_size (values, 0);
      g_array_set_size (ends, 0);
      read_locs (phrase, lt, phrase.len, values, ends);
      if (values->len < 4)
        continue;

      ascii = ascii_only (label);
      for (guint i = 0; i + 4 <= values->len; i += 4)
        {
          const gint64 *v = &g_array_index (values, gint64, i);
          FlorenceBox box = {
            florence_postprocess_dequantize (v[0], result->image_width),
            florence_postprocess_dequantize (v[1], result->image_height),
            florence_postprocess_dequantize (v[2], result->image_width),
            florence_postprocess_dequantize (v[3], result->image_height),
          };
          /* its label and its four locations */
          gsize locs = i == 0 ? lt : g_array_index (ends, gsize, i - 1);
          scorer_begin (sc);
          scorer_add (sc, label.s, label.len);
          scorer_add (sc, phrase.s + locs, g_array_index (ends, gsize, i + 3) - locs);
          florence_result_add_box_scored (result, ascii, &box, scorer_end (sc));
        }
    }
}

/* finditer(r'((?:<loc_\d+>)+)(?:<sep>|$)', inst): adds one polygon per match to INSTANCE.
 * Returns the number of polygons. */
static guint
parse_polygons_of_instance (FlorenceResult *result, Str inst, GPtrArray *polys, Scorer *sc)
{
  g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (gint64));
  gsize s = 0;
  guint n = 0;

  while (s < inst.len)
    {
      const char *p = memchr (inst.s + s, '<', inst.len - s);
      gsize lt, run_end, count;
      gboolean at_end;

      if (p == NULL)
        break;
      lt = (gsize) (p - inst.s);
      g_array_set_size (values, 0);
      count = 0;
      run_end = lt;
      {
        gsize e;
        gint64 v;
        while ((e = match_loc (inst, run_end, &v)) != 0)
          {
            g_array_append_val (values, v);
            run_end = e;
            count++;
          }
      }
      if (count == 0)
        {
          s = lt + 1;
          continue;
        }
      /* "$": the end, or just before a final "\n" */
      at_end = run_end == inst.len || (run_end + 1 == inst.len && inst.s[run_end] == '\n');
      if (!at_end && !has_prefix_at (inst, run_end, "<sep>"))
        {
          s = run_end; /* every later start inside the run ends here too */
          continue;
        }

      {
        guint m = values->len & ~1u;
        g_autofree float *xy = g_new (float, MAX (m, 1));
        for (guint i = 0; i < m; i += 2)
          {
            xy[i] = florence_postprocess_dequantize (g_array_index (values, gint64, i),
                                                     result->image_width);
            xy[i + 1] = florence_postprocess_dequantize (g_array_index (values, gint64, i + 1),
                                                         result->image_height);
          }
        GArray *poly = g_array_sized_new (FALSE, FALSE, sizeof (float), m);
        g_array_append_vals (poly, xy, m);
        g_ptr_array_add (polys, poly);
        scorer_add (sc, inst.s + lt, run_end - lt);
        n++;
      }
      s = at_end ? inst.len : run_end + 5;
    }
  return n;
}

/* An instance of the polygons in INST, labelled LABEL (which is the text of LABEL_STR). */
static void
add_polygon_instance (FlorenceResult *result, const char *label, Str label_str, Str inst,
                      Scorer *sc)
{
  g_autoptr (GPtrArray) polys = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);

  scorer_begin (sc);
  scorer_add (sc, label_str.s, label_str.len);
  if (parse_polygons_of_instance (result, inst, polys, sc) == 0)
    return;
  guint k = florence_result_add_polygon_instance_scored (result, label, scorer_end (sc));
  for (guint i = 0; i < polys->len; i++)
    {
      GArray *poly = g_ptr_array_index (polys, i);
      florence_result_add_polygon (result, k, (const float *) poly->data, poly->len);
    }
}

static const char *
find_in (Str t, gsize from, const char *needle)
{
  gsize l = strlen (needle);

  for (gsize p = from; p + l <= t.len; p++)
    {
      const char *q = memchr (t.s + p, needle[0], t.len - p);
      if (q == NULL)
        return NULL;
      p = (gsize) (q - t.s);
      if (p + l <= t.len && memcmp (q, needle, l) == 0)
        return q;
    }
  return NULL;
}

/* parse_description_with_polygons_from_text_and_spans */
static void
parse_polygons (FlorenceResult *result, Str t, gboolean allow_empty, Scorer *sc)
{
  gsize from = 0, start, end;

  while (next_phrase (t, &from, !allow_empty, TRUE, &start, &end))
    {
      Str phrase = { t.s + start, end - start };
      Str stripped = phrase, label;
      g_autofree char *label_str = NULL;

      /* re.sub(r'^loc_\d+>', '', phrase, count=1) */
      if (has_prefix_at (phrase, 0, "loc_"))
        {
          gsize d = match_digits (phrase, 4, NULL);
          if (d > 4 && d < phrase.len && phrase.s[d] == '>')
            stripped = (Str){ phrase.s + d + 1, phrase.len - d - 1 };
        }
      if (stripped.len == 0 && !allow_empty)
        continue;
      if (!search_phrase_label (stripped, TRUE, &label))
        continue;
      label = py_strip (label);
      label_str = g_strndup (label.s, label.len);

      if (find_in (phrase, 0, "<poly>") != NULL && find_in (phrase, 0, "</poly>") != NULL)
        {
          /* finditer(r'<poly>(.*?)</poly>') */
          gsize s = 0;
          const char *open;
          while ((open = find_in (phrase, s, "<poly>")) != NULL)
            {
              gsize content = (gsize) (open - phrase.s) + 6;
              const char *close = find_in (phrase, content, "</poly>");
              const char *nl;

              if (close == NULL)
                break; /* no later <poly> can close either */
              nl = memchr (phrase.s + content, '\n', (gsize) (close - phrase.s) - content);
              if (nl != NULL)
                {
                  s = (gsize) (open - phrase.s) + 1;
                  continue;
                }
              add_polygon_instance (
                result, label_str, label,
                (Str){ phrase.s + content, (gsize) (close - phrase.s) - content }, sc);
              s = (gsize) (close - phrase.s) + 7;
            }
        }
      else
        add_polygon_instance (result, label_str, label, phrase, sc);
    }
}

/* parse_ocr_from_text_and_spans: findall(r'(.+?)(<loc_(\d+)>){8}') */
static void
parse_ocr (FlorenceResult *result, Str t, Scorer *sc)
{
  gsize s = 0;

  while (s < t.len)
    {
      gsize line_end, first, p;
      const char *nl;
      gboolean found = FALSE;

      if (t.s[s] == '\n')
        {
          s++;
          continue;
        }
      nl = memchr (t.s + s, '\n', t.len - s);
      line_end = nl != NULL ? (gsize) (nl - t.s) : t.len;
      char_at (t, s, &first); /* ".+?" takes at least one character */

      for (p = first; p < line_end; p++)
        {
          const char *lt = memchr (t.s + p, '<', line_end - p);
          gint64 v[8];
          gsize e = 0, q;
          int i;

          if (lt == NULL)
            break;
          p = (gsize) (lt - t.s);
          for (i = 0, q = p; i < 8; i++, q = e)
            if ((e = match_loc (t, q, &v[i])) == 0)
              break;
          if (i < 8)
            continue;

          {
            g_autofree char *label = g_strndup (t.s + s, p - s);
            FlorenceQuad quad;
            for (int k = 0; k < 8; k++)
              quad.p[k] = florence_postprocess_dequantize (v[k], k % 2 == 0 ? result->image_width
                                                                            : result->image_height);
            /* its text and its eight locations */
            scorer_begin (sc);
            scorer_add (sc, t.s + s, q - s);
            florence_result_add_quad_scored (result, label, &quad, scorer_end (sc));
          }
          s = q;
          found = TRUE;
          break;
        }
      if (!found)
        s = line_end;
    }
}

/* Post-processes TEXT for TYPE; with SCORES (and TEXT valid UTF-8) every instance is scored. */
static FlorenceResult *
postprocess (FlorenceParseType type, const char *task_token, const char *text, int image_w,
             int image_h, const FlorenceTokenScores *scores)
{
  g_autofree char *valid = NULL;
  g_autofree char *clean = NULL;
  g_autoptr (GArray) origin = NULL;
  g_autofree guint *byte_id = NULL;
  g_autofree guint *seen = NULL;
  Scorer scorer = { scores }, *sc = NULL;
  FlorenceResult *result;
  Str t;

  if (!g_utf8_validate (text, -1, NULL))
    text = valid = g_utf8_make_valid (text, -1);
  else if (scores != NULL)
    {
      /* which id made each byte of the text, and where each parsed byte comes from */
      gsize len = strlen (text);
      origin = g_array_sized_new (FALSE, FALSE, sizeof (gsize), (guint) len);
      byte_id = g_new (guint, len + 1);
      for (gsize i = 0; i < len; i++)
        {
          g_array_append_val (origin, i);
          byte_id[i] = G_MAXUINT;
        }
      for (gsize id = 0; id < scores->n_ids; id++)
        for (gsize b = scores->offsets[id]; b < scores->offsets[id + 1] && b < len; b++)
          byte_id[b] = (guint) id;
      seen = g_new0 (guint, scores->n_ids + 1);
      scorer.byte_id = byte_id;
      scorer.seen = seen;
      sc = &scorer;
    }

  switch (type)
    {
    case FLORENCE_PARSE_DESCRIPTION_WITH_BBOXES:
    case FLORENCE_PARSE_BBOXES:
    case FLORENCE_PARSE_PHRASE_GROUNDING:
      result = florence_result_new (FLORENCE_RESULT_BOXES, task_token, image_w, image_h);
      clean = remove_specials (text, TRUE, origin);
      break;
    case FLORENCE_PARSE_POLYGONS:
      result = florence_result_new (FLORENCE_RESULT_POLYGONS, task_token, image_w, image_h);
      clean = remove_specials (text, TRUE, origin);
      break;
    case FLORENCE_PARSE_DESCRIPTION_WITH_BBOXES_OR_POLYGONS:
      result =
        florence_result_new (FLORENCE_RESULT_BOXES_OR_POLYGONS, task_token, image_w, image_h);
      clean = remove_specials (text, TRUE, origin);
      break;
    case FLORENCE_PARSE_OCR:
      result = florence_result_new (FLORENCE_RESULT_QUADS, task_token, image_w, image_h);
      clean = replace_all (text, "<s>", origin);
      break;
    case FLORENCE_PARSE_PURE_TEXT:
    default:
      type = FLORENCE_PARSE_PURE_TEXT;
      result = florence_result_new (FLORENCE_RESULT_TEXT, task_token, image_w, image_h);
      clean = remove_specials (text, FALSE, origin);
      break;
    }
  t = (Str){ clean, strlen (clean) };
  if (sc != NULL)
    {
      scorer.base = clean;
      scorer.origin = (const gsize *) origin->data;
      result->has_scores = TRUE;
    }

  switch (type)
    {
    case FLORENCE_PARSE_DESCRIPTION_WITH_BBOXES:
    case FLORENCE_PARSE_BBOXES:
    case FLORENCE_PARSE_PHRASE_GROUNDING:
      parse_bboxes (result, t, type == FLORENCE_PARSE_BBOXES,
                    type == FLORENCE_PARSE_PHRASE_GROUNDING, sc);
      break;
    case FLORENCE_PARSE_POLYGONS:
      parse_polygons (result, t, TRUE, sc);
      break;
    case FLORENCE_PARSE_DESCRIPTION_WITH_BBOXES_OR_POLYGONS:
      if (strstr (clean, "<poly>") != NULL)
        parse_polygons (result, t, FALSE, sc);
      else
        parse_bboxes (result, t, FALSE, FALSE, sc);
      break;
    case FLORENCE_PARSE_OCR:
      parse_ocr (result, t, sc);
      break;
    case FLORENCE_PARSE_PURE_TEXT:
    default:
      florence_result_set_text (result, clean);
      /* the whole answer */
      scorer_begin (sc);
      scorer_add (sc, t.s, t.len);
      result->text_score = scorer_end (sc);
      break;
    }
  return result;
}

FlorenceResult *
florence_postprocess_with_type (FlorenceParseType type, const char *task_token, const char *text,
                                int image_w, int image_h)
{
  g_return_val_if_fail (text != NULL, NULL);
  return postprocess (type, task_token, text, image_w, image_h, NULL);
}

/* The parse type of TASK_TOKEN, and the token the result keeps. */
static FlorenceParseType
parse_type_for (const char **task_token)
{
  const FlorenceTaskInfo *task = *task_token != NULL ? florence_task_lookup (*task_token) : NULL;

  if (task == NULL)
    return FLORENCE_PARSE_PURE_TEXT;
  *task_token = task->token;
  return task->parse_type;
}

FlorenceResult *
florence_postprocess (const FlorenceTaskInfo *task, const char *text, int image_w, int image_h)
{
  g_return_val_if_fail (text != NULL, NULL);
  if (task == NULL)
    return florence_postprocess_with_type (FLORENCE_PARSE_PURE_TEXT, "", text, image_w, image_h);
  return florence_postprocess_with_type (task->parse_type, task->token, text, image_w, image_h);
}

FlorenceResult *
florence_postprocess_for_token (const char *task_token, const char *text, int image_w, int image_h)
{
  g_return_val_if_fail (text != NULL, NULL);
  FlorenceParseType type = parse_type_for (&task_token);
  return postprocess (type, task_token, text, image_w, image_h, NULL);
}

FlorenceResult *
florence_postprocess_scored (const char *task_token, const char *text, int image_w, int image_h,
                             const FlorenceTokenScores *scores)
{
  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (scores == NULL || scores->offsets != NULL, NULL);
  g_return_val_if_fail (scores == NULL || scores->logprobs != NULL || scores->n_ids == 0, NULL);
  FlorenceParseType type = parse_type_for (&task_token);
  return postprocess (type, task_token, text, image_w, image_h, scores);
}
