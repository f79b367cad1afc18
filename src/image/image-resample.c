/* image-resample.c: Pillow-exact antialiased bicubic resize of RGB8 pictures
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * This follows Pillow 9.4's libImaging/Resample.c (ImagingResampleInner with the BICUBIC
 * filter, 8 bits per channel) step by step, because the model was trained and is tested on its
 * exact output: the coefficient tables (precompute_coeffs, normalize_coeffs_8bpc), the bounds
 * with their rounding, the horizontal pass over only the rows the vertical pass reads, the
 * 8-bit intermediate picture, and clip8. Integer sums do not depend on their order, so the
 * vertical pass accumulates a whole row at a time (which vectorizes) and both passes may split
 * their rows between threads without changing a single byte.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "image/image-resample.h"

/* 8 bits for the result, 2 for the overflow of the negative lobes (Pillow's comment). */
#define PRECISION_BITS (32 - 8 - 2)

typedef struct {
  int ksize;
  int *bounds; /* [2 * out_size]: first input index, number of taps */
  gint32 *kk;  /* [out_size * ksize] fixed-point coefficients */
} Coeffs;

static void
coeffs_clear (Coeffs *c)
{
  g_clear_pointer (&c->bounds, g_free);
  g_clear_pointer (&c->kk, g_free);
}

static inline double
bicubic_filter (double x)
{
  /* https://en.wikipedia.org/wiki/Bicubic_interpolation#Bicubic_convolution_algorithm */
  const double a = -0.5;
  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0)
    return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

static gboolean
precompute_coeffs (int in_size, float in0, float in1, int out_size, Coeffs *c)
{
  const double filter_support = 2.0;
  double filterscale, scale;

  /* prepare for horizontal stretch */
  filterscale = scale = (double) (in1 - in0) / out_size;
  if (filterscale < 1.0)
    filterscale = 1.0;

  /* determine support size (length of resampling filter) */
  double support = filter_support * filterscale;

  /* maximum number of coeffs */
  int ksize = (int) ceil (support) * 2 + 1;
  if (out_size > INT_MAX / (ksize * (int) sizeof (double)))
    return FALSE;

  c->ksize = ksize;
  c->bounds = g_try_new (int, (gsize) out_size * 2);
  c->kk = g_try_new0 (gint32, (gsize) out_size * ksize);
  double *k = g_try_new (double, ksize);
  if (c->bounds == NULL || c->kk == NULL || k == NULL)
    {
      g_free (k);
      coeffs_clear (c);
      return FALSE;
    }

  for (int xx = 0; xx < out_size; xx++)
    {
      double center = in0 + (xx + 0.5) * scale;
      double ww = 0.0;
      double ss = 1.0 / filterscale;
      /* Round the value */
      int xmin = (int) (center - support + 0.5);
      if (xmin < 0)
        xmin = 0;
      /* Round the value */
      int xmax = (int) (center + support + 0.5);
      if (xmax > in_size)
        xmax = in_size;
      xmax -= xmin;
      for (int x = 0; x < xmax; x++)
        {
          double w = bicubic_filter ((x + xmin - center + 0.5) * ss);
          k[x] = w;
          ww += w;
        }
      for (int x = 0; x < xmax; x++)
        if (ww != 0.0)
          k[x] /= ww;
      /* normalize_coeffs_8bpc; the remaining coefficients stay 0 */
      gint32 *kk = c->kk + (gsize) xx * ksize;
      for (int x = 0; x < xmax; x++)
        {
          if (k[x] < 0)
            kk[x] = (int) (-0.5 + k[x] * (1 << PRECISION_BITS));
          else
            kk[x] = (int) (0.5 + k[x] * (1 << PRECISION_BITS));
        }
      c->bounds[xx * 2 + 0] = xmin;
      c->bounds[xx * 2 + 1] = xmax;
    }
  g_free (k);
  return TRUE;
}

static inline guint8
clip8 (gint32 in)
{
  /* Pillow looks up in >> PRECISION_BITS in a table that clamps -640…639 to 0…255. */
  gint32 v = in >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : (guint8) v;
}

/* One pass over rows [row_begin, row_end) of the output. */
typedef struct {
  const guint8 *src;
  gsize src_stride;
  guint8 *dst;
  gsize dst_stride;
  int out_width; /* pixels in an output row */
  int offset;    /* horizontal pass: first source row */
  const Coeffs *coeffs;
  gboolean vertical;
  int row_begin, row_end;
} Pass;

static void
resample_horizontal (const Pass *p)
{
  const int ksize = p->coeffs->ksize;
  for (int yy = p->row_begin; yy < p->row_end; yy++)
    {
      const guint8 *in = p->src + (gsize) (yy + p->offset) * p->src_stride;
      guint8 *out = p->dst + (gsize) yy * p->dst_stride;
      for (int xx = 0; xx < p->out_width; xx++)
        {
          int xmin = p->coeffs->bounds[xx * 2 + 0];
          int xmax = p->coeffs->bounds[xx * 2 + 1];
          const gint32 *k = p->coeffs->kk + (gsize) xx * ksize;
          const guint8 *s = in + (gsize) xmin * 3;
          gint32 ss0 = 1 << (PRECISION_BITS - 1), ss1 = ss0, ss2 = ss0;
          for (int x = 0; x < xmax; x++, s += 3)
            {
              ss0 += s[0] * k[x];
              ss1 += s[1] * k[x];
              ss2 += s[2] * k[x];
            }
          out[xx * 3 + 0] = clip8 (ss0);
          out[xx * 3 + 1] = clip8 (ss1);
          out[xx * 3 + 2] = clip8 (ss2);
        }
    }
}

