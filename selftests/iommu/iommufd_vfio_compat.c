// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO type1 container ioctls on a /dev/iommu fd (iommufd/vfio_compat.c,
 * Documentation/vfio-compat.rst), IOMMU_VFIO_IOAS, and the last ABI
 * differences from upstream 6.12 (the parity_* tests). The VFIO ioctls
 * always go through ioctl(): they take no io_uring path.
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "iommufd_utils.h"

#define PSZ ((size_t)sysconf(_SC_PAGESIZE))
/* Inside the mock aperture [16 MiB, 2 GiB). */
#define IOVA_BASE 0x4000000UL

static int vfio_ioas(int fd, __u16 op, __u32 *ioas_id)
{
	struct iommu_vfio_ioas cmd = {
		.size = sizeof(cmd),
		.op = op,
		.ioas_id = ioas_id ? *ioas_id : 0,
	};
	int rc = iommufd_ioctl(fd, IOMMU_VFIO_IOAS, &cmd);

	if (!rc && ioas_id)
		*ioas_id = cmd.ioas_id;
	return rc;
}

/* A raw ioctl: its result, or -errno. */
static long vioctl(int fd, unsigned long cmd, unsigned long arg)
{
	long rc = ioctl(fd, cmd, arg);

	return rc < 0 ? -errno : rc;
}

static int vfio_map(int fd, __u64 iova, void *buf, __u64 size, __u32 flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = flags,
		.vaddr = (__u64)(uintptr_t)buf,
		.iova = iova,
		.size = size,
	};

	return vioctl(fd, VFIO_IOMMU_MAP_DMA, (unsigned long)&map);
}

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* Unmap; *@size gets what the kernel wrote back (poisoned before). */
static int vfio_unmap(int fd, __u64 iova, __u64 *size, __u32 flags)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = flags,
		.iova = iova,
		.size = *size,
	};
	int rc = vioctl(fd, VFIO_IOMMU_UNMAP_DMA, (unsigned long)&unmap);

	*size = unmap.size;
	return rc;
}

static void *buf_map(size_t len)
{
	void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return buf == MAP_FAILED ? NULL : buf;
}

/* ---- no compat IOAS ---- */

FIXTURE(compat)
{
	int fd;
};

FIXTURE_SETUP(compat)
{
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(compat)
{
	close(self->fd);
}

TEST_F(compat, api_version_is_0)
{
	ASSERT_EQ(VFIO_API_VERSION, vioctl(self->fd, VFIO_GET_API_VERSION, 0));
	ASSERT_EQ(0, VFIO_API_VERSION);
}

TEST_F(compat, check_extension_answers_type1_v2_and_unmap_all_only)
{
	static const unsigned long no[] = {
		VFIO_TYPE1_NESTING_IOMMU, VFIO_UPDATE_VADDR,
		VFIO_NOIOMMU_IOMMU, VFIO_SPAPR_TCE_IOMMU,
		VFIO_SPAPR_TCE_v2_IOMMU, VFIO_EEH, 0, 12345, ~0UL,
	};
	unsigned int i;

	ASSERT_EQ(1, vioctl(self->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU));
	ASSERT_EQ(1, vioctl(self->fd, VFIO_CHECK_EXTENSION,
			    VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(1, vioctl(self->fd, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL));
	for (i = 0; i != ARRAY_SIZE(no); i++)
		ASSERT_EQ(0, vioctl(self->fd, VFIO_CHECK_EXTENSION, no[i]));
	/* Coherency is a property of the compat IOAS's domains. */
	ASSERT_EQ(-ENODEV, vioctl(self->fd, VFIO_CHECK_EXTENSION,
				  VFIO_DMA_CC_IOMMU));
}

TEST_F(compat, every_ioctl_without_compat_ioas_is_enodev)
{
	struct vfio_iommu_type1_dirty_bitmap dirty = {
		.argsz = sizeof(dirty),
		.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START,
	};
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	char buf[64];
	__u64 size = PSZ;
	__u32 id = 0;

	ASSERT_EQ(-ENODEV, vioctl(self->fd, VFIO_SET_IOMMU,
				  VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(-ENODEV, vioctl(self->fd, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
	/* The type is checked first. */
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_SET_IOMMU,
				  VFIO_SPAPR_TCE_IOMMU));
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_SET_IOMMU, 0));
	ASSERT_EQ(-ENODEV, vioctl(self->fd, VFIO_IOMMU_GET_INFO,
				  (unsigned long)&info));
	ASSERT_EQ(-ENODEV, vfio_map(self->fd, IOVA_BASE, buf, PSZ, RW));
	ASSERT_EQ(-ENODEV, vfio_unmap(self->fd, IOVA_BASE, &size, 0));
	ASSERT_EQ(-ENODEV, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_GET, &id));
	ASSERT_EQ(-ENODEV, vioctl(self->fd, VFIO_IOMMU_DIRTY_PAGES,
				  (unsigned long)&dirty));
}

TEST_F(compat, other_vfio_and_unknown_ioctls_are_enotty)
{
	static const unsigned long cmds[] = {
		VFIO_GROUP_GET_STATUS,
		VFIO_GROUP_SET_CONTAINER, VFIO_DEVICE_GET_INFO,
		VFIO_IOMMU_ENABLE, VFIO_IOMMU_DISABLE,
		_IO(VFIO_TYPE, VFIO_BASE - 1), _IO('x', 0x80), _IO(';', 0x8f),
		_IO(';', 0xff),
	};
	char zero[256] = {};
	unsigned int i;

	for (i = 0; i != ARRAY_SIZE(cmds); i++) {
		*(__u32 *)zero = sizeof(zero);
		ASSERT_EQ(-ENOTTY, vioctl(self->fd, cmds[i],
					  (unsigned long)zero));
	}
}

TEST_F(compat, vfio_ioctls_do_not_go_through_io_uring)
{
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(-ENOTTY, iommufd_uring_submit_one(self->fd,
						    VFIO_IOMMU_GET_INFO,
						    &info));
}

TEST_F(compat, vfio_ioas_get_set_clear)
{
	__u32 ioas, other, id;

	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas));
	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	id = 9999;
	ASSERT_EQ(-ENOENT, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_SET, &id));
	ASSERT_EQ(-ENODEV, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_GET, &id));
	id = ioas;
	ASSERT_EQ(0, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_SET, &id));
	id = 0xdeadbeef; /* output only: never read */
	ASSERT_EQ(0, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_GET, &id));
	ASSERT_EQ(ioas, id);
	id = other;
	ASSERT_EQ(0, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_SET, &id));
	ASSERT_EQ(0, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_GET, &id));
	ASSERT_EQ(other, id);
	ASSERT_EQ(0, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_CLEAR, NULL));
	ASSERT_EQ(-ENODEV, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_GET, &id));
	/* CLEAR destroys nothing. */
	ASSERT_EQ(0, iommufd_destroy(self->fd, other));
	ASSERT_EQ(0, iommufd_destroy(self->fd, ioas));
}

TEST_F(compat, vfio_ioas_refuses_unknown_op_reserved_and_short_size)
{
	struct iommu_vfio_ioas cmd = { .size = sizeof(cmd) };
	__u32 ioas;

	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas));
	cmd.op = 3;
	ASSERT_EQ(-EOPNOTSUPP, iommufd_ioctl(self->fd, IOMMU_VFIO_IOAS, &cmd));
	cmd.op = 0xffff;
	ASSERT_EQ(-EOPNOTSUPP, iommufd_ioctl(self->fd, IOMMU_VFIO_IOAS, &cmd));
	cmd.op = IOMMU_VFIO_IOAS_SET;
	cmd.ioas_id = ioas;
	cmd.__reserved = 1;
	ASSERT_EQ(-EOPNOTSUPP, iommufd_ioctl(self->fd, IOMMU_VFIO_IOAS, &cmd));
	cmd.__reserved = 0;
	cmd.size = offsetof(struct iommu_vfio_ioas, __reserved);
	ASSERT_EQ(-EINVAL, iommufd_ioctl(self->fd, IOMMU_VFIO_IOAS, &cmd));
	cmd.size = sizeof(cmd);
	ASSERT_EQ(0, iommufd_ioctl(self->fd, IOMMU_VFIO_IOAS, &cmd));
}

TEST_F(compat, vfio_ioas_set_refuses_an_object_that_is_no_ioas)
{
	__u32 ioas, stdev, hwpt, id;

	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, ioas, &stdev, &hwpt, NULL));
	id = hwpt;
	ASSERT_EQ(-ENOENT, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_SET, &id));
	id = stdev;
	ASSERT_EQ(-ENOENT, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_SET, &id));
}

