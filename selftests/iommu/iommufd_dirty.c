// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty tracking of HW page tables (Documentation/dirty-tracking.rst):
 * IOMMU_HWPT_ALLOC_DIRTY_TRACKING, IOMMU_HW_CAP_DIRTY_TRACKING,
 * IOMMU_HWPT_SET_DIRTY_TRACKING and IOMMU_HWPT_GET_DIRTY_BITMAP on mock
 * domains, with IOMMU_TEST_OP_DIRTY standing in for the device's writes.
 *
 * Each test keeps a model of the mock's dirty IOPTEs (a 2 KiB IOPTE, or a
 * 1 MiB one in the huge variant, is dirty as a whole) and checks every
 * bitmap bit for bit against it, with a guard word after the bitmap that
 * must stay untouched: for page sizes from the IOPTE's to 2 MiB, unaligned
 * starts and lengths, NO_CLEAR against clearing, several areas. Then every
 * command's errors in upstream 6.12's order, faulting bitmaps, and every
 * fault point of a GET and of a dirty HWPT_ALLOC (fail-nth). VmPin is back
 * where it started after every test.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "iommufd_utils.h"

#define PAGE_SZ 4096UL
#define UNIT (PAGE_SZ / 2)		/* the mock's small IOPTE */
#define MOCK_HUGE_SZ (512 * UNIT)	/* its huge IOPTE */
#define SZ_1M 0x100000UL
#define SZ_2M 0x200000UL
#define BUF_SIZE (2 * SZ_2M)
#define NUNITS (BUF_SIZE / UNIT)
#define IOVA_BASE 0x10000000UL
#define GUARD 0x5a5a5a5a5a5a5a5aULL
#define RW (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)
#define NO_CLEAR IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR
#define DIRTY_FLAG IOMMU_HWPT_ALLOC_DIRTY_TRACKING
/* Bitmap words for the whole buffer at the smallest page size, + guard. */
#define BM_WORDS (NUNITS / 64 + 1)

static int set_dirty_flags(int fd, __u32 hwpt_id, __u32 flags)
{
	struct iommu_hwpt_set_dirty_tracking cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.hwpt_id = hwpt_id,
	};

	return iommufd_ioctl(fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &cmd);
}

static int set_dirty(int fd, __u32 hwpt_id, bool enable)
{
	return set_dirty_flags(fd, hwpt_id,
			       enable ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0);
}

static int get_dirty_cmd(int fd, struct iommu_hwpt_get_dirty_bitmap *cmd)
{
	cmd->size = sizeof(*cmd);
	return iommufd_ioctl(fd, IOMMU_HWPT_GET_DIRTY_BITMAP, cmd);
}

static int get_dirty(int fd, __u32 hwpt_id, __u64 iova, __u64 length,
		     __u64 page_size, void *data, __u32 flags)
{
	struct iommu_hwpt_get_dirty_bitmap cmd = {
		.hwpt_id = hwpt_id,
		.flags = flags,
		.iova = iova,
		.length = length,
		.page_size = page_size,
		.data = (__u64)(uintptr_t)data,
	};

	return get_dirty_cmd(fd, &cmd);
}

static int tcmd_dirty(int fd, __u32 hwpt_id, __u64 iova, __u64 length,
		      __u64 page_size, const void *bitmap, __u64 *nr)
{
	struct iommu_test_cmd cmd = {
		.dirty = {
			.iova = iova,
			.length = length,
			.page_size = page_size,
			.uptr = (__u64)(uintptr_t)bitmap,
		},
	};
	int rc;

	rc = tcmd(fd, IOMMU_TEST_OP_DIRTY, hwpt_id, &cmd);
	if (!rc && nr)
		*nr = cmd.dirty.out_nr_dirty;
	return rc;
}

static void bit_set(__u64 *bm, size_t i)
{
	bm[i / 64] |= 1ULL << (i % 64);
}

static bool bit_test(const __u64 *bm, size_t i)
{
	return bm[i / 64] >> (i % 64) & 1;
}

FIXTURE(dirty)
{
	int fd;
	__u32 ioas_id;
	__u32 stdev_id;		/* a device on the IOAS: automatic HWPT */
	__u32 idev_id;
	__u32 hwpt_id;		/* allocated with DIRTY_TRACKING, tracking */
	__u32 dstdev_id;	/* a device attached to it */
	char *buf;
	void *map;
	size_t map_len;
	long saved_nr_huge;
	long vm_pin0;
	size_t iopte;		/* the IOPTE size the mapping got */
	unsigned char unit[NUNITS];	/* model: 2 KiB units dirty */
	__u64 want[BM_WORDS + 1];
	__u64 got[BM_WORDS + 1];
};

FIXTURE_VARIANT(dirty)
{
	bool huge;	/* huge-IOVA devices over hugetlb: 1 MiB IOPTEs */
};

FIXTURE_VARIANT_ADD(dirty, small_ioptes)
{
	.huge = false,
};

FIXTURE_VARIANT_ADD(dirty, huge_ioptes)
{
	.huge = true,
};

#define dirty_data_t FIXTURE_DATA(dirty)

