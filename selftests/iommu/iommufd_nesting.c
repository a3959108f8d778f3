// SPDX-License-Identifier: GPL-2.0
/*
 * Nested HW page tables and their invalidation (Documentation/nesting.rst)
 * on the mock IOMMU: IOMMU_HWPT_ALLOC_NEST_PARENT, IOMMU_HWPT_ALLOC of a
 * nested HWPT with IOMMU_HWPT_DATA_SELFTEST, attach and replace of mock
 * devices onto nested HWPTs, destroy ordering, IOMMU_HWPT_INVALIDATE's
 * array protocol and IOMMU_TEST_OP_MD_CHECK_IOTLB, each with its errors in
 * upstream 6.12's order; the parent on a windowed IOAS and with
 * HUGE_PAGES off; fault injection (fail-nth) of both commands. VmPin
 * (and VmLck where the IOAS charges the mm) is back where it started
 * after every test.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "iommufd_utils.h"

#define PAGE_SZ 4096UL
#define UNIT (PAGE_SZ / 2)		/* the mock's small IOPTE */
#define MOCK_HUGE_SZ (512 * UNIT)	/* its huge IOPTE */
#define SZ_2M 0x200000UL
#define BUF_SIZE SZ_2M
#define IOVA_BASE 0x10000000UL
#define WIN_LEN 0x1000000UL
#define NEST_PARENT IOMMU_HWPT_ALLOC_NEST_PARENT
#define INV_ALL IOMMU_TEST_INVALIDATE_FLAG_ALL
#define SELFTEST IOMMU_HWPT_DATA_SELFTEST
#define INV_SELFTEST IOMMU_HWPT_INVALIDATE_DATA_SELFTEST
#define INV_ENTRY sizeof(struct iommu_hwpt_invalidate_selftest)
#define NUM_IOTLB MOCK_NESTED_DOMAIN_IOTLB_NUM

/* IOMMU_HWPT_ALLOC with every field the caller's. */
static int hwpt_alloc_cmd(int fd, struct iommu_hwpt_alloc *cmd)
{
	cmd->size = sizeof(*cmd);
	return iommufd_ioctl(fd, IOMMU_HWPT_ALLOC, cmd);
}

/*
 * IOMMU_HWPT_INVALIDATE of *@num entries of @entry_len bytes at @reqs;
 * *@num receives what the kernel wrote back, success or not.
 */
static int hwpt_invalidate(int fd, __u32 hwpt_id, const void *reqs,
			   __u32 type, __u32 entry_len, __u32 *num)
{
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = hwpt_id,
		.data_uptr = (__u64)(uintptr_t)reqs,
		.data_type = type,
		.entry_len = entry_len,
		.entry_num = *num,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_HWPT_INVALIDATE, &cmd);
	*num = cmd.entry_num;
	return rc;
}

static int tcmd_check_iotlb(int fd, __u32 hwpt_id, __u32 id, __u32 val)
{
	struct iommu_test_cmd cmd = {
		.check_iotlb = { .id = id, .iotlb = val },
	};

	return tcmd(fd, IOMMU_TEST_OP_MD_CHECK_IOTLB, hwpt_id, &cmd);
}

/* 0 if every IOTLB entry of @hwpt_id holds @val, else the first error. */
static int check_iotlb_all(int fd, __u32 hwpt_id, __u32 val)
{
	__u32 i;
	int rc;

	for (i = 0; i != NUM_IOTLB; i++) {
		rc = tcmd_check_iotlb(fd, hwpt_id, i, val);
		if (rc)
			return rc;
	}
	return 0;
}

/* The ID the next new object will get: a failure must not take it. */
static __u32 next_id(int fd)
{
	__u32 id = 0;

	if (ioas_alloc(fd, &id) || iommufd_destroy(fd, id))
		return 0;
	return id;
}

FIXTURE(nesting)
{
	int fd;
	__u32 ioas_id;
	__u32 stdev_id;		/* a mock device on the IOAS */
	__u32 idev_id;
	__u32 auto_hwpt_id;	/* its automatic HWPT */
	__u32 parent_id;	/* a nest parent on the IOAS */
	__u32 plain_id;		/* a paging HWPT that is no nest parent */
	__u32 dev_flags;
	void *map;
	size_t map_len;
	char *buf;		/* BUF_SIZE, 2 MiB aligned, mapped at IOVA_BASE */
	long vm_pin0;
	long vm_lck0;
};

FIXTURE_VARIANT(nesting)
{
	bool windowed;		/* the IOAS has one window around IOVA_BASE */
	bool huge_iova;		/* huge-IOVA mock devices, THP buffer */
	bool huge_pages_off;	/* IOMMU_OPTION_HUGE_PAGES = 0 on the IOAS */
};

FIXTURE_VARIANT_ADD(nesting, plain_ioas)
{
	.windowed = false,
};

FIXTURE_VARIANT_ADD(nesting, windowed_ioas)
{
	.windowed = true,
};

FIXTURE_VARIANT_ADD(nesting, huge_iova)
{
	.huge_iova = true,
};

FIXTURE_VARIANT_ADD(nesting, huge_pages_off)
{
	.huge_iova = true,
	.huge_pages_off = true,
};

#define nest_t FIXTURE_DATA(nesting)

