// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency stress: threads on one context, and threads on several
 * contexts, map, unmap, copy, attach, detach and replace mock devices,
 * allocate HWPTs (nest parents and nested ones, invalidated), pin and
 * unpin through accesses, read and write through them, change options,
 * destroy objects and close whole contexts, at
 * random, for a bounded time. Races may refuse a call (EBUSY, ENOENT,
 * EEXIST, ...); any other error on valid arguments fails the test. After
 * every context is closed no page may stay pinned and VmPin must be back
 * where it started; the VM runner fails the run on any kernel warning.
 *
 * The last tests race one pair of operations each (pins against moving
 * the access, attaches against the last detach of an automatic HWPT)
 * and check that nothing is left behind.
 *
 * IOMMUFD_STRESS_SECONDS sets the total run time (default 16), split
 * between the tests; IOMMUFD_STRESS_SEED replays a seed, which each test
 * prints when it starts.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "iommufd_utils.h"

#define PAGE_SZ 4096UL
#define SLOT_SZ 0x10000UL
#define NSLOTS 32
#define IOVA_BASE 0x4000000UL
#define NBUFS 8
#define MAX_IDS 16
#define MAX_ACCESSES 4
#define MAX_CTXS 4
#define RW (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)
#define FIXED_RW (IOMMU_IOAS_MAP_FIXED_IOVA | RW)
#define PIN_ACCESS MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES

/*
 * The errors a call may fail with when racing others, as a list ending
 * in 0: an object destroyed meanwhile (ENOENT) or in use (EBUSY), and
 * what else each call names.
 */
#define ALLOW(...) ((const int[]){ ENOENT, EBUSY, ##__VA_ARGS__, 0 })

/*
 * One context and the IDs believed to live in it. The lists are hints:
 * other threads destroy objects at any time, and a stale ID must just
 * fail with ENOENT. The rwlock only keeps the fd number itself valid
 * while a call uses it: closing the context takes it for writing.
 */
struct stress_ctx {
	pthread_rwlock_t fd_lock;
	pthread_mutex_t lock;
	int fd;
	__u32 ioas[MAX_IDS];
	__u32 hwpt[MAX_IDS];
	__u32 stdev[MAX_IDS];
	__u32 idev[MAX_IDS];
	int access_fd[MAX_ACCESSES];
	__u32 access_ioas[MAX_ACCESSES];
};

struct stress_run {
	struct stress_ctx ctx[MAX_CTXS];
	int nctx;
	/*
	 * Map ranges that run into a hole after a buffer: whatever pins them
	 * (a map with a domain, an attach, an access) fails with EFAULT.
	 */
	bool holes;
	void *bufs[NBUFS];
	__u64 seed;
	time_t deadline;
	atomic_int failures;
	atomic_long ops;
	atomic_long ok;
	char first_failure[256];
	pthread_mutex_t report_lock;
};

struct stress_thread {
	struct stress_run *run;
	pthread_t thread;
	__u64 rng;
	int home;
	bool may_close;
};

static __u64 rnd(struct stress_thread *t)
{
	/* xorshift64* */
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545f4914f6cdd1dULL;
}

static __u32 rnd_below(struct stress_thread *t, __u32 n)
{
	return (rnd(t) >> 32) % n;
}

static void failure(struct stress_run *run, const char *op, int rc)
{
	pthread_mutex_lock(&run->report_lock);
	if (!atomic_fetch_add(&run->failures, 1))
		snprintf(run->first_failure, sizeof(run->first_failure),
			 "%s failed with %d (%s), seed %llu", op, rc,
			 strerror(-rc), (unsigned long long)run->seed);
	pthread_mutex_unlock(&run->report_lock);
}

/* Count the result; an error outside @allowed is a failure. */
static int judge(struct stress_thread *t, const char *op, int rc,
		 const int *allowed)
{
	atomic_fetch_add(&t->run->ops, 1);
	if (!rc) {
		atomic_fetch_add(&t->run->ok, 1);
		return 0;
	}
	while (*allowed && *allowed != -rc)
		allowed++;
	if (!*allowed && !(t->run->holes && rc == -EFAULT))
		failure(t->run, op, rc);
	return rc;
}

static __u32 pick(struct stress_thread *t, struct stress_ctx *c,
		  const __u32 *ids)
{
	__u32 id;

	pthread_mutex_lock(&c->lock);
	id = ids[rnd_below(t, MAX_IDS)];
	pthread_mutex_unlock(&c->lock);
	/* Sometimes an ID of another kind, or none at all. */
	if (!id || rnd_below(t, 16) == 0)
		id = rnd_below(t, 64);
	return id;
}

