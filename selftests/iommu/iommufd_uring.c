// SPDX-License-Identifier: GPL-2.0
/*
 * The io_uring entry: IORING_OP_URING_CMD on the /dev/iommu fd runs the
 * same commands as ioctl(), with the same validation and errors, and
 * reports the ioctl's return value in the CQE.
 */
#include <liburing.h>
#include <pthread.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "iommufd_hold.h"
#include "iommufd_utils.h"

#define URING_BUF_SIZE 0x100000UL
#define URING_IOVA 0x40000000UL

FIXTURE(uring)
{
	struct io_uring ring;
	struct io_uring ring128;
	int fd;
	__u32 ioas_id;
	void *buf;
};

FIXTURE_SETUP(uring)
{
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	ASSERT_EQ(0, io_uring_queue_init(256, &self->ring, 0));
	ASSERT_EQ(0, io_uring_queue_init(16, &self->ring128,
					 IORING_SETUP_SQE128));
	self->buf = mmap(NULL, URING_BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, 1, URING_BUF_SIZE);
}

FIXTURE_TEARDOWN(uring)
{
	io_uring_queue_exit(&self->ring);
	io_uring_queue_exit(&self->ring128);
	munmap(self->buf, URING_BUF_SIZE);
	close(self->fd);
}

/* Queue one command; @arg is the ioctl struct, or inline with SQE128. */
static struct io_uring_sqe *queue_cmd(struct io_uring *ring, int fd,
				      unsigned int cmd_op, void *arg,
				      size_t inline_len, __u64 user_data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct iommu_uring_cmd hdr = { .arg = (__u64)(uintptr_t)arg };

	if (!sqe)
		return NULL;
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = cmd_op;
	sqe->user_data = user_data;
	if (inline_len) {
		hdr.flags = IOMMU_URING_CMD_INLINE;
		hdr.arg = 0;
		memcpy(sqe->cmd + sizeof(hdr), arg, inline_len);
	}
	memcpy(sqe->cmd, &hdr, sizeof(hdr));
	return sqe;
}

/* Submit what is queued and return the result of one completion. */
static int submit_one(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int res;

	if (io_uring_submit(ring) != 1)
		return -EIO;
	if (io_uring_wait_cqe(ring, &cqe))
		return -EIO;
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

static int uring_cmd(struct io_uring *ring, int fd, unsigned int cmd_op,
		     void *arg)
{
	if (!queue_cmd(ring, fd, cmd_op, arg, 0, 0))
		return -EBUSY;
	return submit_one(ring);
}

static void fill_map(struct iommu_ioas_map *map, __u32 ioas_id, void *buf,
		     __u64 length, __u64 iova)
{
	*map = (struct iommu_ioas_map){
		.size = sizeof(*map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas_id,
		.user_va = (__u64)(uintptr_t)buf,
		.length = length,
		.iova = iova,
	};
}

TEST_F(uring, map_and_unmap_through_the_ring_match_ioctl)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = self->ioas_id,
		.iova = URING_IOVA,
		.length = URING_BUF_SIZE,
	};
	struct iommu_ioas_map map;

	fill_map(&map, self->ioas_id, self->buf, URING_BUF_SIZE, URING_IOVA);
	ASSERT_EQ(0, uring_cmd(&self->ring, self->fd, IOMMU_IOAS_MAP, &map));
	/* The mapping is real: a second map of the same IOVA clashes. */
	ASSERT_EQ(-EEXIST, uring_cmd(&self->ring, self->fd, IOMMU_IOAS_MAP,
				     &map));
	ASSERT_EQ(-EEXIST, iommufd_ioctl(self->fd, IOMMU_IOAS_MAP, &map));
	ASSERT_EQ(0, uring_cmd(&self->ring, self->fd, IOMMU_IOAS_UNMAP,
			       &unmap));
	/* Output fields come back through the pointer, as with ioctl(). */
	ASSERT_EQ(URING_BUF_SIZE, unmap.length);
	ASSERT_EQ(-ENOENT, uring_cmd(&self->ring, self->fd, IOMMU_IOAS_UNMAP,
				     &unmap));
}

TEST_F(uring, automatic_iova_is_returned_through_the_pointer)
{
	struct iommu_ioas_map map;

	fill_map(&map, self->ioas_id, self->buf, URING_BUF_SIZE, 0);
	map.flags &= ~IOMMU_IOAS_MAP_FIXED_IOVA;
	ASSERT_EQ(0, uring_cmd(&self->ring, self->fd, IOMMU_IOAS_MAP, &map));
	ASSERT_NE(0, map.iova);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, map.iova,
				URING_BUF_SIZE, NULL));
}