/* BUF_SIZE of written memory at a 2 MiB boundary, THP when @huge. */
static int buf_setup(nest_t *self, bool huge)
{
	char *raw;

	self->map_len = BUF_SIZE + SZ_2M;
	raw = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return -1;
	self->map = raw;
	self->buf = (char *)(((uintptr_t)raw + SZ_2M - 1) & ~(SZ_2M - 1));
	madvise(self->buf, BUF_SIZE, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(self->buf, 0x5a, BUF_SIZE);
	return 0;
}

FIXTURE_SETUP(nesting)
{
	self->vm_pin0 = proc_status_kb("VmPin");
	self->vm_lck0 = proc_status_kb("VmLck");
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, buf_setup(self, variant->huge_iova));
	self->dev_flags = variant->huge_iova ? MOCK_FLAGS_DEVICE_HUGE_IOVA : 0;
	if (variant->windowed) {
		ASSERT_EQ(0, ioas_alloc_windowed(self->fd, &self->ioas_id));
		ASSERT_EQ(0, ioas_create_window_fixed(self->fd, self->ioas_id,
						      IOVA_BASE, WIN_LEN,
						      PAGE_SZ, 0));
	} else {
		ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	}
	if (variant->huge_pages_off)
		ASSERT_EQ(0, ioas_huge_pages_set(self->fd, self->ioas_id, 0));
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    self->dev_flags, &self->stdev_id,
					    &self->auto_hwpt_id,
					    &self->idev_id));
	ASSERT_EQ(0, hwpt_alloc_flags(self->fd, self->idev_id, self->ioas_id,
				      NEST_PARENT, &self->parent_id));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->idev_id, self->ioas_id,
				&self->plain_id));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, IOVA_BASE));
}

FIXTURE_TEARDOWN(nesting)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->map)
		munmap(self->map, self->map_len);
	EXPECT_EQ(self->vm_pin0, vm_pin_settled(self->vm_pin0));
	EXPECT_EQ(self->vm_lck0, proc_status_kb("VmLck"));
}

/* ---------------------------------------------------------------------- */
/* The nest parent: a paging HWPT like any other, on any IOAS. */

TEST_F(nesting, nest_parent_maps_what_the_ioas_maps)
{
	struct iommu_test_iopte_stats stats, plain;

	ASSERT_EQ(0, tcmd_check_map(self->fd, self->parent_id, IOVA_BASE,
				    self->buf, BUF_SIZE));
	ASSERT_EQ(0, tcmd_md_iopte_stats(self->fd, self->parent_id, IOVA_BASE,
					 BUF_SIZE, &stats));
	if (variant->huge_pages_off) {
		/* HUGE_PAGES=0: PAGE_SIZE IOPTEs at most, nest parent or not. */
		EXPECT_EQ(0, stats.huge);
		EXPECT_EQ(BUF_SIZE / UNIT, stats.small);
	} else if (variant->huge_iova &&
		   phys_run_aligned(self->buf, BUF_SIZE, SZ_2M) == 1) {
		EXPECT_EQ(BUF_SIZE / MOCK_HUGE_SZ, stats.huge);
		EXPECT_EQ(0, stats.small);
	} else if (!variant->huge_iova) {
		EXPECT_EQ(BUF_SIZE / UNIT, stats.small);
	}
	/* The same as the plain HWPT beside it. */
	ASSERT_EQ(0, tcmd_md_iopte_stats(self->fd, self->plain_id, IOVA_BASE,
					 BUF_SIZE, &plain));
	EXPECT_EQ(plain.huge, stats.huge);
	EXPECT_EQ(plain.small, stats.small);
	/* An unmap reaches it; a new map too. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE, BUF_SIZE,
				NULL));
	ASSERT_EQ(-EINVAL, tcmd_check_map(self->fd, self->parent_id, IOVA_BASE,
					  self->buf, UNIT));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, IOVA_BASE));
	ASSERT_EQ(0, tcmd_check_map(self->fd, self->parent_id, IOVA_BASE,
				    self->buf, BUF_SIZE));
}

TEST_F(nesting, nest_parent_flags)
{
	__u32 id;

	/* With dirty tracking: a parent that tracks. */
	ASSERT_EQ(0, hwpt_alloc_flags(self->fd, self->idev_id, self->ioas_id,
				      NEST_PARENT |
				      IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &id));
	ASSERT_EQ(0, tcmd_check_map(self->fd, id, IOVA_BASE, self->buf,
				    BUF_SIZE));
	ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id, id, 1, NULL));
	/*
	 * Upstream 6.12: FAULT_ID_VALID on an IOAS is EOPNOTSUPP, with
	 * NEST_PARENT or not: only the nested HWPTs take fault queues.
	 */
	ASSERT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_flags(self->fd, self->idev_id, self->ioas_id,
				   NEST_PARENT | IOMMU_HWPT_FAULT_ID_VALID,
				   NULL));
	ASSERT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_flags(self->fd, self->idev_id, self->ioas_id,
				   IOMMU_HWPT_FAULT_ID_VALID, NULL));
	ASSERT_EQ(-EOPNOTSUPP, hwpt_alloc_flags(self->fd, self->idev_id,
						self->ioas_id,
						NEST_PARENT | 1 << 3, NULL));
	/* Data on an IOAS: EINVAL without a type, EOPNOTSUPP with one. */
	ASSERT_EQ(-EINVAL,
		  hwpt_alloc_nested(self->fd, self->idev_id, self->ioas_id,
				    NEST_PARENT, IOMMU_HWPT_DATA_NONE,
				    self->buf, 4, NULL));
	ASSERT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_nested(self->fd, self->idev_id, self->ioas_id,
				    NEST_PARENT, SELFTEST, self->buf, 4,
				    NULL));
}

/* ---------------------------------------------------------------------- */
/* Nested allocation: every check, in upstream's order. */