static void remember(struct stress_thread *t, struct stress_ctx *c,
		     __u32 *ids, __u32 id)
{
	pthread_mutex_lock(&c->lock);
	ids[rnd_below(t, MAX_IDS)] = id;
	pthread_mutex_unlock(&c->lock);
}

static __u64 slot_iova(struct stress_thread *t)
{
	return IOVA_BASE + rnd_below(t, NSLOTS) * SLOT_SZ;
}

static void *slot_buf(struct stress_thread *t)
{
	return (char *)t->run->bufs[rnd_below(t, NBUFS)] +
	       rnd_below(t, 3) * SLOT_SZ;
}

/* Take an access fd out of the table, to close or to use alone. */
static int access_take(struct stress_thread *t, struct stress_ctx *c)
{
	int i = rnd_below(t, MAX_ACCESSES), fd;

	pthread_mutex_lock(&c->lock);
	fd = c->access_fd[i];
	c->access_fd[i] = -1;
	pthread_mutex_unlock(&c->lock);
	return fd;
}

/* Put it back; if the slot was refilled meanwhile, close it. */
static void access_put(struct stress_ctx *c, int fd)
{
	int i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < MAX_ACCESSES && fd >= 0; i++) {
		if (c->access_fd[i] < 0) {
			c->access_fd[i] = fd;
			fd = -1;
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (fd >= 0)
		close(fd);
}

/* A mock nested HWPT on @parent (iommufd_nesting.c has the details). */
static int stress_nested_alloc(int fd, __u32 idev, __u32 parent, __u32 *id)
{
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.dev_id = idev,
		.pt_id = parent,
		.data_type = IOMMU_HWPT_DATA_SELFTEST,
		.data_len = sizeof(data),
		.data_uptr = (__u64)(uintptr_t)&data,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);
	if (!rc)
		*id = cmd.out_hwpt_id;
	return rc;
}

/* Invalidate IOTLB entry @iotlb_id of nested HWPT @id. */
static int stress_invalidate(int fd, __u32 id, __u32 iotlb_id)
{
	struct iommu_hwpt_invalidate_selftest inv = { .iotlb_id = iotlb_id };
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = id,
		.data_uptr = (__u64)(uintptr_t)&inv,
		.data_type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
		.entry_len = sizeof(inv),
		.entry_num = 1,
	};

	return iommufd_ioctl(fd, IOMMU_HWPT_INVALIDATE, &cmd);
}