static const char *buf_setup(dirty_data_t *self, bool huge)
{
	void *p;

	self->map_len = BUF_SIZE;
	if (huge) {
		if (hugetlb_reserve(BUF_SIZE / SZ_2M, &self->saved_nr_huge))
			return "no 2 MiB hugetlb pages to be had";
		p = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	} else {
		p = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (p == MAP_FAILED)
		return "mmap failed";
	self->map = p;
	self->buf = p;
	memset(self->buf, 1, BUF_SIZE);
	return NULL;
}

FIXTURE_SETUP(dirty)
{
	__u32 dev_flags = variant->huge ? MOCK_FLAGS_DEVICE_HUGE_IOVA : 0;
	struct iommu_test_iopte_stats stats;
	const char *skip;

	self->saved_nr_huge = -1;
	self->vm_pin0 = proc_status_kb("VmPin");
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	skip = buf_setup(self, variant->huge);
	if (skip)
		SKIP(return, "%s", skip);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id, dev_flags,
					    &self->stdev_id, NULL,
					    &self->idev_id));
	ASSERT_EQ(0, hwpt_alloc_flags(self->fd, self->idev_id, self->ioas_id,
				      DIRTY_FLAG, &self->hwpt_id));
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->hwpt_id, dev_flags,
					    &self->dstdev_id, NULL, NULL));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, IOVA_BASE));
	ASSERT_EQ(0, set_dirty(self->fd, self->hwpt_id, true));
	ASSERT_EQ(0, tcmd_md_iopte_stats(self->fd, self->hwpt_id, IOVA_BASE,
					 BUF_SIZE, &stats));
	if (variant->huge) {
		if (stats.huge != BUF_SIZE / MOCK_HUGE_SZ)
			SKIP(return, "hugetlb memory got %llu huge IOPTEs",
			     (unsigned long long)stats.huge);
		self->iopte = MOCK_HUGE_SZ;
	} else {
		ASSERT_EQ(NUNITS, stats.small);
		self->iopte = UNIT;
	}
}

FIXTURE_TEARDOWN(dirty)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->map)
		munmap(self->map, self->map_len);
	hugetlb_restore(self->saved_nr_huge);
	EXPECT_EQ(self->vm_pin0, vm_pin_settled(self->vm_pin0));
}

/* Model: the device wrote [off, off + len) of the buffer's IOVA. */
static void model_mark(dirty_data_t *self, size_t off, size_t len)
{
	size_t first = off / self->iopte * self->iopte, u;

	for (u = first / UNIT; u * UNIT < off + len; u++)
		self->unit[u] = 1;
	/* A huge IOPTE is dirty as a whole. */
	for (u = (off + len - 1) / UNIT + 1;
	     u < NUNITS && u * UNIT % self->iopte; u++)
		self->unit[u] = 1;
}

/* Model: a clearing read of [off, off + len) cleans whole IOPTEs. */
static void model_clear(dirty_data_t *self, size_t off, size_t len)
{
	size_t first = off / self->iopte * self->iopte;
	size_t end = (off + len + self->iopte - 1) / self->iopte * self->iopte;
	size_t u;

	for (u = first / UNIT; u < end / UNIT && u < NUNITS; u++)
		self->unit[u] = 0;
}

/* The bitmap the model expects for [off, off + len) at @ps per bit. */
static size_t model_expect(dirty_data_t *self, size_t off, size_t len,
			   size_t ps)
{
	size_t i, u, nbits = len / ps, set = 0;

	memset(self->want, 0, sizeof(self->want));
	for (i = 0; i != nbits; i++) {
		size_t first = (off + i * ps) / UNIT;
		/* A page smaller than a unit: its unit decides. */
		size_t end = ps < UNIT ? first + 1 : (off + (i + 1) * ps) / UNIT;

		for (u = first; u < end; u++) {
			if (self->unit[u]) {
				bit_set(self->want, i);
				set++;
				break;
			}
		}
	}
	return set;
}

/* IOMMU_TEST_OP_DIRTY of [off, off + len), 2 KiB per bit, all set. */
static int mark(dirty_data_t *self, size_t off, size_t len)
{
	__u64 bm[NUNITS / 64] = {};
	__u64 nr = 0;
	size_t i;
	int rc;

	for (i = 0; i != len / UNIT; i++)
		bit_set(bm, i);
	rc = tcmd_dirty(self->fd, self->hwpt_id, IOVA_BASE + off, len, UNIT,
			bm, &nr);
	if (rc)
		return rc;
	if (nr != len / UNIT)
		return -EIO;
	model_mark(self, off, len);
	return 0;
}

/* Mark a pseudo-random ~1/8 of the 2 KiB units, in one OP_DIRTY. */
static int mark_random(dirty_data_t *self, unsigned int seed)
{
	__u64 bm[NUNITS / 64] = {};
	__u64 nr = 0, want = 0;
	size_t u;
	int rc;

	srand(seed);
	for (u = 0; u != NUNITS; u++) {
		if (rand() % 8)
			continue;
		bit_set(bm, u);
		want++;
	}
	rc = tcmd_dirty(self->fd, self->hwpt_id, IOVA_BASE, BUF_SIZE, UNIT, bm,
			&nr);
	if (rc)
		return rc;
	if (nr != want)
		return -EIO;
	for (u = 0; u != NUNITS; u++)
		if (bit_test(bm, u))
			model_mark(self, u * UNIT, UNIT);
	return 0;
}

/*
 * GET over [off, off + len) at @ps into a zeroed bitmap with a guard
 * word right after it; 0 if it matches the model bit for bit.
 */