TEST_F(nesting, nested_alloc_errors_in_upstream_order)
{
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };
	struct {
		struct iommu_hwpt_selftest data;
		__u32 tail;
	} longer = { .data = data };
	/* The end of the struct's first version: iotlb. */
	const __u32 min_len = offsetof(struct iommu_hwpt_selftest, iotlb) +
			      sizeof(data.iotlb);
	struct iommu_hwpt_alloc cmd = {
		.dev_id = self->idev_id,
		.pt_id = self->parent_id,
		.data_type = SELFTEST,
		.data_len = sizeof(data),
		.data_uptr = (__u64)(uintptr_t)&data,
		.__reserved = 1,
	};
	__u32 nested, next = next_id(self->fd);

	ASSERT_NE(0, next);
	/* __reserved first, then data_len against data_type. */
	cmd.dev_id = 0xdead;
	EXPECT_EQ(-EOPNOTSUPP, hwpt_alloc_cmd(self->fd, &cmd));
	cmd.__reserved = 0;
	cmd.data_len = 0;
	EXPECT_EQ(-EINVAL, hwpt_alloc_cmd(self->fd, &cmd));
	cmd.data_len = sizeof(data);
	cmd.data_type = IOMMU_HWPT_DATA_NONE;
	EXPECT_EQ(-EINVAL, hwpt_alloc_cmd(self->fd, &cmd));
	cmd.data_type = SELFTEST;
	/* The device, then the page table. */
	EXPECT_EQ(-ENOENT, hwpt_alloc_cmd(self->fd, &cmd));
	cmd.dev_id = self->idev_id;
	cmd.pt_id = 0xdead;
	EXPECT_EQ(-EINVAL, hwpt_alloc_cmd(self->fd, &cmd));
	cmd.pt_id = self->idev_id;
	EXPECT_EQ(-EINVAL, hwpt_alloc_cmd(self->fd, &cmd));

	/* Flags and missing data come before the parent's checks. */
	EXPECT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_nested(self->fd, self->idev_id, self->plain_id,
				    NEST_PARENT, SELFTEST, &data,
				    sizeof(data), NULL));
	EXPECT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_nested(self->fd, self->idev_id, self->plain_id,
				    IOMMU_HWPT_ALLOC_DIRTY_TRACKING, SELFTEST,
				    &data, sizeof(data), NULL));
	EXPECT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_nested(self->fd, self->idev_id, self->plain_id,
				    1 << 3, SELFTEST, &data, sizeof(data),
				    NULL));
	EXPECT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_nested(self->fd, self->idev_id, self->plain_id, 0,
				    IOMMU_HWPT_DATA_NONE, NULL, 0, NULL));
	EXPECT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_nested(self->fd, self->idev_id, self->parent_id,
				    0, IOMMU_HWPT_DATA_NONE, NULL, 0, NULL));

	/* The parent: a nest parent userspace allocated. */
	EXPECT_EQ(-EINVAL,
		  hwpt_alloc_nested(self->fd, self->idev_id, self->plain_id, 0,
				    SELFTEST, &data, sizeof(data), NULL));
	EXPECT_EQ(-EINVAL,
		  hwpt_alloc_nested(self->fd, self->idev_id,
				    self->auto_hwpt_id, 0, SELFTEST, &data,
				    sizeof(data), NULL));
	/* ... before the driver's data type. */
	EXPECT_EQ(-EINVAL,
		  hwpt_alloc_nested(self->fd, self->idev_id, self->plain_id, 0,
				    SELFTEST + 1, &data, sizeof(data), NULL));

	/* The mock's: data type, then length, then the copy. */
	EXPECT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_nested(self->fd, self->idev_id, self->parent_id,
				    0, SELFTEST + 1, &data, sizeof(data),
				    NULL));
	EXPECT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_nested(self->fd, self->idev_id, self->parent_id,
				    0, IOMMU_HWPT_DATA_VTD_S1, &data,
				    sizeof(data), NULL));
	EXPECT_EQ(-EINVAL,
		  hwpt_alloc_nested(self->fd, self->idev_id, self->parent_id,
				    0, SELFTEST, &data, min_len - 1, NULL));
	/* Longer than the mock knows is EINVAL even with a zero tail. */
	EXPECT_EQ(-EINVAL,
		  hwpt_alloc_nested(self->fd, self->idev_id, self->parent_id,
				    0, SELFTEST, &longer, sizeof(longer),
				    NULL));
	longer.tail = 1;
	EXPECT_EQ(-EINVAL,
		  hwpt_alloc_nested(self->fd, self->idev_id, self->parent_id,
				    0, SELFTEST, &longer, sizeof(longer),
				    NULL));
	EXPECT_EQ(-EFAULT,
		  hwpt_alloc_nested(self->fd, self->idev_id, self->parent_id,
				    0, SELFTEST, NULL, sizeof(data), NULL));
	/* A fault_id that names no fault queue. */
	EXPECT_EQ(-ENOENT,
		  hwpt_alloc_nested(self->fd, self->idev_id, self->parent_id,
				    IOMMU_HWPT_FAULT_ID_VALID, SELFTEST, &data,
				    sizeof(data), NULL));
	/* Nothing was made by any of them, and the parent is not held. */
	EXPECT_EQ(-ENOENT, iommufd_destroy(self->fd, next));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->parent_id));
	ASSERT_EQ(0, hwpt_alloc_flags(self->fd, self->idev_id, self->ioas_id,
				      NEST_PARENT, &self->parent_id));

	/* The same, right: the ID the failures left free. */
	ASSERT_EQ(0, hwpt_alloc_nested(self->fd, self->idev_id,
				       self->parent_id, 0, SELFTEST, &data,
				       sizeof(data), &nested));
	EXPECT_EQ(next, nested);
	/* A nested HWPT is no parent. */
	EXPECT_EQ(-EINVAL,
		  hwpt_alloc_nested(self->fd, self->idev_id, nested, 0,
				    SELFTEST, &data, sizeof(data), NULL));
	/* Nor an IOAS-style page table for a new paging HWPT. */
	EXPECT_EQ(-EINVAL, hwpt_alloc(self->fd, self->idev_id, nested, NULL));
}

