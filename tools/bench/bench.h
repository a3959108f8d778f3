/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the benchmarks share: a clock, and a figure as the median of a few
 * runs with their minimum and maximum.
 */
#ifndef IOMMUFD_BENCH_H
#define IOMMUFD_BENCH_H

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

/* Runs per figure. */
#define RUNS 5

/* @valid: measured at all (a peer that is not there gives no figure) */
struct figure {
	double med, min, max;
	bool valid;
};

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The figure of RUNS measurements in @v (which it sorts). */
static inline struct figure summarize(double *v)
{
	qsort(v, RUNS, sizeof(*v), cmp_double);
	return (struct figure){ v[RUNS / 2], v[0], v[RUNS - 1], true };
}

#endif
