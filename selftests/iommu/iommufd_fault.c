// SPDX-License-Identifier: GPL-2.0
/*
 * Fault queues (Documentation/fault-queues.rst): IOMMU_FAULT_QUEUE_ALLOC,
 * IOMMU_HWPT_ALLOC with IOMMU_HWPT_FAULT_ID_VALID (a nested HWPT on a
 * nest parent, as upstream 6.12: on an IOAS it is EOPNOTSUPP), the
 * queue's file (read, write, poll, close), and what attach, replace, detach and close do to
 * the faults waiting there. The mock devices report faults through
 * IOMMU_TEST_OP_TRIGGER_IOPF (and our _PARTIAL extension for groups of
 * several faults); IOMMU_TEST_OP_IOPF_RESPONSES shows the answers each
 * device received, and counts module-wide the groups not answered yet,
 * which every test's teardown checks is back to zero once its fds are
 * closed, with VmPin back where it started.
 */
#include <poll.h>
#include <stdint.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "iommufd_utils.h"

#define REC sizeof(struct iommu_hwpt_pgfault)
#define RESP sizeof(struct iommu_hwpt_page_response)
#define BUF_SZ (64 * 4096UL)
#define PERM_RW (IOMMU_PGFAULT_PERM_READ | IOMMU_PGFAULT_PERM_WRITE)
#define LAST IOMMU_PGFAULT_FLAGS_LAST_PAGE
#define PASID_VALID IOMMU_PGFAULT_FLAGS_PASID_VALID
#define SUCCESS IOMMUFD_PAGE_RESP_SUCCESS
#define INVALID IOMMUFD_PAGE_RESP_INVALID

/* poll() with a 0 timeout: the events the queue's file reports now. */
static short poll_now(int qfd)
{
	struct pollfd p = { .fd = qfd, .events = POLLIN | POLLOUT };

	if (poll(&p, 1, 0) < 0)
		return -1;
	return p.revents;
}

static ssize_t read_recs(int qfd, struct iommu_hwpt_pgfault *recs,
			 size_t n)
{
	ssize_t rc = read(qfd, recs, n * REC);

	return rc < 0 ? -errno : rc;
}

static ssize_t answer(int qfd, __u32 cookie, __u32 code)
{
	struct iommu_hwpt_page_response r = { .cookie = cookie, .code = code };
	ssize_t rc = write(qfd, &r, sizeof(r));

	return rc < 0 ? -errno : rc;
}

/* Fault groups and waiting faults of every device not answered yet. */
static long live_faults(void)
{
	__u64 live = ~0ULL;
	int fd = iommufd_open();

	if (fd < 0)
		return -1;
	if (tcmd_iopf_responses(fd, 0, NULL, NULL, &live, NULL, NULL))
		live = ~0ULL;
	close(fd);
	return (long)live;
}

FIXTURE(fault)
{
	int fd;
	__u32 ioas_id;
	__u32 stdev_id;		/* a mock device ... */
	__u32 idev_id;
	__u32 auto_hwpt_id;	/* ... first on the IOAS's automatic HWPT */
	__u32 fault_id;
	int qfd;
	__u32 parent_id;	/* a nest parent on the IOAS ... */
	__u32 hwpt_id;		/* ... its nested HWPT with the fault queue */
	void *buf;
	void *noaccess;		/* a page user copies fault on */
	long vm_pin0;
	struct iommu_hwpt_pgfault recs[16];
	struct iommu_test_iopf_response log[MOCK_IOPF_LOG_MAX];
};

FIXTURE_SETUP(fault)
{
	__u64 iova;
	__u32 now;

	self->vm_pin0 = proc_status_kb("VmPin");
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs the test build");
	ASSERT_EQ(0, live_faults());
	self->noaccess = mmap(NULL, 4096, PROT_NONE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->noaccess);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id,
				      &self->stdev_id, &self->auto_hwpt_id,
				      &self->idev_id));
	/* Something pinned, so that the leak checks have pins to see. */
	self->buf = mmap(NULL, BUF_SZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, 1, BUF_SZ);
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, self->buf, BUF_SZ,
			      &iova));
	ASSERT_EQ(0, fault_queue_alloc(self->fd, &self->fault_id,
				       &self->qfd));
	ASSERT_EQ(0, hwpt_alloc_flags(self->fd, self->idev_id, self->ioas_id,
				      IOMMU_HWPT_ALLOC_NEST_PARENT,
				      &self->parent_id));
	ASSERT_EQ(0, nested_alloc_fault(self->fd, self->idev_id,
					self->parent_id,
					IOMMU_HWPT_FAULT_ID_VALID,
					self->fault_id, &self->hwpt_id));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id,
					      self->hwpt_id, &now));
	ASSERT_EQ(self->hwpt_id, now);
}

FIXTURE_TEARDOWN(fault)
{
	if (self->qfd > 0)
		close(self->qfd);
	close(self->fd);
	/* Every fault answered, every pin and every object gone. */
	EXPECT_EQ(0, live_faults());
	EXPECT_EQ(self->vm_pin0, vm_pin_settled(self->vm_pin0));
	if (self->buf && self->buf != MAP_FAILED)
		munmap(self->buf, BUF_SZ);
	if (self->noaccess && self->noaccess != MAP_FAILED)
		munmap(self->noaccess, 4096);
}

#define fault_data_t FIXTURE_DATA(fault)

/* Take the answers device @idev received; returns how many. */
static __u32 take_log(fault_data_t *self, __u32 idev, __u32 *iopf_on)
{
	__u32 n = MOCK_IOPF_LOG_MAX;

	memset(self->log, 0xa5, sizeof(self->log));
	if (tcmd_iopf_responses(self->fd, idev, self->log, &n, NULL, iopf_on,
				NULL))
		return ~0U;
	return n;
}

