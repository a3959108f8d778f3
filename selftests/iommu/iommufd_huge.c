// SPDX-License-Identifier: GPL-2.0
/*
 * Large IOPTEs and IOMMU_OPTION_HUGE_PAGES (Documentation/large-ioptes.rst),
 * on 4 KiB pages, THP and hugetlbfs memory, each with a huge-IOVA mock
 * device (IOPTEs of PAGE_SIZE / 2 and 1 MiB) and a normal one (PAGE_SIZE / 2
 * only):
 *
 * - with HUGE_PAGES on, a 1 MiB IOPTE appears exactly where IOVA and
 *   physical address are equally aligned to 1 MiB over a full 1 MiB of one
 *   area, swept over the IOVA and buffer offsets, also when the run took
 *   many pin batches or an in-kernel access pinned pieces of it first;
 *   a map failing part way through a run unwinds whole IOPTEs only;
 * - with it off, every IOPTE is at most PAGE_SIZE in domains attached
 *   before and after the maps, and the option follows upstream's rules
 *   (EINVAL with a domain and areas, EADDRINUSE with an unaligned area,
 *   IOVA alignment PAGE_SIZE);
 * - COPY follows the destination's setting and shares the pins; a copied
 *   slice gets the IOPTEs its own extent and alignment allow;
 * - UNMAP at every page boundary inside a huge run fails without touching
 *   anything, and areas split at any boundary are unmapped one by one
 *   without ever cutting an IOPTE (the mock WARNs if one is cut);
 * - VmPin is back where it started after every test.
 *
 * Expected IOPTE sizes come from a model fed with the PFNs of
 * /proc/self/pagemap (needs root): a 1 MiB IOPTE covers a 1 MiB aligned
 * IOVA chunk inside one area iff the memory behind it is one physically
 * contiguous run starting on a 1 MiB physical boundary.
 */
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "iommufd_utils.h"

#define PAGE_SZ 4096UL
/* The mock's small IOPTE and its huge one (huge-IOVA devices only). */
#define HALF_PAGE (PAGE_SZ / 2)
#define MOCK_HUGE_SZ (512 * HALF_PAGE)
#define SZ_1M 0x100000UL
#define SZ_2M 0x200000UL
#define PAGES_2M (SZ_2M / PAGE_SZ)
#define PAGES_1M (SZ_1M / PAGE_SZ)
/* Two 2 MiB huge pages. */
#define BUF_SIZE (2 * SZ_2M)
#define BUF_PAGES (BUF_SIZE / PAGE_SZ)
/* Fixed IOVAs inside the mock aperture, 2 MiB aligned. */
#define IOVA_BASE 0x10000000UL
#define IOVA_DST 0x20000000UL
#define HUGE_IOVA MOCK_FLAGS_DEVICE_HUGE_IOVA
#define RW (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)
#define FIXED_RW (IOMMU_IOAS_MAP_FIXED_IOVA | RW)
#define DEFAULT_BATCHES IOMMUFD_TEST_DEFAULT_BATCH_LIMIT

#if MOCK_HUGE_SZ != SZ_1M
#error "the mock's huge IOPTE is expected to be 1 MiB"
#endif

enum backing {
	BACK_4K,
	BACK_THP,
	BACK_HUGETLB,
};

static __u64 align_down(__u64 v, __u64 a)
{
	return v / a * a;
}

static __u64 align_up(__u64 v, __u64 a)
{
	return align_down(v + a - 1, a);
}

/* 1 MiB aligned chunks lying wholly inside [off, off + len). */
static __u64 full_1m_chunks(__u64 off, __u64 len)
{
	__u64 first = align_up(off, SZ_1M), end = align_down(off + len, SZ_1M);

	return end > first ? (end - first) / SZ_1M : 0;
}

/* Pages of memory that [ptr, ptr + len) touches. */
static __u64 pages_covering(const void *ptr, __u64 len)
{
	__u64 start = (uintptr_t)ptr;

	return (align_up(start + len, PAGE_SZ) - align_down(start, PAGE_SZ)) /
	       PAGE_SZ;
}

/* Distinct content in every word, so no page is the shared zero page. */
static void buf_fill(void *buf, size_t len, __u64 seed)
{
	__u64 *p = buf;
	size_t i;

	for (i = 0; i < len / sizeof(*p); i++)
		p[i] = seed << 40 | i;
}

FIXTURE(huge)
{
	int fd;
	__u32 ioas_id;
	void *map;
	size_t map_len;
	/* BUF_SIZE bytes, 2 MiB aligned. */
	char *buf;
	long saved_nr_huge;
	long vm_pin;
	/* The PFNs behind buf, read after a map pinned them. */
	__u64 pfns[BUF_PAGES];
};

FIXTURE_VARIANT(huge)
{
	enum backing backing;
	__u32 dev_flags;
};

#define huge_data_t FIXTURE_DATA(huge)
#define huge_variant_t FIXTURE_VARIANT(huge)

FIXTURE_VARIANT_ADD(huge, small_pages_huge_dev)
{
	.backing = BACK_4K,
	.dev_flags = HUGE_IOVA,
};

FIXTURE_VARIANT_ADD(huge, small_pages_normal_dev)
{
	.backing = BACK_4K,
	.dev_flags = 0,
};

FIXTURE_VARIANT_ADD(huge, thp_huge_dev)
{
	.backing = BACK_THP,
	.dev_flags = HUGE_IOVA,
};

FIXTURE_VARIANT_ADD(huge, thp_normal_dev)
{
	.backing = BACK_THP,
	.dev_flags = 0,
};

FIXTURE_VARIANT_ADD(huge, hugetlb_huge_dev)
{
	.backing = BACK_HUGETLB,
	.dev_flags = HUGE_IOVA,
};

FIXTURE_VARIANT_ADD(huge, hugetlb_normal_dev)
{
	.backing = BACK_HUGETLB,
	.dev_flags = 0,
};

/* 0, or a reason to skip the variant. */
static const char *buf_setup(huge_data_t *self,
			     const huge_variant_t *variant)
{
	size_t off;
	char *p;

	self->saved_nr_huge = -1;
	switch (variant->backing) {
	case BACK_4K:
		self->map_len = BUF_SIZE;
		p = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return "mmap failed";
		self->map = p;
		self->buf = p;
		madvise(p, BUF_SIZE, MADV_NOHUGEPAGE);
		break;
	case BACK_THP:
		if (!thp_possible())
			return "transparent huge pages are disabled";
		self->map_len = BUF_SIZE + SZ_2M;
		p = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return "mmap failed";
		self->map = p;
		self->buf = (char *)align_up((uintptr_t)p, SZ_2M);
		madvise(self->buf, BUF_SIZE, MADV_HUGEPAGE);
		break;
	case BACK_HUGETLB:
		if (hugetlb_reserve(BUF_SIZE / SZ_2M, &self->saved_nr_huge))
			return "no 2 MiB hugetlb pages to be had";
		self->map_len = BUF_SIZE;
		p = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p == MAP_FAILED)
			return "mmap(MAP_HUGETLB) failed";
		self->map = p;
		self->buf = p;
		break;
	}
	buf_fill(self->buf, BUF_SIZE, 1);
	if (pagemap_pfns(self->buf, BUF_PAGES, self->pfns) || !self->pfns[0])
		return "no PFNs in /proc/self/pagemap (needs root)";
	if (variant->backing == BACK_4K)
		return NULL;
	for (off = 0; off < BUF_SIZE; off += SZ_2M) {
		if (phys_run_aligned(self->buf + off, SZ_2M, SZ_2M) != 1)
			return variant->backing == BACK_THP ?
			       "the kernel gave no THP" :
			       "hugetlb page not contiguous";
	}
	return NULL;
}

static void buf_release(huge_data_t *self)
{
	if (self->map)
		munmap(self->map, self->map_len);
	self->map = NULL;
	hugetlb_restore(self->saved_nr_huge);
	self->saved_nr_huge = -1;
}

FIXTURE_SETUP(huge)
{
	const char *skip;

	ASSERT_EQ(PAGE_SZ, sysconf(_SC_PAGESIZE));
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	skip = buf_setup(self, variant);
	if (skip) {
		buf_release(self);
		SKIP(return, "%s", skip);
	}
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	self->vm_pin = proc_status_kb("VmPin");
	ASSERT_LE(0, self->vm_pin);
}

FIXTURE_TEARDOWN(huge)
{
	int fd;

	if (self->fd >= 0)
		close(self->fd);
	/* Closing the context drops every pin. */
	EXPECT_EQ(self->vm_pin, proc_status_kb("VmPin"));
	fd = iommufd_open();
	if (fd >= 0) {
		/* Counts small pages only; VmPin covers the compound ones. */
		EXPECT_EQ(0, tcmd_check_refs(fd, self->buf, BUF_SIZE, 0));
		/* Module-wide: leave the default for the next test. */
		EXPECT_EQ(0, tcmd_set_batch_limit(fd, DEFAULT_BATCHES));
		close(fd);
	}
	buf_release(self);
}