TEST_F(nesting, nested_iotlb_starts_with_the_data)
{
	__u32 a, b, c, v = 7;

	ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id, self->parent_id,
				  IOMMU_TEST_IOTLB_DEFAULT, &a));
	ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id, self->parent_id,
				  0x12345678, &b));
	EXPECT_EQ(0, check_iotlb_all(self->fd, a, IOMMU_TEST_IOTLB_DEFAULT));
	EXPECT_EQ(0, check_iotlb_all(self->fd, b, 0x12345678));
	/* Every entry differs from another value. */
	EXPECT_EQ(-EINVAL, tcmd_check_iotlb(self->fd, a, 0, 0x12345678));
	EXPECT_EQ(-EINVAL, tcmd_check_iotlb(self->fd, b, 3, 0));
	/* An ID past the last entry. */
	EXPECT_EQ(-EINVAL, tcmd_check_iotlb(self->fd, a,
					    MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1,
					    IOMMU_TEST_IOTLB_DEFAULT));
	/* Only nested HWPTs have one. */
	EXPECT_EQ(-ENOENT, tcmd_check_iotlb(self->fd, self->parent_id, 0, 0));
	EXPECT_EQ(-ENOENT, tcmd_check_iotlb(self->fd, self->ioas_id, 0, 0));
	EXPECT_EQ(-ENOENT, tcmd_check_iotlb(self->fd, 0xdead, 0, 0));
	/* The blob may be a bare __u32: the first layout is all there is. */
	ASSERT_EQ(0, hwpt_alloc_nested(self->fd, self->idev_id,
				       self->parent_id, 0, SELFTEST, &v,
				       sizeof(v), &c));
	EXPECT_EQ(0, check_iotlb_all(self->fd, c, 7));
}

/* ---------------------------------------------------------------------- */
/* Attach, replace, destroy. */

TEST_F(nesting, device_attaches_and_replaces_onto_nested)
{
	__u32 n1, n2, stdev2, hwpt, idev2;
	struct iommu_device_attach at = {
		.size = sizeof(at),
		.dev_id = self->idev_id,
	};

	ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id, self->parent_id,
				  1, &n1));
	ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id, self->parent_id,
				  2, &n2));
	/* A new device straight onto a nested HWPT. */
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, n1, self->dev_flags,
					    &stdev2, &hwpt, &idev2));
	EXPECT_EQ(n1, hwpt);
	EXPECT_EQ(-EBUSY, iommufd_destroy(self->fd, n1));
	/* Replace: paging to nested, nested to nested, back. */
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id, n2,
					      &hwpt));
	EXPECT_EQ(n2, hwpt);
	/* The automatic HWPT went with its last device. */
	EXPECT_EQ(-ENOENT, iommufd_destroy(self->fd, self->auto_hwpt_id));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id, n1,
					      &hwpt));
	EXPECT_EQ(n1, hwpt);
	EXPECT_EQ(0, iommufd_destroy(self->fd, n2));
	/* IOMMU_DEVICE_ATTACH takes a nested HWPT too. */
	ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id, self->parent_id,
				  3, &n2));
	at.pt_id = n2;
	ASSERT_EQ(0, iommufd_ioctl(self->fd, IOMMU_DEVICE_ATTACH, &at));
	EXPECT_EQ(n2, at.out_hwpt_id);
	/* Through the parent, the device sees what the IOAS maps. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE, BUF_SIZE,
				NULL));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_SIZE, IOVA_BASE));
	ASSERT_EQ(0, tcmd_check_map(self->fd, self->parent_id, IOVA_BASE,
				    self->buf, BUF_SIZE));
	/* Back to the parent, then to the IOAS. */
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id,
					      self->parent_id, &hwpt));
	EXPECT_EQ(self->parent_id, hwpt);
	EXPECT_EQ(0, iommufd_destroy(self->fd, n2));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id,
					      self->ioas_id, &hwpt));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, stdev2,
					      self->ioas_id, NULL));
	EXPECT_EQ(0, iommufd_destroy(self->fd, n1));
	EXPECT_EQ(0, iommufd_destroy(self->fd, self->parent_id));
	EXPECT_EQ(0, iommufd_destroy(self->fd, stdev2));
}

TEST_F(nesting, attach_to_nested_checks_the_device)
{
	__u32 nested, stdev, other_flags, hwpt;

	ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id, self->parent_id,
				  1, &nested));
	/* A device whose IOPTE sizes differ from the parent's: EINVAL. */
	other_flags = self->dev_flags ^ MOCK_FLAGS_DEVICE_HUGE_IOVA;
	EXPECT_EQ(-EINVAL, tcmd_mock_domain_flags(self->fd, nested,
						  other_flags, NULL, NULL,
						  NULL));
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    other_flags, &stdev, &hwpt, NULL));
	EXPECT_EQ(-EINVAL, tcmd_mock_domain_replace(self->fd, stdev, nested,
						    NULL));
	/* It stayed where it was. */
	EXPECT_EQ(-EBUSY, iommufd_destroy(self->fd, hwpt));
	/* Not a nested HWPT, nor anything: ENOENT / EINVAL as before. */
	EXPECT_EQ(-ENOENT, tcmd_mock_domain_replace(self->fd, self->stdev_id,
						    0xdead, NULL));
	EXPECT_EQ(-EINVAL, tcmd_mock_domain_replace(self->fd, self->stdev_id,
						    self->idev_id, NULL));
	/* Nothing of the failures holds the nested HWPT. */
	EXPECT_EQ(0, iommufd_destroy(self->fd, nested));
}

TEST_F(nesting, parent_with_dirty_tracking_refuses_untracked_device)
{
	__u32 parent, nested;

	ASSERT_EQ(0, hwpt_alloc_flags(self->fd, self->idev_id, self->ioas_id,
				      NEST_PARENT |
				      IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				      &parent));
	ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id, parent, 1,
				  &nested));
	/* Its DMA goes through the tracking parent, unseen: refused. */
	EXPECT_EQ(-EINVAL,
		  tcmd_mock_domain_flags(self->fd, nested,
					 self->dev_flags |
					 MOCK_FLAGS_DEVICE_NO_DIRTY, NULL,
					 NULL, NULL));
	/* A device that can track attaches. */
	EXPECT_EQ(0, tcmd_mock_domain_flags(self->fd, nested, self->dev_flags,
					    NULL, NULL, NULL));
}

