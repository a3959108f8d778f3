// SPDX-License-Identifier: GPL-2.0
/*
 * HW page tables, mock devices and the mock iommu_domain driver: every
 * IOAS command against no domain, one, two, a domain filled in tiny
 * batches, hugetlbfs memory and huge-IOVA devices, checked IOPTE by IOPTE
 * with MD_CHECK_MAP and pin by pin with MD_CHECK_REFS and VmPin; the
 * objects' lifetimes and destroy order; HWPT_ALLOC and GET_HW_INFO;
 * apertures, alignment and device reserved regions; fill failures; and
 * attach, replace and detach racing with map and unmap.
 */
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "iommufd_utils.h"

#define PAGE_SZ 4096UL
/* The mock driver's smallest IOPTE, and the IOVA alignment it imposes. */
#define HALF_PAGE (PAGE_SZ / 2)
/* Its large IOPTE, on devices made with MOCK_FLAGS_DEVICE_HUGE_IOVA. */
#define MOCK_HUGE_SZ (512 * HALF_PAGE)
#define SZ_64K 0x10000UL
#define SZ_1M 0x100000UL
#define SZ_2M 0x200000UL
#define HUGE_SZ SZ_2M
/* Two huge pages: room to cross from one into the next. */
#define BUF_SIZE (2 * HUGE_SZ)
#define BUF_PAGES (BUF_SIZE / PAGE_SZ)
/* Fixed IOVAs, all inside the mock aperture and 2M aligned. */
#define IOVA_BASE 0x10000000UL
#define IOVA_COPY 0x20000000UL
#define IOVA_OTHER 0x30000000UL
#define APERTURE_START ((__u64)MOCK_APERTURE_START)
#define APERTURE_LAST ((__u64)MOCK_APERTURE_LAST)
#define ALL_IOVA UINT64_MAX

#define RO IOMMU_IOAS_MAP_READABLE
#define RW (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)
#define FIXED_RO (IOMMU_IOAS_MAP_FIXED_IOVA | RO)
#define FIXED_RW (IOMMU_IOAS_MAP_FIXED_IOVA | RW)
#define PIN_ACCESS MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES
#define HUGE_IOVA MOCK_FLAGS_DEVICE_HUGE_IOVA
#define HUGE_IOPTE_ONLY MOCK_FLAGS_DEVICE_HUGE_IOPTE_ONLY
#define WIDE_APERTURE MOCK_FLAGS_DEVICE_WIDE_APERTURE
#define WIDE_LAST ((__u64)MOCK_WIDE_APERTURE_LAST)
#define DEFAULT_BATCHES IOMMUFD_TEST_DEFAULT_BATCH_LIMIT
#define MAX_DEVS 2

/* ---------------------------------------------------------------------- */
/* Memory and arithmetic helpers. */

static __u64 align_down(__u64 v, __u64 a)
{
	return v & ~(a - 1);
}

static __u64 align_up(__u64 v, __u64 a)
{
	return align_down(v + a - 1, a);
}

/* Pages of memory that [ptr, ptr + len) touches. */
static __u64 pages_covering(const void *ptr, __u64 len)
{
	__u64 start = (uintptr_t)ptr;

	return (align_up(start + len, PAGE_SZ) - align_down(start, PAGE_SZ)) /
	       PAGE_SZ;
}

static void *page_of(const void *ptr)
{
	return (void *)(uintptr_t)align_down((uintptr_t)ptr, PAGE_SZ);
}

/* Distinct content in every word, so no page is the shared zero page. */
static void buf_fill(void *buf, size_t len, __u64 seed)
{
	__u64 *p = buf;
	size_t i;

	for (i = 0; i < len / sizeof(*p); i++)
		p[i] = seed << 40 | i;
}

/* Small pages only: MD_CHECK_REFS counts pins on small pages only. */
static void *buf_alloc_small(size_t len, __u64 seed)
{
	void *buf;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return NULL;
	madvise(buf, len, MADV_NOHUGEPAGE);
	buf_fill(buf, len, seed);
	return buf;
}

/* hugetlbfs memory, faulted in; NULL if no huge page could be had. */
static void *buf_alloc_hugetlb(size_t len, __u64 seed)
{
	void *buf;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (buf == MAP_FAILED)
		return NULL;
	buf_fill(buf, len, seed);
	return buf;
}

/* Pinned memory of this process in bytes, relative to @base_kb. */
static long pinned_since(long base_kb)
{
	return (proc_status_kb("VmPin") - base_kb) * 1024;
}

/* IOVA_RANGES into @r (room for 8); the number of ranges, or -errno. */
static int get_ranges(int fd, __u32 ioas_id, struct iommu_iova_range *r,
		      __u64 *align)
{
	__u32 num = 8;
	int rc;

	rc = ioas_iova_ranges(fd, ioas_id, r, &num, align);
	return rc ? rc : (int)num;
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------------- */
/*
 * The IOAS commands against every kind of domain set-up. Each variant
 * gives the IOAS mock_domains devices, each on a domain of its own: a
 * second device of the same kind first joins the automatic HWPT and is
 * then moved to one made with HWPT_ALLOC.
 */

FIXTURE(domain)
{
	int fd;
	__u32 ioas_id;
	__u32 stdev_id[MAX_DEVS];
	__u32 hwpt_id[MAX_DEVS];
	__u32 idev_id[MAX_DEVS];
	char *buf;
	long vm_pin;
	long saved_nr_huge;
};

FIXTURE_VARIANT(domain)
{
	unsigned int mock_domains;
	/* MOCK_FLAGS_DEVICE_* of each device. */
	__u32 dev_flags[MAX_DEVS];
	/* Cap on the kernel's temporary page batches, 0 for the default. */
	__u32 batch_limit;
	/* Back the buffer with 2M hugetlbfs pages. */
	bool hugetlb;
};

/* Type names for the helpers that take a fixture's data or variant. */
#define domain_data_t FIXTURE_DATA(domain)
#define domain_variant_t FIXTURE_VARIANT(domain)

FIXTURE_VARIANT_ADD(domain, no_domain)
{
	.mock_domains = 0,
};

FIXTURE_VARIANT_ADD(domain, one_domain)
{
	.mock_domains = 1,
};

FIXTURE_VARIANT_ADD(domain, two_domains)
{
	.mock_domains = 2,
};

/* A domain filled a few PFNs at a time. */
FIXTURE_VARIANT_ADD(domain, memory_limited_domain)
{
	.mock_domains = 1,
	.batch_limit = 16,
};

FIXTURE_VARIANT_ADD(domain, hugetlb_one_domain)
{
	.mock_domains = 1,
	.hugetlb = true,
};

FIXTURE_VARIANT_ADD(domain, hugetlb_two_domains)
{
	.mock_domains = 2,
	.hugetlb = true,
};

FIXTURE_VARIANT_ADD(domain, huge_iova_domain)
{
	.mock_domains = 1,
	.dev_flags = { HUGE_IOVA },
};

FIXTURE_VARIANT_ADD(domain, huge_iova_domain_hugetlb)
{
	.mock_domains = 1,
	.dev_flags = { HUGE_IOVA },
	.hugetlb = true,
};

/* One domain of each page size: they can never share an automatic HWPT. */
FIXTURE_VARIANT_ADD(domain, normal_and_huge_iova_domains_hugetlb)
{
	.mock_domains = 2,
	.dev_flags = { 0, HUGE_IOVA },
	.hugetlb = true,
};

/*
 * Attach the variant's devices to @ioas_id, each on its own domain. Fills
 * the ID arrays; returns 0 or the first failure.
 */
static int attach_devices(int fd, const domain_variant_t *variant,
			  __u32 ioas_id, __u32 *stdev_id, __u32 *hwpt_id,
			  __u32 *idev_id)
{
	unsigned int i;
	int rc;

	for (i = 0; i < variant->mock_domains; i++) {
		__u32 own;

		rc = tcmd_mock_domain_flags(fd, ioas_id, variant->dev_flags[i],
					    &stdev_id[i], &hwpt_id[i],
					    &idev_id[i]);
		if (rc)
			return rc;
		if (!i || hwpt_id[i] != hwpt_id[0])
			continue;
		rc = hwpt_alloc(fd, idev_id[i], ioas_id, &own);
		if (rc)
			return rc;
		rc = tcmd_mock_domain_replace(fd, stdev_id[i], own,
					      &hwpt_id[i]);
		if (rc)
			return rc;
		if (hwpt_id[i] != own)
			return -EBADE;
	}
	return 0;
}

/*
 * Undo attach_devices(): unbind the devices, then destroy the HWPTs that
 * attach_devices() made with HWPT_ALLOC (automatic ones go by themselves).
 */
static int detach_devices(int fd, const domain_variant_t *variant,
			  const __u32 *stdev_id, const __u32 *hwpt_id)
{
	unsigned int i;
	int rc;

	for (i = 0; i < variant->mock_domains; i++) {
		rc = iommufd_destroy(fd, stdev_id[i]);
		if (rc)
			return rc;
	}
	for (i = 1; i < variant->mock_domains; i++) {
		if (variant->dev_flags[i] != variant->dev_flags[0])
			continue;
		rc = iommufd_destroy(fd, hwpt_id[i]);
		if (rc)
			return rc;
	}
	return 0;
}

FIXTURE_SETUP(domain)
{
	self->saved_nr_huge = -1;
	ASSERT_EQ(PAGE_SZ, sysconf(_SC_PAGESIZE));
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	if (variant->hugetlb) {
		if (hugetlb_reserve(BUF_SIZE / HUGE_SZ, &self->saved_nr_huge)) {
			hugetlb_restore(self->saved_nr_huge);
			SKIP(return, "no 2M hugetlb pages to be had");
		}
		self->buf = buf_alloc_hugetlb(BUF_SIZE, 1);
		if (!self->buf) {
			hugetlb_restore(self->saved_nr_huge);
			SKIP(return, "mmap(MAP_HUGETLB) failed");
		}
	} else {
		self->buf = buf_alloc_small(BUF_SIZE, 1);
		ASSERT_NE(NULL, self->buf);
	}
	if (variant->batch_limit)
		ASSERT_EQ(0, tcmd_set_batch_limit(self->fd,
						  variant->batch_limit));
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	ASSERT_EQ(0, attach_devices(self->fd, variant, self->ioas_id,
				    self->stdev_id, self->hwpt_id,
				    self->idev_id));
	self->vm_pin = proc_status_kb("VmPin");
	ASSERT_LE(0, self->vm_pin);
}

FIXTURE_TEARDOWN(domain)
{
	int fd;

	if (self->fd >= 0)
		close(self->fd);
	/* Closing the context drops every pin its domains held. */
	EXPECT_EQ(self->vm_pin, vm_pin_settled(self->vm_pin));
	fd = iommufd_open();
	if (fd >= 0) {
		EXPECT_EQ(0, tcmd_check_refs_settled(fd, self->buf, BUF_SIZE, 0));
		/* Module-wide: leave the default for the next test. */
		EXPECT_EQ(0, tcmd_set_batch_limit(fd, DEFAULT_BATCHES));
		close(fd);
	}
	munmap(self->buf, BUF_SIZE);
	hugetlb_restore(self->saved_nr_huge);
}

/* Pins one mapping of memory holds: one per page with any domain. */
static __u32 domain_refs(const domain_variant_t *variant)
{
	return variant->mock_domains ? 1 : 0;
}

/* 0 if every domain of the fixture maps @iova, @len to @ptr. */
static int check_domains(domain_data_t *self,
			 const domain_variant_t *variant, __u64 iova,
			 const void *ptr, __u64 len)
{
	unsigned int i;
	int rc;

	for (i = 0; i < variant->mock_domains; i++) {
		rc = tcmd_check_map(self->fd, self->hwpt_id[i], iova, ptr, len);
		if (rc)
			return rc;
	}
	return 0;
}

/* 0 if no domain of the fixture maps the first or the last unit. */
static int check_domains_empty(domain_data_t *self,
			       const domain_variant_t *variant,
			       __u64 iova, const void *ptr, __u64 len)
{
	__u64 last = len - HALF_PAGE;
	unsigned int i;

	for (i = 0; i < variant->mock_domains; i++) {
		if (tcmd_check_map(self->fd, self->hwpt_id[i], iova, ptr,
				   HALF_PAGE) != -EINVAL)
			return -EEXIST;
		if (tcmd_check_map(self->fd, self->hwpt_id[i], iova + last,
				   (const char *)ptr + last,
				   HALF_PAGE) != -EINVAL)
			return -EEXIST;
	}
	return 0;
}

/* Expected VmPin growth, in bytes, when @pages pages are mapped. */
static long domain_pin_bytes(const domain_variant_t *variant,
			     __u64 pages)
{
	return variant->mock_domains ? pages * PAGE_SZ : 0;
}

TEST_F(domain, map_appears_in_every_domain_and_unmap_removes_it)
{
	__u64 unmapped;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, IOVA_BASE));
	ASSERT_EQ(0, check_domains(self, variant, IOVA_BASE, self->buf,
				   BUF_SIZE));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE,
				     domain_refs(variant)));
	ASSERT_EQ(domain_pin_bytes(variant, BUF_PAGES),
		  pinned_since(self->vm_pin));

	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE, BUF_SIZE,
				&unmapped));
	ASSERT_EQ(BUF_SIZE, unmapped);
	ASSERT_EQ(0, check_domains_empty(self, variant, IOVA_BASE, self->buf,
					 BUF_SIZE));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(0, pinned_since(self->vm_pin));
}

TEST_F(domain, check_map_of_other_memory_fails_einval)
{
	if (!variant->mock_domains)
		SKIP(return, "no domain to check");
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    HUGE_SZ, IOVA_BASE));
	/* The check must be able to fail: the IOVA shifted by one unit. */
	ASSERT_EQ(-EINVAL, tcmd_check_map(self->fd, self->hwpt_id[0],
					  IOVA_BASE + HALF_PAGE, self->buf,
					  PAGE_SZ));
	ASSERT_EQ(-EINVAL, tcmd_check_map(self->fd, self->hwpt_id[0],
					  IOVA_BASE, self->buf + HUGE_SZ,
					  PAGE_SZ));
	ASSERT_EQ(0, tcmd_check_map(self->fd, self->hwpt_id[0], IOVA_BASE,
				    self->buf, HUGE_SZ));
}