static bool dev_huge(const huge_variant_t *variant)
{
	return variant->dev_flags & HUGE_IOVA;
}

static bool huge_backing(const huge_variant_t *variant)
{
	return variant->backing != BACK_4K;
}

static int attach(huge_data_t *self,
		  const huge_variant_t *variant, __u32 pt_id,
		  __u32 *stdev_id, __u32 *hwpt_id, __u32 *idev_id)
{
	return tcmd_mock_domain_flags(self->fd, pt_id, variant->dev_flags,
				      stdev_id, hwpt_id, idev_id);
}

static long pinned_kb(huge_data_t *self)
{
	return proc_status_kb("VmPin") - self->vm_pin;
}

static long kb(__u64 bytes)
{
	return bytes / 1024;
}

/*
 * The IOPTEs one area gets: the area maps @len bytes from @uptr at @iova,
 * into a domain with 1 MiB IOPTEs usable (@huge_ok: a huge-IOVA domain in
 * an IOAS with HUGE_PAGES on) or not. A 1 MiB aligned IOVA chunk inside
 * the area is one huge IOPTE iff the memory behind it is one physically
 * contiguous run starting on a 1 MiB physical boundary; everything else
 * is small IOPTEs of PAGE_SIZE / 2. The PFNs are read now: call it while
 * the area is mapped with a domain, so they are pinned.
 */
static int model_area(const void *uptr, __u64 iova, __u64 len, bool huge_ok,
		      struct iommu_test_iopte_stats *want)
{
	__u64 pfns[PAGES_1M];
	__u64 chunk, i;

	memset(want, 0, sizeof(*want));
	for (chunk = align_up(iova, SZ_1M); huge_ok && chunk + SZ_1M <= iova + len;
	     chunk += SZ_1M) {
		const char *p = (const char *)uptr + (chunk - iova);

		if ((uintptr_t)p % PAGE_SZ)
			continue;
		if (pagemap_pfns(p, PAGES_1M, pfns) || !pfns[0])
			return -1;
		if (pfns[0] % PAGES_1M)
			continue;
		for (i = 1; i != PAGES_1M; i++)
			if (pfns[i] != pfns[0] + i)
				break;
		if (i == PAGES_1M)
			want->huge++;
	}
	want->small = (len - want->huge * SZ_1M) / HALF_PAGE;
	return 0;
}

/* Do the stats of @hwpt_id over @iova, @len equal *@want? */
static void assert_stats(struct __test_metadata *_metadata,
			 huge_data_t *self, __u32 hwpt_id, __u64 iova,
			 __u64 len, const struct iommu_test_iopte_stats *want)
{
	struct iommu_test_iopte_stats got;

	ASSERT_EQ(0, tcmd_md_iopte_stats(self->fd, hwpt_id, iova, len, &got));
	ASSERT_EQ(want->huge, got.huge)
		TH_LOG("huge IOPTEs at %#llx + %#llx", (unsigned long long)iova,
		       (unsigned long long)len);
	ASSERT_EQ(want->small, got.small)
		TH_LOG("small IOPTEs at %#llx + %#llx",
		       (unsigned long long)iova, (unsigned long long)len);
	ASSERT_EQ(want->unmapped, got.unmapped)
		TH_LOG("unmapped bytes at %#llx + %#llx",
		       (unsigned long long)iova, (unsigned long long)len);
}

#define ASSERT_STATS(_hwpt, _iova, _len, _want) \
	assert_stats(_metadata, self, _hwpt, _iova, _len, _want)

/*
 * One area of @len bytes from @uptr at @iova in HWPT @hwpt_id: exactly the
 * model's IOPTEs (*@want, if not NULL, gets them), nothing unmapped, and
 * every 2 KiB translating to the right memory.
 */
static void check_area(struct __test_metadata *_metadata,
		       huge_data_t *self, __u32 hwpt_id, __u64 iova,
		       const void *uptr, __u64 len, bool huge_ok,
		       struct iommu_test_iopte_stats *want)
{
	struct iommu_test_iopte_stats w;

	ASSERT_EQ(0, model_area(uptr, iova, len, huge_ok, &w));
	ASSERT_STATS(hwpt_id, iova, len, &w);
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt_id, iova, uptr, len));
	if (want)
		*want = w;
}

/* Only IOPTEs of at most PAGE_SIZE (the mock's PAGE_SIZE / 2 ones). */
static void check_small_only(struct __test_metadata *_metadata,
			     huge_data_t *self, __u32 hwpt_id,
			     __u64 iova, const void *uptr, __u64 len)
{
	struct iommu_test_iopte_stats w = { .small = len / HALF_PAGE };

	ASSERT_STATS(hwpt_id, iova, len, &w);
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt_id, iova, uptr, len));
}

/* Nothing at all mapped over @iova, @len in @hwpt_id. */
static void check_unmapped(struct __test_metadata *_metadata,
			   huge_data_t *self, __u32 hwpt_id,
			   __u64 iova, __u64 len)
{
	struct iommu_test_iopte_stats w = { .unmapped = len };

	ASSERT_STATS(hwpt_id, iova, len, &w);
}

/* ---------------------------------------------------------------------- */
/* HUGE_PAGES on (the default). */

/*
 * 2 MiB of a huge page at a 1 MiB aligned (not 2 MiB aligned) IOVA: two
 * 1 MiB IOPTEs on a huge-IOVA device, only small ones on a normal device
 * or with 4 KiB memory; the same in a domain attached before and after.
 */
TEST_F(huge, on_2m_at_1m_aligned_iova)
{
	struct iommu_test_iopte_stats w;
	__u64 iova1 = IOVA_BASE + SZ_1M, iova2 = IOVA_BASE + 8 * SZ_1M;
	__u32 hwpt_before, hwpt_after, idev;
	__u64 val;

	ASSERT_EQ(0, ioas_huge_pages_get(self->fd, self->ioas_id, &val));
	ASSERT_EQ(1, val);
	ASSERT_EQ(0, attach(self, variant, self->ioas_id, NULL, &hwpt_before,
			    &idev));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_2M, iova1));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
				    self->buf + SZ_2M, SZ_2M, iova2));
	ASSERT_EQ(kb(BUF_SIZE), pinned_kb(self));
	/* A second domain of the same IOAS, filled from the areas. */
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev, self->ioas_id, &hwpt_after));

	check_area(_metadata, self, hwpt_before, iova1, self->buf, SZ_2M,
		   dev_huge(variant), &w);
	if (huge_backing(variant) && dev_huge(variant)) {
		ASSERT_EQ(2, w.huge);
		ASSERT_EQ(0, w.small);
	} else if (!dev_huge(variant)) {
		ASSERT_EQ(0, w.huge);
	} else if (w.huge) {
		TH_LOG("4 KiB pages happened to be 1 MiB contiguous: %llu",
		       (unsigned long long)w.huge);
	}
	check_area(_metadata, self, hwpt_before, iova2, self->buf + SZ_2M,
		   SZ_2M, dev_huge(variant), &w);
	if (huge_backing(variant) && dev_huge(variant))
		ASSERT_EQ(2, w.huge);
	check_area(_metadata, self, hwpt_after, iova1, self->buf, SZ_2M,
		   dev_huge(variant), &w);
	if (huge_backing(variant) && dev_huge(variant))
		ASSERT_EQ(2, w.huge);
	check_area(_metadata, self, hwpt_after, iova2, self->buf + SZ_2M,
		   SZ_2M, dev_huge(variant), NULL);
	/* Pins are per page, however many domains map it. */
	ASSERT_EQ(kb(BUF_SIZE), pinned_kb(self));
	if (!huge_backing(variant))
		ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE,
					     1));

	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, iova1, SZ_2M, NULL));
	check_unmapped(_metadata, self, hwpt_before, iova1, SZ_2M);
	check_unmapped(_metadata, self, hwpt_after, iova1, SZ_2M);
	check_area(_metadata, self, hwpt_after, iova2, self->buf + SZ_2M,
		   SZ_2M, dev_huge(variant), NULL);
	ASSERT_EQ(kb(SZ_2M), pinned_kb(self));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt_after));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, iova2, SZ_2M, NULL));
	check_unmapped(_metadata, self, hwpt_before, iova2, SZ_2M);
	ASSERT_EQ(0, pinned_kb(self));
}