/* One random operation on context @c, whose fd_lock is held for read. */
static void one_op(struct stress_thread *t, struct stress_ctx *c)
{
	__u32 id = 0, out = 0, item = 0, r;
	int fd = c->fd, afd = -1, rc;
	__u64 iova, len, val;

	switch (rnd_below(t, 22)) {
	case 0:
		rc = judge(t, "ioas_alloc", ioas_alloc(fd, &id), ALLOW());
		if (!rc)
			remember(t, c, c->ioas, id);
		break;
	case 1:
	case 2:
	case 3:
		judge(t, "map_fixed",
		      ioas_map_fixed(fd, pick(t, c, c->ioas), slot_buf(t),
				     SLOT_SZ, slot_iova(t)),
		      ALLOW(EEXIST));
		break;
	case 4:
		iova = 0;
		if (t->run->holes && rnd_below(t, 2))
			/* The last slot of a buffer and the hole after it. */
			judge(t, "map_into_hole",
			      ioas_map_fixed(fd, pick(t, c, c->ioas),
					     (char *)t->run->bufs[rnd_below(t, NBUFS)] +
					     3 * SLOT_SZ, 2 * SLOT_SZ,
					     slot_iova(t)),
			      ALLOW(EEXIST));
		else
			judge(t, "map_auto",
			      ioas_map(fd, pick(t, c, c->ioas), slot_buf(t),
				       SLOT_SZ * (1 + rnd_below(t, 2)),
				       &iova),
			      ALLOW(ENOSPC));
		break;
	case 5:
	case 6:
		/* Slots are only ever mapped whole, so no area is cut. */
		judge(t, "unmap",
		      ioas_unmap(fd, pick(t, c, c->ioas), slot_iova(t),
				 SLOT_SZ, NULL), ALLOW());
		break;
	case 7:
		if (rnd_below(t, 4))
			break;
		judge(t, "unmap_all",
		      ioas_unmap(fd, pick(t, c, c->ioas), 0, UINT64_MAX, NULL),
		      ALLOW());
		break;
	case 8:
		iova = slot_iova(t);
		judge(t, "copy",
		      ioas_copy(fd, pick(t, c, c->ioas), &iova,
				pick(t, c, c->ioas), slot_iova(t), SLOT_SZ,
				FIXED_RW), ALLOW(EEXIST));
		break;
	case 9:
		/*
		 * A reused ID may name another kind of object (EINVAL); an
		 * automatic IOVA may lie outside the mock aperture
		 * (EADDRINUSE).
		 */
		rc = judge(t, "mock_domain",
			   tcmd_mock_domain(fd, pick(t, c, c->ioas), &id, &out,
					    &item),
			   ALLOW(EINVAL, EADDRINUSE));
		if (!rc) {
			remember(t, c, c->stdev, id);
			remember(t, c, c->hwpt, out);
			remember(t, c, c->idev, item);
		}
		break;
	case 10:
		/* To an IOAS, or to a HWPT (EINVAL if that is not one). */
		if (rnd_below(t, 2))
			rc = judge(t, "replace_ioas",
				   tcmd_mock_domain_replace(fd,
							    pick(t, c, c->stdev),
							    pick(t, c, c->ioas),
							    &out),
				   ALLOW(EINVAL, EADDRINUSE));
		else
			rc = judge(t, "replace_hwpt",
				   tcmd_mock_domain_replace(fd,
							    pick(t, c, c->stdev),
							    pick(t, c, c->hwpt),
							    &out),
				   ALLOW(EINVAL, EADDRINUSE));
		if (!rc)
			remember(t, c, c->hwpt, out);
		break;
	case 11:
		/*
		 * Half of them nest parents. EOPNOTSUPP: a reused ID that
		 * names a HWPT (a nested HWPT without data).
		 */
		rc = judge(t, "hwpt_alloc",
			   hwpt_alloc_flags(fd, pick(t, c, c->idev),
					    pick(t, c, c->ioas),
					    rnd_below(t, 2) ?
					    IOMMU_HWPT_ALLOC_NEST_PARENT : 0,
					    &id),
			   ALLOW(EINVAL, EADDRINUSE, EOPNOTSUPP));
		if (!rc)
			remember(t, c, c->hwpt, id);
		break;
	case 12:
		/* Destroy anything: devices detach, IOASes and HWPTs go. */
		switch (rnd_below(t, 3)) {
		case 0:
			id = pick(t, c, c->stdev);
			break;
		case 1:
			id = pick(t, c, c->hwpt);
			break;
		default:
			id = pick(t, c, c->ioas);
		}
		judge(t, "destroy", iommufd_destroy(fd, id), ALLOW());
		break;
	case 13:
		id = pick(t, c, c->ioas);
		rc = judge(t, "access_create",
			   tcmd_access_create(fd, id, rnd_below(t, 4) ?
					      PIN_ACCESS : 0, &afd), ALLOW());
		if (!rc)
			access_put(c, afd);
		break;
	case 14:
	case 15:
		afd = access_take(t, c);
		if (afd < 0)
			break;
		len = SLOT_SZ >> rnd_below(t, 3);
		/*
		 * EOPNOTSUPP: an access made without PIN_ACCESS; EINVAL: an
		 * area in the middle of being unmapped, as upstream.
		 */
		rc = judge(t, "access_pin",
			   tcmd_access_pin(fd, afd, slot_iova(t), len, NULL,
					   rnd_below(t, 2) ?
					   MOCK_FLAGS_ACCESS_WRITE : 0, &item),
			   ALLOW(EOPNOTSUPP, EINVAL));
		if (!rc && rnd_below(t, 2))
			judge(t, "access_unpin",
			      tcmd_access_unpin(fd, afd, item), ALLOW());
		access_put(c, afd);
		break;
	case 16:
		afd = access_take(t, c);
		if (afd < 0)
			break;
		r = rnd_below(t, 4);
		judge(t, "access_rw",
		      tcmd_access_rw(fd, afd, slot_iova(t) + rnd_below(t, 4096),
				     slot_buf(t), 1 + rnd_below(t, 3 * 4096),
				     (r & 1 ? MOCK_ACCESS_RW_WRITE : 0) |
				     (r & 2 ? MOCK_ACCESS_RW_SLOW_PATH : 0)),
		      ALLOW(EINVAL));
		if (rnd_below(t, 2))
			judge(t, "access_replace",
			      tcmd_access_replace_ioas(fd, afd,
						       pick(t, c, c->ioas)),
			      ALLOW());
		if (rnd_below(t, 4))
			access_put(c, afd);
		else
			close(afd);
		break;
	case 17:
		/* HUGE_PAGES 0: EINVAL while a domain and mappings exist. */
		val = rnd_below(t, 2);
		judge(t, "option_huge_pages",
		      iommufd_option(fd, IOMMU_OPTION_HUGE_PAGES,
				     IOMMU_OPTION_OP_SET, pick(t, c, c->ioas),
				     &val), val ? ALLOW() : ALLOW(EINVAL));
		break;
	case 18:
		val = 0;
		judge(t, "option_rlimit_mode",
		      iommufd_option(fd, IOMMU_OPTION_RLIMIT_MODE,
				     IOMMU_OPTION_OP_SET, 0, &val), ALLOW());
		break;
	case 19:
		/*
		 * EINVAL: the HWPT is no nest parent, or no paging HWPT;
		 * EOPNOTSUPP: a reused ID that names an IOAS (data for a
		 * paging HWPT).
		 */
		rc = judge(t, "hwpt_alloc_nested",
			   stress_nested_alloc(fd, pick(t, c, c->idev),
					       pick(t, c, c->hwpt), &id),
			   ALLOW(EINVAL, EOPNOTSUPP));
		if (!rc)
			remember(t, c, c->hwpt, id);
		break;
	case 20:
		/* ENOENT also for a HWPT that is not nested. */
		judge(t, "hwpt_invalidate",
		      stress_invalidate(fd, pick(t, c, c->hwpt),
					rnd_below(t, MOCK_NESTED_DOMAIN_IOTLB_NUM)),
		      ALLOW());
		break;
	default: {
		struct iommu_iova_range r[4];
		__u32 n = 4;

		judge(t, "iova_ranges",
		      ioas_iova_ranges(fd, pick(t, c, c->ioas), r, &n, NULL),
		      ALLOW(EMSGSIZE));
	}
	}
}