TEST_F(nesting, destroy_order)
{
	__u32 nested, stdev;

	ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id, self->parent_id,
				  1, &nested));
	/* The parent and its IOAS are busy while the nested HWPT exists. */
	EXPECT_EQ(-EBUSY, iommufd_destroy(self->fd, self->parent_id));
	EXPECT_EQ(-EBUSY, iommufd_destroy(self->fd, self->ioas_id));
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, nested, self->dev_flags,
					    &stdev, NULL, NULL));
	/* The nested HWPT is busy while a device is attached. */
	EXPECT_EQ(-EBUSY, iommufd_destroy(self->fd, nested));
	EXPECT_EQ(-EBUSY, iommufd_destroy(self->fd, self->parent_id));
	/* The device goes, then the nested HWPT, then the parent. */
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	EXPECT_EQ(-EBUSY, iommufd_destroy(self->fd, self->parent_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, nested));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->parent_id));
	EXPECT_EQ(-ENOENT, tcmd_check_iotlb(self->fd, nested, 0, 1));
}

TEST_F(nesting, close_with_everything_attached)
{
	__u32 n1, n2;

	ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id, self->parent_id,
				  1, &n1));
	ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id, self->parent_id,
				  2, &n2));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id, n1,
					      NULL));
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, n2, self->dev_flags,
					    NULL, NULL, NULL));
	/* The teardown's close() frees it all; the pins must be gone. */
}

/*
 * A nested HWPT with a fault queue (upstream 6.12's IOPF case): it holds
 * the queue, and the faults of a device attached to it arrive there.
 */
TEST_F(nesting, nested_hwpt_with_a_fault_queue)
{
	struct iommu_hwpt_selftest data = { .iotlb = 1 };
	struct iommu_hwpt_alloc cmd = {
		.flags = IOMMU_HWPT_FAULT_ID_VALID,
		.dev_id = self->idev_id,
		.pt_id = self->parent_id,
		.data_type = SELFTEST,
		.data_len = sizeof(data),
		.data_uptr = (__u64)(uintptr_t)&data,
	};
	struct iommu_hwpt_page_response resp = {};
	struct iommu_test_iopf_response log[MOCK_IOPF_LOG_MAX];
	struct iommu_hwpt_pgfault pf = {};
	__u32 fault_id, n, on;
	__u64 live;
	int qfd;

	ASSERT_EQ(0, fault_queue_alloc(self->fd, &fault_id, &qfd));
	cmd.fault_id = fault_id;
	ASSERT_EQ(0, hwpt_alloc_cmd(self->fd, &cmd));
	EXPECT_EQ(-EBUSY, iommufd_destroy(self->fd, fault_id));
	ASSERT_EQ(0, check_iotlb_all(self->fd, cmd.out_hwpt_id, 1));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id,
					      cmd.out_hwpt_id, NULL));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 5,
				       IOMMU_PGFAULT_PERM_READ, IOVA_BASE,
				       false));
	ASSERT_EQ(sizeof(pf), read(qfd, &pf, sizeof(pf)));
	EXPECT_EQ(self->idev_id, pf.dev_id);
	EXPECT_EQ(5, pf.grpid);
	EXPECT_EQ(IOVA_BASE, pf.addr);
	resp.cookie = pf.cookie;
	resp.code = IOMMUFD_PAGE_RESP_SUCCESS;
	ASSERT_EQ(sizeof(resp), write(qfd, &resp, sizeof(resp)));
	/* A fault left pending is answered when the device leaves. */
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 6,
				       IOMMU_PGFAULT_PERM_READ, IOVA_BASE,
				       false));
	ASSERT_EQ(0, tcmd_iopf_responses(self->fd, 0, NULL, NULL, &live,
					 NULL, NULL));
	EXPECT_EQ(1, live);
	/*
	 * Back to the parent; the nested HWPT, then (its fd closed, which
	 * holds it too) the queue, can go.
	 */
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id,
					      self->parent_id, NULL));
	n = MOCK_IOPF_LOG_MAX;
	ASSERT_EQ(0, tcmd_iopf_responses(self->fd, self->idev_id, log, &n,
					 &live, &on, NULL));
	EXPECT_EQ(0, live);
	EXPECT_EQ(0, on);
	/* The answer userspace wrote, then the module's at the replace. */
	ASSERT_EQ(2, n);
	EXPECT_EQ(5, log[0].grpid);
	EXPECT_EQ(IOMMUFD_PAGE_RESP_SUCCESS, log[0].code);
	EXPECT_EQ(6, log[1].grpid);
	EXPECT_EQ(IOMMUFD_PAGE_RESP_INVALID, log[1].code);
	EXPECT_EQ(0, read(qfd, &pf, sizeof(pf)));
	ASSERT_EQ(0, iommufd_destroy(self->fd, cmd.out_hwpt_id));
	close(qfd);
	ASSERT_EQ(0, iommufd_destroy(self->fd, fault_id));
}

/* ---------------------------------------------------------------------- */
/* IOMMU_HWPT_INVALIDATE. */

