#ifndef PF_COMMANDS_H
#define PF_COMMANDS_H

#define PF_COMMAND(name, fn, summary) int fn(int argc, char **argv);
#include "cli/commands.def"
#undef PF_COMMAND

#endif
