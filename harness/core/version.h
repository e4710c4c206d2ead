/* The program's version for outputs that record it (journals, results):
 * PF_VERSION from the build plus the git revision main() sets. */
#ifndef PF_VERSION_H
#define PF_VERSION_H

/* Called once by main() with the generated revision. */
void pf_version_set_revision(const char *rev);
/* "0.1.0" (compatibility: journals compare this). */
const char *pf_version(void);
/* "0.1.0 (abc1234-dirty)" (what produced a file). */
const char *pf_version_full(void);

#endif