/* The device's faults waiting in queues, module-wide (one test at a time). */
static long live_now(fault_data_t *self)
{
	__u64 live = ~0ULL;

	if (tcmd_iopf_responses(self->fd, 0, NULL, NULL, &live, NULL, NULL))
		return -1;
	return (long)live;
}

TEST_F(fault, alloc_errors)
{
	struct iommu_fault_alloc cmd = { .size = sizeof(cmd) };
	struct {
		struct iommu_fault_alloc a;
		__u64 tail;
	} big = {};
	__u32 id2;
	int qfd2;

	ASSERT_EQ(-EOPNOTSUPP, fault_queue_alloc_flags(self->fd, 1, NULL,
						       NULL));
	ASSERT_EQ(-EOPNOTSUPP, fault_queue_alloc_flags(self->fd, 1U << 31,
						       NULL, NULL));
	/* Below the minimum size (up to out_fault_fd). */
	cmd.size = offsetof(struct iommu_fault_alloc, out_fault_fd);
	ASSERT_EQ(-1, ioctl(self->fd, IOMMU_FAULT_QUEUE_ALLOC, &cmd));
	ASSERT_EQ(EINVAL, errno);
	/* A longer struct with a non-zero tail. */
	big.a.size = sizeof(big);
	big.tail = 1;
	ASSERT_EQ(-1, ioctl(self->fd, IOMMU_FAULT_QUEUE_ALLOC, &big));
	ASSERT_EQ(E2BIG, errno);
	big.tail = 0;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_FAULT_QUEUE_ALLOC, &big));
	ASSERT_LT(0, big.a.out_fault_fd);
	close(big.a.out_fault_fd);
	ASSERT_EQ(0, iommufd_destroy(self->fd, big.a.out_fault_id));
	/* A bad reply pointer: nothing is left, no fd, no object. */
	ASSERT_EQ(-1, ioctl(self->fd, IOMMU_FAULT_QUEUE_ALLOC, NULL));
	ASSERT_EQ(EFAULT, errno);

	ASSERT_EQ(0, fault_queue_alloc(self->fd, &id2, &qfd2));
	ASSERT_NE(self->fault_id, id2);
	/* The fd is close-on-exec, readable and writable. */
	ASSERT_EQ(FD_CLOEXEC, fcntl(qfd2, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(O_RDWR, fcntl(qfd2, F_GETFL) & O_ACCMODE);
	/* Busy while its file is open; then gone. */
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, id2));
	close(qfd2);
	ASSERT_EQ(0, iommufd_destroy(self->fd, id2));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, id2));
}

/*
 * Through io_uring (by pointer) the queue's fd lands in this process's
 * file table, as ioctl() puts it: close-on-exec, read-write, a queue that
 * answers poll(); its ID is the next free one. With bad flags, nothing.
 */
TEST_F(fault, alloc_through_uring)
{
	struct iommu_fault_alloc cmd = { .size = sizeof(cmd) };
	struct pollfd pfd = { .events = POLLIN | POLLOUT };
	__u32 probe, again;
	int expect_fd;

	ASSERT_EQ(0, ioas_alloc(self->fd, &probe));
	ASSERT_EQ(0, iommufd_destroy(self->fd, probe));
	cmd.flags = 1;
	ASSERT_EQ(-EOPNOTSUPP,
		  iommufd_uring_submit_one(self->fd, IOMMU_FAULT_QUEUE_ALLOC,
					   &cmd));
	ASSERT_EQ(0, cmd.out_fault_fd);
	ASSERT_EQ(0, cmd.out_fault_id);

	expect_fd = open("/dev/null", O_RDONLY);
	ASSERT_LE(0, expect_fd);
	close(expect_fd);
	cmd.flags = 0;
	ASSERT_EQ(0, iommufd_uring_submit_one(self->fd,
					      IOMMU_FAULT_QUEUE_ALLOC, &cmd));
	ASSERT_EQ(probe, cmd.out_fault_id);
	ASSERT_EQ(expect_fd, cmd.out_fault_fd);
	ASSERT_EQ(FD_CLOEXEC, fcntl(cmd.out_fault_fd, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(O_RDWR, fcntl(cmd.out_fault_fd, F_GETFL) & O_ACCMODE);
	pfd.fd = cmd.out_fault_fd;
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(POLLOUT, pfd.revents);
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, cmd.out_fault_id));
	close(cmd.out_fault_fd);
	ASSERT_EQ(0, iommufd_destroy(self->fd, cmd.out_fault_id));
	ASSERT_EQ(0, ioas_alloc(self->fd, &again));
	ASSERT_EQ(probe, again);
}

