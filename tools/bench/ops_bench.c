// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd_ops_bench: operation rates and throughput of /dev/iommu against
 * VFIO type1 on QEMU's emulated VT-d, in the same VM boot (make bench).
 *
 * Rows: map+unmap pairs per second of 4 KiB and 64 KiB at changing IOVAs
 * through ioctl() and through io_uring in batches of 1, 16 and 256 (the
 * struct behind a pointer, and for 256 also inline in 128-byte SQEs); map
 * and unmap GiB/s of 64 MiB and 256 MiB buffers of 4K pages and THP; COPY
 * GiB/s; and the time of one map as the IOAS already holds 1k, 10k and
 * 100k areas. Each figure is the median of RUNS runs with min and max.
 * Our figures are taken with one mock domain attached (a huge-IOVA one
 * for THP memory) and, for throughput, also with none; VFIO's go through
 * the emulated VT-d. The pin-only limit is io_uring buffer registration
 * of the same memory, which pins long-term too.
 *
 * Our runs and the peer's alternate, and each ratio is the median of the
 * ratios of runs taken side by side, so a slow spell of the host (TCG
 * figures drift by tens of percent within one boot) hits both sides.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/vfio.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../lib/libiommufd.h"
#include "bench.h"

#define SZ_4K 0x1000UL
#define SZ_64K 0x10000UL
#define SZ_2M 0x200000UL
#define SZ_1G 0x40000000UL
/* Inside the mock aperture [16 MiB, 2 GiB) and VT-d's address width. */
#define BENCH_IOVA 0x10000000UL
/*
 * Pairs per run, at a new IOVA each; the user addresses cycle through a
 * buffer of BUF_UNITS units, so the pages are faulted in once.
 */
#define PAIRS 4096
#define BUF_UNITS 2048

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int vfio_container = -1;

static void die(const char *what, int rc)
{
	fprintf(stderr, "iommufd_ops_bench: %s: %s\n", what, strerror(-rc));
	exit(2);
}

