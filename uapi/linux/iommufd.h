/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * User ABI of the out-of-tree /dev/iommu character device.
 *
 * Binary compatible with the iommufd uAPI header of Linux 6.12: the
 * ioctl numbers, structure layouts, field names, flag values and errno
 * conventions below are the upstream ones.  A build-time check
 * (tools/abi/abi-check.sh) compares this file against the distribution's
 * copy of the upstream header and fails the build on any drift.
 *
 * The include guard deliberately differs from the upstream one: a
 * translation unit that pulls in both headers gets redefinition errors
 * instead of silently using whichever copy came first.
 */
#ifndef IOMMUFD_OOT_UAPI_IOMMUFD_H
#define IOMMUFD_OOT_UAPI_IOMMUFD_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The ioctl "magic" shared by every command on /dev/iommu. */
#define IOMMUFD_TYPE (';')

/**
 * DOC: Calling convention
 *
 * Every command is an _IO() ioctl whose third argument points at a command
 * structure.  The first member of each structure is a __u32 @size that the
 * caller sets to the number of bytes it is passing, normally sizeof() of the
 * structure as the caller's copy of this header defines it.  This lets old
 * binaries run on new kernels and the other way round:
 *
 *  - A @size smaller than the command's full structure is accepted as long
 *    as it covers the command's mandatory prefix; the missing tail is
 *    treated as if it had been all zero bytes.  Each structure below names
 *    its "minimum size".
 *  - A @size below that minimum fails with EINVAL.
 *  - A @size larger than the structure is accepted only if every byte past
 *    the known structure is zero; otherwise the call fails with E2BIG.
 *  - Output fields are written back using the layout known to the kernel,
 *    never beyond the @size the caller supplied.
 *
 * Errors common to all commands:
 *
 *  - ENOTTY: the ioctl number is not a command of this device.
 *  - EFAULT: the argument pointer, or a user pointer inside the command,
 *    could not be read or written.
 *  - EINVAL: @size is below the minimum, or a field holds a value that is
 *    understood but not acceptable here (a misaligned address, a zero
 *    length, ...).
 *  - E2BIG: non-zero bytes beyond the end of the structure known to the
 *    kernel.
 *  - EOPNOTSUPP: a flag bit, enum value or option the kernel does not
 *    implement, or a non-zero __reserved field.
 *  - ENOENT: an object ID that does not exist on this file descriptor or
 *    names an object of the wrong type, or an IOVA range that is not
 *    mapped.
 *  - ENOMEM: a kernel allocation failed, or pinning memory would exceed the
 *    caller's RLIMIT_MEMLOCK.
 *  - EOVERFLOW: an address or length calculation does not fit in the
 *    kernel's unsigned long.
 *
 * Commands list the additional errors they can return.
 */

/**
 * DOC: Project extensions
 *
 * Everything this project adds on top of upstream is marked
 * "Extension (not upstream)" in its comment, follows the same calling
 * convention and errno rules as the upstream commands, and is numbered so
 * that upstream growing the same space later can never collide with it:
 *
 *  - Commands take the command numbers from 0xc0 (IOMMUFD_CMD_EXT_BASE)
 *    upward; upstream allocates from 0x80 upward and uses 0xa0 for its test
 *    command.  The extension commands are IOMMU_IOAS_CREATE_WINDOW,
 *    IOMMU_IOAS_REMOVE_WINDOW and IOMMU_IOAS_LIST_WINDOWS (0xc0..0xc2)
 *    and IOMMU_VFIO_LINK and IOMMU_DEVICE_ATTACH (0xc3, 0xc4).
 *  - A flag added to a field that upstream owns (a flags field of an
 *    upstream structure) takes the top bits of that field, from the most
 *    significant bit downward: bit 31 first for a __u32 field, bit 63 for a
 *    __u64.  Upstream allocates flag bits from bit 0 upward, so the two only
 *    meet when a field is full.  The top byte of such a field is ours.  The
 *    only one today is IOMMU_IOAS_ALLOC_WINDOWED, bit 31 of
 *    struct iommu_ioas_alloc's flags.
 *  - A value added to an enumeration upstream owns (test ops, data types,
 *    option IDs) takes a number far above upstream's: our test ops start at
 *    IOMMU_TEST_OP_EXT_BASE (0x1000), see iommufd/iommufd_test.h.
 *  - Fields, flags and values of a structure that is itself an extension
 *    (the IOVA window structures, struct iommu_uring_cmd) are ours alone
 *    and are numbered from bit 0 as usual.
 *
 * tools/abi/extensions.txt lists every extension constant with the field
 * or range it lives in, and the ABI check (tools/abi/abi-check.sh) fails
 * the build when one breaks these rules or is not listed.
 */

/**
 * DOC: What this module implements
 *
 * Every structure of upstream's header is here, so that programs written
 * for upstream compile unchanged, and every command of it has a handler.
 * Nesting (IOMMU_HWPT_ALLOC_NEST_PARENT, nested HWPTs,
 * IOMMU_HWPT_INVALIDATE) works as upstream's, for devices whose driver
 * can nest: today only the mock IOMMU of test builds (its data types are
 * in iommufd_test.h); a real device answers EOPNOTSUPP.  A nested HWPT
 * maps nothing of its own: its device's DMA goes through the first stage
 * userspace described and then through the parent, which mirrors its
 * IOAS (windows and IOMMU_OPTION_HUGE_PAGES included).
 * IOMMU_FAULT_QUEUE_ALLOC and fault queues on nested HWPTs
 * (IOMMU_HWPT_FAULT_ID_VALID, as upstream 6.12: a paging HWPT takes
 * none) work; only the mock devices of test builds can nest and report
 * I/O page faults (see IOMMU_HWPT_ALLOC).
 *
 * Devices reach the module only through kernel code that binds them: the
 * VFIO backend binds the devices of the groups in its containers, and a
 * /dev/iommu fd reaches them through IOMMU_VFIO_LINK (see there).  On an
 * fd that is not linked, a release build's device commands answer every
 * device ID with ENOENT.  Test builds also bind mock devices through
 * IOMMU_TEST_CMD.
 */

/*
 * Command numbers, i.e. the _IOC_NR() part of each ioctl.  Values and names
 * are those of upstream; do not renumber.
 */
enum {
	IOMMUFD_CMD_BASE = 0x80,
	IOMMUFD_CMD_DESTROY = IOMMUFD_CMD_BASE,
	IOMMUFD_CMD_IOAS_ALLOC = 0x81,
	IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
	IOMMUFD_CMD_IOAS_COPY = 0x83,
	IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
	IOMMUFD_CMD_IOAS_MAP = 0x85,
	IOMMUFD_CMD_IOAS_UNMAP = 0x86,
	IOMMUFD_CMD_OPTION = 0x87,
	IOMMUFD_CMD_VFIO_IOAS = 0x88,
	IOMMUFD_CMD_HWPT_ALLOC = 0x89,
	IOMMUFD_CMD_GET_HW_INFO = 0x8a,
	IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b,
	IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c,
	IOMMUFD_CMD_HWPT_INVALIDATE = 0x8d,
	IOMMUFD_CMD_FAULT_QUEUE_ALLOC = 0x8e,
	/*
	 * 0x8f..0xbf: left free for commands upstream adds later.
	 * 0xa0 (IOMMUFD_CMD_BASE + 32) is taken by IOMMU_TEST_CMD, see
	 * iommufd/iommufd_test.h.
	 */

	/*
	 * Extension (not upstream): first command number of this project's
	 * own commands.  0xc0..0xff are reserved for them.
	 */
	IOMMUFD_CMD_EXT_BASE = 0xc0,
	/* Extension (not upstream): IOVA windows, see "IOVA windows" below. */
	IOMMUFD_CMD_IOAS_CREATE_WINDOW = IOMMUFD_CMD_EXT_BASE,
	IOMMUFD_CMD_IOAS_REMOVE_WINDOW = 0xc1,
	IOMMUFD_CMD_IOAS_LIST_WINDOWS = 0xc2,
	/* Extension (not upstream): see IOMMU_VFIO_LINK. */
	IOMMUFD_CMD_VFIO_LINK = 0xc3,
	/* Extension (not upstream): see IOMMU_DEVICE_ATTACH. */
	IOMMUFD_CMD_DEVICE_ATTACH = 0xc4,
};

