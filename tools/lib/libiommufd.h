/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libiommufd: one C function per /dev/iommu command.
 *
 * Every function takes the fd from iommufd_open(), fills the command's
 * struct from its arguments, issues it and returns 0 or a negative errno;
 * out values are stored only on success (iommufd_ioas_iova_ranges() also
 * on -EMSGSIZE, where the kernel reports the count it needs). Names
 * follow the uAPI: IOMMU_IOAS_MAP is iommufd_ioas_map(), the test op
 * IOMMU_TEST_OP_ACCESS_RW is iommufd_test_access_rw().
 *
 * The test functions need a test build of the module; on a release build
 * they return -ENOTTY (see iommufd_is_test_build()).
 *
 * No global state: safe to call from any thread. The io_uring functions
 * at the end (libiommufd_uring.c) send the same commands through a ring
 * instead of ioctl(). The tools of this tree link the static library
 * (build/tools/lib/libiommufd.a, and -luring for the io_uring part);
 * installed, it is the shared library libiommufd.so.0, which links
 * liburing itself ("pkg-config --cflags --libs libiommufd";
 * Documentation/install.rst).
 */
#ifndef LIBIOMMUFD_H
#define LIBIOMMUFD_H

#include <stdbool.h>
#include <linux/types.h>

#include "../../uapi/linux/iommufd.h"
#include "../../iommufd/iommufd_test.h"

#define IOMMUFD_DEV_PATH "/dev/iommu"

/* Open @path (NULL: /dev/iommu) close-on-exec; an fd or -errno. */
int iommufd_open(const char *path);
int iommufd_close(int fd);

/*
 * Any command on the fd, @arg passed as is; 0 or -errno. Every function
 * below goes through this one, and so through io_uring when this thread
 * routed the fd to a ring (iommufd_uring_route()).
 */
int iommufd_ioctl(int fd, unsigned long request, void *arg);

int iommufd_destroy(int fd, __u32 id);

int iommufd_ioas_alloc(int fd, __u32 *ioas_id);

/* With IOMMU_IOAS_ALLOC_WINDOWED in @flags: an IOAS of IOVA windows. */
int iommufd_ioas_alloc_flags(int fd, __u32 flags, __u32 *ioas_id);

/*
 * Map @length bytes at @va. With IOMMU_IOAS_MAP_FIXED_IOVA in @flags,
 * *@iova is where; either way it receives the IOVA used.
 */
int iommufd_ioas_map(int fd, __u32 ioas_id, void *va, __u64 length,
		     __u64 *iova, __u32 flags);

/* *@unmapped (may be NULL) receives the number of bytes unmapped. */
int iommufd_ioas_unmap(int fd, __u32 ioas_id, __u64 iova, __u64 length,
		       __u64 *unmapped);

/* Like iommufd_ioas_map(), from the pages mapped at @src_iova. */
int iommufd_ioas_copy(int fd, __u32 dst_ioas_id, __u32 src_ioas_id,
		      __u64 src_iova, __u64 length, __u64 *dst_iova,
		      __u32 flags);

/*
 * *@num is the room in @ranges on input and the IOAS's count of ranges
 * on output; -EMSGSIZE when they did not all fit.
 */
int iommufd_ioas_iova_ranges(int fd, __u32 ioas_id,
			     struct iommu_iova_range *ranges, __u32 *num,
			     __u64 *alignment);

int iommufd_ioas_allow_iovas(int fd, __u32 ioas_id,
			     const struct iommu_iova_range *ranges,
			     __u32 num);

/*
 * @op is IOMMU_OPTION_OP_SET (*@val64 is the value) or
 * IOMMU_OPTION_OP_GET (*@val64 receives it).
 */
int iommufd_option(int fd, __u16 op, __u32 option_id, __u32 object_id,
		   __u64 *val64);

/*
 * A kernel-managed HWPT for device @dev_id mirroring IOAS @pt_id
 * (IOMMU_HWPT_DATA_NONE); @flags are IOMMU_HWPT_ALLOC_* bits.
 */
int iommufd_hwpt_alloc(int fd, __u32 flags, __u32 dev_id, __u32 pt_id,
		       __u32 *hwpt_id);

/*
 * IOMMU_GET_HW_INFO: the driver's data into @data (room: *@data_len,
 * which receives the size the driver has), and the other out fields.
 */
int iommufd_get_hw_info(int fd, __u32 dev_id, void *data, __u32 *data_len,
			__u32 *data_type, __u8 *max_pasid_log2,
			__u64 *capabilities);

/*
 * Extension (not upstream): IOVA windows of a windowed IOAS. *@base is
 * where with IOMMU_WINDOW_FIXED_BASE in @flags, and receives the base
 * used; *@page_size (0: the kernel picks) receives the page size used.
 */
int iommufd_ioas_create_window(int fd, __u32 ioas_id, __u32 flags,
			       __u32 attrs, __u64 *base, __u64 length,
			       __u64 *page_size);

/* *@unmapped (may be NULL) receives the bytes that were mapped. */
int iommufd_ioas_remove_window(int fd, __u32 ioas_id, __u64 base,
			       __u64 *unmapped);

/* As iommufd_ioas_iova_ranges(): *@num is room in, count out; EMSGSIZE. */
int iommufd_ioas_list_windows(int fd, __u32 ioas_id,
			      struct iommu_ioas_window *windows, __u32 *num);

/* 1 on a test build, 0 on a release build, or -errno. */
int iommufd_is_test_build(int fd);

