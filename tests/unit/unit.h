/* Minimal unit-test support: CHECK records a failure and continues, each
 * binary prints "N passed, N failed" and exits non-zero on any failure. */
#ifndef OT_UNIT_H
#define OT_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (cond) {                                                          \
			unit_passed++;                                               \
		} else {                                                             \
			unit_failed++;                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                    \
	} while (0)

#define CHECK_STR(got, want)                                                         \
	do {                                                                         \
		const char *g_ = (got), *w_ = (want);                                \
		if (g_ && w_ && !strcmp(g_, w_)) {                                   \
			unit_passed++;                                               \
		} else {                                                             \
			unit_failed++;                                               \
			fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, \
				g_ ? g_ : "(null)", w_ ? w_ : "(null)");             \
		}                                                                    \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                                  \
	do {                                                                         \
		const char *h_ = (hay), *n_ = (needle);                              \
		if (h_ && strstr(h_, n_)) {                                          \
			unit_passed++;                                               \
		} else {                                                             \
			unit_failed++;                                               \
			fprintf(stderr, "%s:%d: \"%s\" not found in:\n%s\n", __FILE__, __LINE__, n_, \
				h_ ? h_ : "(null)");                                 \
		}                                                                    \
	} while (0)

static inline int unit_report(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

/* Capture what a function writes to a FILE * into a string. */
#define CAPTURE(buf, size, f, stmt)                                                  \
	do {                                                                         \
		FILE *f = fmemopen(buf, size, "w");                                  \
		stmt;                                                                \
		fclose(f);                                                           \
	} while (0)

#endif
