/* cli_jobs.c - --jobs: worker processes for fuzz and explore.
 *
 * Each worker is a fork of the CLI that runs its share of the work and
 * writes one fixed-size result back through a pipe; the parent reads every
 * result in full, reaps every worker, and hands each result to the caller
 * in job order, so the combined report does not depend on which worker
 * finished first. Windows has no fork(): there --jobs is refused.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "cli.h"

#if defined(_WIN32)
int cli_run_jobs(uint32_t jobs, size_t size, cli_job_fn work, cli_job_done done, void *arg) {
    (void)jobs, (void)size, (void)work, (void)done, (void)arg;
    fprintf(stderr, "iocpcheck: --jobs needs fork(), which Windows lacks: use --shard K/N in several processes\n");
    return CLI_EXIT_USAGE;
}
#else
/* Reads exactly `size` bytes (a result larger than the pipe's buffer
 * arrives in pieces). */
static bool read_full(int fd, void *buf, size_t size) {
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, (char *)buf + got, size - got);
        if (r <= 0) return false;
        got += (size_t)r;
    }
    return true;
}

int cli_run_jobs(uint32_t jobs, size_t size, cli_job_fn work, cli_job_done done, void *arg) {
    if (jobs > CLI_MAX_JOBS) jobs = CLI_MAX_JOBS;
    int fds[CLI_MAX_JOBS];
    pid_t pids[CLI_MAX_JOBS];
    uint32_t started = 0;
    int rc = 0;
    for (uint32_t j = 0; j < jobs; j++) {
        int p[2];
        if (pipe(p) != 0) {
            rc = CLI_EXIT_INTERNAL;
            break;
        }
        fflush(NULL); /* nothing buffered may be written twice */
        pid_t pid = fork();
        if (pid < 0) {
            close(p[0]);
            close(p[1]);
            rc = CLI_EXIT_INTERNAL;
            break;
        }
        if (pid == 0) {
            close(p[0]);
            void *mine = cli_xcalloc(1, size);
            work(arg, j, jobs, mine);
            size_t put = 0;
            while (put < size) {
                ssize_t w = write(p[1], (char *)mine + put, size - put);
                if (w <= 0) _exit(3);
                put += (size_t)w;
            }
            _exit(0);
        }
        close(p[1]);
        fds[j] = p[0];
        pids[j] = pid;
        started++;
    }
    void *part = cli_xmalloc(size);
    for (uint32_t j = 0; j < started; j++) {
        bool ok = read_full(fds[j], part, size);
        close(fds[j]);
        int status;
        waitpid(pids[j], &status, 0);
        if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "iocpcheck: job %u of %u died\n", j, jobs);
            rc = CLI_EXIT_INTERNAL;
            continue;
        }
        done(arg, j, part);
    }
    free(part);
    return rc;
}
#endif
