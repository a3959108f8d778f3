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
 * Static library, no global state: safe to call from any thread.
 */
#ifndef LIBIOMMUFD_H
#define LIBIOMMUFD_H

#include <linux/types.h>

#include "../../uapi/linux/iommufd.h"
#include "../../iommufd/iommufd_test.h"

#define IOMMUFD_DEV_PATH "/dev/iommu"

/* Open @path (NULL: /dev/iommu) close-on-exec; an fd or -errno. */
int iommufd_open(const char *path);
int iommufd_close(int fd);

/* Any ioctl on the fd, @arg passed as is; 0 or -errno. */
int iommufd_ioctl(int fd, unsigned long request, void *arg);

int iommufd_destroy(int fd, __u32 id);

int iommufd_ioas_alloc(int fd, __u32 *ioas_id);

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

#endif /* LIBIOMMUFD_H */
