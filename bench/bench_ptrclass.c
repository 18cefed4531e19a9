/*
 * bench_ptrclass.c - classifications per second on one core, and proof
 * that a classification allocates nothing.
 *
 * Reads the labelled corpus (SMTPGATE_CORPUS, else
 * ../shared/corpus/ptr-dev.tsv relative to the project root), classifies
 * its names (half as forward-confirmed) round after round in five windows
 * of 0.4 s, and prints the median rate, the best, and the allocations.
 * malloc, calloc, realloc and free are wrapped here (forwarding to
 * glibc's __libc_* entry points) so any allocation inside
 * ptrclass_classify(), libpsl's included, is counted.  Exits 1 when the
 * count is not zero.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ptrclass.h"

#define BENCH_NAMES_MAX 4096
#define BENCH_WINDOWS 5

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

void *malloc(size_t n);
void *calloc(size_t n, size_t m);
void *realloc(void *p, size_t n);
void free(void *p);

static unsigned long bench_allocs;	/* allocations since start-up */

void *malloc(size_t n)
{
	bench_allocs++;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	bench_allocs++;
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	bench_allocs++;
	return __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}

struct bench_name {
	struct addr a;
	char ptr[256];
};

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int bench_load(const char *path, struct bench_name *v, size_t *n)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	if (f == NULL) {
		perror(path);
		return -1;
	}
	*n = 0;
	while (fgets(line, sizeof(line), f) != NULL && *n < BENCH_NAMES_MAX) {
		char *ip = strtok(line, "\t\n"), *ptr = strtok(NULL, "\t\n");
		struct bench_name *b = &v[*n];

		if (ip == NULL || ptr == NULL || strlen(ptr) >= sizeof(b->ptr))
			continue;
		memset(&b->a, 0, sizeof(b->a));
		if (inet_pton(AF_INET, ip, b->a.b) == 1)
			b->a.family = AF_INET;
		else if (inet_pton(AF_INET6, ip, b->a.b) == 1)
			b->a.family = AF_INET6;
		else
			continue;	/* the header */
		strcpy(b->ptr, ptr);
		(*n)++;
	}
	fclose(f);
	return 0;
}

int main(void)
{
	static struct bench_name names[BENCH_NAMES_MAX];
	const char *corpus = getenv("SMTPGATE_CORPUS");
	struct ptrclass *pc;
	struct ptr_verdict v;
	char err[512];
	size_t n, i;
	unsigned long total = 0, allocs, generic = 0;
	double t0, t, rate[BENCH_WINDOWS];
	int w;

	if (corpus == NULL)
		corpus = "../shared/corpus/ptr-dev.tsv";
	if (bench_load(corpus, names, &n) < 0 || n == 0) {
		fprintf(stderr, "bench_ptrclass: no names in %s\n", corpus);
		return 2;
	}
	if ((pc = ptrclass_new("data/ptr-providers.conf", err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "bench_ptrclass: %s\n", err);
		return 2;
	}
	/*
	 * Five windows of 0.4 s: the median is the figure, the best shows
	 * what the code does when no other process shares the core.
	 */
	allocs = bench_allocs;
	for (w = 0; w < BENCH_WINDOWS; w++) {
		unsigned long calls = 0;

		t0 = bench_now();
		do {
			for (i = 0; i < n; i++) {
				ptrclass_classify(pc, names[i].ptr,
				    &names[i].a, i & 1, &v);
				generic += v.cls != PTR_NAMED;
			}
			calls += n;
			t = bench_now() - t0;
		} while (t < 0.4);
		rate[w] = (double)calls / t;
		total += calls;
	}
	allocs = bench_allocs - allocs;
	qsort(rate, BENCH_WINDOWS, sizeof(rate[0]), bench_cmp);
	printf("ptrclass: %.0f classifications/s on one core (median of %d "
	    "windows; best %.0f; %zu names, %lu calls, %lu allocations in "
	    "the timed loop, %lu not named)\n", rate[BENCH_WINDOWS / 2],
	    BENCH_WINDOWS, rate[BENCH_WINDOWS - 1], n, total, allocs,
	    generic);
	ptrclass_free(pc);
	return allocs == 0 ? 0 : 1;
}
