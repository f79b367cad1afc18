/* florence-json.c: the one door through which untrusted JSON reaches json-glib
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/files/florence-json.h"
#include "florence/files/florence-file.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const guchar *start, *p, *end;
  GError **error;
} Scan;

static gboolean G_GNUC_PRINTF (2, 3) scan_fail (Scan *s, const char *format, ...)
{
  g_autofree char *what = NULL;
  guint line = 1, column = 1;
  va_list args;

  for (const guchar *q = s->start; q < s->p && q < s->end; q++)
    {
      if (*q == '\n')
        {
          line++;
          column = 1;
        }
      else if ((*q & 0xC0) != 0x80)
        column++;
    }
  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (s->error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _ ("line %u, column %u: %s"), line,
               column, what);
  return FALSE;
}

static void
skip_space (Scan *s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
    s->p++;
}

static int
hex_value (guchar c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* "\uXXXX" at s->p (after the backslash and the u): the code unit, or -1. */
static int
read_hex4 (Scan *s)
{
  int v = 0;

  if (s->end - s->p < 4)
    return -1;
  for (int i = 0; i < 4; i++)
    {
      int h = hex_value (s->p[i]);
      if (h < 0)
        return -1;
      v = v * 16 + h;
    }
  s->p += 4;
  return v;
}

/* A string at s->p (its opening quote). */
static gboolean
scan_string (Scan *s)
{
  s->p++;
  while (s->p < s->end)
    {
      guchar c = *s->p;

      if (c == '"')
        {
          s->p++;
          return TRUE;
        }
      /* Other control characters are let through unescaped: json-glib reads them, and its
       * generator writes U+001F so (Depict must read back what it wrote). */
      if (c == 0)
        return scan_fail (s, _ ("a NUL character inside a string"));
      if (c == '\\')
        {
          int unit;

          if (s->end - s->p < 2)
            break;
          s->p++;
          c = *s->p;
          if (strchr ("\"\\/bfnrt", c) != NULL && c != '\0')
            {
              s->p++;
              continue;
            }
          if (c != 'u')
            {
              s->p--;
              return scan_fail (s, _ ("an escape that JSON does not define"));
            }
          s->p++;
          unit = read_hex4 (s);
          if (unit < 0)
            return scan_fail (s, _ ("a \\u escape without four hexadecimal digits"));
          if (unit == 0)
            return scan_fail (s, _ ("a NUL character (\\u0000) inside a string"));
          if (unit >= 0xDC00 && unit <= 0xDFFF)
            return scan_fail (s, _ ("a lone UTF-16 surrogate"));
          if (unit >= 0xD800 && unit <= 0xDBFF)
            {
              int low;

              if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
                return scan_fail (s, _ ("a lone UTF-16 surrogate"));
              s->p += 2;
              low = read_hex4 (s);
              if (low < 0xDC00 || low > 0xDFFF)
                return scan_fail (s, _ ("a lone UTF-16 surrogate"));
            }
          continue;
        }
      if (c < 0x80)
        {
          s->p++;
          continue;
        }
      {
        gunichar u = g_utf8_get_char_validated ((const char *) s->p, s->end - s->p);

        if (u == (gunichar) -1 || u == (gunichar) -2)
          return scan_fail (s, _ ("bytes that are not UTF-8 text"));
        s->p = (const guchar *) g_utf8_next_char (s->p);
      }
    }
  return scan_fail (s, _ ("a string that is not closed"));
}

/* A number at s->p: the JSON grammar, and a value json-glib holds exactly (a gint64) or as a
 * finite double that it writes back as JSON. */
