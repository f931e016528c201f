/* What one durable journal commit costs this disk, outside Strowger: N commits of LEN bytes
 * into a preallocated (zero-filled, fsynced) 64 MiB file, wall time and CPU time (user +
 * system) per commit, three ways:
 *   0  pwrite through the page cache + fdatasync        (ledger.direct_io = false)
 *   1  O_DIRECT pwrite of whole 4 KiB blocks + fdatasync (ledger.direct_io = true)
 *   2  O_DIRECT pwritev2(RWF_DSYNC) of whole blocks      (write and flush in one call)
 *
 *   cc -O2 -o /tmp/fsync_probe benches/fsync_probe.c
 *   for m in 0 1 2; do /tmp/fsync_probe <dir on the disk> $m 600; done
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define SIZE (64 << 20)
#define N 5000

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double cpu_us(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s DIR MODE(0|1|2) LEN\n", argv[0]);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/fsync_probe.dat", argv[1]);
    int mode = atoi(argv[2]), len = atoi(argv[3]);
    if (len <= 0 || (long)len * N > SIZE) {
        fprintf(stderr, "LEN must be 1..%d\n", SIZE / N);
        return 2;
    }
    char *buf;
    if (posix_memalign((void **)&buf, 4096, 1 << 20)) return 1;
    memset(buf, 7, 1 << 20);
    /* Preallocate: zeros written for real, fsynced. */
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { perror("open"); return 1; }
    char *zeros = calloc(1, 1 << 20);
    for (int i = 0; i < SIZE / (1 << 20); i++)
        if (write(fd, zeros, 1 << 20) != 1 << 20) { perror("write"); return 1; }
    fsync(fd);
    close(fd);
    fd = open(path, O_RDWR | (mode ? O_DIRECT : 0));
    if (fd < 0) { perror("open"); return 1; }
    double t0 = now_us(), c0 = cpu_us();
    off_t off = 0;
    for (int i = 0; i < N; i++) {
        /* Direct: the whole blocks from the one holding `off` to the end of the record. */
        off_t start = off / 4096 * 4096;
        size_t n = (size_t)((off + len - start + 4095) / 4096 * 4096);
        ssize_t r;
        if (mode == 0) {
            r = pwrite(fd, buf, len, off);
            if (r == len) r = fdatasync(fd) ? -1 : r;
        } else if (mode == 1) {
            r = pwrite(fd, buf, n, start);
            if (r == (ssize_t)n) r = fdatasync(fd) ? -1 : r;
        } else {
            struct iovec v = {buf, n};
            r = pwritev2(fd, &v, 1, start, RWF_DSYNC);
        }
        if (r < 0) { perror("write"); return 1; }
        off += len;
    }
    double wall = now_us() - t0, cpu = cpu_us() - c0;
    printf("mode %d, %d bytes a commit: %.1f us wall, %.1f us CPU per commit\n", mode, len, wall / N, cpu / N);
    unlink(path);
    return 0;
}