/**
 * struct iommu_destroy - ioctl(IOMMU_DESTROY)
 * @size: (in) sizeof(struct iommu_destroy).
 * @id: (in) ID of the object to destroy; any object type that userspace
 *      may destroy is accepted.
 *
 * Drops the object @id from the file.  The ID is free for reuse afterwards.
 * Commands of other threads that are using the object at that moment are
 * waited for (interruptibly); meanwhile the object stays visible, so
 * commands issued during the wait still find it, and if one of them makes
 * something depend on it the DESTROY fails with EBUSY, as if it had come
 * after. Commands that keep coming prolong the wait. (Extension: upstream
 * fails with EBUSY at once when another command is using the object.)
 *
 * Minimum size: up to and including @id.
 *
 * Errors: ENOENT if @id names no object, or another DESTROY removed it
 * first; EBUSY if the object is still used by another object (for
 * instance an IOAS with an HWPT or device attached); EINTR through
 * io_uring if the wait was interrupted (an ioctl is restarted).
 */
struct iommu_destroy {
	__u32 size;
	__u32 id;
};

#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)

/**
 * struct iommu_ioas_alloc - ioctl(IOMMU_IOAS_ALLOC)
 * @size: (in) sizeof(struct iommu_ioas_alloc).
 * @flags: (in) 0, or IOMMU_IOAS_ALLOC_WINDOWED (Extension, not upstream:
 *         an upstream kernel refuses it with EOPNOTSUPP, so programs can
 *         probe for IOVA windows with it).
 * @out_ioas_id: (out) ID of the new IOAS.
 *
 * Creates an empty I/O address space (IOAS): a table of IOVA ranges, each
 * backed by pinned user memory, which can later be attached to devices or
 * hardware page tables.
 *
 * Minimum size: up to and including @out_ioas_id.
 *
 * Errors: EOPNOTSUPP for an unknown flag; ENOMEM.
 */
struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};

#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)

/**
 * enum iommufd_ioas_alloc_flags - Extension (not upstream): flags of
 *	struct iommu_ioas_alloc
 * @IOMMU_IOAS_ALLOC_WINDOWED: the IOAS starts with no usable IOVA; IOVA
 *	becomes usable only inside windows made with
 *	IOMMU_IOAS_CREATE_WINDOW, each with its own page size.
 *
 * The field is upstream's, so the extension flag takes its top bit (see
 * "Project extensions"); bits upstream may define come from bit 0 up.
 */
enum iommufd_ioas_alloc_flags {
	IOMMU_IOAS_ALLOC_WINDOWED = 1U << 31,
};

/**
 * struct iommu_iova_range - one IOVA interval
 * @start: First IOVA of the interval.
 * @last: Last IOVA of the interval, inclusive.
 *
 * Element of the arrays passed by IOMMU_IOAS_IOVA_RANGES and
 * IOMMU_IOAS_ALLOW_IOVAS.  An inclusive end lets an interval reach the top
 * of the 64-bit space.
 */
struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/**
 * struct iommu_ioas_iova_ranges - ioctl(IOMMU_IOAS_IOVA_RANGES)
 * @size: (in) sizeof(struct iommu_ioas_iova_ranges).
 * @ioas_id: (in) IOAS to query.
 * @num_iovas: (in/out) On input, the number of elements @allowed_iovas can
 *             hold.  On output, the number of usable ranges the IOAS has,
 *             even if that is more than fitted.
 * @__reserved: (in) Must be 0.
 * @allowed_iovas: (in) User pointer to an array of struct iommu_iova_range
 *                 that receives the usable ranges in ascending order.
 * @out_iova_alignment: (out) Alignment, in bytes, that IOMMU_IOAS_MAP and
 *                      IOMMU_IOAS_COPY require of both the IOVA and the
 *                      length.  A power of two between 1 and PAGE_SIZE.
 *
 * Reports the IOVA ranges where mappings may currently be placed, i.e. the
 * complement of every reserved region (device apertures, MSI windows,
 * IOMMU_TEST_OP_ADD_RESERVED, ...).  An IOAS with nothing attached reports
 * the whole space; attaching devices can shrink the ranges and detaching
 * them can grow them again, so the answer is only a snapshot.
 *
 * When there are more ranges than @num_iovas allowed on input, the first
 * @num_iovas are written, @num_iovas is set to the full count and the call
 * fails with EMSGSIZE; the caller is expected to grow its array and retry.
 * Calling with @num_iovas == 0 is the usual way to learn the count.
 *
 * Minimum size: up to and including @out_iova_alignment.
 *
 * Errors: EMSGSIZE as described above (the output fields are valid);
 * EOPNOTSUPP if @__reserved is not 0; ENOENT if @ioas_id is not an IOAS.
 */
struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
	__aligned_u64 out_iova_alignment;
};

#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)

/**
 * struct iommu_ioas_allow_iovas - ioctl(IOMMU_IOAS_ALLOW_IOVAS)
 * @size: (in) sizeof(struct iommu_ioas_allow_iovas).
 * @ioas_id: (in) IOAS whose allowed list is replaced.
 * @num_iovas: (in) Number of elements in @allowed_iovas; 0 clears the list.
 * @__reserved: (in) Must be 0.
 * @allowed_iovas: (in) User pointer to an array of struct iommu_iova_range.
 *
 * Replaces the IOAS's list of allowed IOVA ranges with the given one.  The
 * allowed ranges are a promise: as long as they are set, nothing may
 * reserve IOVA inside them, so a later device attach whose reserved
 * regions would intersect an allowed range fails instead of shrinking it.
 * In addition, while the list is non-empty, IOMMU_IOAS_MAP and
 * IOMMU_IOAS_COPY without IOMMU_IOAS_MAP_FIXED_IOVA pick their IOVA only
 * from inside the allowed ranges.
 *
 * Minimum size: up to and including @allowed_iovas.
 *
 * Errors: EINVAL if an element has @start >= @last or two elements
 * overlap; EADDRINUSE if a range intersects IOVA that is already reserved
 * (the previous list is then kept); EOPNOTSUPP if @__reserved is not 0;
 * ENOENT if @ioas_id is not an IOAS; EFAULT if the array cannot be read,
 * including a @num_iovas larger than the array (nothing is allocated for
 * the count before the elements are read).
 */
struct iommu_ioas_allow_iovas {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
};

#define IOMMU_IOAS_ALLOW_IOVAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOW_IOVAS)

/**
 * enum iommufd_ioas_map_flags - flags of IOMMU_IOAS_MAP and IOMMU_IOAS_COPY
 * @IOMMU_IOAS_MAP_FIXED_IOVA: The caller chooses the IOVA (passed in the
 *                             iova field).  Without it the kernel picks a
 *                             free, suitably aligned IOVA and returns it.
 * @IOMMU_IOAS_MAP_WRITEABLE: Devices may write through the mapping.
 * @IOMMU_IOAS_MAP_READABLE: Devices may read through the mapping.
 *
 * At least one of IOMMU_IOAS_MAP_WRITEABLE and IOMMU_IOAS_MAP_READABLE must
 * be given.
 */
enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

/**
 * struct iommu_ioas_map - ioctl(IOMMU_IOAS_MAP)
 * @size: (in) sizeof(struct iommu_ioas_map).
 * @flags: (in) Any combination of enum iommufd_ioas_map_flags.
 * @ioas_id: (in) IOAS to add the mapping to.
 * @__reserved: (in) Must be 0.
 * @user_va: (in) Start of the process memory to map.
 * @length: (in) Size of the mapping in bytes.
 * @iova: (in/out) With IOMMU_IOAS_MAP_FIXED_IOVA, the IOVA to map at.
 *        On success, the IOVA the mapping was placed at.
 *
 * Pins @length bytes of the caller's memory starting at @user_va and makes
 * them reachable at [@iova, @iova + @length - 1] through every domain
 * attached to the IOAS.  An existing mapping is never replaced or
 * extended: the new range must not intersect any mapped or reserved IOVA.
 * The resulting mapping is the unit that IOMMU_IOAS_UNMAP and
 * IOMMU_IOAS_COPY operate on.
 *
 * Minimum size: up to and including @iova.
 *
 * Errors: EEXIST if a fixed range intersects an existing mapping;
 * ENOSPC if no free IOVA range of the required size and alignment is left;
 * EINVAL if neither access flag is set, @length is 0, @iova or @length is
 * not a multiple of the IOAS's IOVA alignment (see IOMMU_IOAS_IOVA_RANGES)
 * or a fixed range intersects a reserved region; EOVERFLOW if @iova or
 * @length do not fit in an unsigned long or the range wraps; EOPNOTSUPP for
 * unknown @flags or a non-zero @__reserved; ENOENT if @ioas_id is not an
 * IOAS; ENOMEM.  Memory is pinned only once something needs it: with a
 * domain attached MAP pins at once and can also fail with EFAULT (memory
 * missing, or not writable for a WRITEABLE mapping) or ENOMEM (pinning
 * would exceed RLIMIT_MEMLOCK); without one, those errors come later from
 * whatever pins.
 */
struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};

#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)

