// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd_bench: map and unmap throughput of /dev/iommu, run inside the
 * test VM by `make bench` against the test build of the module.
 *
 * One huge-IOVA mock domain is attached to the IOAS, so every map is
 * written into IOPTEs; buffers of 64 MiB and 256 MiB are backed by 4K
 * pages, THP and hugetlbfs; each is mapped with IOMMU_OPTION_HUGE_PAGES on
 * and off. Each figure is the median of RUNS runs with min and max. The
 * closing lines check the large-IOPTE targets and the exit status says
 * whether they were met.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../lib/libiommufd.h"
#include "bench.h"

#define SZ_2M (2UL << 20)
#define SZ_1G 0x40000000UL
#define BENCH_IOVA 0x10000000UL

enum backing { BACK_4K, BACK_THP, BACK_HUGETLB, NR_BACKINGS };

static const char *const backing_name[] = { "4k", "thp", "hugetlb" };
static const unsigned long sizes[] = { 64UL << 20, 256UL << 20 };

struct result {
	struct figure map, unmap;
	__u64 huge_ioptes;
};

/* [backing][size][huge off/on] */
static struct result results[NR_BACKINGS][2][2];

static void die(const char *what, int rc)
{
	fprintf(stderr, "iommufd_bench: %s: %s\n", what, strerror(-rc));
	exit(2);
}

/* A touched buffer of @size bytes backed as asked, or NULL. */
static void *alloc_buffer(enum backing backing, unsigned long size)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	unsigned long len = size;
	char *buf, *aligned;

	if (backing == BACK_HUGETLB)
		flags |= MAP_HUGETLB;
	else
		len += SZ_2M; /* room to align THP to 2 MiB */
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (buf == MAP_FAILED)
		return NULL;
	aligned = (char *)(((unsigned long)buf + SZ_2M - 1) & ~(SZ_2M - 1));
	if (backing == BACK_HUGETLB)
		aligned = buf;
	if (backing == BACK_THP)
		madvise(aligned, size, MADV_HUGEPAGE);
	if (backing == BACK_4K)
		madvise(aligned, size, MADV_NOHUGEPAGE);
	memset(aligned, 0x5a, size);
	return aligned;
}

/* A context with an IOAS and a huge-IOVA mock domain attached. */
static int setup(__u32 *ioas_id, __u32 *hwpt_id, bool huge)
{
	struct iommu_test_cmd cmd = {};
	__u64 val = huge;
	int fd, rc;

	fd = iommufd_open(NULL);
	if (fd < 0)
		die("open /dev/iommu", fd);
	rc = iommufd_ioas_alloc(fd, ioas_id);
	if (rc)
		die("IOAS_ALLOC", rc);
	rc = iommufd_option(fd, IOMMU_OPTION_OP_SET, IOMMU_OPTION_HUGE_PAGES,
			    *ioas_id, &val);
	if (rc)
		die("OPTION HUGE_PAGES", rc);
	cmd.mock_domain_flags.dev_flags = MOCK_FLAGS_DEVICE_HUGE_IOVA;
	rc = iommufd_test_cmd(fd, IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, *ioas_id,
			      &cmd);
	if (rc)
		die("MOCK_DOMAIN_FLAGS (is this a test build?)", rc);
	*hwpt_id = cmd.mock_domain_flags.out_hwpt_id;
	return fd;
}

static __u64 count_huge_ioptes(int fd, __u32 hwpt_id, unsigned long size)
{
	struct iommu_test_iopte_stats stats = {};
	struct iommu_test_cmd cmd = {
		.check_map = {
			.iova = BENCH_IOVA,
			.length = size,
			.uptr = (unsigned long)&stats,
		},
	};

	if (iommufd_test_cmd(fd, IOMMU_TEST_OP_MD_IOPTE_STATS, hwpt_id, &cmd))
		return 0;
	return stats.huge;
}

