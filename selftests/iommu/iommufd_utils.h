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
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../uapi/linux/iommufd.h"
#include "../../iommufd/iommufd_test.h"

#define IOMMUFD_DEV "/dev/iommu"

static inline int iommufd_open(void)
{
	return open(IOMMUFD_DEV, O_RDWR | O_CLOEXEC);
}

/*
 * The submission path under test. By default every command goes through
 * ioctl(); with IOMMUFD_TEST_SUBMIT=uring in the environment it goes
 * through io_uring instead (IORING_OP_URING_CMD, struct iommu_uring_cmd
 * pointing at the same struct), so every suite's test bodies, positive
 * and negative, run unchanged on both entries. The VM runs the suites
 * both ways.
 */
static inline bool iommufd_submit_via_uring(void)
{
	static int via_uring = -1;

	if (via_uring < 0) {
		const char *how = getenv("IOMMUFD_TEST_SUBMIT");

		via_uring = how && !strcmp(how, "uring");
	}
	return via_uring;
}

/*
 * One ring per thread, made on first use. A forked child must not share
 * its parent's ring, so the ring also remembers which thread made it.
 */
struct iommufd_test_ring {
	struct io_uring ring;
	pid_t tid;
};

static __thread struct iommufd_test_ring iommufd_test_ring;

static inline int iommufd_uring_submit_one(int fd, unsigned long cmd,
					   void *arg)
{
	struct iommufd_test_ring *tr = &iommufd_test_ring;
	struct iommu_uring_cmd hdr = { .arg = (__u64)(uintptr_t)arg };
	pid_t tid = syscall(SYS_gettid);
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	int rc;

	if (tr->tid != tid) {
		rc = io_uring_queue_init(4, &tr->ring, 0);
		if (rc)
			return rc;
		tr->tid = tid;
	}
	sqe = io_uring_get_sqe(&tr->ring);
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = cmd;
	memcpy(sqe->cmd, &hdr, sizeof(hdr));
	rc = io_uring_submit_and_wait(&tr->ring, 1);
	if (rc < 0)
		return rc;
	rc = io_uring_wait_cqe(&tr->ring, &cqe);
	if (rc)
		return rc;
	rc = cqe->res;
	io_uring_cqe_seen(&tr->ring, cqe);
	return rc;
}