/* Close context @c with everything in it, and start it afresh. */
static void reopen(struct stress_thread *t, struct stress_ctx *c)
{
	int afds[MAX_ACCESSES], i;

	pthread_rwlock_wrlock(&c->fd_lock);
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < MAX_ACCESSES; i++) {
		afds[i] = c->access_fd[i];
		c->access_fd[i] = -1;
	}
	memset(c->ioas, 0, sizeof(c->ioas));
	memset(c->hwpt, 0, sizeof(c->hwpt));
	memset(c->stdev, 0, sizeof(c->stdev));
	memset(c->idev, 0, sizeof(c->idev));
	pthread_mutex_unlock(&c->lock);
	/* Sometimes the accesses outlive their context for a moment. */
	if (rnd_below(t, 2))
		for (i = 0; i < MAX_ACCESSES; i++)
			if (afds[i] >= 0) {
				close(afds[i]);
				afds[i] = -1;
			}
	close(c->fd);
	for (i = 0; i < MAX_ACCESSES; i++)
		if (afds[i] >= 0)
			close(afds[i]);
	c->fd = iommufd_open();
	if (c->fd < 0)
		failure(t->run, "open", -errno);
	pthread_rwlock_unlock(&c->fd_lock);
}

static void *stress_thread_fn(void *arg)
{
	struct stress_thread *t = arg;
	struct stress_run *run = t->run;

	while (time(NULL) < run->deadline && !atomic_load(&run->failures)) {
		struct stress_ctx *c = &run->ctx[t->home];

		/* Mostly the home context, sometimes another one. */
		if (run->nctx > 1 && !rnd_below(t, 4))
			c = &run->ctx[rnd_below(t, run->nctx)];
		if (t->may_close && c == &run->ctx[t->home] &&
		    !rnd_below(t, 400)) {
			reopen(t, c);
			continue;
		}
		pthread_rwlock_rdlock(&c->fd_lock);
		if (c->fd >= 0)
			one_op(t, c);
		pthread_rwlock_unlock(&c->fd_lock);
	}
	return NULL;
}

