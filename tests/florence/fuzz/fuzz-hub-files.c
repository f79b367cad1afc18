/* fuzz-hub-files.c: arbitrary bytes as the hub's file list (GET /api/models/REPO/tree/REV),
 * read as a download reads the response body (florence_hub_read_file_list: gzip unpacked when
 * the bytes are gzip, a size cap, the JSON guard) and parsed
 *
 * What parses must hold only names that are safe to create in the model folder (no '/', no
 * leading '.', at most 200 bytes, not empty); what fails must say why in a GError. A warning or
 * critical from json-glib (a getter used on the wrong type of node) is a finding too.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib.h>
#include <string.h>

#include "florence/hub/florence-hub-private.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;

  g_autoptr (GInputStream) body = NULL;

  /* A critical (a library asked to do what it must not) is a finding too. */
  fuzz_abort_on_critical (NULL);
  /* The body as the download reads it: a stream, gzip-encoded when it says so (libsoup's
   * content decoder unpacks it on the way, as here). */
  body = g_memory_input_stream_new_from_data (data, (gssize) size, NULL);
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
    {
      g_autoptr (GZlibDecompressor) gunzip =
        g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
      GInputStream *raw = body;
      body = g_converter_input_stream_new (raw, G_CONVERTER (gunzip));
      g_object_unref (raw);
    }
  g_autoptr (GPtrArray) files = florence_hub_read_file_list (body, "fuzz/repo", NULL, &error);
  if (files == NULL)
    {
      FUZZ_CHECK (error != NULL && error->domain == G_IO_ERROR && error->message[0] != '\0');
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  for (guint i = 0; i < files->len; i++)
    {
      FlorenceHubFile *f = g_ptr_array_index (files, i);
      FUZZ_CHECK (f->path != NULL && f->path[0] != '\0' && f->path[0] != '.');
      FUZZ_CHECK (strchr (f->path, '/') == NULL && strlen (f->path) <= 200);
      FUZZ_CHECK (f->size <= (guint64) G_MAXINT64);
    }
  return 0;
}
