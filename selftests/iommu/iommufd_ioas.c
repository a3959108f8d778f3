// SPDX-License-Identifier: GPL-2.0
/*
 * The IOAS: MAP, UNMAP, COPY, IOVA_RANGES, ALLOW_IOVAS and IOMMU_OPTION,
 * and underneath them the pages layer: lazy pinning, one pin per page per
 * pages object, accounting against RLIMIT_MEMLOCK, and in-kernel accesses
 * that pin or read and write through an IOAS.
 *
 * No domain is ever attached here, so an IOAS's IOVA alignment is one byte
 * unless a pinning access or IOMMU_OPTION_HUGE_PAGES raises it.
 */
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "iommufd_utils.h"

#define PAGE_SZ 4096UL
#define SZ_64K 0x10000UL
#define SZ_1M 0x100000UL
#define SZ_2M 0x200000UL
#define SZ_1G 0x40000000UL
/* Where fixed mappings go: well away from 0 and from the top. */
#define BASE_IOVA 0x100000000UL
#define ALL_IOVA UINT64_MAX
#define HALF_IOVA 0x8000000000000000ULL

#define RW (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)
#define FIXED_RW (IOMMU_IOAS_MAP_FIXED_IOVA | RW)
#define PIN_ACCESS MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES
#define DEFAULT_BATCHES IOMMUFD_TEST_DEFAULT_BATCH_LIMIT

static void fill_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = rand();
}

/* A range of address space with no memory behind it, aligned to @align. */
static void *va_reserve(size_t len, size_t align)
{
	char *p;

	p = mmap(NULL, len + align, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	return (void *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
}

static int unmap_all(int fd, __u32 ioas_id, __u64 *unmapped)
{
	return ioas_unmap(fd, ioas_id, 0, ALL_IOVA, unmapped);
}

static __u64 lowest_bit(__u64 v)
{
	return v & -v;
}

static __u64 pow2_roundup(__u64 v)
{
	__u64 r = 1;

	while (r < v)
		r <<= 1;
	return r;
}

/* The largest IOVA alignment auto allocation may keep from a user VA. */
static __u64 max_auto_alignment(void)
{
	/* With THP the kernel keeps up to a huge page of alignment. */
	if (!access("/sys/kernel/mm/transparent_hugepage", F_OK))
		return SZ_2M;
	return PAGE_SZ;
}

static bool ranges_overlap(__u64 a, __u64 alen, __u64 b, __u64 blen)
{
	return a < b + blen && b < a + alen;
}

static bool range_inside(__u64 a, __u64 alen, __u64 start, __u64 last)
{
	return a >= start && a + alen - 1 <= last;
}

/* ---------------------------------------------------------------------- */
/* An IOAS with nothing attached, or with a non-pinning access on it. */

#define BUF_PAGES 16
#define BUF_SIZE (BUF_PAGES * PAGE_SZ)

FIXTURE(ioas)
{
	int fd;
	__u32 ioas_id;
	int access_fd;
	void *buf;
	long vm_pin;
};

FIXTURE_VARIANT(ioas)
{
	/* An access that never pins: it keeps the alignment at one byte
	 * but is told about every unmap.
	 */
	bool with_access;
};

FIXTURE_VARIANT_ADD(ioas, bare)
{
	.with_access = false,
};

FIXTURE_VARIANT_ADD(ioas, with_access)
{
	.with_access = true,
};

FIXTURE_SETUP(ioas)
{
	ASSERT_EQ(PAGE_SZ, sysconf(_SC_PAGESIZE));
	self->access_fd = -1;
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	if (variant->with_access)
		ASSERT_EQ(0, tcmd_access_create(self->fd, self->ioas_id, 0,
						&self->access_fd));
	self->buf = buf_alloc_written(BUF_SIZE, 1);
	ASSERT_NE(NULL, self->buf);
	self->vm_pin = proc_status_kb("VmPin");
	ASSERT_LE(0, self->vm_pin);
}

FIXTURE_TEARDOWN(ioas)
{
	if (self->access_fd >= 0)
		close(self->access_fd);
	if (self->fd >= 0)
		close(self->fd);
	/* Nothing in this fixture may leave a page pinned. */
	EXPECT_EQ(self->vm_pin, proc_status_kb("VmPin"));
	if (self->buf)
		munmap(self->buf, BUF_SIZE);
}

/* --- MAP: argument checks --- */

TEST_F(ioas, map_with_unknown_flag_or_reserved_field_fails_eopnotsupp)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.ioas_id = self->ioas_id,
		.user_va = (uintptr_t)self->buf,
		.length = PAGE_SZ,
		.iova = BASE_IOVA,
	};
	unsigned int bit;
	__u64 len;

	for (bit = 3; bit < 32; bit++) {
		cmd.flags = FIXED_RW | 1U << bit;
		ASSERT_EQ(-EOPNOTSUPP,
			  iommufd_ioctl(self->fd, IOMMU_IOAS_MAP, &cmd));
	}
	cmd.flags = FIXED_RW;
	cmd.__reserved = 1;
	ASSERT_EQ(-EOPNOTSUPP, iommufd_ioctl(self->fd, IOMMU_IOAS_MAP, &cmd));
	/* Flags are judged before anything else, even a bad length. */
	cmd.__reserved = 0;
	cmd.flags = FIXED_RW | 1U << 7;
	cmd.length = UINT64_MAX;
	ASSERT_EQ(-EOPNOTSUPP, iommufd_ioctl(self->fd, IOMMU_IOAS_MAP, &cmd));
	ASSERT_EQ(0, unmap_all(self->fd, self->ioas_id, &len));
	ASSERT_EQ(0, len);
}

TEST_F(ioas, map_of_unsigned_long_max_iova_or_length_fails_eoverflow)
{
	__u64 iova = UINT64_MAX;

	ASSERT_EQ(-EOVERFLOW, ioas_map_flags(self->fd, self->ioas_id,
					     self->buf, PAGE_SZ, &iova,
					     FIXED_RW));
	/* The IOVA is checked even when the kernel is to choose one. */
	iova = UINT64_MAX;
	ASSERT_EQ(-EOVERFLOW, ioas_map_flags(self->fd, self->ioas_id,
					     self->buf, PAGE_SZ, &iova, RW));
	iova = BASE_IOVA;
	ASSERT_EQ(-EOVERFLOW, ioas_map_flags(self->fd, self->ioas_id,
					     self->buf, UINT64_MAX, &iova,
					     FIXED_RW));
	ASSERT_EQ(-EOVERFLOW, ioas_map(self->fd, self->ioas_id, self->buf,
				       UINT64_MAX, &iova));
}

TEST_F(ioas, map_without_read_or_write_fails_einval)
{
	__u64 iova = BASE_IOVA;

	ASSERT_EQ(-EINVAL, ioas_map_flags(self->fd, self->ioas_id, self->buf,
					  PAGE_SZ, &iova,
					  IOMMU_IOAS_MAP_FIXED_IOVA));
	ASSERT_EQ(-EINVAL, ioas_map_flags(self->fd, self->ioas_id, self->buf,
					  PAGE_SZ, &iova, 0));
}

TEST_F(ioas, map_of_zero_length_fails_einval)
{
	__u64 iova;

	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  0, BASE_IOVA));
	ASSERT_EQ(-EINVAL, ioas_map(self->fd, self->ioas_id, self->buf, 0,
				    &iova));
}

TEST_F(ioas, map_whose_user_range_wraps_fails_eoverflow)
{
	void *top = (void *)(ULONG_MAX - PAGE_SZ + 1);

	ASSERT_EQ(-EOVERFLOW, ioas_map_fixed(self->fd, self->ioas_id, top,
					     2 * PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(-EOVERFLOW, ioas_map_fixed(self->fd, self->ioas_id, top,
					     PAGE_SZ, BASE_IOVA));
}

TEST_F(ioas, map_fixed_whose_iova_range_wraps_fails_eoverflow)
{
	__u64 top_page = ULONG_MAX - PAGE_SZ + 1;

	ASSERT_EQ(-EOVERFLOW, ioas_map_fixed(self->fd, self->ioas_id,
					     self->buf, 2 * PAGE_SZ,
					     top_page));
	ASSERT_EQ(-EOVERFLOW, ioas_map_fixed(self->fd, self->ioas_id,
					     self->buf, 3, ULONG_MAX - 1));
	/* Ending exactly on the last IOVA does not wrap. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf, 2,
				    ULONG_MAX - 1));
}

TEST_F(ioas, map_fixed_at_either_end_of_the_iova_space_succeeds)
{
	__u64 top_page = ULONG_MAX - PAGE_SZ + 1;
	__u64 len;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, 0));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, top_page));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, top_page, PAGE_SZ,
				&len));
	ASSERT_EQ(PAGE_SZ, len);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, PAGE_SZ, &len));
	ASSERT_EQ(PAGE_SZ, len);
}

TEST_F(ioas, map_fixed_over_an_existing_area_fails_eexist)
{
	__u64 area = BASE_IOVA + 4 * PAGE_SZ;
	struct {
		__u64 iova;
		__u64 len;
	} clash[] = {
		/* The same range, its head, its tail, inside, around. */
		{ area, 4 * PAGE_SZ },
		{ area - PAGE_SZ, 2 * PAGE_SZ },
		{ area + 3 * PAGE_SZ, 2 * PAGE_SZ },
		{ area + PAGE_SZ, PAGE_SZ },
		{ area - PAGE_SZ, 6 * PAGE_SZ },
		/* Just its first byte, just its last byte. */
		{ area - 1, 2 },
		{ area + 4 * PAGE_SZ - 1, 1 },
	};
	unsigned int i;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    4 * PAGE_SZ, area));
	for (i = 0; i < ARRAY_SIZE(clash); i++)
		ASSERT_EQ(-EEXIST, ioas_map_fixed(self->fd, self->ioas_id,
						  self->buf, clash[i].len,
						  clash[i].iova));
	/* The bytes just outside it are free. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf, 1,
				    area - 1));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf, 1,
				    area + 4 * PAGE_SZ));
}

TEST_F(ioas, map_fixed_over_a_reserved_range_fails_einval)
{
	__u64 rsv = BASE_IOVA;

	ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id, rsv,
				       4 * PAGE_SZ));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  2 * PAGE_SZ, rsv + 3 * PAGE_SZ));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  2, rsv - 1));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  PAGE_SZ, rsv));
	/* Reserved wins over mapped when a range hits both. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, rsv + 4 * PAGE_SZ));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  2 * PAGE_SZ, rsv + 3 * PAGE_SZ));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, rsv - PAGE_SZ));
}

TEST_F(ioas, map_into_missing_or_destroyed_ioas_fails_enoent)
{
	__u32 gone;

	ASSERT_EQ(-ENOENT, ioas_map_fixed(self->fd, 0, self->buf, PAGE_SZ,
					  BASE_IOVA));
	ASSERT_EQ(-ENOENT, ioas_map_fixed(self->fd, self->ioas_id + 100,
					  self->buf, PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(-ENOENT, ioas_map_fixed(self->fd, UINT32_MAX, self->buf,
					  PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(0, ioas_alloc(self->fd, &gone));
	ASSERT_EQ(0, iommufd_destroy(self->fd, gone));
	ASSERT_EQ(-ENOENT, ioas_map_fixed(self->fd, gone, self->buf, PAGE_SZ,
					  BASE_IOVA));
}

TEST_F(ioas, map_checks_its_arguments_before_looking_up_the_ioas)
{
	__u32 missing = self->ioas_id + 100;
	__u64 iova = BASE_IOVA;

	ASSERT_EQ(-EOPNOTSUPP, ioas_map_flags(self->fd, missing, self->buf,
					      PAGE_SZ, &iova,
					      FIXED_RW | 1U << 9));
	ASSERT_EQ(-EOVERFLOW, ioas_map_flags(self->fd, missing, self->buf,
					     UINT64_MAX, &iova, FIXED_RW));
	ASSERT_EQ(-EINVAL, ioas_map_flags(self->fd, missing, self->buf,
					  PAGE_SZ, &iova,
					  IOMMU_IOAS_MAP_FIXED_IOVA));
	/* Everything else comes after the lookup. */
	ASSERT_EQ(-ENOENT, ioas_map_flags(self->fd, missing, self->buf, 0,
					  &iova, FIXED_RW));
}

TEST_F(ioas, ioas_commands_on_a_non_ioas_object_fail_enoent)
{
	struct iommu_iova_range range;
	__u32 before, after, id;
	__u64 val = 1, iova;
	__u32 num = 1;
	int access_fd;

	/* Bracket an access between two IOAS IDs to learn its ID. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &before));
	ASSERT_EQ(0, tcmd_access_create(self->fd, before, 0, &access_fd));
	ASSERT_EQ(0, ioas_alloc(self->fd, &after));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, before, self->buf, PAGE_SZ,
				    BASE_IOVA));
	for (id = before + 1; id < after; id++) {
		ASSERT_EQ(-ENOENT, ioas_map_fixed(self->fd, id, self->buf,
						  PAGE_SZ, BASE_IOVA));
		ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, id, 0, ALL_IOVA,
					      NULL));
		iova = BASE_IOVA;
		ASSERT_EQ(-ENOENT, ioas_copy(self->fd, id, &iova, before,
					     BASE_IOVA, PAGE_SZ, FIXED_RW));
		ASSERT_EQ(-ENOENT, ioas_copy(self->fd, before, &iova, id,
					     BASE_IOVA, PAGE_SZ, RW));
		ASSERT_EQ(-ENOENT, ioas_iova_ranges(self->fd, id, &range,
						    &num, NULL));
		ASSERT_EQ(-ENOENT, ioas_allow_iovas(self->fd, id, NULL, 0));
		ASSERT_EQ(-ENOENT,
			  iommufd_option(self->fd, IOMMU_OPTION_HUGE_PAGES,
					 IOMMU_OPTION_OP_GET, id, &val));
		ASSERT_EQ(-ENOENT, tcmd_add_reserved(self->fd, id, 0,
						     PAGE_SZ));
	}
	ASSERT_EQ(0, close(access_fd));
}

/* --- MAP: IOVA chosen by the kernel --- */

TEST_F(ioas, auto_map_never_returns_iova_zero)
{
	struct iommu_iova_range low = { .start = 0, .last = 64 * PAGE_SZ - 1 };
	__u64 iova;
	int i;

	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, self->buf,
				      PAGE_SZ, &iova));
		ASSERT_NE(0, iova);
	}
	/* Not even when 0 is the lowest allowed IOVA. */
	ASSERT_EQ(0, unmap_all(self->fd, self->ioas_id, NULL));
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, &low, 1));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, self->buf, 1,
				      &iova));
		ASSERT_NE(0, iova);
		ASSERT_GE(low.last, iova);
	}
}

TEST_F(ioas, auto_map_keeps_the_alignment_of_the_user_address)
{
	static const __u64 offsets[] = {
		0, 0x8, 0x10, 0x100, 0x1000, 0x3000, 0x10000, 0x40000,
		0x100000, 0x200000,
	};
	static const __u64 lengths[] = {
		1, 3, 0x10, 0x800, 0x1000, 0x5000, 0x10000, 0x100000, 0x200000,
		0x400000,
	};
	__u64 max_align = max_auto_alignment();
	char *base;
	unsigned int i, j;

	/* Address space only: MAP pins nothing, so nothing is touched. */
	base = va_reserve(16 * SZ_2M, 4 * SZ_2M);
	ASSERT_NE(NULL, base);
	/* A one-byte area at an odd IOVA so the lowest hole is unaligned. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf, 1,
				    PAGE_SZ + 1));
	for (i = 0; i < ARRAY_SIZE(offsets); i++) {
		for (j = 0; j < ARRAY_SIZE(lengths); j++) {
			__u64 uptr = (uintptr_t)base + offsets[i];
			__u64 len = lengths[j];
			__u64 align, iova;

			align = pow2_roundup(len);
			if (align > lowest_bit(uptr))
				align = lowest_bit(uptr);
			if (align > max_align)
				align = max_align;
			ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id,
					      (void *)uptr, len, &iova));
			ASSERT_NE(0, iova);
			/* The low bits of IOVA and VA agree up to align. */
			ASSERT_EQ(0, (iova ^ uptr) & (align - 1))
				TH_LOG("va %llx len %llx iova %llx align %llx",
				       (unsigned long long)uptr,
				       (unsigned long long)len,
				       (unsigned long long)iova,
				       (unsigned long long)align);
		}
	}
}