static void *alloc_buffer(unsigned long size, bool thp)
{
	char *buf = mmap(NULL, size + SZ_2M, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *aligned;

	if (buf == MAP_FAILED)
		return NULL;
	aligned = (char *)(((unsigned long)buf + SZ_2M - 1) & ~(SZ_2M - 1));
	madvise(aligned, size, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(aligned, 0x5a, size);
	return aligned;
}

/* How many physically contiguous runs back @buf (root reads PFNs). */
static long count_runs(void *buf, unsigned long size)
{
	unsigned long pages = size / SZ_4K, i, prev = 0;
	long runs = 0;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -1;
	for (i = 0; i != pages; i++) {
		__u64 entry, pfn;

		if (pread(fd, &entry, sizeof(entry),
			  ((unsigned long)buf / SZ_4K + i) * 8) != 8)
			break;
		pfn = entry & ((1ULL << 55) - 1);
		if (!i || pfn != prev + 1)
			runs++;
		prev = pfn;
	}
	close(fd);
	return runs;
}

/* --- our side ----------------------------------------------------------- */

struct ours {
	int fd;
	__u32 ioas;
	struct io_uring ring;
	/* The ring's SQEs are 128 bytes: commands go inline. */
	bool inline_cmds;
};

/*
 * An fd with an IOAS, a mock domain unless @domain_flags is negative, and
 * a ring with the fd registered, as a VMM that submits many commands
 * would set it up (no fd lookup per command).
 */
static void ours_open(struct ours *o, int domain_flags, bool inline_cmds)
{
	struct iommu_test_cmd cmd = {};
	int rc;

	o->fd = iommufd_open(NULL);
	if (o->fd < 0)
		die("open /dev/iommu", o->fd);
	rc = iommufd_ioas_alloc(o->fd, &o->ioas);
	if (rc)
		die("IOAS_ALLOC", rc);
	if (domain_flags >= 0) {
		cmd.mock_domain_flags.dev_flags = domain_flags;
		rc = iommufd_test_cmd(o->fd, IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
				      o->ioas, &cmd);
		if (rc)
			die("MOCK_DOMAIN_FLAGS (is this a test build?)", rc);
	}
	o->inline_cmds = inline_cmds;
	rc = io_uring_queue_init(512, &o->ring,
				 inline_cmds ? IORING_SETUP_SQE128 : 0);
	if (rc)
		die("io_uring_queue_init", rc);
	rc = io_uring_register_files(&o->ring, &o->fd, 1);
	if (rc)
		die("io_uring_register_files", rc);
}

static void ours_close(struct ours *o)
{
	/* Synchronous, unlike the ring's teardown: the fd is closed below. */
	io_uring_unregister_files(&o->ring);
	io_uring_queue_exit(&o->ring);
	iommufd_close(o->fd);
}

static const __u32 rw_fixed = IOMMU_IOAS_MAP_FIXED_IOVA |
			      IOMMU_IOAS_MAP_READABLE |
			      IOMMU_IOAS_MAP_WRITEABLE;

static void ours_map(struct ours *o, void *va, unsigned long len,
		     unsigned long iova)
{
	__u64 at = iova;
	int rc = iommufd_ioas_map(o->fd, o->ioas, va, len, &at, rw_fixed);

	if (rc)
		die("IOAS_MAP", rc);
}

static void ours_unmap(struct ours *o, unsigned long iova, unsigned long len)
{
	int rc = iommufd_ioas_unmap(o->fd, o->ioas, iova, len, NULL);

	if (rc)
		die("IOAS_UNMAP", rc);
}

/* One SQE for command @op; its struct @arg is @size bytes. */
static void queue_uring(struct ours *o, unsigned int op, void *arg,
			size_t size)
{
	struct iommu_uring_cmd hdr = { .arg = (__u64)(unsigned long)arg };
	struct io_uring_sqe *sqe = io_uring_get_sqe(&o->ring);

	/* Index 0 of the registered files: our fd. */
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, 0, NULL, 0, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	sqe->cmd_op = op;
	if (o->inline_cmds) {
		hdr.flags = IOMMU_URING_CMD_INLINE;
		memcpy(sqe->cmd + sizeof(hdr), arg, size);
	}
	memcpy(sqe->cmd, &hdr, sizeof(hdr));
}

/*
 * Submit the queued commands and reap their @n completions, a whole
 * batch at a time as a VMM would: the commands run synchronously, so
 * their CQEs are usually all there once the submit returns.
 */
static void reap(struct ours *o, unsigned int n)
{
	struct io_uring_cqe *cqe;

	if (io_uring_submit(&o->ring) != (int)n)
		die("io_uring_submit", -EIO);
	while (n) {
		unsigned int head, seen = 0;

		if (io_uring_wait_cqe(&o->ring, &cqe))
			die("io_uring_wait_cqe", -EIO);
		io_uring_for_each_cqe(&o->ring, head, cqe) {
			if (cqe->res)
				die("uring command", cqe->res);
			if (++seen == n)
				break;
		}
		io_uring_cq_advance(&o->ring, seen);
		n -= seen;
	}
}

static char *pair_va(char *buf, unsigned long len, unsigned int i)
{
	return buf + (i % BUF_UNITS) * len;
}

/* PAIRS map+unmap pairs of @len at changing IOVAs; pairs per second. */
static double ours_pairs(struct ours *o, char *buf, unsigned long len,
			 int batch)
{
	static struct iommu_ioas_map maps[256];
	static struct iommu_ioas_unmap unmaps[256];
	double t0 = now();
	int i, j;

	for (i = 0; i < PAIRS; i += batch ? batch : 1) {
		if (!batch) {
			ours_map(o, pair_va(buf, len, i), len,
				 BENCH_IOVA + i * len);
			ours_unmap(o, BENCH_IOVA + i * len, len);
			continue;
		}
		for (j = 0; j != batch; j++) {
			maps[j] = (struct iommu_ioas_map){
				.size = sizeof(maps[j]), .flags = rw_fixed,
				.ioas_id = o->ioas, .length = len,
				.user_va = (unsigned long)pair_va(buf, len,
								  i + j),
				.iova = BENCH_IOVA + (i + j) * len,
			};
			queue_uring(o, IOMMU_IOAS_MAP, &maps[j],
				    sizeof(maps[j]));
		}
		reap(o, batch);
		for (j = 0; j != batch; j++) {
			unmaps[j] = (struct iommu_ioas_unmap){
				.size = sizeof(unmaps[j]), .ioas_id = o->ioas,
				.iova = BENCH_IOVA + (i + j) * len,
				.length = len,
			};
			queue_uring(o, IOMMU_IOAS_UNMAP, &unmaps[j],
				    sizeof(unmaps[j]));
		}
		reap(o, batch);
	}
	return PAIRS / (now() - t0);
}

/* --- VFIO type1 --------------------------------------------------------- */

static bool vfio_setup(void)
{
	const char *group_path = getenv("IOMMUFD_BENCH_VFIO_GROUP");
	struct vfio_group_status status = { .argsz = sizeof(status) };
	int group;

	if (!group_path)
		return false;
	vfio_container = open("/dev/vfio/vfio", O_RDWR);
	group = open(group_path, O_RDWR);
	if (vfio_container < 0 || group < 0 ||
	    ioctl(vfio_container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(group, VFIO_GROUP_GET_STATUS, &status) ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE) ||
	    ioctl(group, VFIO_GROUP_SET_CONTAINER, &vfio_container) ||
	    ioctl(vfio_container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		perror("iommufd_ops_bench: VFIO setup");
		vfio_container = -1;
		return false;
	}
	return true;
}

static void vfio_map(void *va, unsigned long len, unsigned long iova)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (unsigned long)va, .iova = iova, .size = len,
	};

	if (ioctl(vfio_container, VFIO_IOMMU_MAP_DMA, &map))
		die("VFIO_IOMMU_MAP_DMA", -errno);
}

static void vfio_unmap(unsigned long iova, unsigned long len)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = iova, .size = len,
	};

	if (ioctl(vfio_container, VFIO_IOMMU_UNMAP_DMA, &unmap))
		die("VFIO_IOMMU_UNMAP_DMA", -errno);
}