TEST_F(domain, auto_map_lands_inside_the_aperture)
{
	unsigned int i;
	__u64 iova;

	for (i = 0; i < 8; i++) {
		char *ptr = self->buf + i * (BUF_SIZE / 8);

		ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, ptr,
				      BUF_SIZE / 8, &iova));
		if (variant->mock_domains) {
			ASSERT_LE(APERTURE_START, iova);
			ASSERT_GE(APERTURE_LAST, iova + BUF_SIZE / 8 - 1);
		}
		ASSERT_EQ(0, check_domains(self, variant, iova, ptr,
					   BUF_SIZE / 8));
	}
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE,
				     domain_refs(variant)));
}

TEST_F(domain, unmap_of_one_area_leaves_its_neighbour_mapped)
{
	char *second = self->buf + HUGE_SZ;
	__u64 unmapped;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    HUGE_SZ, IOVA_BASE));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, second, HUGE_SZ,
				    IOVA_BASE + HUGE_SZ));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE, HUGE_SZ,
				&unmapped));
	ASSERT_EQ(HUGE_SZ, unmapped);
	ASSERT_EQ(0, check_domains_empty(self, variant, IOVA_BASE, self->buf,
					 HUGE_SZ));
	ASSERT_EQ(0, check_domains(self, variant, IOVA_BASE + HUGE_SZ, second,
				   HUGE_SZ));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, HUGE_SZ, 0));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, second, HUGE_SZ,
				     domain_refs(variant)));
	ASSERT_EQ(domain_pin_bytes(variant, HUGE_SZ / PAGE_SZ),
		  pinned_since(self->vm_pin));
}

TEST_F(domain, copy_shares_the_pins_of_its_source)
{
	__u64 dst = IOVA_COPY, unmapped;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, IOVA_BASE));
	ASSERT_EQ(0, ioas_copy(self->fd, self->ioas_id, &dst, self->ioas_id,
			       IOVA_BASE, BUF_SIZE, FIXED_RW));
	ASSERT_EQ(0, check_domains(self, variant, IOVA_COPY, self->buf,
				   BUF_SIZE));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE,
				     domain_refs(variant)));
	ASSERT_EQ(domain_pin_bytes(variant, BUF_PAGES),
		  pinned_since(self->vm_pin));

	/* The copy keeps the pages pinned without its source. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE, BUF_SIZE,
				&unmapped));
	ASSERT_EQ(0, check_domains_empty(self, variant, IOVA_BASE, self->buf,
					 BUF_SIZE));
	ASSERT_EQ(0, check_domains(self, variant, IOVA_COPY, self->buf,
				   BUF_SIZE));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE,
				     domain_refs(variant)));
	ASSERT_EQ(domain_pin_bytes(variant, BUF_PAGES),
		  pinned_since(self->vm_pin));

	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_COPY, BUF_SIZE,
				&unmapped));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(0, pinned_since(self->vm_pin));
}

TEST_F(domain, copy_into_a_second_ioas_with_its_own_domains_pins_once)
{
	__u32 stdev_id[MAX_DEVS], hwpt_id[MAX_DEVS], idev_id[MAX_DEVS];
	__u64 dst = IOVA_OTHER, unmapped;
	unsigned int i;
	__u32 ioas2;

	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, attach_devices(self->fd, variant, ioas2, stdev_id,
				    hwpt_id, idev_id));
	/* A new IOAS gets domains of its own, never the first one's. */
	for (i = 0; i < variant->mock_domains; i++)
		ASSERT_NE(self->hwpt_id[i], hwpt_id[i]);

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, IOVA_BASE));
	ASSERT_EQ(0, ioas_copy(self->fd, ioas2, &dst, self->ioas_id,
			       IOVA_BASE, BUF_SIZE, FIXED_RW));
	for (i = 0; i < variant->mock_domains; i++)
		ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt_id[i], IOVA_OTHER,
					    self->buf, BUF_SIZE));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE,
				     domain_refs(variant)));
	ASSERT_EQ(domain_pin_bytes(variant, BUF_PAGES),
		  pinned_since(self->vm_pin));

	/* Destroying the source IOAS's mapping leaves the copy pinned. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA,
				&unmapped));
	ASSERT_EQ(BUF_SIZE, unmapped);
	for (i = 0; i < variant->mock_domains; i++)
		ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt_id[i], IOVA_OTHER,
					    self->buf, BUF_SIZE));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE,
				     domain_refs(variant)));

	/* Taking the second IOAS's domains away drops the last pin. */
	ASSERT_EQ(0, detach_devices(self->fd, variant, stdev_id, hwpt_id));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(0, pinned_since(self->vm_pin));
}

/*
 * Map (or copy) [off, off + len) of the buffer for every start offset in
 * the first huge page, in steps of the smallest IOPTE: always with a
 * short length, and for every fourth offset and those next to either end
 * of the huge page also with a length that runs into the second huge
 * page. Some steps put the IOVA a page off the user address's 2M
 * alignment, so a domain with large IOPTEs has to use small ones there.
 */
struct sweep_step {
	__u64 off;
	__u64 len;
	__u64 iova_shift;
};

static unsigned int sweep_steps(__u64 off, struct sweep_step *steps)
{
	__u64 n = off / HALF_PAGE, units = HUGE_SZ / HALF_PAGE;

	steps[0] = (struct sweep_step){
		.off = off,
		.len = HALF_PAGE * (1 + n % 5),
		.iova_shift = (n & 1) ? PAGE_SZ : 0,
	};
	if (n % 4 && n >= 4 && n < units - 4)
		return 1;
	steps[1] = (struct sweep_step){
		.off = off,
		.len = HUGE_SZ - off + HALF_PAGE * (1 + n % 3),
		.iova_shift = ((n / 4) & 1) ? PAGE_SZ : 0,
	};
	return 2;
}

TEST_F_TIMEOUT(domain, map_at_every_half_page_offset_of_a_huge_page, 120)
{
	struct sweep_step steps[2];
	__u64 off, unmapped;
	unsigned int i, n;

	for (off = 0; off < HUGE_SZ; off += HALF_PAGE) {
		n = sweep_steps(off, steps);
		for (i = 0; i < n; i++) {
			char *ptr = self->buf + steps[i].off;
			__u64 len = steps[i].len;
			__u64 iova = IOVA_BASE + steps[i].off +
				     steps[i].iova_shift;
			__u64 pages = pages_covering(ptr, len);

			ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
						    ptr, len, iova))
				TH_LOG("offset %#llx length %#llx", off, len);
			ASSERT_EQ(0, check_domains(self, variant, iova, ptr,
						   len))
				TH_LOG("offset %#llx length %#llx", off, len);
			ASSERT_EQ(0, tcmd_check_refs(self->fd, page_of(ptr),
						     pages * PAGE_SZ,
						     domain_refs(variant)));
			ASSERT_EQ(domain_pin_bytes(variant, pages),
				  pinned_since(self->vm_pin));
			ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, iova,
						len, &unmapped));
			ASSERT_EQ(len, unmapped);
			ASSERT_EQ(0, check_domains_empty(self, variant, iova,
							 ptr, len));
			ASSERT_EQ(0, tcmd_check_refs(self->fd, page_of(ptr),
						     pages * PAGE_SZ, 0));
			ASSERT_EQ(0, pinned_since(self->vm_pin));
		}
	}
}

TEST_F_TIMEOUT(domain, copy_at_every_half_page_offset_of_a_huge_page, 120)
{
	struct sweep_step steps[2];
	__u64 off, unmapped;
	unsigned int i, n;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, IOVA_BASE));
	for (off = 0; off < HUGE_SZ; off += HALF_PAGE) {
		n = sweep_steps(off, steps);
		for (i = 0; i < n; i++) {
			char *ptr = self->buf + steps[i].off;
			__u64 len = steps[i].len;
			__u64 dst = IOVA_COPY + steps[i].off +
				    steps[i].iova_shift;

			ASSERT_EQ(0, ioas_copy(self->fd, self->ioas_id, &dst,
					       self->ioas_id,
					       IOVA_BASE + steps[i].off, len,
					       FIXED_RW))
				TH_LOG("offset %#llx length %#llx", off, len);
			ASSERT_EQ(0, check_domains(self, variant, dst, ptr,
						   len))
				TH_LOG("offset %#llx length %#llx", off, len);
			/* The source's pins cover the copy: none are added. */
			ASSERT_EQ(domain_pin_bytes(variant, BUF_PAGES),
				  pinned_since(self->vm_pin));
			ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, dst,
						len, &unmapped));
			ASSERT_EQ(len, unmapped);
			ASSERT_EQ(0, check_domains_empty(self, variant, dst,
							 ptr, len));
		}
	}
	ASSERT_EQ(0, check_domains(self, variant, IOVA_BASE, self->buf,
				   BUF_SIZE));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE,
				     domain_refs(variant)));
	ASSERT_EQ(domain_pin_bytes(variant, BUF_PAGES),
		  pinned_since(self->vm_pin));
}

TEST_F(domain, read_only_map_is_mapped_and_refuses_write_pins)
{
	char *back = malloc(SZ_64K);
	__u64 iova = IOVA_BASE;
	int access_fd;
	__u32 item;

	ASSERT_NE(NULL, back);
	ASSERT_EQ(0, ioas_map_flags(self->fd, self->ioas_id, self->buf,
				    SZ_64K, &iova, FIXED_RO));
	ASSERT_EQ(0, check_domains(self, variant, IOVA_BASE, self->buf,
				   SZ_64K));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, SZ_64K,
				     domain_refs(variant)));

	ASSERT_EQ(0, tcmd_access_create(self->fd, self->ioas_id, PIN_ACCESS,
					&access_fd));
	ASSERT_EQ(-EPERM, tcmd_access_pin(self->fd, access_fd, IOVA_BASE,
					  SZ_64K, self->buf,
					  MOCK_FLAGS_ACCESS_WRITE, NULL));
	ASSERT_EQ(-EPERM, tcmd_access_rw(self->fd, access_fd, IOVA_BASE, back,
					 SZ_64K, MOCK_ACCESS_RW_WRITE));
	/* Reading is what the mapping allows; it shares the domain's pin. */
	ASSERT_EQ(0, tcmd_access_pin(self->fd, access_fd, IOVA_BASE, SZ_64K,
				     self->buf, 0, &item));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, SZ_64K, 1));
	ASSERT_EQ(0, tcmd_access_rw(self->fd, access_fd, IOVA_BASE, back,
				    SZ_64K, 0));
	ASSERT_EQ(0, memcmp(back, self->buf, SZ_64K));
	ASSERT_EQ(0, tcmd_access_unpin(self->fd, access_fd, item));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, SZ_64K,
				     domain_refs(variant)));
	close(access_fd);
	free(back);
}

TEST_F(domain, copy_writeable_from_a_read_only_area_fails_eperm)
{
	__u64 iova = IOVA_BASE, dst = IOVA_COPY;

	ASSERT_EQ(0, ioas_map_flags(self->fd, self->ioas_id, self->buf,
				    HUGE_SZ, &iova, FIXED_RO));
	ASSERT_EQ(-EPERM, ioas_copy(self->fd, self->ioas_id, &dst,
				    self->ioas_id, IOVA_BASE, HUGE_SZ,
				    FIXED_RW));
	ASSERT_EQ(0, check_domains_empty(self, variant, IOVA_COPY, self->buf,
					 HUGE_SZ));
	ASSERT_EQ(0, ioas_copy(self->fd, self->ioas_id, &dst, self->ioas_id,
			       IOVA_BASE, HUGE_SZ, FIXED_RO));
	ASSERT_EQ(0, check_domains(self, variant, IOVA_COPY, self->buf,
				   HUGE_SZ));
	ASSERT_EQ(domain_pin_bytes(variant, HUGE_SZ / PAGE_SZ),
		  pinned_since(self->vm_pin));
}

TEST_F(domain, writeable_map_of_read_only_memory_fails_efault_with_a_domain)
{
	__u64 iova = IOVA_BASE, unmapped;
	int rc;

	ASSERT_EQ(0, mprotect(self->buf, HUGE_SZ, PROT_READ));
	rc = ioas_map_fixed(self->fd, self->ioas_id, self->buf, HUGE_SZ,
			    IOVA_BASE);
	/* A domain pins at once, for writing; without one MAP is lazy. */
	if (variant->mock_domains) {
		ASSERT_EQ(-EFAULT, rc);
		ASSERT_EQ(0, pinned_since(self->vm_pin));
		ASSERT_EQ(0, check_domains_empty(self, variant, IOVA_BASE,
						 self->buf, HUGE_SZ));
	} else {
		ASSERT_EQ(0, rc);
		ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE,
					HUGE_SZ, &unmapped));
	}
	/* Read-only memory maps read-only. */
	ASSERT_EQ(0, ioas_map_flags(self->fd, self->ioas_id, self->buf,
				    HUGE_SZ, &iova, FIXED_RO));
	ASSERT_EQ(0, check_domains(self, variant, IOVA_BASE, self->buf,
				   HUGE_SZ));
	ASSERT_EQ(domain_pin_bytes(variant, HUGE_SZ / PAGE_SZ),
		  pinned_since(self->vm_pin));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE, HUGE_SZ,
				&unmapped));
	ASSERT_EQ(0, mprotect(self->buf, HUGE_SZ, PROT_READ | PROT_WRITE));
}

TEST_F(domain, iova_ranges_with_a_domain_are_the_aperture)
{
	struct iommu_iova_range r[8];
	__u64 align;

	ASSERT_EQ(1, get_ranges(self->fd, self->ioas_id, r, &align));
	if (!variant->mock_domains) {
		ASSERT_EQ(0, r[0].start);
		ASSERT_EQ(ALL_IOVA, r[0].last);
		ASSERT_EQ(1, align);
		return;
	}
	ASSERT_EQ(APERTURE_START, r[0].start);
	ASSERT_EQ(APERTURE_LAST, r[0].last);
	/* The smallest IOPTE of every mock domain is half a page. */
	ASSERT_EQ(HALF_PAGE, align);
}