TEST_F(nesting, invalidate_errors_and_entry_num)
{
	struct iommu_hwpt_invalidate_selftest reqs[4] = {};
	struct iommu_hwpt_invalidate cmd = { .size = sizeof(cmd) };
	__u32 nested, num;

	ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id, self->parent_id,
				  IOMMU_TEST_IOTLB_DEFAULT, &nested));

	/* __reserved first: EOPNOTSUPP, entry_num written back as 0. */
	cmd.hwpt_id = nested;
	cmd.data_uptr = (__u64)(uintptr_t)reqs;
	cmd.data_type = INV_SELFTEST;
	cmd.entry_len = INV_ENTRY;
	cmd.entry_num = 1;
	cmd.__reserved = 1;
	EXPECT_EQ(-EOPNOTSUPP, iommufd_ioctl(self->fd, IOMMU_HWPT_INVALIDATE,
					     &cmd));
	EXPECT_EQ(0, cmd.entry_num);

	/* A non-empty array: no pointer, no or too long an entry, too many. */
	num = 1;
	EXPECT_EQ(-EINVAL, hwpt_invalidate(self->fd, nested, NULL,
					   INV_SELFTEST, INV_ENTRY, &num));
	EXPECT_EQ(0, num);
	num = 1;
	EXPECT_EQ(-EINVAL, hwpt_invalidate(self->fd, nested, reqs,
					   INV_SELFTEST, 0, &num));
	EXPECT_EQ(0, num);
	num = 1;
	EXPECT_EQ(-EINVAL, hwpt_invalidate(self->fd, nested, reqs,
					   INV_SELFTEST, PAGE_SZ + 1, &num));
	EXPECT_EQ(0, num);
	num = (1U << 19) + 1;
	EXPECT_EQ(-EINVAL, hwpt_invalidate(self->fd, nested, reqs,
					   INV_SELFTEST, INV_ENTRY, &num));
	EXPECT_EQ(0, num);
	/* ... before the HWPT: only a nested one. */
	num = 1;
	EXPECT_EQ(-EINVAL, hwpt_invalidate(self->fd, 0xdead, NULL,
					   INV_SELFTEST, INV_ENTRY, &num));
	num = 1;
	EXPECT_EQ(-ENOENT, hwpt_invalidate(self->fd, self->parent_id, reqs,
					   INV_SELFTEST, INV_ENTRY, &num));
	EXPECT_EQ(0, num);
	num = 1;
	EXPECT_EQ(-ENOENT, hwpt_invalidate(self->fd, self->ioas_id, reqs,
					   INV_SELFTEST, INV_ENTRY, &num));
	num = 1;
	EXPECT_EQ(-ENOENT, hwpt_invalidate(self->fd, 0xdead, reqs,
					   INV_SELFTEST, INV_ENTRY, &num));

	/* An empty array probes the data type, ignoring the rest. */
	num = 0;
	EXPECT_EQ(0, hwpt_invalidate(self->fd, nested, NULL, INV_SELFTEST, 0,
				     &num));
	EXPECT_EQ(0, num);
	num = 0;
	EXPECT_EQ(-EINVAL, hwpt_invalidate(self->fd, nested, NULL,
					   IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID,
					   0, &num));
	num = 0;
	EXPECT_EQ(-EINVAL, hwpt_invalidate(self->fd, nested, NULL,
					   IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, 0,
					   &num));
	num = 1;
	EXPECT_EQ(-EINVAL, hwpt_invalidate(self->fd, nested, reqs,
					   IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID,
					   INV_ENTRY, &num));
	EXPECT_EQ(0, num);

	/* Entry length: shorter than the first layout, or longer: EINVAL. */
	num = 1;
	EXPECT_EQ(-EINVAL, hwpt_invalidate(self->fd, nested, reqs,
					   INV_SELFTEST, INV_ENTRY - 1, &num));
	EXPECT_EQ(0, num);
	num = 1;
	EXPECT_EQ(-EINVAL, hwpt_invalidate(self->fd, nested, reqs,
					   INV_SELFTEST, INV_ENTRY + 4, &num));
	EXPECT_EQ(0, num);
	num = 1;
	EXPECT_EQ(-EINVAL, hwpt_invalidate(self->fd, nested, reqs,
					   INV_SELFTEST, 1, &num));
	EXPECT_EQ(0, num);

	/* The mock's entry checks: flags, then the IOTLB ID. */
	num = 1;
	reqs[0].flags = 0xffffffff;
	EXPECT_EQ(-EOPNOTSUPP, hwpt_invalidate(self->fd, nested, reqs,
					       INV_SELFTEST, INV_ENTRY, &num));
	EXPECT_EQ(0, num);
	num = 1;
	reqs[0].flags = 1 << 1;
	reqs[0].iotlb_id = MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1;
	EXPECT_EQ(-EOPNOTSUPP, hwpt_invalidate(self->fd, nested, reqs,
					       INV_SELFTEST, INV_ENTRY, &num));
	num = 1;
	reqs[0].flags = 0;
	EXPECT_EQ(-EINVAL, hwpt_invalidate(self->fd, nested, reqs,
					   INV_SELFTEST, INV_ENTRY, &num));
	EXPECT_EQ(0, num);
	/* FLAG_ALL ignores the ID only once it is in range. */
	num = 1;
	reqs[0].flags = INV_ALL;
	EXPECT_EQ(-EINVAL, hwpt_invalidate(self->fd, nested, reqs,
					   INV_SELFTEST, INV_ENTRY, &num));
	EXPECT_EQ(0, num);
	/* A fault in the array: EFAULT, nothing handled. */
	num = 1;
	EXPECT_EQ(-EFAULT, hwpt_invalidate(self->fd, nested, (void *)8,
					   INV_SELFTEST, INV_ENTRY, &num));
	EXPECT_EQ(0, num);
	/* None of it touched the IOTLB. */
	EXPECT_EQ(0, check_iotlb_all(self->fd, nested,
				     IOMMU_TEST_IOTLB_DEFAULT));
}