/* IOMMU_TEST_CMD as is: sets @cmd->size, @cmd->op and @cmd->id. */
int iommufd_test_cmd(int fd, __u32 op, __u32 id, struct iommu_test_cmd *cmd);

int iommufd_test_add_reserved(int fd, __u32 ioas_id, __u64 start,
			      __u64 length);

/* An access is named by the fd this returns; close it to destroy it. */
int iommufd_test_create_access(int fd, __u32 ioas_id, __u32 flags,
			       int *access_fd);

/* Pin through the access; @uptr, unless NULL, must be what is pinned. */
int iommufd_test_access_pages(int fd, int access_fd, __u64 iova,
			      __u64 length, void *uptr, __u32 flags,
			      __u32 *pages_id);

int iommufd_test_destroy_access_pages(int fd, int access_fd, __u32 pages_id);

/* Copy between @buf and the IOAS; MOCK_ACCESS_RW_WRITE writes the IOAS. */
int iommufd_test_access_rw(int fd, int access_fd, __u64 iova, void *buf,
			   __u64 length, __u32 flags);

int iommufd_test_access_replace_ioas(int fd, int access_fd, __u32 ioas_id);

/* 0 if every page of @uptr, @length is pinned exactly @refs times. */
int iommufd_test_md_check_refs(int fd, void *uptr, __u64 length,
			       __u32 refs);

int iommufd_test_set_temp_memory_limit(int fd, __u32 limit);

/*
 * A mock device, bound and attached to @pt_id (an IOAS or HWPT); with
 * @dev_flags (MOCK_FLAGS_DEVICE_*) through MOCK_DOMAIN_FLAGS. Receives
 * the selftest object (destroy it to unbind), the HWPT attached and the
 * bound device's ID.
 */
int iommufd_test_mock_domain(int fd, __u32 pt_id, __u32 dev_flags,
			     __u32 *stdev_id, __u32 *hwpt_id, __u32 *idev_id);

/* Move mock device @stdev_id to *@pt_id; receives the HWPT now used. */
int iommufd_test_mock_domain_replace(int fd, __u32 stdev_id, __u32 *pt_id);

/* Extension (not upstream): a reserved region of a mock device. */
int iommufd_test_mock_device_add_resv(int fd, __u32 stdev_id, __u64 start,
				      __u64 length);

/* 0 if mock HWPT @hwpt_id translates @iova, @length to @uptr's memory. */
int iommufd_test_md_check_map(int fd, __u32 hwpt_id, __u64 iova,
			      void *uptr, __u64 length);

/* Extension (not upstream): the IOPTEs of @iova, @length of a mock HWPT. */
int iommufd_test_md_iopte_stats(int fd, __u32 hwpt_id, __u64 iova,
				__u64 length,
				struct iommu_test_iopte_stats *stats);

/*
 * Extension (not upstream): fail the @nth fault event of @kinds
 * (MOCK_FAULT_*) of this task once; @nth 0 disarms. *@fired and *@seen
 * (may be NULL) receive what the previous setting did.
 */
int iommufd_test_fail_nth(int fd, __u32 nth, __u32 kinds, __u32 *fired,
			  __u32 *seen);

/*
 * io_uring (Extension, not upstream; libiommufd_uring.c, -luring): the
 * commands as IORING_OP_URING_CMD SQEs on the fd, cmd_op the ioctl number
 * and struct iommu_uring_cmd pointing at the command struct. A ring
 * belongs to one thread at a time.
 */
struct iommufd_uring;

/* A ring of @entries for @fd. */
int iommufd_uring_init(int fd, unsigned int entries,
		       struct iommufd_uring **urp);
void iommufd_uring_exit(struct iommufd_uring *ur);

/*
 * Queue a command; it is sent by iommufd_uring_submit(), so @arg must
 * stay valid until then. Returns its index in the batch, or -EBUSY when
 * the ring has no room.
 */
int iommufd_uring_queue(struct iommufd_uring *ur, unsigned long request,
			void *arg);

/*
 * Send everything queued with one system call and wait for all of it:
 * @results[i] (may be NULL) receives command i's 0 or -errno. Returns the
 * number of commands, or -errno if the ring failed; then the commands
 * whose outcome is unknown have -EIO in @results.
 */
int iommufd_uring_submit(struct iommufd_uring *ur, int *results);

/* Drop what is queued and not submitted. */
void iommufd_uring_discard(struct iommufd_uring *ur);

/* One command, queued and submitted alone; 0 or -errno as ioctl. */
int iommufd_uring_cmd(struct iommufd_uring *ur, unsigned long request,
		      void *arg);

/*
 * Route this thread's iommufd_ioctl() calls on the ring's fd, and so
 * every function above, through the ring (NULL: back to ioctl()).
 */
void iommufd_uring_route(struct iommufd_uring *ur);

/*
 * While deferring, routed commands are copied (their size is their first
 * field) and queued instead of sent, and return -EINPROGRESS; their out
 * fields are never written back. iommufd_uring_submit() sends them.
 */
void iommufd_uring_defer(struct iommufd_uring *ur, bool defer);

/*
 * For libiommufd's own use: where this thread's iommufd_ioctl() on @fd
 * goes instead of ioctl(); NULL for ioctl().
 */
struct iommufd_transport {
	int fd;
	int (*ioctl)(struct iommufd_transport *t, unsigned long request,
		     void *arg);
};

void iommufd_set_transport(struct iommufd_transport *t);

#endif /* LIBIOMMUFD_H */
