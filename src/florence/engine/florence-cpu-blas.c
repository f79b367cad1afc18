/* florence-cpu-blas.c: the BLAS of the CPU engine, loaded when the engine first needs it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/engine/florence-cpu-blas.h"

#include <cblas.h>
#include <glib/gi18n.h>
#include <gmodule.h>

G_DEFINE_QUARK (florence - cpu - blas - error - quark, florence_cpu_blas_error)

struct _FlorenceCpuBlas {
  GModule *module;
  __typeof__ (cblas_sgemm) *sgemm;
  char *description;
};

static FlorenceCpuBlas *blas;
static GError *blas_error;

static gboolean
find (GModule *module, const char *name, gpointer *symbol, GError **error)
{
  if (g_module_symbol (module, name, symbol) && *symbol != NULL)
    return TRUE;
  g_set_error (error, FLORENCE_CPU_BLAS_ERROR, FLORENCE_CPU_BLAS_ERROR_MISSING,
               _ ("The OpenBLAS library %s has no function %s. Install OpenBLAS 0.3 or later "
                  "(Debian: libopenblas0)."),
               g_module_name (module), name);
  return FALSE;
}

/* OpenBLAS reads OPENBLAS_NUM_THREADS in its constructor, when load() opens it: one thread, no
 * pool of its own (see the header). The environment is set here, before main() starts any
 * thread, because setenv() while another thread reads the environment is undefined. */
__attribute__ ((constructor)) static void
set_blas_threads (void)
{
  g_setenv ("OPENBLAS_NUM_THREADS", "1", TRUE);
}

static FlorenceCpuBlas *
load (GError **error)
{
  const char *const names[] = { OPENBLAS_LIBDIR "/libopenblas.so.0", "libopenblas.so.0" };
  GModule *module = NULL;
  g_autofree char *why = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (names) && module == NULL; i++)
    {
      module = g_module_open (names[i], G_MODULE_BIND_LOCAL);
      if (module == NULL && why == NULL)
        why = g_strdup (g_module_error ());
    }
  if (module == NULL)
    {
      g_set_error (error, FLORENCE_CPU_BLAS_ERROR, FLORENCE_CPU_BLAS_ERROR_MISSING,
                   _ ("The CPU engine needs the OpenBLAS library, which could not be loaded "
                      "(%s). Install it (Debian: libopenblas0), or run on a GPU."),
                   why != NULL ? why : "?");
      return NULL;
    }
  g_module_make_resident (module);

  gpointer sgemm = NULL, set_threads = NULL, config = NULL, core = NULL;
  if (!find (module, "cblas_sgemm", &sgemm, error) ||
      !find (module, "openblas_set_num_threads", &set_threads, error) ||
      !find (module, "openblas_get_config", &config, error) ||
      !find (module, "openblas_get_corename", &core, error))
    return NULL;
  ((void (*) (int)) set_threads) (1);

  FlorenceCpuBlas *b = g_new0 (FlorenceCpuBlas, 1);
  b->module = module;
  b->sgemm = (__typeof__ (cblas_sgemm) *) sgemm;
  /* "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH …": the first two words */
  g_auto (GStrv) words = g_strsplit (((char *(*) (void) ) config) (), " ", 3);
  const char *corename = ((char *(*) (void) ) core) ();
  b->description = g_strdup_printf (
    /* Translators: %s %s is a math library and its version (“OpenBLAS 0.3.21”), the last %s
     * the CPU family its kernels are tuned for (“Haswell”) */
    _ ("%s %s, %s kernels"), words[0] != NULL ? words[0] : "OpenBLAS",
    words[0] != NULL && words[1] != NULL ? words[1] : "", corename != NULL ? corename : "?");
  return b;
}

const FlorenceCpuBlas *
florence_cpu_blas_get (GError **error)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      blas = load (&blas_error);
      g_once_init_leave (&once, 1);
    }
  if (blas == NULL && error != NULL)
    *error = g_error_copy (blas_error);
  return blas;
}

const char *
florence_cpu_blas_get_description (const FlorenceCpuBlas *b)
{
  g_return_val_if_fail (b != NULL, NULL);
  return b->description;
}

void
florence_cpu_blas_sgemm (const FlorenceCpuBlas *b, gboolean trans_a, gboolean trans_b, gsize M,
                         gsize N, gsize K, float alpha, const float *A, gsize lda, const float *B,
                         gsize ldb, float beta, float *C, gsize ldc)
{
  b->sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
            (blasint) M, (blasint) N, (blasint) K, alpha, A, (blasint) lda, B, (blasint) ldb, beta,
            C, (blasint) ldc);
}