TEST_F(ioas, auto_map_of_a_2m_aligned_buffer_gets_a_2m_aligned_iova)
{
	__u64 iova, len;
	char *base;

	if (max_auto_alignment() < SZ_2M)
		SKIP(return, "kernel without transparent huge pages");
	base = va_reserve(4 * SZ_2M, SZ_2M);
	ASSERT_NE(NULL, base);
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, PAGE_SZ));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, base, SZ_2M, &iova));
	ASSERT_EQ(0, iova % SZ_2M);
	/* Larger buffers are still only aligned to one huge page. */
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, base, 4 * SZ_2M,
			      &iova));
	ASSERT_EQ(0, iova % SZ_2M);
	/* One page in, the IOVA keeps the page offset within 2M. */
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, base + PAGE_SZ, SZ_2M,
			      &iova));
	ASSERT_EQ(0, iova % PAGE_SZ);
	ASSERT_EQ(0, unmap_all(self->fd, self->ioas_id, &len));
	ASSERT_EQ(PAGE_SZ + SZ_2M + 4 * SZ_2M + SZ_2M, len);
}

TEST_F(ioas, auto_map_aligns_no_further_than_the_user_address_does)
{
	struct iommu_iova_range window = {
		.start = SZ_1M,
		.last = SZ_1M + SZ_64K - 1,
	};
	__u64 iova;
	char *va;

	/*
	 * Upstream aligns to the smaller of the length's power of two and
	 * the address's own alignment: 64K from a VA that is 4K- but not
	 * 8K-aligned needs only a 4K-aligned IOVA, so it fits a 64K window.
	 */
	va = va_reserve(2 * SZ_64K, SZ_64K);
	ASSERT_NE(NULL, va);
	va += PAGE_SZ;
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, &window, 1));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, va, SZ_64K, &iova));
	ASSERT_EQ(SZ_1M, iova);
}

TEST_F(ioas, auto_map_avoids_reserved_ranges)
{
	__u64 iova;
	int i;

	ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id, 0, SZ_1M));
	ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id,
				       SZ_1M + SZ_64K, SZ_1M));
	for (i = 1; i <= 24; i++) {
		__u64 len = i * PAGE_SZ;

		ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, self->buf, len,
				      &iova));
		ASSERT_FALSE(ranges_overlap(iova, len, 0, SZ_1M));
		ASSERT_FALSE(ranges_overlap(iova, len, SZ_1M + SZ_64K,
					    SZ_1M));
	}
}

TEST_F(ioas, auto_map_avoids_existing_areas)
{
	__u64 iova[48], len[48];
	int i, j;

	/* Fixed areas scattered where the allocator will look first. */
	for (i = 0; i < 8; i++) {
		len[i] = PAGE_SZ + i;
		iova[i] = (i + 1) * 3 * PAGE_SZ + i;
		ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					    len[i], iova[i]));
	}
	for (i = 8; i < 48; i++) {
		len[i] = (i % 5 + 1) * PAGE_SZ + (i % 3);
		ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id,
				      (char *)self->buf + (i % 4), len[i],
				      &iova[i]));
	}
	for (i = 0; i < 48; i++)
		for (j = i + 1; j < 48; j++)
			ASSERT_FALSE(ranges_overlap(iova[i], len[i], iova[j],
						    len[j]));
}

TEST_F(ioas, auto_map_uses_only_allowed_ranges)
{
	struct iommu_iova_range allowed[] = {
		{ .start = SZ_1M, .last = 2 * SZ_1M - 1 },
		{ .start = 8 * SZ_1M, .last = 9 * SZ_1M - 1 },
	};
	int count = 0;
	__u64 iova;
	void *va;
	int rc;

	/* 64K-aligned memory, so that 64K chunks pack the ranges exactly. */
	va = va_reserve(SZ_64K, SZ_64K);
	ASSERT_NE(NULL, va);
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, allowed, 2));
	while (!(rc = ioas_map(self->fd, self->ioas_id, va, SZ_64K, &iova))) {
		ASSERT_TRUE(range_inside(iova, SZ_64K, allowed[0].start,
					 allowed[0].last) ||
			    range_inside(iova, SZ_64K, allowed[1].start,
					 allowed[1].last));
		count++;
		ASSERT_GE(32, count);
	}
	ASSERT_EQ(-ENOSPC, rc);
	ASSERT_EQ(32, count);
}

TEST_F(ioas, auto_map_fails_enospc_when_nothing_fits)
{
	struct iommu_iova_range small = {
		.start = SZ_1M,
		.last = SZ_1M + SZ_64K - 1,
	};
	__u64 iova;
	void *va;

	va = va_reserve(2 * SZ_64K, 2 * SZ_64K);
	ASSERT_NE(NULL, va);
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, &small, 1));
	ASSERT_EQ(-ENOSPC, ioas_map(self->fd, self->ioas_id, va, 2 * SZ_64K,
				    &iova));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, va, SZ_64K, &iova));
	ASSERT_EQ(SZ_1M, iova);
	ASSERT_EQ(-ENOSPC, ioas_map(self->fd, self->ioas_id, va, 1, &iova));
	/* Reserving the rest of the space is just as full. */
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, NULL, 0));
	ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id, 0,
				       SZ_1M));
	ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id,
				       SZ_1M + SZ_64K,
				       ULONG_MAX - SZ_1M - SZ_64K + 1));
	ASSERT_EQ(-ENOSPC, ioas_map(self->fd, self->ioas_id, self->buf, 1,
				    &iova));
}

TEST_F(ioas, auto_map_of_half_the_iova_space_fails_eoverflow)
{
	__u64 iova;

	ASSERT_EQ(-EOVERFLOW, ioas_map(self->fd, self->ioas_id, self->buf,
				       HALF_IOVA, &iova));
}

TEST_F(ioas, map_is_lazy_and_pins_nothing)
{
	__u64 iova, len;
	char *big;

	/* 1G of address space that is never touched. */
	big = mmap(NULL, SZ_1G, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, big);
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, big, SZ_1G, &iova));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(self->vm_pin, proc_status_kb("VmPin"));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(0, unmap_all(self->fd, self->ioas_id, &len));
	ASSERT_EQ(SZ_1G + BUF_SIZE, len);
	munmap(big, SZ_1G);
}

/* --- UNMAP --- */

TEST_F(ioas, unmap_where_nothing_is_mapped_fails_enoent)
{
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, BASE_IOVA,
				      PAGE_SZ, NULL));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    4 * PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id,
				      BASE_IOVA - 4 * PAGE_SZ, 4 * PAGE_SZ,
				      NULL));
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id,
				      BASE_IOVA + 4 * PAGE_SZ, 4 * PAGE_SZ,
				      NULL));
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, 0, PAGE_SZ,
				      NULL));
}

TEST_F(ioas, unmap_reports_the_bytes_it_removed)
{
	__u64 len;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    2 * PAGE_SZ + 3, BASE_IOVA + 4 * PAGE_SZ));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    5 * PAGE_SZ, BASE_IOVA + 8 * PAGE_SZ));
	/* One range over the three areas and the holes between them. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id,
				BASE_IOVA - PAGE_SZ, 16 * PAGE_SZ, &len));
	ASSERT_EQ(8 * PAGE_SZ + 3, len);
	ASSERT_EQ(0, unmap_all(self->fd, self->ioas_id, &len));
	ASSERT_EQ(0, len);
}

TEST_F(ioas, unmap_that_cuts_an_area_fails_enoent_and_keeps_it)
{
	__u64 area = BASE_IOVA;
	__u64 len;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    4 * PAGE_SZ, area));
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, area,
				      2 * PAGE_SZ, NULL));
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id,
				      area + 2 * PAGE_SZ, 2 * PAGE_SZ, NULL));
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, area + 1,
				      4 * PAGE_SZ - 1, NULL));
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, area,
				      4 * PAGE_SZ - 1, NULL));
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id,
				      area - PAGE_SZ, 2 * PAGE_SZ, NULL));
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id,
				      area + 3 * PAGE_SZ, 2 * PAGE_SZ, NULL));
	/* Still whole: a fixed map over it clashes, the exact unmap works. */
	ASSERT_EQ(-EEXIST, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  1, area + 4 * PAGE_SZ - 1));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, area, 4 * PAGE_SZ,
				&len));
	ASSERT_EQ(4 * PAGE_SZ, len);
}

TEST_F(ioas, unmap_that_cuts_a_later_area_unmaps_nothing)
{
	__u64 len;

	/*
	 * Upstream removes the whole areas below the one that is cut before
	 * failing; we check every area first, so a failed unmap changes
	 * nothing at all (the IOAS issue asks for exactly that).
	 */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    4 * PAGE_SZ, BASE_IOVA + 2 * PAGE_SZ));
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, BASE_IOVA,
				      4 * PAGE_SZ, NULL));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, BASE_IOVA, PAGE_SZ,
				&len));
	ASSERT_EQ(PAGE_SZ, len);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id,
				BASE_IOVA + 2 * PAGE_SZ, 4 * PAGE_SZ, &len));
	ASSERT_EQ(4 * PAGE_SZ, len);
}

TEST_F(ioas, unmap_all_removes_everything_and_reports_the_total)
{
	__u64 len;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, 0));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    3 * PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, ULONG_MAX - PAGE_SZ + 1));
	ASSERT_EQ(0, unmap_all(self->fd, self->ioas_id, &len));
	ASSERT_EQ(5 * PAGE_SZ, len);
	/* All three places are free again. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, 0));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    3 * PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, ULONG_MAX - PAGE_SZ + 1));
}

TEST_F(ioas, unmap_all_of_an_empty_ioas_succeeds_with_zero_length)
{
	__u64 len = 12345;

	ASSERT_EQ(0, unmap_all(self->fd, self->ioas_id, &len));
	ASSERT_EQ(0, len);
	ASSERT_EQ(0, unmap_all(self->fd, self->ioas_id, &len));
	ASSERT_EQ(0, len);
}

TEST_F(ioas, unmap_all_split_in_halves_at_2_63_unmaps_each_half)
{
	__u64 len;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    2 * PAGE_SZ, BASE_IOVA));
	/* Nothing above 2^63 yet: the upper half finds nothing. */
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, HALF_IOVA,
				      HALF_IOVA, NULL));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    3 * PAGE_SZ, HALF_IOVA + BASE_IOVA));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, HALF_IOVA, &len));
	ASSERT_EQ(2 * PAGE_SZ, len);
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, 0, HALF_IOVA,
				      NULL));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, HALF_IOVA, HALF_IOVA,
				&len));
	ASSERT_EQ(3 * PAGE_SZ, len);
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, HALF_IOVA,
				      HALF_IOVA, NULL));
}

TEST_F(ioas, unmap_twice_fails_enoent)
{
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, BASE_IOVA, PAGE_SZ,
				NULL));
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, BASE_IOVA,
				      PAGE_SZ, NULL));
}

TEST_F(ioas, unmap_of_zero_length_fails_einval)
{
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(-EINVAL, ioas_unmap(self->fd, self->ioas_id, BASE_IOVA, 0,
				      NULL));
}

TEST_F(ioas, unmap_of_a_range_past_the_iova_space_fails_eoverflow)
{
	ASSERT_EQ(-EOVERFLOW, ioas_unmap(self->fd, self->ioas_id, UINT64_MAX,
					 1, NULL));
	ASSERT_EQ(-EOVERFLOW, ioas_unmap(self->fd, self->ioas_id, 1,
					 UINT64_MAX, NULL));
	ASSERT_EQ(-EOVERFLOW, ioas_unmap(self->fd, self->ioas_id, HALF_IOVA,
					 HALF_IOVA + 1, NULL));
}

TEST_F(ioas, unmap_of_a_missing_ioas_fails_enoent)
{
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id + 100, 0,
				      ALL_IOVA, NULL));
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, 0, BASE_IOVA, PAGE_SZ, NULL));
	/* UNMAP looks the IOAS up before it checks the range. */
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id + 100, 1,
				      UINT64_MAX, NULL));
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id + 100,
				      BASE_IOVA, 0, NULL));
}

TEST_F(ioas, destroy_of_an_ioas_with_areas_succeeds)
{
	__u32 id;

	ASSERT_EQ(0, ioas_alloc(self->fd, &id));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, id, self->buf, BUF_SIZE,
				    BASE_IOVA));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, id, self->buf, 1, 0));
	ASSERT_EQ(0, iommufd_destroy(self->fd, id));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, id));
}

/* --- COPY --- */

TEST_F(ioas, copy_maps_the_source_range_into_another_ioas)
{
	__u64 dst_iova = BASE_IOVA * 2, len;
	__u32 dst;

	ASSERT_EQ(0, ioas_alloc(self->fd, &dst));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    8 * PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(0, ioas_copy(self->fd, dst, &dst_iova, self->ioas_id,
			       BASE_IOVA, 8 * PAGE_SZ, FIXED_RW));
	ASSERT_EQ(BASE_IOVA * 2, dst_iova);
	ASSERT_EQ(-EEXIST, ioas_map_fixed(self->fd, dst, self->buf, 1,
					  dst_iova + 8 * PAGE_SZ - 1));
	/* And at an IOVA the kernel picks. */
	ASSERT_EQ(0, ioas_copy(self->fd, dst, &dst_iova, self->ioas_id,
			       BASE_IOVA + PAGE_SZ, 2 * PAGE_SZ, RW));
	ASSERT_NE(0, dst_iova);
	ASSERT_EQ(0, ioas_unmap(self->fd, dst, dst_iova, 2 * PAGE_SZ, &len));
	ASSERT_EQ(2 * PAGE_SZ, len);
	/* The source is untouched by unmapping the copy. */
	ASSERT_EQ(0, unmap_all(self->fd, dst, &len));
	ASSERT_EQ(8 * PAGE_SZ, len);
	ASSERT_EQ(0, unmap_all(self->fd, self->ioas_id, &len));
	ASSERT_EQ(8 * PAGE_SZ, len);
}

