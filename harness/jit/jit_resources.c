/* Resource record of a compiled kernel, from the ptxas -v log NVRTC returns
 * (CUDA 13 prints, per entry function:
 *   ptxas info    : Compiling entry function 'k' for 'sm_90'
 *   ptxas info    : Function properties for k
 *   ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
 *   ptxas info    : Used 24 registers, used 1 barriers, 1024 bytes smem[, 364 bytes cmem[0]]
 * ) and, since sm_90 logs omit cmem[0], from the cubin's .nv.constant0.<entry>
 * section. Non-entry functions also get "Function properties" blocks; they
 * are ignored. Parsing is by item ("N bytes smem", "N registers") so extra or
 * reordered items do not break it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit/jit_internal.h"
#include "core/pf_error.h"

#define MAX_ENTRIES 64

typedef struct entry_info {
    char name[256];
    pf_resources res;
} entry_info;

/* Apply "N unit" items of one comma-separated line to `res`. */
static void parse_items(const char *line, const char *end, pf_resources *res)
{
    const char *p = line;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        char item[256];
        size_t n = (size_t)(item_end - p) < sizeof item - 1 ? (size_t)(item_end - p) : sizeof item - 1;
        memcpy(item, p, n);
        item[n] = '\0';
        const char *digit = item;
        while (*digit && (*digit < '0' || *digit > '9'))
            digit++;
        if (*digit) {
            int v = atoi(digit);
            if (strstr(item, "registers"))
                res->registers = v;
            else if (strstr(item, "spill stores"))
                res->spill_stores = v;
            else if (strstr(item, "spill loads"))
                res->spill_loads = v;
            else if (strstr(item, "stack frame"))
                res->stack_frame = v;
            else if (strstr(item, "bytes smem"))
                res->static_smem = v;
            else if (strstr(item, "cmem[0]"))
                res->const_mem = v;
        }
        p = item_end + 1;
    }
}

static int copy_quoted(const char *from, const char *end, char *out, size_t out_size)
{
    const char *q1 = memchr(from, '\'', (size_t)(end - from));
    if (!q1)
        return 0;
    const char *q2 = memchr(q1 + 1, '\'', (size_t)(end - q1 - 1));
    if (!q2 || (size_t)(q2 - q1 - 1) >= out_size)
        return 0;
    memcpy(out, q1 + 1, (size_t)(q2 - q1 - 1));
    out[q2 - q1 - 1] = '\0';
    return 1;
}

int pf_jit_parse_ptxas_log(const char *log, const char *src, pf_resources *res, char *entry,
                           size_t entry_size)
{
    entry_info *e = calloc(MAX_ENTRIES, sizeof *e);
    if (!e)
        return 0;
    int n = 0, cur = -1, props_for_cur = 0;
    for (const char *line = log ? log : ""; *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        const char *s;
        if ((s = strstr(line, "Compiling entry function")) && s < end) {
            if (n < MAX_ENTRIES && copy_quoted(s, end, e[n].name, sizeof e[n].name))
                cur = n++;
            else
                cur = -1;
            props_for_cur = 0;
        } else if ((s = strstr(line, "Function properties for")) && s < end) {
            const char *name = s + strlen("Function properties for");
            while (*name == ' ' || *name == '\'')
                name++;
            size_t len = (size_t)(end - name);
            while (len && (name[len - 1] == ' ' || name[len - 1] == '\'' || name[len - 1] == ':' ||
                           name[len - 1] == '\r'))
                len--;
            props_for_cur = cur >= 0 && len == strlen(e[cur].name) &&
                            strncmp(name, e[cur].name, len) == 0;
        } else if ((s = strstr(line, "stack frame")) && s < end) {
            if (props_for_cur)
                parse_items(line, end, &e[cur].res);
        } else if ((s = strstr(line, "Used ")) && s < end && strstr(line, "registers") &&
                   cur >= 0) {
            parse_items(s, end, &e[cur].res);
        }
        line = *end ? end + 1 : end;
    }
    /* The entry of interest is the one defined first in the source. */
    int best = n > 0 ? 0 : -1;
    long best_pos = -1;
    for (int i = 0; i < n && src; i++) {
        const char *at = strstr(src, e[i].name);
        if (at && (best_pos < 0 || at - src < best_pos)) {
            best_pos = at - src;
            best = i;
        }
    }
    if (best >= 0) {
        *res = e[best].res;
        if (entry)
            snprintf(entry, entry_size, "%s", e[best].name);
    }
    free(e);
    return n;
}