static double vfio_pairs(char *buf, unsigned long len)
{
	double t0 = now();
	int i;

	for (i = 0; i != PAIRS; i++) {
		vfio_map(pair_va(buf, len, i), len, BENCH_IOVA + i * len);
		vfio_unmap(BENCH_IOVA + i * len, len);
	}
	return PAIRS / (now() - t0);
}

/* --- rows --------------------------------------------------------------- */

/*
 * One table row. @vs_vfio and @vs_limit are the ratios of side-by-side
 * runs (their median), not the ratios of the medians.
 */
static void print_row(const char *name, const char *unit, struct figure ours,
		      struct figure vfio, struct figure vs_vfio,
		      struct figure limit, struct figure vs_limit)
{
	printf("%-34s %-8s %10.1f [%9.1f..%9.1f]", name, unit, ours.med,
	       ours.min, ours.max);
	if (vfio.valid)
		printf(" %10.1f %7.2fx", vfio.med, vs_vfio.med);
	else
		printf(" %10s %8s", "-", "-");
	if (limit.valid)
		printf(" %10.1f %5.0f%%", limit.med, 100 * vs_limit.med);
	printf("\n");
}

static const struct figure none;

/* The figure of the RUNS ratios @a[r] / @b[r]. */
static struct figure ratios(const double *a, const double *b)
{
	double v[RUNS];
	int r;

	for (r = 0; r != RUNS; r++)
		v[r] = a[r] / b[r];
	return summarize(v);
}

static int targets_missed;

static void check_target(const char *what, double value, double need)
{
	bool met = value >= need;

	printf("target: %-52s %7.2f (need >= %.2f): %s\n", what, value, need,
	       met ? "met" : "NOT MET");
	targets_missed += !met;
}

/* How a rate row submits its pairs. */
struct rate_mode {
	const char *name;
	int batch;		/* 0: ioctl() */
	bool inline_cmds;	/* io_uring with 128-byte SQEs */
	int domain_flags;	/* -1: no domain */
	double target_4k;	/* ratio to VFIO needed for 4 KiB, 0: none */
};