TEST_F(uring, errors_are_the_ioctl_errors)
{
	struct iommu_ioas_map map;
	struct {
		struct iommu_ioas_alloc cmd;
		__u64 tail;
	} big = { .cmd.size = sizeof(big), .tail = 1 };

	fill_map(&map, self->ioas_id, self->buf, URING_BUF_SIZE, URING_IOVA);
	map.flags |= 1U << 20;
	ASSERT_EQ(-EOPNOTSUPP, uring_cmd(&self->ring, self->fd,
					 IOMMU_IOAS_MAP, &map));
	fill_map(&map, self->ioas_id, self->buf, 0, URING_IOVA);
	ASSERT_EQ(-EINVAL, uring_cmd(&self->ring, self->fd, IOMMU_IOAS_MAP,
				     &map));
	fill_map(&map, 12345, self->buf, URING_BUF_SIZE, URING_IOVA);
	ASSERT_EQ(-ENOENT, uring_cmd(&self->ring, self->fd, IOMMU_IOAS_MAP,
				     &map));
	ASSERT_EQ(-E2BIG, uring_cmd(&self->ring, self->fd, IOMMU_IOAS_ALLOC,
				    &big));
	map.size = 8;
	ASSERT_EQ(-EINVAL, uring_cmd(&self->ring, self->fd, IOMMU_IOAS_MAP,
				     &map));
	ASSERT_EQ(-ENOTTY, uring_cmd(&self->ring, self->fd,
				     _IO(IOMMUFD_TYPE, 0xbf), &map));
	ASSERT_EQ(-EFAULT, uring_cmd(&self->ring, self->fd, IOMMU_IOAS_MAP,
				     NULL));
}

TEST_F(uring, unknown_header_flags_and_reserved_fail_eopnotsupp)
{
	struct iommu_ioas_map map;
	struct io_uring_sqe *sqe;
	struct iommu_uring_cmd hdr;

	fill_map(&map, self->ioas_id, self->buf, URING_BUF_SIZE, URING_IOVA);
	sqe = queue_cmd(&self->ring, self->fd, IOMMU_IOAS_MAP, &map, 0, 0);
	ASSERT_NE(NULL, sqe);
	memcpy(&hdr, sqe->cmd, sizeof(hdr));
	hdr.flags = 1U << 7;
	memcpy(sqe->cmd, &hdr, sizeof(hdr));
	ASSERT_EQ(-EOPNOTSUPP, submit_one(&self->ring));

	sqe = queue_cmd(&self->ring, self->fd, IOMMU_IOAS_MAP, &map, 0, 0);
	ASSERT_NE(NULL, sqe);
	memcpy(&hdr, sqe->cmd, sizeof(hdr));
	hdr.__reserved = 1;
	memcpy(sqe->cmd, &hdr, sizeof(hdr));
	ASSERT_EQ(-EOPNOTSUPP, submit_one(&self->ring));
	/* Nothing was mapped by either. */
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, URING_IOVA,
				      URING_BUF_SIZE, NULL));
}

TEST_F(uring, inline_command_needs_a_128_byte_sqe)
{
	struct iommu_uring_cmd hdr = { .flags = IOMMU_URING_CMD_INLINE };
	struct io_uring_sqe *sqe;

	/* A 64-byte SQE has no room for a struct after the header. */
	sqe = io_uring_get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, self->fd, NULL, 0, 0);
	sqe->cmd_op = IOMMU_IOAS_MAP;
	memcpy(sqe->cmd, &hdr, sizeof(hdr));
	ASSERT_EQ(-EINVAL, submit_one(&self->ring));
}

TEST_F(uring, inline_map_and_unmap_work_on_128_byte_sqes)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = self->ioas_id,
		.iova = URING_IOVA,
		.length = URING_BUF_SIZE,
	};
	struct iommu_ioas_map map;

	ASSERT_GE(IOMMU_URING_CMD_INLINE_MAX, sizeof(map));
	fill_map(&map, self->ioas_id, self->buf, URING_BUF_SIZE, URING_IOVA);
	ASSERT_NE(NULL, queue_cmd(&self->ring128, self->fd, IOMMU_IOAS_MAP,
				  &map, sizeof(map), 1));
	ASSERT_EQ(0, submit_one(&self->ring128));
	ASSERT_EQ(-EEXIST, iommufd_ioctl(self->fd, IOMMU_IOAS_MAP, &map));
	ASSERT_NE(NULL, queue_cmd(&self->ring128, self->fd, IOMMU_IOAS_UNMAP,
				  &unmap, sizeof(unmap), 2));
	ASSERT_EQ(0, submit_one(&self->ring128));
	/* An inline struct's outputs are not written anywhere. */
	ASSERT_EQ(URING_BUF_SIZE, unmap.length);
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, URING_IOVA,
				      URING_BUF_SIZE, NULL));
}

