// SPDX-License-Identifier: GPL-2.0
/*
 * IOVA windows (Extension, not upstream): a windowed IOAS has no usable
 * IOVA until CREATE_WINDOW makes some, each window with its own page size
 * and attributes. This suite walks through the three call sequences of
 * David Gibson's proposal against mock devices (a DPDK-style driver, a
 * hypervisor with a PAPR guest, one with an x86 guest), then every refusal
 * the uAPI documents, the exact-IOPTE attribute, REMOVE_WINDOW racing
 * MAP, and the pin accounting around REMOVE_WINDOW and close.
 *
 * The mock IOMMU translates [MOCK_APERTURE_START, MOCK_APERTURE_LAST]
 * (16 MiB up to 2 GiB) with IOPTEs of PAGE_SIZE / 2, plus 512 times that
 * (1 MiB) for devices made with MOCK_FLAGS_DEVICE_HUGE_IOVA.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/userfaultfd.h>

#include "kselftest_harness.h"
#include "iommufd_utils.h"

#define PAGE_SZ 4096UL
#define SZ_64K 0x10000UL
#define SZ_1M 0x100000UL
#define SZ_2M 0x200000UL
#define SZ_16M 0x1000000UL
#define SZ_256M 0x10000000UL
#define SZ_512M 0x20000000UL
#define SZ_1G 0x40000000UL
#define SZ_2G 0x80000000UL
#define ALL_IOVA UINT64_MAX

/* The mock IOMMU's two IOPTE sizes. */
#define IOPTE_SMALL (PAGE_SZ / 2)
#define IOPTE_HUGE (512 * IOPTE_SMALL)
#define APERTURE_START ((__u64)MOCK_APERTURE_START)
#define APERTURE_LAST ((__u64)MOCK_APERTURE_LAST)

#define RW (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)
#define FIXED_RW (IOMMU_IOAS_MAP_FIXED_IOVA | RW)
#define EXACT IOMMU_WINDOW_ATTR_EXACT_IOPTE
#define HUGE_DEV MOCK_FLAGS_DEVICE_HUGE_IOVA
#define PIN_ACCESS MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES

#define MAX_WINDOWS 16

static bool inside(__u64 iova, __u64 len, __u64 start, __u64 last)
{
	return iova >= start && iova + len - 1 <= last;
}

static int win_fixed(int fd, __u32 ioas_id, __u64 base, __u64 length,
		     __u64 page_size, __u32 attrs)
{
	return ioas_create_window_fixed(fd, ioas_id, base, length, page_size,
					attrs);
}

/* The windows of @ioas_id, or -errno. */
static int get_windows(int fd, __u32 ioas_id, struct iommu_ioas_window *w)
{
	__u32 num = MAX_WINDOWS;
	int rc;

	memset(w, 0xa5, MAX_WINDOWS * sizeof(*w));
	rc = ioas_list_windows(fd, ioas_id, w, &num);
	return rc ? rc : (int)num;
}

static int count_windows(int fd, __u32 ioas_id)
{
	struct iommu_ioas_window w[MAX_WINDOWS];

	return get_windows(fd, ioas_id, w);
}

/* The usable ranges of @ioas_id, or -errno. */
static int get_ranges(int fd, __u32 ioas_id, struct iommu_iova_range *r)
{
	__u32 num = MAX_WINDOWS;
	int rc;

	rc = ioas_iova_ranges(fd, ioas_id, r, &num, NULL);
	return rc ? rc : (int)num;
}

/* A snapshot of what userspace can see of an IOAS's IOVA layout. */
struct layout {
	int nwin;
	struct iommu_ioas_window win[MAX_WINDOWS];
	int nranges;
	struct iommu_iova_range ranges[MAX_WINDOWS];
};

static void layout_get(int fd, __u32 ioas_id, struct layout *l)
{
	memset(l, 0, sizeof(*l));
	l->nwin = get_windows(fd, ioas_id, l->win);
	l->nranges = get_ranges(fd, ioas_id, l->ranges);
}

static bool layout_equal(const struct layout *a, const struct layout *b)
{
	return a->nwin == b->nwin && a->nranges == b->nranges &&
	       (a->nwin <= 0 ||
		!memcmp(a->win, b->win, a->nwin * sizeof(a->win[0]))) &&
	       (a->nranges <= 0 ||
		!memcmp(a->ranges, b->ranges,
			a->nranges * sizeof(a->ranges[0])));
}

static int attach(int fd, __u32 pt_id, __u32 dev_flags, __u32 *stdev_id,
		  __u32 *hwpt_id)
{
	return tcmd_mock_domain_flags(fd, pt_id, dev_flags, stdev_id, hwpt_id,
				      NULL);
}

/* The PFN behind @addr, 0 if /proc/self/pagemap does not say. */
static __u64 pfn_of(const void *addr)
{
	__u64 entry = 0;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return 0;
	if (pread(fd, &entry, sizeof(entry),
		  (uintptr_t)addr / PAGE_SZ * sizeof(entry)) != sizeof(entry))
		entry = 0;
	close(fd);
	if (!(entry >> 63))
		return 0;
	return entry & ((1ULL << 55) - 1);
}

/*
 * Is [buf, buf + len) one physically contiguous run starting on an @align
 * boundary? 1 yes, 0 no, -1 if the PFNs cannot be read.
 */
static int phys_contig(const void *buf, size_t len, size_t align)
{
	__u64 first = pfn_of(buf);
	size_t i;

	if (!first)
		return -1;
	if ((first * PAGE_SZ) % align)
		return 0;
	for (i = PAGE_SZ; i < len; i += PAGE_SZ)
		if (pfn_of((const char *)buf + i) != first + i / PAGE_SZ)
			return 0;
	return 1;
}

/*
 * 2 MiB of physically contiguous memory, 2 MiB aligned: a transparent
 * huge page, or a hugetlbfs page if THP did not give one.
 */
struct big_buf {
	void *map;
	size_t map_len;
	char *buf;
	long saved_hugepages;
};

static int big_buf_alloc(struct big_buf *b)
{
	char *p;

	memset(b, 0, sizeof(*b));
	b->saved_hugepages = -1;
	b->map_len = 2 * SZ_2M;
	p = mmap(NULL, b->map_len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		b->map = p;
		b->buf = (char *)(((uintptr_t)p + SZ_2M - 1) & ~(SZ_2M - 1));
		madvise(b->buf, SZ_2M, MADV_HUGEPAGE);
		memset(b->buf, 0x5a, SZ_2M);
		if (phys_contig(b->buf, SZ_2M, SZ_2M) == 1)
			return 0;
		munmap(b->map, b->map_len);
	}
	if (hugetlb_reserve(1, &b->saved_hugepages))
		goto err;
	b->map_len = SZ_2M;
	p = mmap(NULL, SZ_2M, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED)
		goto err;
	b->map = p;
	b->buf = p;
	memset(b->buf, 0x5a, SZ_2M);
	if (phys_contig(b->buf, SZ_2M, SZ_2M) == 1)
		return 0;
	munmap(b->map, b->map_len);
err:
	hugetlb_restore(b->saved_hugepages);
	memset(b, 0, sizeof(*b));
	b->saved_hugepages = -1;
	return -1;
}

static void big_buf_free(struct big_buf *b)
{
	if (b->map)
		munmap(b->map, b->map_len);
	hugetlb_restore(b->saved_hugepages);
	b->map = NULL;
	b->saved_hugepages = -1;
}

/*
 * @len bytes of small pages that are surely not physically contiguous:
 * page 1 is replaced by a page allocated while the original was still in
 * use, so it cannot follow page 0.
 */
static void *noncontig_alloc(size_t len)
{
	char *buf, *page;

	buf = buf_alloc_written(len, 7);
	if (!buf)
		return NULL;
	page = buf_alloc_written(PAGE_SZ, 8);
	if (!page)
		return NULL;
	if (mremap(page, PAGE_SZ, PAGE_SZ, MREMAP_MAYMOVE | MREMAP_FIXED,
		   buf + PAGE_SZ) == MAP_FAILED)
		return NULL;
	return buf;
}

static long vm_pin_kb(void)
{
	return proc_status_kb("VmPin");
}

/* ---------------------------------------------------------------------- */
/* A windowed IOAS on a fresh /dev/iommu, and a small buffer. */

#define BUF_PAGES 16
#define BUF_SIZE (BUF_PAGES * PAGE_SZ)

FIXTURE(windows)
{
	int fd;
	__u32 ioas_id;
	char *buf;
	long vm_pin;
};

FIXTURE_SETUP(windows)
{
	ASSERT_EQ(PAGE_SZ, sysconf(_SC_PAGESIZE));
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, ioas_alloc_windowed(self->fd, &self->ioas_id));
	self->buf = buf_alloc_written(BUF_SIZE, 1);
	ASSERT_NE(NULL, self->buf);
	self->vm_pin = vm_pin_kb();
	ASSERT_LE(0, self->vm_pin);
}

FIXTURE_TEARDOWN(windows)
{
	if (self->fd >= 0)
		close(self->fd);
	/* Every test is a leak test: closing drops every pin. */
	EXPECT_EQ(self->vm_pin, vm_pin_kb());
	if (self->buf) {
		int fd = iommufd_open();

		EXPECT_EQ(0, tcmd_check_refs(fd, self->buf, BUF_SIZE, 0));
		close(fd);
		munmap(self->buf, BUF_SIZE);
	}
}

/* === The call sequences of the proposal === */

/*
 * DPDK-style driver: create the IOAS, attach the devices, CREATE_WINDOW
 * with size and page size only (the kernel picks a base that suits the
 * attached IOMMUs), map buffers, do work, tear down.
 */
