/* The Gemma-4 weight set: its spec list, check, lookup and synthetic values
 * plugged into the shared weight set. */
#include "models/gemma4_weight_set.h"

static int specs(const void *cfg, pf_wspec **out, int *n)
{
    return pf_g4_weight_specs((const pf_g4_config *)cfg, out, n);
}

static int check(const void *cfg, const pf_safetensors *st)
{
    return pf_g4_weights_check((const pf_g4_config *)cfg, st);
}

static const pf_weight_model model = {specs, check, pf_g4_find, pf_g4_synth_recipe};

int pf_g4_weight_set_load(const pf_g4_config *c, const char *dir, pf_weight_set *out)
{
    return pf_weight_set_load(&model, c, dir, out);
}

int pf_g4_weight_set_synth(const pf_g4_config *c, uint64_t seed, pf_weight_set *out)
{
    return pf_weight_set_synth(&model, c, seed, 0, out);
}

int pf_g4_weight_set_synth_lazy(const pf_g4_config *c, uint64_t seed, pf_weight_set *out)
{
    return pf_weight_set_synth(&model, c, seed, 1, out);
}