/* The whole 4 MiB as one area, mapped before the domain is attached. */
TEST_F(huge, on_map_then_attach)
{
	__u32 stdev, hwpt;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, IOVA_BASE));
	/* No domain: nothing pinned yet. */
	ASSERT_EQ(0, pinned_kb(self));
	ASSERT_EQ(0, attach(self, variant, self->ioas_id, &stdev, &hwpt,
			    NULL));
	ASSERT_EQ(kb(BUF_SIZE), pinned_kb(self));
	if (huge_backing(variant) && dev_huge(variant)) {
		struct iommu_test_iopte_stats w = { .huge = 4 };

		ASSERT_STATS(hwpt, IOVA_BASE, BUF_SIZE, &w);
	}
	check_area(_metadata, self, hwpt, IOVA_BASE, self->buf, BUF_SIZE,
		   dev_huge(variant), NULL);
	/* Domain removal unmaps area by area, never cutting an IOPTE. */
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	ASSERT_EQ(0, pinned_kb(self));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE, BUF_SIZE,
				NULL));
}

/*
 * A run is one run however many pin batches it took: with batches of two
 * pages, the 4 MiB still gets the IOPTEs its physical layout allows.
 */
TEST_F(huge, on_runs_span_pin_batches)
{
	static const __u32 limits[] = { 16, 64, 4096, 12 };
	struct iommu_test_iopte_stats w;
	unsigned int i;
	__u32 hwpt;

	ASSERT_EQ(0, attach(self, variant, self->ioas_id, NULL, &hwpt, NULL));
	for (i = 0; i != ARRAY_SIZE(limits); i++) {
		ASSERT_EQ(0, tcmd_set_batch_limit(self->fd, limits[i]));
		ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					    BUF_SIZE, IOVA_BASE));
		check_area(_metadata, self, hwpt, IOVA_BASE, self->buf,
			   BUF_SIZE, dev_huge(variant), &w);
		if (huge_backing(variant) && dev_huge(variant))
			ASSERT_EQ(4, w.huge) TH_LOG("batch limit %u", limits[i]);
		ASSERT_EQ(kb(BUF_SIZE), pinned_kb(self));
		ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE,
					BUF_SIZE, NULL));
		ASSERT_EQ(0, pinned_kb(self));
	}
	ASSERT_EQ(0, tcmd_set_batch_limit(self->fd, DEFAULT_BATCHES));
}

/*
 * Pages an in-kernel access pinned first, in the middle or at the edges
 * of a huge run, do not break the run when a domain is attached later:
 * the domain still gets the IOPTEs the physical layout allows.
 */
TEST_F(huge, on_access_pinned_pieces_then_attach)
{
	static const struct {
		unsigned int first, npages;
	} pieces[][3] = {
		{ { 300, 2 } },
		{ { 0, 1 }, { 511, 1 }, { 256, 1 } },
		{ { 255, 2 }, { 100, 1 }, { 400, 50 } },
		{ { 1, 510 } },
	};
	struct iommu_test_iopte_stats w, got;
	unsigned int p, i;
	int access_fd;

	ASSERT_EQ(0, tcmd_access_create(self->fd, self->ioas_id,
					MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
					&access_fd));
	for (p = 0; p != ARRAY_SIZE(pieces); p++) {
		__u32 items[3], stdev, hwpt;
		__u64 pinned = 0;

		ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					    SZ_2M, IOVA_BASE));
		for (i = 0; i != 3 && pieces[p][i].npages; i++) {
			__u64 off = pieces[p][i].first * PAGE_SZ;
			__u64 len = pieces[p][i].npages * PAGE_SZ;

			ASSERT_EQ(0, tcmd_access_pin(self->fd, access_fd,
						     IOVA_BASE + off, len,
						     self->buf + off,
						     MOCK_FLAGS_ACCESS_WRITE,
						     &items[i]));
			pinned += len;
		}
		ASSERT_EQ(kb(pinned), pinned_kb(self));
		ASSERT_EQ(0, attach(self, variant, self->ioas_id, &stdev,
				    &hwpt, NULL));
		ASSERT_EQ(kb(SZ_2M), pinned_kb(self));
		ASSERT_EQ(0, model_area(self->buf, IOVA_BASE, SZ_2M,
					dev_huge(variant), &w));
		if (huge_backing(variant) && dev_huge(variant))
			ASSERT_EQ(2, w.huge);
		ASSERT_EQ(0, tcmd_md_iopte_stats(self->fd, hwpt, IOVA_BASE,
						 SZ_2M, &got));
		/* EXPECT: report every pattern that breaks the run. */
		EXPECT_EQ(w.huge, got.huge)
			TH_LOG("access pieces %u: %llu huge, %llu small IOPTEs",
			       p, (unsigned long long)got.huge,
			       (unsigned long long)got.small);
		EXPECT_EQ(w.small, got.small);
		ASSERT_EQ(0, got.unmapped);
		ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, IOVA_BASE,
					    self->buf, SZ_2M));
		w = got;
		/* Releasing the access's pieces leaves the domain intact. */
		while (i--)
			ASSERT_EQ(0, tcmd_access_unpin(self->fd, access_fd,
						       items[i]));
		ASSERT_STATS(hwpt, IOVA_BASE, SZ_2M, &w);
		ASSERT_EQ(kb(SZ_2M), pinned_kb(self));
		ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
		ASSERT_EQ(0, pinned_kb(self));
		ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE,
					SZ_2M, NULL));
	}
	close(access_fd);
}

/*
 * A map that fails part way through a huge run (the domain runs out of
 * IOPTEs) unwinds exactly what it mapped, in every domain, never cutting
 * a 1 MiB IOPTE, and leaves nothing pinned.
 */
TEST_F(huge, on_map_fails_midway_unwinds)
{
	/* 4 KiB in: 510 small, 1 huge, 2 small with huge IOPTEs. */
	static const __u32 limits[] = { 1, 100, 509, 510, 511, 512, 1000 };
	__u64 off = PAGE_SZ, iova = IOVA_BASE + PAGE_SZ, len = SZ_2M;
	struct iommu_test_iopte_stats w;
	__u32 hwpt, hwpt2, idev;
	unsigned int i;

	ASSERT_EQ(0, attach(self, variant, self->ioas_id, NULL, &hwpt, &idev));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev, self->ioas_id, &hwpt2));
	/* The mapping fits when nothing limits it. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf + off,
				    len, iova));
	check_area(_metadata, self, hwpt2, iova, self->buf + off, len,
		   dev_huge(variant), &w);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, iova, len, NULL));
	for (i = 0; i != ARRAY_SIZE(limits); i++) {
		if (limits[i] >= w.small + w.huge)
			continue;
		ASSERT_EQ(0, tcmd_mock_domain_set_limit(self->fd, hwpt2,
							limits[i]));
		ASSERT_EQ(-ENOMEM, ioas_map_fixed(self->fd, self->ioas_id,
						  self->buf + off, len, iova))
			TH_LOG("limit %u", limits[i]);
		check_unmapped(_metadata, self, hwpt, IOVA_BASE, BUF_SIZE);
		check_unmapped(_metadata, self, hwpt2, IOVA_BASE, BUF_SIZE);
		ASSERT_EQ(0, pinned_kb(self));
	}
	ASSERT_EQ(0, tcmd_mock_domain_set_limit(self->fd, hwpt2, 0));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf + off,
				    len, iova));
	check_area(_metadata, self, hwpt, iova, self->buf + off, len,
		   dev_huge(variant), NULL);
	check_area(_metadata, self, hwpt2, iova, self->buf + off, len,
		   dev_huge(variant), NULL);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, iova, len, NULL));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt2));
}

/*
 * Every alignment of IOVA versus physical address within a huge page:
 * 2 MiB from buffer offset @ob mapped at IOVA_BASE + @oi. The sweep is
 * thinned: complete along a few lines of (ob, oi), sampled elsewhere.
 */
struct sweep_ctx {
	__u32 hwpt;
	unsigned int combos;
	unsigned int with_huge;
};

/*
 * When the mock and the model disagree, say what pagemap shows for each
 * 1 MiB chunk of the area: its first PFN, that PFN's offset in 1 MiB of
 * physical memory, and how many PFNs after it follow on.
 */
static void log_chunk_layout(struct __test_metadata *_metadata,
			     const char *uptr, __u64 iova, __u64 len)
{
	__u64 pfns[PAGES_1M], chunk, i;

	for (chunk = align_up(iova, SZ_1M); chunk + SZ_1M <= iova + len;
	     chunk += SZ_1M) {
		const char *p = uptr + (chunk - iova);

		if ((uintptr_t)p % PAGE_SZ ||
		    pagemap_pfns(p, PAGES_1M, pfns))
			continue;
		for (i = 1; i != PAGES_1M; i++)
			if (pfns[i] != pfns[0] + i)
				break;
		TH_LOG("chunk at IOVA %#llx: PFN %#llx (%llu into 1 MiB), %llu contiguous",
		       (unsigned long long)chunk, (unsigned long long)pfns[0],
		       (unsigned long long)(pfns[0] % PAGES_1M),
		       (unsigned long long)i);
	}
}