TEST_F(windows, dpdk_sequence_attach_then_window_with_kernel_chosen_base)
{
	struct iommu_ioas_window w[MAX_WINDOWS];
	__u64 base1 = 0, pgsz1 = 0, base2 = 0, pgsz2 = SZ_2M;
	__u64 iova[3], unmapped;
	__u32 stdev, hwpt;
	char data[256], back[256];
	int access_fd, i;

	/* 1-2: create the IOAS (the fixture did) and attach the device. */
	ASSERT_EQ(0, attach(self->fd, self->ioas_id, 0, &stdev, &hwpt));

	/* 3: a 64 MiB window; base and page size left to the kernel. */
	ASSERT_EQ(0, ioas_create_window(self->fd, self->ioas_id, 0, 0, &base1,
					64 * SZ_1M, &pgsz1));
	/* The smallest IOPTE the mock IOMMU supports. */
	ASSERT_EQ(IOPTE_SMALL, pgsz1);
	ASSERT_TRUE(inside(base1, 64 * SZ_1M, APERTURE_START, APERTURE_LAST));
	ASSERT_EQ(0, base1 % pgsz1);
	/* A second one with a chosen page size: aligned to it, disjoint. */
	ASSERT_EQ(0, ioas_create_window(self->fd, self->ioas_id, 0, 0, &base2,
					32 * SZ_1M, &pgsz2));
	ASSERT_EQ(SZ_2M, pgsz2);
	ASSERT_EQ(0, base2 % SZ_2M);
	ASSERT_TRUE(inside(base2, 32 * SZ_1M, APERTURE_START, APERTURE_LAST));
	ASSERT_TRUE(base2 >= base1 + 64 * SZ_1M ||
		    base2 + 32 * SZ_1M <= base1);
	ASSERT_EQ(2, get_windows(self->fd, self->ioas_id, w));
	ASSERT_EQ(base1 < base2 ? base1 : base2, w[0].base);

	/* 4: map the buffers; the kernel picks IOVAs inside a window. */
	for (i = 0; i != 3; i++) {
		char *b = self->buf + i * 4 * PAGE_SZ;

		ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, b, 4 * PAGE_SZ,
				      &iova[i]));
		ASSERT_TRUE(inside(iova[i], 4 * PAGE_SZ, base1,
				   base1 + 64 * SZ_1M - 1) ||
			    inside(iova[i], 4 * PAGE_SZ, base2,
				   base2 + 32 * SZ_1M - 1));
		ASSERT_EQ(0, iova[i] % IOPTE_SMALL);
		ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, iova[i], b,
					    4 * PAGE_SZ));
	}
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, 12 * PAGE_SZ, 1));

	/* 5: do work: the "device" writes and reads through the IOAS. */
	ASSERT_EQ(0, tcmd_access_create(self->fd, self->ioas_id, 0,
					&access_fd));
	for (i = 0; i != sizeof(data); i++)
		data[i] = i * 7;
	ASSERT_EQ(0, tcmd_access_rw(self->fd, access_fd, iova[1] + 100, data,
				    sizeof(data), MOCK_ACCESS_RW_WRITE));
	ASSERT_EQ(0, memcmp(self->buf + 4 * PAGE_SZ + 100, data,
			    sizeof(data)));
	ASSERT_EQ(0, tcmd_access_rw(self->fd, access_fd, iova[1] + 100, back,
				    sizeof(back), 0));
	ASSERT_EQ(0, memcmp(back, data, sizeof(data)));
	close(access_fd);

	/* Teardown, in the driver's order. */
	for (i = 0; i != 3; i++) {
		ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, iova[i],
					4 * PAGE_SZ, &unmapped));
		ASSERT_EQ(4 * PAGE_SZ, unmapped);
	}
	ASSERT_EQ(0, ioas_remove_window(self->fd, self->ioas_id, base1,
					&unmapped));
	ASSERT_EQ(0, unmapped);
	ASSERT_EQ(0, ioas_remove_window(self->fd, self->ioas_id, base2,
					&unmapped));
	ASSERT_EQ(0, get_windows(self->fd, self->ioas_id, w));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->ioas_id));
}

/* The default windows of the PAPR model as it fits the mock aperture. */
#define PAPR_LOW_BASE APERTURE_START
#define PAPR_LOW_LEN (SZ_1G - APERTURE_START)
#define PAPR_LOW_PGSZ PAGE_SZ
#define PAPR_HIGH_BASE SZ_1G
#define PAPR_HIGH_LEN SZ_1G
#define PAPR_HIGH_PGSZ SZ_64K

static int papr_default_windows(int fd, __u32 ioas_id)
{
	int rc;

	rc = win_fixed(fd, ioas_id, PAPR_LOW_BASE, PAPR_LOW_LEN, PAPR_LOW_PGSZ,
		       0);
	if (rc)
		return rc;
	return win_fixed(fd, ioas_id, PAPR_HIGH_BASE, PAPR_HIGH_LEN,
			 PAPR_HIGH_PGSZ, 0);
}

/*
 * Hypervisor with a PAPR guest: default windows made with a base before
 * any device is attached, then attach, boot, and at run time the guest
 * re-creates a window with another size and page size, a device is
 * hot-plugged, and a reset brings back the defaults.
 */
TEST_F(windows, papr_sequence_default_windows_resize_hotplug_reset)
{
	struct iommu_ioas_window defaults[MAX_WINDOWS], w[MAX_WINDOWS];
	struct layout before, after;
	char *high = buf_alloc_written(4 * SZ_64K, 2);
	__u64 unmapped, tce;
	__u32 stdev, hwpt, stdev2, hwpt2;
	struct big_buf big;
	int i;

	ASSERT_NE(NULL, high);

	/*
	 * 2-3: PAPR's default DMA window is IOVA 0..2 GiB. It can be created
	 * (nothing is attached yet to say otherwise) ...
	 */
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, 0, SZ_2G, PAGE_SZ, 0));
	/* 4: ... but this IOMMU cannot translate below 16 MiB: no attach. */
	layout_get(self->fd, self->ioas_id, &before);
	ASSERT_EQ(-EADDRINUSE, attach(self->fd, self->ioas_id, HUGE_DEV,
				      &stdev, &hwpt));
	layout_get(self->fd, self->ioas_id, &after);
	ASSERT_TRUE(layout_equal(&before, &after));
	ASSERT_EQ(0, ioas_remove_window(self->fd, self->ioas_id, 0,
					&unmapped));

	/* The defaults this machine model uses: a low and a high window. */
	ASSERT_EQ(0, papr_default_windows(self->fd, self->ioas_id));
	ASSERT_EQ(2, get_windows(self->fd, self->ioas_id, defaults));
	ASSERT_EQ(0, attach(self->fd, self->ioas_id, HUGE_DEV, &stdev, &hwpt));

	/* 5: the guest boots and maps TCEs: 4K in low, 64K in high. */
	for (i = 0; i != BUF_PAGES; i++) {
		tce = PAPR_LOW_BASE + 0x100000 + i * PAGE_SZ;
		ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
					    self->buf + i * PAGE_SZ, PAGE_SZ,
					    tce));
	}
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt,
				    PAPR_LOW_BASE + 0x100000, self->buf,
				    BUF_SIZE));
	for (i = 0; i != 4; i++)
		ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
					    high + i * SZ_64K, SZ_64K,
					    PAPR_HIGH_BASE + i * SZ_64K));
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, PAPR_HIGH_BASE, high,
				    4 * SZ_64K));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, high, 4 * SZ_64K, 1));
	/* A 4K TCE cannot go into the 64K window. */
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  PAGE_SZ, PAPR_HIGH_BASE + SZ_1M));
	/* The guest clears one TCE. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id,
				PAPR_LOW_BASE + 0x100000, PAGE_SZ, &unmapped));
	ASSERT_EQ(PAGE_SZ, unmapped);

	/*
	 * 6a: the guest removes the high window and asks for a smaller one
	 * with 1 MiB TCEs; what was mapped in the old window is gone.
	 */
	ASSERT_EQ(0, ioas_remove_window(self->fd, self->ioas_id,
					PAPR_HIGH_BASE, &unmapped));
	ASSERT_EQ(4 * SZ_64K, unmapped);
	ASSERT_EQ(0, tcmd_check_refs(self->fd, high, 4 * SZ_64K, 0));
	ASSERT_NE(0, tcmd_check_map(self->fd, hwpt, PAPR_HIGH_BASE, high,
				    SZ_64K));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, high,
					  SZ_64K, PAPR_HIGH_BASE));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, PAPR_HIGH_BASE,
			       SZ_512M, IOPTE_HUGE, EXACT));
	/* Hypercalls that must fail: overlap, and beyond the aperture. */
	ASSERT_EQ(-EEXIST, win_fixed(self->fd, self->ioas_id,
				     PAPR_HIGH_BASE + SZ_256M, SZ_512M,
				     IOPTE_HUGE, 0));
	ASSERT_EQ(-EADDRINUSE, win_fixed(self->fd, self->ioas_id,
					 PAPR_HIGH_BASE + SZ_512M, SZ_1G,
					 IOPTE_HUGE, 0));
	ASSERT_EQ(2, get_windows(self->fd, self->ioas_id, w));
	ASSERT_EQ(PAPR_HIGH_BASE, w[1].base);
	ASSERT_EQ(SZ_512M, w[1].length);
	ASSERT_EQ(IOPTE_HUGE, w[1].page_size);
	ASSERT_EQ(EXACT, w[1].attrs);
	ASSERT_EQ(0, w[1].__reserved);
	/* 1 MiB TCEs need 1 MiB of contiguous memory behind each. */
	if (!big_buf_alloc(&big)) {
		struct iommu_test_iopte_stats st;

		ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, big.buf,
					    SZ_2M, PAPR_HIGH_BASE));
		ASSERT_EQ(0, tcmd_md_iopte_stats(self->fd, hwpt,
						 PAPR_HIGH_BASE, SZ_2M, &st));
		ASSERT_EQ(2, st.huge);
		ASSERT_EQ(0, st.small);
		ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, PAPR_HIGH_BASE,
					    big.buf, SZ_2M));
	} else {
		TH_LOG("no contiguous 2M memory: the 1M TCE map is skipped");
	}

	/*
	 * 6c: hot-plug. A device whose IOMMU has no 1 MiB IOPTE cannot
	 * keep the exact window: refused, nothing changed. One that has
	 * it joins.
	 */
	layout_get(self->fd, self->ioas_id, &before);
	ASSERT_EQ(-EINVAL, attach(self->fd, self->ioas_id, 0, &stdev2,
				  &hwpt2));
	layout_get(self->fd, self->ioas_id, &after);
	ASSERT_TRUE(layout_equal(&before, &after));
	ASSERT_EQ(0, attach(self->fd, self->ioas_id, HUGE_DEV, &stdev2,
			    &hwpt2));
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt2,
				    PAPR_LOW_BASE + 0x100000 + PAGE_SZ,
				    self->buf + PAGE_SZ, BUF_SIZE - PAGE_SZ));
	if (big.map)
		ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt2, PAPR_HIGH_BASE,
					    big.buf, SZ_2M));

	/* 6d: reset: remove whatever is there, create the defaults again. */
	ASSERT_EQ(2, get_windows(self->fd, self->ioas_id, w));
	for (i = 0; i != 2; i++)
		ASSERT_EQ(0, ioas_remove_window(self->fd, self->ioas_id,
						w[i].base, &unmapped));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA,
				&unmapped));
	ASSERT_EQ(0, unmapped);
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(self->vm_pin, vm_pin_kb());
	ASSERT_EQ(0, papr_default_windows(self->fd, self->ioas_id));
	ASSERT_EQ(2, get_windows(self->fd, self->ioas_id, w));
	ASSERT_EQ(0, memcmp(defaults, w, 2 * sizeof(w[0])));
	/* The rebooted guest maps again. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, high, SZ_64K,
				    PAPR_HIGH_BASE));
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt2, PAPR_HIGH_BASE, high,
				    SZ_64K));

	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev2));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	big_buf_free(&big);
	munmap(high, 4 * SZ_64K);
}

/*
 * Hypervisor with an x86 guest: a window per RAM block, RAM mapped at
 * GPA == IOVA, devices attached; then vIOMMU domains as new windowed
 * IOASes filled by COPY from the RAM IOAS, device and memory hot-plug, and
 * a reset back to the RAM IOAS.
 */