/* ioctl() as -errno, so results compare directly with error codes. */
static inline int iommufd_ioctl(int fd, unsigned long cmd, void *arg)
{
	int rc;

	if (!iommufd_submit_via_uring())
		return ioctl(fd, cmd, arg) ? -errno : 0;
	rc = iommufd_uring_submit_one(fd, cmd, arg);
	/*
	 * The ring refuses the test commands whose result is a new fd (a
	 * CQE cannot carry one); those, and only those, fall back to
	 * ioctl(). Any other refusal gives the same EOPNOTSUPP both ways.
	 */
	if (rc == -EOPNOTSUPP && cmd == IOMMU_TEST_CMD)
		return ioctl(fd, cmd, arg) ? -errno : 0;
	return rc;
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

/*
 * @len bytes of anonymous memory in small pages, every byte written from
 * rand() seeded with @seed, so no page is the shared zero page
 * (MD_CHECK_REFS only counts pins on ordinary pages) and a copy through
 * the wrong page shows. NULL if the mmap() fails.
 */
static inline void *buf_alloc_written(size_t len, unsigned int seed)
{
	unsigned char *buf;
	size_t i;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return NULL;
	madvise(buf, len, MADV_NOHUGEPAGE);
	srand(seed);
	for (i = 0; i < len; i++)
		buf[i] = rand();
	return buf;
}

/*
 * Poisoned arrays show entries a call counted but never wrote: fill the
 * array with POISON_BYTE before the call, and any __u64 field still
 * reading POISON_U64 afterwards was left unwritten.
 */
#define POISON_BYTE 0xa5
#define POISON_U64 0xa5a5a5a5a5a5a5a5ULL

static inline void poison_fill(void *array, size_t len)
{
	memset(array, POISON_BYTE, len);
}

static inline bool poison_unwritten(__u64 field)
{
	return field == POISON_U64;
}

/*
 * A thread body that grows IOAS @ioas_id one object at a time, calling
 * @grow(fd, ioas_id, i) for i = 0 .. @count - 1 while another thread
 * reads the IOAS back. It stops at the first failure, left in @rc, and
 * then sets @done with release order: ioas_grower_done() is the reader's
 * acquire side, so @rc is valid once it returns true.
 */
struct ioas_grower {
	int fd;
	__u32 ioas_id;
	unsigned int count;
	int (*grow)(int fd, __u32 ioas_id, unsigned int i);
	int rc;
	int done;
};

static inline void *ioas_grower_run(void *arg)
{
	struct ioas_grower *g = arg;
	unsigned int i;

	for (i = 0; i < g->count && !g->rc; i++)
		g->rc = g->grow(g->fd, g->ioas_id, i);
	__atomic_store_n(&g->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static inline bool ioas_grower_done(struct ioas_grower *g)
{
	return __atomic_load_n(&g->done, __ATOMIC_ACQUIRE);
}

/* A "Field: N kB" line of @path (status, meminfo), or -1 if missing. */
static inline long file_field_kb(const char *path, const char *field)
{
	size_t len = strlen(field);
	char line[256];
	long val = -1;
	FILE *f;

	f = fopen(path, "r");
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

/* A "Vm...:" field of /proc/self/status in kB, or -1 if it is missing. */
static inline long proc_status_kb(const char *field)
{
	return file_field_kb("/proc/self/status", field);
}

/*
 * Through io_uring, a command that an io-wq worker ran holds its file
 * reference until the worker lets the request go, which may come just
 * after the CQE the test waited for (6.1 shows it). Closing the fd then
 * releases the context, and its pins, a moment later. Teardowns that check
 * pins right after close() wait for that moment with these, for at most
 * two seconds and only when commands go through io_uring; a pin that
 * stays is still reported.
 */
#define SETTLE_TRIES 200

static inline bool settle_wait(unsigned int try)
{
	if (!iommufd_submit_via_uring() || try == SETTLE_TRIES)
		return false;
	usleep(10 * 1000);
	return true;
}

/* VmPin in kB once it is back to @base_kb, or what it stays at. */
static inline long vm_pin_settled(long base_kb)
{
	unsigned int try = 0;
	long now;

	while ((now = proc_status_kb("VmPin")) != base_kb && settle_wait(try++))
		;
	return now;
}

/* tcmd_check_refs() after a close(): see vm_pin_settled(). */
static inline int tcmd_check_refs_settled(int fd, void *buf, __u64 length,
					  __u32 refs)
{
	unsigned int try = 0;
	int rc;

	while ((rc = tcmd_check_refs(fd, buf, length, refs)) == -EIO &&
	       settle_wait(try++))
		;
	return rc;
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

/*
 * Mock devices (test builds). A mock device has three IDs: the selftest
 * object (stdev; DESTROY of it unbinds the device), the bound device
 * (idev; what HWPT_ALLOC and GET_HW_INFO take) and the HWPT it is
 * attached to. Any out pointer may be NULL.
 */
static inline int tcmd_mock_domain_flags(int fd, __u32 pt_id, __u32 dev_flags,
					 __u32 *stdev_id, __u32 *hwpt_id,
					 __u32 *idev_id)
{
	struct iommu_test_cmd cmd = {
		.mock_domain_flags = { .dev_flags = dev_flags },
	};
	int rc;

	rc = tcmd(fd, IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, pt_id, &cmd);
	if (rc)
		return rc;
	if (stdev_id)
		*stdev_id = cmd.mock_domain_flags.out_stdev_id;
	if (hwpt_id)
		*hwpt_id = cmd.mock_domain_flags.out_hwpt_id;
	if (idev_id)
		*idev_id = cmd.mock_domain_flags.out_idev_id;
	return 0;
}

/* The plain op, without dev_flags, as upstream's tests mostly use. */
static inline int tcmd_mock_domain(int fd, __u32 pt_id, __u32 *stdev_id,
				   __u32 *hwpt_id, __u32 *idev_id)
{
	struct iommu_test_cmd cmd = {};
	int rc;

	rc = tcmd(fd, IOMMU_TEST_OP_MOCK_DOMAIN, pt_id, &cmd);
	if (rc)
		return rc;
	if (stdev_id)
		*stdev_id = cmd.mock_domain.out_stdev_id;
	if (hwpt_id)
		*hwpt_id = cmd.mock_domain.out_hwpt_id;
	if (idev_id)
		*idev_id = cmd.mock_domain.out_idev_id;
	return 0;
}

/* Move mock device @stdev_id to @pt_id; *@hwpt_id is the HWPT now used. */
static inline int tcmd_mock_domain_replace(int fd, __u32 stdev_id,
					   __u32 pt_id, __u32 *hwpt_id)
{
	struct iommu_test_cmd cmd = {
		.mock_domain_replace = { .pt_id = pt_id },
	};
	int rc;

	rc = tcmd(fd, IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, stdev_id, &cmd);
	if (!rc && hwpt_id)
		*hwpt_id = cmd.mock_domain_replace.pt_id;
	return rc;
}

/* 0 if mock HWPT @hwpt_id translates @iova, @length to the memory at @buf. */
static inline int tcmd_check_map(int fd, __u32 hwpt_id, __u64 iova,
				 const void *buf, __u64 length)
{
	struct iommu_test_cmd cmd = {
		.check_map = {
			.iova = iova,
			.length = length,
			.uptr = (__u64)(unsigned long)buf,
		},
	};

	return tcmd(fd, IOMMU_TEST_OP_MD_CHECK_MAP, hwpt_id, &cmd);
}

/* Extension op: a reserved region of mock device @stdev_id. */
static inline int tcmd_mock_device_add_resv(int fd, __u32 stdev_id,
					    __u64 start, __u64 length)
{
	struct iommu_test_cmd cmd = {
		.add_reserved = { .start = start, .length = length },
	};

	return tcmd(fd, IOMMU_TEST_OP_MOCK_DEVICE_ADD_RESV, stdev_id, &cmd);
}

/* Extension op: cap mock HWPT @hwpt_id at @limit IOPTEs (0: no cap). */
static inline int tcmd_mock_domain_set_limit(int fd, __u32 hwpt_id,
					     __u32 limit)
{
	struct iommu_test_cmd cmd = { .memory_limit = { .limit = limit } };

	return tcmd(fd, IOMMU_TEST_OP_MOCK_DOMAIN_SET_LIMIT, hwpt_id, &cmd);
}

/* A paging HWPT for device @dev_id on IOAS @pt_id with @flags, no data. */
static inline int hwpt_alloc_flags(int fd, __u32 dev_id, __u32 pt_id,
				   __u32 flags, __u32 *hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);
	if (!rc && hwpt_id)
		*hwpt_id = cmd.out_hwpt_id;
	return rc;
}

static inline int hwpt_alloc(int fd, __u32 dev_id, __u32 pt_id,
			     __u32 *hwpt_id)
{
	return hwpt_alloc_flags(fd, dev_id, pt_id, 0, hwpt_id);
}

/*
 * A nested HWPT on parent @pt_id with @len bytes of @type data at @data,
 * @flags, and @fault_id (read only with IOMMU_HWPT_FAULT_ID_VALID).
 */
static inline int hwpt_alloc_nested_fault(int fd, __u32 dev_id, __u32 pt_id,
					  __u32 flags, __u32 type,
					  const void *data, __u32 len,
					  __u32 fault_id, __u32 *out)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = type,
		.data_len = len,
		.data_uptr = (__u64)(uintptr_t)data,
		.fault_id = fault_id,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);
	if (!rc && out)
		*out = cmd.out_hwpt_id;
	return rc;
}

/*
 * As hwpt_alloc_nested_fault() with a fault_id that names nothing, so a
 * FAULT_ID_VALID in @flags gives ENOENT.
 */
static inline int hwpt_alloc_nested(int fd, __u32 dev_id, __u32 pt_id,
				    __u32 flags, __u32 type, const void *data,
				    __u32 len, __u32 *out)
{
	return hwpt_alloc_nested_fault(fd, dev_id, pt_id, flags, type, data,
				       len, 0xfa17, out);
}

/* The mock's usual nested HWPT: every IOTLB entry starts at @iotlb. */
static inline int nested_alloc(int fd, __u32 dev_id, __u32 parent,
			       __u32 iotlb, __u32 *out)
{
	struct iommu_hwpt_selftest data = { .iotlb = iotlb };

	return hwpt_alloc_nested(fd, dev_id, parent, 0,
				 IOMMU_HWPT_DATA_SELFTEST, &data,
				 sizeof(data), out);
}

/*
 * The mock's nested HWPT on nest parent @parent with @flags; with
 * IOMMU_HWPT_FAULT_ID_VALID its devices' I/O page faults go to queue
 * @fault_id. Fault queues go on nested HWPTs only (upstream 6.12).
 */
static inline int nested_alloc_fault(int fd, __u32 dev_id, __u32 parent,
				     __u32 flags, __u32 fault_id, __u32 *out)
{
	struct iommu_hwpt_selftest data = {
		.iotlb = IOMMU_TEST_IOTLB_DEFAULT,
	};

	return hwpt_alloc_nested_fault(fd, dev_id, parent, flags,
				       IOMMU_HWPT_DATA_SELFTEST, &data,
				       sizeof(data), fault_id, out);
}

/*
 * IOMMU_GET_HW_INFO into @data of *@len bytes; on success *@len is the
 * length the driver has and *@type its out_data_type.
 */
static inline int get_hw_info(int fd, __u32 dev_id, void *data, __u32 *len,
			      __u32 *type)
{
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.data_len = *len,
		.data_uptr = (__u64)(unsigned long)data,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_GET_HW_INFO, &cmd);
	if (rc)
		return rc;
	*len = cmd.data_len;
	if (type)
		*type = cmd.out_data_type;
	return 0;
}

/* A number in a /proc or /sys file, or -1. */
static inline long sysfile_read_long(const char *path)
{
	long val = -1;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

static inline int sysfile_write_long(const char *path, long val)
{
	FILE *f;
	int rc;

	f = fopen(path, "w");
	if (!f)
		return -errno;
	rc = fprintf(f, "%ld\n", val) < 0 ? -EIO : 0;
	if (fclose(f) && !rc)
		rc = -errno;
	return rc;
}

#define NR_HUGEPAGES_PATH "/proc/sys/vm/nr_hugepages"
#define FREE_HUGEPAGES_PATH \
	"/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"

/*
 * Make at least @want free 2M hugetlb pages exist. *@saved gets the old
 * nr_hugepages to restore with hugetlb_restore(), or -1 if nothing was
 * changed. Returns 0, or -ENOMEM if the kernel could not find the memory.
 */
static inline int hugetlb_reserve(long want, long *saved)
{
	long nr = sysfile_read_long(NR_HUGEPAGES_PATH);
	long free = sysfile_read_long(FREE_HUGEPAGES_PATH);

	*saved = -1;
	if (nr < 0 || free < 0)
		return -ENOENT;
	if (free >= want)
		return 0;
	if (sysfile_write_long(NR_HUGEPAGES_PATH, nr + want - free))
		return -ENOMEM;
	*saved = nr;
	if (sysfile_read_long(FREE_HUGEPAGES_PATH) < want)
		return -ENOMEM;
	return 0;
}

static inline void hugetlb_restore(long saved)
{
	if (saved >= 0)
		sysfile_write_long(NR_HUGEPAGES_PATH, saved);
}

/*
 * IOVA windows (Extension, not upstream). Each wrapper returns 0 or
 * -errno; outputs are written back on success only, except the count of
 * ioas_list_windows(), which EMSGSIZE reports too.
 */
static inline int ioas_alloc_flags(int fd, __u32 flags, __u32 *id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd), .flags = flags };
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_ALLOC, &cmd);
	if (!rc && id)
		*id = cmd.out_ioas_id;
	return rc;
}

