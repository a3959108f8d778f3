// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd_fuzz: random, mostly well-formed command sequences against
 * /dev/iommu (a test build of the module).
 *
 *   iommufd_fuzz [-s SEED] [-n OPS] [-t SECONDS] [-p] [-v]
 *
 * Each run prints its seed. The sequence depends on the seed only: the
 * same seed and OPS replay the same calls (object IDs and fds come out
 * the same in a fresh process, and the buffers live at fixed addresses).
 * With one exception: a call with a fault injected fails its Nth fault
 * point, and how many points a pin passes depends on how physically
 * contiguous the buffers came out (storing PFN runs allocates), so a
 * replay can take another turn at such a call. Most replays are exact;
 * a diverging one still fuzzes.
 * -n bounds the number of calls, -t the time (the run then prints how
 * many calls it made, to replay with -n). -p prints the sequence as a C
 * program that makes the same calls with ioctl(), the start of a
 * regression test. -v prints each call and its result.
 *
 * The calls use the objects the run made (IOASes, windowed IOASes, mock
 * devices, HWPTs, accesses and their pins, mappings, fault queues, their
 * files and the faults the mock devices report) with valid IOVAs and
 * buffers, and now and then garbage: bad IDs, unknown flags, odd sizes,
 * lengths of 0 or overflowing ranges, unaligned values, unmapped or
 * read-only memory, another context's or a foreign fd, reserved fields.
 * Some go through io_uring, some run with a fault injected (FAIL_NTH).
 *
 * Every count, length and size field also gets huge values now and then:
 * array counts (num_iovas, num_windows) and buffer lengths (data_len) up
 * to 2^32 - 1 with room for a few elements only, lengths near 2^63 and
 * 2^64, struct sizes near 4 GiB. The kernel must bound its work and its
 * allocations by what it really copies, never by what a count claims.
 * Arrays and out buffers passed with a count therefore end at a guard
 * page, and a command struct sits at the start of a zeroed region that
 * ends at one: running past what was supplied faults (EFAULT, allowed for
 * garbage) instead of reading or scribbling over the fuzzer's own memory.
 *
 * A run fails (exit 1) when a call gives an errno no command returns,
 * when a well-formed call on valid memory gets EFAULT, or when, after
 * every context and access is closed, a buffer page is still pinned or
 * VmPin has not come back, or a fault group is left unanswered. Kernel
 * warnings are the VM runner's to catch.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/vfio.h>

#include "../../uapi/linux/iommufd.h"
#include "../../iommufd/iommufd_test.h"

#define PAGE_SZ 4096UL
#define NBUFS 6
#define BUF_SZ 0x40000UL
/* Fixed addresses keep replays and printed programs exact. */
#define BUF_BASE 0x3f0000000000UL
/* Arrays and out buffers end here, at a guard page (see guarded()). */
#define ARR_BASE (BUF_BASE + 0x1000000UL)
#define ARR_SZ 0x10000UL
/* Command structs start here, in zeroes up to a guard page. */
#define ARG_BASE (BUF_BASE + 0x2000000UL)
#define ARG_SZ 0x10000UL
#define NCTX 2
#define MAX_OBJS 32
#define MAX_MAPS 64
#define MAX_ACC 8
#define MAX_FQ 4
#define APERTURE_START ((__u64)MOCK_APERTURE_START)
#define IOVA_SPAN 0x4000000UL
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MMAP_FLAGS "MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0"

enum obj_kind {
	K_IOAS, K_WIN_IOAS, K_HWPT, K_STDEV, K_IDEV, K_FAULT, K_NESTED,
	K_NKINDS
};

struct mapping {
	__u32 ioas;
	__u64 iova;
	__u64 len;
};

struct access {
	int fd;
	bool pin;
	__u32 items[4];
};

/* A fault queue's file, and cookies of groups read from it. */
struct fault_file {
	int fd;
	__u32 cookies[8];
};

struct ctx {
	int fd;
	struct io_uring ring;
	bool ring_ok;
	__u32 objs[K_NKINDS][MAX_OBJS];
	struct mapping maps[MAX_MAPS];
	struct access acc[MAX_ACC];
	struct fault_file fq[MAX_FQ];
	/* The last mock device attached to an HWPT with a fault queue. */
	__u32 fault_idev;
};

static struct {
	__u64 rng;
	__u64 seed;
	unsigned long ops;
	bool print;
	bool verbose;
	struct ctx ctx[NCTX];
	char *bufs[NBUFS];
	char *ro_buf;
	char *arr;
	unsigned char *arg;
	int devnull;
	int failures;
	/* Set when a call of this op carries garbage. */
	bool garbage;
	/* ... when it points at memory that is not a read-write buffer. */
	bool bad_memory;
	/*
	 * A call with bad memory got through (it is only pinned later, when
	 * a domain or access needs it): from then on EFAULT is expected.
	 */
	bool tainted;
} F;

static __u64 rnd(void)
{
	/* splitmix64: every seed, even 0, gives a good stream. */
	__u64 z = (F.rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u32 below(__u32 n)
{
	return n ? rnd() % n : 0;
}

/* True with probability 1/@n; marks the call as carrying garbage. */
static bool bad(__u32 n)
{
	if (below(n))
		return false;
	F.garbage = true;
	return true;
}

/* A 32-bit count or size that no caller could mean. */
static __u32 huge_u32(void)
{
	switch (below(5)) {
	case 0:
		return ~0u - below(16);
	case 1:
		return 1u << (16 + below(16));
	case 2:
		/* Times 16-byte elements: just past INT_MAX bytes. */
		return (1u << 27) + below(4);
	case 3:
		return 0x80000000u + below(16);
	default:
		return rnd();
	}
}

/* A 64-bit length or address near 2^63 or 2^64, mostly page aligned. */
static __u64 huge_u64(void)
{
	switch (below(6)) {
	case 0:
		return ~0ULL - below(PAGE_SZ);
	case 1:
		return -(__u64)((1 + below(16)) * PAGE_SZ);
	case 2:
		return (1ULL << 63) + below(4) * PAGE_SZ;
	case 3:
		return (1ULL << 63) - below(4) * PAGE_SZ;
	case 4:
		return 1ULL << (32 + below(32));
	default:
		return rnd() & ~(PAGE_SZ - 1);
	}
}

/*
 * A count of elements for an array with room for @room: mostly at most
 * @room, sometimes huge (garbage).
 */
static __u32 count(__u32 room)
{
	if (bad(12))
		return huge_u32();
	return below(room + 1);
}

/*
 * @len bytes that end at the guard page after F.arr: the kernel reading
 * or writing past them gets EFAULT.
 */
static void *guarded(size_t len)
{
	return F.arr + ARR_SZ - len;
}

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "iommufd_fuzz: FAIL (seed %llu, call %lu): ",
		(unsigned long long)F.seed, F.ops);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	F.failures++;
}

/* ---------------------------------------------------------------------- */
/* Objects the run knows about. */

static void obj_add(struct ctx *c, enum obj_kind k, __u32 id)
{
	c->objs[k][below(MAX_OBJS)] = id;
}

/* A known ID of kind @k, sometimes a bad one. */
static __u32 obj_pick(struct ctx *c, enum obj_kind k)
{
	__u32 id = c->objs[k][below(MAX_OBJS)];
	int tries;

	for (tries = 0; !id && tries < 8; tries++)
		id = c->objs[k][below(MAX_OBJS)];
	if (bad(24)) {
		switch (below(4)) {
		case 0:
			return 0;
		case 1:
			return ~0u;
		default:
			return below(64);
		}
	}
	return id;
}

