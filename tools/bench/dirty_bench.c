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
 *     at most a third of 1 GiB mapped (the target; it exits 1 if missed).
 * The mock's aperture ends at 2 GiB, MOCK_FLAGS_DEVICE_HUGE_IOVA or not
 * (it adds an IOPTE size, not IOVA), so larger ranges need a real IOMMU:
 * backend_bench.c's dirty rows read 16 GiB on edu, ours against type1.
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
#define BASE 0x1000000UL	/* the mock aperture's start */
#define NBITS (RANGE / PSZ)

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

static struct figure time_hwpt_get(int fd, __u32 hwpt, __u32 flags)
{
	struct iommu_hwpt_get_dirty_bitmap cmd = {
		.size = sizeof(cmd),
		.hwpt_id = hwpt,
		.flags = flags,
		.iova = BASE,
		.length = RANGE,
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

static struct figure time_container_get(int fd)
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
			.size = RANGE,
			.bitmap = {
				.pgsize = PSZ,
				.size = sizeof(bitmap),
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

/* IOMMU_HWPT_GET_DIRTY_BITMAP over 1 GiB mapped, clean and all dirty. */
static void bench_hwpt(void *buf)
{
	struct iommu_test_cmd cmd = {};
	struct iommu_hwpt_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_hwpt_set_dirty_tracking set = {
		.size = sizeof(set),
		.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
	};
	int fd = open("/dev/iommu", O_RDWR);
	__u32 ioas;

	if (fd < 0)
		die("open /dev/iommu");
	ioas = ioas_alloc(fd);
	tcmd(fd, IOMMU_TEST_OP_MOCK_DOMAIN, ioas, &cmd, "MOCK_DOMAIN");
	alloc.dev_id = cmd.mock_domain.out_idev_id;
	alloc.pt_id = ioas;
	alloc.flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	xioctl(fd, IOMMU_HWPT_ALLOC, &alloc, "HWPT_ALLOC dirty");
	set.hwpt_id = alloc.out_hwpt_id;
	map_chunks(fd, ioas, buf, RANGE / CHUNK, 1);
	xioctl(fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &set, "SET_DIRTY_TRACKING");
	row("GET_DIRTY_BITMAP 1 GiB mapped, clean",
	    time_hwpt_get(fd, alloc.out_hwpt_id, 0));
	memset(marks, 0xff, sizeof(marks));
	cmd = (struct iommu_test_cmd){ .dirty = {
		.iova = BASE,
		.length = RANGE,
		.page_size = PSZ,
		.uptr = (uintptr_t)marks,
	} };
	tcmd(fd, IOMMU_TEST_OP_DIRTY, alloc.out_hwpt_id, &cmd, "TEST_OP_DIRTY");
	row("GET_DIRTY_BITMAP 1 GiB mapped, all dirty (NO_CLEAR)",
	    time_hwpt_get(fd, alloc.out_hwpt_id,
			  IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR));
	close(fd);
}

/* The container's GET_BITMAP of 1 GiB with 1 GiB, 256 and 64 MiB mapped. */
static int bench_container(void *buf)
{
	static const unsigned int chunks[] = { 16, 4, 1 };
	struct iommu_test_cmd cmd = {};
	struct iommu_vfio_ioas vio = {
		.size = sizeof(vio),
		.op = IOMMU_VFIO_IOAS_SET,
	};
	struct vfio_iommu_type1_dirty_bitmap start = {
		.argsz = sizeof(start),
		.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START,
	};
	struct figure f[3];
	char what[64];
	int fd = open("/dev/iommu", O_RDWR);
	unsigned int i;

	if (fd < 0)
		die("open /dev/iommu");
	vio.ioas_id = ioas_alloc(fd);
	xioctl(fd, IOMMU_VFIO_IOAS, &vio, "VFIO_IOAS SET");
	tcmd(fd, IOMMU_TEST_OP_MOCK_DOMAIN, vio.ioas_id, &cmd, "MOCK_DOMAIN");
	if (ioctl(fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		die("VFIO_SET_IOMMU");
	xioctl(fd, VFIO_IOMMU_DIRTY_PAGES, &start, "DIRTY_PAGES START");
	for (i = 0; i != 3; i++) {
		map_chunks(fd, vio.ioas_id, buf, chunks[i], 16 / chunks[i]);
		f[i] = time_container_get(fd);
		snprintf(what, sizeof(what),
			 "container GET_BITMAP 1 GiB range, %u MiB mapped",
			 chunks[i] * 64);
		row(what, f[i]);
		unmap_all(fd, vio.ioas_id);
	}
	close(fd);
	printf("64 MiB mapped / 1 GiB mapped: %.2f (target <= 0.33)\n",
	       f[2].med / f[0].med);
	return f[2].med / f[0].med <= 0.33 ? 0 : 1;
}

int main(void)
{
	void *buf = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	int rc;

	if (buf == MAP_FAILED)
		die("mmap");
	printf("dirty tracking on the mock IOMMU, 4 KiB pages, median of %d\n",
	       RUNS);
	bench_hwpt(buf);
	rc = bench_container(buf);
	munmap(buf, CHUNK);
	return rc;
}