static inline int ioas_alloc_windowed(int fd, __u32 *id)
{
	return ioas_alloc_flags(fd, IOMMU_IOAS_ALLOC_WINDOWED, id);
}

/*
 * CREATE_WINDOW. *@base is an input with IOMMU_WINDOW_FIXED_BASE in
 * @flags, *@page_size (0: the kernel's choice) always; both receive the
 * values the kernel used.
 */
static inline int ioas_create_window(int fd, __u32 ioas_id, __u32 flags,
				     __u32 attrs, __u64 *base, __u64 length,
				     __u64 *page_size)
{
	struct iommu_ioas_create_window cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.attrs = attrs,
		.base = *base,
		.length = length,
		.page_size = *page_size,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_CREATE_WINDOW, &cmd);
	if (!rc) {
		*base = cmd.base;
		*page_size = cmd.page_size;
	}
	return rc;
}

/* A window at a given base with a given page size. */
static inline int ioas_create_window_fixed(int fd, __u32 ioas_id, __u64 base,
					   __u64 length, __u64 page_size,
					   __u32 attrs)
{
	return ioas_create_window(fd, ioas_id, IOMMU_WINDOW_FIXED_BASE, attrs,
				  &base, length, &page_size);
}

static inline int ioas_remove_window(int fd, __u32 ioas_id, __u64 base,
				     __u64 *unmapped)
{
	struct iommu_ioas_remove_window cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.base = base,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_REMOVE_WINDOW, &cmd);
	if (!rc && unmapped)
		*unmapped = cmd.out_unmapped;
	return rc;
}