static int check_read(struct __test_metadata *_metadata, dirty_data_t *self,
		      size_t off, size_t len, size_t ps, __u32 flags)
{
	size_t nwords = (len / ps + 63) / 64, i;
	int rc;

	model_expect(self, off, len, ps);
	memset(self->got, 0, sizeof(self->got));
	self->got[nwords] = GUARD;
	rc = get_dirty(self->fd, self->hwpt_id, IOVA_BASE + off, len, ps,
		       self->got, flags);
	if (rc) {
		TH_LOG("GET_DIRTY_BITMAP(+%#zx, %#zx, ps %#zx): %s", off, len,
		       ps, strerror(-rc));
		return rc;
	}
	if (self->got[nwords] != GUARD) {
		TH_LOG("GET_DIRTY_BITMAP wrote past the bitmap's end");
		return -1;
	}
	for (i = 0; i != nwords; i++) {
		if (self->got[i] != self->want[i]) {
			TH_LOG("+%#zx len %#zx ps %#zx word %zu: got %#llx want %#llx",
			       off, len, ps, i,
			       (unsigned long long)self->got[i],
			       (unsigned long long)self->want[i]);
			return -1;
		}
	}
	if (!(flags & NO_CLEAR))
		model_clear(self, off, len);
	return 0;
}

TEST_F(dirty, hw_info_reports_the_capability_per_device)
{
	struct iommu_hw_info cmd = { .size = sizeof(cmd) };
	__u32 nodirty_idev;

	cmd.dev_id = self->idev_id;
	ASSERT_EQ(0, iommufd_ioctl(self->fd, IOMMU_GET_HW_INFO, &cmd));
	EXPECT_EQ(IOMMU_HW_CAP_DIRTY_TRACKING, cmd.out_capabilities);
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    MOCK_FLAGS_DEVICE_NO_DIRTY |
					    (variant->huge ?
					     MOCK_FLAGS_DEVICE_HUGE_IOVA : 0),
					    NULL, NULL, &nodirty_idev));
	cmd.dev_id = nodirty_idev;
	cmd.data_len = 0;
	cmd.out_capabilities = ~0ULL;
	ASSERT_EQ(0, iommufd_ioctl(self->fd, IOMMU_GET_HW_INFO, &cmd));
	EXPECT_EQ(0, cmd.out_capabilities);
}

TEST_F(dirty, alloc_flag_refused_for_a_device_that_cannot_track)
{
	__u32 stdev, idev, hwpt = 0;

	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    MOCK_FLAGS_DEVICE_NO_DIRTY, &stdev,
					    NULL, &idev));
	EXPECT_EQ(-EOPNOTSUPP, hwpt_alloc_flags(self->fd, idev, self->ioas_id,
						DIRTY_FLAG, &hwpt));
	/* Without the flag the same device gets a HWPT that cannot track. */
	ASSERT_EQ(0, hwpt_alloc_flags(self->fd, idev, self->ioas_id, 0, &hwpt));
	EXPECT_EQ(-EOPNOTSUPP, set_dirty(self->fd, hwpt, true));
	EXPECT_EQ(-EOPNOTSUPP, get_dirty(self->fd, hwpt, IOVA_BASE, BUF_SIZE,
					 PAGE_SZ, self->got, 0));
	EXPECT_EQ(0, iommufd_destroy(self->fd, hwpt));
	EXPECT_EQ(0, iommufd_destroy(self->fd, stdev));
}

TEST_F(dirty, alloc_flags_in_upstreams_order)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.dev_id = self->idev_id,
		.pt_id = self->ioas_id,
	};

	cmd.flags = 1U << 7;
	EXPECT_EQ(-EOPNOTSUPP, iommufd_ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
	/*
	 * 6.12: a paging HWPT takes no fault queue, so FAULT_ID_VALID is
	 * refused with the flags, before the fault_id (0: none) is read.
	 */
	cmd.flags = DIRTY_FLAG | IOMMU_HWPT_FAULT_ID_VALID;
	EXPECT_EQ(-EOPNOTSUPP, iommufd_ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
	/* As upstream, the IDs are looked up before the flags. */
	cmd.flags = 1U << 7;
	cmd.dev_id = 0xdead;
	EXPECT_EQ(-ENOENT, iommufd_ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
	cmd.flags = DIRTY_FLAG;
	EXPECT_EQ(-ENOENT, iommufd_ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
	cmd.dev_id = self->idev_id;
	cmd.pt_id = 0xdead;
	EXPECT_EQ(-EINVAL, iommufd_ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
}

TEST_F(dirty, device_that_cannot_track_never_joins_a_tracking_domain)
{
	__u32 dev_flags = MOCK_FLAGS_DEVICE_NO_DIRTY |
			  (variant->huge ? MOCK_FLAGS_DEVICE_HUGE_IOVA : 0);
	__u32 stdev, hwpt, auto_hwpt;

	/* Onto the dirty HWPT: refused, whether tracking or not. */
	EXPECT_EQ(-EINVAL, tcmd_mock_domain_flags(self->fd, self->hwpt_id,
						  dev_flags, NULL, NULL, NULL));
	ASSERT_EQ(0, set_dirty(self->fd, self->hwpt_id, false));
	EXPECT_EQ(-EINVAL, tcmd_mock_domain_flags(self->fd, self->hwpt_id,
						  dev_flags, NULL, NULL, NULL));
	/* Onto the IOAS: its own automatic HWPT, not the tracking one. */
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id, dev_flags,
					    &stdev, &hwpt, NULL));
	EXPECT_NE(self->hwpt_id, hwpt);
	/* Replacing onto the dirty HWPT fails and leaves it where it was. */
	EXPECT_EQ(-EINVAL, tcmd_mock_domain_replace(self->fd, stdev,
						    self->hwpt_id, NULL));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, stdev, self->ioas_id,
					      &auto_hwpt));
	EXPECT_EQ(hwpt, auto_hwpt);
	EXPECT_EQ(0, iommufd_destroy(self->fd, stdev));
}

