/* florence-pickle.c: reads a torch.save state dict (pytorch_model.bin) without executing code
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file of this length: the opcode machine, its memo and stack limits and the torch storage
 * mapping are one parser of untrusted input, fuzzed as one (fuzz-pickle).
 */
#include "config.h"

#include <inttypes.h>

#include "florence/files/florence-pickle.h"
#include "florence/files/florence-zip.h"

#include <glib/gi18n.h>
#include <string.h>

/* A state dict's data.pkl is some kilobytes per hundred tensors (under 1 MB for Florence-2-large),
 * and a few dozen values per tensor. Far above that, and far below what would hurt: */
#define MAX_PICKLE_SIZE ((gsize) 16 * 1024 * 1024)
#define MAX_OBJECTS (1u << 18) /* values alive at once (each ~150 bytes) */
#define MAX_STACK (1u << 16)
#define MAX_ITEMS (1u << 22) /* references held by tuples, lists and dicts */

/* ------------------------------------------------------------------------------------------ */
/* Values */

typedef enum {
  PV_NONE,
  PV_BOOL,
  PV_INT,
  PV_FLOAT,
  PV_STR,
  PV_TUPLE,
  PV_LIST,
  PV_DICT, /* items = key, value, key, value, ... (insertion order) */
  PV_GLOBAL,
  PV_STORAGE,
  PV_TENSOR,
} PvKind;

typedef enum {
  GL_ORDERED_DICT,
  GL_REBUILD_TENSOR_V2,
  GL_REBUILD_PARAMETER,
  GL_STORAGE_HALF,
  GL_STORAGE_FLOAT,
  GL_STORAGE_BF16,
} GlobalKind;

typedef struct Pv Pv;
struct Pv {
  PvKind kind;
  guint refs;        /* the stack, the memo, containers and tensors that hold it */
  guint arena_index; /* where the arena keeps it */
  gint64 i;          /* INT, BOOL; TENSOR: storage offset in elements */
  double f;
  char *s;          /* STR (NUL-free UTF-8); STORAGE: key */
  GPtrArray *items; /* TUPLE, LIST, DICT: a reference to each */
  GlobalKind global;
  /* STORAGE */
  FlorenceDType dtype;
  const guint8 *data;
  guint64 n_elements;
  /* TENSOR */
  Pv *storage; /* a reference */
  guint n_dims;
  gint64 shape[FLORENCE_RAW_MAX_DIMS];
};

static const struct {
  const char *module, *name;
  GlobalKind kind;
} allowed_globals[] = {
  { "collections", "OrderedDict", GL_ORDERED_DICT },
  { "torch._utils", "_rebuild_tensor_v2", GL_REBUILD_TENSOR_V2 },
  { "torch._utils", "_rebuild_parameter", GL_REBUILD_PARAMETER },
  { "torch", "HalfStorage", GL_STORAGE_HALF },
  { "torch", "FloatStorage", GL_STORAGE_FLOAT },
  { "torch", "BFloat16Storage", GL_STORAGE_BF16 },
};

typedef struct {
  const guint8 *p, *end, *start;
  const guint8 *archive;
  gsize archive_size;
  GHashTable *entries; /* name → FlorenceZipEntry */
  const char *prefix;
  const char *path;
  GError **error;

  GPtrArray *arena;     /* every live Pv; frees what is left (cycles too) at the end */
  GPtrArray *stack;     /* a reference per slot */
  GArray *marks;        /* stack heights */
  GHashTable *memo;     /* GUINT_TO_POINTER (index) → Pv, a reference each */
  GHashTable *storages; /* key → Pv (STORAGE), a reference each */
  guint64 n_items;      /* references held by containers, all together */
  GPtrArray *dying;     /* pv_unref's work list */
  gboolean failed;
} Vm;

static void
pv_free (Pv *v)
{
  g_free (v->s);
  if (v->items != NULL)
    g_ptr_array_unref (v->items);
  g_free (v);
}