static __u64 stress_seed(void)
{
	const char *s = getenv("IOMMUFD_STRESS_SEED");
	struct timespec ts;

	if (s && *s)
		return strtoull(s, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000007ULL ^ ts.tv_nsec ^ getpid();
}

/* Seconds for one of the @parts tests. */
static int stress_seconds(int parts)
{
	const char *s = getenv("IOMMUFD_STRESS_SECONDS");
	int total = s && *s ? atoi(s) : 16;

	return total / parts > 0 ? total / parts : 1;
}

static void buf_setup(struct __test_metadata *_metadata,
		      struct stress_run *run)
{
	int i;

	for (i = 0; i < NBUFS; i++) {
		/*
		 * Each buffer is followed by a slot nothing can pin. It is
		 * PROT_NONE rather than unmapped: a hole could be filled by
		 * whatever the process maps later (a thread's stack, an
		 * io_uring ring), and then a map "into the hole" succeeds.
		 */
		run->bufs[i] = mmap(NULL, 5 * SLOT_SZ, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, run->bufs[i]);
		ASSERT_EQ(0, mprotect((char *)run->bufs[i] + 4 * SLOT_SZ,
				      SLOT_SZ, PROT_NONE));
		madvise(run->bufs[i], 4 * SLOT_SZ, MADV_NOHUGEPAGE);
		memset(run->bufs[i], i + 1, 4 * SLOT_SZ);
	}
}

/*
 * Run @nthreads threads over @nctx contexts; thread i lives in context
 * i % nctx, and the first thread of each context may close it.
 */
static void stress(struct __test_metadata *_metadata, int nctx, int nthreads,
		   bool holes, int seconds)
{
	struct stress_thread threads[16];
	pthread_rwlockattr_t attr;
	struct stress_run *run;
	long vm_pin;
	int fd, i, j;

	run = calloc(1, sizeof(*run));
	ASSERT_NE(NULL, run);
	fd = iommufd_open();
	ASSERT_LE(0, fd);
	if (!iommufd_is_test_build(fd))
		SKIP(return, "not a test build of the module");
	close(fd);

	/* reopen() must not starve behind a stream of readers. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	run->seed = stress_seed();
	run->nctx = nctx;
	run->holes = holes;
	pthread_mutex_init(&run->report_lock, NULL);
	TH_LOG("seed %llu (IOMMUFD_STRESS_SEED replays), %d contexts, %d threads, %d s",
	       (unsigned long long)run->seed, nctx, nthreads, seconds);
	buf_setup(_metadata, run);
	vm_pin = proc_status_kb("VmPin");

	for (i = 0; i < nctx; i++) {
		struct stress_ctx *c = &run->ctx[i];
		__u32 id;

		pthread_rwlock_init(&c->fd_lock, &attr);
		pthread_mutex_init(&c->lock, NULL);
		c->fd = iommufd_open();
		ASSERT_LE(0, c->fd);
		for (j = 0; j < MAX_ACCESSES; j++)
			c->access_fd[j] = -1;
		/* A couple of IOASes with a device each to start from. */
		for (j = 0; j < 2; j++) {
			ASSERT_EQ(0, ioas_alloc(c->fd, &c->ioas[j]));
			ASSERT_EQ(0, tcmd_mock_domain(c->fd, c->ioas[j],
						      &c->stdev[j],
						      &c->hwpt[j],
						      &c->idev[j]));
		}
		ASSERT_EQ(0, ioas_alloc(c->fd, &id));
		c->ioas[2] = id;
	}

	run->deadline = time(NULL) + seconds;
	for (i = 0; i < nthreads; i++) {
		threads[i] = (struct stress_thread){
			.run = run,
			.rng = run->seed * 2654435761ULL + i + 1,
			.home = i % nctx,
			.may_close = i < nctx && nctx > 1,
		};
		ASSERT_EQ(0, pthread_create(&threads[i].thread, NULL,
					    stress_thread_fn, &threads[i]));
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i].thread, NULL);

	TH_LOG("%ld calls, %ld succeeded", atomic_load(&run->ops),
	       atomic_load(&run->ok));
	if (atomic_load(&run->failures))
		TH_LOG("%d unexpected errors; first: %s",
		       atomic_load(&run->failures), run->first_failure);
	EXPECT_EQ(0, atomic_load(&run->failures));

	/* Close everything; then nothing may stay pinned. */
	for (i = 0; i < nctx; i++) {
		struct stress_ctx *c = &run->ctx[i];

		for (j = 0; j < MAX_ACCESSES; j++)
			if (c->access_fd[j] >= 0)
				close(c->access_fd[j]);
		close(c->fd);
	}
	fd = iommufd_open();
	ASSERT_LE(0, fd);
	for (i = 0; i < NBUFS; i++)
		EXPECT_EQ(0, tcmd_check_refs(fd, run->bufs[i], 4 * SLOT_SZ, 0));
	close(fd);
	EXPECT_EQ(vm_pin, proc_status_kb("VmPin"));
	for (i = 0; i < NBUFS; i++)
		munmap(run->bufs[i], 5 * SLOT_SZ);
	free(run);
}

TEST(threads_on_one_context)
{
	stress(_metadata, 1, 8, false, stress_seconds(3));
}

TEST(threads_on_several_contexts_with_close)
{
	stress(_metadata, MAX_CTXS, 12, false, stress_seconds(3));
}

/* EFAULT is expected here, from every call that pins such a mapping. */
TEST(threads_mapping_memory_with_holes)
{
	stress(_metadata, 2, 8, true, stress_seconds(3));
}

/*
 * Focused races: a few threads hammer one pair of operations on shared
 * objects, then the test checks that nothing was left behind. Each runs
 * for a fixed share of IOMMUFD_STRESS_SECONDS.
 */
#define RACE_THREADS 4
#define RACE_PAGES 16
#define RACE_ITEMS 32