TEST_F(domain, map_of_a_length_not_a_multiple_of_half_a_page_fails_einval)
{
	static const __u64 bad[] = { 1, HALF_PAGE / 2, HALF_PAGE + 1,
				     PAGE_SZ + HALF_PAGE / 2 };
	__u64 unmapped, iova;
	unsigned int i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		rc = ioas_map_fixed(self->fd, self->ioas_id, self->buf, bad[i],
				    IOVA_BASE);
		if (variant->mock_domains) {
			ASSERT_EQ(-EINVAL, rc);
			ASSERT_EQ(-EINVAL, ioas_map(self->fd, self->ioas_id,
						    self->buf, bad[i], &iova));
			continue;
		}
		ASSERT_EQ(0, rc);
		ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE,
					bad[i], &unmapped));
	}
	/* Half a page is a whole IOPTE, at either half of a page. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    HALF_PAGE, IOVA_BASE));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
				    self->buf + PAGE_SZ + HALF_PAGE, HALF_PAGE,
				    IOVA_BASE + HALF_PAGE));
	ASSERT_EQ(0, check_domains(self, variant, IOVA_BASE, self->buf,
				   HALF_PAGE));
	ASSERT_EQ(0, check_domains(self, variant, IOVA_BASE + HALF_PAGE,
				   self->buf + PAGE_SZ + HALF_PAGE, HALF_PAGE));
}

TEST_F(domain, map_at_a_misaligned_iova_or_user_address_fails_einval)
{
	__u64 unmapped;
	int rc;

	rc = ioas_map_fixed(self->fd, self->ioas_id, self->buf, PAGE_SZ,
			    IOVA_BASE + HALF_PAGE / 2);
	ASSERT_EQ(variant->mock_domains ? -EINVAL : 0, rc);
	if (!rc)
		ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA,
					&unmapped));
	rc = ioas_map_fixed(self->fd, self->ioas_id,
			    self->buf + HALF_PAGE / 2, PAGE_SZ, IOVA_BASE);
	ASSERT_EQ(variant->mock_domains ? -EINVAL : 0, rc);
	ASSERT_EQ(0, pinned_since(self->vm_pin));
}

TEST_F(domain, map_outside_the_aperture_fails_einval_with_a_domain)
{
	static const __u64 outside[] = { PAGE_SZ, APERTURE_START - PAGE_SZ,
					 APERTURE_LAST + 1, 1ULL << 40 };
	__u64 unmapped;
	unsigned int i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(outside); i++) {
		rc = ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, outside[i]);
		ASSERT_EQ(variant->mock_domains ? -EINVAL : 0, rc);
	}
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA,
				&unmapped));
	/* Straddling the aperture's end is outside too. */
	rc = ioas_map_fixed(self->fd, self->ioas_id, self->buf, 2 * PAGE_SZ,
			    APERTURE_LAST + 1 - PAGE_SZ);
	ASSERT_EQ(variant->mock_domains ? -EINVAL : 0, rc);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA,
				&unmapped));
	ASSERT_EQ(0, pinned_since(self->vm_pin));
}

TEST_F(domain, new_domain_on_a_mapped_ioas_is_filled_without_new_pins)
{
	__u32 hwpt;

	if (!variant->mock_domains)
		SKIP(return, "no device to allocate a domain for");
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, IOVA_BASE));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->idev_id[0], self->ioas_id,
				&hwpt));
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, IOVA_BASE, self->buf,
				    BUF_SIZE));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 1));
	ASSERT_EQ(BUF_SIZE, pinned_since(self->vm_pin));
	/* The new domain also follows later maps. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_64K, IOVA_COPY));
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, IOVA_COPY, self->buf,
				    SZ_64K));
	/* A second MAP of the same memory is pinned on its own. */
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, SZ_64K, 2));
	ASSERT_EQ(BUF_SIZE + SZ_64K, pinned_since(self->vm_pin));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt));
	ASSERT_EQ(0, check_domains(self, variant, IOVA_BASE, self->buf,
				   BUF_SIZE));
	ASSERT_EQ(0, check_domains(self, variant, IOVA_COPY, self->buf,
				   SZ_64K));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf + SZ_64K,
				     BUF_SIZE - SZ_64K, 1));
}

/*
 * A copy of part of an area shares the area's pins; when the area goes,
 * exactly the pages outside the copy are unpinned, and what stays pinned
 * is still the same memory: a domain filled afterwards maps the copy to
 * the pages the user sees.
 */
TEST_F(domain, unmap_of_a_source_keeps_its_partial_copy_on_the_same_pages)
{
	__u64 src = IOVA_BASE + PAGE_SZ, dst = IOVA_COPY, unmapped;
	char *ptr = self->buf + PAGE_SZ;
	__u32 hwpt;

	if (!variant->mock_domains)
		SKIP(return, "no device to allocate a domain for");
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    HUGE_SZ, IOVA_BASE));
	ASSERT_EQ(0, ioas_copy(self->fd, self->ioas_id, &dst, self->ioas_id,
			       src, SZ_64K, FIXED_RW));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE, HUGE_SZ,
				&unmapped));
	ASSERT_EQ(HUGE_SZ, unmapped);
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, PAGE_SZ, 0));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, ptr, SZ_64K, 1));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, ptr + SZ_64K,
				     HUGE_SZ - PAGE_SZ - SZ_64K, 0));
	ASSERT_EQ(SZ_64K, pinned_since(self->vm_pin));
	ASSERT_EQ(0, check_domains(self, variant, IOVA_COPY, ptr, SZ_64K));
	/* A new domain reads the PFNs back from what is still pinned. */
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->idev_id[0], self->ioas_id,
				&hwpt));
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, IOVA_COPY, ptr, SZ_64K));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_COPY, SZ_64K,
				&unmapped));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, HUGE_SZ, 0));
	ASSERT_EQ(0, pinned_since(self->vm_pin));
}

TEST_F(domain, removing_every_device_unpins_and_restores_the_ranges)
{
	struct iommu_iova_range r[8];
	__u64 align, unmapped;
	unsigned int i;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, IOVA_BASE));
	ASSERT_EQ(0, detach_devices(self->fd, variant, self->stdev_id,
				    self->hwpt_id));
	/* Every automatic HWPT went with its last device. */
	for (i = 0; i < variant->mock_domains; i++)
		ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd,
						   self->hwpt_id[i]));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(0, pinned_since(self->vm_pin));
	ASSERT_EQ(1, get_ranges(self->fd, self->ioas_id, r, &align));
	ASSERT_EQ(0, r[0].start);
	ASSERT_EQ(ALL_IOVA, r[0].last);
	ASSERT_EQ(1, align);
	/* The area itself is untouched. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE, BUF_SIZE,
				&unmapped));
	ASSERT_EQ(BUF_SIZE, unmapped);
}

TEST_F(domain, unmap_all_empties_every_domain)
{
	__u64 dst = IOVA_COPY, unmapped, iova;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    HUGE_SZ, IOVA_BASE));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, self->buf + HUGE_SZ,
			      HUGE_SZ, &iova));
	ASSERT_EQ(0, ioas_copy(self->fd, self->ioas_id, &dst, self->ioas_id,
			       IOVA_BASE + PAGE_SZ, SZ_64K, FIXED_RW));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA,
				&unmapped));
	ASSERT_EQ(2 * HUGE_SZ + SZ_64K, unmapped);
	ASSERT_EQ(0, check_domains_empty(self, variant, IOVA_BASE, self->buf,
					 HUGE_SZ));
	ASSERT_EQ(0, check_domains_empty(self, variant, iova,
					 self->buf + HUGE_SZ, HUGE_SZ));
	ASSERT_EQ(0, check_domains_empty(self, variant, IOVA_COPY,
					 self->buf + PAGE_SZ, SZ_64K));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(0, pinned_since(self->vm_pin));
}

TEST_F(domain, access_pins_share_the_domain_pins)
{
	__u32 item;
	int access_fd;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    HUGE_SZ, IOVA_BASE));
	ASSERT_EQ(0, tcmd_access_create(self->fd, self->ioas_id, PIN_ACCESS,
					&access_fd));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, access_fd, IOVA_BASE + PAGE_SZ,
				     SZ_64K, self->buf + PAGE_SZ,
				     MOCK_FLAGS_ACCESS_WRITE, &item));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf + PAGE_SZ, SZ_64K,
				     1));
	ASSERT_EQ(variant->mock_domains ? HUGE_SZ : SZ_64K,
		  pinned_since(self->vm_pin));
	/* Unmap makes the access let go, and the domains with it. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA, NULL));
	ASSERT_EQ(-ENOENT, tcmd_access_unpin(self->fd, access_fd, item));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, HUGE_SZ, 0));
	ASSERT_EQ(0, pinned_since(self->vm_pin));
	close(access_fd);
}

/* ---------------------------------------------------------------------- */
/*
 * Mock devices and HW page tables on one IOAS: sharing of automatic
 * HWPTs, HWPT_ALLOC, GET_HW_INFO, replace, destroy order, apertures and
 * device reserved regions.
 */

FIXTURE(dev)
{
	int fd;
	__u32 ioas_id;
	char *buf;
	long vm_pin;
};

#define dev_data_t FIXTURE_DATA(dev)

FIXTURE_SETUP(dev)
{
	self->fd = -1;
	self->buf = buf_alloc_small(SZ_1M, 2);
	ASSERT_NE(NULL, self->buf);
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	self->vm_pin = proc_status_kb("VmPin");
	ASSERT_LE(0, self->vm_pin);
}

FIXTURE_TEARDOWN(dev)
{
	int fd;

	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(self->vm_pin, vm_pin_settled(self->vm_pin));
	fd = iommufd_open();
	if (fd >= 0) {
		EXPECT_EQ(0, tcmd_check_refs_settled(fd, self->buf, SZ_1M, 0));
		close(fd);
	}
	munmap(self->buf, SZ_1M);
}

/* --- automatic HWPTs --- */

TEST_F(dev, devices_of_one_kind_share_an_automatic_hwpt)
{
	__u32 stdev[3], hwpt[3], idev[3];
	unsigned int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id,
					      &stdev[i], &hwpt[i], &idev[i]));
	ASSERT_EQ(hwpt[0], hwpt[1]);
	ASSERT_EQ(hwpt[0], hwpt[2]);
	/* Each device has IDs of its own. */
	ASSERT_NE(stdev[0], stdev[1]);
	ASSERT_NE(idev[0], idev[1]);
	ASSERT_NE(idev[0], stdev[0]);
	ASSERT_NE(hwpt[0], idev[0]);
	ASSERT_NE(hwpt[0], self->ioas_id);
	/* The HWPT stays while any device is on it. */
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev[0]));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev[2]));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, hwpt[0]));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev[1]));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, hwpt[0]));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->ioas_id));
}

TEST_F(dev, huge_iova_and_normal_devices_get_separate_automatic_hwpts)
{
	__u32 normal[2], huge[2], hwpt_n[2], hwpt_h[2];
	struct iommu_iova_range r[8];
	__u64 align;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &normal[0],
				      &hwpt_n[0], NULL));
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    HUGE_IOVA, &huge[0], &hwpt_h[0],
					    NULL));
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    HUGE_IOVA, &huge[1], &hwpt_h[1],
					    NULL));
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id, 0,
					    &normal[1], &hwpt_n[1], NULL));
	ASSERT_NE(hwpt_n[0], hwpt_h[0]);
	ASSERT_EQ(hwpt_h[0], hwpt_h[1]);
	ASSERT_EQ(hwpt_n[0], hwpt_n[1]);
	/* Both domains have the same smallest IOPTE and aperture. */
	ASSERT_EQ(1, get_ranges(self->fd, self->ioas_id, r, &align));
	ASSERT_EQ(HALF_PAGE, align);
	ASSERT_EQ(APERTURE_START, r[0].start);
	ASSERT_EQ(APERTURE_LAST, r[0].last);

	ASSERT_EQ(0, iommufd_destroy(self->fd, huge[0]));
	ASSERT_EQ(0, iommufd_destroy(self->fd, huge[1]));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, hwpt_h[0]));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, hwpt_n[0]));
}

/*
 * Extension: a MOCK_FLAGS_DEVICE_WIDE_APERTURE device's domains translate
 * up to 1 TiB. The IOAS reports that aperture, maps far above upstream's
 * 2 GiB land in the domain, and IOVA past its end is refused. A normal
 * device gets a domain of its own, which narrows the IOAS again.
 */
TEST_F(dev, wide_aperture_device_maps_above_2g_and_refuses_past_its_end)
{
	static const __u64 outside[] = { WIDE_LAST + 1, 1ULL << 41,
					 APERTURE_START - PAGE_SZ };
	const __u64 high[] = { APERTURE_LAST + 1, 16ULL << 30,
			       WIDE_LAST + 1 - SZ_1M };
	__u32 wide, hwpt_w, normal, hwpt_n;
	struct iommu_iova_range r[8];
	__u64 align, unmapped;
	unsigned int i;

	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    WIDE_APERTURE, &wide, &hwpt_w,
					    NULL));
	ASSERT_EQ(1, get_ranges(self->fd, self->ioas_id, r, &align));
	ASSERT_EQ(APERTURE_START, r[0].start);
	ASSERT_EQ(WIDE_LAST, r[0].last);
	ASSERT_EQ(HALF_PAGE, align);

	for (i = 0; i < ARRAY_SIZE(high); i++) {
		ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					    SZ_1M, high[i]));
		ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt_w, high[i],
					    self->buf, SZ_1M));
	}
	for (i = 0; i < ARRAY_SIZE(outside); i++)
		ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id,
						  self->buf, PAGE_SZ,
						  outside[i]));
	/* Straddling the end is outside too. */
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  2 * PAGE_SZ,
					  WIDE_LAST + 1 - PAGE_SZ));

	/* A normal device cannot come while IOVA above 2 GiB is mapped. */
	ASSERT_NE(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL, NULL,
				      NULL));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA,
				&unmapped));
	ASSERT_EQ(ARRAY_SIZE(high) * SZ_1M, unmapped);
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &normal,
				      &hwpt_n, NULL));
	ASSERT_NE(hwpt_w, hwpt_n);
	ASSERT_EQ(1, get_ranges(self->fd, self->ioas_id, r, &align));
	ASSERT_EQ(APERTURE_START, r[0].start);
	ASSERT_EQ(APERTURE_LAST, r[0].last);
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  SZ_1M, 16ULL << 30));
	/* Gone again, the wide aperture is back. */
	ASSERT_EQ(0, iommufd_destroy(self->fd, normal));
	ASSERT_EQ(1, get_ranges(self->fd, self->ioas_id, r, &align));
	ASSERT_EQ(WIDE_LAST, r[0].last);
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_1M, 16ULL << 30));
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt_w, 16ULL << 30, self->buf,
				    SZ_1M));
	ASSERT_EQ(0, iommufd_destroy(self->fd, wide));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA,
				&unmapped));
	ASSERT_EQ(0, pinned_since(self->vm_pin));
}