TEST_F(windows, x86_sequence_ram_windows_viommu_copy_hotplug_reset)
{
	const __u64 gpa0 = APERTURE_START, gpa1 = SZ_1G, gpa2 = SZ_1G + SZ_512M;
	const __u64 len0 = SZ_1M, len1 = SZ_2M, len2 = SZ_1M;
	const __u64 dom_base = 64 * SZ_1M, giova = dom_base + SZ_1M;
	char *ram0 = buf_alloc_written(len0, 3), *ram1 = buf_alloc_written(len1, 4);
	char *ram2 = buf_alloc_written(len2, 5);
	__u32 viommu, dev[3], hwpt[3], h;
	__u64 unmapped, iova;
	int i;

	ASSERT_NE(NULL, ram0);
	ASSERT_NE(NULL, ram1);
	ASSERT_NE(NULL, ram2);

	/* 2: a window for every RAM block; 3: RAM at GPA == IOVA. */
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, gpa0, len0, PAGE_SZ,
			       0));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, gpa1, len1, PAGE_SZ,
			       0));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, ram0, len0,
				    gpa0));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, ram1, len1,
				    gpa1));

	/* 4: attach the virtual devices. */
	for (i = 0; i != 2; i++) {
		ASSERT_EQ(0, attach(self->fd, self->ioas_id, 0, &dev[i],
				    &hwpt[i]));
		ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt[i], gpa0, ram0,
					    len0));
		ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt[i], gpa1, ram1,
					    len1));
	}
	ASSERT_EQ(0, tcmd_check_refs(self->fd, ram0, len0, 1));

	/*
	 * 6: the guest puts device 1 in a vIOMMU domain: a new IOAS with a
	 * window compatible with the RAM windows, filled by COPY.
	 */
	ASSERT_EQ(0, ioas_alloc_windowed(self->fd, &viommu));
	ASSERT_EQ(0, win_fixed(self->fd, viommu, dom_base, SZ_256M, PAGE_SZ,
			       0));
	iova = giova;
	ASSERT_EQ(0, ioas_copy(self->fd, viommu, &iova, self->ioas_id,
			       gpa1 + SZ_64K, SZ_64K, FIXED_RW));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, dev[1], viommu, &h));
	ASSERT_NE(hwpt[1], h);
	ASSERT_EQ(0, tcmd_check_map(self->fd, h, giova, ram1 + SZ_64K,
				    SZ_64K));
	/* COPY shares the pages: still one pin each. */
	ASSERT_EQ(0, tcmd_check_refs(self->fd, ram1, len1, 1));
	/* An auto IOVA also lands in the vIOMMU window. */
	ASSERT_EQ(0, ioas_copy(self->fd, viommu, &iova, self->ioas_id, gpa0,
			       SZ_64K, RW));
	ASSERT_TRUE(inside(iova, SZ_64K, dom_base, dom_base + SZ_256M - 1));
	ASSERT_EQ(0, tcmd_check_map(self->fd, h, iova, ram0, SZ_64K));

	/* A vIOMMU window with other TCE rules is not COPY-compatible. */
	ASSERT_EQ(0, win_fixed(self->fd, viommu, dom_base + SZ_512M, SZ_16M,
			       SZ_64K, 0));
	iova = dom_base + SZ_512M;
	ASSERT_EQ(-EINVAL, ioas_copy(self->fd, viommu, &iova, self->ioas_id,
				     gpa1, SZ_64K, FIXED_RW));
	ASSERT_EQ(0, ioas_remove_window(self->fd, viommu, dom_base + SZ_512M,
					&unmapped));

	/* vIOMMU invalidation: re-mirror the guest's IO page table. */
	ASSERT_EQ(0, ioas_unmap(self->fd, viommu, giova, SZ_64K, &unmapped));
	ASSERT_EQ(SZ_64K, unmapped);
	iova = giova;
	ASSERT_EQ(0, ioas_copy(self->fd, viommu, &iova, self->ioas_id,
			       gpa1 + SZ_1M, SZ_64K, FIXED_RW));
	ASSERT_EQ(0, tcmd_check_map(self->fd, h, giova, ram1 + SZ_1M, SZ_64K));

	/* Device hot-plug: attach to the RAM IOAS. */
	ASSERT_EQ(0, attach(self->fd, self->ioas_id, 0, &dev[2], &hwpt[2]));
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt[2], gpa1, ram1, len1));

	/*
	 * Memory hot-plug: a window for the new block. One that overlaps a
	 * RAM block or cannot be translated fails the hot-plug.
	 */
	ASSERT_EQ(-EEXIST, win_fixed(self->fd, self->ioas_id, gpa1 + SZ_1M,
				     len2, PAGE_SZ, 0));
	ASSERT_EQ(-EADDRINUSE, win_fixed(self->fd, self->ioas_id, 4 * SZ_1G,
					 len2, PAGE_SZ, 0));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, gpa2, len2, PAGE_SZ,
			       0));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, ram2, len2,
				    gpa2));
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt[0], gpa2, ram2, len2));
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt[2], gpa2, ram2, len2));

	/* System reset: every device back on the RAM IOAS, vIOMMU gone. */
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, dev[1], self->ioas_id,
					      &h));
	ASSERT_EQ(0, tcmd_check_map(self->fd, h, gpa1, ram1, len1));
	ASSERT_EQ(0, iommufd_destroy(self->fd, viommu));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, ram1, len1, 1));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, ram2, len2, 1));

	for (i = 0; i != 3; i++)
		ASSERT_EQ(0, iommufd_destroy(self->fd, dev[i]));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, ram0, len0, 0));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, ram1, len1, 0));
	munmap(ram0, len0);
	munmap(ram1, len1);
	munmap(ram2, len2);
}

/* === The basic model === */

TEST_F(windows, alloc_with_an_unknown_flag_fails_eopnotsupp)
{
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		if (1U << bit == IOMMU_IOAS_ALLOC_WINDOWED)
			continue;
		ASSERT_EQ(-EOPNOTSUPP, ioas_alloc_flags(self->fd, 1U << bit,
							NULL));
	}
}

/*
 * The extension flag sits at the top of a field upstream owns, where
 * upstream's own flags (allocated from bit 0) will not reach it.
 */
TEST_F(windows, windowed_flag_is_the_top_bit_of_the_field)
{
	struct iommu_iova_range r[MAX_WINDOWS];
	__u32 id;

	ASSERT_EQ(1U << 31, IOMMU_IOAS_ALLOC_WINDOWED);
	ASSERT_EQ(0, ioas_alloc_flags(self->fd, 1U << 31, &id));
	/* It is windowed: it lists windows (none yet) and has no IOVA. */
	ASSERT_EQ(0, count_windows(self->fd, id));
	ASSERT_EQ(0, count_windows(self->fd, self->ioas_id));
	ASSERT_EQ(0, get_ranges(self->fd, id, r));
	ASSERT_EQ(-EOPNOTSUPP, ioas_alloc_flags(self->fd, 1U << 0, &id));
}

TEST_F(windows, new_windowed_ioas_has_no_usable_iova)
{
	struct iommu_iova_range r[MAX_WINDOWS];
	struct iommu_ioas_window w[MAX_WINDOWS];
	__u64 iova = 0, unmapped;

	ASSERT_EQ(0, get_ranges(self->fd, self->ioas_id, r));
	ASSERT_EQ(0, get_windows(self->fd, self->ioas_id, w));
	ASSERT_EQ(-ENOSPC, ioas_map(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, &iova));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  PAGE_SZ, APERTURE_START));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  PAGE_SZ, 0));
	/* Unmapping everything always works. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA,
				&unmapped));
	ASSERT_EQ(0, unmapped);
}

TEST_F(windows, create_window_reports_the_base_and_page_size_used)
{
	__u64 base = 0x1234000, pgsz = 0;
	struct iommu_ioas_window w[MAX_WINDOWS];

	/* Nothing attached: PAGE_SIZE, and the lowest base. */
	ASSERT_EQ(0, ioas_create_window(self->fd, self->ioas_id, 0, 0, &base,
					SZ_1M, &pgsz));
	ASSERT_EQ(PAGE_SZ, pgsz);
	ASSERT_EQ(0, base);
	/* The next one goes right after it, aligned to its page size. */
	pgsz = SZ_2M;
	ASSERT_EQ(0, ioas_create_window(self->fd, self->ioas_id, 0, 0, &base,
					SZ_2M, &pgsz));
	ASSERT_EQ(SZ_2M, base);
	ASSERT_EQ(SZ_2M, pgsz);
	/* A fixed base is written back unchanged. */
	base = SZ_1G;
	pgsz = 0;
	ASSERT_EQ(0, ioas_create_window(self->fd, self->ioas_id,
					IOMMU_WINDOW_FIXED_BASE, EXACT, &base,
					SZ_64K, &pgsz));
	ASSERT_EQ(SZ_1G, base);
	ASSERT_EQ(PAGE_SZ, pgsz);

	ASSERT_EQ(3, get_windows(self->fd, self->ioas_id, w));
	ASSERT_EQ(0, w[0].base);
	ASSERT_EQ(SZ_1M, w[0].length);
	ASSERT_EQ(PAGE_SZ, w[0].page_size);
	ASSERT_EQ(0, w[0].attrs);
	ASSERT_EQ(SZ_2M, w[1].base);
	ASSERT_EQ(SZ_2M, w[1].page_size);
	ASSERT_EQ(SZ_1G, w[2].base);
	ASSERT_EQ(SZ_64K, w[2].length);
	ASSERT_EQ(EXACT, w[2].attrs);
}

TEST_F(windows, kernel_chosen_base_avoids_aperture_reserved_and_windows)
{
	__u32 stdev, hwpt;
	__u64 base = 0, pgsz;

	ASSERT_EQ(0, attach(self->fd, self->ioas_id, 0, &stdev, &hwpt));
	ASSERT_EQ(0, tcmd_mock_device_add_resv(self->fd, stdev,
					       APERTURE_START, SZ_1M));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, APERTURE_START + SZ_1M,
			       SZ_1M, PAGE_SZ, 0));
	pgsz = PAGE_SZ;
	ASSERT_EQ(0, ioas_create_window(self->fd, self->ioas_id, 0, 0, &base,
					SZ_1M, &pgsz));
	ASSERT_EQ(APERTURE_START + SZ_2M, base);
	/* Too big for what is left of the aperture. */
	ASSERT_EQ(-ENOSPC, ioas_create_window(self->fd, self->ioas_id, 0, 0,
					      &base, SZ_2G, &pgsz));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
}

TEST_F(windows, iova_ranges_report_the_windows)
{
	struct iommu_iova_range r[MAX_WINDOWS];
	__u64 align;
	__u32 num = MAX_WINDOWS, stdev, hwpt;

	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, SZ_1G, SZ_1M,
			       PAGE_SZ, 0));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, SZ_256M, SZ_2M,
			       SZ_64K, 0));
	ASSERT_EQ(0, ioas_iova_ranges(self->fd, self->ioas_id, r, &num,
				      &align));
	ASSERT_EQ(2, num);
	ASSERT_EQ(1, align);
	ASSERT_EQ(SZ_256M, r[0].start);
	ASSERT_EQ(SZ_256M + SZ_2M - 1, r[0].last);
	ASSERT_EQ(SZ_1G, r[1].start);
	ASSERT_EQ(SZ_1G + SZ_1M - 1, r[1].last);
	/* A device inside whose aperture both lie changes only alignment. */
	ASSERT_EQ(0, attach(self->fd, self->ioas_id, 0, &stdev, &hwpt));
	num = 1;
	ASSERT_EQ(-EMSGSIZE, ioas_iova_ranges(self->fd, self->ioas_id, r,
					      &num, &align));
	ASSERT_EQ(2, num);
	ASSERT_EQ(IOPTE_SMALL, align);
	ASSERT_EQ(SZ_256M, r[0].start);
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
}