TEST_F(ioas, copy_within_one_ioas_succeeds)
{
	__u64 dst_iova = BASE_IOVA + 16 * PAGE_SZ, len;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    8 * PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(0, ioas_copy(self->fd, self->ioas_id, &dst_iova,
			       self->ioas_id, BASE_IOVA, 8 * PAGE_SZ,
			       FIXED_RW));
	/* The copy is an area of its own and survives the source. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, BASE_IOVA,
				8 * PAGE_SZ, &len));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, dst_iova,
				8 * PAGE_SZ, &len));
	ASSERT_EQ(8 * PAGE_SZ, len);
}

TEST_F(ioas, copy_of_an_unmapped_source_range_fails_enoent)
{
	__u64 dst_iova = BASE_IOVA;
	__u32 dst;

	ASSERT_EQ(0, ioas_alloc(self->fd, &dst));
	ASSERT_EQ(-ENOENT, ioas_copy(self->fd, dst, &dst_iova, self->ioas_id,
				     BASE_IOVA, PAGE_SZ, FIXED_RW));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    8 * PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(-ENOENT, ioas_copy(self->fd, dst, &dst_iova, self->ioas_id,
				     BASE_IOVA - 1, 2, FIXED_RW));
	ASSERT_EQ(-ENOENT, ioas_copy(self->fd, dst, &dst_iova, self->ioas_id,
				     BASE_IOVA + 8 * PAGE_SZ - 1, 2,
				     FIXED_RW));
	ASSERT_EQ(-ENOENT, ioas_copy(self->fd, dst, &dst_iova, self->ioas_id,
				     BASE_IOVA + 9 * PAGE_SZ, PAGE_SZ,
				     FIXED_RW));
	ASSERT_EQ(0, unmap_all(self->fd, dst, &dst_iova));
	ASSERT_EQ(0, dst_iova);
}

TEST_F(ioas, copy_spans_adjacent_areas_but_not_a_hole)
{
	char *buf = self->buf;
	__u64 dst_iova = 0, len;
	__u32 dst;

	ASSERT_EQ(0, ioas_alloc(self->fd, &dst));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, buf,
				    4 * PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
				    buf + 8 * PAGE_SZ, 4 * PAGE_SZ,
				    BASE_IOVA + 4 * PAGE_SZ));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, buf, PAGE_SZ,
				    BASE_IOVA + 9 * PAGE_SZ));
	ASSERT_EQ(0, ioas_copy(self->fd, dst, &dst_iova, self->ioas_id,
			       BASE_IOVA + 2 * PAGE_SZ + 5, 4 * PAGE_SZ, RW));
	ASSERT_EQ(0, ioas_unmap(self->fd, dst, dst_iova, 4 * PAGE_SZ, &len));
	ASSERT_EQ(4 * PAGE_SZ, len);
	ASSERT_EQ(-ENOENT, ioas_copy(self->fd, dst, &dst_iova, self->ioas_id,
				     BASE_IOVA + 6 * PAGE_SZ, 4 * PAGE_SZ,
				     RW));
	ASSERT_EQ(0, unmap_all(self->fd, dst, &len));
	ASSERT_EQ(0, len);
}

/*
 * Areas cost a user nothing but kernel memory when no domain is attached,
 * so a source may hold very many. COPY must handle them in time linear in
 * their number: 110000 slices of 40 bytes need more than the largest
 * kmalloc() (4 MiB), which an array grown one slice at a time hits with a
 * page allocator warning, after quadratic time spent copying it.
 */
#define MANY_AREAS 110000UL

/* 110k MAPs take minutes on a KASAN and lockdep kernel under emulation. */
TEST_F_TIMEOUT(ioas, copy_of_a_source_with_110k_areas_succeeds_and_unmaps,
	       300)
{
	__u64 dst_iova = BASE_IOVA, len;
	unsigned long i;
	__u32 dst;

	ASSERT_EQ(0, ioas_alloc(self->fd, &dst));
	/* One page mapped again and again: each MAP makes its own area. */
	for (i = 0; i != MANY_AREAS; i++)
		ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					    PAGE_SZ, BASE_IOVA + i * PAGE_SZ));
	ASSERT_EQ(0, ioas_copy(self->fd, dst, &dst_iova, self->ioas_id,
			       BASE_IOVA, MANY_AREAS * PAGE_SZ, FIXED_RW));
	ASSERT_EQ(BASE_IOVA, dst_iova);
	ASSERT_EQ(0, unmap_all(self->fd, dst, &len));
	ASSERT_EQ(MANY_AREAS * PAGE_SZ, len);
	ASSERT_EQ(0, unmap_all(self->fd, self->ioas_id, &len));
	ASSERT_EQ(MANY_AREAS * PAGE_SZ, len);
}

TEST_F(ioas, copy_with_unknown_flags_fails_eopnotsupp)
{
	__u64 dst_iova = BASE_IOVA * 2;
	unsigned int bit;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA));
	for (bit = 3; bit < 32; bit++)
		ASSERT_EQ(-EOPNOTSUPP,
			  ioas_copy(self->fd, self->ioas_id, &dst_iova,
				    self->ioas_id, BASE_IOVA, PAGE_SZ,
				    FIXED_RW | 1U << bit));
}

TEST_F(ioas, copy_of_out_of_range_values_fails_eoverflow)
{
	__u64 dst_iova = BASE_IOVA * 2;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(-EOVERFLOW, ioas_copy(self->fd, self->ioas_id, &dst_iova,
					self->ioas_id, BASE_IOVA, UINT64_MAX,
					FIXED_RW));
	ASSERT_EQ(-EOVERFLOW, ioas_copy(self->fd, self->ioas_id, &dst_iova,
					self->ioas_id, UINT64_MAX, PAGE_SZ,
					FIXED_RW));
	dst_iova = UINT64_MAX;
	ASSERT_EQ(-EOVERFLOW, ioas_copy(self->fd, self->ioas_id, &dst_iova,
					self->ioas_id, BASE_IOVA, PAGE_SZ,
					FIXED_RW));
	dst_iova = BASE_IOVA * 2;
	ASSERT_EQ(-EOVERFLOW, ioas_copy(self->fd, self->ioas_id, &dst_iova,
					self->ioas_id, HALF_IOVA,
					HALF_IOVA + 1, FIXED_RW));
	/* A destination range that wraps. */
	dst_iova = ULONG_MAX - PAGE_SZ + 2;
	ASSERT_EQ(-EOVERFLOW, ioas_copy(self->fd, self->ioas_id, &dst_iova,
					self->ioas_id, BASE_IOVA, PAGE_SZ,
					FIXED_RW));
}

TEST_F(ioas, copy_without_read_or_write_fails_einval)
{
	__u64 dst_iova = BASE_IOVA * 2;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(-EINVAL, ioas_copy(self->fd, self->ioas_id, &dst_iova,
				     self->ioas_id, BASE_IOVA, PAGE_SZ,
				     IOMMU_IOAS_MAP_FIXED_IOVA));
}

TEST_F(ioas, copy_of_zero_length_fails_einval)
{
	__u64 dst_iova = BASE_IOVA * 2;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(-EINVAL, ioas_copy(self->fd, self->ioas_id, &dst_iova,
				     self->ioas_id, BASE_IOVA, 0, FIXED_RW));
}

TEST_F(ioas, copy_over_an_existing_destination_area_fails_eexist)
{
	__u64 dst_iova = BASE_IOVA + 4 * PAGE_SZ, len;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    8 * PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(-EEXIST, ioas_copy(self->fd, self->ioas_id, &dst_iova,
				     self->ioas_id, BASE_IOVA, 8 * PAGE_SZ,
				     FIXED_RW));
	ASSERT_EQ(0, unmap_all(self->fd, self->ioas_id, &len));
	ASSERT_EQ(8 * PAGE_SZ, len);
}

TEST_F(ioas, copy_over_a_reserved_destination_fails_einval)
{
	__u64 dst_iova = BASE_IOVA * 2;
	__u32 dst;

	ASSERT_EQ(0, ioas_alloc(self->fd, &dst));
	ASSERT_EQ(0, tcmd_add_reserved(self->fd, dst, dst_iova + PAGE_SZ,
				       PAGE_SZ));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    4 * PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(-EINVAL, ioas_copy(self->fd, dst, &dst_iova, self->ioas_id,
				     BASE_IOVA, 4 * PAGE_SZ, FIXED_RW));
}

TEST_F(ioas, copy_writeable_from_a_read_only_mapping_fails_eperm)
{
	__u64 iova = BASE_IOVA, dst_iova = BASE_IOVA * 2;

	ASSERT_EQ(0, ioas_map_flags(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, &iova,
				    IOMMU_IOAS_MAP_FIXED_IOVA |
				    IOMMU_IOAS_MAP_READABLE));
	ASSERT_EQ(-EPERM, ioas_copy(self->fd, self->ioas_id, &dst_iova,
				    self->ioas_id, BASE_IOVA, PAGE_SZ,
				    FIXED_RW));
	ASSERT_EQ(-EPERM, ioas_copy(self->fd, self->ioas_id, &dst_iova,
				    self->ioas_id, BASE_IOVA, PAGE_SZ,
				    IOMMU_IOAS_MAP_FIXED_IOVA |
				    IOMMU_IOAS_MAP_WRITEABLE));
	ASSERT_EQ(0, ioas_copy(self->fd, self->ioas_id, &dst_iova,
			       self->ioas_id, BASE_IOVA, PAGE_SZ,
			       IOMMU_IOAS_MAP_FIXED_IOVA |
			       IOMMU_IOAS_MAP_READABLE));
}

TEST_F(ioas, copy_between_missing_ioases_fails_enoent)
{
	__u64 dst_iova = BASE_IOVA * 2;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(-ENOENT, ioas_copy(self->fd, self->ioas_id + 100, &dst_iova,
				     self->ioas_id, BASE_IOVA, PAGE_SZ,
				     FIXED_RW));
	ASSERT_EQ(-ENOENT, ioas_copy(self->fd, self->ioas_id, &dst_iova,
				     self->ioas_id + 100, BASE_IOVA, PAGE_SZ,
				     FIXED_RW));
}

/* --- IOVA_RANGES and ADD_RESERVED --- */

TEST_F(ioas, iova_ranges_of_a_fresh_ioas_are_the_whole_space_byte_aligned)
{
	struct iommu_iova_range r[4];
	__u64 align = 0;
	__u32 num = 4;

	memset(r, 0xa5, sizeof(r));
	ASSERT_EQ(0, ioas_iova_ranges(self->fd, self->ioas_id, r, &num,
				      &align));
	ASSERT_EQ(1, num);
	ASSERT_EQ(0, r[0].start);
	ASSERT_EQ(ULONG_MAX, r[0].last);
	ASSERT_EQ(1, align);
	/* Entries past the count are left alone. */
	ASSERT_EQ(0xa5a5a5a5a5a5a5a5ULL, r[1].start);
}

TEST_F(ioas, iova_ranges_leave_out_reserved_ranges)
{
	struct iommu_iova_range r[4];
	__u32 num = 4;

	ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id, 0, PAGE_SZ));
	ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id, SZ_1M,
				       SZ_1M));
	/* Overlapping reserved ranges merge into one hole. */
	ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id,
				       SZ_1M + SZ_64K, 2 * SZ_1M));
	ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id,
				       ULONG_MAX - PAGE_SZ + 1, PAGE_SZ));
	ASSERT_EQ(0, ioas_iova_ranges(self->fd, self->ioas_id, r, &num, NULL));
	ASSERT_EQ(2, num);
	ASSERT_EQ(PAGE_SZ, r[0].start);
	ASSERT_EQ(SZ_1M - 1, r[0].last);
	ASSERT_EQ(3 * SZ_1M + SZ_64K, r[1].start);
	ASSERT_EQ(ULONG_MAX - PAGE_SZ, r[1].last);
}

TEST_F(ioas, iova_ranges_too_small_fail_emsgsize_then_a_retry_succeeds)
{
	struct iommu_iova_range r[5];
	__u64 align = 0;
	__u32 num = 0;
	int i;

	for (i = 1; i <= 3; i++)
		ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id,
					       i * SZ_1M, PAGE_SZ));
	memset(r, 0, sizeof(r));
	ASSERT_EQ(-EMSGSIZE, ioas_iova_ranges(self->fd, self->ioas_id, r,
					      &num, &align));
	ASSERT_EQ(4, num);
	ASSERT_EQ(1, align);
	ASSERT_EQ(0, r[0].last);
	/* A partial array gets the first entries only. */
	num = 2;
	ASSERT_EQ(-EMSGSIZE, ioas_iova_ranges(self->fd, self->ioas_id, r,
					      &num, NULL));
	ASSERT_EQ(4, num);
	ASSERT_EQ(0, r[0].start);
	ASSERT_EQ(SZ_1M - 1, r[0].last);
	ASSERT_EQ(SZ_1M + PAGE_SZ, r[1].start);
	ASSERT_EQ(0, r[2].start);
	ASSERT_EQ(0, r[2].last);
	ASSERT_EQ(0, ioas_iova_ranges(self->fd, self->ioas_id, r, &num, NULL));
	ASSERT_EQ(4, num);
	ASSERT_EQ(3 * SZ_1M + PAGE_SZ, r[3].start);
	ASSERT_EQ(ULONG_MAX, r[3].last);
	ASSERT_EQ(0, r[4].last);
}

TEST_F(ioas, iova_ranges_ignore_areas_and_the_allowed_list)
{
	struct iommu_iova_range allowed = { .start = SZ_1M, .last = SZ_2M };
	struct iommu_iova_range r[2];
	__u32 num = 2;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, &allowed, 1));
	ASSERT_EQ(0, ioas_iova_ranges(self->fd, self->ioas_id, r, &num, NULL));
	ASSERT_EQ(1, num);
	ASSERT_EQ(0, r[0].start);
	ASSERT_EQ(ULONG_MAX, r[0].last);
}

TEST_F(ioas, iova_ranges_with_reserved_field_set_fail_eopnotsupp)
{
	struct iommu_iova_range r[1];
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = self->ioas_id,
		.num_iovas = 1,
		.__reserved = 1,
		.allowed_iovas = (uintptr_t)r,
	};

	ASSERT_EQ(-EOPNOTSUPP,
		  iommufd_ioctl(self->fd, IOMMU_IOAS_IOVA_RANGES, &cmd));
}

TEST_F(ioas, iova_ranges_of_a_missing_ioas_fail_enoent)
{
	struct iommu_iova_range r[1];
	__u32 num = 1;

	ASSERT_EQ(-ENOENT, ioas_iova_ranges(self->fd, self->ioas_id + 100, r,
					    &num, NULL));
}

TEST_F(ioas, add_reserved_over_an_area_fails_eaddrinuse)
{
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(-EADDRINUSE, tcmd_add_reserved(self->fd, self->ioas_id,
						 BASE_IOVA + PAGE_SZ - 1,
						 PAGE_SZ));
	ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id,
				       BASE_IOVA + PAGE_SZ, PAGE_SZ));
}

TEST_F(ioas, add_reserved_of_zero_or_wrapping_length_fails)
{
	ASSERT_EQ(-EINVAL, tcmd_add_reserved(self->fd, self->ioas_id,
					     BASE_IOVA, 0));
	ASSERT_EQ(-EOVERFLOW, tcmd_add_reserved(self->fd, self->ioas_id,
						ULONG_MAX, 2));
}

/*
 * IOVA_RANGES while another thread keeps adding reserved ranges: a call
 * that succeeds must have written every entry it counts, in order. The
 * array is poisoned, so an entry the kernel counted but never wrote shows.
 * (A kernel that sized its buffer from a first count and filled it from
 * a second reported success with the entries past the first count
 * missing.)
 */
#define GROW_RESERVED 12000
#define GROW_ROOM 32768
#define GROW_SECONDS 4

/* The @i-th reserved range: one page, with a page's gap before the next. */
static int reserve_grow(int fd, __u32 ioas_id, unsigned int i)
{
	return tcmd_add_reserved(fd, ioas_id, BASE_IOVA + 2 * i * PAGE_SZ,
				 PAGE_SZ);
}

