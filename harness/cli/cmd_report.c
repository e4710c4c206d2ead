/* `pftune report DIR`: plots, data, scripts and summary.md from a results
 * file, into DIR/report/ (report/report.h). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "report/gnuplot.h"
#include "report/report.h"

#define CMD "report"

enum { OPT_FORMAT, OPT_NVBENCH, OPT_CSV };

static const pf_cli_opt opts[] = {
    [OPT_FORMAT] = {"format", 'f', "F", "png, svg or both (default png)"},
    [OPT_NVBENCH] = {"nvbench", 0, "FILE", "also write the results in nvbench's JSON form"},
    [OPT_CSV] = {"csv", 0, "FILE", "also write one CSV row per record (spreadsheets)"},
    {0},
};

static const char description[] =
    "Report a sweep from its results.json alone (DIR holds it, from `pftune tune`\n"
    "or `merge`; a sweep measured on a GPU machine is reported anywhere). Writes\n"
    "into DIR/report/ the plots that fit the results, each with its data (.dat) and\n"
    "gnuplot script (.gp) beside it, and summary.md (device, backend, timer, best\n"
    "variant per problem, the table behind each plot):\n"
    "  scaling_*      kernel time and useful TFLOP/s vs sequence length, per storage\n"
    "  heatmap_*      BLOCK_M x BLOCK_N median time per storage, winner marked\n"
    "  masks_*        mask metadata bytes vs sequence length (log-log), int32 limits\n"
    "  peak           achieved TFLOP/s of the best variants vs the GPU's bf16 peak\n"
    "  convergence    best-so-far vs evaluations per search strategy (replayed)\n"
    "  forward        time per decoder layer and phase, from DIR/forward.json\n"
    "                 (pftune forward --out DIR; skipped without it)\n"
    "Plots of host timings (emu) say emu-host. Without gnuplot the data and scripts\n"
    "are still written ($PFTUNE_GNUPLOT picks the binary; \"none\" skips rendering).";

int cmd_report(int argc, char **argv)
{
    pf_cli c;
    pf_cli_init(&c, CMD, argc, argv, opts, "pftune report DIR [--format png|svg|both] [options]",
                description);
    c.examples = "  pftune report quickstart-out\n"
                 "  pftune report sweep --format both --csv sweep.csv --nvbench sweep.nvbench.json\n";
    static const char *const formats[] = {"png", "svg", "both", NULL};
    pf_report_opts o = {.formats = PF_FMT_PNG};
    const char *dir = NULL, *val;
    int opt;
    while ((opt = pf_cli_next(&c, &val)) != PF_CLI_DONE) {
        switch (opt) {
        case PF_CLI_HELP: return 0;
        case PF_CLI_ERROR: return 2;
        case PF_CLI_ARG:
            if (dir)
                return pf_cli_usage_error(CMD, "unexpected argument '%s' (one DIR)", val);
            dir = val;
            break;
        case OPT_FORMAT:
            if (pf_cli_parse_choice(CMD, "--format", val, formats) < 0)
                return 2;
            o.formats = !strcmp(val, "png") ? PF_FMT_PNG
                        : !strcmp(val, "svg") ? PF_FMT_SVG : PF_FMT_PNG | PF_FMT_SVG;
            break;
        case OPT_NVBENCH: o.nvbench_path = val; break;
        case OPT_CSV: o.csv_path = val; break;
        }
    }
    if (!dir)
        return pf_cli_usage_error(CMD, "give a DIR holding results.json (pftune report DIR)");
    return pf_report_run(dir, &o) ? pf_cli_fail_error(CMD) : 0;
}