TEST_F(windows, list_windows_emsgsize_protocol_and_reserved_fields)
{
	struct iommu_ioas_window w[MAX_WINDOWS];
	struct iommu_ioas_list_windows cmd = {
		.size = sizeof(cmd),
		.ioas_id = self->ioas_id,
		.windows = (uintptr_t)w,
	};
	__u64 bases[3] = { SZ_1G, SZ_16M, SZ_256M };
	__u32 plain;
	int i;

	for (i = 0; i != 3; i++)
		ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, bases[i],
				       SZ_1M, PAGE_SZ, 0));

	/* Asking with no room is how to learn the count. */
	cmd.num_windows = 0;
	ASSERT_EQ(-EMSGSIZE, iommufd_ioctl(self->fd, IOMMU_IOAS_LIST_WINDOWS,
					   &cmd));
	ASSERT_EQ(3, cmd.num_windows);
	/* Too little room: what fits is filled, in ascending order. */
	memset(w, 0xa5, sizeof(w));
	cmd.num_windows = 2;
	ASSERT_EQ(-EMSGSIZE, iommufd_ioctl(self->fd, IOMMU_IOAS_LIST_WINDOWS,
					   &cmd));
	ASSERT_EQ(3, cmd.num_windows);
	ASSERT_EQ(SZ_16M, w[0].base);
	ASSERT_EQ(SZ_256M, w[1].base);
	ASSERT_EQ(0, w[1].__reserved);
	ASSERT_EQ(0xa5a5a5a5a5a5a5a5ULL, w[2].base);
	/* Enough room, or more. */
	memset(w, 0xa5, sizeof(w));
	cmd.num_windows = 3;
	ASSERT_EQ(0, iommufd_ioctl(self->fd, IOMMU_IOAS_LIST_WINDOWS, &cmd));
	ASSERT_EQ(3, cmd.num_windows);
	cmd.num_windows = MAX_WINDOWS;
	ASSERT_EQ(0, iommufd_ioctl(self->fd, IOMMU_IOAS_LIST_WINDOWS, &cmd));
	ASSERT_EQ(3, cmd.num_windows);
	for (i = 0; i != 3; i++) {
		ASSERT_EQ(SZ_1M, w[i].length);
		ASSERT_EQ(PAGE_SZ, w[i].page_size);
		ASSERT_EQ(0, w[i].attrs);
		ASSERT_EQ(0, w[i].__reserved);
	}
	ASSERT_EQ(SZ_1G, w[2].base);
	ASSERT_EQ(0xa5a5a5a5a5a5a5a5ULL, w[3].base);

	cmd.__reserved = 1;
	ASSERT_EQ(-EOPNOTSUPP, iommufd_ioctl(self->fd,
					     IOMMU_IOAS_LIST_WINDOWS, &cmd));
	cmd.__reserved = 0;
	/* Only a windowed IOAS has windows. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &plain));
	cmd.ioas_id = plain;
	ASSERT_EQ(-EINVAL, iommufd_ioctl(self->fd, IOMMU_IOAS_LIST_WINDOWS,
					 &cmd));
	cmd.ioas_id = 0;
	ASSERT_EQ(-ENOENT, iommufd_ioctl(self->fd, IOMMU_IOAS_LIST_WINDOWS,
					 &cmd));
}

/* === CREATE_WINDOW refusals === */

TEST_F(windows, create_window_with_unknown_flags_or_attrs_fails_eopnotsupp)
{
	__u64 base = SZ_16M, pgsz = PAGE_SZ;
	unsigned int bit;

	for (bit = 1; bit < 32; bit++) {
		ASSERT_EQ(-EOPNOTSUPP,
			  ioas_create_window(self->fd, self->ioas_id,
					     IOMMU_WINDOW_FIXED_BASE | 1U << bit,
					     0, &base, SZ_1M, &pgsz));
		ASSERT_EQ(-EOPNOTSUPP,
			  ioas_create_window(self->fd, self->ioas_id,
					     IOMMU_WINDOW_FIXED_BASE,
					     EXACT | 1U << bit, &base, SZ_1M,
					     &pgsz));
	}
	ASSERT_EQ(0, count_windows(self->fd, self->ioas_id));
}

TEST_F(windows, create_window_on_a_plain_ioas_fails_einval)
{
	struct iommu_ioas_window w[MAX_WINDOWS];
	__u64 unmapped;
	__u32 plain;

	ASSERT_EQ(0, ioas_alloc(self->fd, &plain));
	ASSERT_EQ(-EINVAL, win_fixed(self->fd, plain, SZ_16M, SZ_1M, PAGE_SZ,
				     0));
	ASSERT_EQ(-EINVAL, ioas_remove_window(self->fd, plain, SZ_16M,
					      &unmapped));
	ASSERT_EQ(-EINVAL, get_windows(self->fd, plain, w));
	ASSERT_EQ(-ENOENT, win_fixed(self->fd, 0, SZ_16M, SZ_1M, PAGE_SZ, 0));
}

TEST_F(windows, overlapping_windows_fail_eexist)
{
	const __u64 b = SZ_256M, len = 16 * PAGE_SZ;
	struct {
		__u64 base;
		__u64 len;
	} clash[] = {
		{ b, len },			/* the same */
		{ b - PAGE_SZ, 2 * PAGE_SZ },	/* its head */
		{ b + len - PAGE_SZ, 2 * PAGE_SZ }, /* its tail */
		{ b + PAGE_SZ, PAGE_SZ },	/* inside */
		{ b - PAGE_SZ, len + 2 * PAGE_SZ }, /* around */
	};
	struct iommu_ioas_window w[MAX_WINDOWS];
	int i;

	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, b, len, PAGE_SZ, 0));
	for (i = 0; i != ARRAY_SIZE(clash); i++)
		ASSERT_EQ(-EEXIST, win_fixed(self->fd, self->ioas_id,
					     clash[i].base, clash[i].len,
					     PAGE_SZ, 0));
	/* Whatever the page size. */
	ASSERT_EQ(-EEXIST, win_fixed(self->fd, self->ioas_id, b, SZ_64K,
				     SZ_64K, 0));
	/* Adjacent on both sides is fine. */
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, b - PAGE_SZ, PAGE_SZ,
			       PAGE_SZ, 0));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, b + len, PAGE_SZ,
			       PAGE_SZ, 0));
	ASSERT_EQ(3, get_windows(self->fd, self->ioas_id, w));
}

TEST_F(windows, unaligned_or_empty_or_wrapping_window_fails)
{
	ASSERT_EQ(-EINVAL, win_fixed(self->fd, self->ioas_id, SZ_16M + 512,
				     PAGE_SZ, PAGE_SZ, 0));
	ASSERT_EQ(-EINVAL, win_fixed(self->fd, self->ioas_id, SZ_16M,
				     PAGE_SZ + 512, PAGE_SZ, 0));
	ASSERT_EQ(-EINVAL, win_fixed(self->fd, self->ioas_id, SZ_16M + SZ_64K,
				     SZ_2M, SZ_2M, 0));
	ASSERT_EQ(-EINVAL, win_fixed(self->fd, self->ioas_id, SZ_16M, 0,
				     PAGE_SZ, 0));
	ASSERT_EQ(-EOVERFLOW, win_fixed(self->fd, self->ioas_id,
					ULONG_MAX - PAGE_SZ + 1, 2 * PAGE_SZ,
					PAGE_SZ, 0));
	ASSERT_EQ(0, count_windows(self->fd, self->ioas_id));
}

TEST_F(windows, page_size_not_a_power_of_two_fails_einval)
{
	__u64 pgsz[] = { 3 * PAGE_SZ, 3, PAGE_SZ + 1, 6 * SZ_64K };
	int i;

	for (i = 0; i != ARRAY_SIZE(pgsz); i++)
		ASSERT_EQ(-EINVAL, win_fixed(self->fd, self->ioas_id, 0,
					     pgsz[i] * 16, pgsz[i], 0));
}

TEST_F(windows, page_size_an_attached_iommu_cannot_map_fails_einval)
{
	__u32 stdev, hwpt;

	ASSERT_EQ(0, attach(self->fd, self->ioas_id, 0, &stdev, &hwpt));
	/* Below the smallest IOPTE, PAGE_SIZE / 2. */
	ASSERT_EQ(-EINVAL, win_fixed(self->fd, self->ioas_id, SZ_256M, SZ_1M,
				     PAGE_SZ / 4, 0));
	/* The smallest IOPTE and any multiple of it are fine. */
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, SZ_256M, SZ_1M,
			       IOPTE_SMALL, 0));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, SZ_512M, SZ_1M,
			       SZ_64K, 0));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
}

TEST_F(windows, exact_window_needs_a_page_size_that_is_an_iopte_size)
{
	__u32 stdev, hwpt, stdev2;

	ASSERT_EQ(0, attach(self->fd, self->ioas_id, 0, &stdev, &hwpt));
	/* PAGE_SIZE is a multiple of the IOPTE size, but not one. */
	ASSERT_EQ(-EINVAL, win_fixed(self->fd, self->ioas_id, SZ_256M, SZ_1M,
				     PAGE_SZ, EXACT));
	ASSERT_EQ(-EINVAL, win_fixed(self->fd, self->ioas_id, SZ_256M, SZ_2M,
				     IOPTE_HUGE, EXACT));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, SZ_256M, SZ_1M,
			       IOPTE_SMALL, EXACT));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));

	/* A huge-IOVA IOMMU has both sizes, and no other. */
	ASSERT_EQ(0, attach(self->fd, self->ioas_id, HUGE_DEV, &stdev2,
			    &hwpt));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, SZ_512M, SZ_2M,
			       IOPTE_HUGE, EXACT));
	ASSERT_EQ(-EINVAL, win_fixed(self->fd, self->ioas_id, SZ_1G, SZ_2M,
				     SZ_2M, EXACT));
	ASSERT_EQ(-EINVAL, win_fixed(self->fd, self->ioas_id, SZ_1G, SZ_1M,
				     PAGE_SZ, EXACT));
	/* Without the attribute a multiple is fine. */
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, SZ_1G, SZ_2M, SZ_2M,
			       0));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev2));
}

TEST_F(windows, window_outside_the_aperture_fails_eaddrinuse)
{
	struct layout before, after;
	__u32 stdev, hwpt;

	ASSERT_EQ(0, attach(self->fd, self->ioas_id, 0, &stdev, &hwpt));
	layout_get(self->fd, self->ioas_id, &before);
	/* Below, straddling the start, straddling the end, above. */
	ASSERT_EQ(-EADDRINUSE, win_fixed(self->fd, self->ioas_id, 0, SZ_1M,
					 PAGE_SZ, 0));
	ASSERT_EQ(-EADDRINUSE, win_fixed(self->fd, self->ioas_id,
					 APERTURE_START - SZ_1M, SZ_2M,
					 PAGE_SZ, 0));
	ASSERT_EQ(-EADDRINUSE, win_fixed(self->fd, self->ioas_id,
					 SZ_2G - SZ_1M, SZ_2M, PAGE_SZ, 0));
	ASSERT_EQ(-EADDRINUSE, win_fixed(self->fd, self->ioas_id, SZ_2G,
					 SZ_1M, PAGE_SZ, 0));
	ASSERT_EQ(-EADDRINUSE, win_fixed(self->fd, self->ioas_id, 1ULL << 60,
					 SZ_1G, SZ_1M, 0));
	layout_get(self->fd, self->ioas_id, &after);
	ASSERT_TRUE(layout_equal(&before, &after));
	/* The whole aperture, exactly, is fine. */
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, APERTURE_START,
			       APERTURE_LAST - APERTURE_START + 1, PAGE_SZ,
			       0));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
}