TEST_F(ioas, iova_ranges_racing_new_reserved_ranges_write_every_entry_counted)
{
	struct ioas_grower g = {
		.fd = self->fd,
		.ioas_id = self->ioas_id,
		.count = GROW_RESERVED,
		.grow = reserve_grow,
	};
	unsigned long calls = 0, emsgsize = 0;
	struct iommu_iova_range *r;
	pthread_t thread;
	time_t end;
	__u32 num, i;
	int rc;

	r = malloc(GROW_ROOM * sizeof(*r));
	ASSERT_NE(NULL, r);
	poison_fill(r, GROW_ROOM * sizeof(*r));
	ASSERT_EQ(0, pthread_create(&thread, NULL, ioas_grower_run, &g));
	end = time(NULL) + GROW_SECONDS;
	while (!ioas_grower_done(&g) && time(NULL) < end) {
		num = GROW_ROOM;
		rc = ioas_iova_ranges(self->fd, self->ioas_id, r, &num, NULL);
		calls++;
		if (rc == -EMSGSIZE) {
			emsgsize++;
			continue;
		}
		ASSERT_EQ(0, rc);
		ASSERT_GE(GROW_ROOM, num);
		for (i = 0; i < num; i++) {
			ASSERT_FALSE(poison_unwritten(r[i].start))
				TH_LOG("entry %u of %u never written", i, num);
			ASSERT_LE(r[i].start, r[i].last);
			if (i)
				ASSERT_LT(r[i - 1].last, r[i].start);
		}
		poison_fill(r, num * sizeof(*r));
	}
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(0, g.rc);
	TH_LOG("%lu calls, %lu EMSGSIZE", calls, emsgsize);
	free(r);
}

/* --- ALLOW_IOVAS --- */

TEST_F(ioas, allow_iovas_with_start_not_below_last_fails_einval)
{
	struct iommu_iova_range r = { .start = SZ_1M, .last = SZ_1M };

	ASSERT_EQ(-EINVAL, ioas_allow_iovas(self->fd, self->ioas_id, &r, 1));
	r.last = SZ_1M - 1;
	ASSERT_EQ(-EINVAL, ioas_allow_iovas(self->fd, self->ioas_id, &r, 1));
}

TEST_F(ioas, allow_iovas_with_overlapping_entries_fails_einval)
{
	struct iommu_iova_range r[] = {
		{ .start = SZ_1M, .last = 2 * SZ_1M - 1 },
		{ .start = 2 * SZ_1M - 1, .last = 3 * SZ_1M },
	};

	ASSERT_EQ(-EINVAL, ioas_allow_iovas(self->fd, self->ioas_id, r, 2));
	/* Touching is not overlapping. */
	r[1].start = 2 * SZ_1M;
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, r, 2));
}

TEST_F(ioas, allow_iovas_replaces_the_list_as_a_whole)
{
	struct iommu_iova_range first = {
		.start = SZ_1M, .last = 2 * SZ_1M - 1,
	};
	struct iommu_iova_range second = {
		.start = 8 * SZ_1M, .last = 9 * SZ_1M - 1,
	};
	struct iommu_iova_range bad[] = {
		{ .start = 16 * SZ_1M, .last = 17 * SZ_1M - 1 },
		{ .start = 16 * SZ_1M + 5, .last = 16 * SZ_1M + 10 },
	};
	__u64 iova;

	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, &first, 1));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, self->buf, PAGE_SZ,
			      &iova));
	ASSERT_TRUE(range_inside(iova, PAGE_SZ, first.start, first.last));
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, &second, 1));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, self->buf, PAGE_SZ,
			      &iova));
	ASSERT_TRUE(range_inside(iova, PAGE_SZ, second.start, second.last));
	/* A rejected list leaves the previous one in force. */
	ASSERT_EQ(-EINVAL, ioas_allow_iovas(self->fd, self->ioas_id, bad, 2));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, self->buf, PAGE_SZ,
			      &iova));
	ASSERT_TRUE(range_inside(iova, PAGE_SZ, second.start, second.last));
}

TEST_F(ioas, allow_iovas_over_a_reserved_range_fails_eaddrinuse_and_keeps_old)
{
	struct iommu_iova_range old = {
		.start = 8 * SZ_1M, .last = 9 * SZ_1M - 1,
	};
	struct iommu_iova_range clash[] = {
		{ .start = 16 * SZ_1M, .last = 17 * SZ_1M - 1 },
		{ .start = SZ_1M, .last = 2 * SZ_1M - 1 },
	};
	__u64 iova;

	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, &old, 1));
	ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id,
				       2 * SZ_1M - 1, PAGE_SZ));
	ASSERT_EQ(-EADDRINUSE, ioas_allow_iovas(self->fd, self->ioas_id,
						clash, 2));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, self->buf, PAGE_SZ,
			      &iova));
	ASSERT_TRUE(range_inside(iova, PAGE_SZ, old.start, old.last));
}

TEST_F(ioas, add_reserved_inside_an_allowed_range_fails_eaddrinuse)
{
	struct iommu_iova_range allowed = {
		.start = SZ_1M, .last = 2 * SZ_1M - 1,
	};

	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, &allowed, 1));
	ASSERT_EQ(-EADDRINUSE, tcmd_add_reserved(self->fd, self->ioas_id,
						 2 * SZ_1M - 1, PAGE_SZ));
	ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id, 2 * SZ_1M,
				       PAGE_SZ));
	/* Once the list is cleared the range can be reserved. */
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, NULL, 0));
	ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id, SZ_1M,
				       PAGE_SZ));
}

TEST_F(ioas, allow_iovas_with_an_empty_list_clears_it)
{
	struct iommu_iova_range small = {
		.start = SZ_1M, .last = SZ_1M + PAGE_SZ - 1,
	};
	__u64 iova;

	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, &small, 1));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, self->buf, PAGE_SZ,
			      &iova));
	ASSERT_EQ(-ENOSPC, ioas_map(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, &iova));
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, NULL, 0));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, self->buf, PAGE_SZ,
			      &iova));
	ASSERT_FALSE(range_inside(iova, PAGE_SZ, small.start, small.last));
}

TEST_F(ioas, allow_iovas_that_leave_out_an_area_keep_the_area)
{
	struct iommu_iova_range elsewhere = {
		.start = SZ_1G, .last = 2 * SZ_1G - 1,
	};
	__u64 len;

	/* Upstream checks allowed ranges against reserved IOVA only. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, &elsewhere,
				      1));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, BASE_IOVA, PAGE_SZ,
				&len));
	ASSERT_EQ(PAGE_SZ, len);
}

TEST_F(ioas, fixed_map_outside_the_allowed_ranges_succeeds)
{
	struct iommu_iova_range allowed = {
		.start = SZ_1M, .last = 2 * SZ_1M - 1,
	};

	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, &allowed, 1));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA));
}

TEST_F(ioas, allow_iovas_with_reserved_field_or_missing_ioas_fails)
{
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = self->ioas_id,
		.__reserved = 1,
	};

	ASSERT_EQ(-EOPNOTSUPP,
		  iommufd_ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd));
	ASSERT_EQ(-ENOENT, ioas_allow_iovas(self->fd, self->ioas_id + 100,
					    NULL, 0));
}

/*
 * @n readable ranges that end exactly where readable memory ends: the
 * page after them is PROT_NONE. Each range is [k * 1M, k * 1M + 4K - 1]
 * for k from 1.
 */
static struct iommu_iova_range *ranges_before_a_hole(unsigned int n,
						     void **map)
{
	size_t len = ((n * sizeof(struct iommu_iova_range) + PAGE_SZ - 1) /
		      PAGE_SZ + 1) * PAGE_SZ;
	struct iommu_iova_range *r;
	char *p;
	unsigned int i;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + len - PAGE_SZ, PAGE_SZ, PROT_NONE))
		return NULL;
	*map = p;
	r = (struct iommu_iova_range *)(p + len - PAGE_SZ) - n;
	for (i = 0; i < n; i++) {
		r[i].start = (i + 1) * SZ_1M;
		r[i].last = r[i].start + PAGE_SZ - 1;
	}
	return r;
}

/*
 * The count is a claim, not a size to allocate: a count far past the real
 * array costs an EFAULT where the array ends, however large it is (a
 * kernel that allocated for it first warned and failed with ENOMEM from
 * 2^27 elements up), and the old list stays.
 */
TEST_F(ioas, allow_iovas_with_a_count_past_the_array_fails_efault)
{
	const __u32 counts[] = { 2, 1U << 20, 1U << 27, 1U << 31, UINT32_MAX };
	struct iommu_iova_range old = {
		.start = 64 * SZ_1M, .last = 65 * SZ_1M - 1,
	};
	struct iommu_iova_range *r;
	unsigned int i;
	void *map;
	__u64 iova;

	r = ranges_before_a_hole(1, &map);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, &old, 1));
	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		__u32 num = counts[i];

		ASSERT_EQ(-EFAULT, ioas_allow_iovas(self->fd, self->ioas_id, r,
						    num))
			TH_LOG("num_iovas %u", num);
	}
	/* The real array alone is fine; it replaced the old list. */
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, r, 1));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, self->buf, PAGE_SZ,
			      &iova));
	ASSERT_TRUE(range_inside(iova, PAGE_SZ, r[0].start, r[0].last));
	munmap(map, 2 * PAGE_SZ);
}

TEST_F(ioas, allow_iovas_with_a_huge_count_and_no_array_fails_efault)
{
	__u32 windowed;

	ASSERT_EQ(-EFAULT, ioas_allow_iovas(self->fd, self->ioas_id, NULL,
					    UINT32_MAX));
	/* A windowed IOAS refuses any list, but reads it first. */
	ASSERT_EQ(0, ioas_alloc_windowed(self->fd, &windowed));
	ASSERT_EQ(-EFAULT, ioas_allow_iovas(self->fd, windowed, NULL,
					    UINT32_MAX));
	ASSERT_EQ(-EINVAL, ioas_allow_iovas(self->fd, windowed, NULL, 0));
}

/*
 * As upstream, the first bad element ends the read: EINVAL even when a
 * later element could not be read; a good list with a hole is EFAULT.
 */
TEST_F(ioas, allow_iovas_with_a_bad_element_then_a_hole_fails_einval)
{
	struct iommu_iova_range *r;
	void *map;

	r = ranges_before_a_hole(2, &map);
	ASSERT_NE(NULL, r);
	r[0].last = r[0].start;
	ASSERT_EQ(-EINVAL, ioas_allow_iovas(self->fd, self->ioas_id, r, 3));
	ASSERT_EQ(-EINVAL, ioas_allow_iovas(self->fd, self->ioas_id, r, 2));
	r[0].last = r[0].start + PAGE_SZ - 1;
	r[1].start = r[0].start;
	ASSERT_EQ(-EINVAL, ioas_allow_iovas(self->fd, self->ioas_id, r, 3));
	ASSERT_EQ(-EINVAL, ioas_allow_iovas(self->fd, self->ioas_id, r, 2));
	r[1].start = r[0].last + 1;
	ASSERT_EQ(-EFAULT, ioas_allow_iovas(self->fd, self->ioas_id, r, 3));
	munmap(map, 2 * PAGE_SZ);
}

/* A long list is taken whole: every range of it serves automatic maps. */
TEST_F(ioas, allow_iovas_takes_a_list_of_thousands_of_ranges)
{
	const unsigned int n = 3000;
	struct iommu_iova_range *r;
	__u64 iova, unmapped;
	unsigned int i;
	void *map;

	r = ranges_before_a_hole(n, &map);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, r, n));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, self->buf,
				      PAGE_SZ, &iova));
		ASSERT_EQ(0, iova % SZ_1M);
		ASSERT_LE(SZ_1M, iova);
		ASSERT_GE(n * SZ_1M, iova);
	}
	ASSERT_EQ(-ENOSPC, ioas_map(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, &iova));
	ASSERT_EQ(0, unmap_all(self->fd, self->ioas_id, &unmapped));
	ASSERT_EQ(n * PAGE_SZ, unmapped);
	munmap(map, (n * sizeof(*r) + PAGE_SZ - 1) / PAGE_SZ * PAGE_SZ +
			    PAGE_SZ);
}

/* --- IOMMU_OPTION on an IOAS --- */

static int huge_pages_get(int fd, __u32 ioas_id, __u64 *val)
{
	*val = 0xdead;
	return iommufd_option(fd, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET,
			      ioas_id, val);
}

static int huge_pages_set(int fd, __u32 ioas_id, __u64 val)
{
	return iommufd_option(fd, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET,
			      ioas_id, &val);
}

static __u64 ioas_alignment(int fd, __u32 ioas_id)
{
	struct iommu_iova_range r[8];
	__u64 align = 0;
	__u32 num = 8;

	if (ioas_iova_ranges(fd, ioas_id, r, &num, &align))
		return 0;
	return align;
}

TEST_F(ioas, huge_pages_option_defaults_to_on_and_toggles)
{
	__u64 val;

	ASSERT_EQ(0, huge_pages_get(self->fd, self->ioas_id, &val));
	ASSERT_EQ(1, val);
	ASSERT_EQ(0, huge_pages_set(self->fd, self->ioas_id, 0));
	ASSERT_EQ(0, huge_pages_get(self->fd, self->ioas_id, &val));
	ASSERT_EQ(0, val);
	ASSERT_EQ(0, huge_pages_set(self->fd, self->ioas_id, 0));
	ASSERT_EQ(0, huge_pages_set(self->fd, self->ioas_id, 1));
	ASSERT_EQ(0, huge_pages_get(self->fd, self->ioas_id, &val));
	ASSERT_EQ(1, val);
}

TEST_F(ioas, huge_pages_off_raises_the_iova_alignment_to_a_page)
{
	__u64 iova;

	ASSERT_EQ(0, huge_pages_set(self->fd, self->ioas_id, 0));
	ASSERT_EQ(PAGE_SZ, ioas_alignment(self->fd, self->ioas_id));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  PAGE_SZ, BASE_IOVA + 16));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  PAGE_SZ - 1, BASE_IOVA));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id,
					  (char *)self->buf + 16, PAGE_SZ,
					  BASE_IOVA));
	ASSERT_EQ(-EINVAL, ioas_map(self->fd, self->ioas_id, self->buf, 16,
				    &iova));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(0, huge_pages_set(self->fd, self->ioas_id, 1));
	ASSERT_EQ(1, ioas_alignment(self->fd, self->ioas_id));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf, 16,
				    BASE_IOVA + PAGE_SZ + 16));
}

TEST_F(ioas, huge_pages_off_with_an_unaligned_area_fails_eaddrinuse)
{
	__u64 val;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA + 16));
	ASSERT_EQ(-EADDRINUSE, huge_pages_set(self->fd, self->ioas_id, 0));
	ASSERT_EQ(0, huge_pages_get(self->fd, self->ioas_id, &val));
	ASSERT_EQ(1, val);
	ASSERT_EQ(1, ioas_alignment(self->fd, self->ioas_id));
}

TEST_F(ioas, huge_pages_value_above_one_fails_einval)
{
	__u64 val;

	ASSERT_EQ(-EINVAL, huge_pages_set(self->fd, self->ioas_id, 2));
	ASSERT_EQ(-EINVAL, huge_pages_set(self->fd, self->ioas_id,
					  UINT64_MAX));
	ASSERT_EQ(0, huge_pages_get(self->fd, self->ioas_id, &val));
	ASSERT_EQ(1, val);
}

TEST_F(ioas, option_with_unknown_id_or_op_fails_eopnotsupp)
{
	__u64 val = 0;

	ASSERT_EQ(-EOPNOTSUPP, iommufd_option(self->fd, 2, IOMMU_OPTION_OP_GET,
					      self->ioas_id, &val));
	ASSERT_EQ(-EOPNOTSUPP, iommufd_option(self->fd, UINT32_MAX,
					      IOMMU_OPTION_OP_SET, 0, &val));
	ASSERT_EQ(-EOPNOTSUPP, iommufd_option(self->fd,
					      IOMMU_OPTION_HUGE_PAGES, 2,
					      self->ioas_id, &val));
	ASSERT_EQ(-EOPNOTSUPP, iommufd_option(self->fd,
					      IOMMU_OPTION_RLIMIT_MODE, 2, 0,
					      &val));
}

