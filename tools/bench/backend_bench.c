// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd_backend_bench: our VFIO backend (iommufd_oot_vfio) against stock
 * vfio_iommu_type1, on the same device behind QEMU's emulated VT-d, in the
 * same VM boot (make bench).
 *
 * Both backends are loaded, ours with type1=0, so that VFIO_TYPE1v2_IOMMU
 * selects type1 and IOMMUFD_OOT_VFIO_TYPE selects ours. A group belongs
 * to one container at a time: every run sets up a fresh container of one
 * type on the group (untimed), measures, and gives the group back, and
 * the two backends' runs alternate so that a slow spell of the host hits
 * both. Every ratio is the median of the ratios of side-by-side runs.
 *
 * Rows: 4 KiB map+unmap pairs per second; map and unmap GiB/s of 256 MiB
 * of 4K pages and of THP; the time of one 4 KiB map as the container
 * already holds 1k, 10k, 100k and 200k mappings, taken while filling it
 * (type1 refuses more than its dma_entry_limit, 65535 by default);
 * VFIO_IOMMU_DIRTY_PAGES GET_BITMAP of a 1 GiB and a 16 GiB range, all
 * mapped, tracking on (the device's domain cannot track, so both report
 * every page dirty), in ms per read. IOMMUFD_BENCH_ONLY=dirty runs only
 * those.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../uapi/linux/iommufd.h"
#include "bench.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SZ_4K 0x1000UL
#define SZ_2M 0x200000UL
#define SZ_1G 0x40000000UL
/* Below the x86 MSI window and inside VT-d's 39-bit address width. */
#define BENCH_IOVA 0x10000000UL
#define PAIRS 4096
#define BUF_UNITS 2048
#define BIG (256UL << 20)
#define FILL 200000UL
/* Maps timed around each fill checkpoint, in SAMPLES groups. */
#define SAMPLE_MAPS 200
#define SAMPLES RUNS

enum { OURS, TYPE1, NR_BACKENDS };

static const char *const backend_name[NR_BACKENDS] = { "ours", "type1" };
static const unsigned long backend_type[NR_BACKENDS] = {
	IOMMUFD_OOT_VFIO_TYPE, VFIO_TYPE1v2_IOMMU
};

static int group = -1;
static int targets_missed;

static void die(const char *what)
{
	fprintf(stderr, "iommufd_backend_bench: %s: %s\n", what,
		strerror(errno));
	exit(2);
}

static void *alloc_buffer(unsigned long size, bool thp)
{
	char *buf = mmap(NULL, size + SZ_2M, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *aligned;

	if (buf == MAP_FAILED)
		die("mmap");
	aligned = (char *)(((unsigned long)buf + SZ_2M - 1) & ~(SZ_2M - 1));
	madvise(aligned, size, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(aligned, 0x5a, size);
	return aligned;
}

/* A container of backend @b holding the group; untimed. */
static int container_open(int b)
{
	int c = open("/dev/vfio/vfio", O_RDWR);

	if (c < 0)
		die("open /dev/vfio/vfio");
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &c))
		die("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(c, VFIO_SET_IOMMU, backend_type[b]))
		die(b == OURS ? "VFIO_SET_IOMMU ours (is iommufd_oot_vfio loaded?)" :
				"VFIO_SET_IOMMU type1v2");
	return c;
}

/* Gives the group back; the last group leaving ends the backend's state. */
static void container_close(int c)
{
	if (ioctl(group, VFIO_GROUP_UNSET_CONTAINER))
		die("VFIO_GROUP_UNSET_CONTAINER");
	close(c);
}

static int map_dma(int c, void *va, unsigned long len, unsigned long iova)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (unsigned long)va, .iova = iova, .size = len,
	};

	return ioctl(c, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

static void must_map(int c, void *va, unsigned long len, unsigned long iova)
{
	if (map_dma(c, va, len, iova))
		die("VFIO_IOMMU_MAP_DMA");
}

static void must_unmap(int c, unsigned long iova, unsigned long len)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = iova, .size = len,
	};

	if (ioctl(c, VFIO_IOMMU_UNMAP_DMA, &unmap) || unmap.size != len)
		die("VFIO_IOMMU_UNMAP_DMA");
}

