/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Owner cookies are kernel pointers; printing them would leak KASLR into CI
 * logs. Each distinct non-NULL owner gets a stable per-run token instead. */
#ifndef OT_OWNER_TOKENS_H
#define OT_OWNER_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ot_owner_tokens;

struct ot_owner_tokens *ot_owner_tokens_new(void);
void ot_owner_tokens_free(struct ot_owner_tokens *t);

/* 0 for NULL, else 1, 2, ... in order of first appearance. 0 also when out of memory. */
unsigned int ot_owner_token(struct ot_owner_tokens *t, uint64_t owner);
size_t ot_owner_tokens_count(const struct ot_owner_tokens *t);

/*
 * Remember at most max owners (0, the default: no limit). When full the
 * table is emptied and numbering goes on, so memory stays bounded and a
 * token is never reused; the cost is that an owner seen again after that
 * gets a second token.
 */
void ot_owner_tokens_set_limit(struct ot_owner_tokens *t, size_t max);
size_t ot_owner_tokens_live(const struct ot_owner_tokens *t);		/* owners remembered now */
uint64_t ot_owner_tokens_forgotten(const struct ot_owner_tokens *t);	/* owners forgotten so far */

/*
 * Text for an owner: "-" for NULL, "owner#N", or with raw set, "0x..."
 * (only behind the --raw-pointers flag). Returns buf.
 */
const char *ot_owner_format(struct ot_owner_tokens *t, uint64_t owner, bool raw, char *buf, size_t len);

#endif
