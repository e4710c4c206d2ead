/* The process-wide emu check mode (see pf_sanitize.h). */
#include "core/pf_sanitize.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"

static unsigned g_mode;
static uint64_t g_seed = 1;
static int g_explicit;
static pthread_once_t g_env_once = PTHREAD_ONCE_INIT;

int pf_sanitize_tsan_built(void)
{
#if defined(__SANITIZE_THREAD__)
    return 1;
#else
    return 0;
#endif
}

static int check_mode(unsigned mode)
{
    if ((mode & PF_SAN_RACE) && !pf_sanitize_tsan_built())
        return pf_error_set("sanitize: 'race' needs a ThreadSanitizer build of pftune "
                            "(cmake -DPF_TSAN=ON, e.g. build-tsan/)");
    if ((mode & PF_SAN_RACE) && (mode & PF_SAN_INIT))
        return pf_error_set("sanitize: 'race' and 'init' instrument the kernel differently; "
                            "run them as two checks");
    return 0;
}

int pf_sanitize_parse(const char *text, unsigned *mode)
{
    static const struct {
        const char *word;
        unsigned bit;
    } words[] = {{"race", PF_SAN_RACE}, {"init", PF_SAN_INIT}, {"chaos", PF_SAN_CHAOS}};
    unsigned m = 0;
    const char *p = text ? text : "";
    if (strcmp(p, "none") == 0)
        p = "";
    while (*p) {
        size_t len = strcspn(p, ",");
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
            if (strlen(words[i].word) == len && strncmp(p, words[i].word, len) == 0)
                bit = words[i].bit;
        if (!bit)
            return pf_error_set("sanitize: unknown check '%.*s' (choices: race, init, chaos)", (int)len,
                                p);
        m |= bit;
        p += len;
        if (*p == ',')
            p++;
    }
    if (check_mode(m) != 0)
        return -1;
    *mode = m;
    return 0;
}

static void read_env(void)
{
    const char *s = getenv("PFTUNE_SANITIZE_SEED");
    if (s && *s)
        g_seed = strtoull(s, NULL, 0);
    s = getenv("PFTUNE_SANITIZE");
    unsigned m = 0;
    if (s && *s && !g_explicit) {
        if (pf_sanitize_parse(s, &m) != 0)
            fprintf(stderr, "pftune: PFTUNE_SANITIZE ignored: %s\n", pf_error_get());
        else
            g_mode = m;
    }
}

int pf_sanitize_set(unsigned mode, uint64_t seed)
{
    pthread_once(&g_env_once, read_env);
    if (check_mode(mode) != 0)
        return -1;
    __atomic_store_n(&g_mode, mode, __ATOMIC_SEQ_CST);
    __atomic_store_n(&g_seed, seed, __ATOMIC_SEQ_CST);
    g_explicit = 1;
    return 0;
}

unsigned pf_sanitize_mode(void)
{
    pthread_once(&g_env_once, read_env);
    return __atomic_load_n(&g_mode, __ATOMIC_SEQ_CST);
}

uint64_t pf_sanitize_seed(void)
{
    pthread_once(&g_env_once, read_env);
    return __atomic_load_n(&g_seed, __ATOMIC_SEQ_CST);
}