/* A user address: mostly inside a buffer, page aligned or not. */
static __u64 uva(__u64 len)
{
	__u64 off;
	char *buf;

	if (bad(30)) {
		F.bad_memory = true;
		switch (below(5)) {
		case 0:
			return 0;
		case 1:
			return (__u64)(uintptr_t)F.ro_buf;
		case 2:
			return 0xffff800000000000ULL;
		case 3:
			return ~0ULL - below(4096);
		default:
			return BUF_BASE - 0x100000;
		}
	}
	buf = F.bufs[below(NBUFS)];
	/*
	 * A garbage length runs past the buffer into unmapped memory. A MAP
	 * of it succeeds while nothing pins it, and only a later pin or
	 * ACCESS_RW of the far end finds nothing there.
	 */
	if (len > BUF_SZ)
		F.bad_memory = true;
	if (len >= BUF_SZ)
		return (__u64)(uintptr_t)buf;
	off = below((BUF_SZ - len) / PAGE_SZ + 1) * PAGE_SZ;
	return (__u64)(uintptr_t)buf + off;
}

/* A length: mostly whole pages, sometimes 0, odd or enormous. */
static __u64 length(void)
{
	if (bad(24)) {
		switch (below(6)) {
		case 0:
			return 0;
		case 1:
			return 1 + below(PAGE_SZ);
		case 2:
			return ~0ULL - below(PAGE_SZ);
		case 3:
			return 1ULL << (32 + below(30));
		default:
			return huge_u64();
		}
	}
	return (1 + below(8)) * PAGE_SZ * (below(4) ? 1 : 8);
}

/* An IOVA inside the mock aperture, or one that was mapped. */
static __u64 iova(struct ctx *c, __u32 ioas)
{
	struct mapping *m = &c->maps[below(MAX_MAPS)];

	if (bad(30)) {
		switch (below(3)) {
		case 0:
			return ~0ULL - below(PAGE_SZ) * PAGE_SZ;
		case 1:
			return APERTURE_START + 1 + below(PAGE_SZ);
		default:
			return 0;
		}
	}
	if (m->len && (m->ioas == ioas || below(4) == 0))
		return m->iova + (below(2) ? 0 : below(m->len / PAGE_SZ) *
					      PAGE_SZ);
	return APERTURE_START + below(IOVA_SPAN / PAGE_SZ) * PAGE_SZ;
}

static __u32 flags(__u32 valid)
{
	if (bad(30))
		return rnd();
	return rnd() & valid;
}

/* ---------------------------------------------------------------------- */
/* Issuing a command: ioctl or io_uring, printing, checking. */

static const int known_errors[] = {
	ENOENT, EINVAL, EOPNOTSUPP, EFAULT, E2BIG, ENOMEM, EOVERFLOW, EEXIST,
	EBUSY, ENOSPC, EADDRINUSE, EMSGSIZE, EPERM, ENOTTY, EBADF, EBADFD,
	ERANGE, EBADE, EIO, ENODEV, EDEADLOCK, 0,
};

static void print_bytes(const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	printf("\"");
	for (i = 0; i < len; i++)
		printf("\\x%02x", b[i]);
	printf("\"");
}

static int uring_call(struct ctx *c, unsigned long req, void *arg,
		      size_t len)
{
	struct iommu_uring_cmd hdr = { .arg = (__u64)(uintptr_t)arg };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int res;

	sqe = io_uring_get_sqe(&c->ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, c->fd, NULL, 0, 0);
	sqe->cmd_op = req;
	if (len <= IOMMU_URING_CMD_INLINE_MAX && below(2)) {
		hdr.flags = IOMMU_URING_CMD_INLINE;
		hdr.arg = 0;
		memcpy(sqe->cmd + sizeof(hdr), arg, len);
	}
	if (bad(40))
		hdr.flags |= 1u << below(32);
	memcpy(sqe->cmd, &hdr, sizeof(hdr));
	if (io_uring_submit(&c->ring) != 1)
		return -EIO;
	if (io_uring_wait_cqe(&c->ring, &cqe))
		return -EIO;
	res = cqe->res;
	io_uring_cqe_seen(&c->ring, cqe);
	/* Inline, the allocations return the new ID as res, not a reply. */
	if (res > 0 && (hdr.flags & IOMMU_URING_CMD_INLINE)) {
		if (req == IOMMU_IOAS_ALLOC)
			((struct iommu_ioas_alloc *)arg)->out_ioas_id = res;
		else if (req == IOMMU_HWPT_ALLOC)
			((struct iommu_hwpt_alloc *)arg)->out_hwpt_id = res;
		else
			return res;
		res = 0;
	}
	return res;
}

/*
 * A wrong size for a struct of @len bytes: short, a little long, or near
 * 4 GiB. A long one has zeroes after the struct up to the guard page, and
 * sometimes one non-zero byte (E2BIG); *@poke is its offset, or 0.
 */
static __u32 bad_size(size_t len, size_t *poke)
{
	__u32 sz;

	switch (below(3)) {
	case 0:
		sz = below(len);
		break;
	case 1:
		sz = len + 8 * (1 + below(4));
		break;
	default:
		sz = below(2) ? huge_u32() : ~0u - below(PAGE_SZ);
	}
	*poke = 0;
	if (sz > len && below(2))
		*poke = len + below(sz - len < ARG_SZ - len ? sz - len :
				    ARG_SZ - len);
	return sz;
}

/*
 * Run one command on context @c. @len is the size of the struct at @arg;
 * its size field may be made wrong here. Returns 0 or -errno.
 */
static int call(struct ctx *c, unsigned long req, const char *name,
		void *arg, size_t len)
{
	unsigned char *buf = F.arg;
	bool uring = false, fault = false;
	int fd = c->fd, rc, fired = 0;
	size_t i, poke = 0;
	__u32 nth = 0;

	memcpy(buf, arg, len);
	if (bad(40)) {
		__u32 sz = bad_size(len, &poke);

		memcpy(buf, &sz, sizeof(sz));
		if (poke)
			buf[poke] = 1;
	}
	if (bad(60))
		fd = below(2) ? F.devnull : F.ctx[(c - F.ctx + 1) % NCTX].fd;
	if (c->ring_ok && fd == c->fd && below(6) == 0)
		uring = true;
	if (below(10) == 0) {
		fault = true;
		nth = below(60) ? 1 + below(40) : huge_u32();
	}

	if (F.print) {
		printf("\t/* %lu: %s%s%s */\n", F.ops, name,
		       uring ? " (io_uring in the run)" : "",
		       fault ? " (with a fault injected)" : "");
		if (fault)
			printf("\tfail_nth(fd[0], %u);\n", nth);
		if (poke >= len + 64)
			printf("\targ[%zu] = 1;\n", poke);
		printf("\trc = %s(%s, 0x%lx, ", "call",
		       fd == F.devnull ? "devnull" :
		       fd == F.ctx[0].fd ? "fd[0]" : "fd[1]", req);
		print_bytes(buf, len + 64);
		printf(", %zu);\n", len + 64);
	}

	if (fault) {
		struct iommu_test_cmd t = {
			.size = sizeof(t), .op = IOMMU_TEST_OP_FAIL_NTH,
			.fail_nth = { .nth = nth, .kinds = MOCK_FAULT_ALL },
		};

		ioctl(F.ctx[0].fd, IOMMU_TEST_CMD, &t);
	}
	if (uring)
		rc = uring_call(c, req, buf, len);
	else
		rc = ioctl(fd, req, buf) ? -errno : 0;
	if (fault) {
		struct iommu_test_cmd t = {
			.size = sizeof(t), .op = IOMMU_TEST_OP_FAIL_NTH,
		};

		/* The disarm's own copy-in may be the Nth event: retry. */
		for (i = 0; i < 3; i++)
			if (!ioctl(F.ctx[0].fd, IOMMU_TEST_CMD, &t))
				break;
		fired = t.fail_nth.out_fired;
	}
	if (F.print)
		printf("%s\t/* -> %d */\n", fault ? "\tfail_nth(fd[0], 0);\n" :
		       "", rc);
	if (!rc)
		memcpy(arg, buf, len);
	/* The kernel writes at most len bytes back: clear what we wrote. */
	memset(buf, 0, (poke > len ? poke : len) + 1);
	if (F.verbose)
		fprintf(stderr, "%lu %s%s%s -> %d\n", F.ops, name,
			uring ? " uring" : "", fired ? " faulted" : "", rc);

	if (rc > 0) {
		fail("%s returned %d", name, rc);
	} else if (rc) {
		for (i = 0; known_errors[i] && known_errors[i] != -rc; i++)
			;
		if (!known_errors[i])
			fail("%s failed with unexpected errno %d (%s)", name,
			     -rc, strerror(-rc));
		if (rc == -EFAULT && !F.garbage && !fault && !F.tainted)
			fail("%s: EFAULT on valid memory", name);
	}
	if (!rc && F.bad_memory)
		F.tainted = true;
	return rc;
}