TEST_F(ioas, option_with_reserved_field_set_fails_eopnotsupp)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_GET,
		.__reserved = 1,
		.object_id = self->ioas_id,
	};

	ASSERT_EQ(-EOPNOTSUPP, iommufd_ioctl(self->fd, IOMMU_OPTION, &cmd));
	cmd.option_id = IOMMU_OPTION_RLIMIT_MODE;
	cmd.object_id = 0;
	ASSERT_EQ(-EOPNOTSUPP, iommufd_ioctl(self->fd, IOMMU_OPTION, &cmd));
}

TEST_F(ioas, huge_pages_option_on_a_missing_ioas_fails_enoent)
{
	__u64 val;

	ASSERT_EQ(-ENOENT, huge_pages_get(self->fd, 0, &val));
	ASSERT_EQ(-ENOENT, huge_pages_get(self->fd, self->ioas_id + 100,
					  &val));
	ASSERT_EQ(-ENOENT, huge_pages_set(self->fd, self->ioas_id + 100, 1));
}

/* ---------------------------------------------------------------------- */
/* IOMMU_OPTION_RLIMIT_MODE: a per-context setting. */

static int rlimit_mode_get(int fd, __u64 *val)
{
	*val = 0xdead;
	return iommufd_option(fd, IOMMU_OPTION_RLIMIT_MODE,
			      IOMMU_OPTION_OP_GET, 0, val);
}

static int rlimit_mode_set(int fd, __u64 val)
{
	return iommufd_option(fd, IOMMU_OPTION_RLIMIT_MODE,
			      IOMMU_OPTION_OP_SET, 0, &val);
}

TEST(rlimit_mode_defaults_to_user_and_is_per_context)
{
	int a = iommufd_open(), b = iommufd_open();
	__u64 val;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, rlimit_mode_get(a, &val));
	ASSERT_EQ(0, val);
	ASSERT_EQ(0, rlimit_mode_set(a, 1));
	ASSERT_EQ(0, rlimit_mode_get(a, &val));
	ASSERT_EQ(1, val);
	ASSERT_EQ(0, rlimit_mode_get(b, &val));
	ASSERT_EQ(0, val);
	ASSERT_EQ(0, rlimit_mode_set(a, 0));
	ASSERT_EQ(0, rlimit_mode_get(a, &val));
	ASSERT_EQ(0, val);
	close(a);
	close(b);
}

TEST(rlimit_mode_set_needs_an_empty_context)
{
	int fd = iommufd_open();
	__u64 val;
	__u32 id;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioas_alloc(fd, &id));
	ASSERT_EQ(-EBUSY, rlimit_mode_set(fd, 1));
	ASSERT_EQ(0, rlimit_mode_get(fd, &val));
	ASSERT_EQ(0, val);
	ASSERT_EQ(0, iommufd_destroy(fd, id));
	ASSERT_EQ(0, rlimit_mode_set(fd, 1));
	ASSERT_EQ(0, rlimit_mode_get(fd, &val));
	ASSERT_EQ(1, val);
	close(fd);
}

TEST(rlimit_mode_above_one_fails_einval)
{
	int fd = iommufd_open();
	__u64 val;

	ASSERT_LE(0, fd);
	ASSERT_EQ(-EINVAL, rlimit_mode_set(fd, 2));
	ASSERT_EQ(-EINVAL, rlimit_mode_set(fd, UINT64_MAX));
	ASSERT_EQ(0, rlimit_mode_get(fd, &val));
	ASSERT_EQ(0, val);
	close(fd);
}

/* As upstream: a context in use is EBUSY whatever the value. */
TEST(rlimit_mode_set_checks_the_context_before_the_value)
{
	int fd = iommufd_open();
	__u64 val;
	__u32 id;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioas_alloc(fd, &id));
	ASSERT_EQ(-EBUSY, rlimit_mode_set(fd, 2));
	ASSERT_EQ(0, iommufd_destroy(fd, id));
	ASSERT_EQ(-EINVAL, rlimit_mode_set(fd, 2));
	ASSERT_EQ(0, rlimit_mode_get(fd, &val));
	ASSERT_EQ(0, val);
	close(fd);
}

TEST(rlimit_mode_with_an_object_id_fails_eopnotsupp)
{
	int fd = iommufd_open();
	__u64 val = 1;
	__u32 id;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioas_alloc(fd, &id));
	ASSERT_EQ(-EOPNOTSUPP, iommufd_option(fd, IOMMU_OPTION_RLIMIT_MODE,
					      IOMMU_OPTION_OP_GET, id, &val));
	ASSERT_EQ(-EOPNOTSUPP, iommufd_option(fd, IOMMU_OPTION_RLIMIT_MODE,
					      IOMMU_OPTION_OP_SET, id, &val));
	close(fd);
}

TEST(rlimit_mode_set_without_cap_sys_resource_fails_eperm)
{
	int fd = iommufd_open();
	__u64 val;

	ASSERT_LE(0, fd);
	/* The harness runs each test in a child of its own, so the
	 * capability is gone for this test only.
	 */
	ASSERT_EQ(0, cap_drop(CAP_SYS_RESOURCE));
	ASSERT_EQ(-EPERM, rlimit_mode_set(fd, 1));
	ASSERT_EQ(-EPERM, rlimit_mode_set(fd, 0));
	/* Reading needs no privilege. */
	ASSERT_EQ(0, rlimit_mode_get(fd, &val));
	ASSERT_EQ(0, val);
	close(fd);
}

/* ---------------------------------------------------------------------- */
/* Two contexts never see each other's objects. */

TEST(ids_of_one_context_name_nothing_in_another)
{
	struct iommu_iova_range range;
	__u32 a_ioas, a_other, b_ioas;
	__u64 iova, val = 1, len;
	int a, b, access_fd;
	__u32 num = 1;
	void *buf;

	buf = buf_alloc_written(PAGE_SZ, 3);
	ASSERT_NE(NULL, buf);
	a = iommufd_open();
	b = iommufd_open();
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	if (!iommufd_is_test_build(a))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, ioas_alloc(a, &a_ioas));
	ASSERT_EQ(0, ioas_alloc(a, &a_other));
	ASSERT_EQ(0, ioas_alloc(b, &b_ioas));
	ASSERT_NE(a_other, b_ioas);
	ASSERT_EQ(0, ioas_map_fixed(a, a_other, buf, PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(0, ioas_map_fixed(b, b_ioas, buf, PAGE_SZ, BASE_IOVA));

	ASSERT_EQ(-ENOENT, ioas_map_fixed(b, a_other, buf, PAGE_SZ,
					  BASE_IOVA));
	ASSERT_EQ(-ENOENT, ioas_unmap(b, a_other, 0, ALL_IOVA, NULL));
	ASSERT_EQ(-ENOENT, ioas_unmap(b, a_other, BASE_IOVA, PAGE_SZ, NULL));
	iova = 2 * BASE_IOVA;
	ASSERT_EQ(-ENOENT, ioas_copy(b, b_ioas, &iova, a_other, BASE_IOVA,
				     PAGE_SZ, FIXED_RW));
	ASSERT_EQ(-ENOENT, ioas_copy(b, a_other, &iova, b_ioas, BASE_IOVA,
				     PAGE_SZ, FIXED_RW));
	ASSERT_EQ(-ENOENT, ioas_iova_ranges(b, a_other, &range, &num, NULL));
	ASSERT_EQ(-ENOENT, ioas_allow_iovas(b, a_other, NULL, 0));
	ASSERT_EQ(-ENOENT, iommufd_option(b, IOMMU_OPTION_HUGE_PAGES,
					  IOMMU_OPTION_OP_SET, a_other, &val));
	ASSERT_EQ(-ENOENT, tcmd_add_reserved(b, a_other, 0, PAGE_SZ));
	ASSERT_EQ(-ENOENT, tcmd_access_create(b, a_other, 0, &access_fd));
	ASSERT_EQ(-ENOENT, iommufd_destroy(b, a_other));

	/* Each context's unmap-all sees only its own area. */
	ASSERT_EQ(0, unmap_all(b, b_ioas, &len));
	ASSERT_EQ(PAGE_SZ, len);
	ASSERT_EQ(0, unmap_all(a, a_other, &len));
	ASSERT_EQ(PAGE_SZ, len);
	close(a);
	close(b);
	munmap(buf, PAGE_SZ);
}

/* ---------------------------------------------------------------------- */
/* Pinning through an access: lazy, once per page, undone on every path. */

/* --- Validation order, as upstream 6.12 (Documentation/vfio-compat.rst) --- */

/* A length no size_t of pages can hold is EINVAL, not EOVERFLOW. */
TEST_F(ioas, map_of_a_length_beyond_size_max_less_a_page_fails_einval)
{
	__u64 iova = BASE_IOVA;

	ASSERT_EQ(-EINVAL, ioas_map_flags(self->fd, self->ioas_id, NULL,
					  UINT64_MAX - 1, &iova, FIXED_RW));
	ASSERT_EQ(-EINVAL, ioas_map_flags(self->fd, self->ioas_id, NULL,
					  UINT64_MAX - PAGE_SZ + 1, &iova,
					  FIXED_RW));
	/* A user range that wraps stays EOVERFLOW. */
	ASSERT_EQ(-EOVERFLOW, ioas_map_flags(self->fd, self->ioas_id,
					     (void *)(uintptr_t)(UINT64_MAX -
								 PAGE_SZ + 1),
					     2 * PAGE_SZ, &iova, FIXED_RW));
}

/* The IOVA's errors come before a user address misaligned for the IOAS. */
TEST_F(ioas, map_checks_the_iova_before_the_user_address_alignment)
{
	__u64 iova = BASE_IOVA;
	int pin_fd;

	ASSERT_EQ(0, tcmd_access_create(self->fd, self->ioas_id, PIN_ACCESS,
					&pin_fd));
	ASSERT_EQ(PAGE_SZ, ioas_iova_alignment(self->fd, self->ioas_id));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(-EEXIST, ioas_map_flags(self->fd, self->ioas_id,
					  (char *)self->buf + 1, PAGE_SZ,
					  &iova, FIXED_RW));
	ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id,
				       BASE_IOVA + PAGE_SZ, PAGE_SZ));
	iova = BASE_IOVA + PAGE_SZ;
	ASSERT_EQ(-EINVAL, ioas_map_flags(self->fd, self->ioas_id,
					  (char *)self->buf + 1, PAGE_SZ,
					  &iova, FIXED_RW));
	/* Free, aligned IOVA: now the user address is what is wrong. */
	iova = BASE_IOVA + 2 * PAGE_SZ;
	ASSERT_EQ(-EINVAL, ioas_map_flags(self->fd, self->ioas_id,
					  (char *)self->buf + 1, PAGE_SZ,
					  &iova, FIXED_RW));
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id,
				      BASE_IOVA + 2 * PAGE_SZ, PAGE_SZ, NULL));
	close(pin_fd);
}

/* A bad source range is reported before a bad destination IOAS. */
TEST_F(ioas, copy_checks_the_source_range_before_the_destination_ioas)
{
	__u64 dst_iova = BASE_IOVA * 2;
	__u32 bad = self->ioas_id + 1000;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(-EINVAL, ioas_copy(self->fd, bad, &dst_iova, self->ioas_id,
				     BASE_IOVA, 0, FIXED_RW));
	ASSERT_EQ(-EOVERFLOW, ioas_copy(self->fd, bad, &dst_iova,
					self->ioas_id, UINT64_MAX - PAGE_SZ,
					2 * PAGE_SZ, FIXED_RW));
	ASSERT_EQ(-ENOENT, ioas_copy(self->fd, bad, &dst_iova, self->ioas_id,
				     BASE_IOVA, 2 * PAGE_SZ, FIXED_RW));
	/* A good source range: now the destination's ID is looked up. */
	ASSERT_EQ(-ENOENT, ioas_copy(self->fd, bad, &dst_iova, self->ioas_id,
				     BASE_IOVA, PAGE_SZ, FIXED_RW));
	ASSERT_EQ(0, ioas_copy(self->fd, self->ioas_id, &dst_iova,
			       self->ioas_id, BASE_IOVA, PAGE_SZ, FIXED_RW));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, dst_iova, PAGE_SZ,
				NULL));
}

/* Writing to read-only pages (EPERM) is checked after the IOVA. */
TEST_F(ioas, copy_checks_the_iova_before_write_access_to_the_source)
{
	__u64 iova = BASE_IOVA, dst_iova = BASE_IOVA;

	ASSERT_EQ(0, ioas_map_flags(self->fd, self->ioas_id, self->buf,
				    2 * PAGE_SZ, &iova,
				    IOMMU_IOAS_MAP_FIXED_IOVA |
				    IOMMU_IOAS_MAP_READABLE));
	ASSERT_EQ(-EEXIST, ioas_copy(self->fd, self->ioas_id, &dst_iova,
				     self->ioas_id, BASE_IOVA, PAGE_SZ,
				     FIXED_RW));
	ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id,
				       BASE_IOVA * 2, PAGE_SZ));
	dst_iova = BASE_IOVA * 2;
	ASSERT_EQ(-EINVAL, ioas_copy(self->fd, self->ioas_id, &dst_iova,
				     self->ioas_id, BASE_IOVA, PAGE_SZ,
				     FIXED_RW));
	dst_iova = BASE_IOVA * 3;
	ASSERT_EQ(-EPERM, ioas_copy(self->fd, self->ioas_id, &dst_iova,
				    self->ioas_id, BASE_IOVA, PAGE_SZ,
				    FIXED_RW));
	/* Nothing was left behind by any of them. */
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, BASE_IOVA * 3,
				      PAGE_SZ, NULL));
	ASSERT_EQ(0, ioas_copy(self->fd, self->ioas_id, &dst_iova,
			       self->ioas_id, BASE_IOVA, PAGE_SZ,
			       IOMMU_IOAS_MAP_FIXED_IOVA |
			       IOMMU_IOAS_MAP_READABLE));
}

FIXTURE(pin)
{
	int fd;
	__u32 ioas_id;
	int access_fd;
	void *buf;
	long vm_pin;
};

FIXTURE_VARIANT(pin)
{
	/* Cap on the kernel's temporary page batches, 0 for the default. */
	__u32 batch_limit;
};

FIXTURE_VARIANT_ADD(pin, default_batches)
{
	.batch_limit = 0,
};

/* A few PFNs per batch: every pin walks many batches. */
FIXTURE_VARIANT_ADD(pin, tiny_batches)
{
	.batch_limit = 16,
};

FIXTURE_SETUP(pin)
{
	self->access_fd = -1;
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	if (variant->batch_limit)
		ASSERT_EQ(0, tcmd_set_batch_limit(self->fd,
						  variant->batch_limit));
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	ASSERT_EQ(0, tcmd_access_create(self->fd, self->ioas_id, PIN_ACCESS,
					&self->access_fd));
	self->buf = buf_alloc_written(BUF_SIZE, 2);
	ASSERT_NE(NULL, self->buf);
	self->vm_pin = proc_status_kb("VmPin");
	ASSERT_LE(0, self->vm_pin);
}

