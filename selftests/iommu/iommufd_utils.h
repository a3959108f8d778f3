/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the /dev/iommu selftests. Each wrapper returns 0 or
 * -errno, so tests can ASSERT_EQ(-ENOENT, ...) on exact error codes.
 */
#ifndef IOMMUFD_SELFTEST_UTILS_H
#define IOMMUFD_SELFTEST_UTILS_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "../../uapi/linux/iommufd.h"
#include "../../iommufd/iommufd_test.h"

#define IOMMUFD_DEV "/dev/iommu"

static inline int iommufd_open(void)
{
	return open(IOMMUFD_DEV, O_RDWR | O_CLOEXEC);
}

/* ioctl() as -errno, so results compare directly with error codes. */
static inline int iommufd_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static inline int ioas_alloc(int fd, __u32 *id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_ALLOC, &cmd);
	if (!rc && id)
		*id = cmd.out_ioas_id;
	return rc;
}

static inline int iommufd_destroy(int fd, __u32 id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return iommufd_ioctl(fd, IOMMU_DESTROY, &cmd);
}

/* Is the module loaded here a test build (IOMMU_TEST_CMD known)? */
static inline int iommufd_is_test_build(int fd)
{
	struct iommu_test_cmd cmd = { .size = sizeof(cmd), .op = 0xffff };

	return iommufd_ioctl(fd, IOMMU_TEST_CMD, &cmd) != -ENOTTY;
}

/*
 * IOAS commands. Each fills the command's own struct and returns 0 or
 * -errno; out values are written back only on success.
 */
static inline int ioas_map_flags(int fd, __u32 ioas_id, void *buf,
				 __u64 length, __u64 *iova, __u32 flags)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.user_va = (__u64)(unsigned long)buf,
		.length = length,
		.iova = iova ? *iova : 0,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_MAP, &cmd);
	if (!rc && iova)
		*iova = cmd.iova;
	return rc;
}

/* Readable and writeable, at an IOVA the kernel picks. */
static inline int ioas_map(int fd, __u32 ioas_id, void *buf, __u64 length,
			   __u64 *iova)
{
	__u64 out = 0;
	int rc;

	rc = ioas_map_flags(fd, ioas_id, buf, length, &out,
			    IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE);
	if (!rc && iova)
		*iova = out;
	return rc;
}

/* Readable and writeable, at the given IOVA. */
static inline int ioas_map_fixed(int fd, __u32 ioas_id, void *buf,
				 __u64 length, __u64 iova)
{
	return ioas_map_flags(fd, ioas_id, buf, length, &iova,
			      IOMMU_IOAS_MAP_FIXED_IOVA |
			      IOMMU_IOAS_MAP_WRITEABLE |
			      IOMMU_IOAS_MAP_READABLE);
}

static inline int ioas_unmap(int fd, __u32 ioas_id, __u64 iova,
			     __u64 length, __u64 *unmapped)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = length,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_UNMAP, &cmd);
	if (!rc && unmapped)
		*unmapped = cmd.length;
	return rc;
}

/* With IOMMU_IOAS_MAP_FIXED_IOVA in @flags, *@dst_iova is an input too. */
static inline int ioas_copy(int fd, __u32 dst_id, __u64 *dst_iova,
			    __u32 src_id, __u64 src_iova, __u64 length,
			    __u32 flags)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dst_ioas_id = dst_id,
		.src_ioas_id = src_id,
		.length = length,
		.dst_iova = dst_iova ? *dst_iova : 0,
		.src_iova = src_iova,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_COPY, &cmd);
	if (!rc && dst_iova)
		*dst_iova = cmd.dst_iova;
	return rc;
}

/*
 * *@num is the room in @ranges on input and the kernel's count on output;
 * it is written back on EMSGSIZE too, as the kernel reports it there.
 */
static inline int ioas_iova_ranges(int fd, __u32 ioas_id,
				   struct iommu_iova_range *ranges,
				   __u32 *num, __u64 *alignment)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_iovas = *num,
		.allowed_iovas = (__u64)(unsigned long)ranges,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &cmd);
	if (!rc || rc == -EMSGSIZE) {
		*num = cmd.num_iovas;
		if (alignment)
			*alignment = cmd.out_iova_alignment;
	}
	return rc;
}

static inline int ioas_allow_iovas(int fd, __u32 ioas_id,
				   const struct iommu_iova_range *ranges,
				   __u32 num)
{
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_iovas = num,
		.allowed_iovas = (__u64)(unsigned long)ranges,
	};

	return iommufd_ioctl(fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd);
}