TEST_F(uring, inline_struct_larger_than_the_room_fails_einval)
{
	__u8 raw[IOMMU_URING_CMD_INLINE_MAX] = {};
	struct iommu_ioas_map map;

	fill_map(&map, self->ioas_id, self->buf, URING_BUF_SIZE, URING_IOVA);
	map.size = IOMMU_URING_CMD_INLINE_MAX + 8;
	memcpy(raw, &map, sizeof(map));
	ASSERT_NE(NULL, queue_cmd(&self->ring128, self->fd, IOMMU_IOAS_MAP,
				  raw, sizeof(raw), 0));
	ASSERT_EQ(-EINVAL, submit_one(&self->ring128));
}

TEST_F(uring, batch_of_256_maps_and_unmaps_completes_in_one_submit)
{
	enum { N = 256 };
	struct iommu_ioas_unmap unmaps[N];
	struct iommu_ioas_map maps[N];
	struct io_uring_cqe *cqe;
	unsigned long page = sysconf(_SC_PAGESIZE);
	int i, seen;

	for (i = 0; i != N; i++) {
		fill_map(&maps[i], self->ioas_id, (char *)self->buf + i * page,
			 page, URING_IOVA + i * page);
		ASSERT_NE(NULL, queue_cmd(&self->ring, self->fd,
					  IOMMU_IOAS_MAP, &maps[i], 0, i));
	}
	ASSERT_EQ(N, io_uring_submit(&self->ring));
	for (seen = 0; seen != N; seen++) {
		ASSERT_EQ(0, io_uring_wait_cqe(&self->ring, &cqe));
		ASSERT_EQ(0, cqe->res);
		io_uring_cqe_seen(&self->ring, cqe);
	}
	for (i = 0; i != N; i++) {
		unmaps[i] = (struct iommu_ioas_unmap){
			.size = sizeof(unmaps[i]),
			.ioas_id = self->ioas_id,
			.iova = URING_IOVA + i * page,
			.length = page,
		};
		ASSERT_NE(NULL, queue_cmd(&self->ring, self->fd,
					  IOMMU_IOAS_UNMAP, &unmaps[i], 0, i));
	}
	ASSERT_EQ(N, io_uring_submit(&self->ring));
	for (seen = 0; seen != N; seen++) {
		ASSERT_EQ(0, io_uring_wait_cqe(&self->ring, &cqe));
		ASSERT_EQ(0, cqe->res);
		ASSERT_EQ(page, unmaps[cqe->user_data].length);
		io_uring_cqe_seen(&self->ring, cqe);
	}
	/* Everything is gone again. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, UINT64_MAX,
				NULL));
}

TEST_F(uring, commands_that_return_an_fd_are_refused)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = self->ioas_id,
	};

	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(-EOPNOTSUPP, uring_cmd(&self->ring, self->fd,
					 IOMMU_TEST_CMD, &cmd));
	/* The IOAS was not taken by an access: it can go. */
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->ioas_id));
}

TEST_F(uring, destroy_through_the_ring_frees_the_object)
{
	struct iommu_destroy destroy = {
		.size = sizeof(destroy),
		.id = self->ioas_id,
	};

	ASSERT_EQ(0, uring_cmd(&self->ring, self->fd, IOMMU_DESTROY,
			       &destroy));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, self->ioas_id));
}

/* Reap @n completions, all of which must be @res; 0 or -EIO. */
static int reap_all(struct io_uring *ring, unsigned int n, int res)
{
	struct io_uring_cqe *cqe;
	int bad = 0;

	while (n--) {
		if (io_uring_wait_cqe(ring, &cqe))
			return -EIO;
		bad |= cqe->res != res;
		io_uring_cqe_seen(ring, cqe);
	}
	return bad ? -EIO : 0;
}

/*
 * More commands than the completion queue holds: the SQ is filled to the
 * last entry three times before anything is reaped, so the CQ (twice the
 * SQ) overflows. Every command still completes, exactly once.
 */
