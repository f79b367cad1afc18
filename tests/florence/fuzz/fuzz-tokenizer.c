/* fuzz-tokenizer.c: encode arbitrary bytes, decode arbitrary id arrays
 *
 * Input: byte 0 selects the mode (even: encode, odd: decode), byte 1 the decode flags, the
 * rest is the text or little-endian 32-bit ids (folded to -8 … 51 300 so that special,
 * added and out-of-range ids all occur). Checks that encoding valid UTF-8 without <mask>
 * (which swallows spaces) decodes back to the same text.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "florence/text/florence-tokenizer.h"
#include "fuzz.h"

static FlorenceTokenizer *tok;

static void
load (void)
{
  g_autoptr (GError) error = NULL;
  const char *data = g_getenv ("DEPICT_TEST_DATA");
  g_autofree char *dir = g_build_filename (data != NULL ? data : FUZZ_TEST_DATA, "tokenizer", NULL);

  tok = florence_tokenizer_new_from_dir (dir, &error);
  if (tok == NULL)
    {
      g_printerr ("fuzz-tokenizer: %s\n", error->message);
      abort ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (tok == NULL)
    load ();
  if (size < 2)
    return 0;

  if ((data[0] & 1) == 0)
    {
      g_autofree char *text = g_strndup ((const char *) data + 2, size - 2);
      g_autoptr (GArray) ids = florence_tokenizer_encode (tok, text);
      g_autofree char *back = NULL;

      FUZZ_CHECK (ids->len >= 2);
      FUZZ_CHECK (g_array_index (ids, gint32, 0) == FLORENCE_TOKEN_BOS);
      FUZZ_CHECK (g_array_index (ids, gint32, ids->len - 1) == FLORENCE_TOKEN_EOS);
      for (guint i = 0; i < ids->len; i++)
        FUZZ_CHECK (florence_tokenizer_id_to_token (tok, g_array_index (ids, gint32, i)) != NULL);
      back = florence_tokenizer_decode (tok, (const gint32 *) ids->data + 1, ids->len - 2,
                                        FLORENCE_DECODE_NO_CLEANUP);
      FUZZ_CHECK (g_utf8_validate (back, -1, NULL));
      if (g_utf8_validate (text, -1, NULL) && strstr (text, "<mask>") == NULL)
        FUZZ_CHECK (strcmp (back, text) == 0);
    }
  else
    {
      gsize n = (size - 2) / 4;
      g_autofree gint32 *ids = g_new (gint32, MAX (n, 1));
      g_autofree char *text = NULL;

      for (gsize i = 0; i < n; i++)
        {
          guint32 v;
          memcpy (&v, data + 2 + 4 * i, 4);
          ids[i] = (gint32) (GUINT32_FROM_LE (v) % 51309) - 8;
        }
      text = florence_tokenizer_decode (tok, ids, n, (FlorenceDecodeFlags) (data[1] & 3));
      FUZZ_CHECK (text != NULL && g_utf8_validate (text, -1, NULL));
    }
  return 0;
}
