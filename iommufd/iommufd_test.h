/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ABI of IOMMU_TEST_CMD, the test-only command of /dev/iommu.
 *
 * The op numbers, the layout of struct iommu_test_cmd and the MOCK_* and
 * selftest constants match the test header of Linux 6.12's iommufd, so
 * upstream's tools/testing/selftests/iommu can be built against this file
 * and run against this module.  tools/abi/abi-check.sh verifies that.
 *
 * Extensions follow the rules of "Project extensions" in
 * uapi/linux/iommufd.h, and are marked "Extension (not upstream)":
 *  - Upstream numbers its test ops implicitly from 1 and keeps appending
 *    (later kernels add more after IOMMU_TEST_OP_TRIGGER_IOPF, a few dozen
 *    in all).
 *    Our own test ops take 0x1000 (IOMMU_TEST_OP_EXT_BASE) to 0x1fff, a
 *    range upstream's implicit numbering will not reach.
 *  - A flag of ours in a field upstream owns (dev_flags, create_access,
 *    access_pages or access_rw flags, ...) would take the top bits of the
 *    field, bit 31 downward, as upstream adds its own from bit 0 up: today
 *    MOCK_FLAGS_DEVICE_HUGE_IOPTE_ONLY, bit 31 of dev_flags,
 *    MOCK_FLAGS_DEVICE_APERTURE_AT_0, bit 30 of dev_flags,
 *    MOCK_FLAGS_DEVICE_WIDE_APERTURE, bit 29 of dev_flags, and
 *    MOCK_FLAGS_ACCESS_CREATE_KEEP_PINS, bit 31 of create_access.flags.
 *  - Constants upstream added after 6.12 keep upstream's values
 *    (MOCK_FLAGS_DEVICE_PASID, bit 2 of dev_flags, and MOCK_PASID_WIDTH).
 *  - The members of our own ops (fail_nth, the MOCK_FAULT_* kinds, struct
 *    iommu_test_iopte_stats) are ours alone.
 * tools/abi/extensions.txt lists each of them; the ABI check enforces it.
 */
#ifndef IOMMUFD_OOT_IOMMUFD_TEST_H
#define IOMMUFD_OOT_IOMMUFD_TEST_H

#include <linux/types.h>
#include "../uapi/linux/iommufd.h"

/*
 * Values of the op field of struct iommu_test_cmd.  Numbering starts at 1
 * and is implicit, exactly as upstream; only append, never reorder.
 */
enum {
	IOMMU_TEST_OP_ADD_RESERVED = 1,
	IOMMU_TEST_OP_MOCK_DOMAIN,
	IOMMU_TEST_OP_MD_CHECK_MAP,
	IOMMU_TEST_OP_MD_CHECK_REFS,
	IOMMU_TEST_OP_CREATE_ACCESS,
	IOMMU_TEST_OP_DESTROY_ACCESS_PAGES,
	IOMMU_TEST_OP_ACCESS_PAGES,
	IOMMU_TEST_OP_ACCESS_RW,
	IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
	IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
	IOMMU_TEST_OP_ACCESS_REPLACE_IOAS,
	IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
	IOMMU_TEST_OP_DIRTY,
	IOMMU_TEST_OP_MD_CHECK_IOTLB,
	IOMMU_TEST_OP_TRIGGER_IOPF,