static void
resample_vertical (const Pass *p)
{
  const int ksize = p->coeffs->ksize;
  const int n = p->out_width * 3;
  gint32 *acc = g_new (gint32, n);
  for (int yy = p->row_begin; yy < p->row_end; yy++)
    {
      int ymin = p->coeffs->bounds[yy * 2 + 0];
      int ymax = p->coeffs->bounds[yy * 2 + 1];
      const gint32 *k = p->coeffs->kk + (gsize) yy * ksize;
      for (int i = 0; i < n; i++)
        acc[i] = 1 << (PRECISION_BITS - 1);
      for (int y = 0; y < ymax; y++)
        {
          const guint8 *in = p->src + (gsize) (y + ymin) * p->src_stride;
          const gint32 ky = k[y];
          for (int i = 0; i < n; i++)
            acc[i] += in[i] * ky;
        }
      guint8 *out = p->dst + (gsize) yy * p->dst_stride;
      for (int i = 0; i < n; i++)
        out[i] = clip8 (acc[i]);
    }
  g_free (acc);
}

static gpointer
pass_thread (gpointer data)
{
  const Pass *p = data;
  if (p->vertical)
    resample_vertical (p);
  else
    resample_horizontal (p);
  return NULL;
}

/* Runs a pass, splitting its rows between threads when the work is large enough to pay for
 * them. work = multiply-adds per output row. */
static void
run_pass (const Pass *pass, int rows, gsize work)
{
  guint n_threads = MIN (g_get_num_processors (), 8u);
  gsize total = work * (gsize) rows;
  if (total < 4 * 1000 * 1000)
    n_threads = 1;
  n_threads = MIN (n_threads, (guint) MAX (rows, 1));

  if (n_threads <= 1)
    {
      Pass p = *pass;
      p.row_begin = 0;
      p.row_end = rows;
      pass_thread (&p);
      return;
    }

  Pass parts[8];
  GThread *threads[8] = { NULL };
  for (guint i = 0; i < n_threads; i++)
    {
      parts[i] = *pass;
      parts[i].row_begin = (int) ((gint64) rows * i / n_threads);
      parts[i].row_end = (int) ((gint64) rows * (i + 1) / n_threads);
      if (i > 0)
        threads[i] = g_thread_try_new ("depict-resample", pass_thread, &parts[i], NULL);
    }
  pass_thread (&parts[0]);
  for (guint i = 1; i < n_threads; i++)
    {
      if (threads[i] != NULL)
        g_thread_join (threads[i]);
      else
        pass_thread (&parts[i]); /* could not start a thread: do its share here */
    }
}

ImageRgb *
image_resample_bicubic (const ImageRgb *image, int width, int height, GError **error)
{
  g_return_val_if_fail (image != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (width < 1 || height < 1)
    {
      g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_FAILED,
                   _ ("Cannot resize a picture to %d × %d pixels."), width, height);
      return NULL;
    }
  if (width == image->width && height == image->height)
    return image_rgb_copy (image);

  /* Pillow: box = (0, 0, in_width, in_height) as floats. */
  Coeffs horiz = { 0 }, vert = { 0 };
  if (!precompute_coeffs (image->width, 0.0f, (float) image->width, width, &horiz) ||
      !precompute_coeffs (image->height, 0.0f, (float) image->height, height, &vert))
    {
      coeffs_clear (&horiz);
      g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_TOO_LARGE,
                   _ ("There is not enough memory to resize a picture to %d × %d pixels."), width,
                   height);
      return NULL;
    }

  gboolean need_horizontal = width != image->width;
  gboolean need_vertical = height != image->height;

  /* First and last source rows the vertical pass reads. */
  int ybox_first = vert.bounds[0];
  int ybox_last = vert.bounds[height * 2 - 2] + vert.bounds[height * 2 - 1];

  ImageRgb *temp = NULL;
  const ImageRgb *vsrc = image;
  if (need_horizontal)
    {
      /* Shift the bounds for the vertical pass. */
      for (int i = 0; i < height; i++)
        vert.bounds[i * 2] -= ybox_first;

      temp = image_rgb_new (width, ybox_last - ybox_first, error);
      if (temp == NULL)
        {
          coeffs_clear (&horiz);
          coeffs_clear (&vert);
          return NULL;
        }
      Pass pass = {
        image->data, image->stride, temp->data, temp->stride, width, ybox_first, &horiz, FALSE, 0, 0
      };
      run_pass (&pass, temp->height, (gsize) width * horiz.ksize * 3);
      vsrc = temp;
    }

  ImageRgb *out = NULL;
  if (need_vertical)
    {
      out = image_rgb_new (vsrc->width, height, error);
      if (out != NULL)
        {
          Pass pass = { vsrc->data, vsrc->stride, out->data, out->stride, vsrc->width,
                        0,          &vert,        TRUE,      0,           0 };
          run_pass (&pass, height, (gsize) vsrc->width * vert.ksize * 3);
        }
      image_rgb_free (temp);
    }
  else
    out = temp;

  coeffs_clear (&horiz);
  coeffs_clear (&vert);
  if (out != NULL)
    {
      out->original_width = image->original_width;
      out->original_height = image->original_height;
      out->orientation = image->orientation;
      out->format = g_strdup (image->format);
    }
  return out;
}