static void sweep_one(struct __test_metadata *_metadata,
		      huge_data_t *self,
		      const huge_variant_t *variant,
		      struct sweep_ctx *ctx, __u64 ob, __u64 oi)
{
	struct iommu_test_iopte_stats w;
	const char *uptr = self->buf + ob;
	__u64 iova = IOVA_BASE + oi, len = SZ_2M;
	__u64 unmapped = 0;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, (void *)uptr,
				    len, iova))
		TH_LOG("ob %#llx oi %#llx", (unsigned long long)ob,
		       (unsigned long long)oi);
	ASSERT_EQ(kb(pages_covering(uptr, len) * PAGE_SZ), pinned_kb(self));
	ASSERT_EQ(0, model_area(uptr, iova, len, dev_huge(variant), &w));
	if (huge_backing(variant) && dev_huge(variant)) {
		/*
		 * Closed form for huge pages: equally aligned to 1 MiB
		 * (same offset in the page too) gives one huge IOPTE per
		 * full 1 MiB chunk inside the mapping.
		 */
		__u64 want = 0;

		if (ob % SZ_1M == oi % SZ_1M)
			want = full_1m_chunks(iova, len);
		ASSERT_EQ(want, w.huge)
			TH_LOG("model disagrees at ob %#llx oi %#llx",
			       (unsigned long long)ob, (unsigned long long)oi);
	}
	{
		struct iommu_test_iopte_stats got;

		ASSERT_EQ(0, tcmd_md_iopte_stats(self->fd, ctx->hwpt, iova,
						 len, &got));
		if (w.huge != got.huge)
			log_chunk_layout(_metadata, uptr, iova, len);
		ASSERT_EQ(w.huge, got.huge)
			TH_LOG("ob %#llx oi %#llx: huge", (unsigned long long)ob,
			       (unsigned long long)oi);
		ASSERT_EQ(w.small, got.small)
			TH_LOG("ob %#llx oi %#llx: small",
			       (unsigned long long)ob, (unsigned long long)oi);
		ASSERT_EQ(0, got.unmapped);
	}
	ASSERT_EQ(0, tcmd_check_map(self->fd, ctx->hwpt, iova, uptr, len))
		TH_LOG("ob %#llx oi %#llx", (unsigned long long)ob,
		       (unsigned long long)oi);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, iova, len,
				&unmapped));
	ASSERT_EQ(len, unmapped);
	ASSERT_EQ(0, pinned_kb(self));
	ctx->combos++;
	if (w.huge)
		ctx->with_huge++;
}

TEST_F_TIMEOUT(huge, on_alignment_sweep, 120)
{
	struct sweep_ctx ctx = {};
	__u64 ob, oi, k;

	ASSERT_EQ(0, attach(self, variant, self->ioas_id, NULL, &ctx.hwpt,
			    NULL));
	/* The IOVA offset through all of 1 MiB, buffer at 0 and at 1 MiB. */
	for (oi = 0; oi < SZ_1M; oi += PAGE_SZ) {
		sweep_one(_metadata, self, variant, &ctx, 0, oi);
		sweep_one(_metadata, self, variant, &ctx, SZ_1M + oi, oi);
	}
	/* The buffer offset through all of 2 MiB, IOVA offset 0. */
	for (ob = PAGE_SZ; ob < SZ_2M; ob += PAGE_SZ) {
		if (ob == SZ_1M)
			continue;
		sweep_one(_metadata, self, variant, &ctx, ob, 0);
	}
	/* Congruent pairs and near misses, sampled over the rest. */
	for (k = 1; k < PAGES_2M; k += 7) {
		ob = k * PAGE_SZ;
		oi = ob % SZ_1M;
		sweep_one(_metadata, self, variant, &ctx, ob, oi);
		sweep_one(_metadata, self, variant, &ctx, ob,
			  (oi + PAGE_SZ) % SZ_1M);
		sweep_one(_metadata, self, variant, &ctx, ob,
			  (oi + SZ_1M - PAGE_SZ) % SZ_1M);
		sweep_one(_metadata, self, variant, &ctx, ob,
			  (oi + SZ_1M / 2) % SZ_1M);
	}
	/* Equally aligned below the page size too: 2 KiB offsets. */
	for (k = 0; k < PAGES_2M; k += 61) {
		ob = k * PAGE_SZ + HALF_PAGE;
		sweep_one(_metadata, self, variant, &ctx, ob, ob % SZ_1M);
		sweep_one(_metadata, self, variant, &ctx, ob,
			  (ob + HALF_PAGE) % SZ_1M);
	}
	TH_LOG("%u combinations, %u with huge IOPTEs", ctx.combos,
	       ctx.with_huge);
	if (huge_backing(variant) && dev_huge(variant))
		ASSERT_LT(0, ctx.with_huge);
	if (!dev_huge(variant))
		ASSERT_EQ(0, ctx.with_huge);
}

/* ---------------------------------------------------------------------- */
/* HUGE_PAGES off. */

/*
 * Only IOPTEs of at most PAGE_SIZE, in a domain attached before the maps,
 * in one allocated after them, and for maps made while both exist;
 * turning the option back on gives large IOPTEs again to new areas only.
 */
TEST_F(huge, off_small_ioptes_before_and_after)
{
	__u32 hwpt_before, hwpt_after, idev;
	__u64 val;

	ASSERT_EQ(0, ioas_huge_pages_set(self->fd, self->ioas_id, 0));
	ASSERT_EQ(0, ioas_huge_pages_get(self->fd, self->ioas_id, &val));
	ASSERT_EQ(0, val);
	ASSERT_EQ(PAGE_SZ, ioas_iova_alignment(self->fd, self->ioas_id));
	ASSERT_EQ(0, attach(self, variant, self->ioas_id, NULL, &hwpt_before,
			    &idev));
	ASSERT_EQ(PAGE_SZ, ioas_iova_alignment(self->fd, self->ioas_id));

	/* 2 MiB aligned both ways: the best case for large IOPTEs. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    SZ_2M, IOVA_BASE));
	check_small_only(_metadata, self, hwpt_before, IOVA_BASE, self->buf,
			 SZ_2M);
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev, self->ioas_id, &hwpt_after));
	check_small_only(_metadata, self, hwpt_after, IOVA_BASE, self->buf,
			 SZ_2M);
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
				    self->buf + SZ_2M, SZ_2M,
				    IOVA_BASE + SZ_2M));
	check_small_only(_metadata, self, hwpt_before, IOVA_BASE, self->buf,
			 BUF_SIZE);
	check_small_only(_metadata, self, hwpt_after, IOVA_BASE, self->buf,
			 BUF_SIZE);
	ASSERT_EQ(kb(BUF_SIZE), pinned_kb(self));

	/* Sub-page IOVAs, lengths and offsets are refused now. */
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  PAGE_SZ, IOVA_DST + HALF_PAGE));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  HALF_PAGE, IOVA_DST));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id,
					  self->buf + HALF_PAGE, PAGE_SZ,
					  IOVA_DST));

	/* On again: always allowed; existing IOPTEs stay small. */
	ASSERT_EQ(0, ioas_huge_pages_set(self->fd, self->ioas_id, 1));
	ASSERT_EQ(HALF_PAGE, ioas_iova_alignment(self->fd, self->ioas_id));
	check_small_only(_metadata, self, hwpt_before, IOVA_BASE, self->buf,
			 BUF_SIZE);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE + SZ_2M,
				SZ_2M, NULL));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
				    self->buf + SZ_2M, SZ_2M,
				    IOVA_BASE + SZ_2M));
	check_area(_metadata, self, hwpt_before, IOVA_BASE + SZ_2M,
		   self->buf + SZ_2M, SZ_2M, dev_huge(variant), NULL);
	check_area(_metadata, self, hwpt_after, IOVA_BASE + SZ_2M,
		   self->buf + SZ_2M, SZ_2M, dev_huge(variant), NULL);
	if (huge_backing(variant) && dev_huge(variant)) {
		struct iommu_test_iopte_stats w = { .huge = 2 };

		ASSERT_STATS(hwpt_after, IOVA_BASE + SZ_2M, SZ_2M, &w);
	}
	check_small_only(_metadata, self, hwpt_after, IOVA_BASE, self->buf,
			 SZ_2M);
	ASSERT_EQ(kb(BUF_SIZE), pinned_kb(self));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt_after));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, UINT64_MAX, NULL));
	ASSERT_EQ(0, pinned_kb(self));
}