static gboolean
scan_number (Scan *s)
{
  const guchar *begin = s->p;
  gboolean integer = TRUE;
  char text[64];
  gsize len;

  if (s->p < s->end && *s->p == '-')
    s->p++;
  if (s->p >= s->end || !g_ascii_isdigit (*s->p))
    return scan_fail (s, _ ("a malformed number"));
  if (*s->p == '0')
    {
      s->p++;
      if (s->p < s->end && g_ascii_isdigit (*s->p))
        return scan_fail (s, _ ("a number with a leading zero"));
    }
  else
    while (s->p < s->end && g_ascii_isdigit (*s->p))
      s->p++;
  if (s->p < s->end && *s->p == '.')
    {
      integer = FALSE;
      s->p++;
      if (s->p >= s->end || !g_ascii_isdigit (*s->p))
        return scan_fail (s, _ ("a malformed number"));
      while (s->p < s->end && g_ascii_isdigit (*s->p))
        s->p++;
    }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E'))
    {
      integer = FALSE;
      s->p++;
      if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
        s->p++;
      if (s->p >= s->end || !g_ascii_isdigit (*s->p))
        return scan_fail (s, _ ("a malformed number"));
      while (s->p < s->end && g_ascii_isdigit (*s->p))
        s->p++;
    }

  len = (gsize) (s->p - begin);
  if (len >= sizeof text)
    {
      s->p = begin;
      return scan_fail (s, _ ("a number written with more than %u characters"),
                        (guint) sizeof text - 1);
    }
  memcpy (text, begin, len);
  text[len] = '\0';
  errno = 0;
  if (integer)
    {
      (void) g_ascii_strtoll (text, NULL, 10);
      if (errno == ERANGE)
        {
          s->p = begin;
          return scan_fail (s, _ ("an integer too large for 64 bits"));
        }
    }
  else
    {
      double value = g_ascii_strtod (text, NULL);
      char written[G_ASCII_DTOSTR_BUF_SIZE];

      if (!isfinite (value))
        {
          s->p = begin;
          return scan_fail (s, _ ("a number too large for a double"));
        }
      /* json-glib writes a double as g_ascii_dtostr() does, with ".0" added where that has no
       * point: 1e+17 becomes "1e+17.0", which is not JSON. */
      g_ascii_dtostr (written, sizeof written, value);
      if (strchr (written, 'e') != NULL && strchr (written, '.') == NULL)
        {
          s->p = begin;
          return scan_fail (s, _ ("a number too large or too small to be written back as JSON"));
        }
    }
  return TRUE;
}

/* A value other than an array or object at s->p. */
static gboolean
scan_scalar (Scan *s)
{
  static const char *const literals[] = { "true", "false", "null" };
  guchar c;

  if (s->p >= s->end)
    return scan_fail (s, _ ("the text ends where a value should be"));
  c = *s->p;
  if (c == '"')
    return scan_string (s);
  if (c == '-' || g_ascii_isdigit (c))
    return scan_number (s);
  for (gsize i = 0; i < G_N_ELEMENTS (literals); i++)
    {
      gsize l = strlen (literals[i]);

      if ((gsize) (s->end - s->p) >= l && memcmp (s->p, literals[i], l) == 0 &&
          ((gsize) (s->end - s->p) == l || !g_ascii_isalnum (s->p[l])))
        {
          s->p += l;
          return TRUE;
        }
    }
  if (c == '\'')
    return scan_fail (s, _ ("a string in single quotes, which JSON does not allow"));
  if (c == '/' || c == '#')
    return scan_fail (s, _ ("a comment, which JSON does not allow"));
  return scan_fail (s, _ ("something that is not a JSON value"));
}

/* After whitespace, want; else the error missing (a comment or a '…' string where JSON allows
 * neither gets its own words). */
static gboolean
scan_expect (Scan *s, guchar want, const char *missing)
{
  skip_space (s);
  if (s->p < s->end && *s->p == want)
    {
      s->p++;
      return TRUE;
    }
  if (s->p < s->end && (*s->p == '/' || *s->p == '#'))
    return scan_fail (s, _ ("a comment, which JSON does not allow"));
  if (s->p < s->end && *s->p == '\'')
    return scan_fail (s, _ ("a string in single quotes, which JSON does not allow"));
  if (s->p >= s->end)
    return scan_fail (s, _ ("the text ends too early"));
  return scan_fail (s, "%s", missing);
}