TEST_F(windows, window_over_a_reserved_region_fails_eaddrinuse)
{
	const __u64 resv = SZ_256M;
	__u32 stdev, hwpt;

	ASSERT_EQ(0, attach(self->fd, self->ioas_id, 0, &stdev, &hwpt));
	ASSERT_EQ(0, tcmd_mock_device_add_resv(self->fd, stdev, resv, SZ_1M));
	ASSERT_EQ(-EADDRINUSE, win_fixed(self->fd, self->ioas_id, resv,
					 SZ_1M, PAGE_SZ, 0));
	ASSERT_EQ(-EADDRINUSE, win_fixed(self->fd, self->ioas_id,
					 resv - PAGE_SZ, 2 * PAGE_SZ,
					 PAGE_SZ, 0));
	ASSERT_EQ(-EADDRINUSE, win_fixed(self->fd, self->ioas_id,
					 resv + SZ_1M - PAGE_SZ, 2 * PAGE_SZ,
					 PAGE_SZ, 0));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, resv + SZ_1M, SZ_1M,
			       PAGE_SZ, 0));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, resv - SZ_1M, SZ_1M,
			       PAGE_SZ, 0));
	/* And the other way round: no reserved region over a window. */
	ASSERT_EQ(-EADDRINUSE, tcmd_mock_device_add_resv(self->fd, stdev,
							 resv + SZ_1M,
							 PAGE_SZ));
	ASSERT_EQ(-EADDRINUSE, tcmd_add_reserved(self->fd, self->ioas_id,
						 resv - PAGE_SZ, PAGE_SZ));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));

	/* An IOAS-wide reserved range (the test op) blocks windows too. */
	ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id, SZ_1G, SZ_1M));
	ASSERT_EQ(-EADDRINUSE, win_fixed(self->fd, self->ioas_id, SZ_1G,
					 SZ_2M, PAGE_SZ, 0));
}

TEST_F(windows, allow_iovas_on_a_windowed_ioas_fails_einval)
{
	struct iommu_iova_range r = { SZ_16M, SZ_1G - 1 };

	ASSERT_EQ(-EINVAL, ioas_allow_iovas(self->fd, self->ioas_id, &r, 1));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, SZ_16M, SZ_1M, PAGE_SZ,
			       0));
	ASSERT_EQ(-EINVAL, ioas_allow_iovas(self->fd, self->ioas_id, &r, 1));
}

/* === REMOVE_WINDOW === */

TEST_F(windows, remove_of_a_window_that_does_not_exist_fails_enoent)
{
	__u64 unmapped;

	ASSERT_EQ(-ENOENT, ioas_remove_window(self->fd, self->ioas_id, SZ_16M,
					      &unmapped));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, SZ_16M, SZ_1M, PAGE_SZ,
			       0));
	/* Only the base names a window. */
	ASSERT_EQ(-ENOENT, ioas_remove_window(self->fd, self->ioas_id,
					      SZ_16M + PAGE_SZ, &unmapped));
	ASSERT_EQ(-ENOENT, ioas_remove_window(self->fd, self->ioas_id,
					      SZ_16M + SZ_1M, &unmapped));
	ASSERT_EQ(-ENOENT, ioas_remove_window(self->fd, self->ioas_id,
					      ALL_IOVA, &unmapped));
	ASSERT_EQ(0, ioas_remove_window(self->fd, self->ioas_id, SZ_16M,
					&unmapped));
	ASSERT_EQ(-ENOENT, ioas_remove_window(self->fd, self->ioas_id, SZ_16M,
					      &unmapped));
}

TEST_F(windows, remove_window_unmaps_and_unpins_only_its_mappings)
{
	struct iommu_iova_range r[MAX_WINDOWS];
	const __u64 a = SZ_256M, b = SZ_512M;
	__u64 unmapped;
	__u32 stdev, hwpt;

	ASSERT_EQ(0, attach(self->fd, self->ioas_id, 0, &stdev, &hwpt));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, a, SZ_1M, PAGE_SZ, 0));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, b, SZ_1M, PAGE_SZ, 0));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE / 2, a));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
				    self->buf + BUF_SIZE / 2, PAGE_SZ,
				    a + SZ_64K));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
				    self->buf + BUF_SIZE / 2 + PAGE_SZ,
				    BUF_SIZE / 2 - PAGE_SZ, b));
	ASSERT_EQ(self->vm_pin + BUF_SIZE / 1024, vm_pin_kb());

	ASSERT_EQ(0, ioas_remove_window(self->fd, self->ioas_id, a,
					&unmapped));
	ASSERT_EQ(BUF_SIZE / 2 + PAGE_SZ, unmapped);
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf,
				     BUF_SIZE / 2 + PAGE_SZ, 0));
	ASSERT_EQ(0, tcmd_check_refs(self->fd,
				     self->buf + BUF_SIZE / 2 + PAGE_SZ,
				     BUF_SIZE / 2 - PAGE_SZ, 1));
	ASSERT_NE(0, tcmd_check_map(self->fd, hwpt, a, self->buf, PAGE_SZ));
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, b,
				    self->buf + BUF_SIZE / 2 + PAGE_SZ,
				    BUF_SIZE / 2 - PAGE_SZ));
	ASSERT_EQ(self->vm_pin + (BUF_SIZE / 2 - PAGE_SZ) / 1024,
		  vm_pin_kb());
	ASSERT_EQ(1, get_ranges(self->fd, self->ioas_id, r));
	ASSERT_EQ(b, r[0].start);
	/* Its IOVA is no longer usable. */
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  PAGE_SZ, a));

	ASSERT_EQ(0, ioas_remove_window(self->fd, self->ioas_id, b,
					&unmapped));
	ASSERT_EQ(BUF_SIZE / 2 - PAGE_SZ, unmapped);
	ASSERT_EQ(self->vm_pin, vm_pin_kb());
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
}

TEST_F(windows, remove_window_makes_an_access_drop_its_pins)
{
	const __u64 a = SZ_256M;
	__u64 unmapped;
	__u32 item;
	int access_fd;

	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, a, SZ_1M, PAGE_SZ, 0));
	ASSERT_EQ(0, tcmd_access_create(self->fd, self->ioas_id, PIN_ACCESS,
					&access_fd));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, a));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, access_fd, a + PAGE_SZ,
				     2 * PAGE_SZ, self->buf + PAGE_SZ,
				     MOCK_FLAGS_ACCESS_WRITE, &item));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf + PAGE_SZ,
				     2 * PAGE_SZ, 1));
	ASSERT_EQ(0, ioas_remove_window(self->fd, self->ioas_id, a,
					&unmapped));
	ASSERT_EQ(BUF_SIZE, unmapped);
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(-ENOENT, tcmd_access_unpin(self->fd, access_fd, item));
	close(access_fd);
}

/*
 * A MAP larger than one lock section fills the domains outside the IOAS's
 * lock, its areas in the tree but not ready; here it waits for a page
 * that userfaultfd holds back. REMOVE_WINDOW called meanwhile sleeps
 * until that MAP is done instead of failing, and a SIGKILL ends the sleep
 * at once with the window and the mapping as they were. (A kernel that
 * polled in a loop for the MAP to finish could not be killed until the
 * page arrived.)
 */
#define HELD_LEN SZ_1M
#define HELD_BASE SZ_256M

struct held_map {
	int fd;
	__u32 ioas_id;
	char *buf;
	int rc;
	int done;
};

static void *held_mapper(void *arg)
{
	struct held_map *m = arg;

	m->rc = ioas_map_fixed(m->fd, m->ioas_id, m->buf, HELD_LEN, HELD_BASE);
	__atomic_store_n(&m->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Wait up to 10 s for the held page's fault; false if the MAP ended. */
static bool held_fault_seen(int uffd, struct held_map *m)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;
	int tries;

	for (tries = 0; tries != 100; tries++) {
		if (read(uffd, &msg, sizeof(msg)) == sizeof(msg))
			return msg.event == UFFD_EVENT_PAGEFAULT;
		if (__atomic_load_n(&m->done, __ATOMIC_ACQUIRE))
			return false;
		poll(&pfd, 1, 100);
	}
	return false;
}

/* The child: on a byte from @go, REMOVE_WINDOW; its result to @out. */
static void remove_window_child(int fd, __u32 ioas_id, int go, int out)
{
	__u64 unmapped;
	int rc;
	char c;

	if (read(go, &c, 1) != 1)
		_exit(2);
	rc = ioas_remove_window(fd, ioas_id, HELD_BASE, &unmapped);
	if (write(out, &rc, sizeof(rc)) != sizeof(rc))
		_exit(3);
	_exit(0);
}

/* Reap @pid within @ms milliseconds; true if it was reaped. */
static bool reaped_within(pid_t pid, int ms, int *status)
{
	for (; ms > 0; ms -= 10) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
		usleep(10000);
	}
	return false;
}

TEST_F(windows, remove_window_sleeps_for_a_held_map_and_sigkill_ends_it)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_copy copy = {};
	struct held_map m = { .fd = self->fd, .ioas_id = self->ioas_id };
	struct pollfd out_ready;
	bool waited, killed;
	int go[2], out[2], status, uffd, rc;
	__u64 unmapped;
	__u32 stdev, hwpt;
	pthread_t thread;
	char *src;
	pid_t pid;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	ASSERT_EQ(0, attach(self->fd, self->ioas_id, 0, &stdev, &hwpt));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, HELD_BASE, SZ_16M,
			       PAGE_SZ, 0));
	m.buf = buf_alloc_written(HELD_LEN, 3);
	src = buf_alloc_written(PAGE_SZ, 4);
	ASSERT_NE(NULL, m.buf);
	ASSERT_NE(NULL, src);
	/* The last page is missing until userfaultfd hands it over. */
	ASSERT_EQ(0, madvise(m.buf + HELD_LEN - PAGE_SZ, PAGE_SZ,
			     MADV_DONTNEED));
	reg.range.start = (uintptr_t)m.buf + HELD_LEN - PAGE_SZ;
	reg.range.len = PAGE_SZ;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(out));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(go[1]);
		close(out[0]);
		remove_window_child(self->fd, self->ioas_id, go[0], out[1]);
	}
	close(go[0]);
	close(out[1]);

	ASSERT_EQ(0, pthread_create(&thread, NULL, held_mapper, &m));
	if (!held_fault_seen(uffd, &m)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ASSERT_EQ(0, pthread_join(thread, NULL));
		/* 6.1: a long-term pin fails at a userfaultfd page. */
		ASSERT_EQ(-EFAULT, m.rc);
		SKIP(return, "long-term pins do not wait for userfaultfd here");
	}

	/* REMOVE_WINDOW goes in, and stays in: it neither fails nor ends. */
	ASSERT_EQ(1, write(go[1], "x", 1));
	out_ready = (struct pollfd){ .fd = out[0], .events = POLLIN };
	waited = poll(&out_ready, 1, 500) == 0;
	kill(pid, SIGKILL);
	killed = reaped_within(pid, 3000, &status);

	/* Whatever happened, let the MAP finish, then judge. */
	copy.dst = reg.range.start;
	copy.src = (uintptr_t)src;
	copy.len = PAGE_SZ;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_COPY, &copy));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	if (!killed)
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, m.rc);
	ASSERT_TRUE(waited);
	ASSERT_TRUE(killed);
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGKILL, WTERMSIG(status));

	/* The window and the mapping are as they were. */
	ASSERT_EQ(1, count_windows(self->fd, self->ioas_id));
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, HELD_BASE, m.buf,
				    HELD_LEN));
	ASSERT_EQ(self->vm_pin + HELD_LEN / 1024, vm_pin_kb());
	rc = ioas_remove_window(self->fd, self->ioas_id, HELD_BASE, &unmapped);
	ASSERT_EQ(0, rc);
	ASSERT_EQ(HELD_LEN, unmapped);
	ASSERT_EQ(self->vm_pin, vm_pin_kb());
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	close(uffd);
	munmap(m.buf, HELD_LEN);
	munmap(src, PAGE_SZ);
}