/**
 * struct iommu_ioas_copy - ioctl(IOMMU_IOAS_COPY)
 * @size: (in) sizeof(struct iommu_ioas_copy).
 * @flags: (in) Any combination of enum iommufd_ioas_map_flags; they apply
 *         to the new mapping.
 * @dst_ioas_id: (in) IOAS that receives the new mapping.
 * @src_ioas_id: (in) IOAS whose pages are reused.
 * @length: (in) Number of bytes to copy.
 * @dst_iova: (in/out) With IOMMU_IOAS_MAP_FIXED_IOVA, the IOVA to map at
 *            in the destination.  On success, where the mapping was placed.
 * @src_iova: (in) First IOVA of the source range.
 *
 * Maps, in @dst_ioas_id, the very pages already pinned for
 * [@src_iova, @src_iova + @length - 1] of @src_ioas_id.  The pages are
 * shared rather than pinned again, which makes this cheaper than a second
 * IOMMU_IOAS_MAP of the same memory and charges them only once.  The
 * source range must be fully covered by existing, contiguous mappings.
 * Source and destination may be the same IOAS.
 *
 * Minimum size: up to and including @src_iova.
 *
 * Errors: ENOENT if an ID is not an IOAS or the source range is not fully
 * mapped; otherwise as IOMMU_IOAS_MAP (EEXIST, ENOSPC, EINVAL, EOVERFLOW,
 * EOPNOTSUPP, EPERM, ENOMEM) for the destination.
 */
struct iommu_ioas_copy {
	__u32 size;
	__u32 flags;
	__u32 dst_ioas_id;
	__u32 src_ioas_id;
	__aligned_u64 length;
	__aligned_u64 dst_iova;
	__aligned_u64 src_iova;
};

#define IOMMU_IOAS_COPY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_COPY)

/**
 * struct iommu_ioas_unmap - ioctl(IOMMU_IOAS_UNMAP)
 * @size: (in) sizeof(struct iommu_ioas_unmap).
 * @ioas_id: (in) IOAS to remove mappings from.
 * @iova: (in) First IOVA of the range to unmap.
 * @length: (in/out) On input, size of the range in bytes.  On success, the
 *          total number of bytes that were unmapped.
 *
 * Removes every mapping inside [@iova, @iova + @length - 1] and unpins
 * the memory no other mapping uses.  Mappings are only ever removed whole:
 * if the range cuts through a mapping nothing is split and the call fails.
 * The pair @iova == 0, @length == U64_MAX removes everything and also
 * succeeds on an empty IOAS.
 *
 * Minimum size: up to and including @length.
 *
 * Errors: ENOENT if the range contains no mapping or only partially covers
 * one; EINVAL if @length is 0; EOVERFLOW if the range does not fit in an
 * unsigned long; EBUSY if a concurrent map or unmap of the same mapping is
 * in progress; EDEADLOCK if an in-kernel user (an emulated device) pinning
 * pages there was asked 100 times to let go and did not, as upstream
 * gives up; ENOENT if @ioas_id is not an IOAS.  A failed
 * unmap changes nothing (upstream may already have removed the whole
 * mappings below the one it cuts; this module checks first).
 */
struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};

#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)

/**
 * enum iommufd_option - option selectors for IOMMU_OPTION
 * @IOMMU_OPTION_RLIMIT_MODE:
 *    Global option (object_id must be 0) choosing how pinned pages are
 *    charged against RLIMIT_MEMLOCK: 0, the default, charges the user,
 *    1 charges the process.  Setting it needs CAP_SYS_RESOURCE and is
 *    only possible while the file holds no objects.
 * @IOMMU_OPTION_HUGE_PAGES:
 *    Per-IOAS option (object_id is the IOAS ID).  1, the default, lets
 *    physically contiguous pages be mapped with large IOMMU page sizes;
 *    0 forces every mapping to be built from PAGE_SIZE entries, mainly to
 *    measure the difference.
 */
enum iommufd_option {
	IOMMU_OPTION_RLIMIT_MODE = 0,
	IOMMU_OPTION_HUGE_PAGES = 1,
};

/**
 * enum iommufd_option_ops - operation performed by IOMMU_OPTION
 * @IOMMU_OPTION_OP_SET: Store val64 as the option's new value.
 * @IOMMU_OPTION_OP_GET: Return the option's current value in val64.
 */
enum iommufd_option_ops {
	IOMMU_OPTION_OP_SET = 0,
	IOMMU_OPTION_OP_GET = 1,
};

/**
 * struct iommu_option - ioctl(IOMMU_OPTION)
 * @size: (in) sizeof(struct iommu_option).
 * @option_id: (in) One of enum iommufd_option.
 * @op: (in) One of enum iommufd_option_ops.
 * @__reserved: (in) Must be 0.
 * @object_id: (in) Object the option belongs to, or 0 for a global option.
 * @val64: (in/out) Value to set, or the value read back by a get.
 *
 * Reads or changes one tunable.  On a successful get only @val64 is
 * written back.
 *
 * Minimum size: up to and including @val64.
 *
 * Errors: EOPNOTSUPP for an unknown @option_id or @op, a non-zero
 * @__reserved or a non-zero @object_id on a global option; EINVAL if a set
 * passes a value other than 0 or 1; EPERM if the caller lacks the
 * privilege a set requires; EBUSY if RLIMIT_MODE is set while objects
 * exist; ENOENT if @object_id is not an IOAS for a per-IOAS option.
 * Setting HUGE_PAGES to 0 also fails with EINVAL while the IOAS has both
 * a domain and mappings, or a window that must use IOPTEs larger than
 * PAGE_SIZE, and with EADDRINUSE if a mapping is not page aligned (PAGE_SIZE
 * IOPTEs need page-aligned IOVAs).
 */
struct iommu_option {
	__u32 size;
	__u32 option_id;
	__u16 op;
	__u16 __reserved;
	__u32 object_id;
	__aligned_u64 val64;
};

#define IOMMU_OPTION _IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION)

/**
 * enum iommufd_vfio_ioas_op - operation performed by IOMMU_VFIO_IOAS
 * @IOMMU_VFIO_IOAS_GET: Return the IOAS used by the VFIO compatibility
 *                       ioctls.
 * @IOMMU_VFIO_IOAS_SET: Make ioas_id the IOAS for VFIO compatibility.
 * @IOMMU_VFIO_IOAS_CLEAR: Forget the compatibility IOAS without
 *                         destroying it.
 */
enum iommufd_vfio_ioas_op {
	IOMMU_VFIO_IOAS_GET = 0,
	IOMMU_VFIO_IOAS_SET = 1,
	IOMMU_VFIO_IOAS_CLEAR = 2,
};

/**
 * struct iommu_vfio_ioas - ioctl(IOMMU_VFIO_IOAS)
 * @size: (in) sizeof(struct iommu_vfio_ioas).
 * @ioas_id: (in) For IOMMU_VFIO_IOAS_SET, the IOAS to use.
 *           (out) For IOMMU_VFIO_IOAS_GET, the IOAS in use.
 * @op: (in) One of enum iommufd_vfio_ioas_op.
 * @__reserved: (in) Must be 0.
 *
 * The VFIO type1 container ioctls (VFIO_GET_API_VERSION,
 * VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU, VFIO_IOMMU_GET_INFO,
 * VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA) are accepted on this file too
 * and carry no IOAS ID, so they all act on one designated IOAS, the
 * compatibility IOAS.  This command inspects or changes which one.  SET
 * and CLEAR never destroy an IOAS; destroying the compatibility IOAS
 * clears the choice.  Each VFIO ioctl looks the IOAS up afresh.
 *
 * Minimum size: up to and including @__reserved.
 *
 * Errors: EOPNOTSUPP for an unknown @op or a non-zero @__reserved;
 * ENOENT if @ioas_id is not an IOAS on a set; ENODEV if a get finds no
 * compatibility IOAS.
 */
struct iommu_vfio_ioas {
	__u32 size;
	__u32 ioas_id;
	__u16 op;
	__u16 __reserved;
};

#define IOMMU_VFIO_IOAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VFIO_IOAS)

/**
 * enum iommufd_hwpt_alloc_flags - flags of IOMMU_HWPT_ALLOC
 * @IOMMU_HWPT_ALLOC_NEST_PARENT: The new HWPT may later be used as the
 *                                stage-2 parent of nested HWPTs.
 * @IOMMU_HWPT_ALLOC_DIRTY_TRACKING: The domain must support dirty tracking;
 *                                   attaching a device whose IOMMU cannot
 *                                   track dirty pages is refused.
 * @IOMMU_HWPT_FAULT_ID_VALID: The fault_id field names a fault queue that
 *                             receives this HWPT's I/O page faults; for
 *                             a nested HWPT only.
 */
enum iommufd_hwpt_alloc_flags {
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,
};