/* Off with areas but no domain, then a domain attached: still small. */
TEST_F(huge, off_areas_without_domain_then_attach)
{
	__u32 stdev, hwpt, hwpt2, idev;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, IOVA_BASE));
	ASSERT_EQ(0, ioas_huge_pages_set(self->fd, self->ioas_id, 0));
	ASSERT_EQ(PAGE_SZ, ioas_iova_alignment(self->fd, self->ioas_id));
	ASSERT_EQ(0, attach(self, variant, self->ioas_id, &stdev, &hwpt,
			    &idev));
	check_small_only(_metadata, self, hwpt, IOVA_BASE, self->buf,
			 BUF_SIZE);
	ASSERT_EQ(kb(BUF_SIZE), pinned_kb(self));
	/*
	 * On again (always allowed): the old domain keeps its small IOPTEs,
	 * a domain added now maps the same areas with large ones.
	 */
	ASSERT_EQ(0, ioas_huge_pages_set(self->fd, self->ioas_id, 1));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev, self->ioas_id, &hwpt2));
	check_small_only(_metadata, self, hwpt, IOVA_BASE, self->buf,
			 BUF_SIZE);
	check_area(_metadata, self, hwpt2, IOVA_BASE, self->buf, BUF_SIZE,
		   dev_huge(variant), NULL);
	ASSERT_EQ(kb(BUF_SIZE), pinned_kb(self));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt2));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	ASSERT_EQ(0, pinned_kb(self));
}

/*
 * Off is refused with EINVAL while a domain and areas both exist, and
 * changes nothing; with the domain but no area it works.
 */
TEST_F(huge, off_refused_with_domain_and_areas)
{
	struct iommu_test_iopte_stats w;
	__u32 hwpt;
	__u64 val;

	ASSERT_EQ(0, attach(self, variant, self->ioas_id, NULL, &hwpt, NULL));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, IOVA_BASE));
	check_area(_metadata, self, hwpt, IOVA_BASE, self->buf, BUF_SIZE,
		   dev_huge(variant), &w);
	ASSERT_EQ(-EINVAL, ioas_huge_pages_set(self->fd, self->ioas_id, 0));
	ASSERT_EQ(0, ioas_huge_pages_get(self->fd, self->ioas_id, &val));
	ASSERT_EQ(1, val);
	ASSERT_EQ(HALF_PAGE, ioas_iova_alignment(self->fd, self->ioas_id));
	ASSERT_STATS(hwpt, IOVA_BASE, BUF_SIZE, &w);
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, IOVA_BASE, self->buf,
				    BUF_SIZE));
	/* Setting it to what it already is changes nothing either. */
	ASSERT_EQ(0, ioas_huge_pages_set(self->fd, self->ioas_id, 1));
	ASSERT_STATS(hwpt, IOVA_BASE, BUF_SIZE, &w);
	ASSERT_EQ(kb(BUF_SIZE), pinned_kb(self));

	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE, BUF_SIZE,
				NULL));
	ASSERT_EQ(0, pinned_kb(self));
	ASSERT_EQ(0, ioas_huge_pages_set(self->fd, self->ioas_id, 0));
	ASSERT_EQ(PAGE_SZ, ioas_iova_alignment(self->fd, self->ioas_id));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, IOVA_BASE));
	check_small_only(_metadata, self, hwpt, IOVA_BASE, self->buf,
			 BUF_SIZE);
	/* Off to off with areas and a domain is no change: allowed. */
	ASSERT_EQ(0, ioas_huge_pages_set(self->fd, self->ioas_id, 0));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE, BUF_SIZE,
				NULL));
	ASSERT_EQ(0, pinned_kb(self));
}

/*
 * Off with an area that PAGE_SIZE IOPTEs cannot map (IOVA, length or user
 * offset a multiple of PAGE_SIZE / 2 only) and no domain: EADDRINUSE, and
 * the option and the alignment stay as they were.
 */
TEST_F(huge, off_unaligned_area_eaddrinuse)
{
	static const struct {
		__u64 ob, iova_off, len;
	} cases[] = {
		{ 0, HALF_PAGE, PAGE_SZ },
		{ 0, 0, PAGE_SZ + HALF_PAGE },
		{ HALF_PAGE, 0, PAGE_SZ },
		{ HALF_PAGE, HALF_PAGE, SZ_1M },
	};
	__u64 align0, val;
	unsigned int i;

	align0 = ioas_iova_alignment(self->fd, self->ioas_id);
	ASSERT_NE(0, align0);
	ASSERT_GT(PAGE_SZ, align0);
	for (i = 0; i != ARRAY_SIZE(cases); i++) {
		__u64 iova = IOVA_BASE + cases[i].iova_off;

		/* An aligned neighbour, which alone would be fine. */
		ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
					    self->buf + SZ_2M, SZ_2M,
					    IOVA_DST));
		ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
					    self->buf + cases[i].ob,
					    cases[i].len, iova));
		ASSERT_EQ(-EADDRINUSE,
			  ioas_huge_pages_set(self->fd, self->ioas_id, 0))
			TH_LOG("case %u", i);
		ASSERT_EQ(0, ioas_huge_pages_get(self->fd, self->ioas_id,
						 &val));
		ASSERT_EQ(1, val);
		ASSERT_EQ(align0,
			  ioas_iova_alignment(self->fd, self->ioas_id));
		ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, iova,
					cases[i].len, NULL));
		ASSERT_EQ(0, ioas_huge_pages_set(self->fd, self->ioas_id, 0));
		ASSERT_EQ(PAGE_SZ,
			  ioas_iova_alignment(self->fd, self->ioas_id));
		ASSERT_EQ(0, ioas_huge_pages_set(self->fd, self->ioas_id, 1));
		ASSERT_EQ(align0,
			  ioas_iova_alignment(self->fd, self->ioas_id));
		ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_DST,
					SZ_2M, NULL));
	}
	/* With a domain as well, the domain-and-areas rule comes first. */
	ASSERT_EQ(0, attach(self, variant, self->ioas_id, NULL, NULL, NULL));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
				    self->buf + HALF_PAGE, PAGE_SZ,
				    IOVA_BASE + HALF_PAGE));
	ASSERT_EQ(-EINVAL, ioas_huge_pages_set(self->fd, self->ioas_id, 0));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, UINT64_MAX, NULL));
	ASSERT_EQ(0, pinned_kb(self));
}

/* ---------------------------------------------------------------------- */
/* COPY between IOASes with different settings. */

/*
 * COPY follows the destination's setting: on to off gives only small
 * IOPTEs in the destination, off to on large ones, in a domain attached
 * before the copy and in one attached after; the pins are shared.
 */
static void copy_between(struct __test_metadata *_metadata,
			 huge_data_t *self,
			 const huge_variant_t *variant,
			 bool src_on, bool dst_on)
{
	__u32 src, dst, src_hwpt, dst_hwpt, late_ioas, late_stdev, late_hwpt;
	__u64 dst_iova = IOVA_DST;

	ASSERT_EQ(0, ioas_alloc(self->fd, &src));
	ASSERT_EQ(0, ioas_alloc(self->fd, &dst));
	ASSERT_EQ(0, ioas_alloc(self->fd, &late_ioas));
	ASSERT_EQ(0, ioas_huge_pages_set(self->fd, src, src_on));
	ASSERT_EQ(0, ioas_huge_pages_set(self->fd, dst, dst_on));
	ASSERT_EQ(0, ioas_huge_pages_set(self->fd, late_ioas, dst_on));
	ASSERT_EQ(0, attach(self, variant, src, NULL, &src_hwpt, NULL));
	ASSERT_EQ(0, attach(self, variant, dst, NULL, &dst_hwpt, NULL));

	ASSERT_EQ(0, ioas_map_fixed(self->fd, src, self->buf, BUF_SIZE,
				    IOVA_BASE));
	ASSERT_EQ(kb(BUF_SIZE), pinned_kb(self));
	if (src_on)
		check_area(_metadata, self, src_hwpt, IOVA_BASE, self->buf,
			   BUF_SIZE, dev_huge(variant), NULL);
	else
		check_small_only(_metadata, self, src_hwpt, IOVA_BASE,
				 self->buf, BUF_SIZE);

	ASSERT_EQ(0, ioas_copy(self->fd, dst, &dst_iova, src, IOVA_BASE,
			       BUF_SIZE, FIXED_RW));
	ASSERT_EQ(0, ioas_copy(self->fd, late_ioas, &dst_iova, src, IOVA_BASE,
			       BUF_SIZE, FIXED_RW));
	/* The copies pin nothing more. */
	ASSERT_EQ(kb(BUF_SIZE), pinned_kb(self));
	ASSERT_EQ(0, attach(self, variant, late_ioas, &late_stdev, &late_hwpt,
			    NULL));
	ASSERT_EQ(kb(BUF_SIZE), pinned_kb(self));
	if (!huge_backing(variant))
		ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE,
					     1));
	if (dst_on) {
		check_area(_metadata, self, dst_hwpt, IOVA_DST, self->buf,
			   BUF_SIZE, dev_huge(variant), NULL);
		check_area(_metadata, self, late_hwpt, IOVA_DST, self->buf,
			   BUF_SIZE, dev_huge(variant), NULL);
		if (huge_backing(variant) && dev_huge(variant)) {
			struct iommu_test_iopte_stats w = { .huge = 4 };

			ASSERT_STATS(dst_hwpt, IOVA_DST, BUF_SIZE, &w);
			ASSERT_STATS(late_hwpt, IOVA_DST, BUF_SIZE, &w);
		}
	} else {
		check_small_only(_metadata, self, dst_hwpt, IOVA_DST,
				 self->buf, BUF_SIZE);
		check_small_only(_metadata, self, late_hwpt, IOVA_DST,
				 self->buf, BUF_SIZE);
	}

	/* The source goes first; the copies keep the pages pinned. */
	ASSERT_EQ(0, ioas_unmap(self->fd, src, IOVA_BASE, BUF_SIZE, NULL));
	check_unmapped(_metadata, self, src_hwpt, IOVA_BASE, BUF_SIZE);
	ASSERT_EQ(kb(BUF_SIZE), pinned_kb(self));
	ASSERT_EQ(0, tcmd_check_map(self->fd, dst_hwpt, IOVA_DST, self->buf,
				    BUF_SIZE));
	ASSERT_EQ(0, ioas_unmap(self->fd, dst, IOVA_DST, BUF_SIZE, NULL));
	check_unmapped(_metadata, self, dst_hwpt, IOVA_DST, BUF_SIZE);
	ASSERT_EQ(kb(BUF_SIZE), pinned_kb(self));
	ASSERT_EQ(0, iommufd_destroy(self->fd, late_stdev));
	ASSERT_EQ(0, pinned_kb(self));
	ASSERT_EQ(0, ioas_unmap(self->fd, late_ioas, IOVA_DST, BUF_SIZE,
				NULL));
}