TEST_F(compat, destroying_the_compat_ioas_clears_it)
{
	__u32 ioas, again;
	char *buf = buf_map(PSZ);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas));
	ASSERT_EQ(0, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_SET, &ioas));
	ASSERT_EQ(0, vfio_map(self->fd, IOVA_BASE, buf, PSZ, RW));
	ASSERT_EQ(0, iommufd_destroy(self->fd, ioas));
	ASSERT_EQ(-ENODEV, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_GET, &again));
	/* The ID comes back for a new IOAS, which is not the compat one. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &again));
	ASSERT_EQ(ioas, again);
	ASSERT_EQ(-ENODEV, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_GET, &again));
	ASSERT_EQ(-ENODEV, vfio_map(self->fd, IOVA_BASE, buf, PSZ, RW));
	munmap(buf, PSZ);
}

/* ---- a compat IOAS, TYPE1 or TYPE1v2, with or without a mock domain ---- */

FIXTURE(vfio)
{
	int fd;
	__u32 ioas_id;
	__u32 hwpt_id;
	char *buf;
	size_t len;
};

FIXTURE_VARIANT(vfio)
{
	unsigned long type;
	bool domain;
};

FIXTURE_VARIANT_ADD(vfio, v2)
{
	.type = VFIO_TYPE1v2_IOMMU,
};

FIXTURE_VARIANT_ADD(vfio, v1)
{
	.type = VFIO_TYPE1_IOMMU,
};

FIXTURE_VARIANT_ADD(vfio, v2_domain)
{
	.type = VFIO_TYPE1v2_IOMMU,
	.domain = true,
};

FIXTURE_VARIANT_ADD(vfio, v1_domain)
{
	.type = VFIO_TYPE1_IOMMU,
	.domain = true,
};

FIXTURE_SETUP(vfio)
{
	self->buf = NULL;
	self->hwpt_id = 0;
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	if (variant->domain && !iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	ASSERT_EQ(0, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_SET, &self->ioas_id));
	if (variant->domain)
		ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL,
					      &self->hwpt_id, NULL));
	ASSERT_EQ(0, vioctl(self->fd, VFIO_SET_IOMMU, variant->type));
	self->len = 64 * PSZ;
	self->buf = buf_alloc_written(self->len, 17);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(vfio)
{
	if (self->buf) {
		close(self->fd);
		self->fd = iommufd_open();
		/* Every pin went with the context. */
		if (iommufd_is_test_build(self->fd))
			EXPECT_EQ(0, tcmd_check_refs_settled(self->fd,
							     self->buf,
							     self->len, 0));
		munmap(self->buf, self->len);
	}
	close(self->fd);
}

/* Is [iova, iova + len) mapped to @buf (domain) or at least occupied? */
static int mapped_as(int fd, __u32 ioas_id, __u32 hwpt_id, __u64 iova,
		     void *buf, size_t len)
{
	if (hwpt_id)
		return tcmd_check_map(fd, hwpt_id, iova, buf, len);
	/* Without a domain: a fixed map of the range must collide. */
	return ioas_map_fixed(fd, ioas_id, buf, len, iova) == -EEXIST ? 0 :
									-ENOENT;
}

TEST_F(vfio, set_iommu_again_and_the_huge_pages_option_says_which)
{
	__u64 val;

	ASSERT_EQ(0, ioas_huge_pages_get(self->fd, self->ioas_id, &val));
	ASSERT_EQ(variant->type == VFIO_TYPE1v2_IOMMU, val);
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_SET_IOMMU,
				  VFIO_SPAPR_TCE_IOMMU));
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_SET_IOMMU,
				  VFIO_NOIOMMU_IOMMU));
	ASSERT_EQ(0, vioctl(self->fd, VFIO_SET_IOMMU, variant->type));
	ASSERT_EQ(0, vfio_map(self->fd, IOVA_BASE, self->buf, PSZ, RW));
	/* With a domain and mappings, large IOPTEs may be in use. */
	if (variant->domain && variant->type == VFIO_TYPE1v2_IOMMU) {
		ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_SET_IOMMU,
					  VFIO_TYPE1_IOMMU));
	} else {
		ASSERT_EQ(0, vioctl(self->fd, VFIO_SET_IOMMU,
				    VFIO_TYPE1_IOMMU));
	}
}

TEST_F(vfio, map_validates_everything)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = RW,
		.vaddr = (__u64)(uintptr_t)self->buf,
		.iova = IOVA_BASE,
		.size = PSZ,
	};

	map.argsz = offsetof(struct vfio_iommu_type1_dma_map, size) + 7;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_MAP_DMA,
				  (unsigned long)&map));
	map.argsz = sizeof(map);
	map.flags = RW | VFIO_DMA_MAP_FLAG_VADDR;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_MAP_DMA,
				  (unsigned long)&map));
	map.flags = RW | (1U << 31);
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_MAP_DMA,
				  (unsigned long)&map));
	ASSERT_EQ(-EINVAL, vfio_map(self->fd, IOVA_BASE, self->buf, 0, RW));
	ASSERT_EQ(-EOVERFLOW, vfio_map(self->fd, -PSZ, self->buf, 2 * PSZ,
				       RW));
	ASSERT_EQ(-EFAULT, vioctl(self->fd, VFIO_IOMMU_MAP_DMA, 16));
	/* Reserved IOVA (a device's reserved region, say). */
	if (iommufd_is_test_build(self->fd)) {
		ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id,
					       IOVA_BASE + 0x100000, PSZ));
		ASSERT_EQ(-EINVAL, vfio_map(self->fd, IOVA_BASE + 0x100000,
					    self->buf, PSZ, RW));
	}
	ASSERT_EQ(0, vfio_map(self->fd, IOVA_BASE, self->buf, 2 * PSZ, RW));
	ASSERT_EQ(-EEXIST, vfio_map(self->fd, IOVA_BASE + PSZ, self->buf,
				    PSZ, RW));
	/* Misaligned where the IOAS needs page alignment. */
	if (variant->domain || variant->type == VFIO_TYPE1_IOMMU)
		ASSERT_EQ(-EINVAL, vfio_map(self->fd, IOVA_BASE + 0x10001,
					    self->buf, PSZ, RW));
	/* Read-only memory for a writable mapping. */
	ASSERT_EQ(0, mprotect(self->buf + 8 * PSZ, PSZ, PROT_READ));
	if (variant->domain)
		ASSERT_EQ(-EFAULT, vfio_map(self->fd, IOVA_BASE + 0x200000,
					    self->buf + 8 * PSZ, PSZ, RW));
	ASSERT_EQ(0, vfio_map(self->fd, IOVA_BASE + 0x300000,
			      self->buf + 8 * PSZ, PSZ,
			      VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, mprotect(self->buf + 8 * PSZ, PSZ,
			      PROT_READ | PROT_WRITE));
}

TEST_F(vfio, unmap_validates_everything)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = IOVA_BASE,
		.size = PSZ,
	};
	__u64 size;

	ASSERT_EQ(0, vfio_map(self->fd, IOVA_BASE, self->buf, PSZ, RW));
	unmap.argsz = offsetof(struct vfio_iommu_type1_dma_unmap, size) + 7;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
				  (unsigned long)&unmap));
	unmap.argsz = sizeof(unmap);
	unmap.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
				  (unsigned long)&unmap));
	unmap.flags = VFIO_DMA_UNMAP_FLAG_VADDR;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
				  (unsigned long)&unmap));
	unmap.flags = 1U << 20;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
				  (unsigned long)&unmap));
	/* FLAG_ALL takes iova = size = 0 only; nothing is written back. */
	unmap.flags = VFIO_DMA_UNMAP_FLAG_ALL;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
				  (unsigned long)&unmap));
	ASSERT_EQ(PSZ, unmap.size);
	unmap.iova = 0;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
				  (unsigned long)&unmap));
	ASSERT_EQ(-EFAULT, vioctl(self->fd, VFIO_IOMMU_UNMAP_DMA, 16));
	size = 0;
	ASSERT_EQ(-EINVAL, vfio_unmap(self->fd, IOVA_BASE, &size, 0));
	size = 2 * PSZ;
	ASSERT_EQ(-EOVERFLOW, vfio_unmap(self->fd, -PSZ, &size, 0));
	/* A range with nothing in it succeeds and unmaps nothing. */
	size = 16 * PSZ;
	ASSERT_EQ(0, vfio_unmap(self->fd, IOVA_BASE + 0x100000, &size, 0));
	ASSERT_EQ(0, size);
	ASSERT_EQ(0, mapped_as(self->fd, self->ioas_id, self->hwpt_id,
			       IOVA_BASE, self->buf, PSZ));
}