static void bench_one(enum backing backing, int size_idx, bool huge)
{
	unsigned long size = sizes[size_idx];
	struct result *res = &results[backing][size_idx][huge];
	double map_gibs[RUNS], unmap_gibs[RUNS];
	__u32 ioas_id, hwpt_id;
	void *buf;
	int fd, run, rc;

	buf = alloc_buffer(backing, size);
	if (!buf) {
		fprintf(stderr, "iommufd_bench: no %s memory for %lu MiB\n",
			backing_name[backing], size >> 20);
		exit(2);
	}
	fd = setup(&ioas_id, &hwpt_id, huge);
	for (run = 0; run != RUNS; run++) {
		__u64 iova = BENCH_IOVA;
		double t0, t1, t2;

		t0 = now();
		rc = iommufd_ioas_map(fd, ioas_id, buf, size, &iova,
				      IOMMU_IOAS_MAP_FIXED_IOVA |
					      IOMMU_IOAS_MAP_READABLE |
					      IOMMU_IOAS_MAP_WRITEABLE);
		t1 = now();
		if (rc)
			die("IOAS_MAP", rc);
		if (!run)
			res->huge_ioptes = count_huge_ioptes(fd, hwpt_id, size);
		rc = iommufd_ioas_unmap(fd, ioas_id, iova, size, NULL);
		t2 = now();
		if (rc)
			die("IOAS_UNMAP", rc);
		map_gibs[run] = size / (t1 - t0) / SZ_1G;
		unmap_gibs[run] = size / (t2 - t1) / SZ_1G;
	}
	res->map = summarize(map_gibs);
	res->unmap = summarize(unmap_gibs);
	iommufd_close(fd);
	munmap(buf, size);
}

static void reserve_hugetlb(unsigned long bytes)
{
	char text[32];
	int fd;

	fd = open("/proc/sys/vm/nr_hugepages", O_WRONLY);
	if (fd < 0)
		return;
	snprintf(text, sizeof(text), "%lu\n", bytes / SZ_2M + 8);
	if (write(fd, text, strlen(text)) < 0)
		perror("nr_hugepages");
	close(fd);
}

static void print_table(void)
{
	int b, s, h;

	printf("%-8s %5s %-4s %28s %28s %8s\n", "memory", "MiB", "huge",
	       "map GiB/s med [min..max]", "unmap GiB/s med [min..max]",
	       "1M IOPTEs");
	for (b = 0; b != NR_BACKINGS; b++)
		for (s = 0; s != 2; s++)
			for (h = 1; h >= 0; h--) {
				struct result *r = &results[b][s][h];

				printf("%-8s %5lu %-4s ", backing_name[b],
				       sizes[s] >> 20, h ? "on" : "off");
				printf("%9.3f [%6.3f..%6.3f] ", r->map.med,
				       r->map.min, r->map.max);
				printf("%9.3f [%6.3f..%6.3f] %8llu\n",
				       r->unmap.med, r->unmap.min,
				       r->unmap.max,
				       (unsigned long long)r->huge_ioptes);
			}
}

/* Map speed with HUGE_PAGES on over off, for one backing and size. */
static double speedup(enum backing b, int s)
{
	return results[b][s][1].map.med / results[b][s][0].map.med;
}

static bool check(const char *what, double ratio, double min)
{
	bool met = ratio >= min;

	printf("target: %-44s %6.2fx (need >= %.2fx): %s\n", what, ratio, min,
	       met ? "met" : "NOT MET");
	return met;
}

int main(void)
{
	char what[64];
	bool ok = true;
	int b, s;

	setvbuf(stdout, NULL, _IOLBF, 0);
	reserve_hugetlb(sizes[1]);
	printf("iommufd_bench: %d runs per figure, one huge-IOVA mock domain\n",
	       RUNS);
	for (b = 0; b != NR_BACKINGS; b++)
		for (s = 0; s != 2; s++) {
			bench_one(b, s, true);
			bench_one(b, s, false);
		}
	print_table();
	for (s = 0; s != 2; s++) {
		snprintf(what, sizeof(what), "thp %lu MiB map, huge on vs off",
			 sizes[s] >> 20);
		ok &= check(what, speedup(BACK_THP, s), 5.0);
		snprintf(what, sizeof(what), "hugetlb %lu MiB map, on vs off",
			 sizes[s] >> 20);
		ok &= check(what, speedup(BACK_HUGETLB, s), 5.0);
		snprintf(what, sizeof(what), "4k %lu MiB map, on vs off",
			 sizes[s] >> 20);
		ok &= check(what, speedup(BACK_4K, s), 0.95);
	}
	return ok ? 0 : 1;
}
