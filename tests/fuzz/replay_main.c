/* A plain main for the fuzz harnesses: runs LLVMFuzzerTestOneInput once on
 * every file named on the command line (directories are walked, in sorted
 * order). `make check` builds it with gcc's ASan/UBSan to replay the seed
 * corpora and every regression input without needing libFuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long replayed;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 1; }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *b = realloc(buf, cap *= 2);
            if (!b) { free(buf); buf = NULL; }
            else buf = b;
        }
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) { fprintf(stderr, "%s: cannot read\n", path); free(buf); return 1; }
    /* Copy into an exact-size allocation so ASan sees any read past the end. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) { free(buf); return 1; }
    memcpy(exact, buf, len);
    free(buf);
    if (getenv("FUZZ_REPLAY_VERBOSE")) fprintf(stderr, "replay %s\n", path);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    replayed++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) { perror(path); return 1; }
    if (!S_ISDIR(st.st_mode)) return run_file(path);
    DIR *d = opendir(path);
    if (!d) { perror(path); return 1; }
    char **names = NULL;
    size_t count = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (count == cap) {
            char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
            if (!nn) { rc = 1; break; }
            names = nn;
        }
        size_t need = strlen(path) + strlen(e->d_name) + 2;
        if (!(names[count] = malloc(need))) { rc = 1; break; }
        snprintf(names[count++], need, "%s/%s", path, e->d_name);
    }
    closedir(d);
    if (count) qsort(names, count, sizeof *names, cmp_names);
    for (size_t i = 0; i < count; i++) {
        if (!rc) rc = run_path(names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i])) return 1;
    if (replayed == 0) {
        fprintf(stderr, "%s: no inputs found\n", argv[0]);
        return 1;
    }
    printf("%s: replayed %lu inputs\n", argv[0], replayed);
    return 0;
}