TEST_F(dev, mock_domain_on_a_user_hwpt_attaches_to_it)
{
	__u32 stdev, hwpt, idev, user, got, stdev2;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, &hwpt,
				      &idev));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev, self->ioas_id, &user));
	ASSERT_NE(hwpt, user);
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, user, &stdev2, &got, NULL));
	ASSERT_EQ(user, got);
	/* A huge-IOVA device cannot use a domain of small IOPTEs only. */
	ASSERT_EQ(-EINVAL, tcmd_mock_domain_flags(self->fd, user, HUGE_IOVA,
						  NULL, NULL, NULL));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, user));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev2));
	/* A user HWPT outlives its last device until destroyed. */
	ASSERT_EQ(0, iommufd_destroy(self->fd, user));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, hwpt));
}

TEST_F(dev, mock_domain_on_a_bad_id_or_with_unknown_flags_fails)
{
	__u32 stdev, idev;

	ASSERT_EQ(-ENOENT, tcmd_mock_domain(self->fd, 9999, NULL, NULL,
					    NULL));
	/* As upstream's mock_dev_create(): an unknown flag is EINVAL. */
	ASSERT_EQ(-EINVAL, tcmd_mock_domain_flags(self->fd, self->ioas_id,
						  1U << 5, NULL, NULL, NULL));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, NULL,
				      &idev));
	/* Neither a device nor a selftest object is a page table. */
	ASSERT_EQ(-EINVAL, tcmd_mock_domain(self->fd, idev, NULL, NULL, NULL));
	ASSERT_EQ(-EINVAL, tcmd_mock_domain(self->fd, stdev, NULL, NULL,
					    NULL));
}

/* --- IOPTE sizes the core can use --- */

/*
 * Pinned memory is only contiguous page by page, so a domain whose
 * smallest IOPTE is bigger than PAGE_SIZE cannot map it: attaching fails
 * with EINVAL, and changes nothing, whatever the IOAS holds.
 */
TEST_F(dev, domain_whose_smallest_iopte_exceeds_a_page_fails_einval)
{
	struct iommu_iova_range before[8], after[8];
	__u64 align_before, align_after;
	int n;

	n = get_ranges(self->fd, self->ioas_id, before, &align_before);
	ASSERT_LT(0, n);
	/* Empty: no area to misalign, refused all the same. */
	ASSERT_EQ(-EINVAL, tcmd_mock_domain_flags(self->fd, self->ioas_id,
						  HUGE_IOPTE_ONLY, NULL, NULL,
						  NULL));
	ASSERT_EQ(n, get_ranges(self->fd, self->ioas_id, after,
				&align_after));
	ASSERT_EQ(align_before, align_after);
	ASSERT_EQ(0, memcmp(before, after, n * sizeof(*before)));

	/* Mapped, on IOVA aligned to the large IOPTE. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf, SZ_1M,
				    IOVA_BASE));
	ASSERT_EQ(-EINVAL, tcmd_mock_domain_flags(self->fd, self->ioas_id,
						  HUGE_IOPTE_ONLY, NULL, NULL,
						  NULL));
	ASSERT_EQ(0, pinned_since(self->vm_pin));
	/* The IOAS is free: no HWPT of the refused device is left on it. */
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->ioas_id));
}

/*
 * Windows: a window page size that is a multiple of a domain's smallest
 * IOPTE is fine, and none makes a domain of too large IOPTEs acceptable.
 */
TEST_F(dev, windows_do_not_make_a_too_large_smallest_iopte_acceptable)
{
	__u32 ioas, stdev, stdev_huge;

	ASSERT_EQ(0, ioas_alloc_windowed(self->fd, &ioas));
	ASSERT_EQ(0, ioas_create_window_fixed(self->fd, ioas, IOVA_BASE,
					      4 * SZ_1M, MOCK_HUGE_SZ, 0));
	/* The window's page size is exactly the domain's only IOPTE. */
	ASSERT_EQ(-EINVAL, tcmd_mock_domain_flags(self->fd, ioas,
						  HUGE_IOPTE_ONLY, NULL, NULL,
						  NULL));
	/* 1 MiB pages: 512 small IOPTEs each, or one large one. */
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, ioas, &stdev, NULL, NULL));
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, ioas, HUGE_IOVA,
					    &stdev_huge, NULL, NULL));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, ioas, self->buf, SZ_1M,
				    IOVA_BASE));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev_huge));

	/* Two pages: a multiple of the small IOPTE, bigger than a page. */
	ASSERT_EQ(0, ioas_create_window_fixed(self->fd, ioas,
					      IOVA_BASE + 4 * SZ_1M, SZ_1M,
					      2 * PAGE_SZ, 0));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, ioas, &stdev, NULL, NULL));
	ASSERT_EQ(-EINVAL, tcmd_mock_domain_flags(self->fd, ioas,
						  HUGE_IOPTE_ONLY, NULL, NULL,
						  NULL));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	ASSERT_EQ(0, iommufd_destroy(self->fd, ioas));
}

/* --- destroy order --- */

TEST_F(dev, busy_objects_fail_ebusy_until_destroyed_in_order)
{
	__u32 stdev, hwpt, idev, user, stdev2;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_1M, IOVA_BASE));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, &hwpt,
				      &idev));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev, self->ioas_id, &user));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, user, &stdev2, NULL, NULL));

	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->ioas_id));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, hwpt));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, user));
	/* The bound device belongs to its selftest object, not to us. */
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, idev));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, SZ_1M, 1));

	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev2));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->ioas_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, user));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->ioas_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, idev));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, hwpt));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, SZ_1M, 0));
	ASSERT_EQ(0, pinned_since(self->vm_pin));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->ioas_id));
}

/*
 * Everything live at once: areas and copies in two IOASes, automatic and
 * user HWPTs of both kinds, reserved regions, a pinning access with pages
 * pinned. Returns the access fd.
 */
static int build_everything(struct __test_metadata *_metadata,
			    dev_data_t *self)
{
	__u32 stdev, idev, user, ioas2, item;
	__u64 dst = IOVA_OTHER;
	int access_fd;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_1M, IOVA_BASE));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, NULL,
				      &idev));
	ASSERT_EQ(0, tcmd_mock_device_add_resv(self->fd, stdev, IOVA_COPY,
					       SZ_1M));
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    HUGE_IOVA, NULL, NULL, NULL));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev, self->ioas_id, &user));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, user, NULL, NULL, NULL));
	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, ioas2, NULL, NULL, NULL));
	ASSERT_EQ(0, ioas_copy(self->fd, ioas2, &dst, self->ioas_id,
			       IOVA_BASE, SZ_1M, FIXED_RW));
	ASSERT_EQ(0, tcmd_access_create(self->fd, self->ioas_id, PIN_ACCESS,
					&access_fd));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, access_fd, IOVA_BASE, SZ_64K,
				     self->buf, MOCK_FLAGS_ACCESS_WRITE,
				     &item));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, SZ_1M, 1));
	ASSERT_EQ(SZ_1M, pinned_since(self->vm_pin));
	return access_fd;
}

TEST_F(dev, closing_the_fd_with_everything_live_frees_all)
{
	int access_fd = build_everything(_metadata, self);

	close(access_fd);
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	ASSERT_EQ(0, pinned_since(self->vm_pin));
}

TEST_F(dev, closing_the_fd_before_a_pinning_access_frees_all_after_it)
{
	int access_fd = build_everything(_metadata, self);

	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	ASSERT_EQ(0, close(access_fd));
	ASSERT_EQ(0, pinned_since(self->vm_pin));
}

/* --- HWPT_ALLOC --- */

static int hwpt_alloc_cmd(int fd, struct iommu_hwpt_alloc *cmd)
{
	cmd->size = sizeof(*cmd);
	return iommufd_ioctl(fd, IOMMU_HWPT_ALLOC, cmd);
}

TEST_F(dev, hwpt_alloc_makes_a_domain_mirroring_the_ioas)
{
	__u32 stdev, idev, hwpt, user, got;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_1M, IOVA_BASE));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, &hwpt,
				      &idev));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev, self->ioas_id, &user));
	ASSERT_NE(hwpt, user);
	ASSERT_EQ(0, tcmd_check_map(self->fd, user, IOVA_BASE, self->buf,
				    SZ_1M));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, SZ_1M, 1));
	/* Moving the device there lets its automatic HWPT go. */
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, stdev, user, &got));
	ASSERT_EQ(user, got);
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, hwpt));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, user));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->ioas_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	ASSERT_EQ(0, tcmd_check_map(self->fd, user, IOVA_BASE, self->buf,
				    SZ_1M));
	ASSERT_EQ(0, iommufd_destroy(self->fd, user));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, SZ_1M, 0));
}

TEST_F(dev, hwpt_alloc_for_a_huge_iova_device_gets_its_kind_of_domain)
{
	__u32 stdev, idev, user, got;

	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    HUGE_IOVA, &stdev, NULL, &idev));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev, self->ioas_id, &user));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, stdev, user, &got));
	ASSERT_EQ(user, got);
	/* ...which a normal device cannot share. */
	ASSERT_EQ(-EINVAL, tcmd_mock_domain(self->fd, user, NULL, NULL,
					    NULL));
}

TEST_F(dev, hwpt_alloc_with_flags_or_reserved_fields_fails_eopnotsupp)
{
	/*
	 * DIRTY_TRACKING (iommufd_dirty.c) and NEST_PARENT
	 * (iommufd_nesting.c) work on an IOAS for mock devices, but not
	 * with an unknown flag; FAULT_ID_VALID is for nested HWPTs only
	 * (iommufd_fault.c), as in 6.12, alone or with either.
	 */
	static const __u32 flags[] = { IOMMU_HWPT_ALLOC_NEST_PARENT | 1U << 3,
				       IOMMU_HWPT_FAULT_ID_VALID,
				       IOMMU_HWPT_FAULT_ID_VALID |
				       IOMMU_HWPT_ALLOC_NEST_PARENT,
				       IOMMU_HWPT_FAULT_ID_VALID |
				       IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				       1U << 3, 1U << 31 };
	struct iommu_hwpt_alloc cmd;
	__u32 idev;
	unsigned int i;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL, NULL,
				      &idev));
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		cmd = (struct iommu_hwpt_alloc){
			.flags = flags[i],
			.dev_id = idev,
			.pt_id = self->ioas_id,
		};
		ASSERT_EQ(-EOPNOTSUPP, hwpt_alloc_cmd(self->fd, &cmd))
			TH_LOG("flags %#x", flags[i]);
	}
	cmd = (struct iommu_hwpt_alloc){
		.dev_id = idev,
		.pt_id = self->ioas_id,
		.__reserved = 1,
	};
	ASSERT_EQ(-EOPNOTSUPP, hwpt_alloc_cmd(self->fd, &cmd));
}

TEST_F(dev, hwpt_alloc_with_data_fails)
{
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };
	struct iommu_hwpt_alloc cmd;
	__u32 idev;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL, NULL,
				      &idev));
	/* Data without a type, or a type without data. */
	cmd = (struct iommu_hwpt_alloc){
		.dev_id = idev,
		.pt_id = self->ioas_id,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data,
	};
	ASSERT_EQ(-EINVAL, hwpt_alloc_cmd(self->fd, &cmd));
	cmd = (struct iommu_hwpt_alloc){
		.dev_id = idev,
		.pt_id = self->ioas_id,
		.data_type = IOMMU_HWPT_DATA_SELFTEST,
	};
	ASSERT_EQ(-EINVAL, hwpt_alloc_cmd(self->fd, &cmd));
	/* Both checks come before the device is looked up. */
	cmd.dev_id = 9999;
	ASSERT_EQ(-EINVAL, hwpt_alloc_cmd(self->fd, &cmd));
	/* Well-formed data: no backend implements any yet. */
	cmd = (struct iommu_hwpt_alloc){
		.dev_id = idev,
		.pt_id = self->ioas_id,
		.data_type = IOMMU_HWPT_DATA_SELFTEST,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data,
	};
	ASSERT_EQ(-EOPNOTSUPP, hwpt_alloc_cmd(self->fd, &cmd));
	cmd.data_type = IOMMU_HWPT_DATA_VTD_S1;
	ASSERT_EQ(-EOPNOTSUPP, hwpt_alloc_cmd(self->fd, &cmd));
}

TEST_F(dev, hwpt_alloc_on_a_bad_or_wrong_type_of_device_fails_enoent)
{
	__u32 stdev, hwpt, idev;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, &hwpt,
				      &idev));
	ASSERT_EQ(-ENOENT, hwpt_alloc(self->fd, 0, self->ioas_id, NULL));
	ASSERT_EQ(-ENOENT, hwpt_alloc(self->fd, 9999, self->ioas_id, NULL));
	ASSERT_EQ(-ENOENT, hwpt_alloc(self->fd, self->ioas_id, self->ioas_id,
				      NULL));
	ASSERT_EQ(-ENOENT, hwpt_alloc(self->fd, stdev, self->ioas_id, NULL));
	ASSERT_EQ(-ENOENT, hwpt_alloc(self->fd, hwpt, self->ioas_id, NULL));
	/* A device of a destroyed selftest object is gone too. */
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	ASSERT_EQ(-ENOENT, hwpt_alloc(self->fd, idev, self->ioas_id, NULL));
}