/**
 * enum iommu_hwpt_vtd_s1_flags - attribute bits of a VT-d stage-1 table
 * @IOMMU_VTD_S1_SRE: Supervisor requests are allowed.
 * @IOMMU_VTD_S1_EAFE: Extended accessed flag is enabled.
 * @IOMMU_VTD_S1_WPE: Write protection is enforced for supervisor requests.
 */
enum iommu_hwpt_vtd_s1_flags {
	IOMMU_VTD_S1_SRE = 1 << 0,
	IOMMU_VTD_S1_EAFE = 1 << 1,
	IOMMU_VTD_S1_WPE = 1 << 2,
};

/**
 * struct iommu_hwpt_vtd_s1 - IOMMU_HWPT_DATA_VTD_S1 allocation data
 * @flags: Any combination of enum iommu_hwpt_vtd_s1_flags.
 * @pgtbl_addr: Guest physical address of the stage-1 page table root.
 * @addr_width: Input address width of that table, in bits.
 * @__reserved: Must be 0.
 *
 * Describes a guest-owned Intel VT-d first-stage page table to nest on top
 * of a parent HWPT.  Passed through data_uptr of struct iommu_hwpt_alloc.
 */
struct iommu_hwpt_vtd_s1 {
	__aligned_u64 flags;
	__aligned_u64 pgtbl_addr;
	__u32 addr_width;
	__u32 __reserved;
};

/**
 * enum iommu_hwpt_data_type - format of IOMMU_HWPT_ALLOC's data_uptr
 * @IOMMU_HWPT_DATA_NONE: No data; allocates a kernel-managed (paging) HWPT.
 * @IOMMU_HWPT_DATA_VTD_S1: struct iommu_hwpt_vtd_s1.
 */
enum iommu_hwpt_data_type {
	IOMMU_HWPT_DATA_NONE = 0,
	IOMMU_HWPT_DATA_VTD_S1 = 1,
};

/**
 * struct iommu_hwpt_alloc - ioctl(IOMMU_HWPT_ALLOC)
 * @size: (in) sizeof(struct iommu_hwpt_alloc).
 * @flags: (in) Any combination of enum iommufd_hwpt_alloc_flags.
 * @dev_id: (in) Device the HWPT is created for; its IOMMU driver builds
 *          the underlying domain.
 * @pt_id: (in) An IOAS, to create a kernel-managed HWPT mirroring it, or a
 *         nest-parent HWPT, to create a nested HWPT on top of it.
 * @out_hwpt_id: (out) ID of the new HWPT.
 * @__reserved: (in) Must be 0.
 * @data_type: (in) One of enum iommu_hwpt_data_type.
 * @data_len: (in) Length in bytes of the buffer at @data_uptr.
 * @data_uptr: (in) User pointer to driver-specific data of @data_type.
 * @fault_id: (in) Fault queue object, read only when @flags has
 *            IOMMU_HWPT_FAULT_ID_VALID.
 * @__reserved2: (in) Padding; must be 0.
 *
 * Creates a hardware page table (HWPT) object explicitly instead of
 * letting a device attach create one implicitly.
 *
 * With an IOAS in @pt_id the result is a kernel-managed HWPT that always
 * holds the IOAS's mappings; @data_type must be IOMMU_HWPT_DATA_NONE, and
 * @flags may request IOMMU_HWPT_ALLOC_NEST_PARENT or
 * IOMMU_HWPT_ALLOC_DIRTY_TRACKING.  With a nest-parent HWPT in @pt_id the
 * result is a user-managed nested HWPT whose first-stage table is
 * described by @data_type / @data_uptr in a format the hardware
 * understands.  @data_len must be 0 exactly when @data_type is
 * IOMMU_HWPT_DATA_NONE.
 *
 * Minimum size: up to and including @__reserved (the data and fault
 * fields read as zero when absent).
 *
 * Errors: EINVAL if @pt_id names neither an IOAS nor a usable parent HWPT
 * or @data_len does not match @data_type; EOPNOTSUPP for unknown @flags,
 * an unsupported @data_type or flag combination, or a non-zero
 * @__reserved; ENOENT if @dev_id or @fault_id does not exist; driver
 * errors from building the domain.
 *
 * This module also fails with EINVAL when the domain's smallest IOPTE is
 * larger than PAGE_SIZE (pinned memory is only contiguous page by page),
 * as attaching a device to an IOAS does for such a domain.
 *
 * This module: only the mock IOMMU of test builds nests, tracks dirty
 * pages and reports I/O page faults.  The checks run in upstream's
 * order: a non-zero @__reserved (EOPNOTSUPP; @__reserved2 is ignored, as
 * upstream ignores it), then @data_len against @data_type (EINVAL), then
 * @dev_id (ENOENT), then @pt_id (EINVAL if it names nothing, or neither
 * an IOAS nor a paging HWPT: a nested HWPT is no parent).
 *
 * On an IOAS: a flag other than IOMMU_HWPT_ALLOC_NEST_PARENT and
 * IOMMU_HWPT_ALLOC_DIRTY_TRACKING (IOMMU_HWPT_FAULT_ID_VALID included,
 * whatever @fault_id is), any @data_type other than
 * IOMMU_HWPT_DATA_NONE, NEST_PARENT for a device whose driver cannot
 * nest, and DIRTY_TRACKING for one that cannot track fail with
 * EOPNOTSUPP, creating nothing; then the domain is made (driver errors).
 *
 * On a paging HWPT (a nested HWPT is made): a flag other than
 * IOMMU_HWPT_FAULT_ID_VALID, no data, or a device whose driver cannot
 * nest (EOPNOTSUPP); then a parent that is automatic, was not allocated
 * with NEST_PARENT, or belongs to another driver (EINVAL); then the
 * driver's checks of the data: an unknown @data_type (EOPNOTSUPP), a
 * @data_len below the first version of the driver's struct or above the
 * struct it knows, even with a zero tail (EINVAL), a bad @data_uptr
 * (EFAULT).  The parent cannot be destroyed (EBUSY) while a nested HWPT
 * uses it.
 *
 * Then, for a nested HWPT with FAULT_ID_VALID, @fault_id is looked up:
 * ENOENT if it is not a fault queue of this fd.  Fault queues go on
 * nested HWPTs only, as in upstream 6.12 (later kernels also take them
 * on an IOAS; this module keeps 6.12's EOPNOTSUPP).  The HWPT holds the
 * fault queue (IOMMU_DESTROY of the queue fails with EBUSY until the
 * HWPT is gone).  A device attaching to it must be able to report I/O
 * page faults: one that cannot fails the attach with ENODEV, the errno
 * of the kernel's iommu_dev_enable_feature() for an IOMMU without the
 * feature.  Only the mock devices of test builds can nest, so only they
 * ever get a fault queue; a real device (the VFIO backend's) cannot have
 * a nest parent and gets EOPNOTSUPP before a fault queue is looked at.
 * A device leaving the HWPT (detach, replace, unbind) has its fault
 * groups in the queue, read or not, answered
 * IOMMUFD_PAGE_RESP_INVALID.
 */
struct iommu_hwpt_alloc {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id;
	__u32 out_hwpt_id;
	__u32 __reserved;
	__u32 data_type;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 fault_id;
	__u32 __reserved2;
};

#define IOMMU_HWPT_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_ALLOC)

/**
 * enum iommu_hw_info_vtd_flags - flags of struct iommu_hw_info_vtd
 * @IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17: The IOMMU is affected by Intel
 *                                         erratum 772415 (SPR17): read-only
 *                                         mappings must not be created in
 *                                         a nest-parent domain.
 */
enum iommu_hw_info_vtd_flags {
	IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1 << 0,
};

/**
 * struct iommu_hw_info_vtd - IOMMU_HW_INFO_TYPE_INTEL_VTD data
 * @flags: Any combination of enum iommu_hw_info_vtd_flags.
 * @__reserved: Must be 0.
 * @cap_reg: Raw value of the VT-d Capability Register.
 * @ecap_reg: Raw value of the VT-d Extended Capability Register.
 *
 * Returned through data_uptr of struct iommu_hw_info; decoding the
 * registers is left to userspace, following the VT-d specification.
 */
struct iommu_hw_info_vtd {
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 cap_reg;
	__aligned_u64 ecap_reg;
};

/**
 * enum iommu_hw_info_type - format of IOMMU_GET_HW_INFO's data
 * @IOMMU_HW_INFO_TYPE_NONE: The IOMMU driver reports no specific data.
 * @IOMMU_HW_INFO_TYPE_INTEL_VTD: struct iommu_hw_info_vtd.
 */
enum iommu_hw_info_type {
	IOMMU_HW_INFO_TYPE_NONE = 0,
	IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,
};