static void vm_fail (Vm *vm, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* A new value with one reference (the caller's); NULL and an error past MAX_OBJECTS. */
static Pv *
pv_new (Vm *vm, PvKind kind)
{
  Pv *v;

  if (vm->arena->len >= MAX_OBJECTS)
    {
      vm_fail (vm, _ ("it holds more than %u objects, far more than a state dict needs"),
               MAX_OBJECTS);
      return NULL;
    }
  v = g_new0 (Pv, 1);
  v->kind = kind;
  v->refs = 1;
  v->arena_index = vm->arena->len;
  g_ptr_array_add (vm->arena, v);
  return v;
}

static Pv *
pv_ref (Pv *v)
{
  v->refs++;
  return v;
}

/* Drops a reference; a value nobody holds is freed at once, and so, in turn, are the values
 * only it held (without recursion: a chain of a million nested tuples is one loop). */
static void
pv_unref (Vm *vm, Pv *v)
{
  if (v == NULL || --v->refs > 0)
    return;
  g_ptr_array_add (vm->dying, v);
  while (vm->dying->len > 0)
    {
      Pv *d = g_ptr_array_steal_index_fast (vm->dying, vm->dying->len - 1);

      for (guint i = 0; d->items != NULL && i < d->items->len; i++)
        {
          Pv *item = g_ptr_array_index (d->items, i);
          if (--item->refs == 0)
            g_ptr_array_add (vm->dying, item);
        }
      if (d->items != NULL)
        vm->n_items -= d->items->len;
      if (d->storage != NULL && --d->storage->refs == 0)
        g_ptr_array_add (vm->dying, d->storage);
      /* The last value of the arena takes d's place. */
      g_ptr_array_steal_index_fast (vm->arena, d->arena_index);
      if (d->arena_index < vm->arena->len)
        {
          Pv *moved = g_ptr_array_index (vm->arena, d->arena_index);
          moved->arena_index = d->arena_index;
        }
      pv_free (d);
    }
}

/* Adds item (a reference the caller gives) to a container. */
static void
items_add (Vm *vm, Pv *container, Pv *item)
{
  if (vm->n_items >= MAX_ITEMS)
    {
      vm_fail (vm, _ ("its containers hold more than %u values, far more than a state dict needs"),
               MAX_ITEMS);
      pv_unref (vm, item);
      return;
    }
  vm->n_items++;
  g_ptr_array_add (container->items, item);
}

static void
unref_all (Vm *vm, GPtrArray *values)
{
  for (guint i = 0; values != NULL && i < values->len; i++)
    pv_unref (vm, g_ptr_array_index (values, i));
}

static void G_GNUC_PRINTF (3, 0)
  vm_error (Vm *vm, gboolean refused, const char *format, va_list args)
{
  g_autofree char *detail = NULL;

  if (vm->failed)
    return;
  vm->failed = TRUE;
  detail = g_strdup_vprintf (format, args);
  if (!refused)
    florence_checkpoint_set_corrupt (vm->error, vm->path,
                                     _ ("its pickle is invalid at byte %zu: %s"),
                                     (gsize) (vm->p - vm->start), detail);
  else
    g_set_error (vm->error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED,
                 _ ("The weights file “%s” was refused: its pickle %s (at byte %zu). Depict reads "
                    "only plain state dicts and never runs code from a checkpoint; convert the "
                    "file to safetensors or use the official model files."),
                 vm->path, detail, (gsize) (vm->p - vm->start));
}

/* A malformed pickle. */
static void
vm_fail (Vm *vm, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  vm_error (vm, FALSE, format, args);
  va_end (args);
}

/* A well-formed pickle that does something a state dict does not. */
static void G_GNUC_PRINTF (2, 3) vm_refuse (Vm *vm, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  vm_error (vm, TRUE, format, args);
  va_end (args);
}

static gboolean
need (Vm *vm, gsize n)
{
  if ((gsize) (vm->end - vm->p) < n)
    {
      vm_fail (vm, _ ("it ends in the middle of an instruction"));
      return FALSE;
    }
  return TRUE;
}

static guint64
rd_le (const guint8 *p, guint n)
{
  guint64 v = 0;

  for (guint i = 0; i < n; i++)
    v |= (guint64) p[i] << (8 * i);
  return v;
}

/* Pushes v, giving the stack the caller's reference (NULL: nothing, the error is set). */
static void
push (Vm *vm, Pv *v)
{
  if (v == NULL)
    return;
  if (vm->stack->len >= MAX_STACK)
    {
      vm_fail (vm, _ ("its stack grows past %u values"), MAX_STACK);
      pv_unref (vm, v);
      return;
    }
  g_ptr_array_add (vm->stack, v);
}

/* The top of the stack (NULL and an error when only values below the last MARK remain);
 * removed from the stack when take (the caller then holds its reference), else borrowed. */
static Pv *
stack_top (Vm *vm, gboolean take)
{
  guint floor = vm->marks->len > 0 ? g_array_index (vm->marks, guint, vm->marks->len - 1) : 0;

  if (vm->stack->len <= floor)
    {
      vm_fail (vm, _ ("it takes a value from an empty stack"));
      return NULL;
    }
  if (take)
    return g_ptr_array_steal_index (vm->stack, vm->stack->len - 1);
  return g_ptr_array_index (vm->stack, vm->stack->len - 1);
}

static Pv *
pop (Vm *vm)
{
  return stack_top (vm, TRUE);
}

static Pv *
top (Vm *vm)
{
  return stack_top (vm, FALSE);
}

/* Pops everything above the last MARK, and the mark, into a new array (holding their
 * references). */
static GPtrArray *
pop_mark (Vm *vm)
{
  GPtrArray *items;
  guint m;

  if (vm->marks->len == 0)
    {
      vm_fail (vm, _ ("it closes a MARK that was never opened"));
      return NULL;
    }
  m = g_array_index (vm->marks, guint, vm->marks->len - 1);
  g_array_set_size (vm->marks, vm->marks->len - 1);
  items = g_ptr_array_new_full (vm->stack->len - m, NULL);
  for (guint i = m; i < vm->stack->len; i++)
    g_ptr_array_add (items, g_ptr_array_index (vm->stack, i));
  g_ptr_array_set_size (vm->stack, m);
  return items;
}

static void
push_int (Vm *vm, gint64 i)
{
  Pv *v = pv_new (vm, PV_INT);

  if (v == NULL)
    return;
  v->i = i;
  push (vm, v);
}

static void
push_str (Vm *vm, const guint8 *s, gsize len)
{
  Pv *v;

  if (!g_utf8_validate_len ((const char *) s, len, NULL) || memchr (s, 0, len) != NULL)
    {
      vm_fail (vm, _ ("a string is not valid UTF-8 text"));
      return;
    }
  v = pv_new (vm, PV_STR);
  if (v == NULL)
    return;
  v->s = g_strndup ((const char *) s, len);
  push (vm, v);
}

/* A tuple of items (whose references it takes). */
static void
push_tuple (Vm *vm, GPtrArray *items)
{
  Pv *v = pv_new (vm, PV_TUPLE);

  if (v == NULL || vm->n_items + items->len > MAX_ITEMS)
    {
      if (v != NULL)
        vm_fail (vm,
                 _ ("its containers hold more than %u values, far more than a state dict needs"),
                 MAX_ITEMS);
      unref_all (vm, items);
      g_ptr_array_unref (items);
      pv_unref (vm, v);
      return;
    }
  vm->n_items += items->len;
  v->items = items;
  push (vm, v);
}

/* Stores key and value (references the caller gives) into dict (borrowed). */
static void
dict_set (Vm *vm, Pv *dict, Pv *key, Pv *value)
{
  if (dict->kind != PV_DICT)
    vm_fail (vm, _ ("it stores an item into something that is not a dict"));
  else if (key->kind != PV_STR && key->kind != PV_INT)
    vm_refuse (vm, _ ("uses a dict key that is neither text nor a number"));
  if (vm->failed)
    {
      pv_unref (vm, key);
      pv_unref (vm, value);
      return;
    }
  items_add (vm, dict, key);
  items_add (vm, dict, value);
}

/* ------------------------------------------------------------------------------------------ */
/* The three operations a state dict needs */

static gsize
storage_elem_size (FlorenceDType dtype)
{
  return dtype == FLORENCE_DTYPE_F32 ? 4 : 2;
}

/* BINPERSID: ('storage', <storage class>, key, location, numel) */
static Pv *
persistent_load (Vm *vm, Pv *pid)
{
  g_autofree char *entry_name = NULL;
  FlorenceZipEntry *entry;
  Pv *type, *key, *location, *numel, *storage;
  FlorenceDType dtype;
  guint64 n_bytes;

  if (pid->kind != PV_TUPLE || pid->items->len != 5)
    {
      vm_refuse (vm, _ ("has a persistent id that is not a storage reference"));
      return NULL;
    }
  type = g_ptr_array_index (pid->items, 1);
  key = g_ptr_array_index (pid->items, 2);
  location = g_ptr_array_index (pid->items, 3);
  numel = g_ptr_array_index (pid->items, 4);
  if (((Pv *) g_ptr_array_index (pid->items, 0))->kind != PV_STR ||
      !g_str_equal (((Pv *) g_ptr_array_index (pid->items, 0))->s, "storage") ||
      type->kind != PV_GLOBAL || key->kind != PV_STR || location->kind != PV_STR ||
      numel->kind != PV_INT || numel->i < 0)
    {
      vm_refuse (vm, _ ("has a persistent id that is not a storage reference"));
      return NULL;
    }
  switch (type->global)
    {
    case GL_STORAGE_HALF:
      dtype = FLORENCE_DTYPE_F16;
      break;
    case GL_STORAGE_FLOAT:
      dtype = FLORENCE_DTYPE_F32;
      break;
    case GL_STORAGE_BF16:
      dtype = FLORENCE_DTYPE_BF16;
      break;
    case GL_ORDERED_DICT:
    case GL_REBUILD_TENSOR_V2:
    case GL_REBUILD_PARAMETER:
    default:
      vm_refuse (vm, _ ("has a storage of a type other than half, bfloat16 or float"));
      return NULL;
    }

  storage = g_hash_table_lookup (vm->storages, key->s);
  if (storage != NULL)
    {
      if (storage->dtype != dtype || storage->n_elements != (guint64) numel->i)
        {
          vm_fail (vm, _ ("the storage “%s” is referenced with two different types or sizes"),
                   key->s);
          return NULL;
        }
      return pv_ref (storage);
    }

  entry_name = g_strconcat (vm->prefix, "data/", key->s, NULL);
  entry = g_hash_table_lookup (vm->entries, entry_name);
  if (entry == NULL)
    {
      vm_fail (vm, _ ("the storage “%s” is not in the archive"), entry_name);
      return NULL;
    }
  if (!g_uint64_checked_mul (&n_bytes, (guint64) numel->i, storage_elem_size (dtype)) ||
      n_bytes != entry->size || entry->offset > vm->archive_size ||
      entry->size > vm->archive_size - entry->offset)
    {
      vm_fail (
        vm,
        _ ("the storage “%s” holds %" PRIu64 " bytes, not the %" PRId64 " elements it declares"),
        entry_name, entry->size, numel->i);
      return NULL;
    }
  storage = pv_new (vm, PV_STORAGE);
  if (storage == NULL)
    return NULL;
  storage->s = g_strdup (key->s);
  storage->dtype = dtype;
  storage->data = vm->archive + entry->offset;
  storage->n_elements = (guint64) numel->i;
  g_hash_table_insert (vm->storages, storage->s, pv_ref (storage));
  return storage;
}

static gboolean
int_tuple (Pv *v, guint max_len)
{
  if (v->kind != PV_TUPLE || v->items->len > max_len)
    return FALSE;
  for (guint i = 0; i < v->items->len; i++)
    if (((Pv *) g_ptr_array_index (v->items, i))->kind != PV_INT)
      return FALSE;
  return TRUE;
}

/* _rebuild_tensor_v2 (storage, storage_offset, size, stride, requires_grad, backward_hooks
 * [, metadata]) */
static Pv *
rebuild_tensor (Vm *vm, GPtrArray *args)
{
  Pv *storage, *offset, *size, *stride, *t;
  guint64 numel = 1, expected_stride = 1;

  if (args->len != 6 && args->len != 7)
    {
      vm_refuse (vm, _ ("rebuilds a tensor with %u arguments"), args->len);
      return NULL;
    }
  storage = g_ptr_array_index (args, 0);
  offset = g_ptr_array_index (args, 1);
  size = g_ptr_array_index (args, 2);
  stride = g_ptr_array_index (args, 3);
  if (storage->kind != PV_STORAGE || offset->kind != PV_INT || offset->i < 0 ||
      !int_tuple (size, FLORENCE_RAW_MAX_DIMS) || !int_tuple (stride, FLORENCE_RAW_MAX_DIMS) ||
      size->items->len != stride->items->len ||
      ((Pv *) g_ptr_array_index (args, 4))->kind != PV_BOOL)
    {
      vm_fail (vm, _ ("a tensor is rebuilt from arguments of the wrong types"));
      return NULL;
    }
  t = pv_new (vm, PV_TENSOR);
  if (t == NULL)
    return NULL;
  t->storage = pv_ref (storage);
  t->i = offset->i;
  t->n_dims = size->items->len;
  /* Contiguous (row-major) only; a dimension of size 1 may carry any stride. */
  for (guint d = t->n_dims; d-- > 0;)
    {
      gint64 n = ((Pv *) g_ptr_array_index (size->items, d))->i;
      gint64 s = ((Pv *) g_ptr_array_index (stride->items, d))->i;

      if (n < 0)
        vm_fail (vm, _ ("a tensor has a negative size"));
      else if (n != 1 && (guint64) s != expected_stride)
        vm_refuse (vm, _ ("holds a tensor that is not contiguous"));
      else if (!g_uint64_checked_mul (&numel, numel, (guint64) n))
        vm_fail (vm, _ ("a tensor's size overflows"));
      if (vm->failed)
        {
          pv_unref (vm, t);
          return NULL;
        }
      t->shape[d] = n;
      expected_stride = numel;
    }
  if ((guint64) offset->i > storage->n_elements ||
      numel > storage->n_elements - (guint64) offset->i)
    {
      vm_fail (vm,
               _ ("a tensor of %" PRIu64 " elements at offset %" PRId64
                  " does not fit its storage “%s” of %" PRIu64),
               numel, offset->i, storage->s, storage->n_elements);
      pv_unref (vm, t);
      return NULL;
    }
  return t;
}

static Pv *
reduce (Vm *vm, Pv *callable, Pv *args)
{
  Pv *result;

  if (callable->kind != PV_GLOBAL || args->kind != PV_TUPLE)
    {
      vm_refuse (vm, _ ("calls something that is not an allowed function"));
      return NULL;
    }
  switch (callable->global)
    {
    case GL_ORDERED_DICT:
      if (args->items->len != 0)
        {
          vm_refuse (vm, _ ("builds an OrderedDict from arguments"));
          return NULL;
        }
      result = pv_new (vm, PV_DICT);
      if (result != NULL)
        result->items = g_ptr_array_new ();
      return result;
    case GL_REBUILD_TENSOR_V2:
      return rebuild_tensor (vm, args->items);
    case GL_REBUILD_PARAMETER:
      if (args->items->len != 3 || ((Pv *) g_ptr_array_index (args->items, 0))->kind != PV_TENSOR)
        {
          vm_refuse (vm, _ ("rebuilds a parameter from something that is not a tensor"));
          return NULL;
        }
      return pv_ref (g_ptr_array_index (args->items, 0));
    case GL_STORAGE_HALF:
    case GL_STORAGE_FLOAT:
    case GL_STORAGE_BF16:
    default:
      vm_refuse (vm, _ ("calls a storage class"));
      return NULL;
    }
}

static void
op_reduce (Vm *vm)
{
  Pv *args = pop (vm), *callable = args ? pop (vm) : NULL;

  if (callable != NULL)
    push (vm, reduce (vm, callable, args));
  pv_unref (vm, args);
  pv_unref (vm, callable);
}

static void
op_global (Vm *vm, const char *module, const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (allowed_globals); i++)
    if (g_str_equal (module, allowed_globals[i].module) &&
        g_str_equal (name, allowed_globals[i].name))
      {
        Pv *v = pv_new (vm, PV_GLOBAL);

        if (v != NULL)
          v->global = allowed_globals[i].kind;
        push (vm, v);
        return;
      }
  vm_refuse (vm, _ ("imports “%s.%s”, which a state dict does not need"), module, name);
}

/* GLOBAL's argument: "module\nname\n", printable ASCII. */
static char *
read_line (Vm *vm)
{
  const guint8 *nl;
  gsize len;

  nl = memchr (vm->p, '\n', MIN ((gsize) (vm->end - vm->p), 256));
  if (nl == NULL)
    {
      vm_fail (vm, _ ("a GLOBAL name is not terminated"));
      return NULL;
    }
  len = nl - vm->p;
  for (gsize i = 0; i < len; i++)
    if (vm->p[i] < 0x20 || vm->p[i] > 0x7e)
      {
        vm_fail (vm, _ ("a GLOBAL name holds a control character"));
        return NULL;
      }
  vm->p = nl + 1;
  return g_strndup ((const char *) nl - len, len);
}

static void
memo_put (Vm *vm, guint64 index)
{
  Pv *v = top (vm), *old;

  if (v == NULL)
    return;
  if (index > G_MAXUINT32)
    {
      vm_fail (vm, _ ("a memo index is too large"));
      return;
    }
  old = g_hash_table_lookup (vm->memo, GUINT_TO_POINTER ((guint) index));
  if (old == NULL && g_hash_table_size (vm->memo) >= MAX_OBJECTS)
    {
      vm_fail (vm, _ ("it memoizes more than %u values, far more than a state dict needs"),
               MAX_OBJECTS);
      return;
    }
  g_hash_table_insert (vm->memo, GUINT_TO_POINTER ((guint) index), pv_ref (v));
  pv_unref (vm, old);
}

static void
memo_get (Vm *vm, guint64 index)
{
  Pv *v =
    index <= G_MAXUINT32 ? g_hash_table_lookup (vm->memo, GUINT_TO_POINTER ((guint) index)) : NULL;

  if (v == NULL)
    {
      vm_fail (vm, _ ("it reads memo entry %" PRIu64 ", which was never stored"), index);
      return;
    }
  push (vm, pv_ref (v));
}

/* ------------------------------------------------------------------------------------------ */
/* The interpreter loop */

static Pv *
run (Vm *vm)
{
  while (!vm->failed)
    {
      guint8 op;

      if (!need (vm, 1))
        return NULL;
      op = *vm->p++;
      switch (op)
        {
        case 0x80: /* PROTO */
          if (!need (vm, 1))
            return NULL;
          if (*vm->p < 2 || *vm->p > 5)
            vm_refuse (vm, _ ("uses pickle protocol %d"), *vm->p);
          vm->p++;
          break;
        case 0x95: /* FRAME: a length hint, the opcodes follow inline */
          if (need (vm, 8))
            vm->p += 8;
          break;
        case '.': /* STOP */
          {
            Pv *result;

            if (vm->marks->len != 0 || vm->stack->len != 1)
              {
                vm_fail (vm, _ ("it stops with %u values and %u marks left"), vm->stack->len,
                         vm->marks->len);
                return NULL;
              }
            result = g_ptr_array_index (vm->stack, 0);
            if (vm->p != vm->end)
              g_debug ("%s: %zu bytes after the pickle's STOP ignored", vm->path,
                       (gsize) (vm->end - vm->p));
            return result;
          }
        case '(': /* MARK */
          if (vm->marks->len >= 4096)
            vm_fail (vm, _ ("it nests too deeply"));
          else
            g_array_append_val (vm->marks, vm->stack->len);
          break;
        case 'N':
          push (vm, pv_new (vm, PV_NONE));
          break;
        case 0x88: /* NEWTRUE */
        case 0x89: /* NEWFALSE */
          {
            Pv *v = pv_new (vm, PV_BOOL);

            if (v != NULL)
              v->i = op == 0x88;
            push (vm, v);
            break;
          }
        case 'J': /* BININT */
          if (need (vm, 4))
            {
              push_int (vm, (gint32) (guint32) rd_le (vm->p, 4));
              vm->p += 4;
            }
          break;
        case 'K': /* BININT1 */
          if (need (vm, 1))
            push_int (vm, *vm->p++);
          break;
        case 'M': /* BININT2 */
          if (need (vm, 2))
            {
              push_int (vm, (gint64) rd_le (vm->p, 2));
              vm->p += 2;
            }
          break;
        case 0x8a: /* LONG1: n bytes, little-endian two's complement */
          {
            guint n;
            guint64 u;

            if (!need (vm, 1))
              return NULL;
            n = *vm->p++;
            if (n > 8)
              {
                vm_refuse (vm, _ ("holds an integer wider than 64 bits"));
                return NULL;
              }
            if (!need (vm, n))
              return NULL;
            u = rd_le (vm->p, n);
            if (n > 0 && n < 8 && (vm->p[n - 1] & 0x80))
              u |= ~(guint64) 0 << (8 * n);
            vm->p += n;
            push_int (vm, (gint64) u);
            break;
          }
        case 'G': /* BINFLOAT: big-endian double */
          if (need (vm, 8))
            {
              guint64 bits;
              Pv *v = pv_new (vm, PV_FLOAT);

              memcpy (&bits, vm->p, 8);
              bits = GUINT64_FROM_BE (bits);
              if (v != NULL)
                memcpy (&v->f, &bits, 8);
              vm->p += 8;
              push (vm, v);
            }
          break;
        case 'X':  /* BINUNICODE */
        case 0x8c: /* SHORT_BINUNICODE */
        case 0x8d: /* BINUNICODE8 */
        case 'T':  /* BINSTRING */
        case 'U':  /* SHORT_BINSTRING */
          {
            guint w = (op == 0x8c || op == 'U') ? 1 : op == 0x8d ? 8 : 4;
            guint64 len;

            if (!need (vm, w))
              return NULL;
            len = rd_le (vm->p, w);
            vm->p += w;
            if (op == 'T' && len > G_MAXINT32)
              {
                vm_fail (vm, _ ("a string has a negative length"));
                return NULL;
              }
            if (len > (guint64) (vm->end - vm->p))
              {
                vm_fail (vm, _ ("a string goes beyond the end of the pickle"));
                return NULL;
              }
            push_str (vm, vm->p, len);
            vm->p += len;
            break;
          }
        case ')': /* EMPTY_TUPLE */
          push_tuple (vm, g_ptr_array_new ());
          break;
        case 't': /* TUPLE */
          {
            GPtrArray *items = pop_mark (vm);

            if (items != NULL)
              push_tuple (vm, items);
            break;
          }
        case 0x85: /* TUPLE1 */
        case 0x86: /* TUPLE2 */
        case 0x87: /* TUPLE3 */
          {
            guint n = op - 0x84;
            GPtrArray *items = g_ptr_array_new ();
            Pv *vals[3];

            for (guint k = n; k-- > 0;)
              if ((vals[k] = pop (vm)) == NULL)
                {
                  for (guint j = k + 1; j < n; j++)
                    pv_unref (vm, vals[j]);
                  g_ptr_array_unref (items);
                  return NULL;
                }
            for (guint k = 0; k < n; k++)
              g_ptr_array_add (items, vals[k]);
            push_tuple (vm, items);
            break;
          }
        case ']': /* EMPTY_LIST */
        case '}': /* EMPTY_DICT */
          {
            Pv *v = pv_new (vm, op == ']' ? PV_LIST : PV_DICT);

            if (v != NULL)
              v->items = g_ptr_array_new ();
            push (vm, v);
            break;
          }
        case 'a': /* APPEND */
          {
            Pv *v = pop (vm), *list = v ? top (vm) : NULL;

            if (list == NULL)
              {
                pv_unref (vm, v);
                return NULL;
              }
            if (list->kind != PV_LIST)
              {
                vm_fail (vm, _ ("it appends to something that is not a list"));
                pv_unref (vm, v);
              }
            else
              items_add (vm, list, v);
            break;
          }
        case 'e': /* APPENDS */
          {
            g_autoptr (GPtrArray) items = pop_mark (vm);
            Pv *list = items ? top (vm) : NULL;

            if (list != NULL && list->kind != PV_LIST)
              vm_fail (vm, _ ("it appends to something that is not a list"));
            if (list == NULL || vm->failed)
              {
                unref_all (vm, items);
                return NULL;
              }
            for (guint k = 0; k < items->len; k++)
              items_add (vm, list, g_ptr_array_index (items, k));
            break;
          }
        case 's': /* SETITEM */
          {
            Pv *value = pop (vm), *key = value ? pop (vm) : NULL, *dict = key ? top (vm) : NULL;

            if (dict == NULL)
              {
                pv_unref (vm, value);
                pv_unref (vm, key);
                return NULL;
              }
            dict_set (vm, dict, key, value);
            break;
          }
        case 'u': /* SETITEMS */
          {
            g_autoptr (GPtrArray) items = pop_mark (vm);
            Pv *dict = items ? top (vm) : NULL;

            if (items != NULL && items->len % 2 != 0)
              vm_fail (vm, _ ("SETITEMS has an odd number of values"));
            if (dict == NULL || vm->failed)
              {
                unref_all (vm, items);
                return NULL;
              }
            for (guint k = 0; k + 1 < items->len; k += 2)
              dict_set (vm, dict, g_ptr_array_index (items, k), g_ptr_array_index (items, k + 1));
            break;
          }
        case 'c': /* GLOBAL */
          {
            g_autofree char *module = read_line (vm);
            g_autofree char *name = module ? read_line (vm) : NULL;

            if (name != NULL)
              op_global (vm, module, name);
            break;
          }
        case 0x93: /* STACK_GLOBAL */
          {
            Pv *name = pop (vm), *module = name ? pop (vm) : NULL;

            if (module != NULL && (name->kind != PV_STR || module->kind != PV_STR))
              vm_fail (vm, _ ("STACK_GLOBAL takes names that are not strings"));
            else if (module != NULL)
              op_global (vm, module->s, name->s);
            pv_unref (vm, name);
            pv_unref (vm, module);
            break;
          }
        case 'R': /* REDUCE */
          op_reduce (vm);
          break;
        case 'b': /* BUILD: only the attribute state of a dict (an OrderedDict's _metadata) */
          {
            Pv *state = pop (vm), *obj = state ? top (vm) : NULL;

            if (obj != NULL && obj->kind != PV_DICT)
              vm_refuse (vm, _ ("sets the state of an object other than a dict"));
            else if (obj != NULL && state->kind != PV_DICT && state->kind != PV_NONE &&
                     state->kind != PV_TUPLE)
              vm_refuse (vm, _ ("sets a dict's state to something that is not a dict"));
            pv_unref (vm, state); /* the state is not kept */
            break;
          }
        case 'Q': /* BINPERSID */
          {
            Pv *pid = pop (vm);

            if (pid != NULL)
              push (vm, persistent_load (vm, pid));
            pv_unref (vm, pid);
            break;
          }
        case 'q': /* BINPUT */
          if (need (vm, 1))
            memo_put (vm, *vm->p++);
          break;
        case 'r': /* LONG_BINPUT */
          if (need (vm, 4))
            {
              memo_put (vm, rd_le (vm->p, 4));
              vm->p += 4;
            }
          break;
        case 0x94: /* MEMOIZE */
          memo_put (vm, g_hash_table_size (vm->memo));
          break;
        case 'h': /* BINGET */
          if (need (vm, 1))
            memo_get (vm, *vm->p++);
          break;
        case 'j': /* LONG_BINGET */
          if (need (vm, 4))
            {
              memo_get (vm, rd_le (vm->p, 4));
              vm->p += 4;
            }
          break;
        default:
          vm->p--;
          vm_refuse (vm, _ ("uses the opcode 0x%02x, which a state dict does not need"), op);
          break;
        }
    }
  return NULL;
}

gboolean
florence_pickle_interpret (const guint8 *pickle, gsize pickle_size, const guint8 *archive,
                           gsize archive_size, GPtrArray *entries, const char *prefix,
                           const char *path, GPtrArray *tensors, GError **error)
{
  g_autoptr (GPtrArray) arena = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_free);
  g_autoptr (GPtrArray) stack = g_ptr_array_new ();
  g_autoptr (GArray) marks = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GHashTable) memo = g_hash_table_new (NULL, NULL);
  g_autoptr (GHashTable) storages = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) entry_table = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) dying = g_ptr_array_new ();
  Vm vm = { 0 };
  Pv *result;

  g_return_val_if_fail (pickle != NULL || pickle_size == 0, FALSE);
  g_return_val_if_fail (entries != NULL && path != NULL && tensors != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint i = 0; i < entries->len; i++)
    {
      FlorenceZipEntry *e = g_ptr_array_index (entries, i);

      g_hash_table_insert (entry_table, e->name, e);
    }
  vm.p = vm.start = pickle;
  vm.end = pickle + pickle_size;
  vm.archive = archive;
  vm.archive_size = archive_size;
  vm.entries = entry_table;
  vm.prefix = prefix;
  vm.path = path;
  vm.error = error;
  vm.arena = arena;
  vm.stack = stack;
  vm.marks = marks;
  vm.memo = memo;
  vm.storages = storages;
  vm.dying = dying;

  if (pickle_size > MAX_PICKLE_SIZE)
    {
      g_autofree char *size = g_format_size (pickle_size);
      florence_checkpoint_set_corrupt (
        error, path, _ ("its pickle is %s long, far more than a state dict needs"), size);
      return FALSE;
    }
  result = run (&vm);
  if (result == NULL)
    return FALSE;
  if (result->kind != PV_DICT)
    {
      florence_checkpoint_set_corrupt (error, path, _ ("its pickle does not hold a state dict"));
      return FALSE;
    }
  for (guint k = 0; k + 1 < result->items->len; k += 2)
    {
      Pv *key = g_ptr_array_index (result->items, k),
         *value = g_ptr_array_index (result->items, k + 1);
      FlorenceRawTensor *t;
      gsize esize;

      if (key->kind != PV_STR)
        {
          florence_checkpoint_set_corrupt (error, path,
                                           _ ("its state dict has a key that is not text"));
          return FALSE;
        }
      if (value->kind != PV_TENSOR)
        {
          g_debug ("%s: “%s” is not a tensor; ignored", path, key->s);
          continue;
        }
      if (!g_hash_table_add (seen, key->s))
        {
          florence_checkpoint_set_corrupt (error, path, _ ("the tensor “%s” appears twice"),
                                           key->s);
          return FALSE;
        }
      esize = storage_elem_size (value->storage->dtype);
      t = g_new0 (FlorenceRawTensor, 1);
      t->name = g_strdup (key->s);
      t->dtype = value->storage->dtype;
      t->dtype_known = TRUE;
      t->dtype_name = g_strdup (florence_dtype_to_string (t->dtype));
      t->n_dims = value->n_dims;
      t->n_elements = 1;
      for (guint d = 0; d < value->n_dims; d++)
        {
          t->shape[d] = value->shape[d];
          t->n_elements *= (gsize) value->shape[d]; /* bounded by the storage (checked) */
        }
      t->data = value->storage->data + (gsize) value->i * esize;
      t->n_bytes = t->n_elements * esize;
      g_ptr_array_add (tensors, t);
    }
  return TRUE;
}