TEST_F(dirty, set_dirty_tracking_errors_in_upstreams_order)
{
	__u32 auto_hwpt;

	EXPECT_EQ(-EOPNOTSUPP, set_dirty_flags(self->fd, self->hwpt_id, 2));
	EXPECT_EQ(-EOPNOTSUPP, set_dirty_flags(self->fd, 0xdead, 2));
	EXPECT_EQ(-ENOENT, set_dirty(self->fd, 0xdead, true));
	EXPECT_EQ(-ENOENT, set_dirty(self->fd, self->ioas_id, true));
	EXPECT_EQ(-ENOENT, set_dirty(self->fd, self->stdev_id, true));
	/* An automatic HWPT was not allocated with the flag. */
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id,
					      self->ioas_id, &auto_hwpt));
	EXPECT_EQ(-EOPNOTSUPP, set_dirty(self->fd, auto_hwpt, true));
	EXPECT_EQ(-EOPNOTSUPP, set_dirty(self->fd, auto_hwpt, false));
	/* On and off are idempotent. */
	EXPECT_EQ(0, set_dirty(self->fd, self->hwpt_id, true));
	EXPECT_EQ(0, set_dirty(self->fd, self->hwpt_id, false));
	EXPECT_EQ(0, set_dirty(self->fd, self->hwpt_id, false));
}

TEST_F(dirty, get_dirty_bitmap_errors_in_upstreams_order)
{
	struct iommu_hwpt_get_dirty_bitmap cmd = {
		.hwpt_id = self->hwpt_id,
		.iova = IOVA_BASE,
		.length = BUF_SIZE,
		.page_size = PAGE_SZ,
		.data = (__u64)(uintptr_t)self->got,
	};
	struct iommu_hwpt_get_dirty_bitmap c;
	__u32 auto_hwpt;

	c = cmd;
	c.flags = 2;
	EXPECT_EQ(-EOPNOTSUPP, get_dirty_cmd(self->fd, &c));
	c = cmd;
	c.__reserved = 1;
	c.hwpt_id = 0xdead;
	EXPECT_EQ(-EOPNOTSUPP, get_dirty_cmd(self->fd, &c));
	c = cmd;
	c.hwpt_id = 0xdead;
	c.length = 0;
	EXPECT_EQ(-ENOENT, get_dirty_cmd(self->fd, &c));
	c.hwpt_id = self->ioas_id;
	EXPECT_EQ(-ENOENT, get_dirty_cmd(self->fd, &c));
	c = cmd;
	c.length = 0;
	c.page_size = 0;
	EXPECT_EQ(-EINVAL, get_dirty_cmd(self->fd, &c));
	c = cmd;
	c.iova = ~0ULL - PAGE_SZ + 1;
	c.page_size = 0;
	EXPECT_EQ(-EOVERFLOW, get_dirty_cmd(self->fd, &c));
	/* Unaligned to the IOAS's 2 KiB alignment before page_size 0. */
	c = cmd;
	c.iova = IOVA_BASE + 512;
	c.page_size = 0;
	EXPECT_EQ(-EINVAL, get_dirty_cmd(self->fd, &c));
	c = cmd;
	c.length = BUF_SIZE - 512;
	EXPECT_EQ(-EINVAL, get_dirty_cmd(self->fd, &c));
	c = cmd;
	c.page_size = 0;
	EXPECT_EQ(-EINVAL, get_dirty_cmd(self->fd, &c));
	/* Aligned to the IOAS, not to page_size. */
	c = cmd;
	c.iova = IOVA_BASE + UNIT;
	c.length = BUF_SIZE - UNIT;
	EXPECT_EQ(-EINVAL, get_dirty_cmd(self->fd, &c));
	c = cmd;
	c.length = BUF_SIZE - UNIT;
	EXPECT_EQ(-EINVAL, get_dirty_cmd(self->fd, &c));
	/* Ours: a page size that is not a power of two. */
	c = cmd;
	c.page_size = 3 * PAGE_SZ;
	c.iova = IOVA_BASE + 2 * PAGE_SZ;	/* a multiple of 12 KiB */
	c.length = 300 * PAGE_SZ;
	EXPECT_EQ(-EINVAL, get_dirty_cmd(self->fd, &c));
	/* Range checks come before the HWPT's capability. */
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id,
					      self->ioas_id, &auto_hwpt));
	c = cmd;
	c.hwpt_id = auto_hwpt;
	c.length = 0;
	EXPECT_EQ(-EINVAL, get_dirty_cmd(self->fd, &c));
	c.length = BUF_SIZE;
	EXPECT_EQ(-EOPNOTSUPP, get_dirty_cmd(self->fd, &c));
	/* Holes: before, after and inside the mapping. */
	c = cmd;
	c.iova = IOVA_BASE - SZ_2M;
	EXPECT_EQ(-EINVAL, get_dirty_cmd(self->fd, &c));
	c = cmd;
	c.length = BUF_SIZE + SZ_2M;
	EXPECT_EQ(-EINVAL, get_dirty_cmd(self->fd, &c));
	c = cmd;
	c.iova = 0x40000000UL;
	EXPECT_EQ(-EINVAL, get_dirty_cmd(self->fd, &c));
	/* Tracking off. */
	ASSERT_EQ(0, set_dirty(self->fd, self->hwpt_id, false));
	EXPECT_EQ(-EINVAL, get_dirty_cmd(self->fd, &cmd));
	/* Nothing was written anywhere. */
	EXPECT_EQ(0, self->got[0]);
}