TEST_F(huge, copy_on_to_off)
{
	copy_between(_metadata, self, variant, true, false);
}

TEST_F(huge, copy_off_to_on)
{
	copy_between(_metadata, self, variant, false, true);
}

/*
 * COPY of slices of a source area, at destination IOVAs equally aligned
 * with the memory or not: the destination area gets exactly the IOPTEs its
 * own extent and alignment allow.
 */
TEST_F(huge, copy_slices_alignment)
{
	static const struct {
		__u64 src_off, dst_off, len;
	} cases[] = {
		{ 0, 0, BUF_SIZE },
		{ PAGE_SZ, PAGE_SZ, SZ_2M },
		{ PAGE_SZ, 0, SZ_2M },
		{ SZ_1M, SZ_1M, SZ_1M },
		{ SZ_1M, 0, 2 * SZ_1M },
		{ SZ_1M - PAGE_SZ, 3 * SZ_1M - PAGE_SZ, SZ_2M + PAGE_SZ },
		{ HALF_PAGE, HALF_PAGE, SZ_2M },
		{ 3 * SZ_1M, 5 * SZ_1M + 8 * PAGE_SZ, SZ_1M },
	};
	__u32 dst, src_hwpt, dst_hwpt;
	unsigned int i;

	ASSERT_EQ(0, ioas_alloc(self->fd, &dst));
	ASSERT_EQ(0, attach(self, variant, self->ioas_id, NULL, &src_hwpt,
			    NULL));
	ASSERT_EQ(0, attach(self, variant, dst, NULL, &dst_hwpt, NULL));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, IOVA_BASE));
	ASSERT_EQ(kb(BUF_SIZE), pinned_kb(self));
	for (i = 0; i != ARRAY_SIZE(cases); i++) {
		__u64 dst_iova = IOVA_DST + cases[i].dst_off;

		ASSERT_EQ(0, ioas_copy(self->fd, dst, &dst_iova,
				       self->ioas_id,
				       IOVA_BASE + cases[i].src_off,
				       cases[i].len, FIXED_RW))
			TH_LOG("case %u", i);
		ASSERT_EQ(kb(BUF_SIZE), pinned_kb(self));
		check_area(_metadata, self, dst_hwpt, dst_iova,
			   self->buf + cases[i].src_off, cases[i].len,
			   dev_huge(variant), NULL);
		ASSERT_EQ(0, ioas_unmap(self->fd, dst, dst_iova, cases[i].len,
					NULL));
		check_unmapped(_metadata, self, dst_hwpt, dst_iova,
			       cases[i].len);
	}
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE, BUF_SIZE,
				NULL));
	ASSERT_EQ(0, pinned_kb(self));
}

/* ---------------------------------------------------------------------- */
/* UNMAP never cuts an IOPTE. */

/*
 * A 2 MiB huge run as one area, an adjacent one after it: UNMAP of any
 * range starting or ending at a page boundary inside the first fails with
 * ENOENT and leaves every IOPTE of both in place.
 */
TEST_F_TIMEOUT(huge, unmap_every_boundary_inside_run, 90)
{
	struct iommu_test_iopte_stats w1, w2, all;
	__u64 a1 = IOVA_BASE, a2 = IOVA_BASE + SZ_2M, k, unmapped;
	__u32 hwpt;

	ASSERT_EQ(0, attach(self, variant, self->ioas_id, NULL, &hwpt, NULL));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf, SZ_2M,
				    a1));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
				    self->buf + SZ_2M, SZ_2M, a2));
	check_area(_metadata, self, hwpt, a1, self->buf, SZ_2M,
		   dev_huge(variant), &w1);
	check_area(_metadata, self, hwpt, a2, self->buf + SZ_2M, SZ_2M,
		   dev_huge(variant), &w2);
	if (huge_backing(variant) && dev_huge(variant)) {
		ASSERT_EQ(2, w1.huge);
		ASSERT_EQ(2, w2.huge);
	}
	all.huge = w1.huge + w2.huge;
	all.small = w1.small + w2.small;
	all.unmapped = 0;

	for (k = 1; k < PAGES_2M; k++) {
		__u64 b = a1 + k * PAGE_SZ;

		/* Ending inside, from the start or from before it. */
		ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, a1,
					      b - a1, NULL))
			TH_LOG("[start, +%#llx)", (unsigned long long)(b - a1));
		ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id,
					      a1 - SZ_1M, b - a1 + SZ_1M,
					      NULL));
		/* Starting inside, to its end or past the next area. */
		ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, b,
					      a2 - b, NULL));
		ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, b,
					      a2 + SZ_2M - b, NULL));
		/* One page strictly inside. */
		ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id,
					      b - PAGE_SZ, PAGE_SZ, NULL));
		ASSERT_STATS(hwpt, a1, BUF_SIZE, &all);
		if (k % 64 == 0)
			ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, a1,
						    self->buf, BUF_SIZE));
	}
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, a1, self->buf, BUF_SIZE));
	ASSERT_EQ(kb(BUF_SIZE), pinned_kb(self));

	/* Whole areas go. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, a1, SZ_2M,
				&unmapped));
	ASSERT_EQ(SZ_2M, unmapped);
	check_unmapped(_metadata, self, hwpt, a1, SZ_2M);
	ASSERT_STATS(hwpt, a2, SZ_2M, &w2);
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, a2, self->buf + SZ_2M,
				    SZ_2M));
	ASSERT_EQ(kb(SZ_2M), pinned_kb(self));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, a1 - SZ_1M,
				BUF_SIZE + SZ_1M, &unmapped));
	ASSERT_EQ(SZ_2M, unmapped);
	check_unmapped(_metadata, self, hwpt, a1, BUF_SIZE);
	ASSERT_EQ(0, pinned_kb(self));
}

/*
 * The same 2 MiB mapped as several areas split at page boundaries, then
 * unmapped one by one in several orders: each area gets exactly the
 * IOPTEs its own extent allows, and after every UNMAP the remaining areas
 * are still fully mapped with the same IOPTEs and the removed one is
 * fully gone. Once, the areas are left mapped and the domain is removed
 * and attached again instead.
 */
#define MAX_SPLIT 8

static const unsigned int splits[][MAX_SPLIT + 1] = {
	/* Boundaries in pages within the 2 MiB; ends with 512. */
	{ 0, 256, 512 },
	{ 0, 1, 512 },
	{ 0, 511, 512 },
	{ 0, 255, 256, 257, 512 },
	{ 0, 128, 384, 512 },
	{ 0, 100, 200, 300, 400, 511, 512 },
	{ 0, 1, 2, 256, 258, 509, 510, 512 },
};