/* ---------------------------------------------------------------------- */
/* The operations. */

static void op_ioas_alloc(struct ctx *c)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	bool windowed = below(4) == 0;

	cmd.flags = windowed ? IOMMU_IOAS_ALLOC_WINDOWED : 0;
	if (bad(30))
		cmd.flags = rnd();
	if (!call(c, IOMMU_IOAS_ALLOC, "IOAS_ALLOC", &cmd, sizeof(cmd)))
		obj_add(c, cmd.flags ? K_WIN_IOAS : K_IOAS, cmd.out_ioas_id);
}

static void record_map(struct ctx *c, __u32 ioas, __u64 iova, __u64 len)
{
	c->maps[below(MAX_MAPS)] = (struct mapping){ ioas, iova, len };
}

static __u32 any_ioas(struct ctx *c)
{
	return obj_pick(c, below(4) ? K_IOAS : K_WIN_IOAS);
}

static void op_map(struct ctx *c)
{
	struct iommu_ioas_map cmd = { .size = sizeof(cmd) };

	cmd.ioas_id = any_ioas(c);
	cmd.flags = flags(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |
			  IOMMU_IOAS_MAP_READABLE) | IOMMU_IOAS_MAP_READABLE;
	if (below(3))
		cmd.flags |= IOMMU_IOAS_MAP_FIXED_IOVA;
	cmd.length = length();
	/* Just past 2^63, and user_va + length still fits. */
	if (bad(40))
		cmd.length = (1ULL << 63) + below(4) * PAGE_SZ;
	cmd.user_va = uva(cmd.length);
	cmd.iova = iova(c, cmd.ioas_id);
	if (bad(40))
		cmd.__reserved = 1;
	if (!call(c, IOMMU_IOAS_MAP, "IOAS_MAP", &cmd, sizeof(cmd)))
		record_map(c, cmd.ioas_id, cmd.iova, cmd.length);
}

static void op_unmap(struct ctx *c)
{
	struct iommu_ioas_unmap cmd = { .size = sizeof(cmd) };
	struct mapping *m = &c->maps[below(MAX_MAPS)];

	cmd.ioas_id = m->len && below(2) ? m->ioas : any_ioas(c);
	if (below(12) == 0) {
		cmd.length = ~0ULL;
	} else if (m->len && below(3)) {
		cmd.iova = m->iova;
		cmd.length = m->len;
	} else {
		cmd.iova = iova(c, cmd.ioas_id);
		cmd.length = length();
	}
	if (!call(c, IOMMU_IOAS_UNMAP, "IOAS_UNMAP", &cmd, sizeof(cmd)) &&
	    m->iova == cmd.iova)
		m->len = 0;
}

static void op_copy(struct ctx *c)
{
	struct iommu_ioas_copy cmd = { .size = sizeof(cmd) };
	struct mapping *m = &c->maps[below(MAX_MAPS)];

	cmd.flags = flags(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |
			  IOMMU_IOAS_MAP_READABLE) | IOMMU_IOAS_MAP_READABLE;
	cmd.src_ioas_id = m->len ? m->ioas : any_ioas(c);
	cmd.src_iova = m->len ? m->iova : iova(c, cmd.src_ioas_id);
	cmd.length = m->len && below(3) ? m->len : length();
	cmd.dst_ioas_id = any_ioas(c);
	cmd.dst_iova = iova(c, cmd.dst_ioas_id);
	if (!call(c, IOMMU_IOAS_COPY, "IOAS_COPY", &cmd, sizeof(cmd)))
		record_map(c, cmd.dst_ioas_id, cmd.dst_iova, cmd.length);
}

static void op_iova_ranges(struct ctx *c)
{
	__u32 room = below(5);
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.num_iovas = count(room),
		.allowed_iovas = (__u64)(uintptr_t)
			guarded(room * sizeof(struct iommu_iova_range)),
	};

	cmd.ioas_id = any_ioas(c);
	if (bad(20))
		cmd.allowed_iovas = uva(PAGE_SZ);
	call(c, IOMMU_IOAS_IOVA_RANGES, "IOAS_IOVA_RANGES", &cmd,
	     sizeof(cmd));
}

/* Print the bytes at @p as a copy into the program's own memory. */
static void print_memory(const void *p, size_t len)
{
	if (!F.print)
		return;
	printf("\tmemcpy((void *)0x%lxUL, ", (unsigned long)(uintptr_t)p);
	print_bytes(p, len);
	printf(", %zu);\n", len);
}

static void op_allow_iovas(struct ctx *c)
{
	struct iommu_iova_range *r = guarded(3 * sizeof(*r));
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.num_iovas = count(3),
		.allowed_iovas = (__u64)(uintptr_t)r,
	};
	__u32 i;

	for (i = 0; i < 3; i++) {
		r[i].start = APERTURE_START + i * IOVA_SPAN / 2 +
			     below(4) * PAGE_SZ;
		r[i].last = r[i].start + length() - 1;
	}
	print_memory(r, 3 * sizeof(*r));
	cmd.ioas_id = any_ioas(c);
	call(c, IOMMU_IOAS_ALLOW_IOVAS, "IOAS_ALLOW_IOVAS", &cmd, sizeof(cmd));
}

static void op_option(struct ctx *c)
{
	struct iommu_option cmd = { .size = sizeof(cmd) };

	cmd.option_id = below(8) ? IOMMU_OPTION_HUGE_PAGES :
				   IOMMU_OPTION_RLIMIT_MODE;
	if (bad(30))
		cmd.option_id = rnd();
	cmd.op = below(2);
	if (bad(40))
		cmd.op = rnd();
	if (cmd.option_id == IOMMU_OPTION_HUGE_PAGES)
		cmd.object_id = any_ioas(c);
	cmd.val64 = below(2);
	if (bad(30))
		cmd.val64 = rnd();
	call(c, IOMMU_OPTION, "OPTION", &cmd, sizeof(cmd));
}

/*
 * A VFIO container ioctl whose argument is a value (SET_IOMMU,
 * CHECK_EXTENSION, GET_API_VERSION): no struct, so not through call().
 */