TEST_F(uring, full_ring_and_overflowing_completions_lose_nothing)
{
	unsigned long page = sysconf(_SC_PAGESIZE);
	unsigned int entries = 0, rounds, i;
	static struct iommu_ioas_map maps[3 * 256];
	struct iommu_ioas_unmap unmap;

	for (rounds = 0; rounds != 3; rounds++) {
		unsigned int queued = 0;

		/*
		 * Until the SQ is full: then get_sqe gives no entry. The
		 * buffer's pages are mapped again at new IOVAs each round.
		 */
		while (entries + queued < 3 * 256) {
			i = entries + queued;
			fill_map(&maps[i], self->ioas_id,
				 (char *)self->buf +
				 i % (URING_BUF_SIZE / page) * page,
				 page, URING_IOVA + i * page);
			if (!queue_cmd(&self->ring, self->fd, IOMMU_IOAS_MAP,
				       &maps[i], 0, i))
				break;
			queued++;
		}
		ASSERT_EQ(256, queued);
		ASSERT_EQ(queued, io_uring_submit(&self->ring));
		entries += queued;
	}
	ASSERT_EQ(0, reap_all(&self->ring, entries, 0));
	/* All 768 pages are mapped, each once. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, URING_IOVA,
				entries * page, &unmap.length));
	ASSERT_EQ(entries * page, unmap.length);
}

/*
 * A struct that ends in memory that is not there: the declared size
 * reaches into a PROT_NONE page, so copying it in fails with EFAULT;
 * a declared size below the command's first version is EINVAL. Neither
 * maps anything.
 */
TEST_F(uring, short_buffers_fail_and_change_nothing)
{
	unsigned long page = sysconf(_SC_PAGESIZE);
	struct iommu_ioas_map *map;
	char *pages;

	pages = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	ASSERT_EQ(0, mprotect(pages + page, page, PROT_NONE));
	/* Only the first half of the struct is in readable memory. */
	map = (void *)(pages + page - sizeof(*map) / 2);
	memset(map, 0, sizeof(*map) / 2);
	map->size = sizeof(*map);
	ASSERT_EQ(-EFAULT, uring_cmd(&self->ring, self->fd, IOMMU_IOAS_MAP,
				     map));
	/* The same struct, wholly readable, declaring too few bytes. */
	map = (void *)pages;
	fill_map(map, self->ioas_id, self->buf, page, URING_IOVA);
	map->size = offsetof(struct iommu_ioas_map, iova);
	ASSERT_EQ(-EINVAL, uring_cmd(&self->ring, self->fd, IOMMU_IOAS_MAP,
				     map));
	/* And with the size right, it works: nothing was mapped before. */
	map->size = sizeof(*map);
	ASSERT_EQ(0, uring_cmd(&self->ring, self->fd, IOMMU_IOAS_MAP, map));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, URING_IOVA, page,
				NULL));
	munmap(pages, 2 * page);
}

/*
 * Bad pointers get the ioctl's EFAULT: no struct at all, a struct in
 * memory that cannot be read, user memory to map that cannot be pinned
 * (test builds, where a mock domain makes MAP pin), and a reply that
 * cannot be written (an automatic IOVA the caller would never learn),
 * which takes the new mapping back.
 */
TEST_F(uring, bad_pointers_fail_efault_and_change_nothing)
{
	unsigned long page = sysconf(_SC_PAGESIZE);
	struct iommu_ioas_map *map;
	__u64 unmapped;
	char *pages;

	pages = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	ASSERT_EQ(-EFAULT, uring_cmd(&self->ring, self->fd, IOMMU_IOAS_MAP,
				     NULL));
	ASSERT_EQ(0, mprotect(pages + page, page, PROT_NONE));
	ASSERT_EQ(-EFAULT, uring_cmd(&self->ring, self->fd, IOMMU_IOAS_MAP,
				     pages + page));

	/* Pinning starts at MAP only once a domain needs the pages. */
	map = (void *)pages;
	fill_map(map, self->ioas_id, pages + page, page, URING_IOVA);
	if (iommufd_is_test_build(self->fd)) {
		ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL,
					      NULL, NULL));
		ASSERT_EQ(-EFAULT, uring_cmd(&self->ring, self->fd,
					     IOMMU_IOAS_MAP, map));
	}

	fill_map(map, self->ioas_id, self->buf, page, 0);
	map->flags &= ~IOMMU_IOAS_MAP_FIXED_IOVA;
	ASSERT_EQ(0, mprotect(pages, page, PROT_READ));
	ASSERT_EQ(-EFAULT, uring_cmd(&self->ring, self->fd, IOMMU_IOAS_MAP,
				     map));
	/* Nothing stayed mapped anywhere. */
	unmapped = 1;
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, UINT64_MAX,
				&unmapped));
	ASSERT_EQ(0, unmapped);
	munmap(pages, 2 * page);
}

/*
 * Close the fd and tear the ring down with commands still in flight
 * (IOSQE_ASYNC hands them to io_uring's workers). The commands hold the
 * file, so the context goes only when the last one is done; then every
 * pin they made is gone again.
 */
TEST_F(uring, closing_the_fd_with_commands_in_flight_leaks_nothing)
{
	unsigned long page = sysconf(_SC_PAGESIZE);
	static struct iommu_ioas_map maps[256];
	long vm_pin = proc_status_kb("VmPin");
	struct io_uring_sqe *sqe;
	int i, tries;

	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build (a mock domain pins)");
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL, NULL,
				      NULL));
	for (i = 0; i != 256; i++) {
		fill_map(&maps[i], self->ioas_id, (char *)self->buf + i * page,
			 page, URING_IOVA + i * page);
		sqe = queue_cmd(&self->ring, self->fd, IOMMU_IOAS_MAP,
				&maps[i], 0, i);
		ASSERT_NE(NULL, sqe);
		sqe->flags |= IOSQE_ASYNC;
	}
	ASSERT_EQ(256, io_uring_submit(&self->ring));
	close(self->fd);
	io_uring_queue_exit(&self->ring);
	/* Keep the teardown's close and exit from running twice. */
	self->fd = -1;
	ASSERT_EQ(0, io_uring_queue_init(4, &self->ring, 0));

	/*
	 * The ring's teardown is asynchronous, in a kernel worker that a
	 * loaded host (two emulated CPUs on a shared machine) may run late:
	 * give it up to 30 seconds. A leaked pin never goes.
	 */
	for (tries = 0; tries != 3000; tries++) {
		if (proc_status_kb("VmPin") == vm_pin)
			break;
		usleep(10000);
	}
	ASSERT_EQ(vm_pin, proc_status_kb("VmPin"));
	/* And the memory is free of long-term pins. */
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, tcmd_check_refs(self->fd, self->buf, 256 * page, 0));
}