TEST_F(vfio, unmap_echoes_the_size_unmapped)
{
	__u64 size = 1UL << 30;

	ASSERT_EQ(0, vfio_map(self->fd, IOVA_BASE, self->buf, 3 * PSZ, RW));
	ASSERT_EQ(0, vfio_map(self->fd, IOVA_BASE + 8 * PSZ, self->buf,
			      5 * PSZ, VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, vfio_unmap(self->fd, IOVA_BASE, &size, 0));
	ASSERT_EQ(8 * PSZ, size);
	size = 1UL << 30;
	ASSERT_EQ(0, vfio_unmap(self->fd, IOVA_BASE, &size, 0));
	ASSERT_EQ(0, size);
}

TEST_F(vfio, unmap_all_flag_unmaps_everything)
{
	unsigned int i;
	__u64 size;

	/* 1, 2, 3, 1, 2, 3, 1, 2 pages: 15 in all. */
	for (i = 0; i != 8; i++)
		ASSERT_EQ(0, vfio_map(self->fd, IOVA_BASE + i * 4 * PSZ,
				      self->buf + i * PSZ, (i % 3 + 1) * PSZ,
				      RW));
	size = 0;
	ASSERT_EQ(0, vfio_unmap(self->fd, 0, &size, VFIO_DMA_UNMAP_FLAG_ALL));
	ASSERT_EQ(15 * PSZ, size);
	size = 0;
	ASSERT_EQ(0, vfio_unmap(self->fd, 0, &size, VFIO_DMA_UNMAP_FLAG_ALL));
	ASSERT_EQ(0, size);
	if (iommufd_is_test_build(self->fd))
		ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, self->len,
					     0));
}

/* v2 refuses to split a mapping (ENOENT); v1 unmaps any part of it. */
TEST_F(vfio, split_unmap_is_v1_only)
{
	__u64 size = PSZ;
	int rc;

	ASSERT_EQ(0, vfio_map(self->fd, IOVA_BASE, self->buf, 4 * PSZ, RW));
	rc = vfio_unmap(self->fd, IOVA_BASE + PSZ, &size, 0);
	if (variant->type == VFIO_TYPE1v2_IOMMU) {
		ASSERT_EQ(-ENOENT, rc);
		ASSERT_EQ(0, size);
		ASSERT_EQ(0, mapped_as(self->fd, self->ioas_id, self->hwpt_id,
				       IOVA_BASE, self->buf, 4 * PSZ));
		return;
	}
	ASSERT_EQ(0, rc);
	ASSERT_EQ(PSZ, size);
	ASSERT_EQ(0, mapped_as(self->fd, self->ioas_id, self->hwpt_id,
			       IOVA_BASE, self->buf, PSZ));
	ASSERT_EQ(0, mapped_as(self->fd, self->ioas_id, self->hwpt_id,
			       IOVA_BASE + 2 * PSZ, self->buf + 2 * PSZ,
			       2 * PSZ));
	if (self->hwpt_id) {
		struct iommu_test_iopte_stats st;

		ASSERT_EQ(0, tcmd_md_iopte_stats(self->fd, self->hwpt_id,
						 IOVA_BASE, 4 * PSZ, &st));
		ASSERT_EQ(PSZ, st.unmapped);
		/* The pieces still pin their pages, once each. */
		ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, PSZ, 1));
		ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf + PSZ, PSZ,
					     0));
		ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf + 2 * PSZ,
					     2 * PSZ, 1));
	}
	/* The pieces unmap like mappings of their own. */
	size = 3 * PSZ;
	ASSERT_EQ(0, vfio_unmap(self->fd, IOVA_BASE + PSZ, &size, 0));
	ASSERT_EQ(2 * PSZ, size);
	size = PSZ;
	ASSERT_EQ(0, vfio_unmap(self->fd, IOVA_BASE, &size, 0));
	ASSERT_EQ(PSZ, size);
}

/* One mapping, unmapped page by page in shuffled order. */
TEST_F(vfio, page_by_page_unmaps_in_shuffled_order)
{
	enum { N = 64 };
	unsigned int order[N], i;
	__u64 size;

	for (i = 0; i != N; i++)
		order[i] = i;
	srand(5);
	for (i = N - 1; i; i--) {
		unsigned int j = rand() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	if (variant->type == VFIO_TYPE1_IOMMU) {
		ASSERT_EQ(0, vfio_map(self->fd, IOVA_BASE, self->buf, N * PSZ,
				      RW));
	} else {
		/* v2 unmaps whole mappings only: map them page by page. */
		for (i = 0; i != N; i++)
			ASSERT_EQ(0, vfio_map(self->fd, IOVA_BASE + i * PSZ,
					      self->buf + i * PSZ, PSZ, RW));
	}
	for (i = 0; i != N; i++) {
		size = PSZ;
		ASSERT_EQ(0, vfio_unmap(self->fd, IOVA_BASE + order[i] * PSZ,
					&size, 0));
		ASSERT_EQ(PSZ, size);
		if (self->hwpt_id)
			ASSERT_EQ(0, tcmd_check_refs(self->fd,
						     self->buf + order[i] * PSZ,
						     PSZ, 0));
	}
	size = 0;
	ASSERT_EQ(0, vfio_unmap(self->fd, 0, &size, VFIO_DMA_UNMAP_FLAG_ALL));
	ASSERT_EQ(0, size);
}

/* Check a GET_INFO reply laid out in @b (room @total bytes). */
static void check_info_chain(struct __test_metadata *_metadata, int fd,
			     __u32 ioas_id, const char *b, __u32 total)
{
	const struct vfio_iommu_type1_info *info = (const void *)b;
	const struct vfio_iommu_type1_info_dma_avail *avail;
	const struct vfio_iommu_type1_info_cap_iova_range *cap;
	const struct vfio_iommu_type1_info_cap_migration *mig;
	struct iommu_iova_range ranges[16];
	__u32 num = 16, i;
	__u64 align;

	ASSERT_EQ(0, ioas_iova_ranges(fd, ioas_id, ranges, &num, &align));
	ASSERT_EQ(sizeof(*info), info->cap_offset);
	avail = (const void *)(b + info->cap_offset);
	ASSERT_EQ(VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, avail->header.id);
	ASSERT_EQ(1, avail->header.version);
	ASSERT_EQ(UINT32_MAX, avail->avail);
	ASSERT_EQ(sizeof(*info) + 16, avail->header.next);
	cap = (const void *)(b + avail->header.next);
	ASSERT_EQ(VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, cap->header.id);
	ASSERT_EQ(1, cap->header.version);
	ASSERT_EQ(num, cap->nr_iovas);
	ASSERT_EQ(cap->header.next, avail->header.next + sizeof(*cap) +
				    num * sizeof(cap->iova_ranges[0]));
	/* Dirty tracking, as type1: its page size, its bitmap limit. */
	mig = (const void *)(b + cap->header.next);
	ASSERT_EQ(VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, mig->header.id);
	ASSERT_EQ(1, mig->header.version);
	ASSERT_EQ(0, mig->header.next);
	ASSERT_EQ(0, mig->flags);
	ASSERT_EQ(PSZ, mig->pgsize_bitmap);
	ASSERT_EQ(1ULL << 28, mig->max_dirty_bitmap_size);
	ASSERT_EQ(total, cap->header.next + sizeof(*mig));
	for (i = 0; i != num; i++) {
		ASSERT_EQ(ranges[i].start, cap->iova_ranges[i].start);
		ASSERT_EQ(ranges[i].last, cap->iova_ranges[i].end);
	}
}

TEST_F(vfio, get_info_at_every_argsz_writes_nothing_past_it)
{
	const __u32 minsz = offsetof(struct vfio_iommu_type1_info,
				     cap_offset);
	struct vfio_iommu_type1_info *info;
	__u64 pgsizes;
	__u32 total, argsz, i;
	char *b;

	/* Two usable ranges with the hole a reserved region makes. */
	if (iommufd_is_test_build(self->fd))
		ASSERT_EQ(0, tcmd_add_reserved(self->fd, self->ioas_id,
					       0x70000000, 0x100000));
	b = malloc(4096);
	ASSERT_NE(NULL, b);
	info = (void *)b;
	for (argsz = 0; argsz != minsz; argsz++) {
		info->argsz = argsz;
		ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_GET_INFO,
					  (unsigned long)b));
	}
	info->argsz = minsz;
	ASSERT_EQ(0, vioctl(self->fd, VFIO_IOMMU_GET_INFO, (unsigned long)b));
	total = info->argsz;
	ASSERT_LT(total, 4000);
	pgsizes = info->iova_pgsizes;
	/* The mock's sub-page IOPTE folds into PAGE_SIZE. */
	if (variant->domain)
		ASSERT_EQ(PSZ, pgsizes);
	if (!variant->domain)
		ASSERT_EQ(~(__u64)(PSZ - 1), pgsizes);

	for (argsz = minsz; argsz <= total + 16; argsz++) {
		memset(b, POISON_BYTE, 4096);
		info->argsz = argsz;
		ASSERT_EQ(0, vioctl(self->fd, VFIO_IOMMU_GET_INFO,
				    (unsigned long)b));
		for (i = argsz; i != 4096; i++)
			ASSERT_EQ((char)POISON_BYTE, b[i]);
		ASSERT_EQ(total, info->argsz);
		ASSERT_EQ(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS,
			  info->flags);
		ASSERT_EQ(pgsizes, info->iova_pgsizes);
		if (argsz < offsetof(struct vfio_iommu_type1_info,
				     cap_offset) + sizeof(__u32))
			continue;
		if (argsz < total) {
			ASSERT_EQ(0, info->cap_offset);
			continue;
		}
		check_info_chain(_metadata, self->fd, self->ioas_id, b, total);
	}
	free(b);
}