static void vfio_value_call(struct ctx *c, unsigned long req,
			    unsigned long val, const char *name)
{
	int rc = ioctl(c->fd, req, val);

	rc = rc < 0 ? -errno : 0;
	if (F.print)
		printf("\t/* %lu: %s */\n\trc = ioctl(fd[%d], 0x%lx, 0x%lx);\n",
		       F.ops, name, c == F.ctx ? 0 : 1, req, val);
	if (rc == -EFAULT || (rc && rc != -EINVAL && rc != -ENODEV &&
			      rc != -EADDRINUSE))
		fail("%s failed with unexpected errno %d (%s)", name, -rc,
		     strerror(-rc));
}

/* The VFIO type1 ioctls on the compat IOAS, and IOMMU_VFIO_IOAS. */
static void op_vfio(struct ctx *c)
{
	static const unsigned long types[] = {
		VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_DMA_CC_IOMMU,
		VFIO_UNMAP_ALL, VFIO_NOIOMMU_IOMMU, 0,
	};

	switch (below(6)) {
	case 0: {
		struct iommu_vfio_ioas cmd = { .size = sizeof(cmd) };

		cmd.op = below(3);
		if (bad(20))
			cmd.op = rnd();
		if (bad(20))
			cmd.__reserved = 1;
		cmd.ioas_id = any_ioas(c);
		call(c, IOMMU_VFIO_IOAS, "VFIO_IOAS", &cmd, sizeof(cmd));
		break;
	}
	case 1:
		vfio_value_call(c, below(2) ? VFIO_SET_IOMMU :
				VFIO_CHECK_EXTENSION,
				types[below(ARRAY_SIZE(types))],
				"VFIO_SET_IOMMU/CHECK_EXTENSION");
		break;
	case 2: {
		struct vfio_iommu_type1_dma_map cmd = { .argsz = sizeof(cmd) };

		cmd.flags = flags(VFIO_DMA_MAP_FLAG_READ |
				  VFIO_DMA_MAP_FLAG_WRITE);
		cmd.size = length();
		cmd.vaddr = uva(cmd.size);
		cmd.iova = iova(c, 0);
		if (!call(c, VFIO_IOMMU_MAP_DMA, "VFIO_MAP_DMA", &cmd,
			  sizeof(cmd)))
			record_map(c, 0, cmd.iova, cmd.size);
		break;
	}
	case 3:
	case 4: {
		struct vfio_iommu_type1_dma_unmap cmd = { .argsz = sizeof(cmd) };

		cmd.flags = below(8) ? 0 : flags(VFIO_DMA_UNMAP_FLAG_ALL);
		if (!(cmd.flags & VFIO_DMA_UNMAP_FLAG_ALL) || bad(20)) {
			cmd.iova = iova(c, 0);
			cmd.size = below(2) ? length() : PAGE_SZ;
		}
		call(c, VFIO_IOMMU_UNMAP_DMA, "VFIO_UNMAP_DMA", &cmd,
		     sizeof(cmd));
		break;
	}
	default: {
		/*
		 * The reply fills at most argsz bytes: call() clears all
		 * 512 of them afterwards, whatever argsz says.
		 */
		__u32 cmd[128] = { below(3) ? 256 : below(64) };

		call(c, VFIO_IOMMU_GET_INFO, "VFIO_GET_INFO", cmd,
		     sizeof(cmd));
	}
	}
}

static void op_window(struct ctx *c)
{
	if (below(3)) {
		struct iommu_ioas_create_window cmd = { .size = sizeof(cmd) };

		cmd.ioas_id = obj_pick(c, K_WIN_IOAS);
		cmd.flags = flags(IOMMU_WINDOW_FIXED_BASE);
		cmd.attrs = flags(IOMMU_WINDOW_ATTR_EXACT_IOPTE);
		cmd.base = APERTURE_START + below(16) * 0x400000;
		if (bad(20))
			cmd.base = huge_u64();
		cmd.length = below(2) ? 0x400000 : length();
		cmd.page_size = below(2) ? 0 : PAGE_SZ << below(10);
		if (bad(20))
			cmd.page_size = below(2) ? rnd() : 1ULL << (12 + below(52));
		if (!call(c, IOMMU_IOAS_CREATE_WINDOW, "IOAS_CREATE_WINDOW",
			  &cmd, sizeof(cmd)))
			record_map(c, cmd.ioas_id, cmd.base, 0);
	} else if (below(2)) {
		struct iommu_ioas_remove_window cmd = { .size = sizeof(cmd) };

		cmd.ioas_id = obj_pick(c, K_WIN_IOAS);
		cmd.base = APERTURE_START + below(16) * 0x400000;
		call(c, IOMMU_IOAS_REMOVE_WINDOW, "IOAS_REMOVE_WINDOW", &cmd,
		     sizeof(cmd));
	} else {
		__u32 room = below(5);
		struct iommu_ioas_list_windows cmd = {
			.size = sizeof(cmd),
			.num_windows = count(room),
			.windows = (__u64)(uintptr_t)
				guarded(room * sizeof(struct iommu_ioas_window)),
		};

		cmd.ioas_id = obj_pick(c, K_WIN_IOAS);
		call(c, IOMMU_IOAS_LIST_WINDOWS, "IOAS_LIST_WINDOWS", &cmd,
		     sizeof(cmd));
	}
}

static void op_destroy(struct ctx *c)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd) };

	cmd.id = obj_pick(c, below(K_NKINDS));
	call(c, IOMMU_DESTROY, "DESTROY", &cmd, sizeof(cmd));
}

static int test_call(struct ctx *c, __u32 op, __u32 id,
		     struct iommu_test_cmd *cmd, const char *name)
{
	cmd->size = sizeof(*cmd);
	cmd->op = op;
	cmd->id = id;
	return call(c, IOMMU_TEST_CMD, name, cmd, sizeof(*cmd));
}

static void op_mock_device(struct ctx *c)
{
	struct iommu_test_cmd cmd = {};
	__u32 pt = below(3) ? any_ioas(c) : obj_pick(c, K_HWPT);

	if (below(3)) {
		cmd.mock_domain_flags.dev_flags =
			flags(MOCK_FLAGS_DEVICE_HUGE_IOVA |
			      MOCK_FLAGS_DEVICE_NO_DIRTY);
		if (test_call(c, IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, pt, &cmd,
			      "MOCK_DOMAIN_FLAGS"))
			return;
	} else if (test_call(c, IOMMU_TEST_OP_MOCK_DOMAIN, pt, &cmd,
			     "MOCK_DOMAIN")) {
		return;
	}
	obj_add(c, K_STDEV, cmd.mock_domain.out_stdev_id);
	obj_add(c, K_HWPT, cmd.mock_domain.out_hwpt_id);
	obj_add(c, K_IDEV, cmd.mock_domain.out_idev_id);
}

static void op_replace(struct ctx *c)
{
	struct iommu_test_cmd cmd = {};

	cmd.mock_domain_replace.pt_id = below(2) ? any_ioas(c) :
					obj_pick(c, K_HWPT);
	if (!test_call(c, IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		       obj_pick(c, K_STDEV), &cmd, "MOCK_DOMAIN_REPLACE"))
		obj_add(c, K_HWPT, cmd.mock_domain_replace.pt_id);
}

