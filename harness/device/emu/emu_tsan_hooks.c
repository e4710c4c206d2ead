/* ThreadSanitizer's callbacks, linked into every executable of a
 * -DPF_TSAN=ON build (not into libpftune_core: libtsan's own weak defaults
 * come first in symbol lookup, only the executable's win).
 *
 * A race between CUDA threads fails the launch (emu_race.c turns the report
 * into the block's error), so it is the tool's result, not the process's:
 * TSan's exit code is off, and only races it reports outside any kernel
 * fiber (harness bugs) make the process exit 66 as TSan would.
 *
 * suppress_equal_addresses=0: TSan otherwise marks every address of a race
 * it deduplicated by stack as reported, and the shared-memory arena is
 * reused by every later kernel, whose races would then go unreported. */
#include <stdlib.h>
#include <unistd.h>

void pf_emu_race_on_report(void *report);
int pf_emu_race_foreign_reports(void);

const char *__tsan_default_options(void);
void __tsan_on_report(void *report);

__attribute__((no_sanitize_thread)) const char *__tsan_default_options(void)
{
    return "exitcode=0:suppress_equal_addresses=0";
}

static void exit_if_foreign(void)
{
    if (pf_emu_race_foreign_reports())
        _exit(66);
}

__attribute__((no_sanitize_thread)) void __tsan_on_report(void *report)
{
    static int registered;
    if (!registered) {
        registered = 1;
        atexit(exit_if_foreign);
    }
    pf_emu_race_on_report(report);
}