/**
 * enum iommufd_hw_capabilities - generic capability bits of IOMMU_GET_HW_INFO
 * @IOMMU_HW_CAP_DIRTY_TRACKING: The IOMMU can record which pages devices
 *                               wrote, so IOMMU_HWPT_SET_DIRTY_TRACKING and
 *                               IOMMU_HWPT_GET_DIRTY_BITMAP are usable.
 * @IOMMU_HW_CAP_PCI_PASID_EXEC: PASID requests with Execute permission are
 *                               supported; meaningless when
 *                               out_max_pasid_log2 is 0.
 * @IOMMU_HW_CAP_PCI_PASID_PRIV: PASID requests in Privileged mode are
 *                               supported; meaningless when
 *                               out_max_pasid_log2 is 0.
 */
enum iommufd_hw_capabilities {
	IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0,
	IOMMU_HW_CAP_PCI_PASID_EXEC = 1 << 1,
	IOMMU_HW_CAP_PCI_PASID_PRIV = 1 << 2,
};

/**
 * struct iommu_hw_info - ioctl(IOMMU_GET_HW_INFO)
 * @size: (in) sizeof(struct iommu_hw_info).
 * @flags: (in) No flags are defined; must be 0.
 * @dev_id: (in) Device, bound to this file, whose IOMMU is queried.
 * @data_len: (in/out) On input, size of the buffer at @data_uptr.  On
 *            output, size of the data the kernel has, which may be larger
 *            than what fitted.
 * @data_uptr: (in) User buffer receiving the driver-specific data.
 * @out_data_type: (out) One of enum iommu_hw_info_type, telling how to
 *                 read the buffer.
 * @out_max_pasid_log2: (out) Number of PASID bits the device supports;
 *                      0 if it does not support PASID.
 * @__reserved: (in) Must be 0.
 * @out_capabilities: (out) Any combination of enum iommufd_hw_capabilities.
 *
 * Describes the IOMMU behind a device so userspace (typically a VMM
 * emulating a virtual IOMMU) can match its features.  At most @data_len
 * bytes are copied; if the buffer is larger than the data, the rest of it
 * is zeroed.  A @data_len of 0 is valid and just reports the size.
 *
 * Minimum size: up to and including @__reserved.
 *
 * Errors: EOPNOTSUPP if @flags or @__reserved is not 0; ENOENT if @dev_id
 * is not a bound device; ENODEV on a driver inconsistency.
 */
struct iommu_hw_info {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 out_data_type;
	__u8 out_max_pasid_log2;
	__u8 __reserved[3];
	__aligned_u64 out_capabilities;
};

#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO)

/**
 * enum iommufd_hwpt_set_dirty_tracking_flags - flags of
 *                                              IOMMU_HWPT_SET_DIRTY_TRACKING
 * @IOMMU_HWPT_DIRTY_TRACKING_ENABLE: Turn tracking on; clear it to turn
 *                                    tracking off.
 */
enum iommufd_hwpt_set_dirty_tracking_flags {
	IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1,
};

/**
 * struct iommu_hwpt_set_dirty_tracking - ioctl(IOMMU_HWPT_SET_DIRTY_TRACKING)
 * @size: (in) sizeof(struct iommu_hwpt_set_dirty_tracking).
 * @flags: (in) Any combination of
 *         enum iommufd_hwpt_set_dirty_tracking_flags.
 * @hwpt_id: (in) Kernel-managed HWPT to act on.
 * @__reserved: (in) Must be 0.
 *
 * Starts or stops recording of device writes in a kernel-managed HWPT.
 *
 * Minimum size: up to and including @__reserved.
 *
 * Errors: EOPNOTSUPP for unknown @flags or if the domain cannot track
 * dirty pages; ENOENT if @hwpt_id is not a kernel-managed HWPT.
 */
struct iommu_hwpt_set_dirty_tracking {
	__u32 size;
	__u32 flags;
	__u32 hwpt_id;
	__u32 __reserved;
};

#define IOMMU_HWPT_SET_DIRTY_TRACKING _IO(IOMMUFD_TYPE, \
					  IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING)

/**
 * enum iommufd_hwpt_get_dirty_bitmap_flags - flags of
 *                                            IOMMU_HWPT_GET_DIRTY_BITMAP
 * @IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR: Report the dirty state but leave
 *                                        it set in the page tables, which
 *                                        saves work when the range is about
 *                                        to be unmapped anyway.
 */
enum iommufd_hwpt_get_dirty_bitmap_flags {
	IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1,
};

/**
 * struct iommu_hwpt_get_dirty_bitmap - ioctl(IOMMU_HWPT_GET_DIRTY_BITMAP)
 * @size: (in) sizeof(struct iommu_hwpt_get_dirty_bitmap).
 * @hwpt_id: (in) Kernel-managed HWPT to read.
 * @flags: (in) Any combination of enum iommufd_hwpt_get_dirty_bitmap_flags.
 * @__reserved: (in) Must be 0.
 * @iova: (in) IOVA that bit 0 of the bitmap describes.
 * @length: (in) Size in bytes of the IOVA range to report.
 * @page_size: (in) Number of IOVA bytes each bit stands for; a power of
 *             two.
 * @data: (in) User pointer to the bitmap, an array of __u64 words.
 *
 * Collects the dirty state of [@iova, @iova + @length - 1] into the
 * bitmap at @data and, unless IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR is
 * given, clears it in the page tables.  The page at address A is
 * described by bit ((A - @iova) / @page_size) % 64 of word
 * ((A - @iova) / @page_size) / 64.  Only bits for dirty pages are set;
 * the caller clears the bitmap beforehand.
 *
 * Minimum size: up to and including @data.
 *
 * Errors: EINVAL if @length or @page_size is 0 or the range is not
 * aligned to both @page_size and the IOAS's IOVA alignment; EOVERFLOW if
 * the range wraps or does not fit in an unsigned long; EOPNOTSUPP for
 * unknown @flags, a non-zero @__reserved or a domain without dirty
 * tracking; ENOENT if @hwpt_id is not a kernel-managed HWPT.
 */
struct iommu_hwpt_get_dirty_bitmap {
	__u32 size;
	__u32 hwpt_id;
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 data;
};

#define IOMMU_HWPT_GET_DIRTY_BITMAP _IO(IOMMUFD_TYPE, \
					IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP)

/**
 * enum iommu_hwpt_invalidate_data_type - format of IOMMU_HWPT_INVALIDATE
 *                                        entries
 * @IOMMU_HWPT_INVALIDATE_DATA_VTD_S1: struct iommu_hwpt_vtd_s1_invalidate.
 */
enum iommu_hwpt_invalidate_data_type {
	IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0,
};

/**
 * enum iommu_hwpt_vtd_s1_invalidate_flags - flags of
 *                                           struct iommu_hwpt_vtd_s1_invalidate
 * @IOMMU_VTD_INV_FLAGS_LEAF: Only leaf entries changed, so cached
 *                            non-leaf (paging-structure) entries may be
 *                            kept.
 */
enum iommu_hwpt_vtd_s1_invalidate_flags {
	IOMMU_VTD_INV_FLAGS_LEAF = 1 << 0,
};

/**
 * struct iommu_hwpt_vtd_s1_invalidate - one VT-d stage-1 invalidation
 * @addr: First address to invalidate; 4 KiB aligned.
 * @npages: Number of 4 KiB pages from @addr.
 * @flags: Any combination of enum iommu_hwpt_vtd_s1_invalidate_flags.
 * @__reserved: Must be 0.
 *
 * Array entry of IOMMU_HWPT_INVALIDATE with
 * IOMMU_HWPT_INVALIDATE_DATA_VTD_S1.  @addr == 0 together with
 * @npages == U64_MAX flushes everything cached for the table.  Device
 * TLBs (ATS) are flushed as needed without being asked.
 */
struct iommu_hwpt_vtd_s1_invalidate {
	__aligned_u64 addr;
	__aligned_u64 npages;
	__u32 flags;
	__u32 __reserved;
};