FIXTURE_TEARDOWN(pin)
{
	int fd;

	if (self->access_fd >= 0)
		close(self->access_fd);
	if (self->fd >= 0)
		close(self->fd);
	/* Every pin is gone once the context and its accesses are. */
	EXPECT_EQ(self->vm_pin, proc_status_kb("VmPin"));
	fd = iommufd_open();
	if (fd >= 0) {
		if (self->buf)
			EXPECT_EQ(0, tcmd_check_refs(fd, self->buf, BUF_SIZE,
						     0));
		/* Module-wide: always leave the default for the next test. */
		EXPECT_EQ(0, tcmd_set_batch_limit(fd, DEFAULT_BATCHES));
		close(fd);
	}
	if (self->buf)
		munmap(self->buf, BUF_SIZE);
}

static long kb_of(__u64 bytes)
{
	return bytes / 1024;
}

TEST_F(pin, map_alone_pins_nothing)
{
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(self->vm_pin, proc_status_kb("VmPin"));
}

TEST_F(pin, access_pin_pins_each_page_once_until_the_last_unpin)
{
	__u32 first, second;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     BUF_SIZE, self->buf, 0, &first));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 1));
	ASSERT_EQ(self->vm_pin + kb_of(BUF_SIZE), proc_status_kb("VmPin"));
	/* A second user of the same pages shares the pin. */
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     BUF_SIZE, self->buf,
				     MOCK_FLAGS_ACCESS_WRITE, &second));
	ASSERT_NE(first, second);
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 1));
	ASSERT_EQ(self->vm_pin + kb_of(BUF_SIZE), proc_status_kb("VmPin"));
	ASSERT_EQ(0, tcmd_access_unpin(self->fd, self->access_fd, first));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 1));
	ASSERT_EQ(0, tcmd_access_unpin(self->fd, self->access_fd, second));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(self->vm_pin, proc_status_kb("VmPin"));
}

TEST_F(pin, access_pin_of_every_page_span_pins_exactly_that_span)
{
	char *buf = self->buf;
	unsigned int first, npages;
	__u32 item;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, buf, BUF_SIZE,
				    BASE_IOVA));
	for (first = 0; first < BUF_PAGES; first++) {
		for (npages = 1; first + npages <= BUF_PAGES; npages++) {
			__u64 off = first * PAGE_SZ, len = npages * PAGE_SZ;
			__u64 rest = BUF_SIZE - off - len;

			ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd,
						     BASE_IOVA + off, len,
						     buf + off, 0, &item));
			ASSERT_EQ(0, tcmd_check_refs(self->fd, buf + off, len,
						     1));
			if (first)
				ASSERT_EQ(0, tcmd_check_refs(self->fd, buf,
							     off, 0));
			if (rest)
				ASSERT_EQ(0, tcmd_check_refs(self->fd,
							     buf + off + len,
							     rest, 0));
			ASSERT_EQ(self->vm_pin + kb_of(len),
				  proc_status_kb("VmPin"));
			ASSERT_EQ(0, tcmd_access_unpin(self->fd,
						       self->access_fd, item));
			ASSERT_EQ(0, tcmd_check_refs(self->fd, buf, BUF_SIZE,
						     0));
		}
	}
}

TEST_F(pin, access_pin_of_an_unmapped_range_fails_enoent_and_pins_nothing)
{
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    8 * PAGE_SZ, BASE_IOVA));
	/* Runs off the end of the area after pinning part of it. */
	ASSERT_EQ(-ENOENT, tcmd_access_pin(self->fd, self->access_fd,
					   BASE_IOVA + 4 * PAGE_SZ,
					   8 * PAGE_SZ, NULL, 0, NULL));
	ASSERT_EQ(-ENOENT, tcmd_access_pin(self->fd, self->access_fd,
					   BASE_IOVA - PAGE_SZ, 2 * PAGE_SZ,
					   NULL, 0, NULL));
	ASSERT_EQ(-ENOENT, tcmd_access_pin(self->fd, self->access_fd,
					   BASE_IOVA * 2, PAGE_SZ, NULL, 0,
					   NULL));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(self->vm_pin, proc_status_kb("VmPin"));
}

TEST_F(pin, access_pin_spans_adjacent_areas)
{
	char *buf = self->buf;
	__u32 item;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, buf,
				    8 * PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
				    buf + 8 * PAGE_SZ, 8 * PAGE_SZ,
				    BASE_IOVA + 8 * PAGE_SZ));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd,
				     BASE_IOVA + 4 * PAGE_SZ, 8 * PAGE_SZ,
				     buf + 4 * PAGE_SZ, 0, &item));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, buf + 4 * PAGE_SZ,
				     8 * PAGE_SZ, 1));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, buf, 4 * PAGE_SZ, 0));
	ASSERT_EQ(0, tcmd_access_unpin(self->fd, self->access_fd, item));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, buf, BUF_SIZE, 0));
}

TEST_F(pin, access_pin_at_an_unaligned_iova_fails_einval)
{
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(-EINVAL, tcmd_access_pin(self->fd, self->access_fd,
					   BASE_IOVA + 16, PAGE_SZ, NULL, 0,
					   NULL));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
}

TEST_F(pin, access_pin_of_zero_length_fails_einval)
{
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(-EINVAL, tcmd_access_pin(self->fd, self->access_fd,
					   BASE_IOVA, 0, NULL, 0, NULL));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
}

TEST_F(pin, batch_limit_below_one_entry_fails_einval)
{
	/* A batch needs room for at least one PFN and its count. */
	ASSERT_EQ(-EINVAL, tcmd_set_batch_limit(self->fd, 11));
	ASSERT_EQ(0, tcmd_set_batch_limit(self->fd, 12));
	ASSERT_EQ(0, tcmd_set_batch_limit(self->fd, variant->batch_limit ?
					  variant->batch_limit :
					  DEFAULT_BATCHES));
}

TEST_F(pin, access_pin_for_write_of_a_read_only_mapping_fails_eperm)
{
	__u64 iova = BASE_IOVA;
	__u32 item;

	ASSERT_EQ(0, ioas_map_flags(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, &iova,
				    IOMMU_IOAS_MAP_FIXED_IOVA |
				    IOMMU_IOAS_MAP_READABLE));
	ASSERT_EQ(-EPERM, tcmd_access_pin(self->fd, self->access_fd,
					  BASE_IOVA, BUF_SIZE, self->buf,
					  MOCK_FLAGS_ACCESS_WRITE, NULL));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     BUF_SIZE, self->buf, 0, &item));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 1));
	ASSERT_EQ(0, tcmd_access_unpin(self->fd, self->access_fd, item));
}

TEST_F(pin, access_pin_through_a_non_pinning_access_fails_eopnotsupp)
{
	int plain_fd;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(0, tcmd_access_create(self->fd, self->ioas_id, 0,
					&plain_fd));
	ASSERT_EQ(-EOPNOTSUPP, tcmd_access_pin(self->fd, plain_fd, BASE_IOVA,
					       PAGE_SZ, NULL, 0, NULL));
	ASSERT_EQ(0, close(plain_fd));
}

TEST_F(pin, access_pin_with_unknown_flags_fails_eopnotsupp)
{
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(-EOPNOTSUPP, tcmd_access_pin(self->fd, self->access_fd,
					       BASE_IOVA, PAGE_SZ, NULL,
					       1U << 1, NULL));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
}

TEST_F(pin, access_pin_checked_against_other_memory_fails_and_pins_nothing)
{
	char *buf = self->buf;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, buf, BUF_SIZE,
				    BASE_IOVA));
	ASSERT_EQ(-EBADE, tcmd_access_pin(self->fd, self->access_fd,
					  BASE_IOVA, PAGE_SZ, buf + PAGE_SZ, 0,
					  NULL));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, buf, BUF_SIZE, 0));
}

TEST_F(pin, access_unpin_of_an_unknown_item_fails_enoent)
{
	__u32 item;

	ASSERT_EQ(-ENOENT, tcmd_access_unpin(self->fd, self->access_fd, 0));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     PAGE_SZ, self->buf, 0, &item));
	ASSERT_EQ(-ENOENT, tcmd_access_unpin(self->fd, self->access_fd,
					     item + 1));
	ASSERT_EQ(0, tcmd_access_unpin(self->fd, self->access_fd, item));
	ASSERT_EQ(-ENOENT, tcmd_access_unpin(self->fd, self->access_fd,
					     item));
}

TEST_F(pin, unmap_of_pinned_pages_makes_the_access_unpin_them)
{
	__u32 item;
	__u64 len;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd,
				     BASE_IOVA + 4 * PAGE_SZ, 4 * PAGE_SZ,
				     (char *)self->buf + 4 * PAGE_SZ, 0,
				     &item));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, BASE_IOVA, BUF_SIZE,
				&len));
	ASSERT_EQ(BUF_SIZE, len);
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(self->vm_pin, proc_status_kb("VmPin"));
	/* The access dropped the item when it was told of the unmap. */
	ASSERT_EQ(-ENOENT, tcmd_access_unpin(self->fd, self->access_fd,
					     item));
}

TEST_F(pin, unmap_all_of_pinned_areas_makes_the_access_unpin_them)
{
	char *buf = self->buf;
	__u64 len;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, buf,
				    8 * PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
				    buf + 8 * PAGE_SZ, 8 * PAGE_SZ,
				    BASE_IOVA * 2));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     8 * PAGE_SZ, buf, 0, NULL));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd,
				     BASE_IOVA * 2, 8 * PAGE_SZ,
				     buf + 8 * PAGE_SZ, 0, NULL));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, buf, BUF_SIZE, 1));
	ASSERT_EQ(0, unmap_all(self->fd, self->ioas_id, &len));
	ASSERT_EQ(BUF_SIZE, len);
	ASSERT_EQ(0, tcmd_check_refs(self->fd, buf, BUF_SIZE, 0));
	ASSERT_EQ(self->vm_pin, proc_status_kb("VmPin"));
}

/*
 * An unpin takes its pages out of the pages object's tree of runs before
 * it lets them go. Cutting the tree may need memory, and an unpin cannot
 * fail: when the memory is not there (the fault injected here), the pages
 * stay pinned ("parked") instead of the unpin waiting for memory with
 * __GFP_NOFAIL. Nothing may leak or be pinned twice: a later pin takes
 * parked pages up as they are, a later unpin or the object's release
 * lets them go. 64 pages: objects of at most 16 keep no tree.
 */
#define PARK_PAGES 64UL

static long pin_kb(__u64 npages)
{
	return kb_of(npages * PAGE_SZ);
}

TEST_F(pin, unpin_without_memory_for_the_tree_parks_pages_and_leaks_nothing)
{
	__u64 len = PARK_PAGES * PAGE_SZ, mid_off = 16 * PAGE_SZ, unmapped;
	char *buf = buf_alloc_written(len, 3);
	__u32 all, mid;
	long vm_pin;
	int fired;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, buf, len,
				    BASE_IOVA));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     len, buf, 0, &all));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd,
				     BASE_IOVA + mid_off, 16 * PAGE_SZ,
				     buf + mid_off, 0, &mid));
	ASSERT_EQ(self->vm_pin + pin_kb(PARK_PAGES), proc_status_kb("VmPin"));

	/* Pages 0-15 and 32-63 lose their holder; the first store fails. */
	ASSERT_EQ(0, fail_nth_arm(self->fd, 1, MOCK_FAULT_ALLOC));
	ASSERT_EQ(0, tcmd_access_unpin(self->fd, self->access_fd, all));
	ASSERT_EQ(0, fail_nth_disarm(self->fd, &fired));
	ASSERT_EQ(1, fired);
	/* Some stayed pinned, once; the middle is still held. */
	vm_pin = proc_status_kb("VmPin");
	ASSERT_LT(self->vm_pin + pin_kb(16), vm_pin);
	ASSERT_GE(self->vm_pin + pin_kb(PARK_PAGES), vm_pin);
	ASSERT_EQ(0, tcmd_check_refs(self->fd, buf + mid_off, 16 * PAGE_SZ,
				     1));

	/* Pinning everything again takes the parked pages up: once each. */
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     len, buf, 0, &all));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, buf, len, 1));
	ASSERT_EQ(self->vm_pin + pin_kb(PARK_PAGES), proc_status_kb("VmPin"));

	/* With memory, an unpin lets go of all it uncovers. */
	ASSERT_EQ(0, tcmd_access_unpin(self->fd, self->access_fd, all));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, buf, mid_off, 0));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, buf + mid_off, 16 * PAGE_SZ,
				     1));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, buf + 2 * mid_off,
				     len - 2 * mid_off, 0));
	ASSERT_EQ(self->vm_pin + pin_kb(16), proc_status_kb("VmPin"));

	/* Park the middle; the object's release lets it go. */
	ASSERT_EQ(0, fail_nth_arm(self->fd, 1, MOCK_FAULT_ALLOC));
	ASSERT_EQ(0, tcmd_access_unpin(self->fd, self->access_fd, mid));
	ASSERT_EQ(0, fail_nth_disarm(self->fd, &fired));
	ASSERT_EQ(1, fired);
	ASSERT_EQ(self->vm_pin + pin_kb(16), proc_status_kb("VmPin"));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, BASE_IOVA, len,
				&unmapped));
	ASSERT_EQ(len, unmapped);
	ASSERT_EQ(0, tcmd_check_refs(self->fd, buf, len, 0));
	ASSERT_EQ(self->vm_pin, proc_status_kb("VmPin"));
	munmap(buf, len);
}

TEST_F(pin, copy_shares_the_pin_of_each_page_between_ioases)
{
	__u64 dst_iova = BASE_IOVA * 2;
	__u32 dst, a, b;
	int dst_access;

	ASSERT_EQ(0, ioas_alloc(self->fd, &dst));
	ASSERT_EQ(0, tcmd_access_create(self->fd, dst, PIN_ACCESS,
					&dst_access));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(0, ioas_copy(self->fd, dst, &dst_iova, self->ioas_id,
			       BASE_IOVA, BUF_SIZE, FIXED_RW));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     BUF_SIZE, self->buf, 0, &a));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, dst_access, dst_iova,
				     BUF_SIZE, self->buf, 0, &b));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 1));
	ASSERT_EQ(self->vm_pin + kb_of(BUF_SIZE), proc_status_kb("VmPin"));
	/* The copy keeps the pages pinned after the source goes. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, BASE_IOVA, BUF_SIZE,
				NULL));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 1));
	ASSERT_EQ(0, tcmd_access_unpin(self->fd, dst_access, b));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(self->vm_pin, proc_status_kb("VmPin"));
	ASSERT_EQ(0, close(dst_access));
}

TEST_F(pin, separate_maps_of_the_same_memory_pin_it_separately)
{
	__u32 a, b;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA * 2));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     BUF_SIZE, self->buf, 0, &a));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd,
				     BASE_IOVA * 2, BUF_SIZE, self->buf, 0,
				     &b));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 2));
	ASSERT_EQ(self->vm_pin + 2 * kb_of(BUF_SIZE),
		  proc_status_kb("VmPin"));
	ASSERT_EQ(0, tcmd_access_unpin(self->fd, self->access_fd, a));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 1));
	ASSERT_EQ(0, tcmd_access_unpin(self->fd, self->access_fd, b));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
}

TEST_F(pin, pinning_access_raises_the_iova_alignment_to_a_page)
{
	ASSERT_EQ(PAGE_SZ, ioas_alignment(self->fd, self->ioas_id));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  PAGE_SZ, BASE_IOVA + 16));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  PAGE_SZ + 1, BASE_IOVA));
	/* The alignment falls back once the access is gone. */
	ASSERT_EQ(0, close(self->access_fd));
	self->access_fd = -1;
	ASSERT_EQ(1, ioas_alignment(self->fd, self->ioas_id));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    PAGE_SZ, BASE_IOVA + 16));
}

