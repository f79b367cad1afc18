/* test-device.c: device names, the device list and the automatic choice
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs with or without a Vulkan device: the checks that need one say so and are skipped.
 */
#include "config.h"

#include <string.h>

#include "florence/engine/florence-device.h"
#include "florence/engine/florence-engine.h"

static void
test_keywords (void)
{
  static const struct {
    const char *name;
    FlorenceDeviceKind kind;
  } cases[] = {
    { NULL, FLORENCE_DEVICE_AUTO },
    { "", FLORENCE_DEVICE_AUTO },
    { "auto", FLORENCE_DEVICE_AUTO },
    { "AUTO", FLORENCE_DEVICE_AUTO },
    { "cpu", FLORENCE_DEVICE_CPU },
    { "CPU", FLORENCE_DEVICE_CPU },
    { "cpu-reference", FLORENCE_DEVICE_CPU_REFERENCE },
    { "vulkan", FLORENCE_DEVICE_VULKAN },
    { "gpu", FLORENCE_DEVICE_VULKAN },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *selector = g_strdup ("stale");
      FlorenceDeviceKind kind = 99;
      g_assert_true (florence_device_parse (cases[i].name, &kind, &selector, &error));
      g_assert_no_error (error);
      g_assert_cmpint (kind, ==, cases[i].kind);
      g_assert_null (selector);
      if (cases[i].name != NULL && *cases[i].name != '\0')
        {
          FlorenceDeviceKind old = 99;
          g_assert_true (florence_device_kind_from_string (cases[i].name, &old));
          g_assert_cmpint (old, ==, cases[i].kind);
        }
    }
}

/* A name that matches nothing is an error that lists what exists. */
static void
test_unknown_name (void)
{
  const char *bad[] = { "no-such-device-xyz", "vulkan:97", "97", "vulkan:", "cpu-refrence" };
  g_autoptr (GPtrArray) list = florence_device_list (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *selector = NULL;
      FlorenceDeviceKind kind = 99;
      g_assert_false (florence_device_parse (bad[i], &kind, &selector, &error));
      g_assert_error (error, FLORENCE_DEVICE_ERROR, FLORENCE_DEVICE_ERROR_NOT_FOUND);
      g_assert_null (selector);
      g_assert_nonnull (strstr (error->message, bad[i]));
      g_assert_nonnull (strstr (error->message, "auto"));
      for (guint j = 0; j < list->len; j++)
        g_assert_nonnull (strstr (error->message, ((FlorenceDeviceInfo *) list->pdata[j])->id));
      g_assert_false (florence_device_kind_from_string (bad[i], &kind));
    }
}

static void
test_list (void)
{
  g_autoptr (GError) vulkan_error = NULL;
  g_autoptr (GPtrArray) list = florence_device_list (&vulkan_error);
  g_assert_nonnull (list);
  g_assert_cmpuint (list->len, >=, 1);
  guint n_default = 0, n_reference = 0, n_cpu = 0;
  for (guint i = 0; i < list->len; i++)
    {
      const FlorenceDeviceInfo *d = list->pdata[i];
      g_assert_nonnull (d->id);
      g_assert_nonnull (d->name);
      g_assert_nonnull (d->description);
      g_assert_nonnull (d->type);
      n_default += d->is_default;
      for (guint j = 0; j < i; j++)
        g_assert_cmpstr (d->id, !=, ((FlorenceDeviceInfo *) list->pdata[j])->id);
      if (d->kind == FLORENCE_DEVICE_CPU_REFERENCE)
        {
          n_reference++;
          g_assert_cmpint (d->n_threads, >=, 1);
        }
      if (d->kind == FLORENCE_DEVICE_CPU)
        {
          /* first, with its threads and its BLAS */
          g_assert_cmpuint (i, ==, 0);
          n_cpu++;
          g_assert_cmpint (d->n_threads, ==, florence_device_default_threads ());
          g_assert_nonnull (strstr (d->blas, "OpenBLAS"));
          g_assert_nonnull (strstr (d->description, d->blas));
        }
      /* auto never picks a software Vulkan device: the CPU engine is faster there */
      if (d->is_default)
        g_assert_true (d->kind == FLORENCE_DEVICE_CPU ||
                       (d->kind == FLORENCE_DEVICE_VULKAN && strcmp (d->type, "cpu") != 0));

      /* every id reads back as what it lists */
      g_autoptr (GError) error = NULL;
      g_autofree char *selector = NULL;
      FlorenceDeviceKind kind = 99;
      g_assert_true (florence_device_parse (d->id, &kind, &selector, &error));
      g_assert_no_error (error);
      g_assert_cmpint (kind, ==, d->kind);
      if (d->kind == FLORENCE_DEVICE_VULKAN)
        {
          g_assert_cmpint (d->vulkan_index, >=, 0);
          g_autofree char *want = g_strdup_printf ("%d", d->vulkan_index);
          g_assert_cmpstr (selector, ==, want);
          g_assert_cmpuint (d->memory, >, 0);
        }
      else
        g_assert_cmpint (d->vulkan_index, ==, -1);
    }
  g_assert_cmpuint (n_default, ==, 1);
  g_assert_cmpuint (n_reference, ==, 1);
  g_assert_cmpuint (n_cpu, ==, 1);
}