/* *@num: room in @windows on input, the kernel's count on output. */
static inline int ioas_list_windows(int fd, __u32 ioas_id,
				    struct iommu_ioas_window *windows,
				    __u32 *num)
{
	struct iommu_ioas_list_windows cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_windows = *num,
		.windows = (__u64)(unsigned long)windows,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_LIST_WINDOWS, &cmd);
	if (!rc || rc == -EMSGSIZE)
		*num = cmd.num_windows;
	return rc;
}

/* Extension op: the IOPTEs of mock HWPT @hwpt_id over @iova, @length. */
static inline int tcmd_md_iopte_stats(int fd, __u32 hwpt_id, __u64 iova,
				      __u64 length,
				      struct iommu_test_iopte_stats *stats)
{
	struct iommu_test_cmd cmd = {
		.check_map = {
			.iova = iova,
			.length = length,
			.uptr = (__u64)(unsigned long)stats,
		},
	};

	return tcmd(fd, IOMMU_TEST_OP_MD_IOPTE_STATS, hwpt_id, &cmd);
}

/*
 * Fault injection (test builds; iommufd/fault.c). IOMMU_TEST_OP_FAIL_NTH
 * counts the fault events of the calling task, including those of the
 * FAIL_NTH commands themselves: arming answers through one user copy, and
 * while armed every command copies its struct in with two. fail_nth_arm()
 * and fail_nth_disarm() account for both, so that N counts the events of
 * what runs in between only.
 */
