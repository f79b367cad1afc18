/* test-graph.c: florence-graph's weight names against the checkpoint reader's table
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every engine reads its weights under the names of florence-graph.h; the checkpoint reader
 * validates a file against florence_checkpoint_expected_tensors(). Both must list the same
 * tensors with the same sizes, for the tiny and the base configuration.
 */
#include "config.h"

#include "florence/engine/florence-graph.h"

static void
check_config (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceConfig) c = florence_config_load (dir, &error);
  g_assert_no_error (error);
  const gsize rows = (gsize) c->vocab_size;
  g_autoptr (GPtrArray) expected = florence_checkpoint_expected_tensors (c, rows);
  g_autoptr (GHashTable) sizes = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < expected->len; i++)
    {
      const FlorenceTensorSpec *spec = expected->pdata[i];
      gint64 n = 1;
      for (guint d = 0; d < spec->n_dims; d++)
        n *= spec->shape[d];
      if (!spec->is_tied)
        g_hash_table_insert (sizes, spec->name, GSIZE_TO_POINTER ((gsize) n));
    }

  guint n_graph = 0;
  FlorenceGraphTensor t;
#define CHECK()                                                                                    \
  G_STMT_START                                                                                     \
  {                                                                                                \
    g_assert_true (g_hash_table_contains (sizes, t.name));                                         \
    g_assert_cmpuint (GPOINTER_TO_SIZE (g_hash_table_lookup (sizes, t.name)), ==, t.n_elements);   \
    n_graph++;                                                                                     \
    florence_graph_tensor_clear (&t);                                                              \
  }                                                                                                \
  G_STMT_END
  for (int s = 0; s < 4; s++)
    {
      for (guint i = 0; i < FLORENCE_STAGE_N_TENSORS; i++)
        {
          florence_graph_stage_tensor (c, s, i, &t);
          CHECK ();
        }
      for (int j = 0; j < c->depths[s]; j++)
        for (int channel = 0; channel < 2; channel++)
          for (guint i = 0; i < FLORENCE_BLOCK_N_TENSORS; i++)
            {
              florence_graph_block_tensor (c, s, j, channel, i, &t);
              CHECK ();
            }
    }
  for (guint w = 0; w < FLORENCE_GRAPH_N_MODEL_TENSORS; w++)
    {
      florence_graph_model_tensor (c, rows, w, &t);
      CHECK ();
    }
  for (int decoder = 0; decoder < 2; decoder++)
    for (int l = 0; l < (decoder ? c->decoder_layers : c->encoder_layers); l++)
      for (guint i = 0; i < FLORENCE_LAYER_N_TENSORS; i++)
        if (florence_graph_layer_tensor (c, decoder, l, i, &t))
          CHECK ();
#undef CHECK
  /* nothing the reader expects is left out */
  g_assert_cmpuint (n_graph, ==, g_hash_table_size (sizes));
}

static void
test_names (void)
{
  const char *models[] = { "models/tiny", "hub/base" };
  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    {
      g_autofree char *dir = g_build_filename (g_getenv ("DEPICT_TEST_DATA"), models[i], NULL);
      check_config (dir);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("DEPICT_TEST_DATA") == NULL)
    return 77;
  g_test_add_func ("/florence/graph/names", test_names);
  return g_test_run ();
}
