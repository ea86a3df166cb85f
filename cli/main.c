/* main.c - the iocpcheck command line: FILE and DIR arguments, and the
 * dispatch to the command the tables of cli_opts.c name.
 *
 * Exit codes: 0 passed, 1 a property failed, 2 bad usage or input,
 * 3 internal error. Bad options and bad scenario files are reported before
 * anything runs.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_opts.h"

#define IOCPCHECK_VERSION "0.2.0"

/* ---- FILE and DIR arguments ---- */

typedef struct file_list {
    char **v;
    uint32_t n, cap;
} file_list;

static void list_add(file_list *l, const char *path) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = cli_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = cli_xstrdup(path);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool expand(file_list *l, const char *path, int depth) {
    struct stat st;
    if (stat(path, &st) != 0) return false;
    if (!S_ISDIR(st.st_mode)) {
        list_add(l, path);
        return true;
    }
    if (depth > 16) return true;
    DIR *d = opendir(path);
    if (d == NULL) return false;
    file_list here = {0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        size_t n = strlen(path) + strlen(e->d_name) + 2;
        char *full = cli_xmalloc(n);
        snprintf(full, n, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", e->d_name);
        struct stat cs;
        if (stat(full, &cs) == 0 && (S_ISDIR(cs.st_mode) || (strlen(e->d_name) > 4 && strcmp(e->d_name + strlen(e->d_name) - 4, ".scn") == 0)))
            list_add(&here, full);
        free(full);
    }
    closedir(d);
    /* Name order: the same on every machine, whatever readdir returns. */
    if (here.n > 0) qsort(here.v, here.n, sizeof *here.v, cmp_str);
    for (uint32_t i = 0; i < here.n; i++) {
        expand(l, here.v[i], depth + 1);
        free(here.v[i]);
    }
    free(here.v);
    return true;
}

static bool add_file(void *arg, const char *path) { return expand(arg, path, 0); }

static void free_files(file_list *l) {
    for (uint32_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
}

/* Every file must parse before anything runs. */
static int load_all(const file_list *files) {
    for (uint32_t i = 0; i < files->n; i++) {
        char err[1024];
        scn_scenario *s = scn_load(files->v[i], err, sizeof err);
        if (s == NULL) {
            fprintf(stderr, "%s\n", err);
            return CLI_EXIT_USAGE;
        }
        scn_free(s);
    }
    return 0;
}

static int run_command(int argc, char **argv, file_list *files) {
    cli_opts o;
    cli_opts_default(&o, argv[0], argv[1]);
    const cli_command *cmd = NULL;
    int rc = cli_parse_args(argc - 2, argv + 2, &o, &cmd, add_file, files);
    if (rc != 0) return rc;
    if (files->n == 0 && cmd->files == CLI_FILES_LIBRARY) expand(files, "scenarios", 0);
    if (files->n == 0 && cmd->files != CLI_FILES_NONE)
        return cli_usage_error("%s needs at least one scenario file or directory", o.cmd);
    o.files = (const char **)files->v;
    o.nfiles = files->n;
    rc = load_all(files);
    if (rc != 0) return rc;
    if (strcmp(o.cmd, "fuzz") == 0 && !o.runs_set && o.time_s <= 0) {
        o.runs = 1000;
        o.runs_set = true;
    }
    if (o.runs_set && o.time_s > 0) return cli_usage_error("--runs and --time are exclusive");
    o.progress = isatty(2) && !o.json;
    cli_target_platform(o.platform);
    return cmd->run(&o);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        cli_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("iocpcheck %s\n", IOCPCHECK_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        cli_usage(stdout);
        return 0;
    }
    file_list files = {0};
    int rc = run_command(argc, argv, &files);
    free_files(&files);
    return rc;
}