/* auto resolves to what the list marks as the default; explicit kinds to themselves */
static void
test_resolve (void)
{
  g_unsetenv ("DEPICT_VULKAN_DEVICE");
  g_autoptr (GPtrArray) list = florence_device_list (NULL);
  const char *def = florence_device_list_get_default (list);
  FlorenceDeviceKind kind = 99;
  int index = -2;
  g_autoptr (GError) error = NULL;
  g_assert_true (florence_device_resolve (FLORENCE_DEVICE_AUTO, NULL, &kind, &index, &error));
  g_assert_no_error (error);
  g_autofree char *got = kind == FLORENCE_DEVICE_VULKAN
                           ? g_strdup_printf ("vulkan:%d", index)
                           : g_strdup (florence_device_kind_to_string (kind));
  g_assert_cmpstr (got, ==, def);

  g_assert_true (
    florence_device_resolve (FLORENCE_DEVICE_CPU_REFERENCE, NULL, &kind, &index, &error));
  g_assert_cmpint (kind, ==, FLORENCE_DEVICE_CPU_REFERENCE);
  g_assert_cmpint (index, ==, -1);
  g_assert_true (florence_device_resolve (FLORENCE_DEVICE_CPU, NULL, &kind, &index, &error));
  g_assert_cmpint (kind, ==, FLORENCE_DEVICE_CPU);
  g_assert_cmpint (index, ==, -1);
}

/* A misspelled DEPICT_VULKAN_DEVICE is an error naming it, for auto and for vulkan, never a
 * quiet fallback; an explicit CPU choice does not look at it. */
static void
test_resolve_bad_environment (void)
{
  g_setenv ("DEPICT_VULKAN_DEVICE", "no-such-device-xyz", TRUE);
  FlorenceDeviceKind kinds[] = { FLORENCE_DEVICE_AUTO, FLORENCE_DEVICE_VULKAN };
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autoptr (GError) error = NULL;
      FlorenceDeviceKind kind = 99;
      int index = -2;
      g_assert_false (florence_device_resolve (kinds[i], NULL, &kind, &index, &error));
      g_assert_error (error, FLORENCE_DEVICE_ERROR, FLORENCE_DEVICE_ERROR_NOT_FOUND);
      g_assert_nonnull (strstr (error->message, "DEPICT_VULKAN_DEVICE"));
      g_assert_nonnull (strstr (error->message, "no-such-device-xyz"));
      g_assert_nonnull (strstr (error->message, "cpu-reference"));
    }
  g_autoptr (GError) error = NULL;
  FlorenceDeviceKind kind = 99;
  int index = -2;
  g_assert_true (florence_device_resolve (FLORENCE_DEVICE_CPU, NULL, &kind, &index, &error));
  g_assert_cmpint (kind, ==, FLORENCE_DEVICE_CPU);
  g_unsetenv ("DEPICT_VULKAN_DEVICE");
}

/* With a Vulkan device: by number, by "vulkan:N", by a part of its name in any case, and
 * DEPICT_VULKAN_DEVICE naming it makes auto pick it. */
static void
test_vulkan_names (void)
{
  g_autoptr (GPtrArray) list = florence_device_list (NULL);
  const FlorenceDeviceInfo *vk = NULL;
  for (guint i = 0; i < list->len && vk == NULL; i++)
    if (((FlorenceDeviceInfo *) list->pdata[i])->kind == FLORENCE_DEVICE_VULKAN &&
        ((FlorenceDeviceInfo *) list->pdata[i])->usable)
      vk = list->pdata[i];
  if (vk == NULL)
    {
      g_test_skip ("no usable Vulkan device");
      return;
    }
  g_autofree char *number = g_strdup_printf ("%d", vk->vulkan_index);
  g_autofree char *part = g_utf8_strup (vk->name, MIN ((gssize) strlen (vk->name), 6));
  const char *names[] = { number, vk->id, part };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *selector = NULL;
      FlorenceDeviceKind kind = 99;
      g_assert_true (florence_device_parse (names[i], &kind, &selector, &error));
      g_assert_no_error (error);
      g_assert_cmpint (kind, ==, FLORENCE_DEVICE_VULKAN);
      int index = -2;
      g_assert_true (florence_device_resolve (kind, selector, &kind, &index, &error));
      g_assert_no_error (error);
      g_assert_cmpint (kind, ==, FLORENCE_DEVICE_VULKAN);
      /* a name part picks the first usable device that has it */
      if (i < 2)
        g_assert_cmpint (index, ==, vk->vulkan_index);
    }

  g_setenv ("DEPICT_VULKAN_DEVICE", number, TRUE);
  g_autoptr (GError) error = NULL;
  FlorenceDeviceKind kind = 99;
  int index = -2;
  g_assert_true (florence_device_resolve (FLORENCE_DEVICE_AUTO, NULL, &kind, &index, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kind, ==, FLORENCE_DEVICE_VULKAN);
  g_assert_cmpint (index, ==, vk->vulkan_index);
  g_unsetenv ("DEPICT_VULKAN_DEVICE");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_unsetenv ("DEPICT_VULKAN_DEVICE");
  g_test_add_func ("/florence/device/keywords", test_keywords);
  g_test_add_func ("/florence/device/unknown-name", test_unknown_name);
  g_test_add_func ("/florence/device/list", test_list);
  g_test_add_func ("/florence/device/resolve", test_resolve);
  g_test_add_func ("/florence/device/resolve-bad-environment", test_resolve_bad_environment);
  g_test_add_func ("/florence/device/vulkan-names", test_vulkan_names);
  return g_test_run ();
}
