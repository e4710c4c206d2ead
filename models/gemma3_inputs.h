/* The inputs of one Gemma-3 prefill batch, on the host: several requests of
 * different lengths, concatenated (ragged, as the attention layouts). */
#ifndef PF_GEMMA3_INPUTS_H
#define PF_GEMMA3_INPUTS_H

#include <stdint.h>

typedef struct pf_g3_inputs {
    int batch;                /* requests */
    int *req_len;             /* [batch] tokens per request; they sum to tokens */
    int tokens;
    int32_t *input_ids;       /* [tokens], requests concatenated */
    int32_t *token_type_ids;  /* [tokens] (1: image token) or NULL: then every
                                 mask is plain causal / sliding-causal, as HF */
    int n_images;
    float *pixel_values;      /* [n_images, channels, S, S], normalized */
} pf_g3_inputs;

#endif
