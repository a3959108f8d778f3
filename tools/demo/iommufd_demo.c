// SPDX-License-Identifier: GPL-2.0
/*
 * A walk through /dev/iommu as a VMM would bring up a guest, using only
 * what the module implements today: a context, IOASes and their IDs, the
 * errors the ABI promises, and teardown. Every step prints what it did and
 * what the kernel answered; the exit status is 0 only if every answer was
 * the expected one.
 *
 * Built statically by the top-level Makefile and run inside the VM by
 * tools/demo.sh (make run).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../../uapi/linux/iommufd.h"

static unsigned int nr_steps;
static unsigned int nr_surprises;

static void announce(const char *fmt, ...)
{
	va_list ap;

	printf("step %u: ", ++nr_steps);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Print the outcome of the last step, indented under it. */
static void result(const char *fmt, ...)
{
	va_list ap;

	printf("        -> ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "E?";
}

/* ioctl() as 0 or -errno. */
static int iommufd_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int ioas_alloc(int fd, uint32_t flags, uint32_t *id)
{
	struct iommu_ioas_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_ALLOC, &cmd);
	if (!rc)
		*id = cmd.out_ioas_id;
	return rc;
}

static int destroy(int fd, uint32_t id)
{
	struct iommu_destroy cmd = {
		.size = sizeof(cmd),
		.id = id,
	};

	return iommufd_ioctl(fd, IOMMU_DESTROY, &cmd);
}

/* Report a step that must succeed; false (and a complaint) if it did not. */
static bool expect_ok(int rc)
{
	if (!rc)
		return true;
	result("UNEXPECTED: failed with %s (%s)", errno_name(-rc),
	       strerror(-rc));
	nr_surprises++;
	return false;
}

/* Report a step that must fail with @want. */
static void expect_err(int rc, int want, const char *why)
{
	if (rc == -want) {
		result("failed with %s (%s): %s", errno_name(want),
		       strerror(want), why);
		return;
	}
	if (rc)
		result("UNEXPECTED: failed with %s, expected %s",
		       errno_name(-rc), errno_name(want));
	else
		result("UNEXPECTED: succeeded, expected %s", errno_name(want));
	nr_surprises++;
}

int main(void)
{
	uint32_t ram_ioas, dev_ioas, unused;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("iommufd demo: a VMM setting up DMA for a guest through /dev/iommu\n\n");

	announce("open /dev/iommu");
	fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (!expect_ok(fd < 0 ? -errno : 0))
		return 1;
	result("fd %d: a new context with no objects", fd);

	announce("IOMMU_IOAS_ALLOC: an I/O address space for the guest's RAM");
	if (!expect_ok(ioas_alloc(fd, 0, &ram_ioas)))
		return 1;
	result("IOAS id %u", ram_ioas);

	announce("IOMMU_IOAS_ALLOC: a second IOAS, for a device with its own view");
	if (!expect_ok(ioas_alloc(fd, 0, &dev_ioas)))
		return 1;
	result("IOAS id %u", dev_ioas);

	announce("IOMMU_IOAS_ALLOC with flags 0x1, a flag this kernel does not know");
	expect_err(ioas_alloc(fd, 0x1, &unused), EOPNOTSUPP,
		   "unknown flags are refused, never ignored");

	announce("IOMMU_DESTROY IOAS %u", dev_ioas);
	if (expect_ok(destroy(fd, dev_ioas)))
		result("destroyed; its ID is free for reuse");

	announce("IOMMU_DESTROY IOAS %u again", dev_ioas);
	expect_err(destroy(fd, dev_ioas), ENOENT,
		   "a destroyed ID names nothing");

	announce("close the fd with IOAS %u still alive", ram_ioas);
	if (expect_ok(close(fd) ? -errno : 0))
		result("closed; the kernel destroyed IOAS %u with the context",
		       ram_ioas);

	printf("\nnot there yet: IOMMU_IOAS_MAP of guest RAM, devices and HW page tables\n");
	if (nr_surprises) {
		printf("iommufd demo: %u of %u steps went wrong\n",
		       nr_surprises, nr_steps);
		return 1;
	}
	printf("iommufd demo: all %u steps behaved as expected\n", nr_steps);
	return 0;
}