TEST_F(fault, hwpt_alloc_fault_id_errors)
{
	__u32 hwpt, hwpt2, dirty_parent, other_fault, other_fd_fault;
	int qfd, ofd, oqfd;

	/* Not a fault queue: ENOENT, after everything else is checked. */
	ASSERT_EQ(-ENOENT, nested_alloc_fault(self->fd, self->idev_id,
					      self->parent_id,
					      IOMMU_HWPT_FAULT_ID_VALID, 0,
					      &hwpt));
	ASSERT_EQ(-ENOENT, nested_alloc_fault(self->fd, self->idev_id,
					      self->parent_id,
					      IOMMU_HWPT_FAULT_ID_VALID,
					      self->ioas_id, &hwpt));
	ASSERT_EQ(-ENOENT, nested_alloc_fault(self->fd, self->idev_id,
					      self->parent_id,
					      IOMMU_HWPT_FAULT_ID_VALID,
					      self->hwpt_id, &hwpt));
	ASSERT_EQ(-ENOENT, nested_alloc_fault(self->fd, self->idev_id,
					      self->parent_id,
					      IOMMU_HWPT_FAULT_ID_VALID,
					      self->fault_id + 100, &hwpt));
	/* The device is checked before the fault queue. */
	ASSERT_EQ(-ENOENT, nested_alloc_fault(self->fd, self->fault_id,
					      self->parent_id,
					      IOMMU_HWPT_FAULT_ID_VALID,
					      self->fault_id, &hwpt));
	/* A nested HWPT is no parent, even one with a queue. */
	ASSERT_EQ(-EINVAL, nested_alloc_fault(self->fd, self->idev_id,
					      self->hwpt_id,
					      IOMMU_HWPT_FAULT_ID_VALID,
					      self->fault_id, &hwpt));
	/* A nested HWPT takes no other flag; nor does the parent. */
	ASSERT_EQ(-EOPNOTSUPP,
		  nested_alloc_fault(self->fd, self->idev_id, self->parent_id,
				     IOMMU_HWPT_FAULT_ID_VALID |
				     IOMMU_HWPT_ALLOC_NEST_PARENT,
				     self->fault_id, &hwpt));
	ASSERT_EQ(-EOPNOTSUPP,
		  nested_alloc_fault(self->fd, self->idev_id, self->parent_id,
				     IOMMU_HWPT_FAULT_ID_VALID |
				     IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				     self->fault_id, &hwpt));
	ASSERT_EQ(-EOPNOTSUPP,
		  nested_alloc_fault(self->fd, self->idev_id, self->parent_id,
				     IOMMU_HWPT_FAULT_ID_VALID | (1U << 3),
				     self->fault_id, &hwpt));
	ASSERT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_fault(self->fd, self->idev_id, self->ioas_id,
				   IOMMU_HWPT_FAULT_ID_VALID |
				   IOMMU_HWPT_ALLOC_NEST_PARENT,
				   self->fault_id, &hwpt));
	/* Without the flag, fault_id is not even read. */
	ASSERT_EQ(0, nested_alloc_fault(self->fd, self->idev_id,
					self->parent_id, 0, 0xdead, &hwpt));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt));

	/* A fault queue of another fd is no fault queue here. */
	ofd = iommufd_open();
	ASSERT_LE(0, ofd);
	ASSERT_EQ(0, fault_queue_alloc(ofd, &other_fd_fault, &oqfd));
	if (other_fd_fault != self->fault_id) {
		ASSERT_EQ(-ENOENT,
			  nested_alloc_fault(self->fd, self->idev_id,
					     self->parent_id,
					     IOMMU_HWPT_FAULT_ID_VALID,
					     other_fd_fault, &hwpt));
	}
	close(oqfd);
	close(ofd);

	/*
	 * On a dirty-tracking parent too; a queue serves several HWPTs, and
	 * holds out (EBUSY) while any of them lives, even with its file
	 * closed.
	 */
	ASSERT_EQ(0, fault_queue_alloc(self->fd, &other_fault, &qfd));
	ASSERT_EQ(0, hwpt_alloc_flags(self->fd, self->idev_id, self->ioas_id,
				      IOMMU_HWPT_ALLOC_NEST_PARENT |
				      IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				      &dirty_parent));
	ASSERT_EQ(0, nested_alloc_fault(self->fd, self->idev_id, dirty_parent,
					IOMMU_HWPT_FAULT_ID_VALID,
					other_fault, &hwpt));
	ASSERT_EQ(0, nested_alloc_fault(self->fd, self->idev_id,
					self->parent_id,
					IOMMU_HWPT_FAULT_ID_VALID,
					other_fault, &hwpt2));
	close(qfd);
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, other_fault));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, dirty_parent));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt));
	ASSERT_EQ(0, iommufd_destroy(self->fd, dirty_parent));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, other_fault));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt2));
	ASSERT_EQ(0, iommufd_destroy(self->fd, other_fault));
}

/*
 * Upstream 6.12: a paging HWPT takes no fault queue. FAULT_ID_VALID on an
 * IOAS is an unknown flag (EOPNOTSUPP), checked after the device and the
 * page table and before fault_id is looked up, and it creates nothing:
 * no HWPT, no ID used, no reference on the queue.
 */
TEST_F(fault, fault_id_on_ioas_is_eopnotsupp)
{
	__u32 probe, again, queue, hwpt = 0;
	int qfd;

	ASSERT_EQ(0, fault_queue_alloc(self->fd, &queue, &qfd));
	close(qfd);
	ASSERT_EQ(0, ioas_alloc(self->fd, &probe));
	ASSERT_EQ(0, iommufd_destroy(self->fd, probe));

	/* A good queue, a bad one, with the paging flags or without. */
	ASSERT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_fault(self->fd, self->idev_id, self->ioas_id,
				   IOMMU_HWPT_FAULT_ID_VALID, queue, &hwpt));
	ASSERT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_fault(self->fd, self->idev_id, self->ioas_id,
				   IOMMU_HWPT_FAULT_ID_VALID, self->fault_id,
				   &hwpt));
	ASSERT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_fault(self->fd, self->idev_id, self->ioas_id,
				   IOMMU_HWPT_FAULT_ID_VALID, 0xdead, &hwpt));
	ASSERT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_fault(self->fd, self->idev_id, self->ioas_id,
				   IOMMU_HWPT_FAULT_ID_VALID |
				   IOMMU_HWPT_ALLOC_DIRTY_TRACKING, queue,
				   &hwpt));
	ASSERT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_fault(self->fd, self->idev_id, self->ioas_id,
				   IOMMU_HWPT_FAULT_ID_VALID |
				   IOMMU_HWPT_ALLOC_NEST_PARENT, queue, &hwpt));
	ASSERT_EQ(0, hwpt);

	/* The device and the page table come first. */
	ASSERT_EQ(-ENOENT,
		  hwpt_alloc_fault(self->fd, 0xdead, self->ioas_id,
				   IOMMU_HWPT_FAULT_ID_VALID, queue, &hwpt));
	ASSERT_EQ(-ENOENT,
		  hwpt_alloc_fault(self->fd, self->ioas_id, self->ioas_id,
				   IOMMU_HWPT_FAULT_ID_VALID, queue, &hwpt));
	ASSERT_EQ(-EINVAL,
		  hwpt_alloc_fault(self->fd, self->idev_id, 0xdead,
				   IOMMU_HWPT_FAULT_ID_VALID, queue, &hwpt));
	ASSERT_EQ(-EINVAL,
		  hwpt_alloc_fault(self->fd, self->idev_id, queue,
				   IOMMU_HWPT_FAULT_ID_VALID, queue, &hwpt));

	/* Nothing made: the next ID is the probe's, the queue is free. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &again));
	ASSERT_EQ(probe, again);
	ASSERT_EQ(0, iommufd_destroy(self->fd, again));
	ASSERT_EQ(0, iommufd_destroy(self->fd, queue));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, queue));

	/* Without the flag the same IOAS still takes a paging HWPT. */
	ASSERT_EQ(0, hwpt_alloc_fault(self->fd, self->idev_id, self->ioas_id,
				      0, 0xdead, &hwpt));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt));
}

