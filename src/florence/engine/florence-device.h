/* florence-device.h: where a model runs — the device names, the list, and the automatic choice
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The one place that reads a device name (`--device`, the app's setting, $DEPICT_DEVICE,
 * $DEPICT_VULKAN_DEVICE) and lists what exists. Every caller — depict-cli run and tag, the app,
 * the benchmarks — goes through florence_device_parse(), and florence_engine_new() through
 * florence_device_resolve(), so that a name one of them accepts the others accept too, and a
 * name that matches nothing is an error that lists what exists, never a silent fallback.
 *
 * Names:
 *   auto           a real GPU (discrete, integrated or virtual) when there is one, else the
 *                  CPU engine
 *   cpu            the CPU engine (florence-engine-cpu.h: a tuned BLAS, all cores)
 *   cpu-reference  the plain-C fp32 reference (florence-reference.h), the tests' oracle
 *   vulkan, gpu    the GPU engine on the best Vulkan device (lavapipe included)
 *   vulkan:N, N    the GPU engine on Vulkan device number N (as `depict-cli devices` lists)
 *   vulkan:TEXT, TEXT   the GPU engine on the Vulkan device whose name contains TEXT
 *                  (case-insensitive), e.g. "llvmpipe"
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FLORENCE_DEVICE_ERROR (florence_device_error_quark ())

typedef enum {
  FLORENCE_DEVICE_ERROR_NOT_FOUND, /* the name matches no device here (the message lists them) */
} FlorenceDeviceError;

GQuark florence_device_error_quark (void);

typedef enum {
  FLORENCE_DEVICE_AUTO,          /* a real GPU when there is one, else the CPU engine */
  FLORENCE_DEVICE_CPU_REFERENCE, /* the plain-C fp32 reference (florence-reference.h) */
  FLORENCE_DEVICE_VULKAN,        /* the GPU engine on a Vulkan device */
  FLORENCE_DEVICE_CPU,           /* the CPU engine (florence-engine-cpu.h) */
} FlorenceDeviceKind;

/* One place a model can run, as florence_device_list() reports it. */
typedef struct {
  char *id;          /* the name that selects it: "cpu", "cpu-reference", "vulkan:0" */
  char *name;        /* "CPU", "llvmpipe (LLVM 15.0.6, 256 bits)" */
  char *description; /* for people, translated: what it is, its threads and BLAS, or its
                      * type, driver and memory */
  FlorenceDeviceKind kind;
  const char *type; /* untranslated, for JSON: "cpu" for the CPU engines; for a Vulkan device
                     * its type: "discrete", "integrated", "virtual", "cpu" (a software
                     * device such as lavapipe) or "other" */
  int vulkan_index; /* VULKAN: the Vulkan device number; -1 otherwise */
  int n_threads;    /* CPU kinds: the threads a run uses by default; 0 otherwise */
  char *blas;       /* CPU engine: the BLAS and its kernels ("OpenBLAS 0.3.21, Haswell
                     * kernels"); NULL otherwise */
  /* VULKAN only (0 or NULL otherwise): */
  guint64 memory;       /* bytes of device-local memory */
  char *driver;         /* "llvmpipe", "NVIDIA" (may be empty) */
  char *driver_info;    /* "Mesa 22.3.6 (LLVM 15.0.6)" (may be empty) */
  char *vulkan_version; /* "1.3.230" */
  guint32 vendor_id, device_id;
  gboolean usable;     /* FALSE for a Vulkan device that lacks what Depict needs */
  gboolean is_default; /* the device "auto" picks */
} FlorenceDeviceInfo;

void florence_device_info_free (FlorenceDeviceInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlorenceDeviceInfo, florence_device_info_free)

/* Everything a model can run on, in order: the CPU engine, the CPU reference, then the Vulkan
 * devices in enumeration order. Never empty. When Vulkan cannot be asked (no loader, no
 * driver), the CPU entries alone, and *vulkan_error (may be NULL) says why. */
GPtrArray *florence_device_list (GError **vulkan_error);

/* The name "auto" would pick, from @list ("cpu", "vulkan:1"). */
const char *florence_device_list_get_default (GPtrArray *list);

/* Reads a device name (see above; NULL or "" is auto). *vulkan_selector (may be NULL)
 * receives, for VULKAN, the device number or name part to open (NULL: the best Vulkan
 * device). A number or a name is checked against the Vulkan devices here: one that matches
 * none is FLORENCE_DEVICE_ERROR_NOT_FOUND, with a message that lists the devices. */
gboolean florence_device_parse (const char *name, FlorenceDeviceKind *kind, char **vulkan_selector,
                                GError **error);

/* What a parsed choice runs on here: *out_kind is CPU, CPU_REFERENCE or VULKAN (never AUTO),
 * and for VULKAN *out_vulkan_index the device number. AUTO takes $DEPICT_VULKAN_DEVICE when
 * set (it then means that Vulkan device), else a real GPU, else the CPU engine; VULKAN
 * without a selector takes $DEPICT_VULKAN_DEVICE, else the best usable Vulkan device. A
 * selector or $DEPICT_VULKAN_DEVICE that matches nothing is an error that lists what exists. */
gboolean florence_device_resolve (FlorenceDeviceKind kind, const char *vulkan_selector,
                                  FlorenceDeviceKind *out_kind, int *out_vulkan_index,
                                  GError **error);

/* The threads a CPU engine uses unless told otherwise: $DEPICT_CPU_THREADS, else every
 * processor. */
int florence_device_default_threads (void);

/* "auto", "cpu", "cpu-reference" or "vulkan" (untranslated, for JSON and logs). */
const char *florence_device_kind_to_string (FlorenceDeviceKind kind);

G_END_DECLS