static inline int tcmd_fail_nth(int fd, __u32 nth, __u32 kinds,
				__u32 *fired, __u32 *seen)
{
	struct iommu_test_cmd cmd = {
		.fail_nth = { .nth = nth, .kinds = kinds },
	};
	int rc;

	rc = tcmd(fd, IOMMU_TEST_OP_FAIL_NTH, 0, &cmd);
	if (!rc && fired)
		*fired = cmd.fail_nth.out_fired;
	if (!rc && seen)
		*seen = cmd.fail_nth.out_seen;
	return rc;
}

/* Events the arming command itself counts for @kinds. */
static inline __u32 fail_nth_arm_cost(__u32 kinds)
{
	return (kinds & MOCK_FAULT_USER_COPY) ? 1 : 0;
}

/* Make the @nth event of @kinds after this call fail, once. */
static inline int fail_nth_arm(int fd, __u32 nth, __u32 kinds)
{
	return tcmd_fail_nth(fd, nth + fail_nth_arm_cost(kinds), kinds, NULL,
			     NULL);
}

/*
 * Disarm; *@fired says whether the fault fired before this call. When it
 * had not, the disarming command's own copy-in may be the Nth event and
 * fail with EFAULT; then a second call disarms.
 */
static inline int fail_nth_disarm(int fd, int *fired)
{
	__u32 out_fired = 0;
	int rc;

	rc = tcmd_fail_nth(fd, 0, 0, &out_fired, NULL);
	if (rc == -EFAULT) {
		*fired = 0;
		return tcmd_fail_nth(fd, 0, 0, NULL, NULL);
	}
	*fired = rc ? 0 : out_fired;
	return rc;
}