static void must_unmap_all(int c)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .flags = VFIO_DMA_UNMAP_FLAG_ALL,
	};

	if (ioctl(c, VFIO_IOMMU_UNMAP_DMA, &unmap))
		die("VFIO_IOMMU_UNMAP_DMA (all)");
}

static void check_target(const char *what, double value, double need)
{
	bool met = value >= need;

	printf("target: %-52s %7.2f (need >= %.2f): %s\n", what, value, need,
	       met ? "met" : "NOT MET");
	targets_missed += !met;
}

/* The figure of the RUNS ratios @a[r] / @b[r]. */
static struct figure ratios(const double *a, const double *b)
{
	double v[RUNS];
	int r;

	for (r = 0; r != RUNS; r++)
		v[r] = a[r] / b[r];
	return summarize(v);
}

static void print_row(const char *name, const char *unit, double *ours,
		      double *type1)
{
	struct figure ratio = ratios(ours, type1);
	struct figure o = summarize(ours), t = summarize(type1);

	printf("%-30s %-8s %10.2f [%9.2f..%9.2f] %10.2f [%9.2f..%9.2f] %6.2fx\n",
	       name, unit, o.med, o.min, o.max, t.med, t.min, t.max,
	       ratio.med);
	fflush(stdout);
}

/* 4 KiB map+unmap pairs per second, each pair at a new IOVA. */
static double pairs_run(int b, char *buf)
{
	int c = container_open(b), i;
	double t0 = now(), rate;

	for (i = 0; i != PAIRS; i++) {
		unsigned long iova = BENCH_IOVA + i * SZ_4K;

		must_map(c, buf + (i % BUF_UNITS) * SZ_4K, SZ_4K, iova);
		must_unmap(c, iova, SZ_4K);
	}
	rate = PAIRS / (now() - t0);
	container_close(c);
	return rate;
}

static void pairs_row(void)
{
	char *buf = alloc_buffer(BUF_UNITS * SZ_4K, false);
	double v[NR_BACKENDS][RUNS];
	int r, b;

	for (r = 0; r != RUNS; r++)
		for (b = 0; b != NR_BACKENDS; b++)
			v[b][r] = pairs_run(b, buf);
	print_row("4 KiB map+unmap", "pairs/s", v[OURS], v[TYPE1]);
	check_target("4 KiB pairs/s, ours vs type1",
		     ratios(v[OURS], v[TYPE1]).med, 1.5);
	munmap(buf, BUF_UNITS * SZ_4K);
}

/* GiB/s of mapping and of unmapping @buf in one call each. */
static void big_run(int b, char *buf, double *map_gibs, double *unmap_gibs)
{
	int c = container_open(b);
	double t0 = now(), t1;

	must_map(c, buf, BIG, BENCH_IOVA);
	t1 = now();
	must_unmap(c, BENCH_IOVA, BIG);
	*map_gibs = BIG / (t1 - t0) / SZ_1G;
	*unmap_gibs = BIG / (now() - t1) / SZ_1G;
	container_close(c);
}

static void big_rows(bool thp)
{
	double map_v[NR_BACKENDS][RUNS], unmap_v[NR_BACKENDS][RUNS];
	char *buf = alloc_buffer(BIG, thp);
	const char *kind = thp ? "THP" : "4K";
	char name[80];
	int r, b;

	for (r = 0; r != RUNS; r++)
		for (b = 0; b != NR_BACKENDS; b++)
			big_run(b, buf, &map_v[b][r], &unmap_v[b][r]);
	snprintf(name, sizeof(name), "256 MiB %s map", kind);
	print_row(name, "GiB/s", map_v[OURS], map_v[TYPE1]);
	snprintf(name, sizeof(name), "256 MiB %s unmap", kind);
	print_row(name, "GiB/s", unmap_v[OURS], unmap_v[TYPE1]);
	snprintf(name, sizeof(name), "256 MiB %s map GiB/s vs type1", kind);
	check_target(name, ratios(map_v[OURS], map_v[TYPE1]).med, 1.2);
	snprintf(name, sizeof(name), "256 MiB %s unmap GiB/s vs type1", kind);
	check_target(name, ratios(unmap_v[OURS], unmap_v[TYPE1]).med, 1.2);
	munmap(buf, BIG);
}