TEST_F(fault, destroy_order)
{
	__u32 now;

	/* The fault HWPT has a device, the queue an HWPT and a file. */
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->fault_id));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->hwpt_id));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id,
					      self->ioas_id, &now));
	close(self->qfd);
	self->qfd = -1;
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->fault_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->hwpt_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->fault_id));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, self->fault_id));
}

TEST_F(fault, trigger_errors)
{
	__u32 other_stdev, other_idev, n, on;

	/* Upstream's checks: a device (ENOENT), a mock one. */
	ASSERT_EQ(-ENOENT, tcmd_trigger_iopf(self->fd, 0, 0, 1, PERM_RW,
					     0x1000, false));
	ASSERT_EQ(-ENOENT, tcmd_trigger_iopf(self->fd, self->ioas_id, 0, 1,
					     PERM_RW, 0x1000, false));
	ASSERT_EQ(-ENOENT, tcmd_trigger_iopf(self->fd, self->stdev_id, 0, 1,
					     PERM_RW, 0x1000, false));
	ASSERT_EQ(-ENOENT, tcmd_trigger_iopf(self->fd, self->fault_id, 0, 1,
					     PERM_RW, 0x1000, false));
	ASSERT_EQ(-ENOENT, tcmd_iopf_responses(self->fd, self->hwpt_id, NULL,
					       NULL, NULL, NULL, NULL));
	ASSERT_EQ(0, poll_now(self->qfd) & POLLIN);

	/* A device on no fault HWPT is answered INVALID at once. */
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &other_stdev,
				      NULL, &other_idev));
	ASSERT_EQ(0, take_log(self, other_idev, &on));
	ASSERT_EQ(0, on);
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, other_idev, 7, 3, PERM_RW,
				       0x2000, false));
	/* A partial fault too: nothing waits for it. */
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, other_idev, 0, 4, PERM_RW,
				       0x3000, true));
	n = take_log(self, other_idev, &on);
	ASSERT_EQ(2, n);
	ASSERT_EQ(0, on);
	ASSERT_EQ(3, self->log[0].grpid);
	ASSERT_EQ(7, self->log[0].pasid);
	ASSERT_EQ(LAST | PASID_VALID, self->log[0].flags);
	ASSERT_EQ(INVALID, self->log[0].code);
	ASSERT_EQ(4, self->log[1].grpid);
	ASSERT_EQ(0, self->log[1].flags);
	ASSERT_EQ(INVALID, self->log[1].code);
	ASSERT_EQ(0, poll_now(self->qfd) & POLLIN);
	ASSERT_EQ(0, read_recs(self->qfd, self->recs, 16));
	ASSERT_EQ(0, live_now(self));
}

TEST_F(fault, read_answer_one)
{
	struct iommu_hwpt_pgfault *r = self->recs;
	__u32 n, on;

	ASSERT_EQ(POLLOUT, poll_now(self->qfd));
	ASSERT_EQ(0, read_recs(self->qfd, r, 16));
	n = take_log(self, self->idev_id, &on);
	ASSERT_EQ(0, n);
	ASSERT_EQ(1, on);

	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0x11, 0x22,
				       PERM_RW, 0xdeadb000, false));
	ASSERT_EQ(POLLIN | POLLOUT, poll_now(self->qfd));
	ASSERT_EQ(1, live_now(self));
	memset(r, 0xa5, sizeof(self->recs));
	ASSERT_EQ(REC, read_recs(self->qfd, r, 16));
	ASSERT_EQ(LAST | PASID_VALID, r[0].flags);
	ASSERT_EQ(self->idev_id, r[0].dev_id);
	ASSERT_EQ(0x11, r[0].pasid);
	ASSERT_EQ(0x22, r[0].grpid);
	ASSERT_EQ(PERM_RW, r[0].perm);
	ASSERT_EQ(0, r[0].__reserved);
	ASSERT_EQ(0xdeadb000, r[0].addr);
	ASSERT_EQ(0, r[0].length);
	ASSERT_NE(0, r[0].cookie);
	/* The rest of the buffer is untouched. */
	ASSERT_EQ(0xa5a5a5a5, r[1].flags);
	/* Read, not answered: not readable any more, still live. */
	ASSERT_EQ(POLLOUT, poll_now(self->qfd));
	ASSERT_EQ(0, read_recs(self->qfd, r + 1, 15));
	ASSERT_EQ(1, live_now(self));
	ASSERT_EQ(0, take_log(self, self->idev_id, NULL));

	ASSERT_EQ(RESP, answer(self->qfd, r[0].cookie, SUCCESS));
	ASSERT_EQ(1, take_log(self, self->idev_id, NULL));
	ASSERT_EQ(0x22, self->log[0].grpid);
	ASSERT_EQ(0x11, self->log[0].pasid);
	ASSERT_EQ(LAST | PASID_VALID, self->log[0].flags);
	ASSERT_EQ(SUCCESS, self->log[0].code);
	ASSERT_EQ(0, live_now(self));
	/* Answered once only. */
	ASSERT_EQ(-EINVAL, answer(self->qfd, r[0].cookie, SUCCESS));

	/* PASID 0 is no PASID; INVALID goes through as well. */
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 9,
				       IOMMU_PGFAULT_PERM_READ, 0x5000, false));
	ASSERT_EQ(REC, read_recs(self->qfd, r, 1));
	ASSERT_EQ(LAST, r[0].flags);
	ASSERT_EQ(IOMMU_PGFAULT_PERM_READ, r[0].perm);
	ASSERT_EQ(RESP, answer(self->qfd, r[0].cookie, INVALID));
	ASSERT_EQ(1, take_log(self, self->idev_id, NULL));
	ASSERT_EQ(INVALID, self->log[0].code);
	ASSERT_EQ(0, self->log[0].flags & PASID_VALID);
}