static void op_hwpt_alloc(struct ctx *c)
{
	struct iommu_hwpt_alloc cmd = { .size = sizeof(cmd) };

	cmd.dev_id = obj_pick(c, K_IDEV);
	cmd.pt_id = below(8) ? any_ioas(c) : obj_pick(c, K_HWPT);
	cmd.flags = flags(IOMMU_HWPT_ALLOC_NEST_PARENT);
	if (bad(30))
		cmd.data_type = rnd();
	if (bad(20)) {
		cmd.data_len = below(2) ? huge_u32() : below(64);
		cmd.data_uptr = (__u64)(uintptr_t)guarded(16);
	}
	if (!call(c, IOMMU_HWPT_ALLOC, "HWPT_ALLOC", &cmd, sizeof(cmd)))
		obj_add(c, K_HWPT, cmd.out_hwpt_id);
}

/*
 * A nest parent for device @dev_id on some IOAS, made now, with dirty
 * tracking now and then; 0 if the call failed.
 */
static __u32 new_nest_parent(struct ctx *c, __u32 dev_id)
{
	struct iommu_hwpt_alloc parent = {
		.size = sizeof(parent),
		.flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
		.dev_id = dev_id,
		.pt_id = any_ioas(c),
	};

	if (!below(4))
		parent.flags |= IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	if (call(c, IOMMU_HWPT_ALLOC, "HWPT_ALLOC nest parent", &parent,
		 sizeof(parent)))
		return 0;
	obj_add(c, K_HWPT, parent.out_hwpt_id);
	return parent.out_hwpt_id;
}

/*
 * A nested HWPT on a HWPT (a nest parent or not), with the mock's data:
 * mostly right, now and then another type, length, flag or pointer.
 */
static void op_nested_alloc(struct ctx *c)
{
	struct iommu_hwpt_selftest *data = guarded(sizeof(*data));
	struct iommu_hwpt_alloc cmd = { .size = sizeof(cmd) };
	__u32 parent;

	cmd.dev_id = obj_pick(c, K_IDEV);
	cmd.pt_id = below(6) ? obj_pick(c, K_HWPT) : obj_pick(c, K_NESTED);
	/* Half the time on a nest parent made for it just before. */
	if (below(2)) {
		parent = new_nest_parent(c, cmd.dev_id);
		if (parent)
			cmd.pt_id = parent;
	}
	data->iotlb = below(2) ? IOMMU_TEST_IOTLB_DEFAULT : rnd();
	cmd.flags = flags(IOMMU_HWPT_FAULT_ID_VALID);
	cmd.fault_id = below(2) ? obj_pick(c, K_FAULT) : rnd();
	cmd.data_type = bad(20) ? rnd() : IOMMU_HWPT_DATA_SELFTEST;
	cmd.data_len = bad(20) ? count(16) : sizeof(*data);
	cmd.data_uptr = bad(40) ? uva(8) : (__u64)(uintptr_t)data;
	if (!call(c, IOMMU_HWPT_ALLOC, "HWPT_ALLOC nested", &cmd,
		  sizeof(cmd))) {
		obj_add(c, K_HWPT, cmd.out_hwpt_id);
		obj_add(c, K_NESTED, cmd.out_hwpt_id);
	}
}

/*
 * IOMMU_HWPT_INVALIDATE of a few mock entries at the guard page: random
 * flags and IOTLB IDs, now and then another entry length or type, a huge
 * entry_num, another HWPT.
 */
static void op_invalidate(struct ctx *c)
{
	struct iommu_hwpt_invalidate_selftest *reqs;
	struct iommu_hwpt_invalidate cmd = { .size = sizeof(cmd) };
	__u32 i, n = below(5);

	reqs = guarded(n * sizeof(*reqs));
	for (i = 0; i != n; i++) {
		reqs[i].flags = flags(IOMMU_TEST_INVALIDATE_FLAG_ALL);
		reqs[i].iotlb_id = below(6) ? below(MOCK_NESTED_DOMAIN_IOTLB_NUM)
					    : rnd();
	}
	cmd.hwpt_id = below(6) ? obj_pick(c, K_NESTED) : obj_pick(c, K_HWPT);
	cmd.data_uptr = (__u64)(uintptr_t)reqs;
	cmd.data_type = bad(20) ? rnd() : IOMMU_HWPT_INVALIDATE_DATA_SELFTEST;
	cmd.entry_len = bad(20) ? count(64) : sizeof(*reqs);
	cmd.entry_num = bad(12) ? count(n) : n;
	call(c, IOMMU_HWPT_INVALIDATE, "HWPT_INVALIDATE", &cmd, sizeof(cmd));
}

/* IOMMU_TEST_OP_MD_CHECK_IOTLB of any HWPT, entry and value. */
static void op_check_iotlb(struct ctx *c)
{
	struct iommu_test_cmd cmd = {};
	__u32 id = below(4) ? obj_pick(c, K_NESTED) : obj_pick(c, K_HWPT);

	cmd.check_iotlb.id = below(8) ? below(MOCK_NESTED_DOMAIN_IOTLB_NUM) :
					rnd();
	cmd.check_iotlb.iotlb = below(2) ? 0 : below(2) ?
				IOMMU_TEST_IOTLB_DEFAULT : rnd();
	test_call(c, IOMMU_TEST_OP_MD_CHECK_IOTLB, id, &cmd, "MD_CHECK_IOTLB");
}

static void op_hw_info(struct ctx *c)
{
	/*
	 * The kernel fills (zeroes) all of data_len: 64 bytes of room, and
	 * a huge data_len runs into the guard page.
	 */
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.data_len = below(2) ? sizeof(struct iommu_test_hw_info) :
				       below(65),
		.data_uptr = (__u64)(uintptr_t)guarded(64),
	};

	if (bad(12))
		cmd.data_len = huge_u32();
	cmd.dev_id = obj_pick(c, K_IDEV);
	if (bad(20))
		cmd.data_uptr = uva(PAGE_SZ);
	call(c, IOMMU_GET_HW_INFO, "GET_HW_INFO", &cmd, sizeof(cmd));
}

static struct access *pick_access(struct ctx *c)
{
	return &c->acc[below(MAX_ACC)];
}

