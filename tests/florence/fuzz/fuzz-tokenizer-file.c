/* fuzz-tokenizer-file.c: arbitrary bytes as tokenizer.json, through
 * florence_tokenizer_new_from_file
 *
 * The bytes are written to tokenizer.json in a private folder on tmpfs. Loading must succeed or
 * fail with a sentence that names the file, without a critical; a tokenizer that loads must
 * encode and decode without reading past a token (every token it holds is valid UTF-8), and
 * decoding always gives valid UTF-8 (a vocabulary key "\350" once made decoding walk past the
 * end of a token).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "florence/text/florence-tokenizer.h"
#include "fuzz.h"

static char *fuzz_dir;
static char *fuzz_path;

static void
remove_temp_dir (void)
{
  g_unlink (fuzz_path);
  g_rmdir (fuzz_dir);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char *const texts[] = { "a cat <loc_1> on a sofa</s>", "Ünïcödé 😀 'll", "<od>" };
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceTokenizer) tok = NULL;

  fuzz_abort_on_critical (NULL);
  if (fuzz_dir == NULL)
    {
      fuzz_dir = fuzz_make_tmp_dir ("depict-fuzz-tokenizer-XXXXXX");
      fuzz_path = g_build_filename (fuzz_dir, "tokenizer.json", NULL);
      atexit (remove_temp_dir);
    }
  fuzz_write_file (fuzz_path, data, size);
  tok = florence_tokenizer_new_from_file (fuzz_path, &error);
  if (tok == NULL)
    {
      FUZZ_CHECK_ERROR (error);
      FUZZ_CHECK (strstr (error->message, "tokenizer.json") != NULL);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr (GArray) ids = florence_tokenizer_encode (tok, texts[i]);
      g_autofree char *text = florence_tokenizer_decode (tok, (const gint32 *) ids->data, ids->len,
                                                         FLORENCE_DECODE_DEFAULT);
      FUZZ_CHECK (g_utf8_validate (text, -1, NULL));
    }
  /* Every id the vocabulary has, decoded one by one and all together. */
  {
    guint n = MIN (florence_tokenizer_get_vocab_size (tok), 4096u);
    g_autofree gint32 *all = g_new (gint32, n);

    for (guint id = 0; id < n; id++)
      {
        const char *token = florence_tokenizer_id_to_token (tok, (gint32) id);
        g_autofree char *one = NULL;

        FUZZ_CHECK (token == NULL || g_utf8_validate (token, -1, NULL));
        all[id] = (gint32) id;
        one = florence_tokenizer_decode (tok, all + id, 1, FLORENCE_DECODE_NO_CLEANUP);
        FUZZ_CHECK (g_utf8_validate (one, -1, NULL));
      }
    g_autofree char *text = florence_tokenizer_decode (tok, all, n, FLORENCE_DECODE_DEFAULT);
    FUZZ_CHECK (g_utf8_validate (text, -1, NULL));
  }
  return 0;
}