TEST_F(dirty, test_op_dirty_errors)
{
	__u64 bm[4] = { ~0ULL };
	__u32 auto_hwpt;

	EXPECT_EQ(-EINVAL, tcmd_dirty(self->fd, self->hwpt_id, IOVA_BASE,
				      PAGE_SZ, 0, bm, NULL));
	EXPECT_EQ(-EINVAL, tcmd_dirty(self->fd, self->hwpt_id, IOVA_BASE, 0,
				      PAGE_SZ, bm, NULL));
	EXPECT_EQ(-EINVAL, tcmd_dirty(self->fd, self->hwpt_id, IOVA_BASE + 8,
				      PAGE_SZ, PAGE_SZ, bm, NULL));
	EXPECT_EQ(-EINVAL, tcmd_dirty(self->fd, self->hwpt_id, IOVA_BASE,
				      PAGE_SZ + 8, PAGE_SZ, bm, NULL));
	EXPECT_EQ(-EINVAL, tcmd_dirty(self->fd, self->hwpt_id, IOVA_BASE,
				      PAGE_SZ, PAGE_SZ, NULL, NULL));
	EXPECT_EQ(-EOVERFLOW, tcmd_dirty(self->fd, self->hwpt_id, 0,
					 (1ULL << 28) * UNIT, UNIT, bm, NULL));
	EXPECT_EQ(-ENOENT, tcmd_dirty(self->fd, self->ioas_id, IOVA_BASE,
				      PAGE_SZ, PAGE_SZ, bm, NULL));
	EXPECT_EQ(-EFAULT, tcmd_dirty(self->fd, self->hwpt_id, IOVA_BASE,
				      PAGE_SZ, PAGE_SZ, (void *)8, NULL));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id,
					      self->ioas_id, &auto_hwpt));
	EXPECT_EQ(-EINVAL, tcmd_dirty(self->fd, auto_hwpt, IOVA_BASE, PAGE_SZ,
				      PAGE_SZ, bm, NULL));
	ASSERT_EQ(0, set_dirty(self->fd, self->hwpt_id, false));
	EXPECT_EQ(-EINVAL, tcmd_dirty(self->fd, self->hwpt_id, IOVA_BASE,
				      PAGE_SZ, PAGE_SZ, bm, NULL));
}

/*
 * The op reads the bitmap a page at a time; a bitmap whose second page
 * cannot be read still marks nothing (EFAULT), though its first page,
 * all bits set, covers the whole mapping. Readable, it marks all of it.
 */
TEST_F(dirty, test_op_dirty_marks_nothing_for_a_bitmap_that_faults_late)
{
	__u64 len = 2 * PAGE_SZ * 8 * UNIT, nr = 0;
	unsigned char *bm;

	bm = mmap(NULL, 2 * PAGE_SZ, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bm);
	memset(bm, 0xff, PAGE_SZ);
	ASSERT_EQ(0, mprotect(bm + PAGE_SZ, PAGE_SZ, PROT_NONE));
	EXPECT_EQ(-EFAULT, tcmd_dirty(self->fd, self->hwpt_id, IOVA_BASE, len,
				      UNIT, bm, &nr));
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, UNIT, NO_CLEAR));

	ASSERT_EQ(0, mprotect(bm + PAGE_SZ, PAGE_SZ, PROT_READ));
	ASSERT_EQ(0, tcmd_dirty(self->fd, self->hwpt_id, IOVA_BASE, len, UNIT,
				bm, &nr));
	ASSERT_EQ(NUNITS, nr);
	model_mark(self, 0, BUF_SIZE);
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, UNIT, 0));
	munmap(bm, 2 * PAGE_SZ);
}

TEST_F(dirty, nothing_written_reads_all_clean)
{
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, PAGE_SZ, 0));
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, UNIT, 0));
}

TEST_F(dirty, bits_match_what_was_written_at_every_page_size)
{
	static const size_t sizes[] = {
		UNIT / 2, UNIT, PAGE_SZ, 2 * PAGE_SZ, 0x10000, SZ_1M, SZ_2M,
		BUF_SIZE,
	};
	size_t i;

	ASSERT_EQ(0, mark_random(self, 1));
	for (i = 0; i != ARRAY_SIZE(sizes); i++) {
		/* A bitmap of UNIT / 2 pages is twice BM_WORDS; skip it. */
		if (BUF_SIZE / sizes[i] > 64 * BM_WORDS - 64)
			continue;
		ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, sizes[i],
					NO_CLEAR));
	}
	/* Half-unit pages over the first half of the buffer. */
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE / 2, UNIT / 2,
				NO_CLEAR));
}