static void op_access(struct ctx *c)
{
	struct access *a = pick_access(c);
	struct iommu_test_cmd cmd = {};
	__u32 ioas = any_ioas(c);
	struct mapping *m = &c->maps[below(MAX_MAPS)];
	int afd = a->fd;

	if (bad(20))
		afd = below(2) ? F.devnull : F.ctx[0].acc[0].fd;
	switch (below(7)) {
	case 0:
		if (a->fd >= 0)
			return;
		cmd.create_access.flags =
			flags(MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
		if (!test_call(c, IOMMU_TEST_OP_CREATE_ACCESS, ioas, &cmd,
			       "CREATE_ACCESS")) {
			a->fd = cmd.create_access.out_access_fd;
			a->pin = cmd.create_access.flags;
		}
		return;
	case 1:
	case 2:
		cmd.access_pages.flags = flags(MOCK_FLAGS_ACCESS_WRITE);
		cmd.access_pages.iova = m->len ? m->iova : iova(c, ioas);
		cmd.access_pages.length = m->len && below(2) ? m->len :
					  length();
		if (!test_call(c, IOMMU_TEST_OP_ACCESS_PAGES, afd, &cmd,
			       "ACCESS_PAGES") && afd == a->fd)
			a->items[below(4)] =
				cmd.access_pages.out_access_pages_id;
		return;
	case 3:
		cmd.destroy_access_pages.access_pages_id =
			bad(10) ? rnd() : a->items[below(4)];
		test_call(c, IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, afd, &cmd,
			  "DESTROY_ACCESS_PAGES");
		return;
	case 4: {
		/* Room for 3 pages; a longer copy runs into the guard page. */
		char *tmp = guarded(3 * PAGE_SZ);

		cmd.access_rw.iova = (m->len ? m->iova : iova(c, ioas)) +
				     below(PAGE_SZ);
		cmd.access_rw.length = 1 + below(3 * PAGE_SZ);
		if (bad(20))
			cmd.access_rw.length = below(2) ? length() :
					       (1 + below(64)) * PAGE_SZ;
		cmd.access_rw.uptr = (__u64)(uintptr_t)tmp;
		if (bad(20))
			cmd.access_rw.uptr = uva(PAGE_SZ);
		cmd.access_rw.flags = flags(MOCK_ACCESS_RW_WRITE |
					    MOCK_ACCESS_RW_SLOW_PATH);
		test_call(c, IOMMU_TEST_OP_ACCESS_RW, afd, &cmd, "ACCESS_RW");
		return;
	}
	case 5:
		cmd.access_replace_ioas.ioas_id = ioas;
		test_call(c, IOMMU_TEST_OP_ACCESS_REPLACE_IOAS, afd, &cmd,
			  "ACCESS_REPLACE_IOAS");
		return;
	default:
		if (a->fd < 0)
			return;
		if (F.print)
			printf("\tclose(%d);\n", a->fd);
		close(a->fd);
		*a = (struct access){ .fd = -1 };
	}
}

static void op_test_misc(struct ctx *c)
{
	struct iommu_test_cmd cmd = {};

	switch (below(4)) {
	case 0:
		cmd.add_reserved.start = iova(c, 0);
		cmd.add_reserved.length = length();
		test_call(c, IOMMU_TEST_OP_ADD_RESERVED, any_ioas(c), &cmd,
			  "ADD_RESERVED");
		break;
	case 1:
		cmd.add_reserved.start = iova(c, 0);
		cmd.add_reserved.length = length();
		test_call(c, IOMMU_TEST_OP_MOCK_DEVICE_ADD_RESV,
			  obj_pick(c, K_STDEV), &cmd, "MOCK_DEVICE_ADD_RESV");
		break;
	case 2:
		cmd.memory_limit.limit = below(3) ? 65536 : 12 + below(4096);
		if (bad(12))
			cmd.memory_limit.limit = huge_u32();
		test_call(c, IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT, 0, &cmd,
			  "SET_TEMP_MEMORY_LIMIT");
		break;
	default:
		cmd.memory_limit.limit = bad(12) ? huge_u32() : below(64);
		test_call(c, IOMMU_TEST_OP_MOCK_DOMAIN_SET_LIMIT,
			  obj_pick(c, K_HWPT), &cmd, "MOCK_DOMAIN_SET_LIMIT");
	}
}

/*
 * The mock domain's checks, over lengths that are sometimes huge: each
 * must stop at the end of what is mapped or supplied, or bound its walk.
 */
static void op_test_check(struct ctx *c)
{
	struct iommu_test_cmd cmd = {};
	struct mapping *m = &c->maps[below(MAX_MAPS)];
	__u64 len = m->len && below(2) ? m->len : length();

	switch (below(3)) {
	case 0:
		cmd.check_map.iova = m->len ? m->iova : iova(c, 0);
		cmd.check_map.length = len;
		cmd.check_map.uptr = uva(len);
		test_call(c, IOMMU_TEST_OP_MD_CHECK_MAP, obj_pick(c, K_HWPT),
			  &cmd, "MD_CHECK_MAP");
		break;
	case 1:
		cmd.check_refs.length = len;
		cmd.check_refs.uptr = uva(len);
		cmd.check_refs.refs = below(3);
		test_call(c, IOMMU_TEST_OP_MD_CHECK_REFS, 0, &cmd,
			  "MD_CHECK_REFS");
		break;
	default:
		cmd.check_map.iova = m->len ? m->iova : iova(c, 0);
		cmd.check_map.length = len;
		cmd.check_map.uptr = (__u64)(uintptr_t)
			guarded(sizeof(struct iommu_test_iopte_stats));
		test_call(c, IOMMU_TEST_OP_MD_IOPTE_STATS, obj_pick(c, K_HWPT),
			  &cmd, "MD_IOPTE_STATS");
	}
}

/* ---------------------------------------------------------------------- */
/* Fault queues: allocation, HWPTs with one, faults, reads and answers. */

static struct fault_file *pick_fq(struct ctx *c)
{
	return &c->fq[below(MAX_FQ)];
}

static void op_fault_alloc(struct ctx *c)
{
	struct iommu_fault_alloc cmd = { .size = sizeof(cmd) };
	struct fault_file *f = pick_fq(c);

	if (f->fd >= 0)
		return;
	cmd.flags = flags(0);
	if (call(c, IOMMU_FAULT_QUEUE_ALLOC, "FAULT_QUEUE_ALLOC", &cmd,
		 sizeof(cmd)))
		return;
	f->fd = cmd.out_fault_fd;
	obj_add(c, K_FAULT, cmd.out_fault_id);
}

/*
 * A HWPT with a fault queue: as in 6.12, a nested HWPT (the mock's data),
 * mostly on a nest parent made for it just before, else on any HWPT, and
 * now and then on an IOAS, which refuses the flag (EOPNOTSUPP).
 */
static void op_hwpt_alloc_fault(struct ctx *c)
{
	struct iommu_hwpt_selftest *data = guarded(sizeof(*data));
	struct iommu_hwpt_alloc cmd = { .size = sizeof(cmd) };
	__u32 parent;

	cmd.dev_id = obj_pick(c, K_IDEV);
	cmd.flags = IOMMU_HWPT_FAULT_ID_VALID | flags(0);
	cmd.fault_id = obj_pick(c, below(8) ? K_FAULT : below(K_NKINDS));
	if (bad(10)) {
		cmd.pt_id = any_ioas(c);
	} else {
		parent = below(4) ? new_nest_parent(c, cmd.dev_id) : 0;
		cmd.pt_id = parent ? parent : obj_pick(c, K_HWPT);
		data->iotlb = IOMMU_TEST_IOTLB_DEFAULT;
		cmd.data_type = IOMMU_HWPT_DATA_SELFTEST;
		cmd.data_len = sizeof(*data);
		cmd.data_uptr = (__u64)(uintptr_t)data;
	}
	if (call(c, IOMMU_HWPT_ALLOC, "HWPT_ALLOC(fault)", &cmd, sizeof(cmd)))
		return;
	obj_add(c, K_HWPT, cmd.out_hwpt_id);
	obj_add(c, K_NESTED, cmd.out_hwpt_id);
	/* Mostly with a new device on it, whose faults then go there. */
	if (below(4)) {
		struct iommu_test_cmd t = {};

		if (test_call(c, IOMMU_TEST_OP_MOCK_DOMAIN, cmd.out_hwpt_id,
			      &t, "MOCK_DOMAIN"))
			return;
		obj_add(c, K_STDEV, t.mock_domain.out_stdev_id);
		obj_add(c, K_IDEV, t.mock_domain.out_idev_id);
		c->fault_idev = t.mock_domain.out_idev_id;
	}
}

static void op_trigger_iopf(struct ctx *c)
{
	struct iommu_test_cmd cmd = {
		.trigger_iopf = {
			.dev_id = c->fault_idev && below(4) ? c->fault_idev :
				  obj_pick(c, K_IDEV),
			.pasid = below(2) ? 0 : below(8),
			.grpid = below(4),
			.perm = flags(IOMMU_PGFAULT_PERM_READ |
				      IOMMU_PGFAULT_PERM_WRITE),
			.addr = iova(c, 0),
		},
	};
	bool partial = below(3) == 0;

	test_call(c, partial ? IOMMU_TEST_OP_TRIGGER_IOPF_PARTIAL :
		  IOMMU_TEST_OP_TRIGGER_IOPF, 0, &cmd,
		  partial ? "TRIGGER_IOPF_PARTIAL" : "TRIGGER_IOPF");
}

/* read() and write() on a fault file have errnos of their own. */
static void fq_check(const char *name, ssize_t rc, size_t unit,
		     bool garbage)
{
	if (rc >= 0) {
		if (rc % unit)
			fail("%s returned %zd, not whole records", name, rc);
		return;
	}
	if (errno != ESPIPE && errno != EINVAL && errno != EFAULT &&
	    errno != ENOMEM)
		fail("%s failed with unexpected errno %d (%s)", name, errno,
		     strerror(errno));
	if (errno == EFAULT && !garbage)
		fail("%s: EFAULT on valid memory", name);
}

static void op_fault_read(struct ctx *c)
{
	const size_t rec = sizeof(struct iommu_hwpt_pgfault);
	struct fault_file *f = pick_fq(c);
	size_t len = rec * below(5);
	struct iommu_hwpt_pgfault *buf;
	bool garbage = false;
	ssize_t rc;
	size_t i;

	if (f->fd < 0)
		return;
	if (bad(20)) {
		len = below(3 * rec);
		garbage = true;
	}
	/* Room for 4 records: more runs into the guard page. */
	buf = guarded(4 * rec);
	if (bad(20)) {
		len = rec * (5 + below(4));
		garbage = true;
	}
	if (F.print)
		printf("\trc = read(%d, (void *)0x%lxUL, %zu);\n", f->fd,
		       (unsigned long)(uintptr_t)buf, len);
	rc = read(f->fd, buf, len);
	fq_check("read(fault)", rc, rec, garbage);
	if (F.verbose)
		fprintf(stderr, "%lu read(fault, %zu) -> %zd\n", F.ops, len,
			rc);
	for (i = 0; rc > 0 && i < (size_t)rc / rec; i++)
		f->cookies[below(8)] = buf[i].cookie;
}

static void op_fault_write(struct ctx *c)
{
	struct fault_file *f = pick_fq(c);
	struct iommu_hwpt_page_response *resp;
	size_t n = 1 + below(3), len, i;
	bool garbage = false;
	ssize_t rc;

	if (f->fd < 0)
		return;
	resp = guarded(3 * sizeof(*resp));
	for (i = 0; i < n; i++) {
		resp[i].cookie = bad(10) ? rnd() : f->cookies[below(8)];
		resp[i].code = bad(10) ? rnd() : below(2);
	}
	len = n * sizeof(*resp);
	if (bad(20)) {
		len = below(2) ? below(len) : 4 * sizeof(*resp);
		garbage = true;
	}
	if (F.print)
		printf("\trc = write(%d, (void *)0x%lxUL, %zu);\n", f->fd,
		       (unsigned long)(uintptr_t)resp, len);
	rc = write(f->fd, resp, len);
	fq_check("write(fault)", rc, sizeof(*resp), garbage);
	if (F.verbose)
		fprintf(stderr, "%lu write(fault, %zu) -> %zd\n", F.ops, len,
			rc);
}

static void op_fault_close(struct ctx *c)
{
	struct fault_file *f = pick_fq(c);

	if (f->fd < 0)
		return;
	if (F.print)
		printf("\tclose(%d);\n", f->fd);
	close(f->fd);
	*f = (struct fault_file){ .fd = -1 };
}

static void op_iopf_responses(struct ctx *c)
{
	struct iommu_test_cmd cmd = {
		.iopf_responses = {
			.dev_id = obj_pick(c, K_IDEV),
			.n = bad(12) ? huge_u32() : below(MOCK_IOPF_LOG_MAX),
		},
	};

	/* Room for 4 answers; more runs into the guard page. */
	cmd.iopf_responses.uptr = (__u64)(uintptr_t)
		guarded(4 * sizeof(struct iommu_test_iopf_response));
	if (cmd.iopf_responses.n > 4)
		F.garbage = true;
	test_call(c, IOMMU_TEST_OP_IOPF_RESPONSES, 0, &cmd, "IOPF_RESPONSES");
}

static void op_fault(struct ctx *c)
{
	static void (*const ops[])(struct ctx *c) = {
		op_fault_alloc, op_hwpt_alloc_fault, op_hwpt_alloc_fault,
		op_trigger_iopf, op_trigger_iopf, op_trigger_iopf,
		op_fault_read, op_fault_read, op_fault_read, op_fault_write,
		op_fault_write, op_fault_close, op_iopf_responses,
	};

	ops[below(ARRAY_SIZE(ops))](c);
}

/* Close a context with whatever it holds, and open it again. */
static void op_reopen(struct ctx *c)
{
	int i = c - F.ctx;

	if (F.print)
		printf("\tclose(fd[%d]);\n\tfd[%d] = open(\"/dev/iommu\", O_RDWR);\n",
		       i, i);
	if (c->ring_ok)
		io_uring_queue_exit(&c->ring);
	close(c->fd);
	memset(c->objs, 0, sizeof(c->objs));
	memset(c->maps, 0, sizeof(c->maps));
	c->fault_idev = 0;
	c->fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	c->ring_ok = !io_uring_queue_init(8, &c->ring, IORING_SETUP_SQE128);
}

static void one_op(void)
{
	static void (*const ops[])(struct ctx *c) = {
		op_ioas_alloc, op_map, op_map, op_map, op_unmap, op_unmap,
		op_copy, op_iova_ranges, op_allow_iovas, op_option,
		op_window, op_window, op_destroy, op_mock_device,
		op_mock_device, op_replace, op_hwpt_alloc, op_hw_info,
		op_access, op_access, op_access, op_test_misc, op_test_check,
		op_vfio, op_vfio, op_fault, op_fault, op_nested_alloc,
		op_nested_alloc, op_invalidate, op_invalidate, op_check_iotlb,
	};
	struct ctx *c = &F.ctx[below(8) ? 0 : 1];

	F.garbage = false;
	F.bad_memory = false;
	if (below(500) == 0)
		op_reopen(c);
	else
		ops[below(ARRAY_SIZE(ops))](c);
}

/* ---------------------------------------------------------------------- */

static long vm_pin_kb(void)
{
	char line[256];
	long val = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmPin:", 6))
			val = strtol(line + 6, NULL, 10);
	fclose(f);
	return val;
}

/* @size bytes of zeroes at @addr, then a page nothing may touch. */
static void *guarded_region(unsigned long addr, size_t size)
{
	void *p = mmap((void *)addr, size + PAGE_SZ, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		       -1, 0);

	if (p == MAP_FAILED || mprotect(p, size, PROT_READ | PROT_WRITE))
		return NULL;
	return p;
}

static int setup_memory(void)
{
	int i;

	for (i = 0; i < NBUFS; i++) {
		F.bufs[i] = mmap((void *)(BUF_BASE + i * 2 * BUF_SZ), BUF_SZ,
				 PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS |
				 MAP_FIXED_NOREPLACE, -1, 0);
		if (F.bufs[i] == MAP_FAILED)
			return -1;
		madvise(F.bufs[i], BUF_SZ, MADV_NOHUGEPAGE);
		memset(F.bufs[i], i + 1, BUF_SZ);
	}
	F.ro_buf = mmap((void *)(BUF_BASE + NBUFS * 2 * BUF_SZ), BUF_SZ,
			PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
			MAP_FIXED_NOREPLACE, -1, 0);
	if (F.ro_buf == MAP_FAILED)
		return -1;
	F.arr = guarded_region(ARR_BASE, ARR_SZ);
	F.arg = guarded_region(ARG_BASE, ARG_SZ);
	return F.arr && F.arg ? 0 : -1;
}

/* After everything is closed, no buffer page may be pinned. */
static void check_unpinned(long vm_pin)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd), .op = IOMMU_TEST_OP_MD_CHECK_REFS,
	};
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC), i;

	for (i = 0; fd >= 0 && i < NBUFS; i++) {
		cmd.check_refs.uptr = (__u64)(uintptr_t)F.bufs[i];
		cmd.check_refs.length = BUF_SZ;
		cmd.check_refs.refs = 0;
		if (ioctl(fd, IOMMU_TEST_CMD, &cmd))
			fail("buffer %d still pinned after close (%s)", i,
			     strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	if (vm_pin_kb() != vm_pin)
		fail("VmPin %ld kB after close, %ld kB before", vm_pin_kb(),
		     vm_pin);
}

/* Every fault group of the run was answered once its fds are closed. */
static void check_faults_answered(void)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_IOPF_RESPONSES,
	};
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, IOMMU_TEST_CMD, &cmd))
		fail("cannot read the fault groups alive");
	else if (cmd.iopf_responses.out_live)
		fail("%llu fault groups or faults left unanswered",
		     (unsigned long long)cmd.iopf_responses.out_live);
	if (fd >= 0)
		close(fd);
}