/*
 * Large IOPTEs (Documentation/large-ioptes.rst): IOMMU_OPTION_HUGE_PAGES
 * of an IOAS, its IOVA alignment, and the physical layout of user memory
 * from /proc/self/pagemap, to predict the IOPTE sizes a mapping gets.
 */
static inline int ioas_huge_pages_get(int fd, __u32 ioas_id, __u64 *val)
{
	*val = 0xdead;
	return iommufd_option(fd, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET,
			      ioas_id, val);
}

static inline int ioas_huge_pages_set(int fd, __u32 ioas_id, __u64 val)
{
	return iommufd_option(fd, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET,
			      ioas_id, &val);
}

/* out_iova_alignment of IOMMU_IOAS_IOVA_RANGES, or 0 on an error. */
static inline __u64 ioas_iova_alignment(int fd, __u32 ioas_id)
{
	struct iommu_iova_range ranges[8];
	__u32 num = 8;
	__u64 align = 0;

	if (ioas_iova_ranges(fd, ioas_id, ranges, &num, &align))
		return 0;
	return align;
}

/*
 * The PFNs of the @npages pages from @addr (rounded down to its page)
 * into @pfns: 0 for a page not present, and for every page when pagemap
 * hides PFNs (no CAP_SYS_ADMIN). Returns 0 or -errno.
 */
static inline int pagemap_pfns(const void *addr, size_t npages, __u64 *pfns)
{
	long psz = sysconf(_SC_PAGESIZE);
	off_t off = (off_t)((unsigned long)addr / psz * sizeof(__u64));
	size_t want = npages * sizeof(__u64);
	ssize_t got;
	size_t i;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	got = pread(fd, pfns, want, off);
	close(fd);
	if (got != (ssize_t)want)
		return got < 0 ? -errno : -EIO;
	for (i = 0; i != npages; i++)
		pfns[i] = (pfns[i] >> 63) ? pfns[i] & ((1ULL << 55) - 1) : 0;
	return 0;
}

/*
 * Is [@addr, @addr + @len) one physically contiguous run whose physical
 * address is a multiple of @align? 1 yes, 0 no, -1 if the PFNs cannot be
 * read. @addr and @len are multiples of the page size.
 */
static inline int phys_run_aligned(const void *addr, size_t len,
				   size_t align)
{
	long psz = sysconf(_SC_PAGESIZE);
	size_t i, npages = len / psz;
	__u64 *pfns;
	int rc = 1;

	pfns = calloc(npages ? npages : 1, sizeof(*pfns));
	if (!pfns)
		return -1;
	if (pagemap_pfns(addr, npages, pfns) || !pfns[0]) {
		rc = -1;
		goto out;
	}
	if ((pfns[0] * psz) % align)
		rc = 0;
	for (i = 1; i < npages && rc == 1; i++)
		if (pfns[i] != pfns[0] + i)
			rc = 0;
out:
	free(pfns);
	return rc;
}