enum unmap_order {
	ORDER_FORWARD,
	ORDER_REVERSE,
	ORDER_ODD_EVEN,
	ORDER_COUNT,
};

static unsigned int split_areas(const unsigned int *s)
{
	unsigned int n = 0;

	while (s[n + 1] != PAGES_2M)
		n++;
	return n + 1;
}

static unsigned int order_pick(enum unmap_order order, unsigned int n,
			       unsigned int step)
{
	switch (order) {
	case ORDER_REVERSE:
		return n - 1 - step;
	case ORDER_ODD_EVEN:
		return step < n / 2 ? 2 * step + 1 : 2 * (step - n / 2);
	default:
		return step;
	}
}

static void split_check_all(struct __test_metadata *_metadata,
			    huge_data_t *self,
			    const huge_variant_t *variant, __u32 hwpt,
			    const unsigned int *s, unsigned int n,
			    const bool *gone,
			    const struct iommu_test_iopte_stats *want)
{
	unsigned int i;

	for (i = 0; i != n; i++) {
		__u64 off = s[i] * PAGE_SZ, len = (s[i + 1] - s[i]) * PAGE_SZ;

		if (gone[i]) {
			check_unmapped(_metadata, self, hwpt, IOVA_BASE + off,
				       len);
			continue;
		}
		ASSERT_STATS(hwpt, IOVA_BASE + off, len, &want[i]);
		ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, IOVA_BASE + off,
					    self->buf + off, len));
	}
}

TEST_F_TIMEOUT(huge, split_areas_unmap_one_by_one, 90)
{
	struct iommu_test_iopte_stats want[MAX_SPLIT];
	unsigned int p, order, i, n, step;
	bool gone[MAX_SPLIT];
	__u32 stdev, hwpt;

	ASSERT_EQ(0, attach(self, variant, self->ioas_id, &stdev, &hwpt,
			    NULL));
	for (p = 0; p != ARRAY_SIZE(splits); p++) {
		const unsigned int *s = splits[p];

		n = split_areas(s);
		ASSERT_GE(MAX_SPLIT, n);
		for (order = 0; order != ORDER_COUNT; order++) {
			for (i = 0; i != n; i++) {
				__u64 off = s[i] * PAGE_SZ;
				__u64 len = (s[i + 1] - s[i]) * PAGE_SZ;

				ASSERT_EQ(0, ioas_map_fixed(self->fd,
							    self->ioas_id,
							    self->buf + off,
							    len,
							    IOVA_BASE + off));
				gone[i] = false;
			}
			ASSERT_EQ(kb(SZ_2M), pinned_kb(self));
			for (i = 0; i != n; i++) {
				__u64 off = s[i] * PAGE_SZ;
				__u64 len = (s[i + 1] - s[i]) * PAGE_SZ;

				check_area(_metadata, self, hwpt,
					   IOVA_BASE + off, self->buf + off,
					   len, dev_huge(variant), &want[i]);
				if (huge_backing(variant) &&
				    dev_huge(variant))
					ASSERT_EQ(full_1m_chunks(off, len),
						  want[i].huge)
						TH_LOG("split %u area %u", p,
						       i);
			}
			if (p == 3 && order == ORDER_FORWARD) {
				/* Remove the domain and attach a new one. */
				ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
				ASSERT_EQ(0, pinned_kb(self));
				ASSERT_EQ(0, attach(self, variant,
						    self->ioas_id, &stdev,
						    &hwpt, NULL));
				ASSERT_EQ(kb(SZ_2M), pinned_kb(self));
				split_check_all(_metadata, self, variant,
						hwpt, s, n, gone, want);
			}
			for (step = 0; step != n; step++) {
				__u64 off, len, unmapped = 0;

				i = order_pick(order, n, step);
				off = s[i] * PAGE_SZ;
				len = (s[i + 1] - s[i]) * PAGE_SZ;
				/* Cutting it in two fails and changes nothing. */
				if (len > PAGE_SZ) {
					ASSERT_EQ(-ENOENT,
						  ioas_unmap(self->fd,
							     self->ioas_id,
							     IOVA_BASE + off,
							     len - PAGE_SZ,
							     NULL));
					ASSERT_EQ(-ENOENT,
						  ioas_unmap(self->fd,
							     self->ioas_id,
							     IOVA_BASE + off +
							     PAGE_SZ,
							     len - PAGE_SZ,
							     NULL));
				}
				ASSERT_EQ(0, ioas_unmap(self->fd,
							self->ioas_id,
							IOVA_BASE + off, len,
							&unmapped));
				ASSERT_EQ(len, unmapped);
				gone[i] = true;
				split_check_all(_metadata, self, variant,
						hwpt, s, n, gone, want);
			}
			ASSERT_EQ(0, pinned_kb(self))
				TH_LOG("split %u order %u", p, order);
		}
	}
}

/*
 * IOPTE_STATS over 2^63 bytes and over all but the last 2 KiB of the
 * 64-bit space answers at once with the counts of the one area and the
 * rest unmapped: the mock walks its page table, not the range (it used to
 * step 2 KiB at a time under a spinlock: a soft lockup).
 */
TEST_F(huge, stats_over_the_whole_iova_space_answer_at_once)
{
	const __u64 lens[] = { 1ULL << 63, 0 - HALF_PAGE };
	struct iommu_test_iopte_stats w, got;
	__u64 iova = IOVA_BASE + SZ_1M;
	struct timespec t0, t1;
	unsigned int i;
	__u32 hwpt;

	ASSERT_EQ(0, attach(self, variant, self->ioas_id, NULL, &hwpt, NULL));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf, SZ_2M,
				    iova));
	check_area(_metadata, self, hwpt, iova, self->buf, SZ_2M,
		   dev_huge(variant), &w);
	for (i = 0; i != ARRAY_SIZE(lens); i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ASSERT_EQ(0, tcmd_md_iopte_stats(self->fd, hwpt, 0, lens[i],
						 &got));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		EXPECT_EQ(w.huge, got.huge);
		EXPECT_EQ(w.small, got.small);
		EXPECT_EQ(lens[i] - SZ_2M, got.unmapped);
		EXPECT_GT(5, t1.tv_sec - t0.tv_sec);
	}
	/* Whole leaf tables, and parts of them, inside a bigger range. */
	w.unmapped = 2 * SZ_1M;
	ASSERT_STATS(hwpt, IOVA_BASE, 4 * SZ_1M, &w);
	/* A range that starts beyond the table is all unmapped. */
	check_unmapped(_metadata, self, hwpt, 1ULL << 40, 1ULL << 62);
	check_unmapped(_metadata, self, hwpt, 0 - SZ_1M, SZ_1M);
}

/* Fragmented 4K memory: a physical break every page or two. */
#define FRAG_PAGES 256
#define FRAG_SPREAD (64 * SZ_1M)

/*
 * Fault in the 4K pages of [@buf, @buf + @len) right after every other
 * page of a large region was given back: they come from those one-page
 * holes, so they are physically fragmented. Returns 0 or -1.
 */
