/* The registry of search strategies (see strategy.h). */
#include "tuner/strategy.h"

#include <stdio.h>
#include <string.h>

#include "core/pf_error.h"

extern const pf_strategy_ops pf_strategy_exhaustive, pf_strategy_random, pf_strategy_anneal,
    pf_strategy_model;

static const pf_strategy_ops *const all[] = {
    &pf_strategy_exhaustive, &pf_strategy_random, &pf_strategy_anneal, &pf_strategy_model, NULL,
};

const pf_strategy_ops *const *pf_strategies(void)
{
    return all;
}

const pf_strategy_ops *pf_strategy_find(const char *name)
{
    char known[128] = "";
    for (int i = 0; all[i]; i++) {
        if (name && strcmp(name, all[i]->name) == 0)
            return all[i];
        size_t len = strlen(known);
        snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "", all[i]->name);
    }
    pf_error_set("unknown strategy '%s' (known: %s)", name ? name : "", known);
    return NULL;
}
