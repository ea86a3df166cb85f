/* cli_opts.h - the command line as two tables (cli_opts.c): the commands,
 * and the options with the commands each one applies to. The parser, the
 * errors and the usage text all read the same tables, so an option cannot
 * be accepted by a command that ignores it, nor documented differently from
 * what is parsed.
 */
#ifndef IOCPCHECK_CLI_OPTS_H
#define IOCPCHECK_CLI_OPTS_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"

/* What a command does with FILE and DIR arguments. */
typedef enum cli_files {
    CLI_FILES_NEEDED,  /* at least one */
    CLI_FILES_LIBRARY, /* none given: the scenarios/ directory */
    CLI_FILES_NONE,    /* takes none */
} cli_files;

typedef struct cli_command {
    const char *name; /* argv[1] */
    const char *mode; /* NULL, or the option that selects this variant ("--explore") */
    bool (*selected)(const cli_opts *o); /* the variant is on (NULL: the plain command) */
    const char *args; /* synopsis after the name */
    const char *help;
    cli_files files;
    int (*run)(const cli_opts *o);
} cli_command;

/* Sets the defaults every command starts from. */
void cli_opts_default(cli_opts *o, const char *argv0, const char *cmd);

/* Parses the arguments after the command name (o->cmd): options into `o`,
 * FILE and DIR arguments handed to `file` in order (false: cannot read it).
 * Returns 0 with *cmd set to the command (variant) to run, or CLI_EXIT_USAGE
 * with the message printed: an unknown command or option, a bad value, or an
 * option the command does not use. Nothing has run either way. */
int cli_parse_args(int argc, char **argv, cli_opts *o, const cli_command **cmd,
                   bool (*file)(void *arg, const char *path), void *arg);

/* The usage text, made from the tables. */
void cli_usage(FILE *out);

/* "iocpcheck: <message>" and the hint to `help`; returns CLI_EXIT_USAGE. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 1, 2)))
#endif
int cli_usage_error(const char *fmt, ...);

#endif