/* Can madvise(MADV_HUGEPAGE) give THPs here (THP not "never")? */
static inline int thp_possible(void)
{
	char line[128] = "";
	FILE *f;

	f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	return line[0] && !strstr(line, "[never]");
}

/*
 * Fault queues (Documentation/fault-queues.rst). IOMMU_FAULT_QUEUE_ALLOC
 * returns the new fd in its struct, through io_uring as through ioctl().
 */
static inline int fault_queue_alloc_flags(int fd, __u32 flags, __u32 *id,
					  int *qfd)
{
	struct iommu_fault_alloc cmd = { .size = sizeof(cmd), .flags = flags };
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_FAULT_QUEUE_ALLOC, &cmd);
	if (!rc && id)
		*id = cmd.out_fault_id;
	if (!rc && qfd)
		*qfd = cmd.out_fault_fd;
	return rc;
}

static inline int fault_queue_alloc(int fd, __u32 *id, int *qfd)
{
	return fault_queue_alloc_flags(fd, 0, id, qfd);
}

/*
 * IOMMU_HWPT_ALLOC on @pt_id with @flags and @fault_id and no data: on an
 * IOAS, FAULT_ID_VALID is EOPNOTSUPP (6.12: only nested HWPTs take fault
 * queues; see nested_alloc_fault()).
 */
static inline int hwpt_alloc_fault(int fd, __u32 dev_id, __u32 pt_id,
				   __u32 flags, __u32 fault_id, __u32 *hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.fault_id = fault_id,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);
	if (!rc && hwpt_id)
		*hwpt_id = cmd.out_hwpt_id;
	return rc;
}

/* Mock device @dev_id (an idev ID) reports a fault, the last of its
 * group unless @partial.
 */
static inline int tcmd_trigger_iopf(int fd, __u32 dev_id, __u32 pasid,
				    __u32 grpid, __u32 perm, __u64 addr,
				    bool partial)
{
	struct iommu_test_cmd cmd = {
		.trigger_iopf = {
			.dev_id = dev_id,
			.pasid = pasid,
			.grpid = grpid,
			.perm = perm,
			.addr = addr,
		},
	};

	return tcmd(fd, partial ? IOMMU_TEST_OP_TRIGGER_IOPF_PARTIAL :
			IOMMU_TEST_OP_TRIGGER_IOPF, 0, &cmd);
}

/*
 * Extension op: take up to *@n answers mock device @dev_id received into
 * @log (*@n becomes how many); @live gets the module-wide count of fault
 * groups and waiting faults not answered yet, @iopf_on whether the device
 * may report faults. Any output pointer may be NULL; @dev_id 0 reads
 * @live only.
 */
static inline int tcmd_iopf_responses(int fd, __u32 dev_id,
				      struct iommu_test_iopf_response *log,
				      __u32 *n, __u64 *live, __u32 *iopf_on,
				      __u32 *lost)
{
	struct iommu_test_cmd cmd = {
		.iopf_responses = {
			.dev_id = dev_id,
			.n = n ? *n : 0,
			.uptr = (__u64)(uintptr_t)log,
		},
	};
	int rc;

	rc = tcmd(fd, IOMMU_TEST_OP_IOPF_RESPONSES, 0, &cmd);
	if (rc)
		return rc;
	if (n)
		*n = cmd.iopf_responses.n;
	if (live)
		*live = cmd.iopf_responses.out_live;
	if (iopf_on)
		*iopf_on = cmd.iopf_responses.out_iopf_on;
	if (lost)
		*lost = cmd.iopf_responses.out_lost;
	return 0;
}

#endif