struct race {
	int fd;
	int access_fd;
	__u32 ioas[2];
	void *buf;
	time_t deadline;
	__u64 seed;
	atomic_int failures;
	atomic_long ok[2];
	char first_failure[256];
	pthread_mutex_t report_lock;
	/*
	 * auto_domain_last_detach_races_attach: its rounds, and the last
	 * round whose move thread 1 is starting
	 */
	pthread_barrier_t round;
	atomic_int arriving;
	bool stop;
	__u32 stdev;
};

struct race_thread {
	struct race *race;
	pthread_t thread;
	__u64 rng;
	int index;
};

static __u32 race_rnd(struct race_thread *t, __u32 n)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return ((t->rng * 0x2545f4914f6cdd1dULL) >> 32) % n;
}

/* An error other than the allowed ones is a failure, reported once. */
static bool race_judge(struct race *race, const char *op, int rc,
		       const int *allowed)
{
	if (!rc)
		return true;
	while (*allowed && *allowed != -rc)
		allowed++;
	if (*allowed)
		return false;
	pthread_mutex_lock(&race->report_lock);
	if (!atomic_fetch_add(&race->failures, 1))
		snprintf(race->first_failure, sizeof(race->first_failure),
			 "%s failed with %d (%s), seed %llu", op, rc,
			 strerror(-rc), (unsigned long long)race->seed);
	pthread_mutex_unlock(&race->report_lock);
	return false;
}

static void race_init(struct race *race, int seconds)
{
	memset(race, 0, sizeof(*race));
	race->seed = stress_seed();
	race->deadline = time(NULL) + seconds;
	race->access_fd = -1;
	pthread_mutex_init(&race->report_lock, NULL);
}

/*
 * Start a race test: a context on a test build (false, the test skipped,
 * otherwise), and RACE_PAGES of written small pages in @race->buf. The
 * pages are touched before *@vm_pin is read, so only pins move it later.
 */
static bool race_setup(struct __test_metadata *_metadata, struct race *race,
		       int seconds, long *vm_pin)
{
	race_init(race, seconds);
	race->fd = iommufd_open();
	ASSERT_LE(0, race->fd);
	if (!iommufd_is_test_build(race->fd))
		SKIP(return false, "not a test build of the module");
	race->buf = mmap(NULL, RACE_PAGES * PAGE_SZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, race->buf);
	madvise(race->buf, RACE_PAGES * PAGE_SZ, MADV_NOHUGEPAGE);
	memset(race->buf, 1, RACE_PAGES * PAGE_SZ);
	*vm_pin = proc_status_kb("VmPin");
	return true;
}

static void race_run(struct __test_metadata *_metadata, struct race *race,
		     void *(*fn)(void *), int nthreads)
{
	struct race_thread threads[RACE_THREADS];
	int i;

	for (i = 0; i < nthreads; i++) {
		threads[i] = (struct race_thread){
			.race = race,
			.rng = race->seed * 2654435761ULL + i + 1,
			.index = i,
		};
		ASSERT_EQ(0, pthread_create(&threads[i].thread, NULL, fn,
					    &threads[i]));
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i].thread, NULL);
	TH_LOG("seed %llu: %ld and %ld calls succeeded",
	       (unsigned long long)race->seed, atomic_load(&race->ok[0]),
	       atomic_load(&race->ok[1]));
	if (atomic_load(&race->failures))
		TH_LOG("%d unexpected errors; first: %s",
		       atomic_load(&race->failures), race->first_failure);
	EXPECT_EQ(0, atomic_load(&race->failures));
}

/*
 * Pin pages through the shared access, sometimes give an item back, and
 * move the access between the two IOASes. A pin may fail with EBUSY while
 * a replace runs; an unpin with ENOENT when a replace dropped the item.
 */
static void *pin_replace_fn(void *arg)
{
	struct race_thread *t = arg;
	struct race *race = t->race;
	__u32 items[RACE_ITEMS] = {}, item = 0, ioas;
	__u64 first, npages;

	while (time(NULL) < race->deadline && !atomic_load(&race->failures)) {
		if (!race_rnd(t, 3)) {
			ioas = race->ioas[race_rnd(t, 2)];
			if (race_judge(race, "access_replace",
				       tcmd_access_replace_ioas(race->fd,
								race->access_fd,
								ioas),
				       ALLOW()))
				atomic_fetch_add(&race->ok[1], 1);
			continue;
		}
		first = race_rnd(t, RACE_PAGES);
		npages = 1 + race_rnd(t, RACE_PAGES - first);
		if (race_judge(race, "access_pin",
			       tcmd_access_pin(race->fd, race->access_fd,
					       IOVA_BASE + first * PAGE_SZ,
					       npages * PAGE_SZ, NULL,
					       MOCK_FLAGS_ACCESS_WRITE, &item),
			       ALLOW())) {
			atomic_fetch_add(&race->ok[0], 1);
			items[race_rnd(t, RACE_ITEMS)] = item;
		}
		item = items[race_rnd(t, RACE_ITEMS)];
		if (item && race_rnd(t, 2))
			race_judge(race, "access_unpin",
				   tcmd_access_unpin(race->fd, race->access_fd,
						     item), ALLOW());
	}
	return NULL;
}