TEST_F(dirty, no_clear_keeps_the_bits_and_a_clearing_read_takes_them)
{
	ASSERT_EQ(0, mark_random(self, 2));
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, PAGE_SZ,
				NO_CLEAR));
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, PAGE_SZ,
				NO_CLEAR));
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, PAGE_SZ, 0));
	/* The model is all clean now: so must the domain be. */
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, PAGE_SZ, 0));
	EXPECT_EQ(0, model_expect(self, 0, BUF_SIZE, UNIT));
	/* Writes after the read show in the next. */
	ASSERT_EQ(0, mark(self, 3 * PAGE_SZ, PAGE_SZ));
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, PAGE_SZ, 0));
}

TEST_F(dirty, unaligned_starts_and_lengths)
{
	static const struct { size_t off, len; } r[] = {
		{ PAGE_SZ, PAGE_SZ },
		{ 3 * PAGE_SZ, 61 * PAGE_SZ },
		{ 63 * PAGE_SZ, 2 * PAGE_SZ },
		{ 67 * PAGE_SZ, 130 * PAGE_SZ },
		{ 5 * UNIT, 129 * UNIT },
		{ SZ_1M - PAGE_SZ, 2 * PAGE_SZ },
		{ SZ_2M + 7 * PAGE_SZ, SZ_1M + 9 * PAGE_SZ },
		{ BUF_SIZE - 65 * PAGE_SZ, 65 * PAGE_SZ },
	};
	size_t i;

	ASSERT_EQ(0, mark_random(self, 3));
	for (i = 0; i != ARRAY_SIZE(r); i++) {
		size_t ps = r[i].off % PAGE_SZ ? UNIT : PAGE_SZ;

		ASSERT_EQ(0, check_read(_metadata, self, r[i].off, r[i].len, ps,
					NO_CLEAR));
	}
	/* Clearing sub-ranges clears only whole IOPTEs under them. */
	for (i = 0; i != ARRAY_SIZE(r); i++) {
		size_t ps = r[i].off % PAGE_SZ ? UNIT : PAGE_SZ;

		ASSERT_EQ(0, check_read(_metadata, self, r[i].off, r[i].len, ps,
					0));
		ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, UNIT,
					NO_CLEAR));
	}
}

TEST_F(dirty, huge_iopte_reports_every_page_under_it)
{
	size_t set;

	if (!variant->huge)
		SKIP(return, "small IOPTEs only");
	/* One 2 KiB write in the second 1 MiB IOPTE. */
	ASSERT_EQ(0, mark(self, SZ_1M + 5 * UNIT, UNIT));
	set = model_expect(self, 0, BUF_SIZE, PAGE_SZ);
	EXPECT_EQ(SZ_1M / PAGE_SZ, set);
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, PAGE_SZ,
				NO_CLEAR));
	/* A read of one page of it reports that page, and clears it all. */
	ASSERT_EQ(0, check_read(_metadata, self, SZ_1M + 8 * PAGE_SZ, PAGE_SZ,
				PAGE_SZ, 0));
	EXPECT_EQ(1, self->got[0]);
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, PAGE_SZ, 0));
	EXPECT_EQ(0, model_expect(self, 0, BUF_SIZE, PAGE_SZ));
}

TEST_F(dirty, ranges_spanning_several_areas)
{
	static const size_t cut[] = { 0, SZ_1M, 3 * SZ_1M, BUF_SIZE };
	__u64 unmapped;
	size_t i;

	/* The same memory as three areas, back to back in IOVA. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE, BUF_SIZE,
				&unmapped));
	for (i = 0; i != 3; i++)
		ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id,
					    self->buf + cut[i],
					    cut[i + 1] - cut[i],
					    IOVA_BASE + cut[i]));
	ASSERT_EQ(0, mark_random(self, 4));
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, PAGE_SZ,
				NO_CLEAR));
	ASSERT_EQ(0, check_read(_metadata, self, SZ_1M - 3 * PAGE_SZ,
				2 * SZ_1M + 6 * PAGE_SZ, PAGE_SZ, 0));
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, PAGE_SZ, 0));
	/* A hole between two areas: EINVAL, nothing read or cleared. */
	ASSERT_EQ(0, mark_random(self, 5));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE + cut[1],
				cut[2] - cut[1], &unmapped));
	for (i = cut[1] / UNIT; i != cut[2] / UNIT; i++)
		self->unit[i] = 0;
	memset(self->got, 0, sizeof(self->got));
	EXPECT_EQ(-EINVAL, get_dirty(self->fd, self->hwpt_id, IOVA_BASE,
				     BUF_SIZE, PAGE_SZ, self->got, 0));
	EXPECT_EQ(0, self->got[0]);
	ASSERT_EQ(0, check_read(_metadata, self, 0, cut[1], PAGE_SZ, 0));
	ASSERT_EQ(0, check_read(_metadata, self, cut[2], BUF_SIZE - cut[2],
				PAGE_SZ, 0));
}