/* ---------------------------------------------------------------------- */
/* Inline structs have no reply: what the caller needs travels in res. */

TEST_F(uring, inline_ioas_alloc_returns_the_new_id_as_res)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	int id;

	ASSERT_NE(NULL, queue_cmd(&self->ring128, self->fd, IOMMU_IOAS_ALLOC,
				  &alloc, sizeof(alloc), 0));
	id = submit_one(&self->ring128);
	ASSERT_LT(0, id);
	ASSERT_NE(self->ioas_id, id);
	/* It is a new IOAS of this context. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, id, self->buf, 4096,
				    URING_IOVA));
	ASSERT_EQ(0, ioas_unmap(self->fd, id, URING_IOVA, 4096, NULL));
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, URING_IOVA,
				      4096, NULL));
	ASSERT_EQ(0, iommufd_destroy(self->fd, id));
	/* Through a pointer the ID is in the reply and res is 0. */
	ASSERT_EQ(0, uring_cmd(&self->ring, self->fd, IOMMU_IOAS_ALLOC,
			       &alloc));
	ASSERT_NE(0, alloc.out_ioas_id);
	ASSERT_EQ(0, iommufd_destroy(self->fd, alloc.out_ioas_id));
}

TEST_F(uring, inline_hwpt_alloc_returns_the_new_id_as_res)
{
	struct iommu_hwpt_alloc alloc = { .size = sizeof(alloc) };
	__u32 stdev_id, idev_id;
	int id;

	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build (a mock device)");
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev_id,
				      NULL, &idev_id));
	alloc.dev_id = idev_id;
	alloc.pt_id = self->ioas_id;
	ASSERT_NE(NULL, queue_cmd(&self->ring128, self->fd, IOMMU_HWPT_ALLOC,
				  &alloc, sizeof(alloc), 0));
	id = submit_one(&self->ring128);
	ASSERT_LT(0, id);
	/* It is a HWPT on the IOAS: the IOAS cannot go before it. */
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->ioas_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, stdev_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->ioas_id));
}

/* Queue @cmd inline on the 128-byte ring and return its result. */
static int inline_cmd(struct io_uring *ring, int fd, unsigned int cmd_op,
		      void *cmd, size_t len)
{
	if (!queue_cmd(ring, fd, cmd_op, cmd, len, 0))
		return -EBUSY;
	return submit_one(ring);
}

/*
 * Nesting through the ring: a nested HWPT_ALLOC inline returns its ID as
 * res; IOMMU_HWPT_INVALIDATE by pointer writes entry_num back, also when
 * an entry fails; inline it works, and a failure is the CQE's errno.
 */
