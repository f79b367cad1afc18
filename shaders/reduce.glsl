// reduce.glsl: a sum over the invocations of a workgroup (#include after the local size)
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// depict_wg_sum (v) returns Σ v over the workgroup to every invocation; every invocation of the
// workgroup must call it (it has barriers). Built with -DSUBGROUP: subgroupAdd, then one step
// across the subgroups through shared memory; otherwise a shared-memory tree, which needs a
// power-of-two workgroup size.

#ifndef DEPICT_REDUCE_GLSL
#define DEPICT_REDUCE_GLSL

#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

shared float depict_red[gl_WorkGroupSize.x];

float depict_wg_sum (float v)
{
#ifdef SUBGROUP
  v = subgroupAdd (v);
  if (gl_NumSubgroups == 1u)
    return v;
  barrier (); // the previous call's readers are done with depict_red
  if (subgroupElect ())
    depict_red[gl_SubgroupID] = v;
  barrier ();
  float s = 0.0;
  for (uint g = 0u; g < gl_NumSubgroups; g++)
    s += depict_red[g];
  return s;
#else
  uint lane = gl_LocalInvocationID.x;
  barrier ();
  depict_red[lane] = v;
  barrier ();
  for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1u)
    {
      if (lane < s)
        depict_red[lane] += depict_red[lane + s];
      barrier ();
    }
  return depict_red[0];
#endif
}

#endif