/*
 * One buffer mapped again and again, so 16 GiB of IOVA cost 64 MiB; from
 * 4 GiB up, clear of the MSI window below it, inside VT-d's 39 bits.
 */
#define DIRTY_CHUNK (64UL << 20)
#define DIRTY_IOVA 0x100000000UL

static int dirty_pages(int c, __u32 flag)
{
	struct vfio_iommu_type1_dirty_bitmap arg = {
		.argsz = sizeof(arg), .flags = flag,
	};

	return ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &arg) ? -errno : 0;
}

/* One GET_BITMAP of @range bytes from DIRTY_IOVA into @bm: seconds. */
static double dirty_get(int c, unsigned long range, __u64 *bm)
{
	struct {
		struct vfio_iommu_type1_dirty_bitmap hdr;
		struct vfio_iommu_type1_dirty_bitmap_get get;
	} arg = {
		.hdr = {
			.argsz = sizeof(arg),
			.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
		},
		.get = {
			.iova = DIRTY_IOVA,
			.size = range,
			.bitmap = {
				.pgsize = SZ_4K,
				.size = range / SZ_4K / 8,
				.data = bm,
			},
		},
	};
	double t0;

	memset(bm, 0, range / SZ_4K / 8);
	t0 = now();
	if (ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &arg))
		die("VFIO_IOMMU_DIRTY_PAGES GET_BITMAP");
	return now() - t0;
}

/*
 * Backend @b: @range mapped, tracking started (untimed), then RUNS reads,
 * ms each. Every page must come back dirty: the same work for both.
 */
static void dirty_run(int b, char *buf, unsigned long range, __u64 *bm,
		      double *ms)
{
	int c = container_open(b), r;
	unsigned long off, i;

	for (off = 0; off < range; off += DIRTY_CHUNK)
		must_map(c, buf, DIRTY_CHUNK, DIRTY_IOVA + off);
	if (dirty_pages(c, VFIO_IOMMU_DIRTY_PAGES_FLAG_START))
		die("VFIO_IOMMU_DIRTY_PAGES START");
	for (r = 0; r != RUNS; r++) {
		ms[r] = dirty_get(c, range, bm) * 1e3;
		for (i = 0; i != range / SZ_4K / 64; i++)
			if (bm[i] != ~0ULL) {
				errno = EINVAL;
				die("GET_BITMAP: a page not reported dirty");
			}
	}
	if (dirty_pages(c, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP))
		die("VFIO_IOMMU_DIRTY_PAGES STOP");
	must_unmap_all(c);
	container_close(c);
}

static void dirty_rows(void)
{
	static const unsigned long ranges[] = { SZ_1G, 16 * SZ_1G };
	char *buf = alloc_buffer(DIRTY_CHUNK, true);
	double v[NR_BACKENDS][RUNS];
	unsigned int k;
	char name[80];
	__u64 *bm;
	int b;

	bm = malloc(16 * SZ_1G / SZ_4K / 8);
	if (!bm)
		die("malloc");
	for (k = 0; k != ARRAY_SIZE(ranges); k++) {
		for (b = 0; b != NR_BACKENDS; b++)
			dirty_run(b, buf, ranges[k], bm, v[b]);
		snprintf(name, sizeof(name), "dirty GET_BITMAP %lu GiB",
			 ranges[k] / SZ_1G);
		print_row(name, "ms", v[OURS], v[TYPE1]);
	}
	free(bm);
	munmap(buf, DIRTY_CHUNK);
}

static const unsigned long checkpoints[] = { 1000, 10000, 100000, FILL };
#define NR_CHECKPOINTS ARRAY_SIZE(checkpoints)

