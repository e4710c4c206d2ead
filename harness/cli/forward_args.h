/* The parsed command line of `pftune forward`, shared by its Gemma-3 body
 * (cmd_forward.c) and its Gemma-4 body (cmd_forward_g4.c). */
#ifndef PF_CLI_FORWARD_ARGS_H
#define PF_CLI_FORWARD_ARGS_H

typedef struct fwd_args {
    const char *model, *layout, *inputs, *tuned, *device, *out;
    const char *attn[8];
    int n_attn, all_logits, no_time, no_token_types, mask_audit, dry_run;
    long seed, weights_seed, samples, warmup;
} fwd_args;

/* 1: --model names a Gemma-4 preset ("gemma4-*") or a checkpoint whose
 * config.json has model_type "gemma4". */
int pf_forward_is_gemma4(const char *model);
/* --dry-run: the plan of a forward that passed every check (config,
 * inputs, variants, --tuned), one line, without running it. */
void pf_forward_dry_run_print(const char *model, int tokens, int batch, int images,
                              int image_tokens, const void *weights, const char *full,
                              const char *sliding);
/* `pftune forward` for Gemma-4 (exit code). */
int cmd_forward_g4(const fwd_args *a);

#endif
