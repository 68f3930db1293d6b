/* cli/cli.h: shared declarations of the esign-ledger subcommands. */
#ifndef ESL_CLI_H
#define ESL_CLI_H
#include "ledger.h"
int cmd_bench(int argc, char **argv);
int cmd_verify_receipt(int argc, char **argv);
int cmd_receipt(int argc, char **argv);
#endif