static uint64_t rd(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | p[i]; /* ELF for NVIDIA GPUs is little-endian */
    return v;
}

int pf_cubin_find_section(const void *cubin, size_t size, const char *name, pf_cubin_section *out)
{
    const unsigned char *b = cubin;
    if (size < 64 || memcmp(b, "\177ELF", 4) != 0 || b[4] != 2 /* ELFCLASS64 */)
        return pf_error_set("not a 64-bit ELF cubin");
    uint64_t shoff = rd(b + 0x28, 8);
    uint64_t shentsize = rd(b + 0x3A, 2), shnum = rd(b + 0x3C, 2), shstrndx = rd(b + 0x3E, 2);
    if (shentsize < 64 || shstrndx >= shnum || shoff > size || shnum * shentsize > size - shoff)
        return pf_error_set("cubin section table is damaged");
    const unsigned char *strsh = b + shoff + shstrndx * shentsize;
    uint64_t stroff = rd(strsh + 24, 8), strsize = rd(strsh + 32, 8);
    if (stroff > size || strsize > size - stroff)
        return pf_error_set("cubin section names are damaged");
    for (uint64_t i = 0; i < shnum; i++) {
        const unsigned char *sh = b + shoff + i * shentsize;
        uint64_t nm_off = rd(sh, 4);
        if (nm_off >= strsize)
            continue;
        const char *nm = (const char *)b + stroff + nm_off;
        size_t max = strsize - nm_off;
        if (strnlen(nm, max) < max && strcmp(nm, name) == 0) {
            out->size = rd(sh + 32, 8);
            out->info = (uint32_t)rd(sh + 44, 4);
            uint64_t off = rd(sh + 24, 8);
            int nobits = rd(sh + 4, 4) == 8; /* SHT_NOBITS: no bytes in the file */
            out->data = !nobits && off <= size && out->size <= size - off ? b + off : NULL;
            return 0;
        }
    }
    return pf_error_set("cubin has no section %s", name);
}

long pf_jit_cubin_cmem(const void *cubin, size_t size, const char *entry)
{
    char want[300];
    snprintf(want, sizeof want, ".nv.constant0.%s", entry);
    pf_cubin_section sec;
    return pf_cubin_find_section(cubin, size, want, &sec) == 0 ? (long)sec.size : -1;
}

/* .nv.info attributes: 4-byte records {format, attribute, u16}; format
 * EIFMT_SVAL (4) is followed by u16 bytes of payload. EIATTR_REGCOUNT
 * (0x2f) carries {u32 symbol index, u32 registers}. */
#define EIFMT_SVAL 4
#define EIATTR_REGCOUNT 0x2f

int pf_cubin_entry_registers(const void *cubin, size_t size, const char *entry)
{
    char name[300];
    pf_cubin_section text, info;
    snprintf(name, sizeof name, ".text.%s", entry);
    if (pf_cubin_find_section(cubin, size, name, &text) != 0)
        return -1;
    if (text.info >> 24) /* sm_80-style: registers in the top byte of sh_info */
        return (int)(text.info >> 24);
    uint32_t sym = text.info & 0xffffff;
    if (pf_cubin_find_section(cubin, size, ".nv.info", &info) != 0 || !info.data)
        return pf_error_set("cubin has no register count for %s", entry);
    for (uint64_t at = 0; at + 4 <= info.size;) {
        const unsigned char *e = info.data + at;
        uint64_t len = e[0] == EIFMT_SVAL ? rd(e + 2, 2) : 0;
        if (e[0] == EIFMT_SVAL && e[1] == EIATTR_REGCOUNT && len >= 8 &&
            at + 4 + len <= info.size && rd(e + 4, 4) == sym)
            return (int)rd(e + 8, 4);
        at += 4 + len;
    }
    return pf_error_set("cubin has no register count for %s", entry);
}