TEST_F(pin, huge_pages_on_keeps_the_page_alignment_a_pinning_access_needs)
{
	ASSERT_EQ(0, huge_pages_set(self->fd, self->ioas_id, 0));
	ASSERT_EQ(PAGE_SZ, ioas_alignment(self->fd, self->ioas_id));
	ASSERT_EQ(0, huge_pages_set(self->fd, self->ioas_id, 1));
	ASSERT_EQ(PAGE_SZ, ioas_alignment(self->fd, self->ioas_id));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  PAGE_SZ, BASE_IOVA + 16));
}

TEST_F(pin, pinning_access_on_an_ioas_with_unaligned_areas_fails_eaddrinuse)
{
	int access_fd;
	__u32 id;

	ASSERT_EQ(0, ioas_alloc(self->fd, &id));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, id, self->buf, PAGE_SZ,
				    BASE_IOVA + 16));
	ASSERT_EQ(-EADDRINUSE, tcmd_access_create(self->fd, id, PIN_ACCESS,
						  &access_fd));
	ASSERT_EQ(1, ioas_alignment(self->fd, id));
	/* Nothing holds the IOAS after the failed create. */
	ASSERT_EQ(0, iommufd_destroy(self->fd, id));
}

TEST_F(pin, replace_ioas_moves_the_access_and_drops_its_pins)
{
	__u32 other, item;

	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, other, self->buf, BUF_SIZE,
				    BASE_IOVA * 2));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     BUF_SIZE, self->buf, 0, &item));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 1));
	ASSERT_EQ(0, tcmd_access_replace_ioas(self->fd, self->access_fd,
					      other));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(-ENOENT, tcmd_access_unpin(self->fd, self->access_fd,
					     item));
	/* The access now works on the new IOAS only. */
	ASSERT_EQ(-ENOENT, tcmd_access_pin(self->fd, self->access_fd,
					   BASE_IOVA, PAGE_SZ, NULL, 0, NULL));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd,
				     BASE_IOVA * 2, PAGE_SZ, self->buf, 0,
				     &item));
	ASSERT_EQ(PAGE_SZ, ioas_alignment(self->fd, other));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, other));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->ioas_id));
	ASSERT_EQ(0, tcmd_access_unpin(self->fd, self->access_fd, item));
}

TEST_F(pin, replace_ioas_with_a_missing_id_fails_enoent_and_keeps_the_old)
{
	__u32 item;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     BUF_SIZE, self->buf, 0, &item));
	ASSERT_EQ(-ENOENT, tcmd_access_replace_ioas(self->fd, self->access_fd,
						    self->ioas_id + 100));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 1));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->ioas_id));
	ASSERT_EQ(0, tcmd_access_unpin(self->fd, self->access_fd, item));
}

TEST_F(pin, closing_the_access_releases_its_pins)
{
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     BUF_SIZE, self->buf, 0, NULL));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     PAGE_SZ, self->buf, 0, NULL));
	ASSERT_EQ(0, close(self->access_fd));
	self->access_fd = -1;
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(self->vm_pin, proc_status_kb("VmPin"));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->ioas_id));
}

TEST_F(pin, closing_the_context_first_keeps_pins_until_the_access_closes)
{
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     BUF_SIZE, self->buf, 0, NULL));
	ASSERT_EQ(0, close(self->fd));
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 1));
	ASSERT_EQ(0, close(self->access_fd));
	self->access_fd = -1;
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(self->vm_pin, proc_status_kb("VmPin"));
}

TEST_F(pin, pin_after_fork_takes_the_parents_pages)
{
	unsigned char *buf = self->buf;
	unsigned char *seen;
	int go[2], status;
	__u32 item;
	pid_t pid;

	seen = malloc(BUF_SIZE);
	ASSERT_NE(NULL, seen);
	memset(buf, 0x11, BUF_SIZE);
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, buf, BUF_SIZE,
				    BASE_IOVA));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char c;
		size_t i;

		/* The child touches nothing until the parent is done. */
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		for (i = 0; i < BUF_SIZE; i++)
			if (buf[i] != 0x11)
				_exit(1);
		_exit(0);
	}
	close(go[0]);
	/* The pages pinned are the parent's own (checked against buf). */
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     BUF_SIZE, buf, MOCK_FLAGS_ACCESS_WRITE,
				     &item));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, buf, BUF_SIZE, 1));
	memset(seen, 0x22, BUF_SIZE);
	ASSERT_EQ(0, tcmd_access_rw(self->fd, self->access_fd, BASE_IOVA,
				    seen, BUF_SIZE, MOCK_ACCESS_RW_WRITE));
	ASSERT_EQ(0x22, buf[0]);
	ASSERT_EQ(0x22, buf[BUF_SIZE - 1]);
	ASSERT_EQ(0, tcmd_access_unpin(self->fd, self->access_fd, item));
	ASSERT_EQ(1, write(go[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	free(seen);
}

TEST_F(pin, pin_of_munmapped_memory_fails_efault_and_pins_nothing)
{
	char *gone;

	gone = buf_alloc_written(4 * PAGE_SZ, 4);
	ASSERT_NE(NULL, gone);
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, gone,
				    4 * PAGE_SZ, BASE_IOVA));
	ASSERT_EQ(0, munmap(gone, 4 * PAGE_SZ));
	ASSERT_EQ(-EFAULT, tcmd_access_pin(self->fd, self->access_fd,
					   BASE_IOVA, 4 * PAGE_SZ, NULL, 0,
					   NULL));
	ASSERT_EQ(self->vm_pin, proc_status_kb("VmPin"));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, BASE_IOVA,
				4 * PAGE_SZ, NULL));
}

TEST_F(pin, pin_of_memory_mapped_by_an_exited_child_fails_efault)
{
	unsigned char tmp[16];
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(-ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				      BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* The memory belonged to a process that no longer exists. */
	ASSERT_EQ(-EFAULT, tcmd_access_pin(self->fd, self->access_fd,
					   BASE_IOVA, PAGE_SZ, NULL, 0, NULL));
	ASSERT_EQ(-EFAULT, tcmd_access_rw(self->fd, self->access_fd,
					  BASE_IOVA, tmp, sizeof(tmp), 0));
	ASSERT_EQ(self->vm_pin, proc_status_kb("VmPin"));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, BASE_IOVA, BUF_SIZE,
				NULL));
}

/* ---------------------------------------------------------------------- */
/* ACCESS_RW: CPU reads and writes through IOVAs. */

#define RW_PAGES 4
#define RW_SIZE (RW_PAGES * PAGE_SZ)

/* Test-op checks in upstream's order: size, flags, the access fd. */
TEST_F(pin, access_pin_checks_size_then_flags_then_the_access)
{
	int plain_fd;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(-ENOMEM, tcmd_access_pin(self->fd, self->access_fd,
					   BASE_IOVA, 16 * 1024 * 1024 + 1,
					   NULL, 1U << 1, NULL));
	ASSERT_EQ(-EOPNOTSUPP, tcmd_access_pin(self->fd, -1, BASE_IOVA, 0,
					       NULL, 1U << 1, NULL));
	/* Not an access fd, or none at all: EBADFD, as upstream. */
	ASSERT_EQ(-EBADFD, tcmd_access_pin(self->fd, -1, BASE_IOVA, 0, NULL,
					   0, NULL));
	ASSERT_EQ(-EBADFD, tcmd_access_pin(self->fd, self->fd, BASE_IOVA,
					   PAGE_SZ, NULL, 0, NULL));
	ASSERT_EQ(-EBADFD, tcmd_access_unpin(self->fd, self->fd, 0));
	ASSERT_EQ(-EBADFD, tcmd_access_rw(self->fd, self->fd, BASE_IOVA,
					  self->buf, 8, 0));
	ASSERT_EQ(-EBADFD, tcmd_access_replace_ioas(self->fd, self->fd,
						    self->ioas_id));
	/* An access that does not pin is refused before the range. */
	ASSERT_EQ(0, tcmd_access_create(self->fd, self->ioas_id, 0,
					&plain_fd));
	ASSERT_EQ(-EOPNOTSUPP, tcmd_access_pin(self->fd, plain_fd, BASE_IOVA,
					       0, NULL, 0, NULL));
	/* Then the range: the pin's errors. */
	ASSERT_EQ(-EINVAL, tcmd_access_pin(self->fd, self->access_fd,
					   BASE_IOVA, 0, NULL, 0, NULL));
	ASSERT_EQ(-EOVERFLOW, tcmd_access_pin(self->fd, self->access_fd,
					      UINT64_MAX - PAGE_SZ + 1,
					      2 * PAGE_SZ, NULL, 0, NULL));
	ASSERT_EQ(-ENOMEM, tcmd_access_rw(self->fd, plain_fd, BASE_IOVA,
					  self->buf, 16 * 1024 * 1024 + 1,
					  1U << 1));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(0, close(plain_fd));
}

FIXTURE(rw)
{
	int fd;
	__u32 ioas_id;
	int access_fd;
	/* Two buffers mapped back to back: [iova, +RW_SIZE) then the next. */
	unsigned char *lo, *hi;
	__u64 iova;
	long vm_pin;
};

FIXTURE_VARIANT(rw)
{
	__u32 rw_flags;
	/* IOVA of the first area's first byte, relative to BASE_IOVA. */
	__u64 iova_offset;
};

FIXTURE_VARIANT_ADD(rw, fast_path)
{
	.rw_flags = 0,
	.iova_offset = 0,
};

FIXTURE_VARIANT_ADD(rw, slow_path)
{
	.rw_flags = MOCK_ACCESS_RW_SLOW_PATH,
	.iova_offset = 0,
};

FIXTURE_VARIANT_ADD(rw, fast_path_odd_iova)
{
	.rw_flags = 0,
	.iova_offset = 0x123,
};

FIXTURE_VARIANT_ADD(rw, slow_path_odd_iova)
{
	.rw_flags = MOCK_ACCESS_RW_SLOW_PATH,
	.iova_offset = 0x123,
};

FIXTURE_SETUP(rw)
{
	self->access_fd = -1;
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	ASSERT_EQ(0, tcmd_access_create(self->fd, self->ioas_id, 0,
					&self->access_fd));
	self->lo = buf_alloc_written(RW_SIZE, 5);
	self->hi = buf_alloc_written(RW_SIZE, 6);
	ASSERT_NE(NULL, self->lo);
	ASSERT_NE(NULL, self->hi);
	self->iova = BASE_IOVA + variant->iova_offset;
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->lo,
				    RW_SIZE, self->iova));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->hi,
				    RW_SIZE, self->iova + RW_SIZE));
	self->vm_pin = proc_status_kb("VmPin");
	ASSERT_LE(0, self->vm_pin);
}

FIXTURE_TEARDOWN(rw)
{
	if (self->access_fd >= 0)
		close(self->access_fd);
	close(self->fd);
	/* Reads and writes pin only while they copy. */
	EXPECT_EQ(self->vm_pin, proc_status_kb("VmPin"));
	if (self->lo)
		munmap(self->lo, RW_SIZE);
	if (self->hi)
		munmap(self->hi, RW_SIZE);
}

/* The byte of @lo, @hi that the IOVA @off bytes into the two areas maps. */
static unsigned char *rw_byte(unsigned char *lo, unsigned char *hi,
			      __u64 off)
{
	return off < RW_SIZE ? lo + off : hi + off - RW_SIZE;
}

TEST_F(rw, read_of_unaligned_slices_returns_the_mapped_bytes)
{
	unsigned char tmp[80];
	__u64 off, len, i;

	for (off = PAGE_SZ - 40; off < PAGE_SZ + 40; off++) {
		for (len = 1; len <= sizeof(tmp); len++) {
			memset(tmp, 0, sizeof(tmp));
			ASSERT_EQ(0, tcmd_access_rw(self->fd, self->access_fd,
						    self->iova + off, tmp, len,
						    variant->rw_flags));
			ASSERT_EQ(0, memcmp(self->lo + off, tmp, len));
			for (i = len; i < sizeof(tmp); i++)
				ASSERT_EQ(0, tmp[i]);
		}
	}
}

TEST_F(rw, write_of_unaligned_slices_lands_in_the_mapped_memory)
{
	unsigned char tmp[80];
	__u64 off, len;

	for (off = 2 * PAGE_SZ - 40; off < 2 * PAGE_SZ + 40; off += 3) {
		for (len = 1; len <= sizeof(tmp); len++) {
			unsigned char after = self->lo[off + len];

			fill_random(tmp, len);
			ASSERT_EQ(0, tcmd_access_rw(self->fd, self->access_fd,
						    self->iova + off, tmp, len,
						    variant->rw_flags |
						    MOCK_ACCESS_RW_WRITE));
			ASSERT_EQ(0, memcmp(self->lo + off, tmp, len));
			ASSERT_EQ(after, self->lo[off + len]);
		}
	}
}

TEST_F(rw, read_and_write_cross_from_one_area_into_the_next)
{
	unsigned char tmp[512], back[512];
	__u64 off = RW_SIZE - 200;
	unsigned int i;

	ASSERT_EQ(0, tcmd_access_rw(self->fd, self->access_fd,
				    self->iova + off, tmp, sizeof(tmp),
				    variant->rw_flags));
	for (i = 0; i < sizeof(tmp); i++)
		ASSERT_EQ(*rw_byte(self->lo, self->hi, off + i), tmp[i]);
	fill_random(tmp, sizeof(tmp));
	ASSERT_EQ(0, tcmd_access_rw(self->fd, self->access_fd,
				    self->iova + off, tmp, sizeof(tmp),
				    variant->rw_flags | MOCK_ACCESS_RW_WRITE));
	for (i = 0; i < sizeof(tmp); i++)
		ASSERT_EQ(tmp[i], *rw_byte(self->lo, self->hi, off + i));
	ASSERT_EQ(0, tcmd_access_rw(self->fd, self->access_fd,
				    self->iova + off, back, sizeof(back),
				    variant->rw_flags));
	ASSERT_EQ(0, memcmp(tmp, back, sizeof(tmp)));
}

TEST_F(rw, read_of_both_whole_areas_returns_both_buffers)
{
	unsigned char *tmp = malloc(2 * RW_SIZE);

	ASSERT_NE(NULL, tmp);
	ASSERT_EQ(0, tcmd_access_rw(self->fd, self->access_fd, self->iova,
				    tmp, 2 * RW_SIZE, variant->rw_flags));
	ASSERT_EQ(0, memcmp(self->lo, tmp, RW_SIZE));
	ASSERT_EQ(0, memcmp(self->hi, tmp + RW_SIZE, RW_SIZE));
	free(tmp);
}

TEST_F(rw, write_to_a_read_only_mapping_fails_eperm)
{
	__u64 iova = self->iova + 64 * PAGE_SZ;
	unsigned char tmp[64], before[64], *ro;

	ro = buf_alloc_written(PAGE_SZ, 7);
	ASSERT_NE(NULL, ro);
	ASSERT_EQ(0, ioas_map_flags(self->fd, self->ioas_id, ro, PAGE_SZ,
				    &iova,
				    IOMMU_IOAS_MAP_FIXED_IOVA |
				    IOMMU_IOAS_MAP_READABLE));
	memcpy(before, ro + 1, sizeof(before));
	memset(tmp, 0x5a, sizeof(tmp));
	ASSERT_EQ(-EPERM, tcmd_access_rw(self->fd, self->access_fd, iova + 1,
					 tmp, sizeof(tmp),
					 variant->rw_flags |
					 MOCK_ACCESS_RW_WRITE));
	ASSERT_EQ(0, memcmp(before, ro + 1, sizeof(before)));
	ASSERT_EQ(0, tcmd_access_rw(self->fd, self->access_fd, iova + 1, tmp,
				    sizeof(tmp), variant->rw_flags));
	ASSERT_EQ(0, memcmp(ro + 1, tmp, sizeof(tmp)));
	munmap(ro, PAGE_SZ);
}