TEST_F(fault, read_sizes)
{
	struct iommu_hwpt_pgfault *r = self->recs;
	char small[REC - 1];

	/* Empty: any multiple of the record reads 0 at once. */
	ASSERT_EQ(0, read_recs(self->qfd, r, 0));
	ASSERT_EQ(-ESPIPE, read(self->qfd, small, sizeof(small)) ? -errno : 0);
	/* A group of three faults. */
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 5, PERM_RW,
				       0x1000, true));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 5, PERM_RW,
				       0x2000, true));
	/* Not complete yet: nothing to read. */
	ASSERT_EQ(0, poll_now(self->qfd) & POLLIN);
	ASSERT_EQ(0, read_recs(self->qfd, r, 16));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 5, PERM_RW,
				       0x3000, false));
	ASSERT_EQ(POLLIN | POLLOUT, poll_now(self->qfd));
	/* Sizes that are not a multiple of the record. */
	ASSERT_EQ(-1, read(self->qfd, small, 1));
	ASSERT_EQ(ESPIPE, errno);
	ASSERT_EQ(-1, read(self->qfd, small, sizeof(small)));
	ASSERT_EQ(ESPIPE, errno);
	ASSERT_EQ(-1, read(self->qfd, r, REC + 1));
	ASSERT_EQ(ESPIPE, errno);
	/* A position other than 0. */
	ASSERT_EQ(-1, pread(self->qfd, r, 3 * REC, REC));
	ASSERT_EQ(ESPIPE, errno);
	/* Too small for the whole group: EINVAL, and it stays queued. */
	ASSERT_EQ(-EINVAL, read_recs(self->qfd, r, 0));
	ASSERT_EQ(-EINVAL, read_recs(self->qfd, r, 1));
	ASSERT_EQ(-EINVAL, read_recs(self->qfd, r, 2));
	ASSERT_EQ(POLLIN | POLLOUT, poll_now(self->qfd));
	/* An unwritable buffer: EFAULT, and it stays queued. */
	ASSERT_EQ(-EFAULT, read_recs(self->qfd, self->noaccess, 3));
	ASSERT_EQ(POLLIN | POLLOUT, poll_now(self->qfd));
	ASSERT_EQ(3 * REC, read_recs(self->qfd, r, 3));
	ASSERT_EQ(0x1000, r[0].addr);
	ASSERT_EQ(0x2000, r[1].addr);
	ASSERT_EQ(0x3000, r[2].addr);
	ASSERT_EQ(0, r[0].flags);
	ASSERT_EQ(0, r[1].flags);
	ASSERT_EQ(LAST, r[2].flags);
	ASSERT_EQ(r[0].cookie, r[2].cookie);
	ASSERT_EQ(r[1].cookie, r[2].cookie);
	/* lseek does not move the position reads are made at. */
	lseek(self->qfd, 100, SEEK_SET);
	ASSERT_EQ(RESP, answer(self->qfd, r[2].cookie, SUCCESS));
	ASSERT_EQ(1, take_log(self, self->idev_id, NULL));
	ASSERT_EQ(5, self->log[0].grpid);
	ASSERT_EQ(LAST, self->log[0].flags);
}

/* Groups complete in the order of their last faults, and read whole. */
TEST_F(fault, groups)
{
	struct iommu_hwpt_pgfault *r = self->recs;
	struct iommu_hwpt_page_response resp[2];
	__u32 c5, c6;

	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 5, PERM_RW,
				       0xa000, true));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 6, PERM_RW,
				       0xb000, true));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 5, PERM_RW,
				       0xc000, true));
	ASSERT_EQ(3, live_now(self));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 6, PERM_RW,
				       0xd000, false));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 5, PERM_RW,
				       0xe000, false));
	/* Two groups of 2 and 3 faults now. */
	ASSERT_EQ(2, live_now(self));
	/* Room for 4 records: only the first group fits whole. */
	ASSERT_EQ(2 * REC, read_recs(self->qfd, r, 4));
	ASSERT_EQ(6, r[0].grpid);
	ASSERT_EQ(0xb000, r[0].addr);
	ASSERT_EQ(0, r[0].flags);
	ASSERT_EQ(0xd000, r[1].addr);
	ASSERT_EQ(LAST, r[1].flags);
	ASSERT_EQ(r[0].cookie, r[1].cookie);
	c6 = r[1].cookie;
	ASSERT_EQ(3 * REC, read_recs(self->qfd, r, 16));
	ASSERT_EQ(0xa000, r[0].addr);
	ASSERT_EQ(0xc000, r[1].addr);
	ASSERT_EQ(0xe000, r[2].addr);
	ASSERT_EQ(LAST, r[2].flags);
	c5 = r[2].cookie;
	ASSERT_NE(c5, c6);

	/* Two answers in one write, handled in order. */
	resp[0] = (struct iommu_hwpt_page_response){ c5, INVALID };
	resp[1] = (struct iommu_hwpt_page_response){ c6, SUCCESS };
	ASSERT_EQ(sizeof(resp), write(self->qfd, resp, sizeof(resp)));
	ASSERT_EQ(2, take_log(self, self->idev_id, NULL));
	ASSERT_EQ(5, self->log[0].grpid);
	ASSERT_EQ(INVALID, self->log[0].code);
	ASSERT_EQ(6, self->log[1].grpid);
	ASSERT_EQ(SUCCESS, self->log[1].code);
	ASSERT_EQ(0, live_now(self));
}

