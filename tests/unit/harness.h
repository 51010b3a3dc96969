/* A tiny test harness: each TEST is a function; RUN prints "ok - NAME" or
 * "not ok - NAME" with the failed checks indented below it.  main returns
 * non-zero when anything failed. */
#ifndef JB_HARNESS_H
#define JB_HARNESS_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int h_test_failures;
static char h_details[16384];
static size_t h_details_len;

/* Records a failure; the details are printed under the test's result line. */
__attribute__((format(printf, 1, 2))) static void h_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (h_details_len < sizeof h_details) {
		int n = vsnprintf(h_details + h_details_len, sizeof h_details - h_details_len, fmt, ap);
		if (n > 0)
			h_details_len += (size_t)n;
		if (h_details_len > sizeof h_details)
			h_details_len = sizeof h_details;
	}
	va_end(ap);
	h_test_failures++;
}
static int h_total_failed;
static const char *h_suite = "unit";

#define CHECK(cond)                                                                                 \
	do {                                                                                            \
		if (!(cond)) {                                                                              \
			h_fail("    %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                   \
		}                                                                                           \
	} while (0)

#define CHECK_STR(actual, expected)                                                                 \
	do {                                                                                            \
		const char *h_a = (actual), *h_e = (expected);                                              \
		if (!h_a || !h_e || strcmp(h_a, h_e) != 0) {                                                \
			h_fail("    %s:%d: %s\n      expected: %s\n      actual:   %s\n", __FILE__, __LINE__,    \
			       #actual, h_e ? h_e : "(null)", h_a ? h_a : "(null)");                           \
		}                                                                                           \
	} while (0)

#define CHECK_CONTAINS(haystack, needle)                                                            \
	do {                                                                                            \
		const char *h_h = (haystack), *h_n = (needle);                                              \
		if (!h_h || !strstr(h_h, h_n)) {                                                            \
			h_fail("    %s:%d: %s does not contain \"%s\"\n      actual: %s\n", __FILE__, __LINE__,   \
			       #haystack, h_n, h_h ? h_h : "(null)");                                          \
		}                                                                                           \
	} while (0)

#define CHECK_INT(actual, expected)                                                                 \
	do {                                                                                            \
		long long h_a = (long long)(actual), h_e = (long long)(expected);                           \
		if (h_a != h_e) {                                                                           \
			h_fail("    %s:%d: %s: expected %lld, got %lld\n", __FILE__, __LINE__, #actual, h_e, h_a); \
		}                                                                                           \
	} while (0)

#define TEST(name) static void name(void)

#define RUN(name)                                                                                   \
	do {                                                                                            \
		h_test_failures = 0;                                                                        \
		h_details_len = 0;                                                                          \
		h_details[0] = '\0';                                                                        \
		fflush(stdout);                                                                             \
		name();                                                                                     \
		if (h_test_failures) {                                                                      \
			printf("not ok - %s: %s\n%s", h_suite, #name, h_details);                              \
			h_total_failed++;                                                                       \
		} else {                                                                                    \
			printf("ok - %s: %s\n", h_suite, #name);                                               \
		}                                                                                           \
		fflush(stdout);                                                                             \
	} while (0)

#define HARNESS_DONE() (h_total_failed ? 1 : 0)

#endif