TEST_F(dirty, enabling_forgets_what_was_written_before)
{
	ASSERT_EQ(0, mark_random(self, 6));
	ASSERT_EQ(0, set_dirty(self->fd, self->hwpt_id, false));
	ASSERT_EQ(0, set_dirty(self->fd, self->hwpt_id, true));
	memset(self->unit, 0, sizeof(self->unit));
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, PAGE_SZ,
				NO_CLEAR));
	/* Enabling again while on clears too, as upstream. */
	ASSERT_EQ(0, mark_random(self, 7));
	ASSERT_EQ(0, set_dirty(self->fd, self->hwpt_id, true));
	memset(self->unit, 0, sizeof(self->unit));
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, PAGE_SZ, 0));
}

TEST_F(dirty, bits_are_only_ever_set_in_the_users_bitmap)
{
	size_t i;

	ASSERT_EQ(0, mark(self, 0, PAGE_SZ));
	for (i = 0; i != BM_WORDS; i++)
		self->got[i] = 0xf0f0f0f0f0f0f0f0ULL;
	ASSERT_EQ(0, get_dirty(self->fd, self->hwpt_id, IOVA_BASE, BUF_SIZE,
			       PAGE_SZ, self->got, NO_CLEAR));
	model_expect(self, 0, BUF_SIZE, PAGE_SZ);
	for (i = 0; i != BUF_SIZE / PAGE_SZ / 64; i++)
		EXPECT_EQ(0xf0f0f0f0f0f0f0f0ULL | self->want[i], self->got[i]);
}

TEST_F(dirty, faulting_bitmaps_fail_before_anything_is_cleared)
{
	long psz = PAGE_SZ;
	char *p;

	ASSERT_EQ(0, mark_random(self, 8));
	EXPECT_EQ(-EFAULT, get_dirty(self->fd, self->hwpt_id, IOVA_BASE,
				     BUF_SIZE, PAGE_SZ, NULL, 0));
	/* Read-only, and a bitmap running into an inaccessible page. */
	p = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mprotect(p, psz, PROT_READ));
	ASSERT_EQ(0, mprotect(p + psz, psz, PROT_NONE));
	EXPECT_EQ(-EFAULT, get_dirty(self->fd, self->hwpt_id, IOVA_BASE,
				     BUF_SIZE, PAGE_SZ, p, 0));
	ASSERT_EQ(0, mprotect(p, psz, PROT_READ | PROT_WRITE));
	EXPECT_EQ(-EFAULT, get_dirty(self->fd, self->hwpt_id, IOVA_BASE,
				     BUF_SIZE, PAGE_SZ, p + psz - 64, 0));
	munmap(p, 2 * psz);
	/* Every bit is still there. */
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, PAGE_SZ, 0));
}

TEST_F(dirty, unmap_and_remap_starts_clean)
{
	__u64 unmapped;

	ASSERT_EQ(0, mark_random(self, 9));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE, BUF_SIZE,
				&unmapped));
	ASSERT_EQ(BUF_SIZE, unmapped);
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, IOVA_BASE));
	memset(self->unit, 0, sizeof(self->unit));
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, PAGE_SZ, 0));
}

/*
 * Fail-nth: a GET whose Nth fault event fails returns an error, writes
 * nothing to the bitmap and clears nothing; the run that gets through
 * reports exactly the model.
 */
TEST_F(dirty, get_dirty_bitmap_fail_nth)
{
	unsigned int n;
	int fired, rc;

	ASSERT_EQ(0, mark_random(self, 10));
	for (n = 1; n < 100; n++) {
		memset(self->got, 0, sizeof(self->got));
		ASSERT_EQ(0, fail_nth_arm(self->fd, n, MOCK_FAULT_ALL));
		rc = get_dirty(self->fd, self->hwpt_id, IOVA_BASE, BUF_SIZE,
			       PAGE_SZ, self->got, 0);
		ASSERT_EQ(0, fail_nth_disarm(self->fd, &fired));
		if (!fired)
			break;
		ASSERT_NE(0, rc);
		EXPECT_EQ(0, self->got[0]);
		ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, PAGE_SZ,
					NO_CLEAR));
	}
	ASSERT_LT(1, n);
	ASSERT_EQ(0, rc);
	model_expect(self, 0, BUF_SIZE, PAGE_SZ);
	EXPECT_EQ(0, memcmp(self->want, self->got,
			    BUF_SIZE / PAGE_SZ / 8));
	model_clear(self, 0, BUF_SIZE);
	ASSERT_EQ(0, check_read(_metadata, self, 0, BUF_SIZE, PAGE_SZ, 0));
}