static const struct rate_mode rate_modes[] = {
	{ "ioctl", 0, false, 0, 1.5 },
	{ "uring x1", 1, false, 0, 0 },
	{ "uring x16", 16, false, 0, 0 },
	{ "uring x256", 256, false, 0, 0 },
	{ "uring x256 inline", 256, true, 0, 3.0 },
	{ "no domain", 0, false, -1, 0 },
};

/* One row: our runs and VFIO's, alternating. */
static void rate_row(unsigned long len, const struct rate_mode *m, char *buf)
{
	double ours_v[RUNS], vfio_v[RUNS];
	struct figure ours_f, vfio_f = none, ratio = none;
	bool vfio = vfio_container >= 0;
	char name[80];
	struct ours o;
	int r;

	ours_open(&o, m->domain_flags, m->inline_cmds);
	for (r = 0; r != RUNS; r++) {
		ours_v[r] = ours_pairs(&o, buf, len, m->batch);
		if (vfio)
			vfio_v[r] = vfio_pairs(buf, len);
	}
	ours_close(&o);
	ours_f = summarize(ours_v);
	if (vfio) {
		ratio = ratios(ours_v, vfio_v);
		vfio_f = summarize(vfio_v);
	}
	snprintf(name, sizeof(name), "%lu KiB map+unmap, %s", len >> 10,
		 m->name);
	print_row(name, "pairs/s", ours_f, vfio_f, ratio, none, none);
	if (len == SZ_4K && vfio && m->target_4k) {
		snprintf(name, sizeof(name), "4 KiB pairs/s, %s vs VFIO",
			 m->name);
		check_target(name, ratio.med, m->target_4k);
	}
}

static void rates(void)
{
	static const unsigned long lens[] = { SZ_4K, SZ_64K };
	unsigned int l, m;

	for (l = 0; l != 2; l++) {
		char *buf = alloc_buffer(BUF_UNITS * lens[l], false);

		if (!buf)
			die("buffer", -ENOMEM);
		for (m = 0; m != ARRAY_SIZE(rate_modes); m++)
			rate_row(lens[l], &rate_modes[m], buf);
		munmap(buf, BUF_UNITS * lens[l]);
	}
}

/*
 * Pin-only limit: registering the buffer with io_uring pins it too. One
 * run, GiB/s; 0 if registration is not possible.
 */
static double pin_limit_run(struct io_uring *ring, char *buf,
			    unsigned long size)
{
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	double t0 = now(), gibs;

	if (io_uring_register_buffers(ring, &iov, 1))
		return 0;
	gibs = size / (now() - t0) / SZ_1G;
	io_uring_unregister_buffers(ring);
	return gibs;
}

/* GiB/s of mapping (*@map_gibs) and unmapping @size at BENCH_IOVA. */
static void ours_map_unmap_run(struct ours *o, char *buf, unsigned long size,
			       double *map_gibs, double *unmap_gibs)
{
	double t0 = now(), t1;

	ours_map(o, buf, size, BENCH_IOVA);
	t1 = now();
	ours_unmap(o, BENCH_IOVA, size);
	*map_gibs = size / (t1 - t0) / SZ_1G;
	if (unmap_gibs)
		*unmap_gibs = size / (now() - t1) / SZ_1G;
}

static void vfio_map_unmap_run(char *buf, unsigned long size, double *map_gibs,
			       double *unmap_gibs)
{
	double t0 = now(), t1;

	vfio_map(buf, size, BENCH_IOVA);
	t1 = now();
	vfio_unmap(BENCH_IOVA, size);
	*map_gibs = size / (t1 - t0) / SZ_1G;
	*unmap_gibs = size / (now() - t1) / SZ_1G;
}

