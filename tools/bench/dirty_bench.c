// SPDX-License-Identifier: GPL-2.0
/*
 * GET_DIRTY_BITMAP and VFIO_IOMMU_DIRTY_PAGES GET_BITMAP times on the mock
 * IOMMU (test build; Documentation/dirty-tracking.rst).
 *
 * One 64 MiB buffer is mapped again and again at consecutive IOVAs, so a
 * large IOVA range costs 64 MiB of memory. Rows:
 *   - IOMMU_HWPT_GET_DIRTY_BITMAP of 1 GiB fully mapped, with nothing and
 *     with everything dirty (the bitmap's cost alone, then with every bit);
 *   - the VFIO container's GET_BITMAP of the same 1 GiB range (holes are
 *     allowed there) with 1 GiB, 256 MiB and 64 MiB of it mapped: the time
 *     must follow what is mapped, not the range: 64 MiB mapped must cost
 *     at most a third of 1 GiB mapped (the target; it exits 1 if missed);
 *   - the same at 16 GiB, on a mock device with a wide aperture
 *     (MOCK_FLAGS_DEVICE_WIDE_APERTURE, ours; upstream's mock ends at
 *     2 GiB): GET_DIRTY_BITMAP of 16 GiB fully mapped, clean and all dirty
 *     (upstream's command refuses holes, so its range is always full),
 *     and the container's GET_BITMAP of a 16 GiB range with 16 GiB and
 *     64 MiB mapped (sparse): the sparse read must cost at most a tenth of
 *     the full one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "../../uapi/linux/iommufd.h"
#include "../../iommufd/iommufd_test.h"
#include "bench.h"

#define PSZ 4096UL
#define CHUNK (64UL << 20)
#define RANGE 0x40000000UL	/* 1 GiB */
#define WIDE_RANGE (16 * RANGE)	/* 16 GiB */
#define BASE 0x1000000UL	/* the mock aperture's start */
#define NBITS (WIDE_RANGE / PSZ)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static __u64 bitmap[NBITS / 64];
static __u64 marks[NBITS / 64];

static void die(const char *what)
{
	fprintf(stderr, "dirty_bench: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void xioctl(int fd, unsigned long cmd, void *arg, const char *what)
{
	if (ioctl(fd, cmd, arg))
		die(what);
}

static void tcmd(int fd, __u32 op, __u32 id, struct iommu_test_cmd *cmd,
		 const char *what)
{
	cmd->size = sizeof(*cmd);
	cmd->op = op;
	cmd->id = id;
	xioctl(fd, IOMMU_TEST_CMD, cmd, what);
}

static __u32 ioas_alloc(int fd)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	xioctl(fd, IOMMU_IOAS_ALLOC, &cmd, "IOAS_ALLOC");
	return cmd.out_ioas_id;
}

/* Map @n chunks of @buf from BASE, each at the next CHUNK of IOVA. */
static void map_chunks(int fd, __u32 ioas, void *buf, unsigned int n,
		       unsigned int stride)
{
	unsigned int i;

	for (i = 0; i != n; i++) {
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
				 IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = ioas,
			.user_va = (uintptr_t)buf,
			.length = CHUNK,
			.iova = BASE + (__u64)i * stride * CHUNK,
		};

		xioctl(fd, IOMMU_IOAS_MAP, &map, "IOAS_MAP");
	}
}

static void unmap_all(int fd, __u32 ioas)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.iova = 0,
		.length = UINT64_MAX,
	};

	xioctl(fd, IOMMU_IOAS_UNMAP, &cmd, "IOAS_UNMAP all");
}

static struct figure time_hwpt_get(int fd, __u32 hwpt, __u64 range,
				   __u32 flags)
{
	struct iommu_hwpt_get_dirty_bitmap cmd = {
		.size = sizeof(cmd),
		.hwpt_id = hwpt,
		.flags = flags,
		.iova = BASE,
		.length = range,
		.page_size = PSZ,
		.data = (uintptr_t)bitmap,
	};
	double v[RUNS];
	int i;

	for (i = 0; i != RUNS; i++) {
		double t = now();

		xioctl(fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &cmd, "GET_DIRTY_BITMAP");
		v[i] = now() - t;
	}
	return summarize(v);
}

static struct figure time_container_get(int fd, __u64 range)
{
	struct {
		struct vfio_iommu_type1_dirty_bitmap hdr;
		struct vfio_iommu_type1_dirty_bitmap_get range;
	} a = {
		.hdr = {
			.argsz = sizeof(a),
			.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
		},
		.range = {
			.iova = BASE,
			.size = range,
			.bitmap = {
				.pgsize = PSZ,
				.size = range / PSZ / 8,
				.data = bitmap,
			},
		},
	};
	double v[RUNS];
	int i;

	for (i = 0; i != RUNS; i++) {
		double t = now();

		xioctl(fd, VFIO_IOMMU_DIRTY_PAGES, &a, "DIRTY_PAGES GET_BITMAP");
		v[i] = now() - t;
	}
	return summarize(v);
}

static void row(const char *what, struct figure f)
{
	printf("%-52s %9.3f ms (min %.3f, max %.3f)\n", what, f.med * 1e3,
	       f.min * 1e3, f.max * 1e3);
}

/*
 * IOMMU_HWPT_GET_DIRTY_BITMAP over @range fully mapped, clean and all
 * dirty. The device moves onto the tracking HWPT, so the automatic one
 * goes and only one domain is filled.
 */
