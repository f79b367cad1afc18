/* florence-tokenizer.h: the byte-level BPE tokenizer of Florence-2 (BART vocabulary plus the
 * 1 024 tokens the Florence-2 processor adds)
 *
 * Loaded from a model directory's tokenizer.json (or vocab.json + merges.txt). Encoding
 * matches the reference fast tokenizer: added tokens are matched in the raw text before BPE
 * (leftmost-longest; <mask> swallows the whitespace before it), the rest is split with the
 * GPT-2 pre-tokenizer regex, mapped to the byte-level alphabet and merged by rank, and the
 * ids are wrapped as <s> … </s>. Decoding keeps special tokens verbatim unless asked not to,
 * restores UTF-8 (each maximal invalid subsequence becomes one U+FFFD, as Python does) and
 * applies clean_up_tokenization, exactly as processor.batch_decode() does by default.
 *
 * A tokenizer is immutable after loading except for its internal BPE cache, which is
 * guarded by a mutex: one tokenizer may be shared between threads.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FLORENCE_TOKEN_BOS 0       /* <s> */
#define FLORENCE_TOKEN_PAD 1       /* <pad> */
#define FLORENCE_TOKEN_EOS 2       /* </s> */
#define FLORENCE_TOKEN_UNK 3       /* <unk> */
#define FLORENCE_TOKEN_LOC_0 50269 /* <loc_0>; <loc_k> = FLORENCE_TOKEN_LOC_0 + k */
#define FLORENCE_NUM_LOC_BINS 1000

#define FLORENCE_TOKENIZER_ERROR (florence_tokenizer_error_quark ())

typedef enum {
  FLORENCE_TOKENIZER_ERROR_NOT_FOUND, /* no tokenizer.json / vocab.json + merges.txt */
  FLORENCE_TOKENIZER_ERROR_INVALID,   /* the files exist but are malformed */
} FlorenceTokenizerError;

typedef enum {
  FLORENCE_DECODE_DEFAULT = 0,           /* like batch_decode(skip_special_tokens=False) */
  FLORENCE_DECODE_SKIP_SPECIAL = 1 << 0, /* drop ids 0–3, <mask> and every added token */
  FLORENCE_DECODE_NO_CLEANUP = 1 << 1,   /* clean_up_tokenization_spaces=False */
} FlorenceDecodeFlags;

typedef struct _FlorenceTokenizer FlorenceTokenizer;

GQuark florence_tokenizer_error_quark (void);

/* Loads DIR/tokenizer.json, or DIR/vocab.json + DIR/merges.txt when there is no
 * tokenizer.json. */
FlorenceTokenizer *florence_tokenizer_new_from_dir (const char *dir, GError **error);
/* Loads one tokenizer.json file. */
FlorenceTokenizer *florence_tokenizer_new_from_file (const char *tokenizer_json, GError **error);
/* Loads a vocab.json + merges.txt pair (the slow tokenizer's files). */
FlorenceTokenizer *florence_tokenizer_new_from_vocab_merges (const char *vocab_json,
                                                             const char *merges_txt,
                                                             GError **error);
void florence_tokenizer_free (FlorenceTokenizer *self);

/* Number of ids (51 289 for Florence-2: BART's 50 265 + 1 024 added tokens). */
guint florence_tokenizer_get_vocab_size (FlorenceTokenizer *self);

/* Encodes TEXT (UTF-8; invalid sequences are replaced by U+FFFD first) into a GArray of
 * gint32: <s>, the ids, </s>. No truncation. */
GArray *florence_tokenizer_encode (FlorenceTokenizer *self, const char *text);
/* The same without <s> and </s>. */
GArray *florence_tokenizer_encode_plain (FlorenceTokenizer *self, const char *text);

/* Decodes N ids into a newly allocated UTF-8 string. Ids outside the vocabulary are
 * skipped, as the reference does. */
char *florence_tokenizer_decode (FlorenceTokenizer *self, const gint32 *ids, gsize n,
                                 FlorenceDecodeFlags flags);
/* The same text, and where each id's part of it is: OFFSETS (a GArray of gsize) is set to
 * N + 1 ascending byte offsets, id i having made bytes [offsets[i], offsets[i + 1]) of the text
 * (empty for a skipped id, or for an id whose bytes joined the U+FFFD of an earlier id's
 * invalid sequence; a space the clean-up removes belongs to no id). */
char *florence_tokenizer_decode_with_offsets (FlorenceTokenizer *self, const gint32 *ids, gsize n,
                                              FlorenceDecodeFlags flags, GArray *offsets);

/* The token string of ID (byte-level alphabet, "Ġ" = space), or NULL when out of range. */
const char *florence_tokenizer_id_to_token (FlorenceTokenizer *self, gint32 id);
/* The id of a token string, or -1. */
gint32 florence_tokenizer_token_to_id (FlorenceTokenizer *self, const char *token);
/* Whether ID is a special/added token (0–3, <mask>, the 1 024 Florence-2 tokens). */
gboolean florence_tokenizer_is_special (FlorenceTokenizer *self, gint32 id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlorenceTokenizer, florence_tokenizer_free)

G_END_DECLS