TEST_F(fault, bad_responses)
{
	struct iommu_hwpt_pgfault *r = self->recs;
	struct iommu_hwpt_page_response resp[3];
	__u32 c1, c2;

	/* Before anything was read, no cookie is known. */
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 1, PERM_RW,
				       0x1000, false));
	ASSERT_EQ(-EINVAL, answer(self->qfd, 1, SUCCESS));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 2, PERM_RW,
				       0x2000, false));
	ASSERT_EQ(2 * REC, read_recs(self->qfd, r, 16));
	c1 = r[0].cookie;
	c2 = r[1].cookie;
	ASSERT_NE(c1, c2);

	/* Sizes that are not a multiple of the response. */
	ASSERT_EQ(-1, write(self->qfd, resp, 1));
	ASSERT_EQ(ESPIPE, errno);
	ASSERT_EQ(-1, write(self->qfd, resp, RESP + 4));
	ASSERT_EQ(ESPIPE, errno);
	ASSERT_EQ(-1, pwrite(self->qfd, resp, RESP, RESP));
	ASSERT_EQ(ESPIPE, errno);
	ASSERT_EQ(0, write(self->qfd, resp, 0));
	/* Unknown cookies, codes userspace may not give, a bad buffer. */
	ASSERT_EQ(-EINVAL, answer(self->qfd, 0, SUCCESS));
	ASSERT_EQ(-EINVAL, answer(self->qfd, c2 + 100, SUCCESS));
	ASSERT_EQ(-EINVAL, answer(self->qfd, c1, 2));
	ASSERT_EQ(-EINVAL, answer(self->qfd, c1, 0xffffffff));
	ASSERT_EQ(-1, write(self->qfd, self->noaccess, RESP));
	ASSERT_EQ(EFAULT, errno);
	/* None of it answered anything. */
	ASSERT_EQ(0, take_log(self, self->idev_id, NULL));
	ASSERT_EQ(2, live_now(self));

	/* A write stops at the first bad answer, reporting what it did. */
	resp[0] = (struct iommu_hwpt_page_response){ c1, SUCCESS };
	resp[1] = (struct iommu_hwpt_page_response){ c2, 7 };
	resp[2] = (struct iommu_hwpt_page_response){ c2, SUCCESS };
	ASSERT_EQ(RESP, write(self->qfd, resp, sizeof(resp)));
	ASSERT_EQ(1, take_log(self, self->idev_id, NULL));
	ASSERT_EQ(1, self->log[0].grpid);
	/* Answering c1 again stops the write before c2: EINVAL. */
	resp[1].code = SUCCESS;
	ASSERT_EQ(-1, write(self->qfd, resp, 2 * RESP));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, take_log(self, self->idev_id, NULL));
	ASSERT_EQ(RESP, write(self->qfd, &resp[1], RESP));
	ASSERT_EQ(1, take_log(self, self->idev_id, NULL));
	ASSERT_EQ(2, self->log[0].grpid);
	ASSERT_EQ(0, live_now(self));
}

/* Many groups: read in chunks, answered in one write. */
TEST_F(fault, many_groups)
{
	struct iommu_hwpt_page_response resp[100];
	struct iommu_hwpt_pgfault r[7];
	unsigned int i, got = 0;
	__u32 lost;
	ssize_t n;

	for (i = 0; i != 100; i++)
		ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, i,
					       PERM_RW, 0x1000 * i, false));
	ASSERT_EQ(100, live_now(self));
	while ((n = read_recs(self->qfd, r, 7)) > 0) {
		for (i = 0; i != n / REC; i++) {
			ASSERT_EQ(got, r[i].grpid);
			resp[got].cookie = r[i].cookie;
			resp[got].code = SUCCESS;
			got++;
		}
	}
	ASSERT_EQ(0, n);
	ASSERT_EQ(100, got);
	ASSERT_EQ(sizeof(resp), write(self->qfd, resp, sizeof(resp)));
	ASSERT_EQ(0, live_now(self));
	/* The device keeps the first 64 answers and counts the rest. */
	ASSERT_EQ(0, tcmd_iopf_responses(self->fd, self->idev_id, NULL, NULL,
					 NULL, NULL, &lost));
	ASSERT_EQ(36, lost);
	ASSERT_EQ(64, take_log(self, self->idev_id, NULL));
	for (i = 0; i != 64; i++)
		ASSERT_EQ(i, self->log[i].grpid);
}

/*
 * Leaving the HWPT answers the device's groups, read or not, and turns
 * its IOPF off; a fault after that is answered at once.
 */