static void throughput_row(unsigned long size, bool thp)
{
	double map_v[RUNS], unmap_v[RUNS], bare_v[RUNS], vmap_v[RUNS];
	double vunmap_v[RUNS], limit_v[RUNS];
	struct figure vmap = none, vunmap = none, limit = none;
	struct figure map_vs = none, unmap_vs = none, limit_vs = none;
	bool vfio = vfio_container >= 0, have_limit = true;
	char *buf = alloc_buffer(size, thp);
	struct figure map_dom, unmap_dom;
	struct io_uring ring;
	struct ours dom, bare;
	char name[80];
	int r;

	if (!buf)
		die("buffer", -ENOMEM);
	if (io_uring_queue_init(4, &ring, 0))
		die("io_uring_queue_init", -EIO);
	ours_open(&dom, thp ? MOCK_FLAGS_DEVICE_HUGE_IOVA : 0, false);
	ours_open(&bare, -1, false);
	/* Every side once per run, so drift hits them all alike. */
	for (r = 0; r != RUNS; r++) {
		limit_v[r] = pin_limit_run(&ring, buf, size);
		have_limit &= limit_v[r] > 0;
		ours_map_unmap_run(&dom, buf, size, &map_v[r], &unmap_v[r]);
		ours_map_unmap_run(&bare, buf, size, &bare_v[r], NULL);
		if (vfio)
			vfio_map_unmap_run(buf, size, &vmap_v[r],
					   &vunmap_v[r]);
	}
	if (vfio) {
		map_vs = ratios(map_v, vmap_v);
		unmap_vs = ratios(unmap_v, vunmap_v);
		vmap = summarize(vmap_v);
		vunmap = summarize(vunmap_v);
	}
	if (have_limit) {
		limit_vs = ratios(map_v, limit_v);
		limit = summarize(limit_v);
	}
	map_dom = summarize(map_v);
	unmap_dom = summarize(unmap_v);
	snprintf(name, sizeof(name), "%lu MiB %s map, mock domain",
		 size >> 20, thp ? "THP" : "4K");
	print_row(name, "GiB/s", map_dom, vmap, map_vs, limit, limit_vs);
	snprintf(name, sizeof(name), "%lu MiB %s map, no domain",
		 size >> 20, thp ? "THP" : "4K");
	print_row(name, "GiB/s", summarize(bare_v), none, none, none, none);
	snprintf(name, sizeof(name), "%lu MiB %s unmap, mock domain",
		 size >> 20, thp ? "THP" : "4K");
	print_row(name, "GiB/s", unmap_dom, vunmap, unmap_vs, none, none);
	printf("# %lu MiB %s buffer: %ld physically contiguous runs\n",
	       size >> 20, thp ? "THP" : "4K", count_runs(buf, size));
	if (size == 256UL << 20) {
		if (vfio) {
			snprintf(name, sizeof(name),
				 "256 MiB %s map GiB/s vs VFIO type1",
				 thp ? "THP" : "4K");
			check_target(name, map_vs.med, 1.2);
		}
		if (have_limit) {
			snprintf(name, sizeof(name),
				 "256 MiB %s map vs pin-only limit",
				 thp ? "THP" : "4K");
			check_target(name, limit_vs.med, 0.6);
		}
	}
	ours_close(&dom);
	ours_close(&bare);
	io_uring_queue_exit(&ring);
	munmap(buf, size);
}

/* COPY of 256 MiB from one IOAS with a domain into another with one. */
static void copy_row(void)
{
	unsigned long size = 256UL << 20;
	char *buf = alloc_buffer(size, true);
	struct iommu_test_cmd cmd = {};
	struct ours o;
	__u32 dst;
	double v[RUNS];
	int r, rc;

	ours_open(&o, MOCK_FLAGS_DEVICE_HUGE_IOVA, false);
	rc = iommufd_ioas_alloc(o.fd, &dst);
	if (rc)
		die("IOAS_ALLOC", rc);
	cmd.mock_domain_flags.dev_flags = MOCK_FLAGS_DEVICE_HUGE_IOVA;
	rc = iommufd_test_cmd(o.fd, IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, dst, &cmd);
	if (rc)
		die("MOCK_DOMAIN_FLAGS", rc);
	ours_map(&o, buf, size, BENCH_IOVA);
	for (r = 0; r != RUNS; r++) {
		__u64 iova = BENCH_IOVA;
		double t0 = now();

		rc = iommufd_ioas_copy(o.fd, dst, o.ioas, BENCH_IOVA, size,
				       &iova, rw_fixed);
		if (rc)
			die("IOAS_COPY", rc);
		v[r] = size / (now() - t0) / SZ_1G;
		rc = iommufd_ioas_unmap(o.fd, dst, iova, size, NULL);
		if (rc)
			die("IOAS_UNMAP", rc);
	}
	print_row("256 MiB THP copy, mock domains", "GiB/s", summarize(v),
		  none, none, none, none);
	ours_close(&o);
	munmap(buf, size);
}