TEST_F(dev, hwpt_alloc_on_a_bad_or_wrong_type_of_page_table_fails)
{
	__u32 stdev, hwpt, idev, ioas2;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, &hwpt,
				      &idev));
	/* As upstream, a missing page table ID is EINVAL, not ENOENT. */
	ASSERT_EQ(-EINVAL, hwpt_alloc(self->fd, idev, 9999, NULL));
	ASSERT_EQ(-EINVAL, hwpt_alloc(self->fd, idev, 0, NULL));
	ASSERT_EQ(-EINVAL, hwpt_alloc(self->fd, idev, idev, NULL));
	ASSERT_EQ(-EINVAL, hwpt_alloc(self->fd, idev, stdev, NULL));
	/* A HWPT asks for a nested HWPT, which needs data (iommufd_nesting.c). */
	ASSERT_EQ(-EOPNOTSUPP, hwpt_alloc(self->fd, idev, hwpt, NULL));
	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, iommufd_destroy(self->fd, ioas2));
	ASSERT_EQ(-EINVAL, hwpt_alloc(self->fd, idev, ioas2, NULL));
}

TEST_F(dev, hwpt_alloc_on_an_ioas_mapping_outside_the_aperture_fails)
{
	__u32 idev, ioas2, hwpt;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL, NULL,
				      &idev));
	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, ioas2, self->buf, SZ_64K,
				    PAGE_SZ));
	ASSERT_EQ(-EADDRINUSE, hwpt_alloc(self->fd, idev, ioas2, &hwpt));
	/* Nothing was left behind: the IOAS is free to go. */
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, SZ_64K, 0));
	ASSERT_EQ(0, iommufd_destroy(self->fd, ioas2));
}

/* --- GET_HW_INFO --- */

static int hw_info_cmd(int fd, struct iommu_hw_info *cmd)
{
	cmd->size = sizeof(*cmd);
	return iommufd_ioctl(fd, IOMMU_GET_HW_INFO, cmd);
}

TEST_F(dev, hw_info_reports_the_mock_type_and_register)
{
	struct iommu_test_hw_info info;
	__u32 idev, len = sizeof(info), type;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL, NULL,
				      &idev));
	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, get_hw_info(self->fd, idev, &info, &len, &type));
	ASSERT_EQ(sizeof(info), len);
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, type);
	ASSERT_EQ(0, info.flags);
	ASSERT_EQ(IOMMU_HW_INFO_SELFTEST_REGVAL, info.test_reg);
}

TEST_F(dev, hw_info_zero_fills_a_larger_buffer)
{
	unsigned char big[64];
	struct iommu_test_hw_info *info = (void *)big;
	__u32 idev, len = sizeof(big), type;
	unsigned int i;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL, NULL,
				      &idev));
	memset(big, 0xa5, sizeof(big));
	ASSERT_EQ(0, get_hw_info(self->fd, idev, big, &len, &type));
	/* The length the driver has, not the buffer's. */
	ASSERT_EQ(sizeof(*info), len);
	ASSERT_EQ(IOMMU_HW_INFO_SELFTEST_REGVAL, info->test_reg);
	for (i = sizeof(*info); i < sizeof(big); i++)
		ASSERT_EQ(0, big[i]) TH_LOG("byte %u", i);
}

TEST_F(dev, hw_info_into_a_smaller_buffer_copies_only_what_fits)
{
	unsigned char small[8];
	__u32 idev, len, type, flags = 0;
	unsigned int i;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL, NULL,
				      &idev));
	/* Room for flags only: test_reg must not be written. */
	memset(small, 0xa5, sizeof(small));
	len = sizeof(flags);
	ASSERT_EQ(0, get_hw_info(self->fd, idev, small, &len, &type));
	ASSERT_EQ(sizeof(struct iommu_test_hw_info), len);
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, type);
	ASSERT_EQ(0, memcmp(small, &flags, sizeof(flags)));
	for (i = sizeof(flags); i < sizeof(small); i++)
		ASSERT_EQ(0xa5, small[i]);
	/* No buffer at all still reports the type and length. */
	len = 0;
	ASSERT_EQ(0, get_hw_info(self->fd, idev, NULL, &len, &type));
	ASSERT_EQ(sizeof(struct iommu_test_hw_info), len);
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, type);
}

TEST_F(dev, hw_info_into_a_bad_buffer_fails_efault)
{
	__u32 idev, len = sizeof(struct iommu_test_hw_info);

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL, NULL,
				      &idev));
	ASSERT_EQ(-EFAULT, get_hw_info(self->fd, idev, NULL, &len, NULL));
}

TEST_F(dev, hw_info_with_flags_or_reserved_fields_fails_eopnotsupp)
{
	struct iommu_test_hw_info info;
	struct iommu_hw_info cmd;
	__u32 idev;
	unsigned int i;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL, NULL,
				      &idev));
	cmd = (struct iommu_hw_info){
		.dev_id = idev,
		.data_len = sizeof(info),
		.data_uptr = (uintptr_t)&info,
		.flags = 1,
	};
	ASSERT_EQ(-EOPNOTSUPP, hw_info_cmd(self->fd, &cmd));
	for (i = 0; i < 3; i++) {
		cmd.flags = 0;
		memset(cmd.__reserved, 0, sizeof(cmd.__reserved));
		cmd.__reserved[i] = 1;
		ASSERT_EQ(-EOPNOTSUPP, hw_info_cmd(self->fd, &cmd));
	}
	/* Flags are judged before the device is looked up. */
	cmd.dev_id = 9999;
	ASSERT_EQ(-EOPNOTSUPP, hw_info_cmd(self->fd, &cmd));
}

TEST_F(dev, hw_info_of_a_bad_or_wrong_type_of_device_fails_enoent)
{
	struct iommu_test_hw_info info;
	__u32 stdev, hwpt, idev, len;
	const __u32 bad[] = { 0, 9999, self->ioas_id };
	unsigned int i;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, &hwpt,
				      &idev));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		len = sizeof(info);
		ASSERT_EQ(-ENOENT, get_hw_info(self->fd, bad[i], &info, &len,
					       NULL));
	}
	len = sizeof(info);
	ASSERT_EQ(-ENOENT, get_hw_info(self->fd, stdev, &info, &len, NULL));
	ASSERT_EQ(-ENOENT, get_hw_info(self->fd, hwpt, &info, &len, NULL));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	ASSERT_EQ(-ENOENT, get_hw_info(self->fd, idev, &info, &len, NULL));
}

/* --- replace --- */

TEST_F(dev, replace_to_a_user_hwpt_frees_the_old_automatic_one)
{
	__u32 stdev, hwpt, idev, user, got;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_1M, IOVA_BASE));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, &hwpt,
				      &idev));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev, self->ioas_id, &user));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, stdev, user, &got));
	ASSERT_EQ(user, got);
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, hwpt));
	/* Replacing onto the HWPT the device is on changes nothing. */
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, stdev, user, &got));
	ASSERT_EQ(user, got);
	/* Back to the IOAS: a fresh automatic HWPT, filled. */
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, stdev, self->ioas_id,
					      &got));
	ASSERT_NE(user, got);
	ASSERT_EQ(0, tcmd_check_map(self->fd, got, IOVA_BASE, self->buf,
				    SZ_1M));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, SZ_1M, 1));
	ASSERT_EQ(SZ_1M, pinned_since(self->vm_pin));
	ASSERT_EQ(0, iommufd_destroy(self->fd, user));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, got));
}

TEST_F(dev, replace_to_another_ioas_moves_the_aperture_and_the_pins)
{
	struct iommu_iova_range r[8];
	__u32 stdev, hwpt, ioas2, got;
	__u64 align, dst = IOVA_OTHER;

	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_1M, IOVA_BASE));
	ASSERT_EQ(0, ioas_copy(self->fd, ioas2, &dst, self->ioas_id,
			       IOVA_BASE, SZ_64K, FIXED_RW));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, &hwpt,
				      NULL));
	ASSERT_EQ(SZ_1M, pinned_since(self->vm_pin));

	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, stdev, ioas2, &got));
	ASSERT_NE(hwpt, got);
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, hwpt));
	ASSERT_EQ(0, tcmd_check_map(self->fd, got, IOVA_OTHER, self->buf,
				    SZ_64K));
	/* Only what the second IOAS maps stays pinned. */
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, SZ_64K, 1));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf + SZ_64K,
				     SZ_1M - SZ_64K, 0));
	ASSERT_EQ(SZ_64K, pinned_since(self->vm_pin));
	ASSERT_EQ(1, get_ranges(self->fd, self->ioas_id, r, &align));
	ASSERT_EQ(0, r[0].start);
	ASSERT_EQ(ALL_IOVA, r[0].last);
	ASSERT_EQ(1, align);
	ASSERT_EQ(1, get_ranges(self->fd, ioas2, r, &align));
	ASSERT_EQ(APERTURE_START, r[0].start);
	ASSERT_EQ(APERTURE_LAST, r[0].last);
	ASSERT_EQ(HALF_PAGE, align);
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, ioas2));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->ioas_id));
}

TEST_F(dev, replace_that_fails_keeps_the_device_where_it_was)
{
	__u32 stdev, hwpt, idev, ioas2, got, huge_stdev, huge_hwpt;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_64K, IOVA_BASE));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, &hwpt,
				      &idev));
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    HUGE_IOVA, &huge_stdev,
					    &huge_hwpt, NULL));
	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, ioas2, self->buf, SZ_64K,
				    PAGE_SZ));
	ASSERT_EQ(-ENOENT, tcmd_mock_domain_replace(self->fd, stdev, 9999,
						    &got));
	ASSERT_EQ(-EINVAL, tcmd_mock_domain_replace(self->fd, stdev, idev,
						    &got));
	ASSERT_EQ(-EINVAL, tcmd_mock_domain_replace(self->fd, stdev, stdev,
						    &got));
	/* Different page sizes: neither kind can use the other's domain. */
	ASSERT_EQ(-EINVAL, tcmd_mock_domain_replace(self->fd, stdev,
						    huge_hwpt, &got));
	ASSERT_EQ(-EINVAL, tcmd_mock_domain_replace(self->fd, huge_stdev,
						    hwpt, &got));
	/* The other IOAS maps IOVA below the aperture. */
	ASSERT_EQ(-EADDRINUSE, tcmd_mock_domain_replace(self->fd, stdev,
							ioas2, &got));
	ASSERT_EQ(-ENOENT, tcmd_mock_domain_replace(self->fd, 9999, hwpt,
						    &got));

	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, IOVA_BASE, self->buf,
				    SZ_64K));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, hwpt));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, SZ_64K, 1));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, hwpt));
	/* The failed attach left no domain behind in the other IOAS. */
	ASSERT_EQ(0, iommufd_destroy(self->fd, ioas2));
}

/* --- apertures and alignment --- */

TEST_F(dev, attach_to_an_ioas_mapping_outside_the_aperture_fails_eaddrinuse)
{
	static const __u64 outside[] = { PAGE_SZ, APERTURE_START - SZ_64K,
					 APERTURE_LAST + 1, 1ULL << 40 };
	struct iommu_iova_range r[8];
	__u64 align, unmapped;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(outside); i++) {
		ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					    SZ_64K, outside[i]));
		ASSERT_EQ(-EADDRINUSE, tcmd_mock_domain(self->fd,
							self->ioas_id, NULL,
							NULL, NULL))
			TH_LOG("area at %#llx", outside[i]);
		ASSERT_EQ(-EADDRINUSE,
			  tcmd_mock_domain_flags(self->fd, self->ioas_id,
						 HUGE_IOVA, NULL, NULL, NULL));
		/* Nothing changed: no pins, no reserved ranges. */
		ASSERT_EQ(0, pinned_since(self->vm_pin));
		ASSERT_EQ(1, get_ranges(self->fd, self->ioas_id, r, &align));
		ASSERT_EQ(0, r[0].start);
		ASSERT_EQ(ALL_IOVA, r[0].last);
		ASSERT_EQ(1, align);
		ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, outside[i],
					SZ_64K, &unmapped));
		ASSERT_EQ(SZ_64K, unmapped);
	}
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL, NULL,
				      NULL));
}

TEST_F(dev, attach_to_an_ioas_allowing_iova_outside_the_aperture_fails)
{
	struct iommu_iova_range allow[2] = {
		{ .start = APERTURE_START, .last = APERTURE_LAST },
		{ .start = APERTURE_LAST + 1, .last = APERTURE_LAST + SZ_1M },
	};

	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, allow, 2));
	ASSERT_EQ(-EADDRINUSE, tcmd_mock_domain(self->fd, self->ioas_id, NULL,
						NULL, NULL));
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, allow, 1));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL, NULL,
				      NULL));
	/* And with the domain there, the list cannot grow outside it. */
	ASSERT_EQ(-EADDRINUSE, ioas_allow_iovas(self->fd, self->ioas_id, allow,
						2));
}

TEST_F(dev, attach_to_an_ioas_with_an_area_not_half_page_aligned_fails)
{
	__u64 iova = IOVA_BASE, unmapped;

	/* Bad length, bad IOVA, bad offset into the user page. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    HALF_PAGE + 8, IOVA_BASE));
	ASSERT_EQ(-EADDRINUSE, tcmd_mock_domain(self->fd, self->ioas_id, NULL,
						NULL, NULL));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA,
				&unmapped));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, IOVA_BASE + 512));
	ASSERT_EQ(-EADDRINUSE, tcmd_mock_domain(self->fd, self->ioas_id, NULL,
						NULL, NULL));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA,
				&unmapped));
	ASSERT_EQ(0, ioas_map_flags(self->fd, self->ioas_id, self->buf + 512,
				    PAGE_SZ, &iova, FIXED_RW));
	ASSERT_EQ(-EADDRINUSE, tcmd_mock_domain(self->fd, self->ioas_id, NULL,
						NULL, NULL));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA,
				&unmapped));
	ASSERT_EQ(0, pinned_since(self->vm_pin));
	/* Half-page granular areas are fine. */
	iova = IOVA_BASE + HALF_PAGE;
	ASSERT_EQ(0, ioas_map_flags(self->fd, self->ioas_id,
				    self->buf + HALF_PAGE, 3 * HALF_PAGE,
				    &iova, FIXED_RW));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL, NULL,
				      NULL));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, 2 * PAGE_SZ, 1));
}

/* --- device reserved regions --- */

#define RESV_START (IOVA_COPY)
#define RESV_LEN SZ_1M