/* === MAP, UNMAP and COPY inside windows === */

TEST_F(windows, map_outside_straddling_or_misaligned_fails_einval)
{
	const __u64 a = SZ_256M, len = SZ_1M;
	__u64 unmapped;

	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, a, len, SZ_64K, 0));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, a + len, len, SZ_64K,
			       0));
	/* Outside any window, partly outside. */
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  SZ_64K, a - SZ_64K));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  SZ_64K, a + 2 * len));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  2 * SZ_64K, a - SZ_64K));
	/* Over the boundary of two adjacent windows. */
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  2 * SZ_64K, a + len - SZ_64K));
	/* Not aligned to the window's page size: IOVA, length, both. */
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  SZ_64K, a + PAGE_SZ));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  PAGE_SZ, a));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  SZ_64K - PAGE_SZ, a + PAGE_SZ));
	/* A kernel-chosen IOVA needs a length of whole window pages. */
	ASSERT_EQ(-ENOSPC, ioas_map(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, NULL));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA,
				&unmapped));
	ASSERT_EQ(0, unmapped);
	/* What fits is fine, at both ends of a window. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_64K, a));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_64K, a + len - SZ_64K));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA,
				&unmapped));
	ASSERT_EQ(2 * SZ_64K, unmapped);
}

TEST_F(windows, auto_iova_lands_inside_a_window_on_its_page_size)
{
	const __u64 a = SZ_256M, b = SZ_512M;
	__u64 iova;
	int i;

	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, a, 4 * PAGE_SZ,
			       PAGE_SZ, 0));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, b, SZ_1M, SZ_64K, 0));
	/* 4K mappings fill the 4K window, then find no room. */
	for (i = 0; i != 4; i++) {
		ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id,
				      self->buf + i * PAGE_SZ, PAGE_SZ,
				      &iova));
		ASSERT_TRUE(inside(iova, PAGE_SZ, a, a + 4 * PAGE_SZ - 1));
	}
	ASSERT_EQ(-ENOSPC, ioas_map(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, &iova));
	/* A 64K mapping can only go to the 64K window. */
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, self->buf, SZ_64K,
			      &iova));
	ASSERT_TRUE(inside(iova, SZ_64K, b, b + SZ_1M - 1));
	ASSERT_EQ(0, iova % SZ_64K);
}

/* @len bytes of address space with nothing behind it, @align aligned. */
static char *va_reserve(size_t len, size_t align, void **map, size_t *map_len)
{
	char *p;

	*map_len = len + align;
	p = mmap(NULL, *map_len, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	*map = p;
	return (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
}

/* From PAGE_SZ to the top but one page: almost all the IOVA there is. */
#define HUGE_WIN_BASE PAGE_SZ
#define HUGE_WIN_LEN (0ULL - 2 * PAGE_SZ)
#define HALF_IOVA 0x8000000000000000ULL

/*
 * Nothing is attached, so MAP pins nothing and any length the address
 * space can hold is accepted: the alignment of the IOVA is all there is
 * to see.
 */
TEST_F(windows, auto_map_keeps_the_2m_alignment_of_the_user_address)
{
	size_t map_len;
	__u64 iova;
	void *map;
	char *va;

	va = va_reserve(SZ_16M, SZ_2M, &map, &map_len);
	ASSERT_NE(NULL, va);
	/* A window that is itself not 2 MiB aligned. */
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, HUGE_WIN_BASE,
			       HUGE_WIN_LEN, PAGE_SZ, 0));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, va, SZ_2M, &iova));
	ASSERT_EQ(0, iova % SZ_2M);
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, va, SZ_16M, &iova));
	ASSERT_EQ(0, iova % SZ_2M);
	/* A quarter of the IOVA space still keeps it. */
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, va, HALF_IOVA / 2,
			      &iova));
	ASSERT_EQ(0, iova % SZ_2M);
	ASSERT_TRUE(inside(iova, HALF_IOVA / 2, HUGE_WIN_BASE,
			   HUGE_WIN_BASE + HUGE_WIN_LEN - 1));
	munmap(map, map_len);
}

/*
 * As without windows, an automatic IOVA for half the IOVA space or more
 * is refused: rounding such a length up to a power of two does not fit
 * a long. (A kernel that did it anyway shifted by 64 and placed a 2 MiB
 * aligned buffer at the bottom of the window, 4 KiB aligned.)
 */
TEST_F(windows, auto_map_of_half_the_iova_space_fails_eoverflow)
{
	const __u64 lengths[] = { HALF_IOVA + SZ_2M, HUGE_WIN_LEN,
				  HALF_IOVA, HALF_IOVA - 1 };
	__u64 iova, unmapped;
	size_t map_len;
	unsigned int i;
	void *map;
	char *va;

	va = va_reserve(SZ_2M, SZ_2M, &map, &map_len);
	ASSERT_NE(NULL, va);
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, HUGE_WIN_BASE,
			       HUGE_WIN_LEN, PAGE_SZ, 0));
	for (i = 0; i < ARRAY_SIZE(lengths); i++) {
		__u64 len = lengths[i];

		iova = 0;
		ASSERT_EQ(-EOVERFLOW, ioas_map(self->fd, self->ioas_id, va,
					       len, &iova))
			TH_LOG("length %#llx got IOVA %#llx",
			       (unsigned long long)len,
			       (unsigned long long)iova);
	}
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA,
				&unmapped));
	ASSERT_EQ(0, unmapped);
	/* At a fixed IOVA the length is fine: no rounding is involved. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, va,
				    HALF_IOVA + SZ_2M, SZ_2M));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA,
				&unmapped));
	ASSERT_EQ(HALF_IOVA + SZ_2M, unmapped);
	munmap(map, map_len);
}

TEST_F(windows, unmap_outside_straddling_or_misaligned_fails_einval)
{
	const __u64 a = SZ_256M, len = SZ_1M;
	__u64 unmapped;

	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, a, len, SZ_64K, 0));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, a + len, len, SZ_64K,
			       0));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_64K, a));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_64K, a + len));
	ASSERT_EQ(-EINVAL, ioas_unmap(self->fd, self->ioas_id, 0, SZ_1G,
				      &unmapped));
	ASSERT_EQ(-EINVAL, ioas_unmap(self->fd, self->ioas_id, a - SZ_64K,
				      2 * SZ_64K, &unmapped));
	ASSERT_EQ(-EINVAL, ioas_unmap(self->fd, self->ioas_id, a, 2 * len,
				      &unmapped));
	ASSERT_EQ(-EINVAL, ioas_unmap(self->fd, self->ioas_id, a, PAGE_SZ,
				      &unmapped));
	ASSERT_EQ(-EINVAL, ioas_unmap(self->fd, self->ioas_id, a + PAGE_SZ,
				      SZ_64K, &unmapped));
	/* A whole window works, and so does everything. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, a, len, &unmapped));
	ASSERT_EQ(SZ_64K, unmapped);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA,
				&unmapped));
	ASSERT_EQ(SZ_64K, unmapped);
}

TEST_F(windows, copy_needs_compatible_windows)
{
	const __u64 a = SZ_256M, b = SZ_512M, c = SZ_1G, d = SZ_1G + SZ_256M;
	__u32 other, plain;
	__u64 iova;

	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, a, SZ_1M, PAGE_SZ, 0));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, a));
	ASSERT_EQ(0, ioas_alloc_windowed(self->fd, &other));
	/* b: same page size, same attributes; c: 64K; d: exact IOPTEs. */
	ASSERT_EQ(0, win_fixed(self->fd, other, b, SZ_1M, PAGE_SZ, 0));
	ASSERT_EQ(0, win_fixed(self->fd, other, c, SZ_1M, SZ_64K, 0));
	ASSERT_EQ(0, win_fixed(self->fd, other, d, SZ_1M, PAGE_SZ, EXACT));

	iova = c;
	ASSERT_EQ(-EINVAL, ioas_copy(self->fd, other, &iova, self->ioas_id, a,
				     SZ_64K, FIXED_RW));
	iova = d;
	ASSERT_EQ(-EINVAL, ioas_copy(self->fd, other, &iova, self->ioas_id, a,
				     SZ_64K, FIXED_RW));
	iova = b;
	ASSERT_EQ(0, ioas_copy(self->fd, other, &iova, self->ioas_id, a,
			       SZ_64K, FIXED_RW));
	/* A source range must lie in one window too. */
	iova = b + SZ_64K;
	ASSERT_EQ(-EINVAL, ioas_copy(self->fd, other, &iova, self->ioas_id,
				     a - PAGE_SZ, 2 * PAGE_SZ, FIXED_RW));
	/* Out of and into a plain IOAS there are no windows to compare. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &plain));
	iova = SZ_1G;
	ASSERT_EQ(0, ioas_copy(self->fd, plain, &iova, other, b, SZ_64K,
			       FIXED_RW));
	iova = c;
	ASSERT_EQ(0, ioas_copy(self->fd, other, &iova, plain, SZ_1G, SZ_64K,
			       FIXED_RW));

	/*
	 * With the IOVA left to the kernel, only a compatible window will
	 * do; with none left, there is no room: ENOSPC, as for MAP.
	 */
	ASSERT_EQ(0, iommufd_destroy(self->fd, plain));
	ASSERT_EQ(0, ioas_remove_window(self->fd, other, b, &iova));
	ASSERT_EQ(-ENOSPC, ioas_copy(self->fd, other, &iova, self->ioas_id, a,
				     SZ_64K, RW));
}

/* === Attaching re-checks the windows === */

