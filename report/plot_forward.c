/* Plot 4: the forward's phase breakdown. Nothing writes forward.json yet
 * (the Gemma forwards are still to come), so this only says so; when it
 * lands, its reader and plot go here. */
#include <stdio.h>
#include <unistd.h>

#include "report/rctx.h"

int pf_plot_forward(pf_rctx *c)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/forward.json", c->src);
    fprintf(c->md, "## Forward phase breakdown\n\n");
    if (access(path, F_OK) != 0)
        fprintf(c->md, "Skipped: no forward.json in %s (the model forwards do not write one "
                       "yet).\n\n", c->src);
    else
        fprintf(c->md, "Skipped: %s exists, but this pftune does not read forward.json "
                       "yet.\n\n", path);
    return 0;
}
