/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The private device ioctl of test_mdev.ko (tools/vm/test_mdev.c), a
 * test-only emulated (mdev) VFIO device that pins and reads/writes
 * memory through whichever IOMMU driver serves its container, so that
 * selftests/iommu/iommufd_vfio_mdev.c can drive vfio_pin_pages(),
 * vfio_unpin_pages() and vfio_dma_rw() from userspace.
 */
#ifndef TEST_MDEV_H
#define TEST_MDEV_H

#include <linux/ioctl.h>
#include <linux/types.h>

enum {
	/*
	 * vfio_pin_pages(@iova, @npage, @prot): @result is its return.
	 * On success the first u64 of each page goes to @uptr (@npage of
	 * them) and, if @pattern is non-zero, pattern + i is then stored
	 * there in page i through the pin. The pin is kept until UNPIN,
	 * dma_unmap or close.
	 */
	TEST_MDEV_PIN,
	/* vfio_unpin_pages() of the kept pin that starts at @iova. */
	TEST_MDEV_UNPIN,
	/* vfio_dma_rw(@iova, @length bytes from @uptr, write) */
	TEST_MDEV_WRITE,
	/* vfio_dma_rw(@iova, @length bytes to @uptr, read) */
	TEST_MDEV_READ,
	/* Fill @unmap_calls and @npinned only. */
	TEST_MDEV_STATUS,
};

/**
 * struct test_mdev_cmd - TEST_MDEV_IOCTL's argument
 * @op: TEST_MDEV_*
 * @prot: IOMMU_READ (1) | IOMMU_WRITE (2), for PIN
 * @iova: the IOVA
 * @npage: pages, for PIN
 * @length: bytes, for READ and WRITE
 * @uptr: the user buffer of PIN, READ and WRITE
 * @pattern: for PIN
 * @result: the VFIO call's return, 0 for void ones
 * @unmap_calls: dma_unmap callbacks received since the device was opened
 * @npinned: pages the device holds pinned now
 */
struct test_mdev_cmd {
	__u32 op;
	__u32 prot;
	__u64 iova;
	__u64 npage;
	__u64 length;
	__u64 uptr;
	__u64 pattern;
	__s64 result;
	__u64 unmap_calls;
	__u64 npinned;
};

#define TEST_MDEV_IOCTL _IOWR('m', 0x70, struct test_mdev_cmd)
/* Pins of one PIN call are at most this many pages. */
#define TEST_MDEV_MAX_PIN 1024

#endif
