/* `pftune devices [--json]`: the backends, their devices, and which one
 * `--device auto` would pick. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "device/device.h"
#include "core/json_doc.h"
#include "core/pf_error.h"

#define EMU_ARCH "sm_90"

static json_t *props_json(const pf_device_props *p)
{
    char arch[16];
    snprintf(arch, sizeof arch, "sm_%d%d", p->cc_major, p->cc_minor);
    return json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:I, s:I, s:I, s:i, s:i, s:i, s:I, s:I, "
                     "s:f, s:i, s:i, s:i, s:s}",
                     "backend", p->backend, "name", p->name, "arch", arch, "cc_major", p->cc_major,
                     "cc_minor", p->cc_minor, "sm_count", p->sm_count, "smem_per_block",
                     (json_int_t)p->smem_per_block, "smem_per_block_optin",
                     (json_int_t)p->smem_per_block_optin, "smem_per_sm",
                     (json_int_t)p->smem_per_sm, "regs_per_sm", p->regs_per_sm,
                     "max_threads_per_block", p->max_threads_per_block, "warp_size", p->warp_size,
                     "l2_bytes", (json_int_t)p->l2_bytes, "mem_bytes", (json_int_t)p->mem_bytes,
                     "mem_bandwidth_gbs", p->mem_bandwidth_gbs, "clock_khz", p->clock_khz,
                     "mem_clock_khz", p->mem_clock_khz, "mem_bus_bits", p->mem_bus_bits, "driver",
                     p->driver);
}

static void print_props(const char *id, const pf_device_props *p)
{
    char arch[16];
    snprintf(arch, sizeof arch, "sm_%d%d", p->cc_major, p->cc_minor);
    if (strstr(p->name, arch)) /* the emu's name already says which arch */
        printf("  %s: %s\n", id, p->name);
    else
        printf("  %s: %s (%s)\n", id, p->name, arch);
    printf("    SMs %d, max threads/block %d, warp %d, registers/SM %d\n", p->sm_count,
           p->max_threads_per_block, p->warp_size, p->regs_per_sm);
    printf("    shared memory: %zu KiB/block (opt-in %zu KiB), %zu KiB/SM\n",
           p->smem_per_block >> 10, p->smem_per_block_optin >> 10, p->smem_per_sm >> 10);
    printf("    L2 %.1f MiB", p->l2_bytes / 1048576.0);
    if (p->mem_bytes)
        printf(", memory %.1f GiB", p->mem_bytes / 1073741824.0);
    if (p->mem_bandwidth_gbs > 0)
        printf(", peak %.0f GB/s (%d-bit bus at %d MHz)", p->mem_bandwidth_gbs, p->mem_bus_bits,
               p->mem_clock_khz / 1000);
    printf("\n");
    if (p->clock_khz > 0)
        printf("    clock %d MHz\n", p->clock_khz / 1000);
    if (p->driver[0])
        printf("    driver: %s\n", p->driver);
}

/* Opens a device, copies its props and closes it. */
static int device_props(int is_cuda, int ordinal, pf_device_props *p)
{
    pf_device *d = NULL;
    if (is_cuda ? pf_cuda_open(ordinal, &d) : pf_emu_open(EMU_ARCH, &d))
        return -1;
    int rc = pf_dev_props(d, p);
    pf_device_close(d);
    return rc;
}

enum { OPT_JSON };
static const pf_cli_opt devices_opts[] = {
    [OPT_JSON] = {"json", 0, NULL, "print one JSON object instead of text"},
    {0},
};

int cmd_devices(int argc, char **argv)
{
    int as_json = 0;
    pf_cli c;
    pf_cli_init(&c, "devices", argc, argv, devices_opts, "pftune devices [--json]",
                "List the cuda and emu backends, their devices, and the one `--device auto` "
                "selects.");
    const char *val;
    int o;
    while ((o = pf_cli_next(&c, &val)) != PF_CLI_DONE) {
        switch (o) {
        case PF_CLI_HELP:
            return 0;
        case PF_CLI_ERROR:
            return 2;
        case PF_CLI_ARG:
            return pf_cli_usage_error("devices", "unexpected argument '%s'", val);
        case OPT_JSON:
            as_json = 1;
            break;
        }
    }

    char why[PF_ERROR_MAX];
    int n_gpus = pf_cuda_device_count(why, sizeof why);
    json_t *root = pf_json_doc_new("pftune.devices", 1), *cuda = json_object(), *gpus = json_array();
    json_object_set_new(cuda, "available", json_boolean(n_gpus > 0));
    if (n_gpus == 0)
        json_object_set_new(cuda, "reason", json_string(why));
    if (!as_json) {
        printf("cuda:\n");
        if (n_gpus == 0)
            printf("  no GPU: %s\n", why);
    }
    for (int i = 0; i < n_gpus; i++) {
        pf_device_props p;
        char id[16];
        snprintf(id, sizeof id, "cuda:%d", i);
        if (device_props(1, i, &p)) {
            if (!as_json)
                printf("  %s: cannot open: %s\n", id, pf_error_get());
            json_array_append_new(gpus, json_pack("{s:s, s:s}", "id", id, "error", pf_error_get()));
            continue;
        }
        if (!as_json)
            print_props(id, &p);
        json_t *pj = props_json(&p);
        json_object_set_new(pj, "id", json_string(id));
        json_array_append_new(gpus, pj);
    }
    json_object_set_new(cuda, "devices", gpus);
    json_object_set_new(root, "cuda", cuda);

    json_t *emu = json_object();
    pf_device_props ep;
    int emu_ok = device_props(0, 0, &ep) == 0;
    json_object_set_new(emu, "available", json_boolean(emu_ok));
    json_object_set_new(emu, "arch", json_string(EMU_ARCH));
    json_object_set_new(emu, "timer", json_string("emu-host"));
    if (!as_json) {
        printf("emu: CPU emulator running the same kernel source (host timings, labelled emu-host)\n");
        if (emu_ok)
            print_props("emu", &ep);
        else
            printf("  unavailable: %s\n", pf_error_get());
    }
    if (emu_ok)
        json_object_set_new(emu, "props", props_json(&ep));
    else
        json_object_set_new(emu, "error", json_string(pf_error_get()));
    json_object_set_new(root, "emu", emu);

    const char *auto_id = n_gpus > 0 ? "cuda:0" : "emu";
    char auto_text[160];
    if (n_gpus > 0)
        snprintf(auto_text, sizeof auto_text, "cuda:0 (GPU)");
    else
        snprintf(auto_text, sizeof auto_text, "emu (CPU), mimicking %s limits", EMU_ARCH);
    json_object_set_new(root, "auto", json_string(auto_id));
    json_object_set_new(root, "auto_description", json_string(auto_text));

    int rc = 0;
    if (as_json) {
        if (pf_json_doc_print(root)) {
            fprintf(stderr, "pftune: devices: %s\n", pf_error_get());
            rc = 1;
        }
    } else {
        printf("backend used by --device auto: %s\n", auto_text);
    }
    json_decref(root);
    return rc;
}
