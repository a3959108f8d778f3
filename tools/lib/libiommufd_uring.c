// SPDX-License-Identifier: GPL-2.0
/*
 * libiommufd over io_uring (Extension, not upstream): see libiommufd.h.
 *
 * A command is an IORING_OP_URING_CMD SQE on the /dev/iommu fd: cmd_op is
 * the ioctl number and the SQE's command area holds struct
 * iommu_uring_cmd, whose arg points at the command struct; the CQE's res
 * is what the ioctl would have returned. Commands are kept in our own
 * queue until iommufd_uring_submit() turns them into SQEs, so a batch
 * can still be dropped whole.
 */
#include <errno.h>
#include <liburing.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libiommufd.h"

/* Largest command struct a deferred command may have. */
#define URING_COPY_MAX 4096

struct uring_entry {
	unsigned long request;
	void *arg;
	void *copy;	/* owned: a deferred command's struct */
};

struct iommufd_uring {
	struct iommufd_transport transport;	/* first: see uring_ioctl() */
	struct io_uring ring;
	unsigned int entries;
	unsigned int queued;
	bool defer;
	/* The fd is registered with the ring: no fd lookup per command. */
	bool fixed_file;
	struct uring_entry *queue;
};

int iommufd_uring_init(int fd, unsigned int entries,
		       struct iommufd_uring **urp)
{
	struct iommufd_uring *ur;
	int rc;

	if (!entries)
		return -EINVAL;
	ur = calloc(1, sizeof(*ur));
	if (!ur)
		return -ENOMEM;
	ur->queue = calloc(entries, sizeof(*ur->queue));
	if (!ur->queue) {
		free(ur);
		return -ENOMEM;
	}
	rc = io_uring_queue_init(entries, &ur->ring, 0);
	if (rc) {
		free(ur->queue);
		free(ur);
		return rc;
	}
	ur->transport.fd = fd;
	ur->entries = entries;
	ur->fixed_file = !io_uring_register_files(&ur->ring, &fd, 1);
	*urp = ur;
	return 0;
}

void iommufd_uring_discard(struct iommufd_uring *ur)
{
	unsigned int i;

	for (i = 0; i < ur->queued; i++)
		free(ur->queue[i].copy);
	memset(ur->queue, 0, ur->queued * sizeof(*ur->queue));
	ur->queued = 0;
}

void iommufd_uring_exit(struct iommufd_uring *ur)
{
	if (!ur)
		return;
	iommufd_uring_discard(ur);
	/*
	 * Unregistering drops the ring's hold on the fd at once; the ring's
	 * own teardown is asynchronous, and a caller closing the fd next
	 * expects the context to go.
	 */
	if (ur->fixed_file)
		io_uring_unregister_files(&ur->ring);
	io_uring_queue_exit(&ur->ring);
	free(ur->queue);
	free(ur);
}

int iommufd_uring_queue(struct iommufd_uring *ur, unsigned long request,
			void *arg)
{
	if (ur->queued == ur->entries)
		return -EBUSY;
	ur->queue[ur->queued].request = request;
	ur->queue[ur->queued].arg = arg;
	return ur->queued++;
}

int iommufd_uring_submit(struct iommufd_uring *ur, int *results)
{
	unsigned int n = ur->queued, i, done;
	struct iommu_uring_cmd hdr = { };
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	int rc;

	for (i = 0; i < n; i++) {
		sqe = io_uring_get_sqe(&ur->ring);
		if (!sqe) {
			/* Cannot happen: the ring has room for entries. */
			iommufd_uring_discard(ur);
			return -EBUSY;
		}
		if (ur->fixed_file) {
			io_uring_prep_rw(IORING_OP_URING_CMD, sqe, 0, NULL, 0,
					 0);
			sqe->flags |= IOSQE_FIXED_FILE;
		} else {
			io_uring_prep_rw(IORING_OP_URING_CMD, sqe,
					 ur->transport.fd, NULL, 0, 0);
		}
		sqe->cmd_op = ur->queue[i].request;
		sqe->user_data = i;
		hdr.arg = (__u64)(uintptr_t)ur->queue[i].arg;
		memcpy(sqe->cmd, &hdr, sizeof(hdr));
		if (results)
			results[i] = -EIO;
	}
	rc = n ? io_uring_submit_and_wait(&ur->ring, n) : 0;
	if (rc < 0) {
		iommufd_uring_discard(ur);
		return rc;
	}
	/* Every SQE submitted posts one CQE, in whatever order. */
	for (done = 0; done < (unsigned int)rc; done++) {
		if (io_uring_wait_cqe(&ur->ring, &cqe))
			break;
		if (results && cqe->user_data < n)
			results[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(&ur->ring, cqe);
	}
	iommufd_uring_discard(ur);
	return (unsigned int)rc == n ? (int)n : -EIO;
}

int iommufd_uring_cmd(struct iommufd_uring *ur, unsigned long request,
		      void *arg)
{
	int res, rc;

	if (ur->queued)
		return -EBUSY;
	iommufd_uring_queue(ur, request, arg);
	rc = iommufd_uring_submit(ur, &res);
	return rc < 0 ? rc : res;
}

/* iommufd_ioctl() of a routed thread: now, or queued when deferring. */
static int uring_ioctl(struct iommufd_transport *t, unsigned long request,
		       void *arg)
{
	struct iommufd_uring *ur = (struct iommufd_uring *)t;
	__u32 size;
	void *copy;
	int rc;

	if (!ur->defer)
		return iommufd_uring_cmd(ur, request, arg);
	memcpy(&size, arg, sizeof(size));
	if (size < sizeof(size) || size > URING_COPY_MAX)
		return -EINVAL;
	copy = malloc(size);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, arg, size);
	rc = iommufd_uring_queue(ur, request, copy);
	if (rc < 0) {
		free(copy);
		return rc;
	}
	ur->queue[rc].copy = copy;
	return -EINPROGRESS;
}

void iommufd_uring_route(struct iommufd_uring *ur)
{
	if (ur)
		ur->transport.ioctl = uring_ioctl;
	iommufd_set_transport(ur ? &ur->transport : NULL);
}

void iommufd_uring_defer(struct iommufd_uring *ur, bool defer)
{
	ur->defer = defer;
}
