/* make-random-model.c: writes a Florence-2-base model directory with random weights
 *
 *   make-random-model OUTDIR [--config base|large] [--seed N] [--data TESTDATA]
 *
 * For benchmarks: the real shapes (spec §6.2; 231.4 M parameters, a ~463 MB fp16
 * model.safetensors for base), deterministic pseudo-random weights of a sensible scale —
 * N(0, 0.02) for linear, convolution and embedding weights, ones and zeros for LayerNorm, zero
 * biases, zero final_logits_bias and the real cosine temporal table — next to the hub's
 * config.json, generation_config.json and preprocessor_config.json and the tokenizer files of
 * tests/data/tokenizer. The weights mean nothing: generated text is noise, timings are real.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/files/florence-checkpoint.h"
#include "florence/files/florence-config.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* splitmix64 → xoshiro256** */
typedef struct {
  guint64 s[4];
  gboolean have_spare;
  double spare;
} Rng;

static guint64
splitmix (guint64 *x)
{
  guint64 z = (*x += 0x9e3779b97f4a7c15ull);

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static guint64
rotl (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

static guint64
rng_next (Rng *r)
{
  guint64 result = rotl (r->s[1] * 5, 7) * 9, t = r->s[1] << 17;

  r->s[2] ^= r->s[0];
  r->s[3] ^= r->s[1];
  r->s[1] ^= r->s[2];
  r->s[0] ^= r->s[3];
  r->s[2] ^= t;
  r->s[3] = rotl (r->s[3], 45);
  return result;
}

static void
rng_init (Rng *r, guint64 seed)
{
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix (&seed);
  r->have_spare = FALSE;
}

/* Standard normal, Box–Muller. */
static double
rng_normal (Rng *r)
{
  double u, v;

  if (r->have_spare)
    {
      r->have_spare = FALSE;
      return r->spare;
    }
  u = ((rng_next (r) >> 11) + 1.0) * (1.0 / 9007199254740993.0); /* (0, 1] */
  v = (rng_next (r) >> 11) * (1.0 / 9007199254740992.0);
  r->spare = sqrt (-2.0 * log (u)) * sin (2.0 * G_PI * v);
  r->have_spare = TRUE;
  return sqrt (-2.0 * log (u)) * cos (2.0 * G_PI * v);
}

typedef enum { FILL_NORMAL, FILL_ONES, FILL_ZEROS, FILL_COSINE } Fill;

static Fill
fill_for (const FlorenceTensorSpec *s)
{
  if (g_str_equal (s->name, "visual_temporal_embed.pos_idx_to_embed"))
    return FILL_COSINE;
  if (g_str_has_suffix (s->name, ".bias") ||
      g_str_equal (s->name, "language_model.final_logits_bias"))
    return FILL_ZEROS;
  if (s->n_dims == 1) /* every 1-D weight is a LayerNorm's */
    return FILL_ONES;
  return FILL_NORMAL;
}

static gsize
n_elements (const FlorenceTensorSpec *s)
{
  gsize n = 1;

  for (guint d = 0; d < s->n_dims; d++)
    n *= (gsize) s->shape[d];
  return n;
}

static gboolean
copy_file (const char *from, const char *to, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len;

  return g_file_get_contents (from, &contents, &len, error) &&
         g_file_set_contents (to, contents, (gssize) len, error);
}

static gboolean
write_weights (const char *path, GPtrArray *specs, guint64 seed, guint64 *total, GError **error)
{
  g_autofree char *tmp = g_strconcat (path, ".part", NULL);
  g_autoptr (GString) header = g_string_new ("{\"__metadata__\":{\"format\":\"pt\"}");
  g_autofree guint16 *buf = NULL;
  const gsize chunk = 1 << 20;
  guint64 offset = 0, hlen;
  guint8 len_bytes[8];
  FILE *f;
  Rng rng;

  for (guint i = 0; i < specs->len; i++)
    {
      const FlorenceTensorSpec *s = g_ptr_array_index (specs, i);
      guint64 bytes = n_elements (s) * 2;

      if (s->is_tied)
        continue;
      g_string_append_printf (header, ",\"%s\":{\"dtype\":\"F16\",\"shape\":[", s->name);
      for (guint d = 0; d < s->n_dims; d++)
        g_string_append_printf (header, "%s%" G_GINT64_FORMAT, d ? "," : "", s->shape[d]);
      g_string_append_printf (header,
                              "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT "]}",
                              offset, offset + bytes);
      offset += bytes;
    }
  g_string_append_c (header, '}');
  while (header->len % 8 != 0)
    g_string_append_c (header, ' ');
  hlen = header->len;
  for (int i = 0; i < 8; i++)
    len_bytes[i] = (guint8) (hlen >> (8 * i));

  f = g_fopen (tmp, "wb");
  if (f == NULL)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "Could not create “%s”: %s", tmp, g_strerror (errno));
      return FALSE;
    }
  fwrite (len_bytes, 1, 8, f);
  fwrite (header->str, 1, header->len, f);

  buf = g_new (guint16, chunk);
  rng_init (&rng, seed);
  for (guint i = 0; i < specs->len; i++)
    {
      const FlorenceTensorSpec *s = g_ptr_array_index (specs, i);
      gsize n = n_elements (s);
      Fill fill = fill_for (s);

      if (s->is_tied)
        continue;
      for (gsize done = 0; done < n;)
        {
          gsize m = MIN (chunk, n - done);

          for (gsize k = 0; k < m; k++)
            {
              float v;

              switch (fill)
                {
                case FILL_NORMAL:
                  v = (float) (0.02 * rng_normal (&rng));
                  break;
                case FILL_ONES:
                  v = 1.0f;
                  break;
                case FILL_COSINE:
                  {
                    /* P[t, 2j] = sin(t·10000^(−2j/D)), P[t, 2j+1] = cos(…) (spec §4) */
                    gsize idx = done + k, D = (gsize) s->shape[1], t = idx / D, c = idx % D;
                    double w = (double) t * pow (10000.0, -(double) (c & ~(gsize) 1) / (double) D);

                    v = (float) ((c & 1) ? cos (w) : sin (w));
                    break;
                  }
                case FILL_ZEROS:
                default:
                  v = 0.0f;
                  break;
                }
              buf[k] = GUINT16_TO_LE (florence_f32_to_f16 (v));
            }
          if (fwrite (buf, 2, m, f) != m)
            break;
          done += m;
        }
    }
  if (fflush (f) != 0 || ferror (f) || fclose (f) != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "Could not write “%s” (disk full?)", tmp);
      g_unlink (tmp);
      return FALSE;
    }
  if (g_rename (tmp, path) != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "Could not rename “%s”: %s", tmp, g_strerror (errno));
      return FALSE;
    }
  *total = 8 + hlen + offset;
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autofree char *which = g_strdup ("base");
  g_autofree char *data = g_strdup (DEPICT_SOURCE_TEST_DATA);
  gint64 seed = 1;
  GOptionEntry entries[] = {
    { "config", 0, 0, G_OPTION_ARG_STRING, &which,
      "Hub configuration to copy: base (default) or large", "NAME" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of the pseudo-random weights (default 1)",
      "N" },
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data, "The tests/data directory", "DIR" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx =
    g_option_context_new ("OUTDIR — write a Florence-2 model directory with random weights");
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceConfig) config = NULL;
  g_autoptr (GPtrArray) specs = NULL;
  g_autofree char *hub = NULL;
  g_autofree char *weights = NULL;
  const char *hub_files[] = { "config.json", "generation_config.json", "preprocessor_config.json" };
  const char *tok_files[] = { "tokenizer.json", "vocab.json", "tokenizer_config.json" };
  guint64 total = 0, params = 0;
  gint64 t0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2)
    {
      g_printerr ("%s\n", error
                            ? error->message
                            : "Usage: make-random-model OUTDIR [--config base|large] [--seed N]");
      return 2;
    }
  hub = g_build_filename (data, "hub", which, NULL);
  config = florence_config_load (hub, &error);
  if (config == NULL)
    {
      g_printerr ("make-random-model: %s\n", error->message);
      return 1;
    }
  if (g_mkdir_with_parents (argv[1], 0755) != 0)
    {
      g_printerr ("make-random-model: could not create %s: %s\n", argv[1], g_strerror (errno));
      return 1;
    }
  for (guint i = 0; i < G_N_ELEMENTS (hub_files); i++)
    {
      g_autofree char *from = g_build_filename (hub, hub_files[i], NULL);
      g_autofree char *to = g_build_filename (argv[1], hub_files[i], NULL);

      if (!copy_file (from, to, &error))
        {
          g_printerr ("make-random-model: %s\n", error->message);
          return 1;
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (tok_files); i++)
    {
      g_autofree char *from = g_build_filename (data, "tokenizer", tok_files[i], NULL);
      g_autofree char *to = g_build_filename (argv[1], tok_files[i], NULL);

      if (!copy_file (from, to, &error))
        {
          g_printerr ("make-random-model: %s\n", error->message);
          return 1;
        }
    }

  specs = florence_checkpoint_expected_tensors (config, config->vocab_size);
  for (guint i = 0; i < specs->len; i++)
    {
      const FlorenceTensorSpec *s = g_ptr_array_index (specs, i);

      if (!s->is_tied && !s->is_buffer)
        params += n_elements (s);
    }
  weights = g_build_filename (argv[1], "model.safetensors", NULL);
  t0 = g_get_monotonic_time ();
  if (!write_weights (weights, specs, (guint64) seed, &total, &error))
    {
      g_printerr ("make-random-model: %s\n", error->message);
      return 1;
    }
  g_print ("%s: Florence-2-%s shapes, %" G_GUINT64_FORMAT " parameters, %" G_GUINT64_FORMAT
           " bytes, seed %" G_GINT64_FORMAT ", %.1f s\n",
           weights, which, params, total, seed, (g_get_monotonic_time () - t0) / 1e6);
  return 0;
}