TEST_F(fault, detach_answers_pending)
{
	struct iommu_hwpt_pgfault *r = self->recs;
	__u32 now, on, i;

	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 1, PERM_RW,
				       0x1000, false));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 2, PERM_RW,
				       0x2000, false));
	ASSERT_EQ(REC, read_recs(self->qfd, r, 1));
	/* A partial fault is dropped unanswered, as the iopf core does. */
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 3, PERM_RW,
				       0x3000, true));
	ASSERT_EQ(3, live_now(self));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id,
					      self->ioas_id, &now));
	ASSERT_EQ(0, live_now(self));
	ASSERT_EQ(2, take_log(self, self->idev_id, &on));
	ASSERT_EQ(0, on);
	for (i = 0; i != 2; i++) {
		ASSERT_EQ(INVALID, self->log[i].code);
		ASSERT_EQ(LAST, self->log[i].flags);
	}
	ASSERT_EQ(3, self->log[0].grpid + self->log[1].grpid);
	ASSERT_EQ(0, poll_now(self->qfd) & POLLIN);
	ASSERT_EQ(0, read_recs(self->qfd, r + 1, 15));
	ASSERT_EQ(-EINVAL, answer(self->qfd, r[0].cookie, SUCCESS));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 4, PERM_RW,
				       0x4000, false));
	ASSERT_EQ(1, take_log(self, self->idev_id, NULL));
	ASSERT_EQ(INVALID, self->log[0].code);
	ASSERT_EQ(0, read_recs(self->qfd, r, 16));

	/* Back on the fault HWPT: the old partial fault is gone. */
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id,
					      self->hwpt_id, &now));
	ASSERT_EQ(0, take_log(self, self->idev_id, &on));
	ASSERT_EQ(1, on);
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 3, PERM_RW,
				       0x5000, false));
	ASSERT_EQ(REC, read_recs(self->qfd, r, 16));
	ASSERT_EQ(0x5000, r[0].addr);
	ASSERT_EQ(RESP, answer(self->qfd, r[0].cookie, SUCCESS));

	/* Destroying the device answers its groups too. */
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 8, PERM_RW,
				       0x8000, false));
	ASSERT_EQ(1, live_now(self));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->stdev_id));
	ASSERT_EQ(0, live_now(self));
	ASSERT_EQ(0, read_recs(self->qfd, r, 16));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->hwpt_id));
}

/*
 * From the nested fault HWPT to its own parent (same IOAS, same second
 * stage, no queue): the pending groups are answered, IOPF goes off, and
 * new faults are answered INVALID at once.
 */
TEST_F(fault, replace_to_parent_answers_pending)
{
	struct iommu_hwpt_pgfault *r = self->recs;
	__u32 now, on;

	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 1, PERM_RW,
				       0x1000, false));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 2, PERM_RW,
				       0x2000, false));
	ASSERT_EQ(REC, read_recs(self->qfd, r, 1));
	ASSERT_EQ(2, live_now(self));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id,
					      self->parent_id, &now));
	ASSERT_EQ(self->parent_id, now);
	ASSERT_EQ(0, live_now(self));
	ASSERT_EQ(2, take_log(self, self->idev_id, &on));
	ASSERT_EQ(0, on);
	ASSERT_EQ(INVALID, self->log[0].code);
	ASSERT_EQ(INVALID, self->log[1].code);
	ASSERT_EQ(-EINVAL, answer(self->qfd, r[0].cookie, SUCCESS));
	ASSERT_EQ(0, read_recs(self->qfd, r, 16));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 3, PERM_RW,
				       0x3000, false));
	ASSERT_EQ(1, take_log(self, self->idev_id, NULL));
	ASSERT_EQ(INVALID, self->log[0].code);
	ASSERT_EQ(0, poll_now(self->qfd) & POLLIN);
	/* The parent is busy while its nested HWPT lives. */
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->parent_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->hwpt_id));
	/* And back: a new nested HWPT on the same queue delivers again. */
	ASSERT_EQ(0, nested_alloc_fault(self->fd, self->idev_id,
					self->parent_id,
					IOMMU_HWPT_FAULT_ID_VALID,
					self->fault_id, &self->hwpt_id));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id,
					      self->hwpt_id, &now));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 4, PERM_RW,
				       0x4000, false));
	ASSERT_EQ(REC, read_recs(self->qfd, r, 16));
	ASSERT_EQ(0x4000, r[0].addr);
	ASSERT_EQ(self->idev_id, r[0].dev_id);
	ASSERT_EQ(RESP, answer(self->qfd, r[0].cookie, SUCCESS));
	ASSERT_EQ(1, take_log(self, self->idev_id, &on));
	ASSERT_EQ(1, on);
	ASSERT_EQ(SUCCESS, self->log[0].code);
}

/* Replace between two fault HWPTs: the old queue's groups are answered. */
TEST_F(fault, replace_between_queues)
{
	struct iommu_hwpt_pgfault *r = self->recs;
	__u32 fault2, hwpt2, now, on;
	int qfd2;

	ASSERT_EQ(0, fault_queue_alloc(self->fd, &fault2, &qfd2));
	ASSERT_EQ(0, nested_alloc_fault(self->fd, self->idev_id,
					self->parent_id,
					IOMMU_HWPT_FAULT_ID_VALID, fault2,
					&hwpt2));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 1, PERM_RW,
				       0x1000, false));
	/* Partial faults stay with the device: IOPF stays on. */
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 2, PERM_RW,
				       0x2000, true));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id, hwpt2,
					      &now));
	ASSERT_EQ(hwpt2, now);
	ASSERT_EQ(1, take_log(self, self->idev_id, &on));
	ASSERT_EQ(1, on);
	ASSERT_EQ(1, self->log[0].grpid);
	ASSERT_EQ(INVALID, self->log[0].code);
	ASSERT_EQ(0, read_recs(self->qfd, r, 16));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 2, PERM_RW,
				       0x3000, false));
	ASSERT_EQ(0, poll_now(self->qfd) & POLLIN);
	ASSERT_EQ(POLLIN | POLLOUT, poll_now(qfd2));
	ASSERT_EQ(2 * REC, read_recs(qfd2, r, 16));
	ASSERT_EQ(0x2000, r[0].addr);
	ASSERT_EQ(0x3000, r[1].addr);
	/* Replace to the same HWPT changes nothing. */
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id, hwpt2,
					      &now));
	ASSERT_EQ(0, take_log(self, self->idev_id, NULL));
	ASSERT_EQ(RESP, answer(qfd2, r[1].cookie, SUCCESS));
	ASSERT_EQ(1, take_log(self, self->idev_id, NULL));
	ASSERT_EQ(SUCCESS, self->log[0].code);
	/* The wrong queue knows no cookie of the other. */
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 9, PERM_RW,
				       0x9000, false));
	ASSERT_EQ(REC, read_recs(qfd2, r, 16));
	ASSERT_EQ(-EINVAL, answer(self->qfd, r[0].cookie, SUCCESS));
	ASSERT_EQ(1, live_now(self));
	close(qfd2);
	ASSERT_EQ(0, live_now(self));
}

