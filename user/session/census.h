/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A census through the session, live or replayed: recorded, printed as
 * JSON Lines "census" records where events are printed, the shadow seeded
 * from it (at the start of a run), and its violations reported as
 * anomalies: preexisting_leak / preexisting_missing at the start,
 * audit_drift at audits. The censuses' findings stay in s->census (and the run) for the
 * metrics.
 */
#ifndef OT_SESSION_CENSUS_H
#define OT_SESSION_CENSUS_H

#include "core/census.h"

struct ot_session;

/* 0, or -ENOMEM (nothing fed). */
int ot_session_census(struct ot_session *s, const struct ot_census *c);

#endif