TEST_F(windows, attach_rechecks_every_window_without_side_effects)
{
	struct layout before, after;
	__u32 stdev, hwpt, plain, pdev, phwpt;
	__u64 unmapped;

	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, SZ_256M, SZ_1M,
			       PAGE_SZ, 0));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, SZ_256M));

	/* A window the aperture does not cover. */
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, 0, SZ_1M, PAGE_SZ, 0));
	layout_get(self->fd, self->ioas_id, &before);
	ASSERT_EQ(2, before.nwin);
	ASSERT_EQ(-EADDRINUSE, attach(self->fd, self->ioas_id, 0, &stdev,
				      &hwpt));
	layout_get(self->fd, self->ioas_id, &after);
	ASSERT_TRUE(layout_equal(&before, &after));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(self->vm_pin, vm_pin_kb());
	ASSERT_EQ(0, ioas_remove_window(self->fd, self->ioas_id, 0,
					&unmapped));

	/* A page size below the IOMMU's smallest IOPTE. */
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, SZ_512M, SZ_1M,
			       PAGE_SZ / 4, 0));
	layout_get(self->fd, self->ioas_id, &before);
	EXPECT_EQ(-EINVAL, attach(self->fd, self->ioas_id, 0, &stdev, &hwpt));
	layout_get(self->fd, self->ioas_id, &after);
	ASSERT_TRUE(layout_equal(&before, &after));
	ASSERT_EQ(0, ioas_remove_window(self->fd, self->ioas_id, SZ_512M,
					&unmapped));

	/* An exact window of an IOPTE size the IOMMU does not have. */
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, SZ_1G, SZ_1M,
			       IOPTE_HUGE, EXACT));
	layout_get(self->fd, self->ioas_id, &before);
	ASSERT_EQ(-EINVAL, attach(self->fd, self->ioas_id, 0, &stdev, &hwpt));
	layout_get(self->fd, self->ioas_id, &after);
	ASSERT_TRUE(layout_equal(&before, &after));
	ASSERT_EQ(self->vm_pin, vm_pin_kb());

	/*
	 * A device with a reserved region under a window, moved from a
	 * plain IOAS: refused, and it stays where it was.
	 */
	ASSERT_EQ(0, ioas_alloc(self->fd, &plain));
	ASSERT_EQ(0, attach(self->fd, plain, HUGE_DEV, &pdev, &phwpt));
	ASSERT_EQ(0, tcmd_mock_device_add_resv(self->fd, pdev,
					       SZ_256M + SZ_64K, PAGE_SZ));
	layout_get(self->fd, self->ioas_id, &before);
	ASSERT_EQ(-EADDRINUSE, tcmd_mock_domain_replace(self->fd, pdev,
							self->ioas_id,
							&hwpt));
	layout_get(self->fd, self->ioas_id, &after);
	ASSERT_TRUE(layout_equal(&before, &after));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	/* Still on the plain IOAS: it holds the IOAS. */
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, plain));

	/* Nothing attached half-way: the windowed IOAS can go. */
	ASSERT_EQ(0, iommufd_destroy(self->fd, pdev));
	ASSERT_EQ(0, iommufd_destroy(self->fd, plain));
	/* And a device that fits every window attaches and maps it all. */
	ASSERT_EQ(0, attach(self->fd, self->ioas_id, HUGE_DEV, &stdev, &hwpt));
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, SZ_256M, self->buf,
				    BUF_SIZE));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->ioas_id));
}

/* === Exact IOPTE windows === */

static int iopte_stats(int fd, __u32 hwpt, __u64 iova, __u64 len,
		       struct iommu_test_iopte_stats *st)
{
	return tcmd_md_iopte_stats(fd, hwpt, iova, len, st);
}

TEST_F(windows, exact_small_window_maps_only_small_ioptes)
{
	struct iommu_test_iopte_stats st;
	const __u64 a = SZ_256M, b = SZ_512M;
	struct big_buf big;
	__u32 stdev, hwpt;

	ASSERT_EQ(0, attach(self->fd, self->ioas_id, HUGE_DEV, &stdev, &hwpt));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, a, SZ_16M, IOPTE_SMALL,
			       EXACT));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, a));
	ASSERT_EQ(0, iopte_stats(self->fd, hwpt, a, BUF_SIZE, &st));
	ASSERT_EQ(BUF_SIZE / IOPTE_SMALL, st.small);
	ASSERT_EQ(0, st.huge);
	ASSERT_EQ(0, st.unmapped);
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, a, self->buf, BUF_SIZE));

	if (big_buf_alloc(&big)) {
		ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
		SKIP(return, "no physically contiguous 2M memory");
	}
	/* Even memory that could take 1M IOPTEs gets small ones only ... */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, big.buf, SZ_2M,
				    a + SZ_2M));
	ASSERT_EQ(0, iopte_stats(self->fd, hwpt, a + SZ_2M, SZ_2M, &st));
	ASSERT_EQ(SZ_2M / IOPTE_SMALL, st.small);
	ASSERT_EQ(0, st.huge);
	/* ... where a window without the attribute lets it have huge ones. */
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, b, SZ_16M, PAGE_SZ,
			       0));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, big.buf, SZ_2M,
				    b));
	ASSERT_EQ(0, iopte_stats(self->fd, hwpt, b, SZ_2M, &st));
	ASSERT_EQ(2, st.huge);
	ASSERT_EQ(0, st.small);
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	big_buf_free(&big);
}

TEST_F(windows, exact_huge_window_maps_only_huge_ioptes)
{
	struct iommu_test_iopte_stats st;
	const __u64 a = SZ_256M;
	struct big_buf big;
	__u32 stdev, hwpt;
	__u64 unmapped;

	ASSERT_EQ(0, attach(self->fd, self->ioas_id, HUGE_DEV, &stdev, &hwpt));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, a, SZ_16M, IOPTE_HUGE,
			       EXACT));
	if (big_buf_alloc(&big)) {
		ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
		SKIP(return, "no physically contiguous 2M memory");
	}
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, big.buf, SZ_2M,
				    a));
	ASSERT_EQ(0, iopte_stats(self->fd, hwpt, a, SZ_2M, &st));
	ASSERT_EQ(2, st.huge);
	ASSERT_EQ(0, st.small);
	ASSERT_EQ(0, st.unmapped);
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, a, big.buf, SZ_2M));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, a, SZ_2M,
				&unmapped));
	ASSERT_EQ(SZ_2M, unmapped);
	/* Physically misaligned: 1M of IOVA over [4K, 1M + 4K) of memory. */
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id,
					  big.buf + PAGE_SZ, SZ_1M, a));
	ASSERT_EQ(0, iopte_stats(self->fd, hwpt, a, SZ_2M, &st));
	ASSERT_EQ(SZ_2M, st.unmapped);
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	big_buf_free(&big);
}

TEST_F(windows, exact_huge_window_refuses_memory_that_is_not_contiguous)
{
	struct iommu_test_iopte_stats st;
	const __u64 a = SZ_256M;
	__u32 stdev, hwpt;
	__u64 iova;
	char *buf;

	buf = noncontig_alloc(SZ_1M);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(1, phys_contig(buf, SZ_1M, SZ_1M));
	ASSERT_EQ(0, attach(self->fd, self->ioas_id, HUGE_DEV, &stdev, &hwpt));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, a, SZ_16M, IOPTE_HUGE,
			       EXACT));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, buf, SZ_1M,
					  a));
	ASSERT_EQ(-EINVAL, ioas_map(self->fd, self->ioas_id, buf, SZ_1M,
				    &iova));
	ASSERT_EQ(0, iopte_stats(self->fd, hwpt, a, SZ_1M, &st));
	ASSERT_EQ(SZ_1M, st.unmapped);
	ASSERT_EQ(0, tcmd_check_refs(self->fd, buf, SZ_1M, 0));
	ASSERT_EQ(self->vm_pin, vm_pin_kb());
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	munmap(buf, SZ_1M);
}

/*
 * With nothing attached an exact window maps nothing yet, so memory that
 * is not contiguous is accepted; the first domain then cannot be filled
 * and the attach fails, leaving everything as it was.
 */
TEST_F(windows, attach_fails_einval_when_an_exact_window_holds_scattered_memory)
{
	struct layout before, after;
	const __u64 a = SZ_256M;
	__u32 stdev, hwpt;
	__u64 unmapped;
	char *buf;

	buf = noncontig_alloc(SZ_1M);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, a, SZ_16M, IOPTE_HUGE,
			       EXACT));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, buf, SZ_1M, a));
	layout_get(self->fd, self->ioas_id, &before);
	ASSERT_EQ(-EINVAL, attach(self->fd, self->ioas_id, HUGE_DEV, &stdev,
				  &hwpt));
	layout_get(self->fd, self->ioas_id, &after);
	ASSERT_TRUE(layout_equal(&before, &after));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, buf, SZ_1M, 0));
	ASSERT_EQ(self->vm_pin, vm_pin_kb());
	/* The mapping is still there and still the caller's to remove. */
	ASSERT_EQ(0, ioas_remove_window(self->fd, self->ioas_id, a,
					&unmapped));
	ASSERT_EQ(SZ_1M, unmapped);
	ASSERT_EQ(0, attach(self->fd, self->ioas_id, HUGE_DEV, &stdev, &hwpt));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	munmap(buf, SZ_1M);
}

/* === Concurrency === */

#define RACE_SECONDS 2.0
#define RACE_BASE SZ_256M
#define RACE_LEN SZ_16M

struct race {
	int fd;
	__u32 ioas_id;
	char *buf;
	long vm_pin;
	int stop;
	pthread_mutex_t lock;
	char err[160];
	/* Retry a REMOVE_WINDOW that fails with EBUSY, and count it. */
	bool retry_ebusy;
	unsigned long maps, removes, ebusy;
};

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool race_stopped(struct race *race)
{
	return __atomic_load_n(&race->stop, __ATOMIC_ACQUIRE);
}

static void race_fail(struct race *race, const char *what, int rc)
{
	pthread_mutex_lock(&race->lock);
	if (!race->err[0])
		snprintf(race->err, sizeof(race->err), "%s: %d (%s)", what, rc,
			 strerror(-rc));
	pthread_mutex_unlock(&race->lock);
	__atomic_store_n(&race->stop, 1, __ATOMIC_RELEASE);
}

/*
 * Fixed maps go to the top of the raced window, automatic ones to its
 * bottom (the lowest free IOVA), so the two mappers never collide.
 */
#define RACE_FIXED_TOP (RACE_BASE + RACE_LEN - BUF_SIZE)

struct race_mapper {
	struct race *race;
	bool fixed;
	pthread_t thread;
};

/* Map a page into the raced window and unmap it, again and again. */
static void *race_mapper(void *arg)
{
	struct race_mapper *m = arg;
	struct race *race = m->race;
	unsigned long i = 0;

	while (!race_stopped(race)) {
		__u64 off = (i++ % BUF_PAGES) * PAGE_SZ;
		__u64 iova = RACE_FIXED_TOP + off, unmapped;
		int rc;

		if (m->fixed)
			rc = ioas_map_fixed(race->fd, race->ioas_id,
					    race->buf + off, PAGE_SZ, iova);
		else
			rc = ioas_map(race->fd, race->ioas_id, race->buf + off,
				      PAGE_SZ, &iova);
		/* No window: EINVAL for a fixed IOVA, ENOSPC otherwise. */
		if (rc == (m->fixed ? -EINVAL : -ENOSPC))
			continue;
		if (rc) {
			race_fail(race, m->fixed ? "map fixed" : "map", rc);
			break;
		}
		if (!inside(iova, PAGE_SZ, RACE_BASE,
			    RACE_BASE + RACE_LEN - 1)) {
			race_fail(race, "map outside the window", -ERANGE);
			break;
		}
		__atomic_fetch_add(&race->maps, 1, __ATOMIC_RELAXED);
		/*
		 * The window may have taken the mapping with it (ENOENT, or
		 * EINVAL once it is gone), or be taking it now (EBUSY).
		 */
		rc = ioas_unmap(race->fd, race->ioas_id, iova, PAGE_SZ,
				&unmapped);
		if (rc && rc != -ENOENT && rc != -EINVAL && rc != -EBUSY) {
			race_fail(race, "unmap", rc);
			break;
		}
	}
	return NULL;
}

/* Create and remove the window as fast as possible. */
static void *race_remover(void *arg)
{
	struct race *race = arg;
	__u64 unmapped;
	int rc;

	while (!race_stopped(race)) {
		rc = win_fixed(race->fd, race->ioas_id, RACE_BASE, RACE_LEN,
			       PAGE_SZ, 0);
		if (rc) {
			race_fail(race, "create_window", rc);
			break;
		}
		sched_yield();
		do {
			rc = ioas_remove_window(race->fd, race->ioas_id,
						RACE_BASE, &unmapped);
		} while (rc == -EBUSY && race->retry_ebusy &&
			 ++race->ebusy && !race_stopped(race));
		if (rc) {
			race_fail(race, "remove_window", rc);
			break;
		}
		race->removes++;
	}
	return NULL;
}