struct fill {
	unsigned long mapped;	/* mappings made before the first refusal */
	int refusal;		/* its errno, 0 if none */
	double us[NR_CHECKPOINTS];	/* median µs/map there, 0: not reached */
};

/*
 * Fill a container of backend @b with up to FILL 4 KiB mappings of one
 * page, at consecutive IOVAs. Past each checkpoint the next SAMPLE_MAPS
 * maps are timed in SAMPLES groups: the median is the cost of one map
 * with that many mappings present.
 */
static void fill_run(int b, char *page, struct fill *f)
{
	int c = container_open(b);
	double t[SAMPLES];
	unsigned long i;
	unsigned int k;

	memset(f, 0, sizeof(*f));
	for (k = 0; k != NR_CHECKPOINTS; k++) {
		unsigned long stop = checkpoints[k], s;

		for (i = f->mapped; i < stop; i++) {
			f->refusal = -map_dma(c, page, SZ_4K,
					      BENCH_IOVA + i * SZ_4K);
			if (f->refusal)
				goto out;
			f->mapped++;
		}
		for (s = 0; s != SAMPLES; s++) {
			double t0 = now();

			for (i = 0; i != SAMPLE_MAPS / SAMPLES; i++) {
				unsigned long n = f->mapped + FILL;

				must_map(c, page, SZ_4K,
					 BENCH_IOVA + (n + i) * SZ_4K);
			}
			t[s] = (now() - t0) * 1e6 / (SAMPLE_MAPS / SAMPLES);
			/* Keep the count at the checkpoint while timing. */
			must_unmap(c, BENCH_IOVA + (f->mapped + FILL) * SZ_4K,
				   SAMPLE_MAPS / SAMPLES * SZ_4K);
		}
		f->us[k] = summarize(t).med;
	}
out:
	must_unmap_all(c);
	container_close(c);
}

static void fill_rows(void)
{
	char *page = alloc_buffer(SZ_4K, false);
	struct fill f[NR_BACKENDS];
	unsigned int k;
	int b;

	for (b = 0; b != NR_BACKENDS; b++)
		fill_run(b, page, &f[b]);
	for (k = 0; k != NR_CHECKPOINTS; k++) {
		printf("4 KiB map with %6lu present   us/map", checkpoints[k]);
		for (b = 0; b != NR_BACKENDS; b++) {
			if (f[b].us[k])
				printf("  %s %8.2f", backend_name[b],
				       f[b].us[k]);
			else
				printf("  %s %8s", backend_name[b], "-");
		}
		printf("\n");
	}
	for (b = 0; b != NR_BACKENDS; b++)
		printf("%s: %lu mappings in one container%s%s\n",
		       backend_name[b], f[b].mapped,
		       f[b].refusal ? ", then refused: " : "",
		       f[b].refusal ? strerror(f[b].refusal) : "");
	check_target("ours: 1k-mapping map time / 100k-mapping map time",
		     f[OURS].us[2] ? f[OURS].us[0] / f[OURS].us[2] : 0, 0.5);
	check_target("ours: mappings in one container / 200k",
		     (double)f[OURS].mapped / FILL, 1.0);
	munmap(page, SZ_4K);
}

int main(void)
{
	const char *group_path = getenv("IOMMUFD_BENCH_VFIO_GROUP");
	const char *only = getenv("IOMMUFD_BENCH_ONLY");

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!group_path) {
		printf("iommufd_backend_bench: skipped, no VFIO group in %s\n",
		       "IOMMUFD_BENCH_VFIO_GROUP");
		return 0;
	}
	group = open(group_path, O_RDWR);
	if (group < 0)
		die(group_path);
	printf("iommufd_backend_bench: VFIO backends on one device (%s), %s of %d runs\n",
	       group_path, "median [min..max]", RUNS);
	printf("%-30s %-8s %10s %23s %10s %23s %7s\n", "row", "unit", "ours",
	       "", "type1", "", "ratio");
	if (!only || strcmp(only, "dirty")) {
		pairs_row();
		big_rows(false);
		big_rows(true);
		fill_rows();
	}
	dirty_rows();
	return targets_missed ? 1 : 0;
}