TEST_F(uring, nested_hwpt_alloc_and_invalidate_through_the_ring)
{
	struct iommu_hwpt_selftest data = { .iotlb = 3 };
	struct iommu_hwpt_invalidate_selftest reqs[2] = {
		{ .iotlb_id = 0 },
		{ .iotlb_id = MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1 },
	};
	struct iommu_hwpt_alloc alloc = {
		.size = sizeof(alloc),
		.data_type = IOMMU_HWPT_DATA_SELFTEST,
		.data_len = sizeof(data),
		.data_uptr = (__u64)(uintptr_t)&data,
	};
	struct iommu_hwpt_invalidate inv = {
		.size = sizeof(inv),
		.data_uptr = (__u64)(uintptr_t)reqs,
		.data_type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
		.entry_len = sizeof(reqs[0]),
		.entry_num = 2,
	};
	struct iommu_test_cmd check = { .size = sizeof(check) };
	__u32 stdev_id, idev_id, parent;
	int nested;

	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build (a mock device)");
	ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, &stdev_id,
				      NULL, &idev_id));
	ASSERT_EQ(0, hwpt_alloc_flags(self->fd, idev_id, self->ioas_id,
				      IOMMU_HWPT_ALLOC_NEST_PARENT, &parent));
	alloc.dev_id = idev_id;
	alloc.pt_id = parent;
	ASSERT_NE(NULL, queue_cmd(&self->ring128, self->fd, IOMMU_HWPT_ALLOC,
				  &alloc, sizeof(alloc), 0));
	nested = submit_one(&self->ring128);
	ASSERT_LT(0, nested);
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, parent));

	/* By pointer: the first entry is done, the second fails. */
	inv.hwpt_id = nested;
	ASSERT_EQ(-EINVAL, uring_cmd(&self->ring, self->fd,
				     IOMMU_HWPT_INVALIDATE, &inv));
	ASSERT_EQ(1, inv.entry_num);
	check.op = IOMMU_TEST_OP_MD_CHECK_IOTLB;
	check.id = nested;
	check.check_iotlb.id = 0;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_TEST_CMD, &check));
	check.check_iotlb.id = 1;
	check.check_iotlb.iotlb = 3;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_TEST_CMD, &check));

	/* Inline: the same failure is the CQE's errno. */
	inv.entry_num = 2;
	ASSERT_EQ(-EINVAL, inline_cmd(&self->ring128, self->fd,
				      IOMMU_HWPT_INVALIDATE, &inv,
				      sizeof(inv)));
	/* And a good array succeeds; entry 1 is then cleared too. */
	reqs[1].iotlb_id = 1;
	ASSERT_EQ(0, inline_cmd(&self->ring128, self->fd,
				IOMMU_HWPT_INVALIDATE, &inv, sizeof(inv)));
	check.check_iotlb.iotlb = 0;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_TEST_CMD, &check));
	/* A paging HWPT has nothing to invalidate. */
	inv.hwpt_id = parent;
	ASSERT_EQ(-ENOENT, inline_cmd(&self->ring128, self->fd,
				      IOMMU_HWPT_INVALIDATE, &inv,
				      sizeof(inv)));
	ASSERT_EQ(0, iommufd_destroy(self->fd, nested));
	ASSERT_EQ(0, iommufd_destroy(self->fd, parent));
}

TEST_F(uring, inline_commands_whose_reply_matters_are_refused)
{
	struct iommu_ioas_iova_ranges ranges = {
		.size = sizeof(ranges),
		.ioas_id = self->ioas_id,
	};
	struct iommu_option option = {
		.size = sizeof(option),
		.option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_GET,
		.object_id = self->ioas_id,
	};
	struct iommu_ioas_copy copy = {
		.size = sizeof(copy),
		.flags = IOMMU_IOAS_MAP_READABLE,
		.dst_ioas_id = self->ioas_id,
		.src_ioas_id = self->ioas_id,
		.length = 4096,
		.src_iova = URING_IOVA,
	};
	struct iommu_ioas_create_window win = {
		.size = sizeof(win),
		.ioas_id = self->ioas_id,
		.length = 0x100000,
	};
	struct iommu_ioas_list_windows list = {
		.size = sizeof(list),
		.ioas_id = self->ioas_id,
	};
	struct iommu_hw_info info = { .size = sizeof(info) };
	struct iommu_fault_alloc fault = { .size = sizeof(fault) };
	struct iommu_ioas_map map;
	__u64 unmapped;
	__u32 probe, again;

	/* MAP and COPY without FIXED_IOVA: the chosen IOVA would be lost. */
	fill_map(&map, self->ioas_id, self->buf, 4096, 0);
	map.flags &= ~IOMMU_IOAS_MAP_FIXED_IOVA;
	ASSERT_EQ(-EOPNOTSUPP, inline_cmd(&self->ring128, self->fd,
					  IOMMU_IOAS_MAP, &map, sizeof(map)));
	ASSERT_EQ(-EOPNOTSUPP, inline_cmd(&self->ring128, self->fd,
					  IOMMU_IOAS_COPY, &copy,
					  sizeof(copy)));
	/* Lists, a get, a window placed by the kernel, device info. */
	ASSERT_EQ(-EOPNOTSUPP, inline_cmd(&self->ring128, self->fd,
					  IOMMU_IOAS_IOVA_RANGES, &ranges,
					  sizeof(ranges)));
	ASSERT_EQ(-EOPNOTSUPP, inline_cmd(&self->ring128, self->fd,
					  IOMMU_OPTION, &option,
					  sizeof(option)));
	ASSERT_EQ(-EOPNOTSUPP, inline_cmd(&self->ring128, self->fd,
					  IOMMU_IOAS_CREATE_WINDOW, &win,
					  sizeof(win)));
	ASSERT_EQ(-EOPNOTSUPP, inline_cmd(&self->ring128, self->fd,
					  IOMMU_IOAS_LIST_WINDOWS, &list,
					  sizeof(list)));
	ASSERT_EQ(-EOPNOTSUPP, inline_cmd(&self->ring128, self->fd,
					  IOMMU_GET_HW_INFO, &info,
					  sizeof(info)));
	/* A fault queue's fd and ID would be lost: nothing is made. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &probe));
	ASSERT_EQ(0, iommufd_destroy(self->fd, probe));
	ASSERT_EQ(-EOPNOTSUPP, inline_cmd(&self->ring128, self->fd,
					  IOMMU_FAULT_QUEUE_ALLOC, &fault,
					  sizeof(fault)));
	ASSERT_EQ(0, ioas_alloc(self->fd, &again));
	ASSERT_EQ(probe, again);
	ASSERT_EQ(0, iommufd_destroy(self->fd, again));
	/* Nothing was mapped. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, UINT64_MAX,
				&unmapped));
	ASSERT_EQ(0, unmapped);

	/* A set needs no reply, nor a fully given window. */
	option.op = IOMMU_OPTION_OP_SET;
	option.val64 = 1;
	ASSERT_EQ(0, inline_cmd(&self->ring128, self->fd, IOMMU_OPTION,
				&option, sizeof(option)));
}

