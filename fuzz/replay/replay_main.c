/* Replay driver: runs fuzz inputs through one target without libFuzzer, so that any C11
 * compiler (gcc under ASan+UBSan in `make test`) can check every seed and regression input.
 *
 *   replay [--report] PATH...
 *
 * PATH is a file or a directory (its regular files, one level, sorted). With --report each
 * input gets one line "<path>\t<reached 0|1>\t<accepted 0|1>" on stdout, which
 * fuzz/scripts/check_seeds.py reads to prove that each seed reaches its parser. The summary
 * line at the end counts inputs; any oracle failure or sanitizer report aborts the run. */
#include "fuzz_common.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool report;
static size_t inputs_run;

/* Reads a whole file into a malloc'd buffer (a zero-length file gives a 1-byte buffer, so the
 * target never sees a NULL pointer from us). */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n < cap)
            continue;
        uint8_t *bigger = realloc(buf, cap * 2);
        if (!bigger)
            free(buf);
        buf = bigger;
        cap *= 2;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Copies the input into an exactly sized buffer so ASan sees reads one past the end. */
static int run_file(const char *path)
{
    size_t len = 0;
    uint8_t *buf = read_file(path, &len);
    if (!buf) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        return 1;
    }
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return 1;
    }
    memcpy(exact, buf, len);
    free(buf);
    memset(&fuzz_report, 0, sizeof fuzz_report);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    inputs_run++;
    if (report)
        printf("%s\t%d\t%d\n", path, fuzz_report.reached, fuzz_report.accepted);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs the regular files of one directory in name order, so failures reproduce exactly. */
static int run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 1;
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            char **more = realloc(names, cap * sizeof *names);
            if (!more)
                break;
            names = more;
        }
        size_t need = strlen(dir) + strlen(e->d_name) + 2;
        names[count] = malloc(need);
        if (!names[count])
            break;
        snprintf(names[count], need, "%s/%s", dir, e->d_name);
        count++;
    }
    closedir(d);
    if (count > 1)
        qsort(names, count, sizeof *names, cmp_names);
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            rc |= run_file(names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (strcmp(argv[i], "--report") == 0)
            report = true;
        else if (stat(argv[i], &st) != 0)
            continue; /* a target may have no regressions folder yet */
        else if (S_ISDIR(st.st_mode))
            rc |= run_dir(argv[i]);
        else
            rc |= run_file(argv[i]);
    }
    fprintf(stderr, "replay %s: %zu inputs, no failure\n", argv[0], inputs_run);
    return rc;
}