TEST_F(dev, device_resv_over_an_area_or_allowed_range_fails_eaddrinuse)
{
	struct iommu_iova_range allow = {
		.start = IOVA_OTHER, .last = IOVA_OTHER + SZ_1M - 1,
	};
	struct iommu_iova_range r[8];
	__u32 stdev, ioas2;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_64K, IOVA_BASE));
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, &allow, 1));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, NULL,
				      NULL));
	ASSERT_EQ(-EADDRINUSE, tcmd_mock_device_add_resv(self->fd, stdev,
							 IOVA_BASE + PAGE_SZ,
							 PAGE_SZ));
	ASSERT_EQ(-EADDRINUSE, tcmd_mock_device_add_resv(self->fd, stdev,
							 IOVA_BASE - PAGE_SZ,
							 2 * PAGE_SZ));
	ASSERT_EQ(-EADDRINUSE, tcmd_mock_device_add_resv(self->fd, stdev,
							 IOVA_OTHER + SZ_64K,
							 PAGE_SZ));
	/* Nothing was reserved: the ranges are still the whole aperture. */
	ASSERT_EQ(1, get_ranges(self->fd, self->ioas_id, r, NULL));
	ASSERT_EQ(APERTURE_START, r[0].start);
	ASSERT_EQ(APERTURE_LAST, r[0].last);
	/* Nor did a refused region stick to the device for later IOASes. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, stdev, ioas2, NULL));
	ASSERT_EQ(1, get_ranges(self->fd, ioas2, r, NULL));
	ASSERT_EQ(APERTURE_START, r[0].start);
	ASSERT_EQ(APERTURE_LAST, r[0].last);
}

TEST_F(dev, device_resv_of_zero_length_or_on_a_bad_device_fails)
{
	__u32 stdev, hwpt, idev;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, &hwpt,
				      &idev));
	ASSERT_EQ(-EINVAL, tcmd_mock_device_add_resv(self->fd, stdev,
						     RESV_START, 0));
	ASSERT_EQ(-EOVERFLOW, tcmd_mock_device_add_resv(self->fd, stdev,
							ALL_IOVA - PAGE_SZ,
							2 * PAGE_SZ));
	ASSERT_EQ(-ENOENT, tcmd_mock_device_add_resv(self->fd, 9999,
						     RESV_START, RESV_LEN));
	ASSERT_EQ(-ENOENT, tcmd_mock_device_add_resv(self->fd, idev,
						     RESV_START, RESV_LEN));
	ASSERT_EQ(-ENOENT, tcmd_mock_device_add_resv(self->fd, hwpt,
						     RESV_START, RESV_LEN));
}

TEST_F(dev, device_resv_is_a_hole_in_iova_ranges_and_blocks_map)
{
	struct iommu_iova_range r[8];
	__u32 stdev;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, NULL,
				      NULL));
	ASSERT_EQ(0, tcmd_mock_device_add_resv(self->fd, stdev, RESV_START,
					       RESV_LEN));
	ASSERT_EQ(2, get_ranges(self->fd, self->ioas_id, r, NULL));
	ASSERT_EQ(APERTURE_START, r[0].start);
	ASSERT_EQ(RESV_START - 1, r[0].last);
	ASSERT_EQ(RESV_START + RESV_LEN, r[1].start);
	ASSERT_EQ(APERTURE_LAST, r[1].last);
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  SZ_64K, RESV_START + SZ_64K));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  SZ_64K, RESV_START - PAGE_SZ));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_64K, RESV_START - SZ_64K));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_64K, RESV_START + RESV_LEN));
}

TEST_F(dev, auto_map_avoids_a_device_resv)
{
	/* Leave only the top 1M of the aperture free. */
	__u64 resv_len = APERTURE_LAST + 1 - SZ_1M - APERTURE_START;
	unsigned int i;
	__u32 stdev;
	__u64 iova;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, NULL,
				      NULL));
	ASSERT_EQ(0, tcmd_mock_device_add_resv(self->fd, stdev,
					       APERTURE_START, resv_len));
	for (i = 0; i < SZ_1M / SZ_64K; i++) {
		ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id,
				      self->buf + i * SZ_64K, SZ_64K, &iova));
		ASSERT_LE(APERTURE_START + resv_len, iova);
		ASSERT_GE(APERTURE_LAST, iova + SZ_64K - 1);
	}
	ASSERT_EQ(-ENOSPC, ioas_map(self->fd, self->ioas_id, self->buf,
				    SZ_64K, &iova));
}

TEST_F(dev, replace_to_another_ioas_carries_the_device_resv)
{
	struct iommu_iova_range r[8];
	__u32 stdev, ioas2;

	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, NULL,
				      NULL));
	ASSERT_EQ(0, tcmd_mock_device_add_resv(self->fd, stdev, RESV_START,
					       RESV_LEN));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, stdev, ioas2, NULL));
	ASSERT_EQ(2, get_ranges(self->fd, ioas2, r, NULL));
	ASSERT_EQ(RESV_START - 1, r[0].last);
	ASSERT_EQ(RESV_START + RESV_LEN, r[1].start);
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, ioas2, self->buf, SZ_64K,
					  RESV_START));
	/* The first IOAS is free of the device and of its region. */
	ASSERT_EQ(1, get_ranges(self->fd, self->ioas_id, r, NULL));
	ASSERT_EQ(0, r[0].start);
	ASSERT_EQ(ALL_IOVA, r[0].last);
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_64K, RESV_START));
	/* Coming back is refused now that an area sits in the region. */
	ASSERT_EQ(-EADDRINUSE, tcmd_mock_domain_replace(self->fd, stdev,
							self->ioas_id, NULL));
	ASSERT_EQ(2, get_ranges(self->fd, ioas2, r, NULL));
	ASSERT_EQ(1, get_ranges(self->fd, self->ioas_id, r, NULL));
	ASSERT_EQ(0, r[0].start);
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, ioas2));
}

TEST_F(dev, replace_within_an_ioas_keeps_the_device_resv)
{
	struct iommu_iova_range r[8];
	__u32 stdev, idev, user;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, NULL,
				      &idev));
	ASSERT_EQ(0, tcmd_mock_device_add_resv(self->fd, stdev, RESV_START,
					       RESV_LEN));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev, self->ioas_id, &user));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, stdev, user, NULL));
	ASSERT_EQ(2, get_ranges(self->fd, self->ioas_id, r, NULL));
	ASSERT_EQ(RESV_START - 1, r[0].last);
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, stdev, self->ioas_id,
					      NULL));
	ASSERT_EQ(2, get_ranges(self->fd, self->ioas_id, r, NULL));
	ASSERT_EQ(RESV_START + RESV_LEN, r[1].start);
}

TEST_F(dev, unbinding_a_device_drops_only_its_own_resv)
{
	struct iommu_iova_range r[8];
	__u32 stdev[2], hwpt[2];
	__u64 other = RESV_START + 4 * RESV_LEN;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev[0],
				      &hwpt[0], NULL));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev[1],
				      &hwpt[1], NULL));
	ASSERT_EQ(hwpt[0], hwpt[1]);
	ASSERT_EQ(0, tcmd_mock_device_add_resv(self->fd, stdev[0], RESV_START,
					       RESV_LEN));
	ASSERT_EQ(0, tcmd_mock_device_add_resv(self->fd, stdev[1], other,
					       RESV_LEN));
	/* Two devices may reserve the same IOVA. */
	ASSERT_EQ(0, tcmd_mock_device_add_resv(self->fd, stdev[1], RESV_START,
					       PAGE_SZ));
	ASSERT_EQ(3, get_ranges(self->fd, self->ioas_id, r, NULL));

	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev[0]));
	/* The shared part stays reserved by the device that is left. */
	ASSERT_EQ(3, get_ranges(self->fd, self->ioas_id, r, NULL));
	ASSERT_EQ(RESV_START - 1, r[0].last);
	ASSERT_EQ(RESV_START + PAGE_SZ, r[1].start);
	ASSERT_EQ(other - 1, r[1].last);
	ASSERT_EQ(other + RESV_LEN, r[2].start);
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev[1]));
	ASSERT_EQ(1, get_ranges(self->fd, self->ioas_id, r, NULL));
	ASSERT_EQ(0, r[0].start);
	ASSERT_EQ(ALL_IOVA, r[0].last);
}

/* ---------------------------------------------------------------------- */
/*
 * A domain running out of IOPTEs (the SET_LIMIT extension op) part way
 * through a fill: everything done so far, in every domain, is undone.
 */

FIXTURE(iopte_cap)
{
	int fd;
	__u32 ioas_id;
	__u32 hwpt_id[MAX_DEVS];
	char *buf;
	long vm_pin;
};

FIXTURE_VARIANT(iopte_cap)
{
	unsigned int mock_domains;
	/* Which domain gets the cap. */
	unsigned int capped;
	__u32 dev_flags;
};

#define cap_data_t FIXTURE_DATA(iopte_cap)
#define cap_variant_t FIXTURE_VARIANT(iopte_cap)

FIXTURE_VARIANT_ADD(iopte_cap, one_domain)
{
	.mock_domains = 1,
	.capped = 0,
};

/* The second domain fails after the first was filled. */
FIXTURE_VARIANT_ADD(iopte_cap, second_of_two_domains)
{
	.mock_domains = 2,
	.capped = 1,
};

FIXTURE_VARIANT_ADD(iopte_cap, first_of_two_domains)
{
	.mock_domains = 2,
	.capped = 0,
};

FIXTURE_VARIANT_ADD(iopte_cap, huge_iova_domain)
{
	.mock_domains = 1,
	.capped = 0,
	.dev_flags = HUGE_IOVA,
};

#define CAP_BUF (64 * PAGE_SZ)
/* Small pages: two half-page IOPTEs per page. */
#define IOPTES(len) ((len) / HALF_PAGE)

FIXTURE_SETUP(iopte_cap)
{
	unsigned int i;
	__u32 idev;

	self->fd = -1;
	self->buf = buf_alloc_small(CAP_BUF, 3);
	ASSERT_NE(NULL, self->buf);
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    variant->dev_flags, NULL,
					    &self->hwpt_id[0], &idev));
	for (i = 1; i < variant->mock_domains; i++)
		ASSERT_EQ(0, hwpt_alloc(self->fd, idev, self->ioas_id,
					&self->hwpt_id[i]));
	self->vm_pin = proc_status_kb("VmPin");
	ASSERT_LE(0, self->vm_pin);
}

FIXTURE_TEARDOWN(iopte_cap)
{
	int fd;

	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(self->vm_pin, vm_pin_settled(self->vm_pin));
	fd = iommufd_open();
	if (fd >= 0) {
		EXPECT_EQ(0, tcmd_check_refs_settled(fd, self->buf, CAP_BUF, 0));
		close(fd);
	}
	munmap(self->buf, CAP_BUF);
}

static int cap_set(cap_data_t *self,
		   const cap_variant_t *variant, __u32 limit)
{
	return tcmd_mock_domain_set_limit(self->fd,
					  self->hwpt_id[variant->capped],
					  limit);
}

/* 0 if no domain maps any unit of [iova, iova + len). */
static int cap_none_mapped(cap_data_t *self,
			   const cap_variant_t *variant,
			   __u64 iova, const char *ptr, __u64 len)
{
	unsigned int i;
	__u64 off;

	for (i = 0; i < variant->mock_domains; i++)
		for (off = 0; off < len; off += HALF_PAGE)
			if (tcmd_check_map(self->fd, self->hwpt_id[i],
					   iova + off, ptr + off,
					   HALF_PAGE) != -EINVAL)
				return -EEXIST;
	return 0;
}

static int cap_all_mapped(cap_data_t *self,
			  const cap_variant_t *variant,
			  __u64 iova, const char *ptr, __u64 len)
{
	unsigned int i;
	int rc;

	for (i = 0; i < variant->mock_domains; i++) {
		rc = tcmd_check_map(self->fd, self->hwpt_id[i], iova, ptr,
				    len);
		if (rc)
			return rc;
	}
	return 0;
}

TEST_F(iopte_cap, set_limit_on_a_bad_or_wrong_type_of_hwpt_fails)
{
	ASSERT_EQ(-ENOENT, tcmd_mock_domain_set_limit(self->fd, 9999, 1));
	ASSERT_EQ(-ENOENT, tcmd_mock_domain_set_limit(self->fd, self->ioas_id,
						      1));
}

TEST_F(iopte_cap, map_beyond_the_cap_fails_enomem_and_unwinds_fully)
{
	ASSERT_EQ(0, cap_set(self, variant, IOPTES(CAP_BUF) - 3));
	ASSERT_EQ(-ENOMEM, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  CAP_BUF, IOVA_BASE));
	ASSERT_EQ(0, cap_none_mapped(self, variant, IOVA_BASE, self->buf,
				     CAP_BUF));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, CAP_BUF, 0));
	ASSERT_EQ(0, pinned_since(self->vm_pin));

	/* The IOAS is still usable, within the cap... */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    CAP_BUF / 2, IOVA_BASE));
	ASSERT_EQ(0, cap_all_mapped(self, variant, IOVA_BASE, self->buf,
				    CAP_BUF / 2));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, CAP_BUF / 2, 1));
	/* ...until the next map passes it, which leaves the first alone. */
	ASSERT_EQ(-ENOMEM, ioas_map_fixed(self->fd, self->ioas_id,
					  self->buf + CAP_BUF / 2, CAP_BUF / 2,
					  IOVA_BASE + CAP_BUF / 2));
	ASSERT_EQ(0, cap_none_mapped(self, variant, IOVA_BASE + CAP_BUF / 2,
				     self->buf + CAP_BUF / 2, CAP_BUF / 2));
	ASSERT_EQ(0, cap_all_mapped(self, variant, IOVA_BASE, self->buf,
				    CAP_BUF / 2));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf + CAP_BUF / 2,
				     CAP_BUF / 2, 0));
	ASSERT_EQ(CAP_BUF / 2, pinned_since(self->vm_pin));

	/* Lifting the cap makes the same map work. */
	ASSERT_EQ(0, cap_set(self, variant, 0));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
				    self->buf + CAP_BUF / 2, CAP_BUF / 2,
				    IOVA_BASE + CAP_BUF / 2));
	ASSERT_EQ(0, cap_all_mapped(self, variant, IOVA_BASE, self->buf,
				    CAP_BUF));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, CAP_BUF, 1));
}

