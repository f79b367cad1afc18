/* test-sanitizers.h: what a test must know of the sanitizer it runs under
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * UNDER_ASAN is defined in AddressSanitizer builds (gcc and clang): their shadow memory cannot
 * live under an address-space limit (ulimit -v, RLIMIT_AS), so the tests that set one skip.
 */
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
