/* bench-tokenizer.c: how fast the tokenizer loads, encodes 10 000 words and decodes them
 *
 * Prints figures; asserts nothing about time. Run with
 *   meson test -C _build --benchmark --verbose tokenizer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>

#include "florence/text/florence-tokenizer.h"

#define N_WORDS 10000

static const char *const words[] = {
  "the",
  "a",
  "car",
  "parked",
  "in",
  "front",
  "of",
  "yellow",
  "building",
  "with",
  "people",
  "walking",
  "on",
  "street",
  "Photograph",
  "shows",
  "Café",
  "naïve",
  "東京",
  "🐱",
  "2024",
  "3.14",
  "don't",
  "it's",
  "traffic-light",
  "pneumonoultramicroscopicsilicovolcanoconiosis",
  "<loc_52>",
  "(left)",
  "bicycles,",
  "bus.",
  "WINDOW",
  "x86_64",
  "über",
  "façade",
};

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "tokenizer", NULL);
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (FlorenceTokenizer) tok = NULL;
  g_autoptr (GArray) ids = NULL;
  g_autofree char *back = NULL;
  GRand *rand = g_rand_new_with_seed (42);
  gint64 t0, t1;
  double load_ms, cold_ms, warm_ms, decode_ms;

  for (int i = 0; i < N_WORDS; i++)
    {
      const char *w = words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))];
      if (i > 0)
        g_string_append_c (text, ' ');
      /* a third of the words get a random suffix, so the cache sees new words too */
      if (g_rand_int_range (rand, 0, 3) == 0)
        g_string_append_printf (text, "%s%c%c", w, 'a' + g_rand_int_range (rand, 0, 26),
                                'a' + g_rand_int_range (rand, 0, 26));
      else
        g_string_append (text, w);
    }
  g_rand_free (rand);

  t0 = g_get_monotonic_time ();
  tok = florence_tokenizer_new_from_dir (dir, &error);
  t1 = g_get_monotonic_time ();
  if (tok == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  load_ms = (t1 - t0) / 1000.0;

  t0 = g_get_monotonic_time ();
  ids = florence_tokenizer_encode (tok, text->str);
  t1 = g_get_monotonic_time ();
  cold_ms = (t1 - t0) / 1000.0;
  g_array_unref (ids);

  t0 = g_get_monotonic_time ();
  ids = florence_tokenizer_encode (tok, text->str);
  t1 = g_get_monotonic_time ();
  warm_ms = (t1 - t0) / 1000.0;

  t0 = g_get_monotonic_time ();
  back =
    florence_tokenizer_decode (tok, (const gint32 *) ids->data, ids->len, FLORENCE_DECODE_DEFAULT);
  t1 = g_get_monotonic_time ();
  decode_ms = (t1 - t0) / 1000.0;

  printf ("tokenizer.json load: %.1f ms\n", load_ms);
  printf ("encode %d words (%zu bytes, %u ids), empty BPE cache: %.2f ms (%.0f words/s)\n", N_WORDS,
          text->len, ids->len, cold_ms, N_WORDS / (cold_ms / 1000.0));
  printf ("encode %d words again, warm BPE cache: %.2f ms (%.0f words/s)\n", N_WORDS, warm_ms,
          N_WORDS / (warm_ms / 1000.0));
  printf ("decode %u ids: %.2f ms\n", ids->len, decode_ms);
  return back != NULL ? 0 : 1;
}