static void bench_hwpt(void *buf, __u64 range, __u32 dev_flags,
		       const char *size)
{
	struct iommu_test_cmd cmd = {
		.mock_domain_flags = { .dev_flags = dev_flags },
	};
	struct iommu_hwpt_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_hwpt_set_dirty_tracking set = {
		.size = sizeof(set),
		.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
	};
	int fd = open("/dev/iommu", O_RDWR);
	char what[64];
	__u32 ioas, stdev;

	if (fd < 0)
		die("open /dev/iommu");
	ioas = ioas_alloc(fd);
	tcmd(fd, IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, ioas, &cmd, "MOCK_DOMAIN");
	stdev = cmd.mock_domain_flags.out_stdev_id;
	alloc.dev_id = cmd.mock_domain_flags.out_idev_id;
	alloc.pt_id = ioas;
	alloc.flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	xioctl(fd, IOMMU_HWPT_ALLOC, &alloc, "HWPT_ALLOC dirty");
	cmd = (struct iommu_test_cmd){ .mock_domain_replace = {
		.pt_id = alloc.out_hwpt_id,
	} };
	tcmd(fd, IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, stdev, &cmd, "REPLACE");
	set.hwpt_id = alloc.out_hwpt_id;
	map_chunks(fd, ioas, buf, range / CHUNK, 1);
	xioctl(fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &set, "SET_DIRTY_TRACKING");
	snprintf(what, sizeof(what), "GET_DIRTY_BITMAP %s mapped, clean", size);
	row(what, time_hwpt_get(fd, alloc.out_hwpt_id, range, 0));
	memset(marks, 0xff, range / PSZ / 8);
	cmd = (struct iommu_test_cmd){ .dirty = {
		.iova = BASE,
		.length = range,
		.page_size = PSZ,
		.uptr = (uintptr_t)marks,
	} };
	tcmd(fd, IOMMU_TEST_OP_DIRTY, alloc.out_hwpt_id, &cmd, "TEST_OP_DIRTY");
	snprintf(what, sizeof(what),
		 "GET_DIRTY_BITMAP %s mapped, all dirty (NO_CLEAR)", size);
	row(what, time_hwpt_get(fd, alloc.out_hwpt_id, range,
				IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR));
	close(fd);
}

/*
 * The container's GET_BITMAP of a @range IOVA range with @nsteps amounts
 * mapped: @chunks[i] chunks of 64 MiB each, spread evenly over the range.
 * Returns the ratio of the last row's time to the first's.
 */
static double bench_container(void *buf, __u64 range, __u32 dev_flags,
			      const char *size, const unsigned int *chunks,
			      unsigned int nsteps)
{
	struct iommu_test_cmd cmd = {
		.mock_domain_flags = { .dev_flags = dev_flags },
	};
	struct iommu_vfio_ioas vio = {
		.size = sizeof(vio),
		.op = IOMMU_VFIO_IOAS_SET,
	};
	struct vfio_iommu_type1_dirty_bitmap start = {
		.argsz = sizeof(start),
		.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START,
	};
	unsigned int all = range / CHUNK, i;
	struct figure first = {}, f;
	char what[80];
	int fd = open("/dev/iommu", O_RDWR);

	if (fd < 0)
		die("open /dev/iommu");
	vio.ioas_id = ioas_alloc(fd);
	xioctl(fd, IOMMU_VFIO_IOAS, &vio, "VFIO_IOAS SET");
	tcmd(fd, IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, vio.ioas_id, &cmd,
	     "MOCK_DOMAIN");
	if (ioctl(fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		die("VFIO_SET_IOMMU");
	xioctl(fd, VFIO_IOMMU_DIRTY_PAGES, &start, "DIRTY_PAGES START");
	for (i = 0; i != nsteps; i++) {
		map_chunks(fd, vio.ioas_id, buf, chunks[i], all / chunks[i]);
		f = time_container_get(fd, range);
		if (!i)
			first = f;
		snprintf(what, sizeof(what),
			 "container GET_BITMAP %s range, %u MiB mapped", size,
			 chunks[i] * 64);
		row(what, f);
		unmap_all(fd, vio.ioas_id);
	}
	close(fd);
	return f.med / first.med;
}

int main(void)
{
	static const unsigned int chunks[] = { 16, 4, 1 };
	static const unsigned int wide_chunks[] = { 256, 1 };
	void *buf = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	double ratio, wide_ratio;

	if (buf == MAP_FAILED)
		die("mmap");
	printf("dirty tracking on the mock IOMMU, 4 KiB pages, median of %d\n",
	       RUNS);
	bench_hwpt(buf, RANGE, 0, "1 GiB");
	ratio = bench_container(buf, RANGE, 0, "1 GiB", chunks,
				ARRAY_SIZE(chunks));
	printf("64 MiB mapped / 1 GiB mapped: %.2f (target <= 0.33)\n", ratio);
	bench_hwpt(buf, WIDE_RANGE, MOCK_FLAGS_DEVICE_WIDE_APERTURE, "16 GiB");
	wide_ratio = bench_container(buf, WIDE_RANGE,
				     MOCK_FLAGS_DEVICE_WIDE_APERTURE, "16 GiB",
				     wide_chunks, ARRAY_SIZE(wide_chunks));
	printf("16 GiB range: 64 MiB mapped / 16 GiB mapped: %.3f (target <= 0.10)\n",
	       wide_ratio);
	munmap(buf, CHUNK);
	return ratio <= 0.33 && wide_ratio <= 0.10 ? 0 : 1;
}