gboolean
florence_pickle_read_state_dict (const guint8 *data, gsize size, const char *path,
                                 GPtrArray *tensors, GError **error)
{
  g_autoptr (GPtrArray) entries = NULL;
  FlorenceZipEntry *pkl = NULL;
  g_autofree char *prefix = NULL;

  g_return_val_if_fail (data != NULL || size == 0, FALSE);
  g_return_val_if_fail (path != NULL && tensors != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* torch.save before PyTorch 1.6 wrote bare pickles (magic number, then storages). */
  if (size >= 2 && data[0] == 0x80 && data[1] >= 2 && data[1] <= 5)
    {
      g_set_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED,
                   _ ("The weights file “%s” uses the legacy torch.save format of PyTorch before "
                      "1.6, which Depict does not read. Save it again with a recent PyTorch, or "
                      "convert it to safetensors."),
                   path);
      return FALSE;
    }
  entries = florence_zip_list (data, size, path, error);
  if (entries == NULL)
    return FALSE;
  /* "<archive name>/data.pkl", one level deep ("archive/" or "pytorch_model/"). */
  for (guint i = 0; i < entries->len; i++)
    {
      FlorenceZipEntry *e = g_ptr_array_index (entries, i);
      const char *slash = strchr (e->name, '/');

      if (slash != NULL && slash != e->name && g_str_equal (slash + 1, "data.pkl"))
        {
          if (pkl != NULL)
            {
              florence_checkpoint_set_corrupt (error, path, _ ("it holds two pickles"));
              return FALSE;
            }
          pkl = e;
        }
    }
  if (pkl == NULL)
    {
      florence_checkpoint_set_corrupt (
        error, path, _ ("it is a zip archive without the data.pkl of a torch.save file"));
      return FALSE;
    }
  prefix = g_strndup (pkl->name, strlen (pkl->name) - strlen ("data.pkl"));
  for (guint i = 0; i < entries->len; i++)
    {
      FlorenceZipEntry *e = g_ptr_array_index (entries, i);

      if (g_str_has_prefix (e->name, prefix) &&
          g_str_equal (e->name + strlen (prefix), "byteorder") &&
          !(e->size == 6 && memcmp (data + e->offset, "little", 6) == 0))
        {
          g_set_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED,
                       _ ("The weights file “%s” was saved on a big-endian machine, which Depict "
                          "cannot read. Convert it to safetensors."),
                       path);
          return FALSE;
        }
    }
  return florence_pickle_interpret (data + pkl->offset, pkl->size, data, size, entries, prefix,
                                    path, tensors, error);
}
