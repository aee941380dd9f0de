/*
 * cpu_of.c — run a command and write the CPU seconds (user + system) it and
 * the descendants it waited for used: `cpu_of OUTFILE CMD [ARGS...]`.
 * Exit status is the command's. Used by bench/tunnel_throughput.sh to
 * charge each end of a transport with its own CPU time.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: cpu_of OUTFILE CMD [ARGS...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &st, 0, &ru) < 0)
        return 1;
    FILE *f = fopen(argv[1], "w");
    if (f) {
        fprintf(f, "%.3f\n",
                (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
        fclose(f);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