/**
 * struct iommu_hwpt_invalidate - ioctl(IOMMU_HWPT_INVALIDATE)
 * @size: (in) sizeof(struct iommu_hwpt_invalidate).
 * @hwpt_id: (in) Nested HWPT whose caches are flushed.
 * @data_uptr: (in) User pointer to an array of invalidation entries.
 * @data_type: (in) One of enum iommu_hwpt_invalidate_data_type; the type of
 *             every entry, and one the HWPT accepts.
 * @entry_len: (in) Size in bytes of one entry, as the caller defines it.
 * @entry_num: (in/out) On input, number of entries.  On output, number of
 *             entries processed successfully, counted from the start.
 * @__reserved: (in) Must be 0.
 *
 * After userspace edits a page table it manages itself (a nested HWPT),
 * this flushes the IOMMU's cached copies of the affected entries.  Entries
 * are processed in order and processing stops at the first failing one;
 * @entry_num tells how far it got even when the call fails.  An empty
 * array (@entry_num == 0) is accepted without looking at @data_uptr or
 * @entry_len, which tells whether @data_type is supported.
 *
 * Minimum size: up to and including @__reserved.
 *
 * Errors, in this order: EOPNOTSUPP if @__reserved is not 0; EINVAL if
 * a non-empty array has a NULL @data_uptr, an @entry_len of 0 or above
 * the page size, or more than 2^19 entries; ENOENT if @hwpt_id is not a
 * nested HWPT (a paging one included); then the driver's: EINVAL for a
 * @data_type it does not take (also with no entry), an @entry_len below
 * the first version of its entry or above the entry it knows (even with
 * a zero tail), or an invalid entry; EOPNOTSUPP for an entry's unknown
 * flags; EFAULT for an array it cannot read.  @entry_num is written back
 * in every case (0 when the driver did not run); a reply that cannot be
 * written is EFAULT, though the entries counted were handled.
 *
 * This module: through io_uring with IOMMU_URING_CMD_INLINE, @entry_num
 * is not written back; a failure does not say how far it got, and
 * invalidating the array again is harmless.
 */
struct iommu_hwpt_invalidate {
	__u32 size;
	__u32 hwpt_id;
	__aligned_u64 data_uptr;
	__u32 data_type;
	__u32 entry_len;
	__u32 entry_num;
	__u32 __reserved;
};

#define IOMMU_HWPT_INVALIDATE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_INVALIDATE)

/**
 * enum iommu_hwpt_pgfault_flags - flags of struct iommu_hwpt_pgfault
 * @IOMMU_PGFAULT_FLAGS_PASID_VALID: The pasid field is meaningful.
 * @IOMMU_PGFAULT_FLAGS_LAST_PAGE: This is the final fault of its group;
 *                                 only it needs a response.
 */
enum iommu_hwpt_pgfault_flags {
	IOMMU_PGFAULT_FLAGS_PASID_VALID = (1 << 0),
	IOMMU_PGFAULT_FLAGS_LAST_PAGE = (1 << 1),
};

/**
 * enum iommu_hwpt_pgfault_perm - access bits of struct iommu_hwpt_pgfault
 * @IOMMU_PGFAULT_PERM_READ: The device asked for read access.
 * @IOMMU_PGFAULT_PERM_WRITE: The device asked for write access.
 * @IOMMU_PGFAULT_PERM_EXEC: The request carried a PASID prefix with
 *                           Execute Requested set (PCIe r6, 10.4.1).
 * @IOMMU_PGFAULT_PERM_PRIV: The request carried a PASID prefix with
 *                           Privileged Mode Requested set (PCIe r6, 10.4.1).
 */
enum iommu_hwpt_pgfault_perm {
	IOMMU_PGFAULT_PERM_READ = (1 << 0),
	IOMMU_PGFAULT_PERM_WRITE = (1 << 1),
	IOMMU_PGFAULT_PERM_EXEC = (1 << 2),
	IOMMU_PGFAULT_PERM_PRIV = (1 << 3),
};

/**
 * struct iommu_hwpt_pgfault - one I/O page fault read from a fault queue
 * @flags: Any combination of enum iommu_hwpt_pgfault_flags.
 * @dev_id: ID of the bound device that faulted.
 * @pasid: PASID of the request, if IOMMU_PGFAULT_FLAGS_PASID_VALID.
 * @grpid: Page request group index of the request.
 * @perm: Any combination of enum iommu_hwpt_pgfault_perm.
 * @__reserved: Always 0.
 * @addr: Faulting address.
 * @length: Optional hint of how many bytes the device is going to access
 *          from @addr, so more than one page can be made present at once;
 *          0 if the device gave no hint.
 * @cookie: Identifies the fault group; the response for the group must
 *          quote the cookie of its last fault.
 *
 * read() on the file returned by IOMMU_FAULT_QUEUE_ALLOC yields whole
 * fault groups made of these records.
 */
struct iommu_hwpt_pgfault {
	__u32 flags;
	__u32 dev_id;
	__u32 pasid;
	__u32 grpid;
	__u32 perm;
	__u32 __reserved;
	__aligned_u64 addr;
	__u32 length;
	__u32 cookie;
};

/**
 * enum iommufd_page_response_code - outcome reported for a fault group
 * @IOMMUFD_PAGE_RESP_SUCCESS: The fault was resolved; the device should
 *                             retry the access (PCI "Success").
 * @IOMMUFD_PAGE_RESP_INVALID: The fault cannot be resolved; the device
 *                             should not retry (PCI "Invalid Request").
 */
enum iommufd_page_response_code {
	IOMMUFD_PAGE_RESP_SUCCESS = 0,
	IOMMUFD_PAGE_RESP_INVALID = 1,
};

/**
 * struct iommu_hwpt_page_response - reply to a fault group
 * @cookie: The cookie of the group's last fault.
 * @code: One of enum iommufd_page_response_code.
 *
 * write() to the fault queue file takes an array of these records.  An
 * unknown @cookie or @code fails the write with EINVAL.
 */
struct iommu_hwpt_page_response {
	__u32 cookie;
	__u32 code;
};

/**
 * struct iommu_fault_alloc - ioctl(IOMMU_FAULT_QUEUE_ALLOC)
 * @size: (in) sizeof(struct iommu_fault_alloc).
 * @flags: (in) No flags are defined; must be 0.
 * @out_fault_id: (out) Object ID of the new fault queue, for the fault_id
 *                field of struct iommu_hwpt_alloc.
 * @out_fault_fd: (out) New file descriptor (close-on-exec) from which
 *                faults are read and to which responses are written.
 *
 * Creates a fault queue that forwards I/O page faults of the HWPTs that
 * name it to userspace.
 *
 * The file: read() returns whole fault groups, as many as fit, each as
 * its struct iommu_hwpt_pgfault records in the order the device reported
 * them (the last with IOMMU_PGFAULT_FLAGS_LAST_PAGE), all with the
 * group's cookie; it never blocks (0 when nothing waits; use poll()).  A
 * size that is not a multiple of the record, or a file position other
 * than 0, gives ESPIPE; a first group that does not fit gives EINVAL.
 * write() takes struct iommu_hwpt_page_response records (ESPIPE as for
 * read()), handled in order; a @code other than SUCCESS or INVALID, or a
 * cookie of no group read and unanswered, stops it with EINVAL; it
 * returns the bytes of the records handled, or the error if none was.
 * poll() reports EPOLLOUT always, EPOLLIN while a group waits.  Closing
 * the file answers every group waiting, read or not, with
 * IOMMUFD_PAGE_RESP_INVALID, and so every later one (upstream keeps them
 * until the object is destroyed; nobody could answer them).  The object
 * cannot be destroyed (EBUSY) while its file is open or an HWPT names it.
 *
 * Minimum size: up to and including @out_fault_fd.
 *
 * Errors: EOPNOTSUPP if @flags is not 0; ENOMEM; EMFILE if no file
 * descriptor is available.  This module: through io_uring the struct
 * must be passed by pointer (inline: EOPNOTSUPP), and the new file
 * descriptor goes into the file table io_uring's workers for the ring use:
 * the submitting process's, or for an SQPOLL ring its creator's, as with
 * io_uring's own IORING_OP_OPENAT.
 */
struct iommu_fault_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_fault_id;
	__u32 out_fault_fd;
};

#define IOMMU_FAULT_QUEUE_ALLOC _IO(IOMMUFD_TYPE, \
				    IOMMUFD_CMD_FAULT_QUEUE_ALLOC)

/**
 * DOC: IOVA windows (Extension, not upstream)
 *
 * A windowed IOAS (IOMMU_IOAS_ALLOC_WINDOWED) models IOMMUs whose guest
 * interface, like IBM's PAPR TCE tables, exposes a few DMA windows with
 * their own base, size and page size that the guest changes at run time.
 * Such an IOAS has no usable IOVA until a window exists.  In it:
 *
 *  - IOMMU_IOAS_MAP, IOMMU_IOAS_UNMAP and IOMMU_IOAS_COPY ranges must lie
 *    inside one window and be aligned to its page size (EINVAL otherwise);
 *    unmapping everything (iova 0, length UINT64_MAX) is always allowed.
 *    Automatic IOVAs are chosen inside windows.
 *  - IOMMU_IOAS_COPY between two windowed IOASes needs compatible windows:
 *    the same page size and the same attributes (EINVAL for a fixed IOVA;
 *    ENOSPC when the kernel chooses and no compatible window has room).
 *  - IOMMU_IOAS_IOVA_RANGES reports the windows, less reserved IOVA.
 *  - IOMMU_IOAS_ALLOW_IOVAS does not apply (EINVAL): windows already say
 *    which IOVA may be used.
 *  - Attaching a device re-checks every window: it must lie inside the
 *    device's aperture, avoid its reserved regions, and have a page size
 *    its IOMMU supports (a supported IOPTE size or a multiple of one);
 *    otherwise the attach fails with EADDRINUSE (placement) or EINVAL
 *    (page size) and nothing changes.
 *
 * A plain IOAS behaves exactly as upstream's.
 */