TEST_F(vfio, dma_cc_follows_the_domains)
{
	ASSERT_EQ(!variant->domain, vioctl(self->fd, VFIO_CHECK_EXTENSION,
					   VFIO_DMA_CC_IOMMU));
	if (!variant->domain)
		return;
	/* The mock domain is not made to enforce coherency. */
	ASSERT_EQ(0, vioctl(self->fd, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU));
}

TEST_F(vfio, maps_are_seen_by_ioas_commands)
{
	__u64 unmapped;

	ASSERT_EQ(0, vfio_map(self->fd, IOVA_BASE, self->buf, 2 * PSZ, RW));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_BASE, 2 * PSZ,
				&unmapped));
	ASSERT_EQ(2 * PSZ, unmapped);
}

/* ---- accounting: per mm, back to the start after close ---- */

/* locked_vm and pinned_vm of this process, in pages. */
static void vm_locked_pinned(long *locked, long *pinned)
{
	*locked = proc_status_kb("VmLck") * 1024 / PSZ;
	*pinned = proc_status_kb("VmPin") * 1024 / PSZ;
}

/*
 * In a child without CAP_IPC_LOCK: MAP_DMA with a domain charges the mm
 * (VmLck), within RLIMIT_MEMLOCK, whatever RLIMIT_MODE says; IOAS_MAP on
 * the same IOAS charges the user instead. All back to the start after
 * unmap and after close. Returns 0 or the failing step.
 */