static void print_prologue(void)
{
	int i;

	printf("/* Made by iommufd_fuzz -s %llu -p */\n",
	       (unsigned long long)F.seed);
	printf("#include <errno.h>\n#include <fcntl.h>\n#include <string.h>\n"
	       "#include <unistd.h>\n#include <sys/ioctl.h>\n"
	       "#include <sys/mman.h>\n\n");
	printf("/* Command structs start in zeroes that end at a guard page. */\n"
	       "static char *arg;\n\n"
	       "static int call(int fd, unsigned long req, const char *b, size_t n)\n{\n"
	       "\tint rc;\n\n\tmemcpy(arg, b, n);\n"
	       "\trc = ioctl(fd, req, arg) ? -errno : 0;\n"
	       "\tmemset(arg, 0, 0x%lx);\n\treturn rc;\n}\n\n", ARG_SZ);
	printf("static char *guarded(unsigned long addr, unsigned long size)\n{\n"
	       "\tchar *p = mmap((void *)addr, size + 0x%lx, PROT_NONE,\n"
	       "\t\t\tMAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);\n\n"
	       "\tmprotect(p, size, PROT_READ | PROT_WRITE);\n"
	       "\treturn p;\n}\n\n", PAGE_SZ);
	printf("/* Arm IOMMU_TEST_OP_FAIL_NTH (op 0x%x) for the next call. */\n"
	       "static void fail_nth(int fd, unsigned int nth)\n{\n"
	       "\tunsigned int cmd[20] = { 80, 0x%x, 0, 0, nth, 0x%x };\n\n"
	       "\tioctl(fd, 0x%lx, cmd);\n}\n\n",
	       IOMMU_TEST_OP_FAIL_NTH, IOMMU_TEST_OP_FAIL_NTH,
	       MOCK_FAULT_ALL, (unsigned long)IOMMU_TEST_CMD);
	printf("int main(void)\n{\n\tint fd[2], devnull, rc;\n\n");
	for (i = 0; i < NBUFS; i++)
		printf("\tmemset(mmap((void *)0x%lxUL, 0x%lx, %s, %s), %d, 0x%lx);\n",
		       BUF_BASE + i * 2 * BUF_SZ, BUF_SZ,
		       "PROT_READ | PROT_WRITE", MMAP_FLAGS, i + 1,
		       BUF_SZ);
	printf("\tmmap((void *)0x%lxUL, 0x%lx, PROT_READ, %s);\n",
	       BUF_BASE + NBUFS * 2 * BUF_SZ, BUF_SZ, MMAP_FLAGS);
	printf("\tguarded(0x%lxUL, 0x%lx);\n", ARR_BASE, ARR_SZ);
	printf("\targ = guarded(0x%lxUL, 0x%lx);\n", ARG_BASE, ARG_SZ);
	printf("\tfd[0] = open(\"/dev/iommu\", O_RDWR);\n"
	       "\tfd[1] = open(\"/dev/iommu\", O_RDWR);\n"
	       "\tdevnull = open(\"/dev/null\", O_RDWR);\n");
}