TEST_F(iopte_cap, map_exactly_up_to_the_cap_succeeds)
{
	ASSERT_EQ(0, cap_set(self, variant, IOPTES(CAP_BUF)));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    CAP_BUF, IOVA_BASE));
	ASSERT_EQ(0, cap_all_mapped(self, variant, IOVA_BASE, self->buf,
				    CAP_BUF));
	/* Full: one more IOPTE is too many. */
	ASSERT_EQ(-ENOMEM, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  HALF_PAGE, IOVA_COPY));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, ALL_IOVA, NULL));
	/* Unmapping gives the IOPTEs back. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    CAP_BUF, IOVA_COPY));
}

TEST_F(iopte_cap, copy_beyond_the_cap_fails_enomem_and_keeps_the_source)
{
	__u64 dst = IOVA_COPY;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    CAP_BUF, IOVA_BASE));
	ASSERT_EQ(0, cap_set(self, variant, IOPTES(CAP_BUF) + 10));
	ASSERT_EQ(-ENOMEM, ioas_copy(self->fd, self->ioas_id, &dst,
				     self->ioas_id, IOVA_BASE, CAP_BUF,
				     FIXED_RW));
	ASSERT_EQ(0, cap_none_mapped(self, variant, IOVA_COPY, self->buf,
				     CAP_BUF));
	ASSERT_EQ(0, cap_all_mapped(self, variant, IOVA_BASE, self->buf,
				    CAP_BUF));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, CAP_BUF, 1));
	ASSERT_EQ(CAP_BUF, pinned_since(self->vm_pin));
	/* The destination IOVA was left free. */
	ASSERT_EQ(0, cap_set(self, variant, 0));
	ASSERT_EQ(0, ioas_copy(self->fd, self->ioas_id, &dst, self->ioas_id,
			       IOVA_BASE, CAP_BUF, FIXED_RW));
	ASSERT_EQ(0, cap_all_mapped(self, variant, IOVA_COPY, self->buf,
				    CAP_BUF));
}

TEST_F(iopte_cap, copy_of_two_areas_failing_in_the_second_unwinds_the_first)
{
	__u64 half = CAP_BUF / 2, dst = IOVA_COPY;

	/* Two adjacent source areas: the copy makes two new areas. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf, half,
				    IOVA_BASE));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf + half,
				    half, IOVA_BASE + half));
	/* Room for the sources and the first half of the copy only. */
	ASSERT_EQ(0, cap_set(self, variant,
			     IOPTES(CAP_BUF) + IOPTES(half) + 1));
	ASSERT_EQ(-ENOMEM, ioas_copy(self->fd, self->ioas_id, &dst,
				     self->ioas_id, IOVA_BASE, CAP_BUF,
				     FIXED_RW));
	ASSERT_EQ(0, cap_none_mapped(self, variant, IOVA_COPY, self->buf,
				     CAP_BUF));
	ASSERT_EQ(0, cap_all_mapped(self, variant, IOVA_BASE, self->buf,
				    CAP_BUF));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, CAP_BUF, 1));
	/* A copy of the first area alone fits. */
	ASSERT_EQ(0, ioas_copy(self->fd, self->ioas_id, &dst, self->ioas_id,
			       IOVA_BASE, half, FIXED_RW));
	ASSERT_EQ(0, cap_all_mapped(self, variant, IOVA_COPY, self->buf,
				    half));
}

TEST_F(iopte_cap, attach_of_another_device_does_not_refill_a_capped_domain)
{
	__u32 stdev, hwpt;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    CAP_BUF, IOVA_BASE));
	ASSERT_EQ(0, cap_set(self, variant, 1));
	/* Joining the capped domain maps nothing new into it. */
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd,
					    self->hwpt_id[variant->capped],
					    variant->dev_flags, &stdev, &hwpt,
					    NULL));
	ASSERT_EQ(self->hwpt_id[variant->capped], hwpt);
	ASSERT_EQ(0, cap_all_mapped(self, variant, IOVA_BASE, self->buf,
				    CAP_BUF));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	ASSERT_EQ(-ENOMEM, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  PAGE_SZ, IOVA_COPY));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, CAP_BUF, 1));
}

/*
 * hugetlbfs memory on a huge-IOVA domain is mapped with large IOPTEs
 * where the IOVA and the physical address line up, which the cap makes
 * visible: a 2M page needs two IOPTEs, not 1024.
 */
TEST(huge_iova_domain_maps_hugetlb_memory_with_large_ioptes)
{
	__u32 ioas_id, hwpt_id;
	long saved, vm_pin;
	char *buf;
	int fd;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	if (!iommufd_is_test_build(fd))
		SKIP(return, "needs a test build");
	if (hugetlb_reserve(1, &saved)) {
		hugetlb_restore(saved);
		SKIP(return, "no 2M hugetlb pages to be had");
	}
	buf = buf_alloc_hugetlb(HUGE_SZ, 4);
	if (!buf) {
		hugetlb_restore(saved);
		SKIP(return, "mmap(MAP_HUGETLB) failed");
	}
	vm_pin = proc_status_kb("VmPin");
	ASSERT_EQ(0, ioas_alloc(fd, &ioas_id));
	ASSERT_EQ(0, tcmd_mock_domain_flags(fd, ioas_id, HUGE_IOVA, NULL,
					    &hwpt_id, NULL));
	ASSERT_EQ(0, tcmd_mock_domain_set_limit(fd, hwpt_id,
						HUGE_SZ / MOCK_HUGE_SZ));
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas_id, buf, HUGE_SZ, IOVA_BASE));
	ASSERT_EQ(0, tcmd_check_map(fd, hwpt_id, IOVA_BASE, buf, HUGE_SZ));
	ASSERT_EQ(HUGE_SZ, pinned_since(vm_pin));
	/* A page off the physical alignment: small IOPTEs only. */
	ASSERT_EQ(0, tcmd_mock_domain_set_limit(fd, hwpt_id,
						2 * HUGE_SZ / MOCK_HUGE_SZ));
	ASSERT_EQ(-ENOMEM, ioas_map_fixed(fd, ioas_id, buf, HUGE_SZ,
					  IOVA_COPY + PAGE_SZ));
	ASSERT_EQ(0, tcmd_mock_domain_set_limit(fd, hwpt_id, 0));
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas_id, buf, HUGE_SZ,
				    IOVA_COPY + PAGE_SZ));
	ASSERT_EQ(0, tcmd_check_map(fd, hwpt_id, IOVA_COPY + PAGE_SZ, buf,
				    HUGE_SZ));
	/* Unmapping whole areas never cuts a large IOPTE. */
	ASSERT_EQ(0, ioas_unmap(fd, ioas_id, 0, ALL_IOVA, NULL));
	close(fd);
	ASSERT_EQ(0, pinned_since(vm_pin));
	munmap(buf, HUGE_SZ);
	hugetlb_restore(saved);
}

/* ---------------------------------------------------------------------- */
/*
 * Attach, replace and detach in one thread while others map, copy, unmap
 * and pin in the same IOASes. Two IOASes each keep a HWPT made with
 * HWPT_ALLOC for the whole test, so the mappers can check their work
 * against a domain that does not come and go; the churn makes and drops
 * automatic HWPTs, which fill while the mappers run.
 */

#define RACE_MAPPERS 3
#define RACE_SECONDS 2.0
#define RACE_CHUNK SZ_64K

struct race {
	int fd;
	__u32 ioas[2];
	__u32 hwpt[2];
	char *buf;
	int stop;
	pthread_mutex_t lock;
	char err[160];
};

struct race_worker {
	struct race *race;
	unsigned int idx;
	unsigned long loops;
	pthread_t thread;
};

static bool race_stopped(struct race *race)
{
	return __atomic_load_n(&race->stop, __ATOMIC_ACQUIRE);
}

/* Record the first failure and stop everyone. */
static void race_fail(struct race *race, const char *what, int rc,
		      unsigned int idx)
{
	pthread_mutex_lock(&race->lock);
	if (!race->err[0])
		snprintf(race->err, sizeof(race->err),
			 "worker %u: %s: %d (%s)", idx, what, rc,
			 strerror(-rc));
	pthread_mutex_unlock(&race->lock);
	__atomic_store_n(&race->stop, 1, __ATOMIC_RELEASE);
}

#define RACE_CHECK(race, idx, what, expr)                                      \
	({                                                                     \
		int __rc = (expr);                                             \
		if (__rc)                                                      \
			race_fail(race, what, __rc, idx);                      \
		__rc;                                                          \
	})

/* Map into one IOAS, copy into the other, check both, unmap both. */
static void *race_mapper(void *arg)
{
	struct race_worker *w = arg;
	struct race *race = w->race;
	char *ptr = race->buf + w->idx * RACE_CHUNK;
	__u64 iova = IOVA_BASE + w->idx * SZ_1M;
	__u64 dst_iova = IOVA_COPY + w->idx * SZ_1M;
	__u64 unmapped;

	while (!race_stopped(race)) {
		unsigned int a = w->loops & 1, b = !a;
		__u64 dst = dst_iova;

		if (RACE_CHECK(race, w->idx, "map",
			       ioas_map_fixed(race->fd, race->ioas[a], ptr,
					      RACE_CHUNK, iova)))
			break;
		if (RACE_CHECK(race, w->idx, "check map",
			       tcmd_check_map(race->fd, race->hwpt[a], iova,
					      ptr, RACE_CHUNK)))
			break;
		if (RACE_CHECK(race, w->idx, "copy",
			       ioas_copy(race->fd, race->ioas[b], &dst,
					 race->ioas[a], iova, RACE_CHUNK,
					 FIXED_RW)))
			break;
		if (RACE_CHECK(race, w->idx, "check copy",
			       tcmd_check_map(race->fd, race->hwpt[b], dst_iova,
					      ptr, RACE_CHUNK)))
			break;
		if (RACE_CHECK(race, w->idx, "unmap",
			       ioas_unmap(race->fd, race->ioas[a], iova,
					  RACE_CHUNK, &unmapped)))
			break;
		if (unmapped != RACE_CHUNK) {
			race_fail(race, "unmap length", -EBADE, w->idx);
			break;
		}
		if (RACE_CHECK(race, w->idx, "unmap copy",
			       ioas_unmap(race->fd, race->ioas[b], dst_iova,
					  RACE_CHUNK, &unmapped)))
			break;
		w->loops++;
	}
	return NULL;
}

/* Pin and unpin, for reading and writing, through an access. */
static void *race_pinner(void *arg)
{
	struct race_worker *w = arg;
	struct race *race = w->race;
	char *ptr = race->buf + w->idx * RACE_CHUNK;
	__u64 iova = IOVA_OTHER;
	int access_fd;
	__u32 item;

	if (RACE_CHECK(race, w->idx, "map",
		       ioas_map_fixed(race->fd, race->ioas[0], ptr, RACE_CHUNK,
				      iova)))
		return NULL;
	if (RACE_CHECK(race, w->idx, "access",
		       tcmd_access_create(race->fd, race->ioas[0], PIN_ACCESS,
					  &access_fd)))
		return NULL;
	while (!race_stopped(race)) {
		if (RACE_CHECK(race, w->idx, "pin",
			       tcmd_access_pin(race->fd, access_fd, iova,
					       RACE_CHUNK, ptr,
					       (w->loops & 1) ?
						MOCK_FLAGS_ACCESS_WRITE : 0,
					       &item)))
			break;
		if (RACE_CHECK(race, w->idx, "unpin",
			       tcmd_access_unpin(race->fd, access_fd, item)))
			break;
		w->loops++;
	}
	close(access_fd);
	RACE_CHECK(race, w->idx, "unmap",
		   ioas_unmap(race->fd, race->ioas[0], iova, RACE_CHUNK, NULL));
	return NULL;
}

/* One round of device churn; 0 or the first failure. */
static int race_churn_once(struct race *race, unsigned long round)
{
	__u32 flags = (round % 3 == 2) ? HUGE_IOVA : 0;
	__u32 stdev, hwpt, idev, own, got;
	int rc;

	rc = tcmd_mock_domain_flags(race->fd, race->ioas[round & 1], flags,
				    &stdev, &hwpt, &idev);
	if (rc)
		return rc;
	rc = tcmd_mock_domain_replace(race->fd, stdev, race->ioas[!(round & 1)],
				      &got);
	if (rc)
		return rc;
	if (!flags) {
		/* Onto the long-lived HWPTs and back. */
		rc = tcmd_mock_domain_replace(race->fd, stdev, race->hwpt[0],
					      &got);
		if (!rc)
			rc = tcmd_mock_domain_replace(race->fd, stdev,
						      race->hwpt[1], &got);
		if (rc)
			return rc;
	}
	/* A user HWPT made while the IOAS is busy, used, then dropped. */
	rc = hwpt_alloc(race->fd, idev, race->ioas[round & 1], &own);
	if (rc)
		return rc;
	rc = tcmd_mock_domain_replace(race->fd, stdev, own, &got);
	if (!rc)
		rc = tcmd_mock_domain_replace(race->fd, stdev,
					      race->ioas[round & 1], &got);
	if (!rc)
		rc = iommufd_destroy(race->fd, own);
	if (rc)
		return rc;
	return iommufd_destroy(race->fd, stdev);
}

TEST_F_TIMEOUT(dev, attach_replace_detach_race_with_map_unmap_and_pin, 60)
{
	struct race_worker workers[RACE_MAPPERS + 1];
	struct race race = {
		.fd = self->fd,
		.buf = self->buf,
		.lock = PTHREAD_MUTEX_INITIALIZER,
	};
	unsigned long rounds = 0;
	__u32 stdev, idev;
	double end;
	unsigned int i;

	race.ioas[0] = self->ioas_id;
	ASSERT_EQ(0, ioas_alloc(self->fd, &race.ioas[1]));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, race.ioas[0], &stdev, NULL,
				      &idev));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev, race.ioas[0], &race.hwpt[0]));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev, race.ioas[1], &race.hwpt[1]));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, stdev, race.hwpt[0],
					      NULL));

	for (i = 0; i <= RACE_MAPPERS; i++) {
		workers[i] = (struct race_worker){ .race = &race, .idx = i };
		ASSERT_EQ(0, pthread_create(&workers[i].thread, NULL,
					    i < RACE_MAPPERS ? race_mapper :
							       race_pinner,
					    &workers[i]));
	}
	end = now_sec() + RACE_SECONDS;
	while (!race_stopped(&race) && now_sec() < end) {
		RACE_CHECK(&race, 99, "churn", race_churn_once(&race, rounds));
		rounds++;
	}
	__atomic_store_n(&race.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i <= RACE_MAPPERS; i++)
		pthread_join(workers[i].thread, NULL);

	ASSERT_EQ(0, race.err[0]) TH_LOG("%s", race.err);
	ASSERT_LT(0, rounds);
	for (i = 0; i <= RACE_MAPPERS; i++)
		ASSERT_LT(0, workers[i].loops) TH_LOG("worker %u", i);
	TH_LOG("%lu churn rounds, %lu map rounds", rounds, workers[0].loops);

	/* Quiet again: nothing mapped, nothing pinned, no stray HWPT. */
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, ioas_unmap(self->fd, race.ioas[i], 0, ALL_IOVA,
					NULL));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, SZ_1M, 0));
	ASSERT_EQ(0, pinned_since(self->vm_pin));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	ASSERT_EQ(0, iommufd_destroy(self->fd, race.hwpt[0]));
	ASSERT_EQ(0, iommufd_destroy(self->fd, race.hwpt[1]));
	ASSERT_EQ(0, iommufd_destroy(self->fd, race.ioas[1]));
	ASSERT_EQ(0, iommufd_destroy(self->fd, race.ioas[0]));
}

