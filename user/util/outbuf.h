/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * An output buffer: every writer appends its bytes here and the buffer
 * goes to its FILE in large blocks. The per-event path formats numbers and
 * padded columns itself (no printf: replay speed is won or lost here);
 * ot_buf_printf() is for the cold paths (summaries, reports).
 */
#ifndef OT_OUTBUF_H
#define OT_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Past this many bytes a write hands the buffer to the FILE. */
#define OT_BUF_FLUSH_AT (64 * 1024)

struct ot_buf {
	char *data;
	size_t len, cap;
	FILE *f;		/* where flushed bytes go */
	bool failed;		/* out of memory or a write error: later bytes are dropped */
};

void ot_buf_init(struct ot_buf *b, FILE *f);
/* Write out what is buffered (fwrite + fflush): 0, or -EIO after a failure. */
int ot_buf_flush(struct ot_buf *b);
/* Flush, then free the memory and forget the FILE (the caller's); safe twice. */
int ot_buf_fini(struct ot_buf *b);

/* The slow half of ot_buf_reserve(): drain, grow, or fail. */
char *ot_buf_reserve_slow(struct ot_buf *b, size_t n);

/* Room for n more bytes; NULL after a failure (nothing is written then). */
static inline char *ot_buf_reserve(struct ot_buf *b, size_t n)
{
	/* a failed buffer has cap 0, so it always takes the slow path */
	if (b->len + n <= b->cap)
		return b->data + b->len;
	return ot_buf_reserve_slow(b, n);
}

static inline void ot_buf_put(struct ot_buf *b, const char *s, size_t n)
{
	char *p = ot_buf_reserve(b, n);

	if (p) {
		memcpy(p, s, n);
		b->len += n;
	}
}

static inline void ot_buf_putc(struct ot_buf *b, char c)
{
	char *p = ot_buf_reserve(b, 1);

	if (p) {
		*p = c;
		b->len++;
	}
}

/* Inline, so the length of a literal is known at compile time. */
static inline void ot_buf_puts(struct ot_buf *b, const char *s)
{
	ot_buf_put(b, s, strlen(s));
}
/* At most max bytes of s, up to its NUL (kernel names are fixed-size, maybe unterminated). */
void ot_buf_putn(struct ot_buf *b, const char *s, size_t max);
void ot_buf_fill(struct ot_buf *b, char c, size_t n);
void ot_buf_printf(struct ot_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Decimal numbers, as %PRIu64 / %PRId64 print them. */
void ot_buf_u64(struct ot_buf *b, uint64_t v);
void ot_buf_i64(struct ot_buf *b, int64_t v);

/*
 * Padded columns, as printf's "%-*.*s" (left) and "%*.*s" (right) print
 * them: at most max bytes of s (up to its NUL), padded with spaces to width.
 */
void ot_buf_col(struct ot_buf *b, const char *s, size_t max, int width, bool left);
void ot_buf_col_u64(struct ot_buf *b, uint64_t v, int width, bool left);

/*
 * A signed count of 10^-scale units as a decimal with `decimals` digits
 * (0 <= decimals <= scale <= 12), rounded as printf's %.Nf rounds the double v/10^scale,
 * right-aligned to width: ot_buf_fixed(b, 1234567, 9, 6, 12) is
 * "    0.001235". Exact where printf would be (ties fall back to it).
 */
void ot_buf_fixed(struct ot_buf *b, int64_t v, int scale, int decimals, int width);

/* Bytes formatted so far and not flushed (for tests and callers that capture). */
static inline size_t ot_buf_pending(const struct ot_buf *b)
{
	return b->len;
}

#endif