static int accounting_child(void)
{
	const size_t n = 16;
	struct rlimit lim = { .rlim_cur = 24 * PSZ, .rlim_max = 24 * PSZ };
	long lk0, pin0, lk, pin;
	unsigned int try;
	__u64 size, iova;
	__u32 ioas;
	char *buf;
	int fd;

	if (cap_drop(CAP_IPC_LOCK) || setrlimit(RLIMIT_MEMLOCK, &lim))
		return 1;
	buf = buf_alloc_written(2 * n * PSZ, 3);
	if (!buf)
		return 2;
	vm_locked_pinned(&lk0, &pin0);
	fd = iommufd_open();
	if (fd < 0 || ioas_alloc(fd, &ioas) ||
	    vfio_ioas(fd, IOMMU_VFIO_IOAS_SET, &ioas) ||
	    tcmd_mock_domain(fd, ioas, NULL, NULL, NULL) ||
	    vioctl(fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return 3;
	if (vfio_map(fd, IOVA_BASE, buf, n * PSZ, RW))
		return 4;
	vm_locked_pinned(&lk, &pin);
	if (lk != lk0 + (long)n || pin != pin0 + (long)n)
		return 5;
	/* Beyond RLIMIT_MEMLOCK (24 pages, 16 charged). */
	if (vfio_map(fd, IOVA_BASE + n * PSZ, buf + n * PSZ, n * PSZ, RW) !=
	    -ENOMEM)
		return 6;
	/* IOAS_MAP in the default (user) mode leaves the mm's count alone. */
	iova = IOVA_BASE + 0x1000000;
	if (ioas_map_fixed(fd, ioas, buf + n * PSZ, 4 * PSZ, iova))
		return 7;
	vm_locked_pinned(&lk, &pin);
	if (lk != lk0 + (long)n || pin != pin0 + (long)n + 4)
		return 8;
	size = n * PSZ / 2;
	if (vfio_unmap(fd, IOVA_BASE, &size, 0) != -ENOENT)
		return 9;
	size = n * PSZ;
	if (vfio_unmap(fd, IOVA_BASE, &size, 0) || size != n * PSZ)
		return 10;
	vm_locked_pinned(&lk, &pin);
	if (lk != lk0 || pin != pin0 + 4)
		return 11;
	if (vfio_map(fd, IOVA_BASE, buf, n * PSZ, RW))
		return 12;
	close(fd);
	/* Through io_uring the release may come a moment later. */
	for (try = 0;; try++) {
		vm_locked_pinned(&lk, &pin);
		if ((lk == lk0 && pin == pin0) || !settle_wait(try))
			break;
	}
	if (lk != lk0 || pin != pin0)
		return 13;
	return 0;
}

TEST(accounting_is_per_mm_and_returns_to_start_after_close)
{
	int fd = iommufd_open(), status;
	pid_t pid;

	ASSERT_LE(0, fd);
	if (!iommufd_is_test_build(fd))
		SKIP(return, "needs a test build");
	close(fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(accounting_child());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/* ---- TYPE1 vs TYPE1v2 on hugetlb memory with a huge-IOPTE domain ---- */

FIXTURE(huge)
{
	int fd;
	__u32 ioas_id;
	__u32 hwpt_id;
	char *buf;
	long saved;
};

FIXTURE_VARIANT(huge)
{
	unsigned long type;
};

FIXTURE_VARIANT_ADD(huge, v2)
{
	.type = VFIO_TYPE1v2_IOMMU,
};

FIXTURE_VARIANT_ADD(huge, v1)
{
	.type = VFIO_TYPE1_IOMMU,
};

#define HUGE_SZ (2UL << 20)

FIXTURE_SETUP(huge)
{
	self->saved = -1;
	self->buf = NULL;
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	if (hugetlb_reserve(1, &self->saved))
		SKIP(return, "no 2M hugetlb page");
	self->buf = mmap(NULL, HUGE_SZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
				 MAP_POPULATE, -1, 0);
	if (self->buf == MAP_FAILED) {
		self->buf = NULL;
		SKIP(return, "no 2M hugetlb page");
	}
	memset(self->buf, 0x5a, HUGE_SZ);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	ASSERT_EQ(0, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_SET, &self->ioas_id));
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    MOCK_FLAGS_DEVICE_HUGE_IOVA, NULL,
					    &self->hwpt_id, NULL));
	ASSERT_EQ(0, vioctl(self->fd, VFIO_SET_IOMMU, variant->type));
}

FIXTURE_TEARDOWN(huge)
{
	close(self->fd);
	if (self->buf)
		munmap(self->buf, HUGE_SZ);
	hugetlb_restore(self->saved);
}

TEST_F(huge, split_unmap_of_a_huge_page)
{
	struct iommu_test_iopte_stats st;
	const __u64 iova = 0x10000000;
	__u64 size = PSZ;
	int rc;

	ASSERT_EQ(0, vfio_map(self->fd, iova, self->buf, HUGE_SZ, RW));
	ASSERT_EQ(0, tcmd_check_map(self->fd, self->hwpt_id, iova, self->buf,
				    HUGE_SZ));
	ASSERT_EQ(0, tcmd_md_iopte_stats(self->fd, self->hwpt_id, iova,
					 HUGE_SZ, &st));
	if (variant->type == VFIO_TYPE1v2_IOMMU)
		ASSERT_LT(0, st.huge);
	if (variant->type == VFIO_TYPE1_IOMMU)
		ASSERT_EQ(0, st.huge);

	rc = vfio_unmap(self->fd, iova + HUGE_SZ / 2, &size, 0);
	if (variant->type == VFIO_TYPE1v2_IOMMU) {
		ASSERT_EQ(-ENOENT, rc);
		ASSERT_EQ(0, tcmd_check_map(self->fd, self->hwpt_id, iova,
					    self->buf, HUGE_SZ));
		size = HUGE_SZ;
		ASSERT_EQ(0, vfio_unmap(self->fd, iova, &size, 0));
		ASSERT_EQ(HUGE_SZ, size);
		return;
	}
	ASSERT_EQ(0, rc);
	ASSERT_EQ(PSZ, size);
	ASSERT_EQ(0, tcmd_md_iopte_stats(self->fd, self->hwpt_id, iova,
					 HUGE_SZ, &st));
	ASSERT_EQ(PSZ, st.unmapped);
	ASSERT_EQ(0, tcmd_check_map(self->fd, self->hwpt_id, iova, self->buf,
				    HUGE_SZ / 2));
	ASSERT_EQ(0, tcmd_check_map(self->fd, self->hwpt_id,
				    iova + HUGE_SZ / 2 + PSZ,
				    self->buf + HUGE_SZ / 2 + PSZ,
				    HUGE_SZ / 2 - PSZ));
	size = HUGE_SZ;
	ASSERT_EQ(0, vfio_unmap(self->fd, iova, &size, 0));
	ASSERT_EQ(HUGE_SZ - PSZ, size);
}

/* ---- parity with upstream 6.12's ABI ---- */

FIXTURE(parity)
{
	int fd;
	__u32 ioas_id;
	char *buf;
};

FIXTURE_SETUP(parity)
{
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	self->buf = buf_alloc_written(16 * PSZ, 9);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(parity)
{
	close(self->fd);
	munmap(self->buf, 16 * PSZ);
}

TEST_F(parity, option_huge_pages_looks_up_the_ioas_before_the_op)
{
	struct iommu_option opt = {
		.size = sizeof(opt),
		.option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = 7,
		.object_id = 9999,
	};

	ASSERT_EQ(-ENOENT, iommufd_ioctl(self->fd, IOMMU_OPTION, &opt));
	opt.object_id = self->ioas_id;
	ASSERT_EQ(-EOPNOTSUPP, iommufd_ioctl(self->fd, IOMMU_OPTION, &opt));
}

TEST_F(parity, allow_iovas_bad_element_wins_over_a_later_unreadable_one)
{
	struct iommu_iova_range *r;
	char *pages;

	/* Two readable elements, the third on a PROT_NONE page. */
	pages = mmap(NULL, 2 * PSZ, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	ASSERT_EQ(0, mprotect(pages + PSZ, PSZ, PROT_NONE));
	r = (void *)(pages + PSZ - 2 * sizeof(*r));
	r[0] = (struct iommu_iova_range){ .start = 0x10000, .last = 0x1ffff };
	r[1] = (struct iommu_iova_range){ .start = 0x30000, .last = 0x30000 };
	ASSERT_EQ(-EINVAL, ioas_allow_iovas(self->fd, self->ioas_id, r, 3));
	r[1].start = 0x18000; /* overlaps r[0] */
	r[1].last = 0x3ffff;
	ASSERT_EQ(-EINVAL, ioas_allow_iovas(self->fd, self->ioas_id, r, 3));
	r[1].start = 0x30000;
	ASSERT_EQ(-EFAULT, ioas_allow_iovas(self->fd, self->ioas_id, r, 3));
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, r, 2));
	munmap(pages, 2 * PSZ);
}

TEST_F(parity, hwpt_alloc_checks_in_upstream_order)
{
	struct iommu_hwpt_alloc cmd = { .size = sizeof(cmd) };
	__u32 stdev, hwpt, idev;

	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, &hwpt,
				      &idev));
	/* A bad device before any flag. */
	cmd.dev_id = 9999;
	cmd.pt_id = self->ioas_id;
	cmd.flags = IOMMU_HWPT_ALLOC_NEST_PARENT | 1U << 3;
	ASSERT_EQ(-ENOENT, iommufd_ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
	cmd.dev_id = idev;
	ASSERT_EQ(-EOPNOTSUPP, iommufd_ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
	/* __reserved2 is ignored, out_hwpt_id never read. */
	cmd.flags = 0;
	cmd.__reserved2 = 0xffffffff;
	cmd.out_hwpt_id = 0xffffffff;
	ASSERT_EQ(0, iommufd_ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
	cmd.__reserved = 1;
	ASSERT_EQ(-EOPNOTSUPP, iommufd_ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
	cmd.__reserved = 0;
	/* An automatic HWPT, no nesting parent, as pt_id: no data, then data. */
	cmd.pt_id = hwpt;
	ASSERT_EQ(-EOPNOTSUPP, iommufd_ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
	cmd.data_type = IOMMU_HWPT_DATA_VTD_S1;
	cmd.data_len = 8;
	cmd.data_uptr = (__u64)(uintptr_t)self->buf;
	ASSERT_EQ(-EINVAL, iommufd_ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
	cmd.flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	ASSERT_EQ(-EOPNOTSUPP, iommufd_ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
	cmd.flags = 0;
	cmd.pt_id = stdev;
	ASSERT_EQ(-EINVAL, iommufd_ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
}

/* Upstream 6.12 checks an access's read pins against IOMMU_READ too. */
TEST_F(parity, access_pins_need_the_permission_they_use)
{
	__u64 wo = IOVA_BASE, ro = IOVA_BASE + PSZ;
	int access;

	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");

	ASSERT_EQ(0, ioas_map_flags(self->fd, self->ioas_id, self->buf, PSZ,
				    &wo, IOMMU_IOAS_MAP_FIXED_IOVA |
						 IOMMU_IOAS_MAP_WRITEABLE));
	ASSERT_EQ(0, ioas_map_flags(self->fd, self->ioas_id, self->buf + PSZ,
				    PSZ, &ro, IOMMU_IOAS_MAP_FIXED_IOVA |
						      IOMMU_IOAS_MAP_READABLE));
	ASSERT_EQ(0, tcmd_access_create(self->fd, self->ioas_id,
					MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
					&access));
	ASSERT_EQ(-EPERM, tcmd_access_pin(self->fd, access, IOVA_BASE, PSZ,
					  NULL, 0, NULL));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, access, IOVA_BASE, PSZ, NULL,
				     MOCK_FLAGS_ACCESS_WRITE, NULL));
	ASSERT_EQ(-EPERM, tcmd_access_pin(self->fd, access, IOVA_BASE + PSZ,
					  PSZ, NULL, MOCK_FLAGS_ACCESS_WRITE,
					  NULL));
	ASSERT_EQ(0, tcmd_access_pin(self->fd, access, IOVA_BASE + PSZ, PSZ,
				     NULL, 0, NULL));
	close(access);
}

/*
 * A child maps its own memory and exits. Pinned pages (a domain is
 * attached) still read and write through an access; unpinned ones fail
 * with EFAULT, as upstream.
 */
static void rw_after_mapper_exited(struct __test_metadata *_metadata,
				   int fd, __u32 ioas_id, bool domain)
{
	char got[256], want[256];
	int access, status;
	unsigned int i;
	pid_t pid;

	if (domain)
		ASSERT_EQ(0, tcmd_mock_domain(fd, ioas_id, NULL, NULL, NULL));
	ASSERT_EQ(0, tcmd_access_create(fd, ioas_id, 0, &access));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char *mem = buf_alloc_written(2 * PSZ, 77);

		_exit(!mem || ioas_map_fixed(fd, ioas_id, mem, 2 * PSZ,
					     IOVA_BASE));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	if (!domain) {
		ASSERT_EQ(-EFAULT, tcmd_access_rw(fd, access, IOVA_BASE + 8,
						  got, sizeof(got), 0));
		close(access);
		return;
	}
	srand(77);
	for (i = 0; i != 8 + sizeof(want); i++) {
		char c = rand();

		if (i >= 8)
			want[i - 8] = c;
	}
	ASSERT_EQ(0, tcmd_access_rw(fd, access, IOVA_BASE + 8, got,
				    sizeof(got), 0));
	ASSERT_EQ(0, memcmp(want, got, sizeof(got)));
	/* Across the page boundary, and written back. */
	memset(want, 0x3c, sizeof(want));
	ASSERT_EQ(0, tcmd_access_rw(fd, access, IOVA_BASE + PSZ - 100, want,
				    sizeof(want), MOCK_ACCESS_RW_WRITE));
	ASSERT_EQ(0, tcmd_access_rw(fd, access, IOVA_BASE + PSZ - 100, got,
				    sizeof(got), MOCK_ACCESS_RW_SLOW_PATH));
	ASSERT_EQ(0, memcmp(want, got, sizeof(got)));
	close(access);
}

TEST_F(parity, access_rw_uses_pinned_pages_after_the_mapper_exited)
{
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	rw_after_mapper_exited(_metadata, self->fd, self->ioas_id, true);
}

TEST_F(parity, access_rw_of_unpinned_memory_fails_after_the_mapper_exited)
{
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	rw_after_mapper_exited(_metadata, self->fd, self->ioas_id, false);
}

/* What a caller leaves in an output-only field is never looked at. */
TEST_F(parity, output_fields_are_never_validated)
{
	struct iommu_ioas_alloc alloc = {
		.size = sizeof(alloc),
		.out_ioas_id = 0xffffffff,
	};
	struct iommu_iova_range ranges[4];
	struct iommu_ioas_iova_ranges r = {
		.size = sizeof(r),
		.ioas_id = self->ioas_id,
		.num_iovas = 4,
		.allowed_iovas = (__u64)(uintptr_t)ranges,
		.out_iova_alignment = ~0ULL,
	};
	struct iommu_hw_info info = {
		.size = sizeof(info),
		.out_data_type = 0xffffffff,
		.out_max_pasid_log2 = 0xff,
		.out_capabilities = ~0ULL,
	};
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.ioas_id = self->ioas_id,
		.flags = IOMMU_IOAS_MAP_READABLE,
		.user_va = (__u64)(uintptr_t)self->buf,
		.length = PSZ,
		/*
		 * Output only without FIXED_IOVA, but upstream still
		 * refuses ULONG_MAX and above with EOVERFLOW.
		 */
		.iova = 0x123,
	};
	struct iommu_test_cmd mock = {
		.mock_domain = { 0xffffffff, 0xffffffff, 0xffffffff },
	};

	ASSERT_EQ(0, iommufd_ioctl(self->fd, IOMMU_IOAS_ALLOC, &alloc));
	ASSERT_EQ(0, iommufd_ioctl(self->fd, IOMMU_IOAS_IOVA_RANGES, &r));
	ASSERT_EQ(0, iommufd_ioctl(self->fd, IOMMU_IOAS_MAP, &map));
	if (!iommufd_is_test_build(self->fd))
		return;
	ASSERT_EQ(0, tcmd(self->fd, IOMMU_TEST_OP_MOCK_DOMAIN, alloc.out_ioas_id,
			  &mock));
	info.dev_id = mock.mock_domain.out_idev_id;
	ASSERT_EQ(0, iommufd_ioctl(self->fd, IOMMU_GET_HW_INFO, &info));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, info.out_data_type);
	ASSERT_EQ(0, info.out_max_pasid_log2);
	/* The mock IOMMU tracks dirty pages, as upstream's. */
	ASSERT_EQ(IOMMU_HW_CAP_DIRTY_TRACKING, info.out_capabilities);
}

TEST_F(parity, mock_pasid_device_reports_its_pasid_width)
{
	struct iommu_hw_info info = { .size = sizeof(info) };
	__u32 idev, stdev, hwpt;

	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    MOCK_FLAGS_DEVICE_PASID, &stdev,
					    &hwpt, &idev));
	info.dev_id = idev;
	ASSERT_EQ(0, iommufd_ioctl(self->fd, IOMMU_GET_HW_INFO, &info));
	ASSERT_EQ(MOCK_PASID_WIDTH, info.out_max_pasid_log2);
	ASSERT_EQ(20, MOCK_PASID_WIDTH);
	/* Not a PCI device: no PASID capability bits, as upstream. */
	ASSERT_EQ(IOMMU_HW_CAP_DIRTY_TRACKING, info.out_capabilities);
	/* It works as any mock device does. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf, PSZ,
				    IOVA_BASE));
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt, IOVA_BASE, self->buf,
				    PSZ));
	/* Bit 3 is nobody's: EINVAL, as upstream's mock_dev_create(). */
	ASSERT_EQ(-EINVAL, tcmd_mock_domain_flags(self->fd, self->ioas_id,
						  1 << 3, NULL, NULL, NULL));
}

/*
 * An access that keeps its pins when asked to unpin: after 100 requests
 * the unmap gives up with EDEADLOCK, as upstream, and changes nothing.
 */
static void unmap_vs_stubborn_access(struct __test_metadata *_metadata,
				     int fd, __u32 ioas_id, void *buf,
				     bool domain)
{
	long vm_pin = proc_status_kb("VmPin");
	__u32 hwpt = 0, item;
	__u64 unmapped = 0;
	char got[64];
	int access;

	if (domain)
		ASSERT_EQ(0, tcmd_mock_domain(fd, ioas_id, NULL, &hwpt, NULL));
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas_id, buf, 4 * PSZ, IOVA_BASE));
	ASSERT_EQ(0, tcmd_access_create(fd, ioas_id,
					MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES |
					MOCK_FLAGS_ACCESS_CREATE_KEEP_PINS,
					&access));
	ASSERT_EQ(0, tcmd_access_pin(fd, access, IOVA_BASE + PSZ, PSZ, NULL,
				     0, &item));
	if (!domain) {
		ASSERT_EQ(0, tcmd_check_refs(fd, buf, PSZ, 0));
		ASSERT_EQ(0, tcmd_check_refs(fd, buf + PSZ, PSZ, 1));
	}
	ASSERT_LT(vm_pin, proc_status_kb("VmPin"));

	ASSERT_EQ(-EDEADLOCK, ioas_unmap(fd, ioas_id, IOVA_BASE, 4 * PSZ,
					 &unmapped));
	ASSERT_EQ(-EDEADLOCK, ioas_unmap(fd, ioas_id, 0, UINT64_MAX, NULL));
	/* The mapping stays: taken, readable, in the domain; the pin too. */
	ASSERT_EQ(-EEXIST, ioas_map_fixed(fd, ioas_id, buf, PSZ, IOVA_BASE));
	ASSERT_EQ(0, tcmd_access_rw(fd, access, IOVA_BASE + 3 * PSZ, got,
				    sizeof(got), 0));
	ASSERT_EQ(0, memcmp(got, (char *)buf + 3 * PSZ, sizeof(got)));
	if (domain) {
		ASSERT_EQ(0, tcmd_check_map(fd, hwpt, IOVA_BASE, buf,
					    4 * PSZ));
	} else {
		ASSERT_EQ(0, tcmd_check_refs(fd, buf + PSZ, PSZ, 1));
	}
	/* An unmap that misses the pinned page is not held up. */
	ASSERT_EQ(-ENOENT, ioas_unmap(fd, ioas_id, IOVA_BASE + 4 * PSZ, PSZ,
				      NULL));

	/* Once the access lets go, the unmap works and all is returned. */
	ASSERT_EQ(0, tcmd_access_unpin(fd, access, item));
	ASSERT_EQ(0, ioas_unmap(fd, ioas_id, IOVA_BASE, 4 * PSZ, &unmapped));
	ASSERT_EQ(4 * PSZ, unmapped);
	ASSERT_EQ(0, tcmd_check_refs(fd, buf, 4 * PSZ, 0));
	ASSERT_EQ(vm_pin, proc_status_kb("VmPin"));
	close(access);
}