/**
 * enum iommufd_window_flags - flags of struct iommu_ioas_create_window
 * @IOMMU_WINDOW_FIXED_BASE: @base is given; otherwise the kernel chooses
 *	the lowest base that fits, aligned to the page size.
 */
enum iommufd_window_flags {
	IOMMU_WINDOW_FIXED_BASE = 1 << 0,
};

/**
 * enum iommufd_window_attrs - attributes of a window
 * @IOMMU_WINDOW_ATTR_EXACT_IOPTE: map the window with IOPTEs of exactly its
 *	page size, never larger, as a PAPR TCE table does; the page size must
 *	be an IOPTE size of every attached IOMMU, and memory mapped into the
 *	window must be physically contiguous and aligned in page-size units.
 */
enum iommufd_window_attrs {
	IOMMU_WINDOW_ATTR_EXACT_IOPTE = 1 << 0,
};

/**
 * struct iommu_ioas_create_window - ioctl(IOMMU_IOAS_CREATE_WINDOW)
 * @size: (in) sizeof(struct iommu_ioas_create_window).
 * @flags: (in) IOMMU_WINDOW_* flags.
 * @ioas_id: (in) A windowed IOAS.
 * @attrs: (in) IOMMU_WINDOW_ATTR_* bits.
 * @base: (in/out) With IOMMU_WINDOW_FIXED_BASE the first IOVA of the
 *        window; the base used is written back either way.
 * @length: (in) Bytes, a multiple of the page size.
 * @page_size: (in/out) The window's granularity, a power of two; 0 lets
 *        the kernel choose the smallest size every attached IOMMU supports
 *        (PAGE_SIZE with none). The size used is written back.
 *
 * Extension (not upstream). Makes [@base, @base + @length) usable.
 *
 * Minimum size: up to and including @page_size.
 *
 * Errors: EOPNOTSUPP for unknown @flags or @attrs; EINVAL if the IOAS is
 * not windowed, @length is 0, @base or @length is not a multiple of the
 * page size, or the page size is not a power of two or not supported by
 * an attached IOMMU; EOVERFLOW if the window wraps; EEXIST if it overlaps
 * another window; EADDRINUSE if it overlaps reserved IOVA (a device's
 * reserved region or space outside an aperture); ENOSPC if no base fits.
 */
struct iommu_ioas_create_window {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 attrs;
	__aligned_u64 base;
	__aligned_u64 length;
	__aligned_u64 page_size;
};

#define IOMMU_IOAS_CREATE_WINDOW _IO(IOMMUFD_TYPE, \
				     IOMMUFD_CMD_IOAS_CREATE_WINDOW)

/**
 * struct iommu_ioas_remove_window - ioctl(IOMMU_IOAS_REMOVE_WINDOW)
 * @size: (in) sizeof(struct iommu_ioas_remove_window).
 * @ioas_id: (in) A windowed IOAS.
 * @base: (in) The base of the window to remove.
 * @out_unmapped: (out) Bytes that were mapped in the window.
 *
 * Extension (not upstream). Unmaps everything inside the window, asking
 * in-kernel users to drop their pins, then removes the window.
 *
 * Minimum size: up to and including @base.
 *
 * Maps and unmaps into the window that were in flight when it was called
 * are waited for (they may wait on page faults themselves): the call
 * sleeps until they are done rather than failing, and only a fatal
 * signal ends that sleep early.
 *
 * Errors: EINVAL if the IOAS is not windowed; ENOENT if no window starts
 * at @base; EDEADLOCK if an in-kernel user would not let go of its pins,
 * and then nothing changed; EINTR if a fatal signal ended the wait, and then
 * nothing changed either.
 */
struct iommu_ioas_remove_window {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 base;
	__aligned_u64 out_unmapped;
};

#define IOMMU_IOAS_REMOVE_WINDOW _IO(IOMMUFD_TYPE, \
				     IOMMUFD_CMD_IOAS_REMOVE_WINDOW)

/**
 * struct iommu_ioas_window - one window, as IOMMU_IOAS_LIST_WINDOWS reports
 * @base: First IOVA.
 * @length: Bytes.
 * @page_size: Granularity.
 * @attrs: IOMMU_WINDOW_ATTR_* bits.
 * @__reserved: Written as 0.
 */
struct iommu_ioas_window {
	__aligned_u64 base;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__u32 attrs;
	__u32 __reserved;
};

/**
 * struct iommu_ioas_list_windows - ioctl(IOMMU_IOAS_LIST_WINDOWS)
 * @size: (in) sizeof(struct iommu_ioas_list_windows).
 * @ioas_id: (in) A windowed IOAS.
 * @num_windows: (in/out) Room in @windows; on return the number of
 *        windows the IOAS has.
 * @__reserved: (in) Must be 0.
 * @windows: (in) Pointer to an array of struct iommu_ioas_window, filled
 *        in ascending order of base.
 *
 * Extension (not upstream). As IOMMU_IOAS_IOVA_RANGES: when @num_windows
 * was too small the call fills what fits, sets @num_windows to the count
 * and fails with EMSGSIZE.
 *
 * Minimum size: up to and including @windows.
 *
 * Errors: EOPNOTSUPP if @__reserved is not 0; EINVAL if the IOAS is not
 * windowed; EMSGSIZE as above.
 */
struct iommu_ioas_list_windows {
	__u32 size;
	__u32 ioas_id;
	__u32 num_windows;
	__u32 __reserved;
	__aligned_u64 windows;
};

#define IOMMU_IOAS_LIST_WINDOWS _IO(IOMMUFD_TYPE, \
				    IOMMUFD_CMD_IOAS_LIST_WINDOWS)

/**
 * DOC: io_uring submission (Extension, not upstream)
 *
 * Every command can also be submitted through io_uring, so a VMM can send
 * many MAPs and UNMAPs with one system call: an IORING_OP_URING_CMD SQE on
 * the /dev/iommu fd, with cmd_op set to the ioctl number (IOMMU_IOAS_MAP,
 * ...) and the SQE's command area holding struct iommu_uring_cmd. The
 * command runs through the same code as the ioctl, with the same
 * validation, errors and locking; the CQE's res is what the ioctl would
 * have returned (0 or a negative errno), or, for IOMMU_IOAS_ALLOC and
 * IOMMU_HWPT_ALLOC with IOMMU_URING_CMD_INLINE, the new object's ID.
 *
 * io_uring first issues a command where it must not sleep (inside
 * io_uring_enter(), or on the SQPOLL thread, which serves every ring
 * attached to it). IOMMU_IOAS_MAP of at most 16 pages and
 * IOMMU_IOAS_UNMAP of a range holding at most 16 pages of mappings run
 * there if nothing they need is busy: their memory is present (pinned
 * without faulting it in), the IOAS's locks are free, no in-kernel user
 * pins the range. Every other command, and these when something would
 * make them wait, is handed to an io_uring worker thread and runs there
 * as the ioctl would. Either way the result is the same; only the time
 * and the thread differ. A MAP waiting for its memory (say, held by
 * userfaultfd) therefore holds up neither the ring nor the SQPOLL thread.
 * The exceptions are brief: unpinning takes each page's lock to mark it
 * dirty, and on kernels without pin_user_pages_fast_only() (6.12) a
 * present page that cannot be pinned without a fault (a copy-on-write
 * page, say) is looked up under mmap_lock for read before the command
 * is handed on. A command struct passed by pointer is read and written
 * there without taking page faults.
 *
 * A DESTROY that waits for other commands using the object (see
 * IOMMU_DESTROY) and is interrupted, e.g. by IORING_OP_ASYNC_CANCEL,
 * completes with EINTR.
 *
 * The test commands whose result is a new file descriptor are refused
 * with EOPNOTSUPP; IOMMU_FAULT_QUEUE_ALLOC is taken by pointer only (see
 * there).
 *
 * Security modules check these commands through their uring_cmd hook
 * (security_uring_cmd()), which io_uring calls before each command; the
 * ioctl hook (security_file_ioctl()) is not called for them. A policy
 * that filters the ioctls of /dev/iommu must cover the uring_cmd hook
 * too, or deny io_uring on the fd.
 */