/* ---------------------------------------------------------------------- */
/*
 * io_uring first issues a command where sleeping would hold up the ring
 * (io_uring_enter(), the SQPOLL thread). A MAP whose memory is not in
 * place returns -EAGAIN there and completes from an io-wq worker.
 */

TEST_F(uring, map_of_memory_never_touched_completes_through_the_ring)
{
	__u32 hwpt_id = 0;
	struct iommu_ioas_map map;
	bool test_build;
	char *fresh;
	int i;

	test_build = iommufd_is_test_build(self->fd);
	if (test_build)
		ASSERT_EQ(0, tcmd_mock_domain(self->fd, self->ioas_id, NULL,
					      &hwpt_id, NULL));
	for (i = 0; i != 2; i++) {
		fresh = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, fresh);
		/* Not one page of it is faulted in: a pin must fault. */
		fill_map(&map, self->ioas_id, fresh, 16 * 4096, URING_IOVA);
		if (i) {
			ASSERT_EQ(0, inline_cmd(&self->ring128, self->fd,
						IOMMU_IOAS_MAP, &map,
						sizeof(map)));
		} else {
			ASSERT_EQ(0, uring_cmd(&self->ring, self->fd,
					       IOMMU_IOAS_MAP, &map));
		}
		if (test_build)
			ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt_id,
						    URING_IOVA, fresh,
						    16 * 4096));
		ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, URING_IOVA,
					16 * 4096, NULL));
		munmap(fresh, 16 * 4096);
	}
}

static void *queue_map(struct io_uring *ring, int fd,
		       struct iommu_ioas_map *map, __u64 user_data)
{
	return queue_cmd(ring, fd, IOMMU_IOAS_MAP, map, 0, user_data);
}

/*
 * With SQPOLL, a MAP that waits for its memory (userfaultfd holds the
 * page back, as in a postcopy migration) waits in a worker: the SQPOLL
 * thread goes on to the next command. Inline, the wait would hold the
 * SQPOLL thread, and every later command with it, until the page came.
 */