TEST_F(rw, read_of_a_write_only_mapping_fails_eperm)
{
	__u64 iova = self->iova + 64 * PAGE_SZ;
	unsigned char tmp[64], *wo;

	wo = buf_alloc_written(PAGE_SZ, 8);
	ASSERT_NE(NULL, wo);
	ASSERT_EQ(0, ioas_map_flags(self->fd, self->ioas_id, wo, PAGE_SZ,
				    &iova,
				    IOMMU_IOAS_MAP_FIXED_IOVA |
				    IOMMU_IOAS_MAP_WRITEABLE));
	ASSERT_EQ(-EPERM, tcmd_access_rw(self->fd, self->access_fd, iova, tmp,
					 sizeof(tmp), variant->rw_flags));
	fill_random(tmp, sizeof(tmp));
	ASSERT_EQ(0, tcmd_access_rw(self->fd, self->access_fd, iova, tmp,
				    sizeof(tmp),
				    variant->rw_flags | MOCK_ACCESS_RW_WRITE));
	ASSERT_EQ(0, memcmp(wo, tmp, sizeof(tmp)));
	munmap(wo, PAGE_SZ);
}

TEST_F(rw, access_of_unmapped_iova_fails_enoent)
{
	unsigned char tmp[64];

	ASSERT_EQ(-ENOENT, tcmd_access_rw(self->fd, self->access_fd,
					  self->iova - 1, tmp, 2,
					  variant->rw_flags));
	ASSERT_EQ(-ENOENT, tcmd_access_rw(self->fd, self->access_fd,
					  self->iova + 2 * RW_SIZE - 1, tmp, 2,
					  variant->rw_flags));
	ASSERT_EQ(-ENOENT, tcmd_access_rw(self->fd, self->access_fd,
					  BASE_IOVA * 4, tmp, sizeof(tmp),
					  variant->rw_flags |
					  MOCK_ACCESS_RW_WRITE));
	/* Across a hole left by an unmap. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, self->iova + RW_SIZE,
				RW_SIZE, NULL));
	ASSERT_EQ(-ENOENT, tcmd_access_rw(self->fd, self->access_fd,
					  self->iova + RW_SIZE - 8, tmp, 16,
					  variant->rw_flags));
}

TEST_F(rw, access_of_zero_length_fails_einval)
{
	unsigned char tmp[1];

	ASSERT_EQ(-EINVAL, tcmd_access_rw(self->fd, self->access_fd,
					  self->iova, tmp, 0,
					  variant->rw_flags));
}

TEST_F(rw, access_with_unknown_flags_fails_eopnotsupp)
{
	unsigned char tmp[8];

	ASSERT_EQ(-EOPNOTSUPP, tcmd_access_rw(self->fd, self->access_fd,
					      self->iova, tmp, sizeof(tmp),
					      variant->rw_flags | 1U << 1));
}

TEST_F(rw, read_of_memory_mapped_by_a_live_child_sees_the_childs_bytes)
{
	__u64 iova = self->iova + 64 * PAGE_SZ;
	unsigned char tmp[RW_SIZE];
	int ready[2], done[2], status;
	pid_t pid;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char c = 0;

		/* The child's copy of lo differs from the parent's. */
		memset(self->lo, 0x77, RW_SIZE);
		if (ioas_map_fixed(self->fd, self->ioas_id, self->lo, RW_SIZE,
				   iova))
			_exit(1);
		if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], tmp, 1));
	ASSERT_EQ(0, tcmd_access_rw(self->fd, self->access_fd, iova, tmp,
				    sizeof(tmp), variant->rw_flags));
	ASSERT_EQ(0x77, tmp[0]);
	ASSERT_EQ(0x77, tmp[RW_SIZE - 1]);
	ASSERT_NE(0, memcmp(self->lo, tmp, RW_SIZE));
	ASSERT_EQ(1, write(done[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

TEST_F(rw, copy_of_any_byte_range_maps_the_same_bytes)
{
	static const __u64 lengths[] = {
		1, 7, 511, PAGE_SZ, PAGE_SZ + 1, 3 * PAGE_SZ - 5,
	};
	unsigned char *want = malloc(2 * RW_SIZE);
	unsigned char *got = malloc(2 * RW_SIZE);
	__u64 off, dst_iova = 0, len;
	unsigned int i;
	int dst_access;
	__u32 dst;

	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, got);
	memcpy(want, self->lo, RW_SIZE);
	memcpy(want + RW_SIZE, self->hi, RW_SIZE);
	ASSERT_EQ(0, ioas_alloc(self->fd, &dst));
	ASSERT_EQ(0, tcmd_access_create(self->fd, dst, 0, &dst_access));
	for (off = 0; off < 2 * RW_SIZE + 600; off += 509) {
		for (i = 0; i < ARRAY_SIZE(lengths); i++) {
			__u64 n = lengths[i];

			if (off + n > 2 * RW_SIZE) {
				ASSERT_EQ(-ENOENT,
					  ioas_copy(self->fd, dst, &dst_iova,
						    self->ioas_id,
						    self->iova + off, n, RW));
				continue;
			}
			ASSERT_EQ(0, ioas_copy(self->fd, dst, &dst_iova,
					       self->ioas_id, self->iova + off,
					       n, RW));
			ASSERT_EQ(0, tcmd_access_rw(self->fd, dst_access,
						    dst_iova, got, n,
						    variant->rw_flags));
			ASSERT_EQ(0, memcmp(want + off, got, n))
				TH_LOG("offset %llu length %llu",
				       (unsigned long long)off,
				       (unsigned long long)n);
			ASSERT_EQ(0, ioas_unmap(self->fd, dst, dst_iova, n,
						&len));
			ASSERT_EQ(n, len);
		}
	}
	ASSERT_EQ(0, close(dst_access));
	free(want);
	free(got);
}

/* ---------------------------------------------------------------------- */
/* Accounting against RLIMIT_MEMLOCK, without the CAP_IPC_LOCK exemption. */

FIXTURE(acct)
{
	int fd;
	__u32 ioas_id;
	int access_fd;
	void *buf;
	long vm_pin;
	long vm_lck;
};

FIXTURE_VARIANT(acct)
{
	/* IOMMU_OPTION_RLIMIT_MODE: 0 charges the user, 1 the process. */
	__u64 rlimit_mode;
};

FIXTURE_VARIANT_ADD(acct, per_user)
{
	.rlimit_mode = 0,
};

FIXTURE_VARIANT_ADD(acct, per_process)
{
	.rlimit_mode = 1,
};

FIXTURE_SETUP(acct)
{
	self->access_fd = -1;
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, rlimit_mode_set(self->fd, variant->rlimit_mode));
	/*
	 * Root's CAP_IPC_LOCK exempts it from the charge; this test's
	 * process is the harness's own child, so dropping it is local.
	 */
	ASSERT_EQ(0, cap_drop(CAP_IPC_LOCK));
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	ASSERT_EQ(0, tcmd_access_create(self->fd, self->ioas_id, PIN_ACCESS,
					&self->access_fd));
	self->buf = buf_alloc_written(BUF_SIZE, 9);
	ASSERT_NE(NULL, self->buf);
	self->vm_pin = proc_status_kb("VmPin");
	self->vm_lck = proc_status_kb("VmLck");
	ASSERT_LE(0, self->vm_pin);
	ASSERT_LE(0, self->vm_lck);
}

FIXTURE_TEARDOWN(acct)
{
	if (self->access_fd >= 0)
		close(self->access_fd);
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(self->vm_pin, proc_status_kb("VmPin"));
	EXPECT_EQ(self->vm_lck, proc_status_kb("VmLck"));
	if (self->buf)
		munmap(self->buf, BUF_SIZE);
}

/* What VmLck reads with @bytes pinned: only per-process mode charges it. */
static long vm_lck_with(long start, __u64 rlimit_mode, __u64 bytes)
{
	return start + (rlimit_mode ? kb_of(bytes) : 0);
}

static int memlock_limit(__u64 bytes)
{
	struct rlimit rl = { .rlim_cur = bytes, .rlim_max = bytes };

	return setrlimit(RLIMIT_MEMLOCK, &rl) ? -errno : 0;
}

TEST_F(acct, pin_charges_the_pages_and_unpin_refunds_them)
{
	__u32 item;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	/* Mapping alone charges nothing. */
	ASSERT_EQ(self->vm_pin, proc_status_kb("VmPin"));
	ASSERT_EQ(self->vm_lck, proc_status_kb("VmLck"));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     BUF_SIZE, self->buf, 0, &item));
	ASSERT_EQ(self->vm_pin + kb_of(BUF_SIZE), proc_status_kb("VmPin"));
	ASSERT_EQ(vm_lck_with(self->vm_lck, variant->rlimit_mode, BUF_SIZE),
		  proc_status_kb("VmLck"));
	ASSERT_EQ(0, tcmd_access_unpin(self->fd, self->access_fd, item));
	ASSERT_EQ(self->vm_pin, proc_status_kb("VmPin"));
	ASSERT_EQ(self->vm_lck, proc_status_kb("VmLck"));
}

TEST_F(acct, pin_beyond_the_memlock_limit_fails_enomem_and_pins_nothing)
{
	__u32 item;

	ASSERT_EQ(0, memlock_limit(self->vm_lck * 1024 + 8 * PAGE_SZ));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(-ENOMEM, tcmd_access_pin(self->fd, self->access_fd,
					   BASE_IOVA, BUF_SIZE, self->buf, 0,
					   NULL));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(self->vm_pin, proc_status_kb("VmPin"));
	ASSERT_EQ(self->vm_lck, proc_status_kb("VmLck"));
	/* Within the limit it works. */
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     4 * PAGE_SZ, self->buf, 0, &item));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, 4 * PAGE_SZ, 1));
	ASSERT_EQ(vm_lck_with(self->vm_lck, variant->rlimit_mode, 4 * PAGE_SZ),
		  proc_status_kb("VmLck"));
	ASSERT_EQ(0, tcmd_access_unpin(self->fd, self->access_fd, item));
}

TEST_F(acct, repeated_pin_and_unpin_never_exhausts_the_limit)
{
	__u32 item;
	int i;

	ASSERT_EQ(0, memlock_limit(self->vm_lck * 1024 + 8 * PAGE_SZ));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	for (i = 0; i < 64; i++) {
		__u64 off = (i % 8) * PAGE_SZ;

		ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd,
					     BASE_IOVA + off, 8 * PAGE_SZ,
					     (char *)self->buf + off, 0,
					     &item));
		ASSERT_EQ(0, tcmd_access_unpin(self->fd, self->access_fd,
					       item));
	}
	/* Unmapping a pinned area refunds it too. */
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd,
					     BASE_IOVA, 8 * PAGE_SZ, self->buf,
					     0, NULL));
		ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, BASE_IOVA,
					BUF_SIZE, NULL));
		ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
					    self->buf, BUF_SIZE, BASE_IOVA));
	}
	ASSERT_EQ(self->vm_pin, proc_status_kb("VmPin"));
	ASSERT_EQ(self->vm_lck, proc_status_kb("VmLck"));
}

TEST_F(acct, pages_shared_by_copy_are_charged_once)
{
	__u64 dst_iova = BASE_IOVA * 2;
	int dst_access;
	__u32 dst;

	ASSERT_EQ(0, ioas_alloc(self->fd, &dst));
	ASSERT_EQ(0, tcmd_access_create(self->fd, dst, PIN_ACCESS,
					&dst_access));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(0, ioas_copy(self->fd, dst, &dst_iova, self->ioas_id,
			       BASE_IOVA, BUF_SIZE, FIXED_RW));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     BUF_SIZE, self->buf, 0, NULL));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, dst_access, dst_iova,
				     BUF_SIZE, self->buf, 0, NULL));
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, BUF_SIZE, 1));
	ASSERT_EQ(self->vm_pin + kb_of(BUF_SIZE), proc_status_kb("VmPin"));
	ASSERT_EQ(vm_lck_with(self->vm_lck, variant->rlimit_mode, BUF_SIZE),
		  proc_status_kb("VmLck"));
	ASSERT_EQ(0, close(dst_access));
	ASSERT_EQ(self->vm_pin + kb_of(BUF_SIZE), proc_status_kb("VmPin"));
}

TEST_F(acct, closing_the_context_refunds_everything)
{
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, BASE_IOVA));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, self->access_fd, BASE_IOVA,
				     BUF_SIZE, self->buf, 0, NULL));
	ASSERT_EQ(vm_lck_with(self->vm_lck, variant->rlimit_mode, BUF_SIZE),
		  proc_status_kb("VmLck"));
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	ASSERT_EQ(0, close(self->access_fd));
	self->access_fd = -1;
	ASSERT_EQ(self->vm_pin, proc_status_kb("VmPin"));
	ASSERT_EQ(self->vm_lck, proc_status_kb("VmLck"));
}

/*
 * Whether a task holds CAP_IPC_LOCK is checked per MAP but remembered per
 * credentials: a MAP after the task dropped the capability, on the same
 * context, must be charged, while pages mapped before stay exempt.
 */
TEST(cap_ipc_lock_is_checked_again_when_the_credentials_change)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
	const __u64 half = BUF_SIZE / 2;
	int fd = iommufd_open(), access_fd;
	long vm_lck;
	__u32 ioas_id, item;
	char *buf;

	ASSERT_LE(0, fd);
	if (!iommufd_is_test_build(fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, syscall(SYS_capget, &hdr, caps));
	if (!(caps[CAP_IPC_LOCK / 32].effective & (1U << (CAP_IPC_LOCK % 32))))
		SKIP(return, "needs CAP_IPC_LOCK");
	/* Per-process mode: the charge shows in VmLck. */
	ASSERT_EQ(0, rlimit_mode_set(fd, 1));
	ASSERT_EQ(0, ioas_alloc(fd, &ioas_id));
	ASSERT_EQ(0, tcmd_access_create(fd, ioas_id, PIN_ACCESS, &access_fd));
	buf = buf_alloc_written(BUF_SIZE, 3);
	ASSERT_NE(NULL, buf);
	vm_lck = proc_status_kb("VmLck");

	/* With the capability: pinning the first half charges nothing. */
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas_id, buf, half, BASE_IOVA));
	ASSERT_EQ(0, tcmd_access_pin(fd, access_fd, BASE_IOVA, half, buf, 0,
				     &item));
	ASSERT_EQ(vm_lck, proc_status_kb("VmLck"));
	ASSERT_EQ(0, tcmd_access_unpin(fd, access_fd, item));

	/* Without it, the next MAP on the same context is charged... */
	ASSERT_EQ(0, cap_drop(CAP_IPC_LOCK));
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas_id, buf + half, half,
				    BASE_IOVA + half));
	ASSERT_EQ(0, tcmd_access_pin(fd, access_fd, BASE_IOVA + half, half,
				     buf + half, 0, &item));
	ASSERT_EQ(vm_lck + kb_of(half), proc_status_kb("VmLck"));
	ASSERT_EQ(0, tcmd_access_unpin(fd, access_fd, item));
	ASSERT_EQ(vm_lck, proc_status_kb("VmLck"));

	/* ... while the memory mapped before stays exempt. */
	ASSERT_EQ(0, tcmd_access_pin(fd, access_fd, BASE_IOVA, half, buf, 0,
				     &item));
	ASSERT_EQ(vm_lck, proc_status_kb("VmLck"));
	ASSERT_EQ(0, tcmd_access_unpin(fd, access_fd, item));

	close(access_fd);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(vm_lck, proc_status_kb("VmLck"));
	munmap(buf, BUF_SIZE);
}

TEST_HARNESS_MAIN