static int fill_from_holes(char *buf, size_t len)
{
	unsigned long off;
	char *spread;

	spread = mmap(NULL, FRAG_SPREAD, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (spread == MAP_FAILED)
		return -1;
	madvise(spread, FRAG_SPREAD, MADV_NOHUGEPAGE);
	madvise(buf, len, MADV_NOHUGEPAGE);
	memset(spread, 1, FRAG_SPREAD);
	for (off = 0; off < FRAG_SPREAD; off += 2 * PAGE_SZ)
		madvise(spread + off, PAGE_SZ, MADV_DONTNEED);
	memset(buf, 0x5a, len);
	munmap(spread, FRAG_SPREAD);
	return 0;
}

/* A buffer of FRAG_PAGES fragmented 4K pages, or NULL. */
static char *fragmented_buffer(void)
{
	char *buf = mmap(NULL, FRAG_PAGES * PAGE_SZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED || fill_from_holes(buf, FRAG_PAGES * PAGE_SZ))
		return NULL;
	return buf;
}

/*
 * How many physically contiguous runs the @npages pages from @buf make,
 * into *@runs; -1 if pagemap shows no PFNs (it needs root).
 */
static int count_phys_runs(const char *buf, unsigned int npages,
			   __u64 *pfns, int *runs)
{
	unsigned int i;

	if (pagemap_pfns(buf, npages, pfns) || !pfns[0])
		return -1;
	*runs = 1;
	for (i = 1; i != npages; i++)
		*runs += pfns[i] != pfns[i - 1] + 1;
	return 0;
}

/*
 * The pages layer stores a fragmented batch as one chunk of PFNs instead
 * of a tree entry per run. Pins that overlap, an unpin that leaves part of
 * a chunk behind, and a domain that then reads every run must all see
 * exactly the user's pages, and every pin must go again.
 */
TEST(fragmented_4k_memory_is_pinned_and_mapped_exactly)
{
	const unsigned long len = FRAG_PAGES * PAGE_SZ;
	__u64 pfns[FRAG_PAGES];
	__u32 ioas_id, stdev_id, hwpt_id, pin_a, pin_b;
	int fd, access_fd, runs;
	char *buf;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	if (!iommufd_is_test_build(fd))
		SKIP(return, "needs a test build");
	buf = fragmented_buffer();
	ASSERT_NE(NULL, buf);
	if (count_phys_runs(buf, FRAG_PAGES, pfns, &runs))
		SKIP(return, "no PFNs in /proc/self/pagemap (needs root)");
	if (runs < FRAG_PAGES / 4)
		SKIP(return, "memory came back contiguous (%d runs)", runs);

	ASSERT_EQ(0, ioas_alloc(fd, &ioas_id));
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas_id, buf, len, IOVA_BASE));
	ASSERT_EQ(0, tcmd_access_create(fd, ioas_id,
					MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
					&access_fd));
	/* Pages 0-63, then 32-95: the second pins only 64-95. */
	ASSERT_EQ(0, tcmd_access_pin(fd, access_fd, IOVA_BASE, 64 * PAGE_SZ,
				     buf, 0, &pin_a));
	ASSERT_EQ(0, tcmd_access_pin(fd, access_fd, IOVA_BASE + 32 * PAGE_SZ,
				     64 * PAGE_SZ, buf + 32 * PAGE_SZ, 0,
				     &pin_b));
	ASSERT_EQ(0, tcmd_check_refs(fd, buf, 96 * PAGE_SZ, 1));
	ASSERT_EQ(0, tcmd_check_refs(fd, buf + 96 * PAGE_SZ,
				     len - 96 * PAGE_SZ, 0));
	/* Unpinning 0-63 unpins 0-31 and keeps 32-63 for the second pin. */
	ASSERT_EQ(0, tcmd_access_unpin(fd, access_fd, pin_a));
	ASSERT_EQ(0, tcmd_check_refs(fd, buf, 32 * PAGE_SZ, 0));
	ASSERT_EQ(0, tcmd_check_refs(fd, buf + 32 * PAGE_SZ, 64 * PAGE_SZ,
				     1));
	/* A domain now pins the rest and maps every page where it belongs. */
	ASSERT_EQ(0, tcmd_mock_domain(fd, ioas_id, &stdev_id, &hwpt_id, NULL));
	ASSERT_EQ(0, tcmd_check_refs(fd, buf, len, 1));
	ASSERT_EQ(0, tcmd_check_map(fd, hwpt_id, IOVA_BASE, buf, len));
	/* A pin through the access reads the same pages back. */
	ASSERT_EQ(0, tcmd_access_pin(fd, access_fd, IOVA_BASE, len, buf, 0,
				     &pin_a));
	ASSERT_EQ(0, tcmd_access_unpin(fd, access_fd, pin_a));
	ASSERT_EQ(0, tcmd_access_unpin(fd, access_fd, pin_b));
	ASSERT_EQ(0, iommufd_destroy(fd, stdev_id));
	ASSERT_EQ(0, tcmd_check_refs(fd, buf, len, 0));
	ASSERT_EQ(0, ioas_unmap(fd, ioas_id, IOVA_BASE, len, NULL));
	close(access_fd);
	close(fd);
	munmap(buf, len);
}

/*
 * A batch of pins that is mostly fragmented is stored as chunks of PFNs,
 * at most PAGES_CHUNK_MAX (510 on x86-64) to a chunk, and the entries on
 * either side of a chunk's edge are never joined. A physically contiguous
 * stretch that crosses such an edge must still reach the domain as one
 * run, or a large IOPTE is cut there. Here 300 fragmented 4K pages come
 * first and a THP right after, in one mapping: the first batch (512
 * pages) is stored as chunks, its edge at page 510 falls inside the
 * THP's first 1 MiB, and the next batch starts at page 512.
 */
#define EDGE_FRAG 300
#define EDGE_WIN_BASE 0x20000000UL

TEST(contiguous_run_across_a_chunk_edge_keeps_its_large_ioptes)
{
	const unsigned long len = EDGE_FRAG * PAGE_SZ + SZ_2M;
	const __u64 iova = IOVA_BASE + SZ_1M - EDGE_FRAG * PAGE_SZ;
	struct iommu_test_iopte_stats want, got;
	char *map, *thp, *buf;
	__u64 pfns[EDGE_FRAG];
	__u32 ioas_id, hwpt_id, win_ioas, win_hwpt;
	__u64 win_iova = EDGE_WIN_BASE;
	int fd, runs;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	if (!iommufd_is_test_build(fd))
		SKIP(return, "needs a test build");
	if (!thp_possible())
		SKIP(return, "transparent huge pages are disabled");
	/* A THP at thp, 2 MiB aligned, with 4K pages just below it. */
	map = mmap(NULL, 3 * SZ_2M, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	thp = (char *)align_up((uintptr_t)map + SZ_2M, SZ_2M);
	buf = thp - EDGE_FRAG * PAGE_SZ;
	madvise(thp - SZ_2M, SZ_2M, MADV_NOHUGEPAGE);
	madvise(thp, SZ_2M, MADV_HUGEPAGE);
	ASSERT_EQ(0, fill_from_holes(buf, EDGE_FRAG * PAGE_SZ));
	memset(thp, 0xa5, SZ_2M);

	if (count_phys_runs(buf, EDGE_FRAG, pfns, &runs))
		SKIP(return, "no PFNs in /proc/self/pagemap (needs root)");
	if (runs < EDGE_FRAG / 2)
		SKIP(return, "4K memory came back contiguous (%d runs)", runs);
	if (phys_run_aligned(thp, SZ_2M, SZ_2M) != 1)
		SKIP(return, "no THP behind the 2 MiB after the 4K pages");

	ASSERT_EQ(0, ioas_alloc(fd, &ioas_id));
	ASSERT_EQ(0, tcmd_mock_domain_flags(fd, ioas_id, HUGE_IOVA, NULL,
					    &hwpt_id, NULL));
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas_id, buf, len, iova));
	/* Both 1 MiB halves of the THP are 1 MiB IOPTEs, the rest 2 KiB. */
	ASSERT_EQ(0, model_area(buf, iova, len, true, &want));
	ASSERT_EQ(2, want.huge);
	ASSERT_EQ(0, tcmd_md_iopte_stats(fd, hwpt_id, iova, len, &got));
	ASSERT_EQ(want.huge, got.huge);
	ASSERT_EQ(want.small, got.small);
	ASSERT_EQ(0, tcmd_check_map(fd, hwpt_id, iova, buf, len));

	/*
	 * An exact-IOPTE window of 1 MiB IOPTEs reads each IOPTE's run on
	 * its own: COPY the THP, whose pages the chunks above hold, into
	 * one. Every IOPTE must find its whole 1 MiB, across the edge too.
	 */
	ASSERT_EQ(0, ioas_alloc_windowed(fd, &win_ioas));
	ASSERT_EQ(0, tcmd_mock_domain_flags(fd, win_ioas, HUGE_IOVA, NULL,
					    &win_hwpt, NULL));
	ASSERT_EQ(0, ioas_create_window_fixed(fd, win_ioas, EDGE_WIN_BASE,
					      SZ_2M, SZ_1M,
					      IOMMU_WINDOW_ATTR_EXACT_IOPTE));
	ASSERT_EQ(0, ioas_copy(fd, win_ioas, &win_iova, ioas_id,
			       IOVA_BASE + SZ_1M, SZ_2M,
			       IOMMU_IOAS_MAP_FIXED_IOVA |
			       IOMMU_IOAS_MAP_READABLE |
			       IOMMU_IOAS_MAP_WRITEABLE));
	ASSERT_EQ(0, tcmd_md_iopte_stats(fd, win_hwpt, EDGE_WIN_BASE, SZ_2M, &got));
	ASSERT_EQ(2, got.huge);
	ASSERT_EQ(0, got.small);
	ASSERT_EQ(0, tcmd_check_map(fd, win_hwpt, EDGE_WIN_BASE, thp, SZ_2M));
	ASSERT_EQ(0, ioas_unmap(fd, win_ioas, EDGE_WIN_BASE, SZ_2M, NULL));
	/* The COPY shared the pins: the THP is still pinned once. */
	ASSERT_EQ(0, tcmd_check_refs(fd, thp, SZ_2M, 1));

	ASSERT_EQ(0, ioas_unmap(fd, ioas_id, iova, len, NULL));
	ASSERT_EQ(0, tcmd_check_refs(fd, buf, len, 0));
	close(fd);
	munmap(map, 3 * SZ_2M);
}

TEST_HARNESS_MAIN