	/*
	 * Extension (not upstream): first op number available for this
	 * project's own test ops.
	 */
	IOMMU_TEST_OP_EXT_BASE = 0x1000,
	/*
	 * Extension (not upstream): give the mock device @id (an
	 * out_stdev_id) a reserved IOVA region, in add_reserved.start and
	 * add_reserved.length. Applies at once if the device is attached:
	 * EADDRINUSE if its IOAS maps or allows IOVA there.
	 */
	IOMMU_TEST_OP_MOCK_DEVICE_ADD_RESV = IOMMU_TEST_OP_EXT_BASE,
	/*
	 * Extension (not upstream): let the mock domain of HWPT @id hold at
	 * most memory_limit.limit IOPTEs (0: no limit); a map beyond that
	 * fails with ENOMEM, as a driver out of page-table memory would.
	 */
	IOMMU_TEST_OP_MOCK_DOMAIN_SET_LIMIT,
	/*
	 * Extension (not upstream): count the IOPTEs of the mock domain of
	 * HWPT @id over check_map.iova, check_map.length (multiples of
	 * PAGE_SIZE / 2) into the struct iommu_test_iopte_stats at
	 * check_map.uptr. Any length works: the walk follows the page table.
	 */
	IOMMU_TEST_OP_MD_IOPTE_STATS,
	/*
	 * Extension (not upstream): make the fail_nth.nth-th fault event of
	 * the kinds in fail_nth.kinds (MOCK_FAULT_*) in the calling task fail,
	 * once; nth 0 disarms. Reports in out_fired and out_seen whether the
	 * previous setting fired and how many events it counted, and in
	 * out_armed_tasks how many live tasks are armed module-wide after
	 * this call. Closing the fd disarms the tasks armed through it.
	 */
	IOMMU_TEST_OP_FAIL_NTH,
	/*
	 * Extension (not upstream): as IOMMU_TEST_OP_TRIGGER_IOPF, but the
	 * fault is not the last of its group (no
	 * IOMMU_PGFAULT_FLAGS_LAST_PAGE): it waits, on the device, for the
	 * TRIGGER_IOPF of the same grpid that closes the group, and is read
	 * in that group, before it. ENOSPC beyond 256 waiting faults.
	 */
	IOMMU_TEST_OP_TRIGGER_IOPF_PARTIAL,
	/*
	 * Extension (not upstream): take the oldest answers the mock device
	 * iopf_responses.dev_id (an out_idev_id) received to its fault
	 * groups, at most iopf_responses.n, into the struct
	 * iommu_test_iopf_response array at iopf_responses.uptr; n becomes
	 * the number taken. The device keeps the last 64; out_lost counts
	 * (and resets) those dropped beyond. out_iopf_on says whether the
	 * device may report faults now (it is on an HWPT with a fault
	 * queue). dev_id 0 names no device and takes nothing. out_live is
	 * module-wide: fault groups and waiting faults not answered yet,
	 * of every device (0 when no test has a fault left).
	 */
	IOMMU_TEST_OP_IOPF_RESPONSES,
};

/*
 * Extension (not upstream): answers a mock device keeps until
 * IOMMU_TEST_OP_IOPF_RESPONSES takes them.
 */
#define MOCK_IOPF_LOG_MAX 64

/**
 * struct iommu_test_iopf_response - Extension (not upstream): one answer a
 *	mock device received (IOMMU_TEST_OP_IOPF_RESPONSES)
 * @flags: flags of the group's last fault (IOMMU_PGFAULT_FLAGS_*)
 * @pasid: its pasid
 * @grpid: its grpid
 * @code: IOMMUFD_PAGE_RESP_SUCCESS or IOMMUFD_PAGE_RESP_INVALID, as
 *	written or given by the module (the device left the queue's HWPT,
 *	the queue's file was closed, the device was on no such HWPT), or 2
 *	(the kernel's IOMMU_PAGE_RESP_FAILURE): the group could not be
 *	queued (no memory)
 */
struct iommu_test_iopf_response {
	__u32 flags;
	__u32 pasid;
	__u32 grpid;
	__u32 code;
};

/* Extension (not upstream): fault kinds of IOMMU_TEST_OP_FAIL_NTH. */
enum {
	/* A memory allocation (fails as ENOMEM). */
	MOCK_FAULT_ALLOC = 1 << 0,
	/* Pinning user pages. */
	MOCK_FAULT_PIN = 1 << 1,
	/* A copy to or from user memory (fails as EFAULT). */
	MOCK_FAULT_USER_COPY = 1 << 2,
	/* An iommu_map() into a domain. */
	MOCK_FAULT_IOMMU_MAP = 1 << 3,
	MOCK_FAULT_ALL = (1 << 4) - 1,
};

/**
 * struct iommu_test_iopte_stats - Extension (not upstream): what
 *	IOMMU_TEST_OP_MD_IOPTE_STATS reports
 * @small: IOPTEs of PAGE_SIZE / 2 bytes overlapping the range
 * @huge: IOPTEs of 512 * PAGE_SIZE / 2 bytes overlapping the range
 * @unmapped: bytes of the range that nothing translates
 */
struct iommu_test_iopte_stats {
	__aligned_u64 small;
	__aligned_u64 huge;
	__aligned_u64 unmapped;
};

/* IOVA window [START, LAST] that every mock domain can translate. */
enum {
	MOCK_APERTURE_START = 1UL << 24,
	MOCK_APERTURE_LAST = (1UL << 31) - 1,
};