TEST_F(parity, unmap_gives_up_with_edeadlock_on_pins_kept)
{
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	unmap_vs_stubborn_access(_metadata, self->fd, self->ioas_id,
				 self->buf, false);
}

TEST_F(parity, unmap_gives_up_with_edeadlock_on_pins_kept_with_a_domain)
{
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	unmap_vs_stubborn_access(_metadata, self->fd, self->ioas_id,
				 self->buf, true);
}

TEST_F(parity, access_keep_pins_needs_pin_pages)
{
	int access;

	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(-EINVAL, tcmd_access_create(self->fd, self->ioas_id,
					      MOCK_FLAGS_ACCESS_CREATE_KEEP_PINS,
					      &access));
	ASSERT_EQ(-EOPNOTSUPP, tcmd_access_create(self->fd, self->ioas_id,
						  1 << 30, &access));
}

/* A domain whose aperture ends at 0 holds IOVA 0 alone, not everything. */
TEST_F(parity, aperture_that_ends_at_0_is_not_unlimited)
{
	struct iommu_iova_range ranges[4];
	__u32 num = 4, stdev, hwpt;
	__u64 align, iova;

	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    MOCK_FLAGS_DEVICE_APERTURE_AT_0,
					    &stdev, &hwpt, NULL));
	ASSERT_EQ(0, ioas_iova_ranges(self->fd, self->ioas_id, ranges, &num,
				      &align));
	ASSERT_EQ(1, num);
	ASSERT_EQ(0, ranges[0].start);
	ASSERT_EQ(0, ranges[0].last);
	/* Not even the page at 0 fits, nor anything above it. */
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  PSZ, 0));
	ASSERT_EQ(-EINVAL, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
					  PSZ, IOVA_BASE));
	ASSERT_NE(0, ioas_map(self->fd, self->ioas_id, self->buf, PSZ, &iova));
	/* Its domain is its own: an ordinary mock device does not share it. */
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL, NULL,
				      NULL));
	num = 4;
	ASSERT_EQ(0, ioas_iova_ranges(self->fd, self->ioas_id, ranges, &num,
				      &align));
	ASSERT_EQ(0, num);
	/* Gone with its device, the limit goes too. */
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev));
	num = 4;
	ASSERT_EQ(0, ioas_iova_ranges(self->fd, self->ioas_id, ranges, &num,
				      &align));
	ASSERT_EQ(1, num);
	ASSERT_EQ(MOCK_APERTURE_START, ranges[0].start);
	ASSERT_EQ(MOCK_APERTURE_LAST, ranges[0].last);
}

/* ---- VFIO_IOMMU_DIRTY_PAGES and unmap with a dirty bitmap ---- */

#define DSTART VFIO_IOMMU_DIRTY_PAGES_FLAG_START
#define DSTOP VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP
#define DGET VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP
#define DPAGES 64

struct dirty_get_arg {
	struct vfio_iommu_type1_dirty_bitmap hdr;
	struct vfio_iommu_type1_dirty_bitmap_get range;
};

struct unmap_dirty_arg {
	struct vfio_iommu_type1_dma_unmap unmap;
	struct vfio_bitmap bitmap;
};

static int dirty_pages(int fd, __u32 flags)
{
	struct vfio_iommu_type1_dirty_bitmap d = {
		.argsz = sizeof(d),
		.flags = flags,
	};

	return vioctl(fd, VFIO_IOMMU_DIRTY_PAGES, (unsigned long)&d);
}