/* One fixed and one automatic map+unmap as the IOAS holds @areas areas. */
static void areas_row(unsigned long areas, double *fixed_us, double *auto_us)
{
	char *buf = alloc_buffer(SZ_4K, false);
	double v[RUNS], w[RUNS];
	struct ours o;
	unsigned long i;
	int r, rc;

	ours_open(&o, -1, false);
	/*
	 * No domain: the cost measured is the IOVA bookkeeping, not pins.
	 * The areas are placed by the kernel, packed from the bottom.
	 */
	for (i = 0; i != areas; i++) {
		__u64 at = 0;

		rc = iommufd_ioas_map(o.fd, o.ioas, buf, SZ_4K, &at,
				      IOMMU_IOAS_MAP_READABLE);
		if (rc)
			die("IOAS_MAP fill", rc);
	}
	for (r = 0; r != RUNS; r++) {
		unsigned long iova = 1UL << 40;
		__u64 at = 0;
		double t0 = now();

		ours_map(&o, buf, SZ_4K, iova);
		v[r] = (now() - t0) * 1e6;
		ours_unmap(&o, iova, SZ_4K);
		t0 = now();
		rc = iommufd_ioas_map(o.fd, o.ioas, buf, SZ_4K, &at,
				      IOMMU_IOAS_MAP_READABLE);
		w[r] = (now() - t0) * 1e6;
		if (rc)
			die("IOAS_MAP auto", rc);
		ours_unmap(&o, at, SZ_4K);
	}
	*fixed_us = summarize(v).med;
	*auto_us = summarize(w).med;
	ours_close(&o);
	munmap(buf, SZ_4K);
}

static void areas_rows(void)
{
	static const unsigned long counts[] = { 1000, 10000, 100000 };
	double fixed[3], autom[3];
	int i;

	for (i = 0; i != 3; i++) {
		areas_row(counts[i], &fixed[i], &autom[i]);
		printf("map with %6lu areas present      us/map   fixed %8.2f  auto %8.2f\n",
		       counts[i], fixed[i], autom[i]);
	}
	check_target("fixed map, 1k-area time / 100k-area time",
		     fixed[0] / fixed[2], 0.5);
	check_target("auto map, 1k-area time / 100k-area time",
		     autom[0] / autom[2], 0.5);
}

int main(void)
{
	const char *only = getenv("IOMMUFD_BENCH_ONLY");

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("iommufd_ops_bench: median [min..max] of %d runs; VFIO type1 %s\n",
	       RUNS, vfio_setup() ? "on emulated VT-d" : "not available");
	/* Backend against backend on one device: iommufd_backend_bench. */
	printf("# ours: /dev/iommu with the test build's mock domain, not a real IOMMU\n");
	printf("%-34s %-8s %10s %23s %10s %8s %10s %6s\n", "row", "unit",
	       "ours", "", "VFIO", "ratio", "pin-only", "of it");
	rates();
	/* IOMMUFD_BENCH_ONLY=rates: the pair rates alone, for quick A/Bs. */
	if (only && !strcmp(only, "rates"))
		return targets_missed ? 1 : 0;
	throughput_row(64UL << 20, false);
	throughput_row(64UL << 20, true);
	throughput_row(256UL << 20, false);
	throughput_row(256UL << 20, true);
	copy_row();
	areas_rows();
	return targets_missed ? 1 : 0;
}