gboolean
florence_json_check (const char *data, gssize len, GError **error)
{
  /* The containers open at each level: '[' or '{'. */
  guchar open[FLORENCE_JSON_MAX_DEPTH];
  guint depth = 0;
  guint64 n_values = 0;
  Scan s;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  s.start = s.p = (const guchar *) (data != NULL ? data : "");
  s.end = s.start + (len < 0 ? strlen (data) : (gsize) len);
  s.error = error;
  if (s.end - s.p >= 3 && memcmp (s.p, "\xEF\xBB\xBF", 3) == 0)
    s.p += 3;

  skip_space (&s);
  if (s.p >= s.end)
    return scan_fail (&s, _ ("there is no JSON value, the text is empty"));

  for (;;)
    {
      /* A value at s.p. */
      skip_space (&s);
      if (++n_values > FLORENCE_JSON_MAX_VALUES)
        return scan_fail (&s, _ ("more than %u values"), (guint) FLORENCE_JSON_MAX_VALUES);
      if (s.p < s.end && (*s.p == '[' || *s.p == '{'))
        {
          if (depth == FLORENCE_JSON_MAX_DEPTH)
            return scan_fail (&s, _ ("it nests more than %u levels deep"), FLORENCE_JSON_MAX_DEPTH);
          open[depth++] = *s.p++;
          skip_space (&s);
          if (s.p < s.end && *s.p == (open[depth - 1] == '[' ? ']' : '}'))
            {
              s.p++;
              depth--;
            }
          else
            {
              if (open[depth - 1] == '{')
                {
                  if (s.p >= s.end || *s.p != '"')
                    return scan_expect (&s, '"', _ ("a member name in double quotes is missing"));
                  if (!scan_string (&s) || !scan_expect (&s, ':', _ ("a colon is missing")))
                    return FALSE;
                }
              continue;
            }
        }
      else if (!scan_scalar (&s))
        return FALSE;

      /* After a value: a comma and the next one, or the end of containers. */
      for (;;)
        {
          skip_space (&s);
          if (depth == 0)
            {
              if (s.p < s.end)
                {
                  if (*s.p == '/' || *s.p == '#')
                    return scan_fail (&s, _ ("a comment, which JSON does not allow"));
                  return scan_fail (&s, _ ("something after the end of the JSON value"));
                }
              return TRUE;
            }
          if (s.p < s.end && *s.p == (open[depth - 1] == '[' ? ']' : '}'))
            {
              s.p++;
              depth--;
              continue;
            }
          if (!scan_expect (&s, ',', _ ("a comma is missing")))
            return FALSE;
          if (open[depth - 1] == '{')
            {
              skip_space (&s);
              if (s.p >= s.end || *s.p != '"')
                return scan_expect (&s, '"', _ ("a member name in double quotes is missing"));
              if (!scan_string (&s) || !scan_expect (&s, ':', _ ("a colon is missing")))
                return FALSE;
            }
          break;
        }
    }
}

gboolean
florence_json_load (JsonParser *parser, const char *data, gssize len, GError **error)
{
  g_return_val_if_fail (JSON_IS_PARSER (parser), FALSE);
  g_return_val_if_fail (data != NULL, FALSE);

  if (!florence_json_check (data, len, error))
    return FALSE;
  return json_parser_load_from_data (parser, data, len, error);
}

gboolean
florence_json_load_file (JsonParser *parser, const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize length = 0;

  g_return_val_if_fail (JSON_IS_PARSER (parser), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!florence_file_get_contents (path, FLORENCE_JSON_MAX_FILE_SIZE, &data, &length, error))
    return FALSE;
  return florence_json_load (parser, data, (gssize) length, error);
}