static void dirty_get_init(struct dirty_get_arg *a, __u64 iova, __u64 size,
			   __u64 *bm, __u64 bm_size)
{
	*a = (struct dirty_get_arg){
		.hdr = { .argsz = sizeof(*a), .flags = DGET },
		.range = {
			.iova = iova,
			.size = size,
			.bitmap = {
				.pgsize = PSZ,
				.size = bm_size,
				.data = bm,
			},
		},
	};
}

static int dirty_get(int fd, __u64 iova, __u64 size, __u64 *bm)
{
	struct dirty_get_arg a;

	dirty_get_init(&a, iova, size, bm, (size / PSZ + 63) / 64 * 8);
	return vioctl(fd, VFIO_IOMMU_DIRTY_PAGES, (unsigned long)&a);
}

static int unmap_dirty(int fd, __u64 iova, __u64 size, __u64 *bm,
		       __u64 *unmapped)
{
	struct unmap_dirty_arg a = {
		.unmap = {
			.argsz = sizeof(a),
			.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
			.iova = iova,
			.size = size,
		},
		.bitmap = {
			.pgsize = PSZ,
			.size = (size / PSZ + 63) / 64 * 8,
			.data = bm,
		},
	};
	int rc = vioctl(fd, VFIO_IOMMU_UNMAP_DMA, (unsigned long)&a);

	*unmapped = a.unmap.size;
	return rc;
}

TEST_F(vfio, dirty_pages_is_type1v2_only)
{
	if (variant->type == VFIO_TYPE1_IOMMU) {
		/* Before anything is read, as type1. */
		ASSERT_EQ(-EACCES, vioctl(self->fd, VFIO_IOMMU_DIRTY_PAGES, 16));
		ASSERT_EQ(-EACCES, dirty_pages(self->fd, DSTART));
		ASSERT_EQ(-EACCES, dirty_pages(self->fd, DSTOP));
		return;
	}
	ASSERT_EQ(-EFAULT, vioctl(self->fd, VFIO_IOMMU_DIRTY_PAGES, 16));
	ASSERT_EQ(0, dirty_pages(self->fd, DSTART));
	ASSERT_EQ(0, dirty_pages(self->fd, DSTOP));
}

/*
 * A v2 container with three mappings: pages [0, 16) and [32, 64) of the
 * buffer at the same page offsets from IOVA_BASE, the second part as two
 * mappings; [16, 32) is a hole. Variants: no device, a mock device that
 * can track dirty pages, and that one plus one that cannot.
 */
FIXTURE(cdirty)
{
	int fd;
	__u32 ioas_id;
	__u32 hwpt_id;
	char *buf;
	size_t len;
	__u64 bm[2];
	__u64 want[2];
};

FIXTURE_VARIANT(cdirty)
{
	bool domain;
	bool nodirty;
};

FIXTURE_VARIANT_ADD(cdirty, no_domain)
{
};

FIXTURE_VARIANT_ADD(cdirty, tracking_domain)
{
	.domain = true,
};

FIXTURE_VARIANT_ADD(cdirty, and_untracked_domain)
{
	.domain = true,
	.nodirty = true,
};

FIXTURE_SETUP(cdirty)
{
	self->buf = NULL;
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	ASSERT_EQ(0, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_SET, &self->ioas_id));
	if (variant->domain)
		ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL,
					      &self->hwpt_id, NULL));
	if (variant->nodirty)
		ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
						    MOCK_FLAGS_DEVICE_NO_DIRTY,
						    NULL, NULL, NULL));
	ASSERT_EQ(0, vioctl(self->fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	self->len = DPAGES * PSZ;
	self->buf = buf_alloc_written(self->len, 23);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, vfio_map(self->fd, IOVA_BASE, self->buf, 16 * PSZ, RW));
	ASSERT_EQ(0, vfio_map(self->fd, IOVA_BASE + 32 * PSZ,
			      self->buf + 32 * PSZ, 16 * PSZ, RW));
	ASSERT_EQ(0, vfio_map(self->fd, IOVA_BASE + 48 * PSZ,
			      self->buf + 48 * PSZ, 16 * PSZ, RW));
}

FIXTURE_TEARDOWN(cdirty)
{
	if (self->buf) {
		close(self->fd);
		self->fd = iommufd_open();
		EXPECT_EQ(0, tcmd_check_refs_settled(self->fd, self->buf,
						     self->len, 0));
		munmap(self->buf, self->len);
	}
	close(self->fd);
}

#define cdirty_t FIXTURE_DATA(cdirty)
#define cdirty_variant_t FIXTURE_VARIANT(cdirty)

/* The device wrote these pages (offsets from IOVA_BASE, in pages). */
static int cdirty_write(int fd, __u32 hwpt_id, const unsigned int *pages,
			unsigned int n)
{
	__u64 bm[1] = {};
	unsigned int i;
	int rc;

	for (i = 0; i != n; i++) {
		bm[0] = 1;
		rc = tcmd(fd, IOMMU_TEST_OP_DIRTY, hwpt_id,
			  &(struct iommu_test_cmd){ .dirty = {
				.iova = IOVA_BASE + pages[i] * PSZ,
				.length = PSZ,
				.page_size = PSZ,
				.uptr = (__u64)(uintptr_t)bm,
			} });
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * What the container must report for [first, first + n) pages after the
 * device wrote @pages: those pages with a tracking domain alone, every
 * mapped page when a domain cannot track, nothing without a domain.
 */
static void cdirty_want(cdirty_t *self, const cdirty_variant_t *variant,
			unsigned int first, unsigned int n,
			const unsigned int *pages, unsigned int npages)
{
	unsigned int i;

	memset(self->want, 0, sizeof(self->want));
	if (!variant->domain)
		return;
	for (i = first; i != first + n; i++) {
		if (variant->nodirty && (i < 16 || i >= 32))
			self->want[(i - first) / 64] |= 1ULL << ((i - first) % 64);
	}
	if (variant->nodirty)
		return;
	for (i = 0; i != npages; i++)
		if (pages[i] >= first && pages[i] < first + n)
			self->want[(pages[i] - first) / 64] |=
				1ULL << ((pages[i] - first) % 64);
}

TEST_F(cdirty, dirty_pages_flags_are_checked)
{
	struct vfio_iommu_type1_dirty_bitmap d = { .argsz = 7 };

	d.flags = DSTART;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_DIRTY_PAGES,
				  (unsigned long)&d));
	ASSERT_EQ(-EINVAL, dirty_pages(self->fd, 0));
	ASSERT_EQ(-EINVAL, dirty_pages(self->fd, DSTART | DSTOP));
	ASSERT_EQ(-EINVAL, dirty_pages(self->fd, DSTART | DGET));
	ASSERT_EQ(-EINVAL, dirty_pages(self->fd, 1U << 3));
	ASSERT_EQ(-EINVAL, dirty_pages(self->fd, DSTART | (1U << 31)));
	/* START and STOP twice are fine. */
	ASSERT_EQ(0, dirty_pages(self->fd, DSTART));
	ASSERT_EQ(0, dirty_pages(self->fd, DSTART));
	ASSERT_EQ(0, dirty_pages(self->fd, DSTOP));
	ASSERT_EQ(0, dirty_pages(self->fd, DSTOP));
}