/* access_pages.flags bits. */
enum {
	/* Pin the pages for writing. */
	MOCK_FLAGS_ACCESS_WRITE = 1 << 0,
	/*
	 * Upstream: the IOVA is an index chosen by syzkaller, which the
	 * kernel turns into an IOVA that is mapped.  Defined for ABI
	 * compatibility; this module does not implement the conversion and
	 * refuses the flag with EOPNOTSUPP (our fuzzer, tools/fuzz, picks
	 * mapped IOVAs itself).
	 */
	MOCK_FLAGS_ACCESS_SYZ = 1 << 16,
};

/* access_rw.flags bits. */
enum {
	/* Copy from the user buffer into the IOAS instead of out of it. */
	MOCK_ACCESS_RW_WRITE = 1 << 0,
	/* Force the page-by-page path instead of the bulk copy. */
	MOCK_ACCESS_RW_SLOW_PATH = 1 << 2,
};

/* create_access.flags bits. */
enum {
	/* The access pins pages and must be told to unpin them on unmap. */
	MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES = 1 << 0,
};

/*
 * Extension (not upstream), with MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES:
 * the access ignores the IOAS's requests to unpin, keeping its pins until
 * DESTROY_ACCESS_PAGES or close, like a driver that cannot stop its DMA.
 * An unmap of what it pins gives up with EDEADLOCK.
 */
#define MOCK_FLAGS_ACCESS_CREATE_KEEP_PINS 0x80000000U

/*
 * mock_domain_flags.dev_flags bits. Upstream's count up from bit 0; our
 * extensions take bits from 31 downwards, so upstream's can grow freely.
 */
enum {
	/* The mock device's IOMMU cannot track dirty pages. */
	MOCK_FLAGS_DEVICE_NO_DIRTY = 1 << 0,
	/* The mock domain also offers a large IO page size. */
	MOCK_FLAGS_DEVICE_HUGE_IOVA = 1 << 1,
	/*
	 * From upstream after 6.12: the mock device supports PASIDs, of
	 * MOCK_PASID_WIDTH bits (IOMMU_GET_HW_INFO's out_max_pasid_log2).
	 */
	MOCK_FLAGS_DEVICE_PASID = 1 << 2,
};

/* From upstream after 6.12: PASID bits of a MOCK_FLAGS_DEVICE_PASID device. */
#define MOCK_PASID_WIDTH 20

/*
 * Extension (not upstream): the mock domain's only IOPTE size is the large
 * one (512 * PAGE_SIZE / 2), bigger than PAGE_SIZE, like an IOMMU whose
 * smallest page is bigger than the CPU's. Pinned memory is only contiguous
 * page by page, so attaching the device anywhere fails with EINVAL.
 */
#define MOCK_FLAGS_DEVICE_HUGE_IOPTE_ONLY 0x80000000U

/*
 * Extension (not upstream): the mock domain's aperture is [0, 0], the one
 * IOVA 0, as a domain whose aperture_end is 0 reports. The IOAS must read
 * that as a one-byte aperture, not as "no limit".
 */
#define MOCK_FLAGS_DEVICE_APERTURE_AT_0 0x40000000U

/*
 * Extension (not upstream): the mock domain's aperture is
 * [MOCK_APERTURE_START, MOCK_WIDE_APERTURE_LAST], 1 TiB, not upstream's
 * 2 GiB, so tests and benchmarks can use IOVA ranges of many GiB (one
 * buffer mapped again and again). Its domains are its own, as for every
 * aperture that differs.
 */
#define MOCK_FLAGS_DEVICE_WIDE_APERTURE 0x20000000U
/* Extension (not upstream): last IOVA of MOCK_FLAGS_DEVICE_WIDE_APERTURE. */
#define MOCK_WIDE_APERTURE_LAST ((1ULL << 40) - 1)

/* The mock nested domain keeps an IOTLB of this many tagged entries. */
enum {
	MOCK_NESTED_DOMAIN_IOTLB_ID_MAX = 3,
	MOCK_NESTED_DOMAIN_IOTLB_NUM = 4,
};