TEST_F(nesting, invalidate_stops_at_the_first_failing_entry)
{
	struct iommu_hwpt_invalidate_selftest reqs[4] = {};
	__u32 nested, other, num;

	ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id, self->parent_id,
				  IOMMU_TEST_IOTLB_DEFAULT, &nested));
	ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id, self->parent_id,
				  IOMMU_TEST_IOTLB_DEFAULT, &other));
	/* Entry 0 clears ID 0; entry 1 has bad flags: one handled. */
	reqs[0].iotlb_id = 0;
	reqs[1].flags = 0xffffffff;
	reqs[1].iotlb_id = 1;
	num = 2;
	EXPECT_EQ(-EOPNOTSUPP, hwpt_invalidate(self->fd, nested, reqs,
					       INV_SELFTEST, INV_ENTRY, &num));
	EXPECT_EQ(1, num);
	EXPECT_EQ(0, tcmd_check_iotlb(self->fd, nested, 0, 0));
	EXPECT_EQ(0, tcmd_check_iotlb(self->fd, nested, 1,
				      IOMMU_TEST_IOTLB_DEFAULT));
	/* Entries 0, 1 fine (1 clears ID 1), entry 2 out of range. */
	reqs[1].flags = 0;
	reqs[2].iotlb_id = MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1;
	reqs[3].iotlb_id = 3;
	num = 4;
	EXPECT_EQ(-EINVAL, hwpt_invalidate(self->fd, nested, reqs,
					   INV_SELFTEST, INV_ENTRY, &num));
	EXPECT_EQ(2, num);
	EXPECT_EQ(0, tcmd_check_iotlb(self->fd, nested, 1, 0));
	EXPECT_EQ(0, tcmd_check_iotlb(self->fd, nested, 2,
				      IOMMU_TEST_IOTLB_DEFAULT));
	/* Entry 3 was never reached. */
	EXPECT_EQ(0, tcmd_check_iotlb(self->fd, nested, 3,
				      IOMMU_TEST_IOTLB_DEFAULT));
	/* A whole array succeeds and reports every entry. */
	reqs[0].iotlb_id = 2;
	reqs[1].iotlb_id = 3;
	num = 2;
	EXPECT_EQ(0, hwpt_invalidate(self->fd, nested, reqs, INV_SELFTEST,
				     INV_ENTRY, &num));
	EXPECT_EQ(2, num);
	EXPECT_EQ(0, check_iotlb_all(self->fd, nested, 0));
	/* The other nested HWPT on the same parent kept its IOTLB. */
	EXPECT_EQ(0, check_iotlb_all(self->fd, other,
				     IOMMU_TEST_IOTLB_DEFAULT));
	/* FLAG_ALL clears every entry whatever the ID. */
	reqs[0].flags = INV_ALL;
	reqs[0].iotlb_id = 2;
	num = 1;
	EXPECT_EQ(0, hwpt_invalidate(self->fd, other, reqs, INV_SELFTEST,
				     INV_ENTRY, &num));
	EXPECT_EQ(1, num);
	EXPECT_EQ(0, check_iotlb_all(self->fd, other, 0));
}

TEST_F(nesting, invalidate_with_a_caller_layout_of_its_own)
{
	/* A caller whose entries are padded: entry_len must be the mock's. */
	struct padded {
		struct iommu_hwpt_invalidate_selftest inv;
		__u32 pad;
	} reqs[2] = {
		{ .inv = { .iotlb_id = 1 } },
		{ .inv = { .iotlb_id = 2 } },
	};
	__u32 nested, num = 2;

	ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id, self->parent_id,
				  5, &nested));
	EXPECT_EQ(-EINVAL, hwpt_invalidate(self->fd, nested, reqs,
					   INV_SELFTEST, sizeof(reqs[0]),
					   &num));
	EXPECT_EQ(0, num);
	EXPECT_EQ(0, check_iotlb_all(self->fd, nested, 5));
}

TEST_F(nesting, invalidate_reply_fault_is_efault_after_the_work)
{
	struct iommu_hwpt_invalidate_selftest req = { .flags = INV_ALL };
	struct iommu_hwpt_invalidate *cmd;
	__u32 nested;

	ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id, self->parent_id,
				  9, &nested));
	cmd = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, cmd);
	*cmd = (struct iommu_hwpt_invalidate){
		.size = sizeof(*cmd),
		.hwpt_id = nested,
		.data_uptr = (__u64)(uintptr_t)&req,
		.data_type = INV_SELFTEST,
		.entry_len = sizeof(req),
		.entry_num = 1,
	};
	ASSERT_EQ(0, mprotect(cmd, PAGE_SZ, PROT_READ));
	EXPECT_EQ(-EFAULT, iommufd_ioctl(self->fd, IOMMU_HWPT_INVALIDATE, cmd));
	/* Invalidation is done once the driver ran; only the count is lost. */
	EXPECT_EQ(0, check_iotlb_all(self->fd, nested, 0));
	munmap(cmd, PAGE_SZ);
}

/* ---------------------------------------------------------------------- */
/* Accounting: pinned_vm (VmPin) and the user's locked_vm. */

TEST_F(nesting, pinned_vm_returns_to_start)
{
	__u32 ioas, stdev, idev, parent, nested;
	long pin_start;
	int fd;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, tcmd_mock_domain_flags(fd, ioas, self->dev_flags, &stdev,
					    NULL, &idev));
	ASSERT_EQ(0, hwpt_alloc_flags(fd, idev, ioas, NEST_PARENT, &parent));
	ASSERT_EQ(0, nested_alloc(fd, idev, parent, 1, &nested));
	ASSERT_EQ(0, tcmd_mock_domain_replace(fd, stdev, nested, NULL));
	pin_start = proc_status_kb("VmPin");
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas, self->buf, BUF_SIZE, IOVA_BASE));
	/* One pin of the buffer, charged once, whatever HWPTs nest on it. */
	EXPECT_EQ(pin_start + (long)(BUF_SIZE / 1024), proc_status_kb("VmPin"));
	ASSERT_EQ(0, nested_alloc(fd, idev, parent, 2, NULL));
	EXPECT_EQ(pin_start + (long)(BUF_SIZE / 1024), proc_status_kb("VmPin"));
	/* Destroy in order; everything comes back. */
	ASSERT_EQ(0, tcmd_mock_domain_replace(fd, stdev, ioas, NULL));
	ASSERT_EQ(0, iommufd_destroy(fd, nested));
	ASSERT_EQ(-EBUSY, iommufd_destroy(fd, parent));
	ASSERT_EQ(0, ioas_unmap(fd, ioas, IOVA_BASE, BUF_SIZE, NULL));
	EXPECT_EQ(pin_start, proc_status_kb("VmPin"));
	/* Again, and this time the close does it. */
	ASSERT_EQ(0, nested_alloc(fd, idev, parent, 1, &nested));
	ASSERT_EQ(0, tcmd_mock_domain_replace(fd, stdev, nested, NULL));
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas, self->buf, BUF_SIZE, IOVA_BASE));
	close(fd);
	EXPECT_EQ(pin_start, vm_pin_settled(pin_start));
}

