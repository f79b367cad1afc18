/* test-pickle.c: the pickle reader's memory stays bounded whatever data.pkl holds: its size,
 * its stack, the values alive and the references containers hold are capped, and values
 * popped and dropped are freed at once
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/resource.h>

#include "florence/files/florence-checkpoint-private.h"
#include "florence/files/florence-pickle.h"
#include "florence/files/florence-zip.h"
#include "test-sanitizers.h"

/* PROTO 2, then head, then body repeated n times, then tail and STOP. */
static GBytes *
make_pickle (const char *head, const char *body, gsize body_len, gsize n, const char *tail)
{
  GByteArray *p = g_byte_array_new ();

  g_byte_array_append (p, (const guint8 *) "\x80\x02", 2);
  g_byte_array_append (p, (const guint8 *) head, (guint) strlen (head));
  for (gsize i = 0; i < n; i++)
    g_byte_array_append (p, (const guint8 *) body, (guint) body_len);
  g_byte_array_append (p, (const guint8 *) tail, (guint) strlen (tail));
  g_byte_array_append (p, (const guint8 *) ".", 1);
  return g_byte_array_free_to_bytes (p);
}

static glong
max_rss_kb (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

/* Interprets pickle; returns the error (NULL when it was accepted). */
static GError *
interpret (GBytes *pickle)
{
  g_autoptr (GPtrArray) entries = g_ptr_array_new ();
  g_autoptr (GPtrArray) tensors =
    g_ptr_array_new_with_free_func ((GDestroyNotify) florence_raw_tensor_free);
  GError *error = NULL;
  gsize size;
  const guint8 *data = g_bytes_get_data (pickle, &size);
  glong before = max_rss_kb ();
  gboolean ok = florence_pickle_interpret (data, size, NULL, 0, entries, "archive/",
                                           "pytorch_model.bin", tensors, &error);

  g_assert_true (ok == (error == NULL));
#ifndef UNDER_ASAN
  /* A bounded reader: far less than the 220 bytes per pickle byte of the finding. */
  g_assert_cmpint (max_rss_kb () - before, <, 200 * 1024);
#else
  (void) before;
#endif
  return error;
}

static void
assert_refused (GBytes *pickle, const char *what)
{
  g_autoptr (GError) error = interpret (pickle);

  g_assert_nonnull (error);
  g_assert_true (error->domain == FLORENCE_CHECKPOINT_ERROR);
  g_test_message ("%s", error->message);
  if (strstr (error->message, what) == NULL)
    g_error ("“%s” does not say “%s”", error->message, what);
  g_assert_nonnull (strstr (error->message, "pytorch_model.bin"));
}

/* The finding: 20 M EMPTY_TUPLE opcodes took 4.4 GB before being refused. */
static void
test_size_cap (void)
{
  g_autoptr (GBytes) pickle = make_pickle ("", ")", 1, 20 * 1000 * 1000, "");

  assert_refused (pickle, "far more than a state dict needs");
}

static void
test_stack_cap (void)
{
  /* 8 M empty tuples fit the size cap; the stack does not hold them. */
  g_autoptr (GBytes) tuples = make_pickle ("", ")", 1, 8 * 1000 * 1000, "");
  /* The same object pushed again and again from the memo: no new object, only stack. */
  g_autoptr (GBytes) gets = make_pickle ("N\x94", "h\x00", 2, 4 * 1000 * 1000, "");

  assert_refused (tuples, "stack");
  assert_refused (gets, "stack");
}

static void
test_object_cap (void)
{
  /* A list that grows by one new empty tuple per 2 bytes: 7 M objects alive. */
  g_autoptr (GBytes) list = make_pickle ("]", ")a", 2, 7 * 1000 * 1000, "");
  /* Nested one-tuples: each holds the last (3 bytes, one object each). */
  g_autoptr (GBytes) nested = make_pickle (")", "\x85", 1, 14 * 1000 * 1000, "");

  assert_refused (list, "objects");
  assert_refused (nested, "objects");
}

static void
test_items_cap (void)
{
  /* One list, the same tuple appended 7 M times: no new object, but 7 M references. */
  g_autoptr (GBytes) pickle = make_pickle (")\x94]",
                                           "h\x00"
                                           "a",
                                           3, 5 * 1000 * 1000, "");

  assert_refused (pickle, "containers hold more than");
}

/* Values popped and dropped (a BUILD state, STACK_GLOBAL names, REDUCE arguments) are freed
 * at once: a million of them in a row is still a valid (empty) state dict. */
static void
test_dropped_values_freed (void)
{
  g_autoptr (GBytes) states = make_pickle ("}", ")b", 2, 1000 * 1000, "");
  g_autoptr (GError) error = interpret (states);

  g_assert_no_error (error);
}

/* A cycle (a list inside itself) is freed with the rest at the end (ASan's leak check). */
static void
test_cycle (void)
{
  g_autoptr (GBytes) pickle = make_pickle ("}]\x94h\x00a", "", 0, 0, "b");
  g_autoptr (GError) error = interpret (pickle);

  g_assert_nonnull (error); /* a list is not a dict's state */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pickle/size-cap", test_size_cap);
  g_test_add_func ("/pickle/stack-cap", test_stack_cap);
  g_test_add_func ("/pickle/object-cap", test_object_cap);
  g_test_add_func ("/pickle/items-cap", test_items_cap);
  g_test_add_func ("/pickle/dropped-values-freed", test_dropped_values_freed);
  g_test_add_func ("/pickle/cycle", test_cycle);
  return g_test_run ();
}