/*
 * Two mappers (fixed and automatic IOVA) against a thread that creates
 * and removes their window as fast as it can, for a bounded time; the
 * first failure of any thread is left in @race->err. After the race
 * whatever is left must lie in the window and go with it, and no pin may
 * be left.
 */
static void race_run(struct __test_metadata *_metadata, struct race *race)
{
	struct iommu_ioas_window w[MAX_WINDOWS];
	struct race_mapper mapper[2];
	pthread_t remover;
	__u32 stdev, hwpt;
	__u64 unmapped;
	double end;
	int i, rc;

	ASSERT_EQ(0, attach(race->fd, race->ioas_id, 0, &stdev, &hwpt));
	for (i = 0; i != 2; i++) {
		mapper[i] = (struct race_mapper){ .race = race, .fixed = i };
		ASSERT_EQ(0, pthread_create(&mapper[i].thread, NULL,
					    race_mapper, &mapper[i]));
	}
	ASSERT_EQ(0, pthread_create(&remover, NULL, race_remover, race));
	end = now_sec() + RACE_SECONDS;
	while (!race_stopped(race) && now_sec() < end)
		usleep(10000);
	__atomic_store_n(&race->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i != 2; i++)
		pthread_join(mapper[i].thread, NULL);
	pthread_join(remover, NULL);
	TH_LOG("%lu maps, %lu window removals, %lu EBUSY", race->maps,
	       race->removes, race->ebusy);

	i = get_windows(race->fd, race->ioas_id, w);
	ASSERT_LE(0, i);
	ASSERT_GE(1, i);
	if (i) {
		/* Nobody maps any more: no reason left for EBUSY. */
		rc = ioas_remove_window(race->fd, race->ioas_id, RACE_BASE,
					&unmapped);
		ASSERT_EQ(0, rc);
	}
	ASSERT_EQ(0, ioas_unmap(race->fd, race->ioas_id, 0, ALL_IOVA,
				&unmapped));
	ASSERT_EQ(0, unmapped);
	ASSERT_EQ(0, tcmd_check_refs(race->fd, race->buf, BUF_SIZE, 0));
	ASSERT_EQ(race->vm_pin, vm_pin_kb());
	ASSERT_EQ(0, iommufd_destroy(race->fd, stdev));
}

TEST_F(windows, concurrent_map_and_remove_window_leak_nothing)
{
	struct race race = {
		.fd = self->fd,
		.ioas_id = self->ioas_id,
		.buf = self->buf,
		.vm_pin = self->vm_pin,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.retry_ebusy = true,
	};

	race_run(_metadata, &race);
	ASSERT_STREQ("", race.err);
}

/*
 * REMOVE_WINDOW fails (EDEADLOCK) only when an in-kernel user keeps its
 * pins (there is none here), never because a MAP into the window is in
 * flight.
 */
TEST_F(windows, remove_window_racing_map_never_fails_ebusy)
{
	struct race race = {
		.fd = self->fd,
		.ioas_id = self->ioas_id,
		.buf = self->buf,
		.vm_pin = self->vm_pin,
		.lock = PTHREAD_MUTEX_INITIALIZER,
	};

	race_run(_metadata, &race);
	ASSERT_STREQ("", race.err);
}

/*
 * LIST_WINDOWS and IOVA_RANGES while another thread keeps creating
 * windows: a call that succeeds must have written every entry it counts.
 * The arrays are poisoned, so an entry counted but never written shows.
 * (A kernel that sized its buffer from a first count and filled it from
 * a second reported success with the entries past the first count
 * missing: num_windows 8488, entries from 8481 on never written.)
 */
#define GROW_WINDOWS 12000
#define GROW_ROOM 32768
#define GROW_SECONDS 4
#define GROW_BASE SZ_1G

/* The @i-th window: one page, with a page's gap before the next. */
static int window_grow(int fd, __u32 ioas_id, unsigned int i)
{
	return win_fixed(fd, ioas_id, GROW_BASE + 2 * i * PAGE_SZ, PAGE_SZ,
			 PAGE_SZ, 0);
}

/* Every one of the @num windows written, in order; its index if not. */
static int windows_unwritten(const struct iommu_ioas_window *w, __u32 num)
{
	__u32 i;

	for (i = 0; i < num; i++) {
		if (poison_unwritten(w[i].base) || w[i].length != PAGE_SZ ||
		    w[i].page_size != PAGE_SZ || w[i].__reserved)
			return i;
		if (i && w[i - 1].base >= w[i].base)
			return i;
	}
	return -1;
}

static int ranges_unwritten(const struct iommu_iova_range *r, __u32 num)
{
	__u32 i;

	for (i = 0; i < num; i++) {
		if (poison_unwritten(r[i].start) ||
		    poison_unwritten(r[i].last) ||
		    r[i].start > r[i].last)
			return i;
		if (i && r[i - 1].last >= r[i].start)
			return i;
	}
	return -1;
}

TEST_F(windows, list_windows_and_iova_ranges_racing_new_windows_write_every_entry_counted)
{
	struct ioas_grower g = {
		.fd = self->fd,
		.ioas_id = self->ioas_id,
		.count = GROW_WINDOWS,
		.grow = window_grow,
	};
	unsigned long calls = 0;
	struct iommu_ioas_window *w;
	struct iommu_iova_range *r;
	pthread_t thread;
	__u32 num;
	time_t end;
	int rc;

	w = malloc(GROW_ROOM * sizeof(*w));
	r = malloc(GROW_ROOM * sizeof(*r));
	ASSERT_NE(NULL, w);
	ASSERT_NE(NULL, r);
	poison_fill(w, GROW_ROOM * sizeof(*w));
	poison_fill(r, GROW_ROOM * sizeof(*r));
	ASSERT_EQ(0, pthread_create(&thread, NULL, ioas_grower_run, &g));
	end = time(NULL) + GROW_SECONDS;
	while (!ioas_grower_done(&g) && time(NULL) < end) {
		num = GROW_ROOM;
		rc = ioas_list_windows(self->fd, self->ioas_id, w, &num);
		ASSERT_EQ(0, rc);
		ASSERT_GE(GROW_ROOM, num);
		ASSERT_EQ(-1, windows_unwritten(w, num))
			TH_LOG("LIST_WINDOWS: %u windows", num);
		poison_fill(w, num * sizeof(*w));

		num = GROW_ROOM;
		rc = ioas_iova_ranges(self->fd, self->ioas_id, r, &num, NULL);
		ASSERT_EQ(0, rc);
		ASSERT_GE(GROW_ROOM, num);
		ASSERT_EQ(-1, ranges_unwritten(r, num))
			TH_LOG("IOVA_RANGES: %u ranges", num);
		poison_fill(r, num * sizeof(*r));
		calls++;
	}
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(0, g.rc);
	TH_LOG("%lu rounds of both calls", calls);
	free(w);
	free(r);
}

/* === Accounting === */

TEST_F(windows, pins_are_back_to_start_after_remove_window_and_close)
{
	char *big = buf_alloc_written(SZ_1M, 6);
	__u32 stdev, hwpt, stdev2, ioas2;
	__u64 unmapped, iova;
	int fd2;

	ASSERT_NE(NULL, big);
	ASSERT_EQ(0, attach(self->fd, self->ioas_id, 0, &stdev, &hwpt));
	ASSERT_EQ(0, win_fixed(self->fd, self->ioas_id, SZ_256M, SZ_16M,
			       PAGE_SZ, 0));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, big, SZ_1M, &iova));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, self->buf, BUF_SIZE,
			      &iova));
	ASSERT_EQ(self->vm_pin + (SZ_1M + BUF_SIZE) / 1024, vm_pin_kb());
	ASSERT_EQ(0, ioas_remove_window(self->fd, self->ioas_id, SZ_256M,
					&unmapped));
	ASSERT_EQ(SZ_1M + BUF_SIZE, unmapped);
	ASSERT_EQ(self->vm_pin, vm_pin_kb());
	ASSERT_EQ(0, tcmd_check_refs(self->fd, big, SZ_1M, 0));

	/* Again, on a second fd, undone by close alone. */
	fd2 = iommufd_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ioas_alloc_windowed(fd2, &ioas2));
	ASSERT_EQ(0, attach(fd2, ioas2, 0, &stdev2, NULL));
	ASSERT_EQ(0, win_fixed(fd2, ioas2, SZ_256M, SZ_16M, PAGE_SZ,
			       0));
	ASSERT_EQ(0, win_fixed(fd2, ioas2, SZ_512M, SZ_16M, SZ_64K,
			       0));
	ASSERT_EQ(0, ioas_map(fd2, ioas2, big, SZ_1M, &iova));
	ASSERT_EQ(0, ioas_map_fixed(fd2, ioas2, self->buf, SZ_64K,
				    SZ_512M));
	ASSERT_EQ(self->vm_pin + (SZ_1M + SZ_64K) / 1024, vm_pin_kb());
	close(fd2);
	ASSERT_EQ(self->vm_pin, vm_pin_kb());
	ASSERT_EQ(0, tcmd_check_refs(self->fd, big, SZ_1M, 0));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	munmap(big, SZ_1M);
}

/* === A plain IOAS is unchanged === */

TEST_F(windows, plain_ioas_behaves_as_upstream)
{
	struct iommu_iova_range r[MAX_WINDOWS], allow = { SZ_1G,
							  SZ_1G + SZ_1M - 1 };
	__u32 plain, stdev, hwpt, num = MAX_WINDOWS;
	__u64 iova, unmapped, align;

	ASSERT_EQ(0, ioas_alloc_flags(self->fd, 0, &plain));
	/* Everything usable with nothing attached. */
	ASSERT_EQ(0, ioas_iova_ranges(self->fd, plain, r, &num, &align));
	ASSERT_EQ(1, num);
	ASSERT_EQ(0, r[0].start);
	ASSERT_EQ(ULONG_MAX, r[0].last);
	ASSERT_EQ(1, align);
	/* Any byte-aligned IOVA maps without a window. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, plain, self->buf, 100, 0x12345));
	ASSERT_EQ(0, ioas_map(self->fd, plain, self->buf, PAGE_SZ, &iova));
	ASSERT_EQ(0, ioas_unmap(self->fd, plain, 0, ALL_IOVA, &unmapped));
	ASSERT_EQ(100 + PAGE_SZ, unmapped);
	/* Attach narrows to the aperture; ALLOW_IOVAS works. */
	ASSERT_EQ(0, attach(self->fd, plain, 0, &stdev, &hwpt));
	num = MAX_WINDOWS;
	ASSERT_EQ(0, ioas_iova_ranges(self->fd, plain, r, &num, &align));
	ASSERT_EQ(1, num);
	ASSERT_EQ(APERTURE_START, r[0].start);
	ASSERT_EQ(APERTURE_LAST, r[0].last);
	ASSERT_EQ(IOPTE_SMALL, align);
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, plain, &allow, 1));
	ASSERT_EQ(0, ioas_map(self->fd, plain, self->buf, BUF_SIZE, &iova));
	ASSERT_TRUE(inside(iova, BUF_SIZE, allow.start, allow.last));
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, iova, self->buf,
				    BUF_SIZE));
	ASSERT_EQ(0, ioas_unmap(self->fd, plain, iova, BUF_SIZE, &unmapped));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
}

TEST_HARNESS_MAIN
