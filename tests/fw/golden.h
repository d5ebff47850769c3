/* golden.h: compares a test's trace byte for byte with its golden file, or writes the file anew. */
#ifndef BL_GOLDEN_H
#define BL_GOLDEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"

/* The whole file at PATH (malloc'd), NULL if it cannot be read. */
static char *golden_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
	if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = buf ? (size_t)n : 0;
	return buf;
}

/* Checks that GOT (LEN bytes) equals the golden file; on a difference, names the first differing
 * line and prints this run's trace so it can be inspected or adopted. */
static void golden_compare(const char *path, const char *got, size_t got_len)
{
	size_t len = 0;
	char *want = golden_read(path, &len);
	CHECK(want != NULL);
	if (!want) {
		fprintf(stderr, "golden: cannot read %s\n", path);
		return;
	}
	if (len != got_len || memcmp(want, got, len) != 0) {
		size_t i = 0, line = 1;
		while (i < len && i < got_len && want[i] == got[i])
			line += want[i++] == '\n';
		fprintf(stderr, "golden: %s differs at line %zu; this run's trace:\n%.*s", path,
			line, (int)got_len, got);
		CHECK(!"golden trace matches");
	}
	free(want);
}

/* Writes BUF (LEN bytes) as the new golden file. 0 or 1. */
static int golden_write(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		return 1;
	}
	printf("wrote %s (%zu bytes)\n", path, len);
	return 0;
}

/* A run of the scenario: its trace, valid until the next run. */
typedef const char *(*golden_run_fn)(size_t *len);

/* The golden test's main: "GOLDEN" runs the scenario twice (it must be deterministic) and compares
 * with the file; "--write-golden GOLDEN" writes this run's trace as the new file. */
static int golden_main(int argc, char **argv, golden_run_fn run)
{
	size_t len = 0;
	if (argc == 3 && strcmp(argv[1], "--write-golden") == 0) {
		const char *t = run(&len);
		int rc = golden_write(argv[2], t, len);
		return rc ? rc : CHECK_DONE();
	}
	if (argc != 2) {
		fprintf(stderr, "usage: %s GOLDEN | --write-golden GOLDEN\n", argv[0]);
		return 2;
	}
	const char *t = run(&len);
	char *first = malloc(len + 1);
	if (!first)
		return 1;
	memcpy(first, t, len);
	size_t len2 = 0;
	t = run(&len2);
	CHECK(len == len2 && memcmp(first, t, len) == 0); /* deterministic */
	golden_compare(argv[1], first, len);
	free(first);
	return CHECK_DONE();
}

#endif
