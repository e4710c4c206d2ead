/* Atomic writes (core/atomic_file.c): the target holds the old or the new
 * content, never a mix; failures leave no temporary file and name the path;
 * JSON documents carry their schema. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/json_doc.h"
#include "core/pf_error.h"
#include "pf_test.h"

static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    *n = fread(buf, 1, sizeof buf - 1, f);
    buf[*n] = 0;
    fclose(f);
    return buf;
}

/* Files in dir other than `keep`. */
static int stray_files(const char *dir, const char *keep)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, keep);
    if (d)
        closedir(d);
    return n;
}

int main(void)
{
    char dir[] = "/tmp/pf_atomic_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/out.bin", dir);
    size_t n;

    /* write, then overwrite with other content and mode */
    CHECK(pf_atomic_write(path, "first", 5, 0644) == 0);
    char *got = read_all(path, &n);
    CHECK(got && n == 5 && memcmp(got, "first", 5) == 0);
    CHECK(pf_atomic_write(path, "second!", 7, 0600) == 0);
    got = read_all(path, &n);
    CHECK(got && n == 7 && memcmp(got, "second!", 7) == 0);
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    CHECK(stray_files(dir, "out.bin") == 0);

    /* streaming, then abort: the old content stays, no temp file */
    pf_atomic_file f;
    CHECK(pf_atomic_open(&f, path, 0644) == 0);
    CHECK(pf_atomic_put(&f, "partial", 7) == 0);
    pf_atomic_abort(&f);
    got = read_all(path, &n);
    CHECK(got && n == 7 && memcmp(got, "second!", 7) == 0);
    CHECK(stray_files(dir, "out.bin") == 0);

    /* streaming in pieces, an empty piece included */
    CHECK(pf_atomic_open(&f, path, 0644) == 0);
    CHECK(pf_atomic_put(&f, "ab", 2) == 0 && pf_atomic_put(&f, "", 0) == 0 &&
          pf_atomic_put(&f, "cd", 2) == 0);
    CHECK(pf_atomic_commit(&f) == 0);
    got = read_all(path, &n);
    CHECK(got && n == 4 && memcmp(got, "abcd", 4) == 0);

    /* a missing directory: an error naming the path */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/no/such/dir/x.json", dir);
    CHECK(pf_atomic_write(missing, "x", 1, 0644) == -1);
    CHECK_MSG(strstr(pf_error_get(), missing) != NULL, "message: %s", pf_error_get());

    /* a read-only directory (not as root: root writes anyway) */
    if (geteuid() != 0) {
        char ro[300];
        snprintf(ro, sizeof ro, "%s/ro", dir);
        CHECK(mkdir(ro, 0555) == 0);
        char inside[320];
        snprintf(inside, sizeof inside, "%s/x", ro);
        CHECK(pf_atomic_write(inside, "x", 1, 0644) == -1);
        rmdir(ro);
    }

    /* JSON documents: schema first, trailing newline, written atomically */
    json_t *doc = pf_json_doc_new("pftune.test", 3);
    CHECK(doc != NULL);
    json_object_set_new(doc, "value", json_integer(42));
    char jpath[300];
    snprintf(jpath, sizeof jpath, "%s/doc.json", dir);
    CHECK(pf_json_doc_write(doc, jpath) == 0);
    json_decref(doc);
    got = read_all(jpath, &n);
    CHECK(got && strncmp(got, "{\n  \"schema\": \"pftune.test/3\",\n  \"value\": 42\n}\n", n) == 0);

    unlink(jpath);
    unlink(path);
    CHECK(rmdir(dir) == 0);
    return PF_TEST_RESULT();
}