/**
 * enum iommufd_uring_cmd_flags - flags of struct iommu_uring_cmd
 * @IOMMU_URING_CMD_INLINE: the command struct itself follows the header
 *	in the SQE instead of at @arg; needs a ring set up with
 *	IORING_SETUP_SQE128 (EINVAL otherwise) and a struct of at most
 *	IOMMU_URING_CMD_INLINE_MAX bytes (EINVAL otherwise). An inline
 *	struct is not written back. So IOMMU_IOAS_ALLOC and IOMMU_HWPT_ALLOC
 *	return the new ID as the CQE's res (a positive value); UNMAP and
 *	IOMMU_IOAS_REMOVE_WINDOW do not report how many bytes they unmapped
 *	(res 0 means every mapping inside the range is gone); DESTROY,
 *	ALLOW_IOVAS, MAP and COPY with IOMMU_IOAS_MAP_FIXED_IOVA, OPTION with
 *	IOMMU_OPTION_OP_SET, and CREATE_WINDOW with IOMMU_WINDOW_FIXED_BASE
 *	and a page size have nothing to return; IOMMU_HWPT_INVALIDATE does
 *	not report entry_num (a success handled every entry, a failure may
 *	be repeated). The commands whose reply is
 *	what the caller asked for are refused with EOPNOTSUPP when inline:
 *	MAP and COPY without IOMMU_IOAS_MAP_FIXED_IOVA, IOVA_RANGES,
 *	OPTION with IOMMU_OPTION_OP_GET, CREATE_WINDOW without a fixed base
 *	or page size, LIST_WINDOWS, GET_HW_INFO, FAULT_QUEUE_ALLOC and
 *	IOMMU_TEST_CMD.
 */
enum iommufd_uring_cmd_flags {
	IOMMU_URING_CMD_INLINE = 1 << 0,
};

/* Bytes left for an inline struct in a 128-byte SQE after the header. */
#define IOMMU_URING_CMD_INLINE_MAX 64

/**
 * struct iommu_uring_cmd - the command area of an IORING_OP_URING_CMD SQE
 * @flags: IOMMU_URING_CMD_* flags; unknown ones fail with EOPNOTSUPP.
 * @__reserved: Must be 0 (EOPNOTSUPP).
 * @arg: Pointer to the command struct, as the ioctl's argument; ignored
 *	with IOMMU_URING_CMD_INLINE.
 */
struct iommu_uring_cmd {
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 arg;
};

/**
 * DOC: The VFIO backend (Extension, not upstream)
 *
 * iommufd_oot_vfio.ko registers this module as an IOMMU driver of VFIO's
 * container (/dev/vfio/vfio), see Documentation/vfio-backend.rst. Its
 * containers answer VFIO_CHECK_EXTENSION and accept VFIO_SET_IOMMU for
 * VFIO_TYPE1_IOMMU and VFIO_TYPE1v2_IOMMU (unless its module parameter
 * type1=0 turns that off) and always for IOMMUFD_OOT_VFIO_TYPE, a number
 * of its own, far above VFIO's (which are below 100), for programs that
 * want this backend whatever else is loaded. A container of that type
 * has TYPE1v2's semantics. After VFIO_SET_IOMMU, VFIO_CHECK_EXTENSION of
 * IOMMUFD_OOT_VFIO_TYPE on the container returns 1 only if this backend
 * serves it.
 */
#define IOMMUFD_OOT_VFIO_TYPE 0x1000

/**
 * struct iommu_vfio_link - ioctl(IOMMU_VFIO_LINK)
 * @size: (in) sizeof(struct iommu_vfio_link).
 * @flags: (in) Must be 0.
 * @container_fd: (in) An open /dev/vfio/vfio container whose IOMMU
 *        (VFIO_SET_IOMMU) is this module's VFIO backend.
 * @out_ioas_id: (out) The ID of the container's IOAS in this context.
 * @num_devices: (in/out) Room in @devices, in entries; on return the
 *        number of devices the container's groups have.
 * @__reserved: (in) Must be 0.
 * @devices: (in) Pointer to an array of @num_devices __u32, filled with
 *        the device IDs in ascending order.
 *
 * Extension (not upstream). Links this /dev/iommu fd to a VFIO container
 * of the backend (see "The VFIO backend" above): the fd then serves the
 * container's own context, so every command on it works on the objects
 * the container is made of. The container's IOAS is an ordinary IOAS
 * there (IOMMU_IOAS_MAP, UNMAP, COPY, IOVA_RANGES, IOMMU_OPTION's
 * HUGE_PAGES, io_uring; what is mapped through either side is what the
 * other sees), and each device of the container's groups is a device
 * object: IOMMU_GET_HW_INFO reports its IOMMU driver's data,
 * IOMMU_HWPT_ALLOC makes a paging domain of its IOMMU, and attaching or
 * replacing moves its group there (only a group of one device; a kernel
 * without iommu_group_replace_domain(), such as 6.1, fails a move of an
 * attached group with EOPNOTSUPP). Holding the container's fd is the
 * proof of access, as VFIO_GROUP_SET_CONTAINER's.
 *
 * The fd must be new: no object made on it (EBUSY otherwise). Its
 * options (IOMMU_OPTION_RLIMIT_MODE) no longer apply once it is linked:
 * the container's context has its own. Linking the same fd to the same
 * container again changes nothing and reports the devices the container
 * has now (groups attached later appear there); to another container it
 * fails with EBUSY. Several fds may link to one container.
 *
 * Lifetime: the container's context lives while the container or a
 * linked fd does. Closing the container detaches its groups (their
 * device IDs answer ENOENT from then on; HW page tables made on them
 * stay until destroyed) and leaves the IOAS, its mappings and every
 * object made through the link to the linked fds, until the last of
 * them is closed. Closing a linked fd first leaves the container as the
 * fd left it: objects made through it stay in the container's context
 * (a device moved to another HW page table keeps translating through
 * it) until the container goes. Either way everything is freed, and
 * every pin and its accounting returned, when the last of them goes.
 * IOMMU_VFIO_IOAS's SET and CLEAR are refused with EBUSY on a linked fd:
 * the container's IOAS is fixed. The VFIO container ioctls (VFIO_*), which
 * a /dev/iommu fd otherwise accepts, fail with ENOTTY on a linked fd: they
 * belong to the container's own fd.
 *
 * As IOMMU_IOAS_IOVA_RANGES: when @num_devices is too small, nothing is
 * linked, @num_devices is set to the count and the call fails with
 * EMSGSIZE. Not accepted inline in an io_uring SQE (EOPNOTSUPP).
 *
 * Minimum size: up to and including @devices.
 *
 * Errors: EOPNOTSUPP for unknown @flags or a non-zero @__reserved; EBADF
 * if @container_fd is not an open fd; ENODEV if the VFIO backend
 * (iommufd_oot_vfio.ko of the same build) is not loaded; EINVAL if the
 * fd is not a VFIO container, or one with no IOMMU set, or one another
 * IOMMU driver (vfio_iommu_type1) serves; EBUSY as above; EMSGSIZE as
 * above.
 */
struct iommu_vfio_link {
	__u32 size;
	__u32 flags;
	__s32 container_fd;
	__u32 out_ioas_id;
	__u32 num_devices;
	__u32 __reserved;
	__aligned_u64 devices;
};

#define IOMMU_VFIO_LINK _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VFIO_LINK)

/**
 * struct iommu_device_attach - ioctl(IOMMU_DEVICE_ATTACH)
 * @size: (in) sizeof(struct iommu_device_attach).
 * @flags: (in) Must be 0.
 * @dev_id: (in) A device object of this context (one IOMMU_VFIO_LINK
 *        reported).
 * @pt_id: (in) An IOAS (the device then shares or gets an automatic HW
 *        page table on it) or a paging HWPT (IOMMU_HWPT_ALLOC).
 * @out_hwpt_id: (out) The HWPT the device translates through now.
 * @__reserved: (in) Must be 0.
 *
 * Extension (not upstream). What upstream's VFIO_DEVICE_ATTACH_IOMMUFD_PT
 * does on a VFIO device cdev, which the Debian kernels do not build: the
 * device (its whole iommu_group) translates through @pt_id from now on.
 * A device attached already is moved without a moment of no translation
 * (iommu_group_replace_domain()), and only if its group has no other
 * device (EBUSY otherwise); a kernel without that function (6.1) fails
 * the move with EOPNOTSUPP. Nothing changes on failure.
 *
 * Minimum size: up to and including @__reserved.
 *
 * Errors: EOPNOTSUPP for unknown @flags or a non-zero @__reserved, or as
 * above; ENOENT if @dev_id or @pt_id names nothing; EINVAL if @pt_id
 * names another kind of object, or a domain the device cannot use;
 * EADDRINUSE if the device's reserved regions or the domain's aperture
 * clash with the IOAS's mappings; EBUSY as above.
 */
struct iommu_device_attach {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id;
	__u32 out_hwpt_id;
	__u32 __reserved;
};

#define IOMMU_DEVICE_ATTACH _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DEVICE_ATTACH)

#endif /* IOMMUFD_OOT_UAPI_IOMMUFD_H */