/* Two devices on one HWPT: each leaves with its own groups only. */
TEST_F(fault, two_devices)
{
	struct iommu_hwpt_pgfault *r = self->recs;
	__u32 stdev2, idev2, now;

	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->hwpt_id, &stdev2, &now,
				      &idev2));
	ASSERT_EQ(self->hwpt_id, now);
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 1, PERM_RW,
				       0x1000, false));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, idev2, 0, 1, PERM_RW, 0x2000,
				       false));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, stdev2,
					      self->ioas_id, &now));
	ASSERT_EQ(1, take_log(self, idev2, NULL));
	ASSERT_EQ(INVALID, self->log[0].code);
	ASSERT_EQ(0, take_log(self, self->idev_id, NULL));
	ASSERT_EQ(REC, read_recs(self->qfd, r, 16));
	ASSERT_EQ(self->idev_id, r[0].dev_id);
	ASSERT_EQ(RESP, answer(self->qfd, r[0].cookie, SUCCESS));
	ASSERT_EQ(1, take_log(self, self->idev_id, NULL));
}

/*
 * Closing the queue's file answers every group, read or not, and every
 * later one at once; the queue stays busy while its HWPT lives.
 */
TEST_F(fault, close_queue_fd_answers_all)
{
	struct iommu_hwpt_pgfault *r = self->recs;
	__u32 i, now;

	for (i = 0; i != 3; i++)
		ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, i,
					       PERM_RW, 0x1000, false));
	ASSERT_EQ(REC, read_recs(self->qfd, r, 1));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 9, PERM_RW,
				       0x1000, true));
	ASSERT_EQ(4, live_now(self));
	close(self->qfd);
	self->qfd = -1;
	/* The partial fault still waits on the device. */
	ASSERT_EQ(1, live_now(self));
	ASSERT_EQ(3, take_log(self, self->idev_id, NULL));
	for (i = 0; i != 3; i++)
		ASSERT_EQ(INVALID, self->log[i].code);
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 9, PERM_RW,
				       0x2000, false));
	ASSERT_EQ(0, live_now(self));
	ASSERT_EQ(1, take_log(self, self->idev_id, NULL));
	ASSERT_EQ(9, self->log[0].grpid);
	ASSERT_EQ(INVALID, self->log[0].code);
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->fault_id));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, self->stdev_id,
					      self->ioas_id, &now));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->hwpt_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->fault_id));
}

/*
 * Closing the iommufd first: the queue's file keeps the context, so the
 * faults can still be read and answered; its close then ends it all.
 */
TEST_F(fault, close_iommufd_then_queue)
{
	struct iommu_hwpt_pgfault *r = self->recs;

	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 1, PERM_RW,
				       0x1000, false));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 2, PERM_RW,
				       0x2000, false));
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 3, PERM_RW,
				       0x3000, true));
	close(self->fd);
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(3, live_now(self));
	ASSERT_EQ(REC, read_recs(self->qfd, r, 1));
	ASSERT_EQ(RESP, answer(self->qfd, r[0].cookie, SUCCESS));
	ASSERT_EQ(2, live_now(self));
	/* The pins of the old context are still there. */
	ASSERT_NE(self->vm_pin0, proc_status_kb("VmPin"));
	close(self->qfd);
	self->qfd = -1;
	ASSERT_EQ(0, live_now(self));
	ASSERT_EQ(self->vm_pin0, vm_pin_settled(self->vm_pin0));
}

/* Closing both with everything pending leaves nothing behind. */
TEST_F(fault, close_all_pending)
{
	unsigned int i;

	for (i = 0; i != 20; i++)
		ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, i,
					       PERM_RW, 0x1000, i & 1));
	ASSERT_EQ(0, read_recs(self->qfd, self->recs, 1) > 0 ? 0 : -1);
	ASSERT_EQ(20, live_now(self));
	/* Teardown closes the queue's fd, then the iommufd, and checks. */
}

/* The same with the iommufd closed first and nothing read. */
TEST_F(fault, close_iommufd_first_pending)
{
	unsigned int i;

	for (i = 0; i != 20; i++)
		ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, i,
					       PERM_RW, 0x1000, false));
	close(self->fd);
	close(self->qfd);
	self->qfd = -1;
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
}

/*
 * A faulting device's nested HWPT translates through its parent, which
 * mirrors the IOAS like any paging HWPT.
 */
TEST_F(fault, hwpt_maps_as_usual)
{
	__u64 iova = MOCK_APERTURE_START + 0x10000000UL;

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    4096, iova));
	ASSERT_EQ(0, tcmd_check_map(self->fd, self->parent_id, iova,
				    self->buf, 4096));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, iova, 4096, NULL));
}

/* Too many faults waiting for their group's last: ENOSPC, dropped. */
TEST_F(fault, partial_limit)
{
	size_t len = 257 * REC;
	struct iommu_hwpt_pgfault *big;
	unsigned int i;

	for (i = 0; i != 256; i++)
		ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 1,
					       PERM_RW, 0x1000 * i, true));
	ASSERT_EQ(-ENOSPC, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 1,
					     PERM_RW, 0, true));
	ASSERT_EQ(256, live_now(self));
	/* The last one closes a group of 257 faults. */
	ASSERT_EQ(0, tcmd_trigger_iopf(self->fd, self->idev_id, 0, 1, PERM_RW,
				       0, false));
	ASSERT_EQ(1, live_now(self));
	big = malloc(len);
	ASSERT_NE(NULL, big);
	ASSERT_EQ(-EINVAL, read_recs(self->qfd, big, 256));
	ASSERT_EQ(len, read_recs(self->qfd, big, 257));
	ASSERT_EQ(LAST, big[256].flags);
	ASSERT_EQ(RESP, answer(self->qfd, big[0].cookie, SUCCESS));
	free(big);
}

TEST_HARNESS_MAIN