static void print_usage(void)
{
	fprintf(stderr, "usage: %s [-s SEED] [-n OPS] [-t SECONDS] [-p] [-v]\n",
		"iommufd_fuzz");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long max_ops = 0;
	struct timespec ts;
	bool seeded = false;
	time_t deadline = 0;
	long vm_pin;
	int opt, i, j;

	while ((opt = getopt(argc, argv, "s:n:t:pv")) != -1) {
		switch (opt) {
		case 's':
			F.seed = strtoull(optarg, NULL, 0);
			seeded = true;
			break;
		case 'n':
			max_ops = strtoul(optarg, NULL, 0);
			break;
		case 't':
			deadline = time(NULL) + strtol(optarg, NULL, 0);
			break;
		case 'p':
			F.print = true;
			break;
		case 'v':
			F.verbose = true;
			break;
		default:
			print_usage();
		}
	}
	if (!seeded) {
		clock_gettime(CLOCK_REALTIME, &ts);
		F.seed = ((__u64)ts.tv_sec << 20 ^ ts.tv_nsec) % 1000000000000ULL;
	}
	if (!max_ops && !deadline)
		max_ops = 10000;
	F.rng = F.seed;
	fprintf(F.print ? stderr : stdout, "iommufd_fuzz: seed %llu\n",
		(unsigned long long)F.seed);
	fflush(stdout);

	if (setup_memory()) {
		perror("iommufd_fuzz: buffers");
		return 2;
	}
	vm_pin = vm_pin_kb();
	F.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (i = 0; i < NCTX; i++) {
		struct ctx *c = &F.ctx[i];

		c->fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		if (c->fd < 0) {
			perror("iommufd_fuzz: /dev/iommu");
			return 2;
		}
		c->ring_ok = !io_uring_queue_init(8, &c->ring,
						  IORING_SETUP_SQE128);
		for (j = 0; j < MAX_ACC; j++)
			c->acc[j].fd = -1;
		for (j = 0; j < MAX_FQ; j++)
			c->fq[j].fd = -1;
	}
	if (F.print)
		print_prologue();

	for (F.ops = 0; !max_ops || F.ops < max_ops; F.ops++) {
		if (deadline && !(F.ops % 64) && time(NULL) >= deadline)
			break;
		one_op();
		if (F.failures && !F.print)
			break;
	}

	for (i = 0; i < NCTX; i++) {
		struct ctx *c = &F.ctx[i];

		for (j = 0; j < MAX_ACC; j++)
			if (c->acc[j].fd >= 0)
				close(c->acc[j].fd);
		for (j = 0; j < MAX_FQ; j++)
			if (c->fq[j].fd >= 0)
				close(c->fq[j].fd);
		if (c->ring_ok)
			io_uring_queue_exit(&c->ring);
		close(c->fd);
	}
	check_unpinned(vm_pin);
	check_faults_answered();
	if (F.print)
		printf("\treturn 0;\n}\n");
	/* With -p, stdout is the program: the verdict goes to stderr. */
	fprintf(F.print ? stderr : stdout,
		"iommufd_fuzz: seed %llu: %lu calls, %s\n",
		(unsigned long long)F.seed, F.ops,
		F.failures ? "FAILED" : "ok");
	return F.failures ? 1 : 0;
}