/**
 * struct iommu_test_cmd - ioctl(IOMMU_TEST_CMD)
 * @size: (in) sizeof(struct iommu_test_cmd).
 * @op: (in) One of the IOMMU_TEST_OP_* values.
 * @id: (in) Object the op acts on; which type depends on @op (an IOAS, an
 *      HWPT, a mock device, an access, ...).
 * @__reserved: Not checked by upstream; pass 0.
 * @add_reserved: IOMMU_TEST_OP_ADD_RESERVED: reserve (in) @start, @length
 *                bytes of IOVA in IOAS @id, as a device's reserved region
 *                would.
 * @mock_domain: IOMMU_TEST_OP_MOCK_DOMAIN: create a mock device, bind it
 *               and attach it to IOAS/HWPT @id.  (out) @out_stdev_id is the
 *               selftest device object, @out_hwpt_id the attached HWPT,
 *               @out_idev_id the ordinary bound-device ID.
 * @mock_domain_flags: IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS: as @mock_domain, with
 *                     (in) @dev_flags, MOCK_FLAGS_DEVICE_* bits.
 * @mock_domain_replace: IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE: move mock device
 *                       @id to (in/out) @pt_id; returns the HWPT now used.
 *                       If the reply cannot be written (EFAULT), the
 *                       device goes back where it was when it can.
 * @check_map: IOMMU_TEST_OP_MD_CHECK_MAP: (in) verify that @iova, @length in
 *             mock HWPT @id translates to the memory at @uptr; a @length
 *             beyond the mock aperture's size gives EINVAL, a fatal
 *             signal EINTR.
 * @check_refs: IOMMU_TEST_OP_MD_CHECK_REFS: (in) verify that every page of
 *              @uptr, @length has a pin count of @refs; a @length beyond
 *              the machine's memory gives EINVAL, a fatal signal EINTR.
 * @create_access: IOMMU_TEST_OP_CREATE_ACCESS: create an in-kernel access
 *                 user of IOAS @id with (in) @flags; (out) @out_access_fd
 *                 is a file descriptor representing it.
 * @destroy_access_pages: IOMMU_TEST_OP_DESTROY_ACCESS_PAGES: (in) release
 *                        the pinned-pages item @access_pages_id of access
 *                        @id.
 * @access_pages: IOMMU_TEST_OP_ACCESS_PAGES: (in) pin @iova, @length through
 *                access @id with @flags and, unless @uptr is 0, check the
 *                pages are those of @uptr; (out) @out_access_pages_id names
 *                the pinned item.
 * @access_rw: IOMMU_TEST_OP_ACCESS_RW: (in) copy @length bytes between IOVA
 *             @iova of access @id and @uptr, direction and method per
 *             @flags (MOCK_ACCESS_RW_*).
 * @memory_limit: IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT: (in) cap the size of
 *                the kernel's temporary page batches at @limit bytes.
 * @access_replace_ioas: IOMMU_TEST_OP_ACCESS_REPLACE_IOAS: (in) move access
 *                       @id to IOAS @ioas_id.
 * @dirty: IOMMU_TEST_OP_DIRTY: (in) in mock HWPT @id, which must have
 *         dirty tracking enabled, mark as written the mapped pages of
 *         @iova, @length whose bit is set in the bitmap at @uptr (one bit
 *         per @page_size); (out) @out_nr_dirty is how many were marked.
 * @check_iotlb: IOMMU_TEST_OP_MD_CHECK_IOTLB: (in) verify that the IOTLB
 *               entry indexed by check_iotlb.id of mock nested HWPT @id
 *               holds the value check_iotlb.iotlb.
 * @trigger_iopf: IOMMU_TEST_OP_TRIGGER_IOPF: (in) inject an I/O page fault
 *                for device @dev_id (an out_idev_id; ENOENT if none,
 *                EINVAL if not a mock device) as if the hardware reported
 *                one with @pasid (IOMMU_PGFAULT_FLAGS_PASID_VALID unless
 *                0), @grpid, @perm at @addr, the last of its group. It
 *                goes to the fault queue of the device's HWPT; a device
 *                on no HWPT with one is answered INVALID at once, as
 *                upstream's iopf core does. ENOMEM when the group cannot
 *                be queued (the device is answered with code 2).
 * @iopf_responses: IOMMU_TEST_OP_IOPF_RESPONSES (Extension, not
 *                  upstream): see there.
 * @last: Marks the end of the structure; the minimum size reaches it.
 *
 * A single ioctl multiplexes all test ops; the union member named after the
 * op carries its arguments.  Unknown ops fail with EOPNOTSUPP.
 */