/*
 * Moving an access while it pins: every pin must be on the IOAS the
 * access uses, and be given back from there. Afterwards both IOASes
 * unmap and go, and no page or RLIMIT charge is left.
 */
TEST(access_pin_races_replace_ioas)
{
	long vm_pin, vm_lck;
	struct race race;
	__u64 mode = 1;
	int i;

	if (!race_setup(_metadata, &race, stress_seconds(8), &vm_pin))
		return;
	/* Charge the mm, so VmLck shows the RLIMIT_MEMLOCK charge. */
	ASSERT_EQ(0, iommufd_option(race.fd, IOMMU_OPTION_RLIMIT_MODE,
				    IOMMU_OPTION_OP_SET, 0, &mode));
	vm_lck = proc_status_kb("VmLck");

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, ioas_alloc(race.fd, &race.ioas[i]));
		ASSERT_EQ(0, ioas_map_fixed(race.fd, race.ioas[i], race.buf,
					    RACE_PAGES * PAGE_SZ, IOVA_BASE));
	}
	ASSERT_EQ(0, tcmd_access_create(race.fd, race.ioas[0], PIN_ACCESS,
					&race.access_fd));
	race_run(_metadata, &race, pin_replace_fn, RACE_THREADS);

	/* Pins left on the IOAS the access uses are given back on unmap. */
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, ioas_unmap(race.fd, race.ioas[i], 0, UINT64_MAX,
					NULL));
	close(race.access_fd);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, iommufd_destroy(race.fd, race.ioas[i]));
	EXPECT_EQ(0, tcmd_check_refs(race.fd, race.buf, RACE_PAGES * PAGE_SZ,
				     0));
	close(race.fd);
	EXPECT_EQ(vm_pin, proc_status_kb("VmPin"));
	EXPECT_EQ(vm_lck, proc_status_kb("VmLck"));
	munmap(race.buf, RACE_PAGES * PAGE_SZ);
}

/*
 * Attach a mock device straight to the shared IOAS and take it away
 * again. Even threads use plain devices, odd ones huge-IOVA devices, which
 * cannot share a domain, so each attach also tries, and fails on, the
 * other kind's automatic HWPT.
 */
static void *attach_detach_fn(void *arg)
{
	struct race_thread *t = arg;
	struct race *race = t->race;
	__u32 flags = t->index % 2 ? MOCK_FLAGS_DEVICE_HUGE_IOVA : 0;
	__u32 stdev = 0;

	while (time(NULL) < race->deadline && !atomic_load(&race->failures)) {
		if (!race_judge(race, "mock_domain",
				tcmd_mock_domain_flags(race->fd, race->ioas[0],
						       flags, &stdev, NULL,
						       NULL), ALLOW()))
			continue;
		atomic_fetch_add(&race->ok[0], 1);
		if (race_judge(race, "destroy_device",
			       iommufd_destroy(race->fd, stdev), ALLOW()))
			atomic_fetch_add(&race->ok[1], 1);
	}
	return NULL;
}

/* Automatic HWPTs go with their last device, under any mix of attaches. */
TEST(auto_domain_attach_detach_threads)
{
	long vm_pin;
	struct race race;

	if (!race_setup(_metadata, &race, stress_seconds(8), &vm_pin))
		return;

	ASSERT_EQ(0, ioas_alloc(race.fd, &race.ioas[0]));
	ASSERT_EQ(0, ioas_map_fixed(race.fd, race.ioas[0], race.buf,
				    RACE_PAGES * PAGE_SZ, IOVA_BASE));
	race_run(_metadata, &race, attach_detach_fn, RACE_THREADS);

	/* A HWPT left without devices would still hold the IOAS. */
	EXPECT_EQ(0, iommufd_destroy(race.fd, race.ioas[0]));
	EXPECT_EQ(0, tcmd_check_refs(race.fd, race.buf, RACE_PAGES * PAGE_SZ,
				     0));
	close(race.fd);
	EXPECT_EQ(vm_pin, proc_status_kb("VmPin"));
	munmap(race.buf, RACE_PAGES * PAGE_SZ);
}

/* Reserved regions make a huge-IOVA device's try of a domain slow. */
#define RACE_RESV 1024
#define RACE_RESV_BASE 0x10000000UL

static const int must_succeed[] = { 0 };

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Spin for a random moment of up to 2 ms. */
static void race_delay(struct race_thread *t)
{
	__u64 until = now_ns() + race_rnd(t, 2000000);

	while (now_ns() < until)
		;
}

