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
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../../uapi/linux/iommufd.h"
#include "../../iommufd/iommufd_test.h"

#define IOMMUFD_DEV "/dev/iommu"

#ifndef offsetofend
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))
#endif

static inline int iommufd_open(void)
{
	return open(IOMMUFD_DEV, O_RDWR | O_CLOEXEC);
}

/* ioctl() as -errno, so results compare directly with error codes. */
static inline int iommufd_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static inline int ioas_alloc(int fd, uint32_t *id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_ALLOC, &cmd);
	if (!rc && id)
		*id = cmd.out_ioas_id;
	return rc;
}

static inline int iommufd_destroy(int fd, uint32_t id)
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

#endif
