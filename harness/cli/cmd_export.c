/* `pftune export TUNED.json --out DIR [--arch ...]`: a self-contained
 * package of the tuned kernels for production engines (harness/export/). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/pf_error.h"
#include "export/export.h"

#define CMD "export"

enum { OPT_OUT, OPT_ARCH, OPT_FORCE, OPT_JOBS };

static const pf_cli_opt opts[] = {
    [OPT_OUT] = {"out", 'o', "DIR", "package directory to create"},
    [OPT_ARCH] = {"arch", 'a', "SM,...", "GPU archs to compile cubin + PTX for (default sm_80,sm_90)"},
    [OPT_FORCE] = {"force", 0, NULL, "replace an existing DIR (only once the new package is whole)"},
    [OPT_JOBS] = {"jobs", 'j', "N", "NVRTC compiles in parallel (default: one per core)"},
    {0},
};

int cmd_export(int argc, char **argv)
{
    pf_cli c;
    pf_cli_init(&c, CMD, argc, argv, opts, "pftune export TUNED.json --out DIR [--arch SM,...]",
                "Export the kernels a sweep chose (tuned.json of `pftune tune` or `merge`) as a\n"
                "self-contained package for production engines; nothing in it needs pftune:\n"
                "  kernels/   attention.cu + headers (the source that was measured), one\n"
                "             NAME.cu per chosen variant with its defines baked in, and\n"
                "             NAME.<arch>.cubin / .ptx compiled by NVRTC for every --arch\n"
                "  include/pfattn.h, src/   the pfattn C runtime: mask metadata builders from\n"
                "             token type ids (byte-identical to pftune's encoders), the int32\n"
                "             overflow check, the bucket pick and a launch function (CUDA\n"
                "             driver loaded with dlopen; raw device pointers and a stream)\n"
                "  python/pfattn.py   ctypes binding (numpy builders, PyTorch launch)\n"
                "  configs/   device_name=<GPU>,dtype=bf16,head_dim=D,layer=L,rule=R.json:\n"
                "             sequence-length bucket -> block sizes, warps, stages, storage\n"
                "  CMakeLists.txt, pfattnConfig.cmake   find_package(pfattn) -> pfattn::pfattn\n"
                "  manifest.json, README.md   what was tuned on which device, how to call it\n"
                "The package is staged beside DIR and renamed into place: a failure leaves\n"
                "nothing behind. Choices made from emu (host) timings are exported with a\n"
                "warning in the README: re-tune on the target GPU.");
    c.examples = "  pftune tune profiles/quickstart.json --device emu --out qs\n"
                 "  pftune export qs/tuned.json --out pfattn-pkg --arch sm_80,sm_90\n"
                 "  cmake -S pfattn-pkg -B pfattn-build && cmake --build pfattn-build\n"
                 "  cmake --install pfattn-build --prefix /opt/pfattn   # find_package(pfattn)\n";
    pf_export_opts o;
    memset(&o, 0, sizeof o);
    const char *val, *archs = "sm_80,sm_90";
    long jobs = 0;
    int k;
    while ((k = pf_cli_next(&c, &val)) != PF_CLI_DONE) {
        switch (k) {
        case PF_CLI_HELP: return 0;
        case PF_CLI_ERROR: return 2;
        case PF_CLI_ARG:
            if (o.tuned_path)
                return pf_cli_usage_error(CMD, "one tuned.json at a time");
            o.tuned_path = val;
            break;
        case OPT_OUT: o.out_dir = val; break;
        case OPT_ARCH: archs = val; break;
        case OPT_FORCE: o.force = 1; break;
        case OPT_JOBS:
            if (pf_cli_parse_long(CMD, "--jobs", val, 1, 256, &jobs) < 0)
                return 2;
            break;
        }
    }
    if (!o.tuned_path || !o.out_dir || !o.out_dir[0])
        return pf_cli_usage_error(CMD, "give a tuned.json and --out DIR");
    o.jobs = (int)jobs;
    /* Archs are checked by the export (NVRTC's list, then pftune's table):
     * one it does not know is a failure (exit 1), like a bad input file. */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", archs);
    char *save = NULL;
    int n = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == PF_EXPORT_MAX_ARCHS || strlen(t) >= sizeof o.archs[0])
            return pf_cli_usage_error(CMD, "--arch: at most %d archs like sm_90",
                                      PF_EXPORT_MAX_ARCHS);
        snprintf(o.archs[n++], sizeof o.archs[0], "%s", t);
    }
    o.n_archs = n;
    pf_export_summary s;
    if (pf_export_run(&o, &s) < 0)
        return pf_cli_fail_error(CMD);
    printf("exported %d entr%s (%d buckets, %d kernel%s x %d arch%s) tuned on %s\n",
           s.n_entries, s.n_entries == 1 ? "y" : "ies", s.n_buckets, s.n_kernels,
           s.n_kernels == 1 ? "" : "s", n, n == 1 ? "" : "s", s.device);
    printf("package: %s\n", o.out_dir);
    if (s.host_timed)
        fprintf(stderr, "pftune: export: warning: the choices came from host timings (emu), not "
                        "GPU numbers; the package README says so\n");
    return 0;
}