TEST_F(cdirty, get_bitmap_validates_everything)
{
	__u64 kernel_ptr = 0xffff888000000000ULL;
	struct dirty_get_arg a;
	void *hole;

	/* Tracking off. */
	ASSERT_EQ(-EINVAL, dirty_get(self->fd, IOVA_BASE, DPAGES * PSZ,
				     self->bm));
	ASSERT_EQ(0, dirty_pages(self->fd, DSTART));
	ASSERT_EQ(0, dirty_get(self->fd, IOVA_BASE, DPAGES * PSZ, self->bm));
	/* No room for the range. */
	dirty_get_init(&a, IOVA_BASE, DPAGES * PSZ, self->bm, 8);
	a.hdr.argsz = sizeof(a.hdr);
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_DIRTY_PAGES,
				  (unsigned long)&a));
	a.hdr.argsz = sizeof(a) - 1;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_DIRTY_PAGES,
				  (unsigned long)&a));
	/* Wrapping range. */
	dirty_get_init(&a, -PSZ, 2 * PSZ, self->bm, 8);
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_DIRTY_PAGES,
				  (unsigned long)&a));
	/* A bitmap outside user space. */
	dirty_get_init(&a, IOVA_BASE, DPAGES * PSZ,
		       (__u64 *)(uintptr_t)kernel_ptr, 8);
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_DIRTY_PAGES,
				  (unsigned long)&a));
	/* Sizes: no page, no byte, too few bytes, beyond the maximum. */
	dirty_get_init(&a, IOVA_BASE, DPAGES * PSZ, self->bm, 8);
	a.range.bitmap.pgsize = 0;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_DIRTY_PAGES,
				  (unsigned long)&a));
	dirty_get_init(&a, IOVA_BASE, DPAGES * PSZ, self->bm, 0);
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_DIRTY_PAGES,
				  (unsigned long)&a));
	dirty_get_init(&a, IOVA_BASE, 128 * PSZ, self->bm, 8);
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_DIRTY_PAGES,
				  (unsigned long)&a));
	dirty_get_init(&a, IOVA_BASE, DPAGES * PSZ, self->bm,
		       (1ULL << 28) + 8);
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_DIRTY_PAGES,
				  (unsigned long)&a));
	/* Page size other than the container's smallest. */
	dirty_get_init(&a, IOVA_BASE, DPAGES * PSZ, self->bm, 8);
	a.range.bitmap.pgsize = 2 * PSZ;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_DIRTY_PAGES,
				  (unsigned long)&a));
	a.range.bitmap.pgsize = PSZ / 2;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_DIRTY_PAGES,
				  (unsigned long)&a));
	/* Unaligned IOVA or size. */
	dirty_get_init(&a, IOVA_BASE + 512, DPAGES * PSZ, self->bm, 8);
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_DIRTY_PAGES,
				  (unsigned long)&a));
	dirty_get_init(&a, IOVA_BASE, DPAGES * PSZ + 512, self->bm, 16);
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_DIRTY_PAGES,
				  (unsigned long)&a));
	/* Cutting a mapping at either end. */
	ASSERT_EQ(-EINVAL, dirty_get(self->fd, IOVA_BASE + PSZ, 15 * PSZ,
				     self->bm));
	ASSERT_EQ(-EINVAL, dirty_get(self->fd, IOVA_BASE, 40 * PSZ, self->bm));
	/* Holes are fine, and so is a range with nothing mapped. */
	ASSERT_EQ(0, dirty_get(self->fd, IOVA_BASE, 32 * PSZ, self->bm));
	ASSERT_EQ(0, dirty_get(self->fd, IOVA_BASE + 16 * PSZ, 16 * PSZ,
			       self->bm));
	/* An unreadable struct, and a bitmap nobody mapped. */
	ASSERT_EQ(-EFAULT, vioctl(self->fd, VFIO_IOMMU_DIRTY_PAGES, 16));
	hole = mmap(NULL, PSZ, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	if (variant->domain)
		ASSERT_EQ(-EFAULT, dirty_get(self->fd, IOVA_BASE, DPAGES * PSZ,
					     hole));
	munmap(hole, PSZ);
	ASSERT_EQ(0, dirty_pages(self->fd, DSTOP));
	ASSERT_EQ(-EINVAL, dirty_get(self->fd, IOVA_BASE, DPAGES * PSZ,
				     self->bm));
}

TEST_F(cdirty, get_bitmap_reports_what_the_device_wrote)
{
	static const unsigned int pages[] = { 0, 3, 15, 33, 40, 47, 48, 63 };
	const unsigned int n = ARRAY_SIZE(pages);

	ASSERT_EQ(0, dirty_pages(self->fd, DSTART));
	/* A domain shared with a device that cannot track cannot start. */
	if (variant->domain && !variant->nodirty)
		ASSERT_EQ(0, cdirty_write(self->fd, self->hwpt_id, pages, n));
	memset(self->bm, 0, sizeof(self->bm));
	ASSERT_EQ(0, dirty_get(self->fd, IOVA_BASE, DPAGES * PSZ, self->bm));
	cdirty_want(self, variant, 0, DPAGES, pages, n);
	ASSERT_EQ(self->want[0], self->bm[0]);
	/* Read and cleared: only untracked memory is dirty again. */
	memset(self->bm, 0, sizeof(self->bm));
	ASSERT_EQ(0, dirty_get(self->fd, IOVA_BASE, DPAGES * PSZ, self->bm));
	cdirty_want(self, variant, 0, DPAGES, pages, 0);
	ASSERT_EQ(self->want[0], self->bm[0]);
	/* A range of two mappings, bit 0 at its start. */
	/* A domain shared with a device that cannot track cannot start. */
	if (variant->domain && !variant->nodirty)
		ASSERT_EQ(0, cdirty_write(self->fd, self->hwpt_id, pages, n));
	memset(self->bm, 0, sizeof(self->bm));
	ASSERT_EQ(0, dirty_get(self->fd, IOVA_BASE + 32 * PSZ, 32 * PSZ,
			       self->bm));
	cdirty_want(self, variant, 32, 32, pages, n);
	ASSERT_EQ(self->want[0], self->bm[0]);
	/* STOP, START: what was written before is forgotten. */
	ASSERT_EQ(0, dirty_pages(self->fd, DSTOP));
	if (variant->domain)
		ASSERT_EQ(-EINVAL, cdirty_write(self->fd, self->hwpt_id, pages,
						n));
	ASSERT_EQ(0, dirty_pages(self->fd, DSTART));
	memset(self->bm, 0, sizeof(self->bm));
	ASSERT_EQ(0, dirty_get(self->fd, IOVA_BASE, DPAGES * PSZ, self->bm));
	cdirty_want(self, variant, 0, DPAGES, pages, 0);
	ASSERT_EQ(self->want[0], self->bm[0]);
}

TEST_F(cdirty, a_device_that_cannot_track_joining_makes_everything_dirty)
{
	static const unsigned int pages[] = { 5 };
	__u32 stdev;

	if (!variant->domain || variant->nodirty)
		SKIP(return, "for the tracking domain alone");
	ASSERT_EQ(0, dirty_pages(self->fd, DSTART));
	/* One that can track shares the domain: still exact. */
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev, NULL,
				      NULL));
	ASSERT_EQ(0, cdirty_write(self->fd, self->hwpt_id, pages, 1));
	memset(self->bm, 0, sizeof(self->bm));
	ASSERT_EQ(0, dirty_get(self->fd, IOVA_BASE, DPAGES * PSZ, self->bm));
	ASSERT_EQ(1ULL << 5, self->bm[0]);
	/* One that cannot gets a domain of its own: every page is dirty. */
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    MOCK_FLAGS_DEVICE_NO_DIRTY, NULL,
					    NULL, NULL));
	memset(self->bm, 0, sizeof(self->bm));
	ASSERT_EQ(0, dirty_get(self->fd, IOVA_BASE, DPAGES * PSZ, self->bm));
	ASSERT_EQ(0xffffffff0000ffffULL, self->bm[0]);
}

TEST_F(cdirty, unmap_with_dirty_bitmap)
{
	static const unsigned int pages[] = { 34, 46 };
	struct unmap_dirty_arg a = {
		.unmap = {
			.argsz = sizeof(a),
			.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
			.iova = IOVA_BASE + 32 * PSZ,
			.size = 16 * PSZ,
		},
		.bitmap = { .pgsize = PSZ, .size = 8, .data = self->bm },
	};
	struct unmap_dirty_arg c;
	__u64 unmapped;

	/* Tracking off. */
	ASSERT_EQ(-EINVAL, unmap_dirty(self->fd, IOVA_BASE + 32 * PSZ,
				       16 * PSZ, self->bm, &unmapped));
	ASSERT_EQ(0, dirty_pages(self->fd, DSTART));
	c = a;
	c.unmap.flags |= VFIO_DMA_UNMAP_FLAG_ALL;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
				  (unsigned long)&c));
	c = a;
	c.unmap.argsz = sizeof(c) - 1;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
				  (unsigned long)&c));
	c = a;
	c.bitmap.size = 0;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
				  (unsigned long)&c));
	c = a;
	c.bitmap.pgsize = 2 * PSZ;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
				  (unsigned long)&c));
	c = a;
	c.unmap.size = 8 * PSZ;
	ASSERT_EQ(-EINVAL, vioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
				  (unsigned long)&c));
	ASSERT_EQ(8 * PSZ, c.unmap.size);
	/* Nothing was unmapped by the failures. */
	ASSERT_EQ(0, dirty_get(self->fd, IOVA_BASE, DPAGES * PSZ, self->bm));

	/* A domain shared with a device that cannot track cannot start. */
	if (variant->domain && !variant->nodirty)
		ASSERT_EQ(0, cdirty_write(self->fd, self->hwpt_id, pages, 2));
	memset(self->bm, 0, sizeof(self->bm));
	ASSERT_EQ(0, unmap_dirty(self->fd, IOVA_BASE + 32 * PSZ, 16 * PSZ,
				 self->bm, &unmapped));
	ASSERT_EQ(16 * PSZ, unmapped);
	cdirty_want(self, variant, 32, 16, pages, 2);
	ASSERT_EQ(self->want[0], self->bm[0]);
	/* Gone: a range over it now cuts nothing and reports nothing there. */
	memset(self->bm, 0, sizeof(self->bm));
	ASSERT_EQ(0, dirty_get(self->fd, IOVA_BASE + 32 * PSZ, 16 * PSZ,
			       self->bm));
	ASSERT_EQ(0, self->bm[0]);
}

TEST_HARNESS_MAIN