struct iommu_test_cmd {
	__u32 size;
	__u32 op;
	__u32 id;
	__u32 __reserved;
	union {
		struct {
			__aligned_u64 start;
			__aligned_u64 length;
		} add_reserved;
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			/* Same kind of ID a real bound device gets. */
			__u32 out_idev_id;
		} mock_domain;
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;
			/* Only this field is new relative to mock_domain. */
			__u32 dev_flags;
		} mock_domain_flags;
		struct {
			__u32 pt_id;
		} mock_domain_replace;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} check_map;
		struct {
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 refs;
		} check_refs;
		struct {
			__u32 out_access_fd;
			__u32 flags;
		} create_access;
		struct {
			__u32 access_pages_id;
		} destroy_access_pages;
		struct {
			__u32 flags;
			__u32 out_access_pages_id;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} access_pages;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 flags;
		} access_rw;
		struct {
			__u32 limit;
		} memory_limit;
		struct {
			__u32 ioas_id;
		} access_replace_ioas;
		struct {
			__u32 flags;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 page_size;
			__aligned_u64 uptr;
			__aligned_u64 out_nr_dirty;
		} dirty;
		struct {
			__u32 id;
			__u32 iotlb;
		} check_iotlb;
		/* Extension (not upstream): IOMMU_TEST_OP_FAIL_NTH. */
		struct {
			__u32 nth;
			__u32 kinds;
			__u32 out_fired;
			__u32 out_seen;
			__u32 out_armed_tasks;
		} fail_nth;
		struct {
			__u32 dev_id;
			__u32 pasid;
			__u32 grpid;
			__u32 perm;
			__u64 addr;
		} trigger_iopf;
		/* Extension (not upstream): IOMMU_TEST_OP_IOPF_RESPONSES. */
		struct {
			__u32 dev_id;
			__u32 n;
			__aligned_u64 uptr;
			__u32 out_lost;
			__u32 out_iopf_on;
			__aligned_u64 out_live;
		} iopf_responses;
	};
	__u32 last;
};

#define IOMMU_TEST_CMD _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)

/*
 * IOMMU_GET_HW_INFO on a mock device reports this out_data_type, and fills
 * struct iommu_test_hw_info with test_reg set to the REGVAL constant.
 */
#define IOMMU_HW_INFO_TYPE_SELFTEST	0xfeedbeef
#define IOMMU_HW_INFO_SELFTEST_REGVAL	0xdeadbeef

/**
 * struct iommu_test_hw_info - hardware info of the mock IOMMU
 * @flags: Always 0.
 * @test_reg: Always IOMMU_HW_INFO_SELFTEST_REGVAL.
 */
struct iommu_test_hw_info {
	__u32 flags;
	__u32 test_reg;
};

/*
 * data_type of IOMMU_HWPT_ALLOC for a mock nested HWPT; chosen far away
 * from every real enum iommu_hwpt_data_type value.
 */
#define IOMMU_HWPT_DATA_SELFTEST 0xdead
/* Value the IOTLB entries of a new mock nested HWPT are expected to hold. */
#define IOMMU_TEST_IOTLB_DEFAULT 0xbadbeef

/**
 * struct iommu_hwpt_selftest - IOMMU_HWPT_DATA_SELFTEST allocation data
 * @iotlb: Initial value of every IOTLB entry of the mock nested HWPT;
 *         normally IOMMU_TEST_IOTLB_DEFAULT.
 */
struct iommu_hwpt_selftest {
	__u32 iotlb;
};

/*
 * data_type of IOMMU_HWPT_INVALIDATE for a mock nested HWPT, and a value
 * the mock driver rejects, for negative tests.  Neither overlaps enum
 * iommu_hwpt_invalidate_data_type.
 */
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST 0xdeadbeef
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeef

/* Flag of struct iommu_hwpt_invalidate_selftest: flush every entry. */
#define IOMMU_TEST_INVALIDATE_FLAG_ALL 0x1

/**
 * struct iommu_hwpt_invalidate_selftest - IOMMU_HWPT_INVALIDATE_DATA_SELFTEST
 *                                         entry
 * @flags: 0 or IOMMU_TEST_INVALIDATE_FLAG_ALL; other bits give EOPNOTSUPP.
 * @iotlb_id: IOTLB entry to clear, at most MOCK_NESTED_DOMAIN_IOTLB_ID_MAX
 *            (EINVAL otherwise); ignored with IOMMU_TEST_INVALIDATE_FLAG_ALL.
 */
struct iommu_hwpt_invalidate_selftest {
	__u32 flags;
	__u32 iotlb_id;
};

#endif /* IOMMUFD_OOT_IOMMUFD_TEST_H */