/*
 * As a user of its own (nobody, whose locked_vm starts at 0), without
 * CAP_IPC_LOCK and with RLIMIT_MEMLOCK at BUF_SIZE: the buffer mapped
 * under a nested HWPT takes the whole limit, one page more is ENOMEM;
 * after the nested HWPT, its parent and the mapping are gone, the whole
 * buffer maps again, so the user's locked_vm came back. Returns 0 or the
 * failing step.
 */
static int locked_vm_child(char *buf, __u32 dev_flags)
{
	struct rlimit lim = { .rlim_cur = BUF_SIZE, .rlim_max = BUF_SIZE };
	__u32 ioas, stdev, idev, parent, nested;
	int fd;

	fd = iommufd_open();
	if (fd < 0)
		return 1;
	if (setrlimit(RLIMIT_MEMLOCK, &lim) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return 2;
	if (ioas_alloc(fd, &ioas) ||
	    tcmd_mock_domain_flags(fd, ioas, dev_flags, &stdev, NULL, &idev) ||
	    hwpt_alloc_flags(fd, idev, ioas, NEST_PARENT, &parent) ||
	    nested_alloc(fd, idev, parent, 1, &nested) ||
	    tcmd_mock_domain_replace(fd, stdev, nested, NULL))
		return 3;
	if (ioas_map_fixed(fd, ioas, buf, BUF_SIZE, IOVA_BASE))
		return 4;
	if (ioas_map_fixed(fd, ioas, buf, PAGE_SZ, IOVA_BASE + BUF_SIZE) !=
	    -ENOMEM)
		return 5;
	if (tcmd_mock_domain_replace(fd, stdev, ioas, NULL) ||
	    iommufd_destroy(fd, nested) || iommufd_destroy(fd, parent) ||
	    ioas_unmap(fd, ioas, IOVA_BASE, BUF_SIZE, NULL))
		return 6;
	if (hwpt_alloc_flags(fd, idev, ioas, NEST_PARENT, &parent) ||
	    nested_alloc(fd, idev, parent, 1, &nested) ||
	    tcmd_mock_domain_replace(fd, stdev, nested, NULL))
		return 7;
	if (ioas_map_fixed(fd, ioas, buf, BUF_SIZE, IOVA_BASE))
		return 8;
	close(fd);
	return 0;
}

TEST_F(nesting, locked_vm_returns_to_start)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(locked_vm_child(self->buf, self->dev_flags));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* ---------------------------------------------------------------------- */
/* Fault injection: every failure leaves nothing; the run through works. */

TEST_F(nesting, nested_alloc_fail_nth)
{
	__u32 nested = 0, probe, next = next_id(self->fd);
	unsigned int n;
	int fired, rc;

	ASSERT_NE(0, next);
	for (n = 1; n < 100; n++) {
		ASSERT_EQ(0, fail_nth_arm(self->fd, n, MOCK_FAULT_ALL));
		rc = nested_alloc(self->fd, self->idev_id, self->parent_id, 4,
				  &nested);
		ASSERT_EQ(0, fail_nth_disarm(self->fd, &fired));
		if (!fired)
			break;
		ASSERT_NE(0, rc);
		ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, next));
		/* The parent is not held by what failed. */
		ASSERT_EQ(0, hwpt_alloc_flags(self->fd, self->idev_id,
					      self->ioas_id, NEST_PARENT,
					      &probe));
		ASSERT_EQ(0, iommufd_destroy(self->fd, probe));
	}
	ASSERT_LT(1, n);
	ASSERT_EQ(0, rc);
	EXPECT_EQ(0, check_iotlb_all(self->fd, nested, 4));
	EXPECT_EQ(-EBUSY, iommufd_destroy(self->fd, self->parent_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, nested));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->parent_id));
}

TEST_F(nesting, invalidate_fail_nth)
{
	struct iommu_hwpt_invalidate_selftest reqs[3] = {
		{ .iotlb_id = 0 }, { .iotlb_id = 1 }, { .iotlb_id = 2 },
	};
	__u32 nested, num, i;
	unsigned int n;
	int fired, rc;

	ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id, self->parent_id,
				  6, &nested));
	for (n = 1; n < 100; n++) {
		num = 3;
		ASSERT_EQ(0, fail_nth_arm(self->fd, n, MOCK_FAULT_ALL));
		rc = hwpt_invalidate(self->fd, nested, reqs, INV_SELFTEST,
				     INV_ENTRY, &num);
		ASSERT_EQ(0, fail_nth_disarm(self->fd, &fired));
		if (!fired)
			break;
		ASSERT_NE(0, rc);
		/*
		 * What was reported handled is cleared, and nothing more;
		 * a fault in the reply leaves the count unknown (EFAULT).
		 */
		if (rc != -EFAULT || num != 3) {
			for (i = 0; i != 3; i++)
				ASSERT_EQ(0, tcmd_check_iotlb(self->fd, nested,
							      i, i < num ? 0 :
							      6));
		}
		/* Start over. */
		ASSERT_EQ(0, iommufd_destroy(self->fd, nested));
		ASSERT_EQ(0, nested_alloc(self->fd, self->idev_id,
					  self->parent_id, 6, &nested));
	}
	ASSERT_LT(1, n);
	ASSERT_EQ(0, rc);
	EXPECT_EQ(3, num);
	for (i = 0; i != 3; i++)
		EXPECT_EQ(0, tcmd_check_iotlb(self->fd, nested, i, 0));
	EXPECT_EQ(0, tcmd_check_iotlb(self->fd, nested, 3, 6));
}

TEST_HARNESS_MAIN
