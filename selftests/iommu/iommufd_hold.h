/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Holding a command in flight: a page registered with userfaultfd and
 * never populated makes any access to it wait until the test hands the
 * page over, so a command that reads its input from that page (the ranges
 * of ALLOW_IOVAS, the memory of a MAP) sits inside the kernel, holding
 * whatever it looked up, for as long as the test likes.
 */
#ifndef IOMMUFD_SELFTEST_HOLD_H
#define IOMMUFD_SELFTEST_HOLD_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#define HOLD_PAGE 4096UL

struct uffd_hold {
	int uffd;
	void *page;
};

static inline void uffd_hold_fini(struct uffd_hold *h)
{
	munmap(h->page, HOLD_PAGE);
	close(h->uffd);
}

/* Map and register the held page: 0, or -errno (no userfaultfd). */
static inline int uffd_hold_init(struct uffd_hold *h)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };

	h->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (h->uffd < 0)
		return -errno;
	h->page = mmap(NULL, HOLD_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h->page == MAP_FAILED) {
		close(h->uffd);
		return -ENOMEM;
	}
	reg.range.start = (unsigned long)h->page;
	reg.range.len = HOLD_PAGE;
	if (ioctl(h->uffd, UFFDIO_API, &api) ||
	    ioctl(h->uffd, UFFDIO_REGISTER, &reg)) {
		uffd_hold_fini(h);
		return -EIO;
	}
	return 0;
}

/*
 * Wait up to 10 s for a fault on the held page: true once something waits
 * for it, false if *@done (the holder's completion flag) was set first.
 */
static inline bool uffd_hold_wait_fault(struct uffd_hold *h, const int *done)
{
	struct pollfd pfd = { .fd = h->uffd, .events = POLLIN };
	struct uffd_msg msg;
	int tries;

	for (tries = 0; tries != 100; tries++) {
		if (read(h->uffd, &msg, sizeof(msg)) == sizeof(msg))
			return msg.event == UFFD_EVENT_PAGEFAULT;
		if (done && __atomic_load_n(done, __ATOMIC_ACQUIRE))
			return false;
		poll(&pfd, 1, 100);
	}
	return false;
}

/* Hand the page over, filled with @len bytes of @content; 0 or -errno. */
static inline int uffd_hold_release(struct uffd_hold *h, const void *content,
				    size_t len)
{
	struct uffdio_copy copy = {
		.dst = (unsigned long)h->page,
		.len = HOLD_PAGE,
	};
	void *src;
	int rc;

	src = mmap(NULL, HOLD_PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED)
		return -ENOMEM;
	memcpy(src, content, len);
	copy.src = (unsigned long)src;
	rc = ioctl(h->uffd, UFFDIO_COPY, &copy) ? -errno : 0;
	munmap(src, HOLD_PAGE);
	return rc;
}

/* A command run by a thread, with its result and a completion flag. */
struct held_cmd {
	int (*run)(struct held_cmd *c);
	int fd;
	__u32 id;
	void *ptr;
	int rc;
	int done;
};

static inline void *held_cmd_thread(void *arg)
{
	struct held_cmd *c = arg;

	c->rc = c->run(c);
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static inline bool held_cmd_done(struct held_cmd *c)
{
	return __atomic_load_n(&c->done, __ATOMIC_ACQUIRE);
}

#endif