/* IOMMU_OPTION: *@val64 is the value to set, or receives the value got. */
static inline int iommufd_option(int fd, __u32 option_id, __u16 op,
				 __u32 object_id, __u64 *val64)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = option_id,
		.op = op,
		.object_id = object_id,
		.val64 = *val64,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_OPTION, &cmd);
	if (!rc)
		*val64 = cmd.val64;
	return rc;
}

/*
 * Test ops (IOMMU_TEST_CMD). An access is named by the fd that
 * IOMMU_TEST_OP_CREATE_ACCESS returned, as upstream's test ops do.
 */
static inline int tcmd(int fd, __u32 op, __u32 id, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	cmd->op = op;
	cmd->id = id;
	return iommufd_ioctl(fd, IOMMU_TEST_CMD, cmd);
}

static inline int tcmd_add_reserved(int fd, __u32 ioas_id, __u64 start,
				    __u64 length)
{
	struct iommu_test_cmd cmd = {
		.add_reserved = { .start = start, .length = length },
	};

	return tcmd(fd, IOMMU_TEST_OP_ADD_RESERVED, ioas_id, &cmd);
}

static inline int tcmd_access_create(int fd, __u32 ioas_id, __u32 flags,
				     int *access_fd)
{
	struct iommu_test_cmd cmd = { .create_access = { .flags = flags } };
	int rc;

	rc = tcmd(fd, IOMMU_TEST_OP_CREATE_ACCESS, ioas_id, &cmd);
	if (!rc)
		*access_fd = cmd.create_access.out_access_fd;
	return rc;
}

/* Pin @iova, @length through the access; @uptr (if set) must match. */
static inline int tcmd_access_pin(int fd, int access_fd, __u64 iova,
				  __u64 length, void *uptr, __u32 flags,
				  __u32 *item)
{
	struct iommu_test_cmd cmd = {
		.access_pages = {
			.flags = flags,
			.iova = iova,
			.length = length,
			.uptr = (__u64)(unsigned long)uptr,
		},
	};
	int rc;

	rc = tcmd(fd, IOMMU_TEST_OP_ACCESS_PAGES, access_fd, &cmd);
	if (!rc && item)
		*item = cmd.access_pages.out_access_pages_id;
	return rc;
}

static inline int tcmd_access_unpin(int fd, int access_fd, __u32 item)
{
	struct iommu_test_cmd cmd = {
		.destroy_access_pages = { .access_pages_id = item },
	};

	return tcmd(fd, IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, access_fd, &cmd);
}

/* Copy between @buf and the IOAS; MOCK_ACCESS_RW_WRITE writes the IOAS. */
static inline int tcmd_access_rw(int fd, int access_fd, __u64 iova,
				 void *buf, __u64 length, __u32 flags)
{
	struct iommu_test_cmd cmd = {
		.access_rw = {
			.iova = iova,
			.length = length,
			.uptr = (__u64)(unsigned long)buf,
			.flags = flags,
		},
	};

	return tcmd(fd, IOMMU_TEST_OP_ACCESS_RW, access_fd, &cmd);
}

static inline int tcmd_access_replace_ioas(int fd, int access_fd,
					   __u32 ioas_id)
{
	struct iommu_test_cmd cmd = {
		.access_replace_ioas = { .ioas_id = ioas_id },
	};

	return tcmd(fd, IOMMU_TEST_OP_ACCESS_REPLACE_IOAS, access_fd, &cmd);
}

/* 0 if every page of @buf, @length is pinned exactly @refs times. */
static inline int tcmd_check_refs(int fd, void *buf, __u64 length,
				  __u32 refs)
{
	struct iommu_test_cmd cmd = {
		.check_refs = {
			.length = length,
			.uptr = (__u64)(unsigned long)buf,
			.refs = refs,
		},
	};

	return tcmd(fd, IOMMU_TEST_OP_MD_CHECK_REFS, 0, &cmd);
}

/* Module-wide cap on the kernel's temporary page batches, in bytes. */
#define IOMMUFD_TEST_DEFAULT_BATCH_LIMIT 65536

static inline int tcmd_set_batch_limit(int fd, __u32 limit)
{
	struct iommu_test_cmd cmd = { .memory_limit = { .limit = limit } };

	return tcmd(fd, IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT, 0, &cmd);
}

/* A "Vm...:" field of /proc/self/status in kB, or -1 if it is missing. */
static inline long proc_status_kb(const char *field)
{
	size_t len = strlen(field);
	char line[256];
	long val = -1;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, len) && line[len] == ':') {
			val = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

/* Remove @cap from this thread's effective, permitted and inheritable sets. */
static inline int cap_drop(unsigned int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	__u32 bit = 1U << (cap % 32);

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[cap / 32].effective &= ~bit;
	data[cap / 32].permitted &= ~bit;
	data[cap / 32].inheritable &= ~bit;
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

#endif