/* Thread 0: a fresh IOAS for the round, with a plain device on it. */
static bool last_detach_setup(struct race *race, __u32 *stdev)
{
	return race_judge(race, "ioas_alloc",
			  ioas_alloc(race->fd, &race->ioas[0]), must_succeed) &&
	       race_judge(race, "map",
			  ioas_map_fixed(race->fd, race->ioas[0], race->buf,
					 RACE_PAGES * PAGE_SZ, IOVA_BASE),
			  must_succeed) &&
	       race_judge(race, "mock_domain",
			  tcmd_mock_domain(race->fd, race->ioas[0], stdev,
					   NULL, NULL), must_succeed);
}

/* Thread 1: the huge-IOVA device onto the round's IOAS and back. */
static void last_detach_move(struct race *race)
{
	race_judge(race, "replace_in",
		   tcmd_mock_domain_replace(race->fd, race->stdev,
					    race->ioas[0], NULL),
		   must_succeed);
	race_judge(race, "replace_out",
		   tcmd_mock_domain_replace(race->fd, race->stdev,
					    race->ioas[1], NULL),
		   must_succeed);
}

/*
 * Rounds on a fresh IOAS holding a plain device, and so its automatic
 * HWPT. Thread 1 moves a huge-IOVA device with many reserved regions onto
 * the IOAS and back: its attach tries the plain HWPT first and fails on
 * it, slowly. Meanwhile thread 0 destroys the plain device, at a moment
 * that sweeps across that try from round to round. After each round no
 * HWPT may hold the IOAS.
 */
static void *last_detach_fn(void *arg)
{
	struct race_thread *t = arg;
	struct race *race = t->race;
	__u32 stdev = 0;
	int round;

	for (round = 1;; round++) {
		if (!t->index)
			race->stop = time(NULL) >= race->deadline ||
				     atomic_load(&race->failures) ||
				     !last_detach_setup(race, &stdev);
		pthread_barrier_wait(&race->round);
		if (race->stop)
			break;
		if (!t->index) {
			while (atomic_load(&race->arriving) < round)
				;
			race_delay(t);
			if (race_judge(race, "destroy_device",
				       iommufd_destroy(race->fd, stdev),
				       must_succeed))
				atomic_fetch_add(&race->ok[0], 1);
		} else {
			atomic_store(&race->arriving, round);
			last_detach_move(race);
		}
		pthread_barrier_wait(&race->round);
		/* Both devices are gone from it: so must every HWPT be. */
		if (!t->index &&
		    race_judge(race, "ioas_destroy",
			       iommufd_destroy(race->fd, race->ioas[0]),
			       must_succeed))
			atomic_fetch_add(&race->ok[1], 1);
	}
	return NULL;
}

/*
 * The last device of an automatic HWPT leaves while another device's
 * attach is trying that HWPT: the HWPT must still go with its last
 * device, and the other device must not end up on it.
 */
TEST(auto_domain_last_detach_races_attach)
{
	long vm_pin;
	struct race race;
	int i;

	if (!race_setup(_metadata, &race, stress_seconds(4), &vm_pin))
		return;
	pthread_barrier_init(&race.round, NULL, 2);

	/* The huge-IOVA device lives on IOAS 1 between rounds. */
	ASSERT_EQ(0, ioas_alloc(race.fd, &race.ioas[1]));
	ASSERT_EQ(0, ioas_map_fixed(race.fd, race.ioas[1], race.buf,
				    RACE_PAGES * PAGE_SZ, IOVA_BASE));
	ASSERT_EQ(0, tcmd_mock_domain_flags(race.fd, race.ioas[1],
					    MOCK_FLAGS_DEVICE_HUGE_IOVA,
					    &race.stdev, NULL, NULL));
	for (i = 0; i < RACE_RESV; i++)
		ASSERT_EQ(0, tcmd_mock_device_add_resv(race.fd, race.stdev,
						       RACE_RESV_BASE +
						       i * 2 * PAGE_SZ,
						       PAGE_SZ));
	race_run(_metadata, &race, last_detach_fn, 2);

	EXPECT_EQ(0, iommufd_destroy(race.fd, race.stdev));
	EXPECT_EQ(0, iommufd_destroy(race.fd, race.ioas[1]));
	EXPECT_EQ(0, tcmd_check_refs(race.fd, race.buf, RACE_PAGES * PAGE_SZ,
				     0));
	close(race.fd);
	EXPECT_EQ(vm_pin, proc_status_kb("VmPin"));
	pthread_barrier_destroy(&race.round);
	munmap(race.buf, RACE_PAGES * PAGE_SZ);
}

TEST_HARNESS_MAIN