/* Fail-nth of a dirty HWPT_ALLOC over the mapped IOAS: nothing is left. */
TEST_F(dirty, dirty_hwpt_alloc_fail_nth)
{
	__u32 hwpt = 0, next;
	unsigned int n;
	int fired, rc;

	/* The ID the next object gets, to see that a failure took none. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &next));
	ASSERT_EQ(0, iommufd_destroy(self->fd, next));
	for (n = 1; n < 1000; n++) {
		ASSERT_EQ(0, fail_nth_arm(self->fd, n, MOCK_FAULT_ALL));
		rc = hwpt_alloc_flags(self->fd, self->idev_id, self->ioas_id,
				      DIRTY_FLAG, &hwpt);
		ASSERT_EQ(0, fail_nth_disarm(self->fd, &fired));
		if (!fired)
			break;
		ASSERT_NE(0, rc);
		ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, next));
	}
	ASSERT_LT(1, n);
	ASSERT_EQ(0, rc);
	ASSERT_EQ(0, set_dirty(self->fd, hwpt, true));
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, IOVA_BASE, self->buf,
				    BUF_SIZE));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt));
}

/*
 * Extension: on a MOCK_FLAGS_DEVICE_WIDE_APERTURE device the IOVA goes
 * past upstream's 2 GiB. One 1 MiB buffer mapped WIDE_MAPS times from
 * 32 MiB below 2 GiB covers the old aperture's end; a read of all of it
 * reports exactly the units written on either side, and so does a read
 * of the last MiB of the 1 TiB aperture.
 */
#define WIDE_MAPS 64
#define WIDE_BASE ((1ULL << 31) - 32 * SZ_1M)
#define WIDE_TOP ((__u64)MOCK_WIDE_APERTURE_LAST + 1 - SZ_1M)

static int wide_mark(int fd, __u32 hwpt, __u64 iova)
{
	__u64 bm = 1;
	__u64 nr = 0;
	int rc;

	rc = tcmd_dirty(fd, hwpt, iova, UNIT, UNIT, &bm, &nr);
	return rc ? rc : (nr == 1 ? 0 : -EIO);
}

TEST(wide_aperture_reads_past_2g_bit_for_bit)
{
	/* Byte offsets from WIDE_BASE that the "device" writes. */
	const __u64 hits[] = { 0, 32 * SZ_1M - UNIT, 32 * SZ_1M,
			       32 * SZ_1M + 5 * PAGE_SZ + UNIT,
			       WIDE_MAPS * SZ_1M - UNIT };
	const size_t nbits = WIDE_MAPS * SZ_1M / PAGE_SZ;
	__u32 ioas, idev, hwpt;
	__u64 *bm, top[SZ_1M / PAGE_SZ / 64 + 1];
	long vm_pin0 = proc_status_kb("VmPin");
	unsigned int i;
	size_t set = 0;
	char *buf;
	int fd;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	if (!iommufd_is_test_build(fd))
		SKIP(return, "needs a test build");
	buf = mmap(NULL, SZ_1M, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	bm = calloc(nbits / 64 + 1, sizeof(*bm));
	ASSERT_NE(NULL, bm);
	ASSERT_EQ(0, ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, tcmd_mock_domain_flags(fd, ioas,
					    MOCK_FLAGS_DEVICE_WIDE_APERTURE,
					    NULL, NULL, &idev));
	ASSERT_EQ(0, hwpt_alloc_flags(fd, idev, ioas, DIRTY_FLAG, &hwpt));
	for (i = 0; i != WIDE_MAPS; i++)
		ASSERT_EQ(0, ioas_map_fixed(fd, ioas, buf, SZ_1M,
					    WIDE_BASE + i * SZ_1M));
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas, buf, SZ_1M, WIDE_TOP));
	ASSERT_EQ(0, set_dirty(fd, hwpt, true));
	for (i = 0; i != ARRAY_SIZE(hits); i++)
		ASSERT_EQ(0, wide_mark(fd, hwpt, WIDE_BASE + hits[i]));
	ASSERT_EQ(0, wide_mark(fd, hwpt, WIDE_TOP + SZ_1M - UNIT));

	bm[nbits / 64] = GUARD;
	ASSERT_EQ(0, get_dirty(fd, hwpt, WIDE_BASE, WIDE_MAPS * SZ_1M,
			       PAGE_SZ, bm, 0));
	ASSERT_EQ(GUARD, bm[nbits / 64]);
	for (i = 0; i != ARRAY_SIZE(hits); i++)
		ASSERT_TRUE(bit_test(bm, hits[i] / PAGE_SZ));
	for (i = 0; i != nbits; i++)
		set += bit_test(bm, i);
	ASSERT_EQ(ARRAY_SIZE(hits), set);
	/* The read cleared them. */
	memset(bm, 0, nbits / 8);
	ASSERT_EQ(0, get_dirty(fd, hwpt, WIDE_BASE, WIDE_MAPS * SZ_1M,
			       PAGE_SZ, bm, 0));
	for (i = 0; i != nbits / 64; i++)
		ASSERT_EQ(0, bm[i]);

	/* The aperture's last MiB: only its last page. */
	memset(top, 0, sizeof(top));
	top[SZ_1M / PAGE_SZ / 64] = GUARD;
	ASSERT_EQ(0, get_dirty(fd, hwpt, WIDE_TOP, SZ_1M, PAGE_SZ, top, 0));
	ASSERT_EQ(GUARD, top[SZ_1M / PAGE_SZ / 64]);
	ASSERT_EQ(1ULL << 63, top[SZ_1M / PAGE_SZ / 64 - 1]);
	for (i = 0; i != SZ_1M / PAGE_SZ / 64 - 1; i++)
		ASSERT_EQ(0, top[i]);
	/* Past the aperture's end nothing is mapped: EINVAL, as a hole. */
	ASSERT_EQ(-EINVAL, get_dirty(fd, hwpt, WIDE_TOP, 2 * SZ_1M, PAGE_SZ,
				     top, 0));

	close(fd);
	free(bm);
	munmap(buf, SZ_1M);
	ASSERT_EQ(vm_pin0, vm_pin_settled(vm_pin0));
}

TEST_HARNESS_MAIN
