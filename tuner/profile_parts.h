/* The sections of a profile, parsed by their own files (internal to
 * tuner/profile*.c). Each fills its part of *p and returns 0 / -1 with a
 * key-path message. */
#ifndef PF_PROFILE_PARTS_H
#define PF_PROFILE_PARTS_H

#include "tuner/profile.h"
#include "tuner/profile_json.h"

/* "axes" (v may be NULL: every axis of the family). */
int pf_profile_parse_axes(const pf_pj *c, const json_t *v, pf_profile *p);
/* "constraints" (v may be NULL). */
int pf_profile_parse_constraints(const pf_pj *c, const json_t *v, pf_profile *p);
/* "workload" (v may be NULL: images); needs seq_lens, requests and the
 * model's image tokens (p->image_tokens) already set. requests_given: the
 * profile set "requests" explicitly. */
int pf_profile_parse_workload(const pf_pj *c, const json_t *v, int requests_given, pf_profile *p);

#endif