TEST(sqpoll_goes_on_while_a_map_waits_for_its_memory)
{
	struct io_uring_params params = {
		.flags = IORING_SETUP_SQPOLL,
		.sq_thread_idle = 1000,
	};
	struct __kernel_timespec ten_s = { .tv_sec = 10 };
	struct iommu_ioas_map held_map, other_map;
	char content[HOLD_PAGE];
	struct io_uring_cqe *cqe;
	struct uffd_hold hold = {};
	__u32 ioas_id, hwpt_id = 0;
	struct io_uring ring;
	long vm_pin;
	int fd, rc;
	char *other;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	if (!iommufd_is_test_build(fd))
		SKIP(return, "needs a test build (a mock domain pins)");
	rc = uffd_hold_init(&hold);
	if (rc)
		SKIP(return, "no userfaultfd: %s", strerror(-rc));
	rc = io_uring_queue_init_params(8, &ring, &params);
	if (rc)
		SKIP(return, "no SQPOLL ring: %s", strerror(-rc));
	other = buf_alloc_written(HOLD_PAGE, 7);
	ASSERT_NE(NULL, other);
	ASSERT_EQ(0, ioas_alloc(fd, &ioas_id));
	ASSERT_EQ(0, tcmd_mock_domain(fd, ioas_id, NULL, &hwpt_id, NULL));
	vm_pin = proc_status_kb("VmPin");

	fill_map(&held_map, ioas_id, hold.page, HOLD_PAGE, URING_IOVA);
	fill_map(&other_map, ioas_id, other, HOLD_PAGE,
		 URING_IOVA + HOLD_PAGE);
	ASSERT_NE(NULL, queue_map(&ring, fd, &held_map, 1));
	ASSERT_NE(NULL, queue_map(&ring, fd, &other_map, 2));
	ASSERT_EQ(2, io_uring_submit(&ring));

	ASSERT_EQ(0, io_uring_wait_cqe_timeout(&ring, &cqe, &ten_s));
	if (cqe->user_data == 1) {
		/* Long-term pins fail at once on userfaultfd memory here. */
		ASSERT_EQ(-EFAULT, cqe->res);
		io_uring_cqe_seen(&ring, cqe);
		ASSERT_EQ(0, io_uring_wait_cqe_timeout(&ring, &cqe, &ten_s));
		ASSERT_EQ(0, cqe->res);
		io_uring_cqe_seen(&ring, cqe);
		SKIP(goto out,
		     "long-term pins do not wait for userfaultfd here (EFAULT)");
	}
	/* The later MAP is done while the first still waits. */
	ASSERT_EQ(2, cqe->user_data);
	ASSERT_EQ(0, cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	if (!uffd_hold_wait_fault(&hold, NULL)) {
		/* As above, only the held MAP ended after the other. */
		ASSERT_EQ(0, io_uring_wait_cqe_timeout(&ring, &cqe, &ten_s));
		ASSERT_EQ(1, cqe->user_data);
		ASSERT_EQ(-EFAULT, cqe->res);
		io_uring_cqe_seen(&ring, cqe);
		SKIP(goto out,
		     "long-term pins do not wait for userfaultfd here (EFAULT)");
	}
	ASSERT_EQ(0, tcmd_check_map(fd, hwpt_id, URING_IOVA + HOLD_PAGE,
				    other, HOLD_PAGE));

	memset(content, 0x5a, sizeof(content));
	ASSERT_EQ(0, uffd_hold_release(&hold, content, sizeof(content)));
	ASSERT_EQ(0, io_uring_wait_cqe_timeout(&ring, &cqe, &ten_s));
	ASSERT_EQ(1, cqe->user_data);
	ASSERT_EQ(0, cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	ASSERT_EQ(0x5a, ((char *)hold.page)[0]);
	ASSERT_EQ(0, tcmd_check_map(fd, hwpt_id, URING_IOVA, hold.page,
				    HOLD_PAGE));
out:
	ASSERT_EQ(0, ioas_unmap(fd, ioas_id, 0, UINT64_MAX, NULL));
	ASSERT_EQ(vm_pin, proc_status_kb("VmPin"));
	io_uring_queue_exit(&ring);
	ASSERT_EQ(0, close(fd));
	uffd_hold_fini(&hold);
	munmap(other, HOLD_PAGE);
}

/*
 * A DESTROY through the ring waits in a worker for the command using its
 * object (an ALLOW_IOVAS whose ranges userfaultfd holds back). Cancelled,
 * it reports EINTR, not a restart code, and the object stays.
 */
static int held_allow_iovas(struct held_cmd *c)
{
	return ioas_allow_iovas(c->fd, c->id, c->ptr, 1);
}

TEST(destroy_through_the_ring_interrupted_reports_eintr)
{
	struct iommu_iova_range range = { .start = 0x40000000,
					.last = 0x4fffffff };
	struct held_cmd allow = { .run = held_allow_iovas };
	struct iommu_destroy destroy = { .size = sizeof(destroy) };
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct uffd_hold hold = {};
	struct io_uring ring;
	pthread_t thread;
	int fd, rc, i;
	__u32 ioas_id;
	void *buf;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	rc = uffd_hold_init(&hold);
	if (rc)
		SKIP(return, "no userfaultfd: %s", strerror(-rc));
	buf = buf_alloc_written(4096, 5);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));
	ASSERT_EQ(0, ioas_alloc(fd, &ioas_id));
	allow.fd = fd;
	allow.id = ioas_id;
	allow.ptr = hold.page;
	ASSERT_EQ(0, pthread_create(&thread, NULL, held_cmd_thread, &allow));
	ASSERT_TRUE(uffd_hold_wait_fault(&hold, &allow.done));

	destroy.id = ioas_id;
	ASSERT_NE(NULL, queue_cmd(&ring, fd, IOMMU_DESTROY, &destroy, 0, 1));
	ASSERT_EQ(1, io_uring_submit(&ring));
	usleep(300 * 1000);
	ASSERT_EQ(-EAGAIN, io_uring_peek_cqe(&ring, &cqe));

	sqe = io_uring_get_sqe(&ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_cancel64(sqe, 1, 0);
	sqe->user_data = 2;
	ASSERT_EQ(1, io_uring_submit(&ring));
	for (i = 0; i != 2; i++) {
		ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
		if (cqe->user_data == 1)
			ASSERT_EQ(-EINTR, cqe->res);
		io_uring_cqe_seen(&ring, cqe);
	}
	/* The IOAS is still there. */
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas_id, buf, 4096, URING_IOVA));
	ASSERT_EQ(0, ioas_unmap(fd, ioas_id, URING_IOVA, 4096, NULL));
	ASSERT_EQ(0, uffd_hold_release(&hold, &range, sizeof(range)));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(0, allow.rc);
	ASSERT_EQ(0, iommufd_destroy(fd, ioas_id));
	io_uring_queue_exit(&ring);
	ASSERT_EQ(0, close(fd));
	uffd_hold_fini(&hold);
	munmap(buf, 4096);
}

TEST_HARNESS_MAIN