TEST_F_TIMEOUT(dev, hwpt_alloc_and_destroy_race_with_map_and_unmap, 60)
{
	struct race_worker workers[RACE_MAPPERS];
	struct race race = {
		.fd = self->fd,
		.buf = self->buf,
		.lock = PTHREAD_MUTEX_INITIALIZER,
	};
	unsigned long rounds = 0;
	__u32 stdev, idev, tmp[2];
	double end;
	unsigned int i;

	race.ioas[0] = self->ioas_id;
	ASSERT_EQ(0, ioas_alloc(self->fd, &race.ioas[1]));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, race.ioas[0], &stdev, NULL,
				      &idev));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev, race.ioas[0], &race.hwpt[0]));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev, race.ioas[1], &race.hwpt[1]));

	for (i = 0; i < RACE_MAPPERS; i++) {
		workers[i] = (struct race_worker){ .race = &race, .idx = i };
		ASSERT_EQ(0, pthread_create(&workers[i].thread, NULL,
					    race_mapper, &workers[i]));
	}
	end = now_sec() + RACE_SECONDS;
	while (!race_stopped(&race) && now_sec() < end) {
		for (i = 0; i < 2; i++)
			RACE_CHECK(&race, 99, "hwpt alloc",
				   hwpt_alloc(self->fd, idev, race.ioas[i],
					      &tmp[i]));
		if (race_stopped(&race))
			break;
		for (i = 0; i < 2; i++)
			RACE_CHECK(&race, 99, "hwpt destroy",
				   iommufd_destroy(self->fd, tmp[i]));
		rounds++;
	}
	__atomic_store_n(&race.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < RACE_MAPPERS; i++)
		pthread_join(workers[i].thread, NULL);

	ASSERT_EQ(0, race.err[0]) TH_LOG("%s", race.err);
	ASSERT_LT(0, rounds);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, ioas_unmap(self->fd, race.ioas[i], 0, ALL_IOVA,
					NULL));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, SZ_1M, 0));
	ASSERT_EQ(0, pinned_since(self->vm_pin));
}

/* ---------------------------------------------------------------------- */
/*
 * A small MAP pins its pages before it takes the IOAS's lock. So while
 * one MAP waits for a page that userfaultfd holds back (a postcopy
 * migration), the IOAS's other maps and unmaps go on; with the pin inside
 * the lock they would wait for it, and here, where the fault is resolved
 * only after them, never finish.
 */

struct held_map {
	int fd;
	__u32 ioas_id;
	void *ptr;
	int rc;
	int done;
};

static void *held_mapper(void *arg)
{
	struct held_map *m = arg;

	m->rc = ioas_map_fixed(m->fd, m->ioas_id, m->ptr, PAGE_SZ, IOVA_BASE);
	__atomic_store_n(&m->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Wait up to 10 s for the fault's message; false if the MAP ended first.
 * Kernels before the rework of long-term pins (6.1) do not wait for
 * userfaultfd in a long-term pin: the fault fails at once (EFAULT), its
 * message withdrawn.
 */
static bool held_fault_seen(int uffd, struct held_map *m,
			    struct uffd_msg *msg)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	int tries;

	for (tries = 0; tries != 100; tries++) {
		if (read(uffd, msg, sizeof(*msg)) == sizeof(*msg))
			return true;
		if (__atomic_load_n(&m->done, __ATOMIC_ACQUIRE))
			return false;
		poll(&pfd, 1, 100);
	}
	return false;
}

TEST(small_map_held_by_a_fault_holds_up_no_other_map_or_unmap)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_copy copy = {};
	struct held_map m = {};
	struct uffd_msg msg;
	__u32 hwpt_id, other_ioas;
	char *held, *other, *src;
	pthread_t thread;
	__u64 unmapped;
	long vm_pin;
	int uffd;

	m.fd = iommufd_open();
	ASSERT_LE(0, m.fd);
	if (!iommufd_is_test_build(m.fd))
		SKIP(return, "needs a test build");
	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));

	held = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	other = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	src = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, held);
	ASSERT_NE(MAP_FAILED, other);
	ASSERT_NE(MAP_FAILED, src);
	memset(other, 0x11, PAGE_SZ);
	memset(src, 0x5a, PAGE_SZ);
	reg.range.start = (unsigned long)held;
	reg.range.len = PAGE_SZ;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	ASSERT_EQ(0, ioas_alloc(m.fd, &m.ioas_id));
	ASSERT_EQ(0, tcmd_mock_domain(m.fd, m.ioas_id, NULL, &hwpt_id, NULL));
	ASSERT_EQ(0, ioas_alloc(m.fd, &other_ioas));
	vm_pin = proc_status_kb("VmPin");
	m.ptr = held;
	ASSERT_EQ(0, pthread_create(&thread, NULL, held_mapper, &m));

	/* The mapper is inside its MAP, held by the missing page. */
	if (!held_fault_seen(uffd, &m, &msg)) {
		ASSERT_EQ(0, pthread_join(thread, NULL));
		ASSERT_EQ(-EFAULT, m.rc);
		SKIP(return,
		     "long-term pins do not wait for userfaultfd here (EFAULT)");
	}
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	ASSERT_EQ((unsigned long)held,
		  msg.arg.pagefault.address & ~(PAGE_SZ - 1));

	/* The same IOAS, with its domain, is not held up. */
	ASSERT_EQ(0, ioas_map_fixed(m.fd, m.ioas_id, other, PAGE_SZ,
				    IOVA_OTHER));
	ASSERT_EQ(0, tcmd_check_map(m.fd, hwpt_id, IOVA_OTHER, other,
				    PAGE_SZ));
	ASSERT_EQ(0, ioas_unmap(m.fd, m.ioas_id, IOVA_OTHER, PAGE_SZ,
				&unmapped));
	ASSERT_EQ(PAGE_SZ, unmapped);
	/* Nor is the context: another IOAS, and DESTROY. */
	ASSERT_EQ(0, ioas_map_fixed(m.fd, other_ioas, other, PAGE_SZ,
				    IOVA_OTHER));
	ASSERT_EQ(0, iommufd_destroy(m.fd, other_ioas));

	/*
	 * Hand the page over; the held MAP completes onto it. It must still
	 * be waiting: a MAP that ended before cannot have waited (see
	 * held_fault_seen()).
	 */
	if (__atomic_load_n(&m.done, __ATOMIC_ACQUIRE)) {
		ASSERT_EQ(0, pthread_join(thread, NULL));
		ASSERT_EQ(-EFAULT, m.rc);
		SKIP(return,
		     "long-term pins do not wait for userfaultfd here (EFAULT)");
	}
	copy.dst = (unsigned long)held;
	copy.src = (unsigned long)src;
	copy.len = PAGE_SZ;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_COPY, &copy));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(0, m.rc);
	ASSERT_EQ(0x5a, held[0]);
	ASSERT_EQ(0, tcmd_check_map(m.fd, hwpt_id, IOVA_BASE, held, PAGE_SZ));
	ASSERT_EQ(0, ioas_unmap(m.fd, m.ioas_id, IOVA_BASE, PAGE_SZ,
				&unmapped));
	ASSERT_EQ(PAGE_SZ, unmapped);
	ASSERT_EQ(vm_pin, proc_status_kb("VmPin"));
	close(uffd);
	ASSERT_EQ(0, close(m.fd));
}

/*
 * CHECK_REFS over more than the machine's memory and CHECK_MAP over more
 * than the mock aperture fail at once with EINVAL. The range is read-only
 * untouched memory, whose every page looks up as the zero page without a
 * pin: CHECK_REFS used to walk all 16M pages of it, for minutes.
 */
TEST(check_walks_longer_than_memory_or_aperture_fail_at_once)
{
	const __u64 len = 64ULL << 30;
	__u32 ioas_id, hwpt_id;
	double t0;
	char *buf;
	int fd;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	if (!iommufd_is_test_build(fd))
		SKIP(return, "needs a test build");
	if ((__u64)sysconf(_SC_PHYS_PAGES) * PAGE_SZ >= len)
		SKIP(return, "this machine has 64 GiB of memory or more");
	buf = mmap(NULL, len, PROT_READ,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, ioas_alloc(fd, &ioas_id));
	ASSERT_EQ(0, tcmd_mock_domain(fd, ioas_id, NULL, &hwpt_id, NULL));

	t0 = now_sec();
	EXPECT_EQ(-EINVAL, tcmd_check_refs(fd, buf, len, 0));
	EXPECT_EQ(-EINVAL, tcmd_check_map(fd, hwpt_id, APERTURE_START, buf,
					  APERTURE_LAST - APERTURE_START +
						  1 + HALF_PAGE));
	EXPECT_GT(5.0, now_sec() - t0);
	/* The same memory within the bounds: no pins, nothing mapped. */
	EXPECT_EQ(0, tcmd_check_refs(fd, buf, 64 * PAGE_SZ, 0));
	EXPECT_EQ(-EINVAL, tcmd_check_map(fd, hwpt_id, APERTURE_START, buf,
					  PAGE_SZ));
	munmap(buf, len);
	close(fd);
}

/*
 * Is IOVA @iova of @ioas_id reserved (by a device attached there)? A
 * fixed map there is EINVAL then, as upstream's.
 */
static int iova_reserved(int fd, __u32 ioas_id, void *buf, __u64 iova)
{
	int rc = ioas_map_fixed(fd, ioas_id, buf, PAGE_SZ, iova);

	if (rc == -EINVAL)
		return 1;
	if (rc)
		return rc;
	return ioas_unmap(fd, ioas_id, iova, PAGE_SZ, NULL);
}

/*
 * MOCK_DOMAIN_REPLACE from IOAS A to IOAS B whose reply cannot be written
 * (the command struct is read-only) fails with EFAULT and moves the
 * device back to A. With the Nth allocation failing, for every N, the
 * move fails (ENOMEM, still on A), or the move back does (EFAULT, left
 * on B: going back reserves the device's region in A again, which
 * allocates), or nothing fails (EFAULT, back on A). The move back failing
 * used to WARN, which fails the run. The device's reserved region shows
 * where it is.
 */
TEST(replace_with_unwritable_reply_goes_back_or_stays_without_warning)
{
	const __u64 resv = 0x40000000UL;
	unsigned int n, back_failed = 0;
	struct iommu_test_cmd *cmd;
	long vm_pin;
	char *buf;

	vm_pin = proc_status_kb("VmPin");
	cmd = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, cmd);
	buf = buf_alloc_small(PAGE_SZ, 7);
	ASSERT_NE(NULL, buf);
	for (n = 1; n < 200; n++) {
		__u32 ioas_a, ioas_b, stdev;
		int fd, rc, fired;

		fd = iommufd_open();
		ASSERT_LE(0, fd);
		if (!iommufd_is_test_build(fd))
			SKIP(return, "needs a test build");
		ASSERT_EQ(0, ioas_alloc(fd, &ioas_a));
		ASSERT_EQ(0, ioas_alloc(fd, &ioas_b));
		ASSERT_EQ(0, tcmd_mock_domain(fd, ioas_a, &stdev, NULL, NULL));
		ASSERT_EQ(0, tcmd_mock_device_add_resv(fd, stdev, resv,
						       PAGE_SZ));
		ASSERT_EQ(0, mprotect(cmd, PAGE_SZ, PROT_READ | PROT_WRITE));
		*cmd = (struct iommu_test_cmd){
			.size = sizeof(*cmd),
			.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
			.id = stdev,
			.mock_domain_replace = { .pt_id = ioas_b },
		};
		ASSERT_EQ(0, mprotect(cmd, PAGE_SZ, PROT_READ));

		ASSERT_EQ(0, fail_nth_arm(fd, n, MOCK_FAULT_ALLOC));
		rc = iommufd_ioctl(fd, IOMMU_TEST_CMD, cmd);
		ASSERT_EQ(0, fail_nth_disarm(fd, &fired));

		if (rc == -EFAULT && fired) {
			back_failed++;
			EXPECT_EQ(0, iova_reserved(fd, ioas_a, buf, resv));
			EXPECT_EQ(1, iova_reserved(fd, ioas_b, buf, resv));
		} else {
			EXPECT_TRUE(rc == -EFAULT || (fired && rc == -ENOMEM))
				TH_LOG("N %u: rc %d", n, rc);
			EXPECT_EQ(1, iova_reserved(fd, ioas_a, buf, resv));
			EXPECT_EQ(0, iova_reserved(fd, ioas_b, buf, resv));
		}
		/* Either way the device still moves and goes. */
		ASSERT_EQ(0, tcmd_mock_domain_replace(fd, stdev, ioas_b, NULL));
		ASSERT_EQ(0, iommufd_destroy(fd, stdev));
		ASSERT_EQ(0, close(fd));
		if (!fired)
			break;
	}
	ASSERT_GT(200, n) TH_LOG("the fault never stopped firing");
	/* The path under test was taken. */
	ASSERT_LE(1, back_failed);
	EXPECT_EQ(vm_pin, proc_status_kb("VmPin"));
	munmap(buf, PAGE_SZ);
	munmap(cmd, PAGE_SZ);
}

TEST_HARNESS_MAIN
