// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel users of an io_pagetable (accesses, for emulated devices):
 * registering them, telling them about unmaps through their callback, and
 * pinning, unpinning, reading and writing the memory behind IOVA for them
 * area by area. Lookups hold iova_rwsem for read; the users list is
 * guarded by users_lock (struct io_pagetable).
 */
#include <linux/iommu.h>
#include <linux/mutex.h>

#include "iopt_internal.h"
#include "pages.h"

/**
 * iopt_add_user - register an in-kernel user of the address space
 * @iopt: the address space
 * @user: the user, with @user->unmap and @user->iova_alignment set
 *
 * A user that pins whole pages raises the IOVA alignment of the address
 * space to its own; -EADDRINUSE if an existing area is not aligned so.
 */
int iopt_add_user(struct io_pagetable *iopt, struct iopt_user *user)
{
	unsigned long align;
	int rc = 0;

	mutex_lock(&iopt->users_lock);
	down_write(&iopt->iova_rwsem);
	align = max(iopt->iova_alignment, user->iova_alignment);
	if (!iopt_areas_aligned(iopt, align)) {
		rc = -EADDRINUSE;
	} else {
		list_add_tail(&user->node, &iopt->users);
		iopt->users_alignment = iopt_users_alignment(iopt);
		iopt->iova_alignment = align;
	}
	up_write(&iopt->iova_rwsem);
	mutex_unlock(&iopt->users_lock);
	return rc;
}

void iopt_remove_user(struct io_pagetable *iopt, struct iopt_user *user)
{
	mutex_lock(&iopt->users_lock);
	down_write(&iopt->iova_rwsem);
	list_del(&user->node);
	iopt->users_alignment = iopt_users_alignment(iopt);
	iopt->iova_alignment = iopt_min_alignment(iopt);
	up_write(&iopt->iova_rwsem);
	mutex_unlock(&iopt->users_lock);
}

/*
 * Ask every user to unpin what it pinned in [start, last], before an
 * unmap tries again. Called with no io_pagetable lock held.
 */
void iopt_notify_users(struct io_pagetable *iopt, unsigned long start,
		       unsigned long last)
{
	struct iopt_user *user;

	mutex_lock(&iopt->users_lock);
	list_for_each_entry(user, &iopt->users, node)
		user->unmap(user, start, last);
	mutex_unlock(&iopt->users_lock);
}

/* Page indexes within the area's pages that back IOVA [start, last]. */
static void area_indexes(struct iopt_area *area, unsigned long start,
			 unsigned long last, unsigned long *first_index,
			 unsigned long *last_index)
{
	*first_index = area_start_byte(area, start) >> PAGE_SHIFT;
	*last_index = area_start_byte(area, last) >> PAGE_SHIFT;
}

/* Undo iopt_pin() for [iova, last], which must have been pinned. */
static void iopt_unpin_locked(struct io_pagetable *iopt, unsigned long iova,
			      unsigned long last)
{
	struct iopt_area *area;

	for (area = area_first(iopt, iova, last); area;
	     area = area_next(area, iova, last)) {
		unsigned long s = max(iova, area->node.start);
		unsigned long e = min(last, area->node.last);
		unsigned long first_index, last_index;

		area_indexes(area, s, e, &first_index, &last_index);
		iopt_pages_unpin(area->pages, first_index, last_index);
		WARN_ON(atomic_dec_if_positive(&area->num_pins) < 0);
	}
}

/*
 * One area's share of a walk over [iova, last]: IOVA [start, end] of
 * @area; @last_piece says whether the walk ends inside this area.
 */
typedef int (*iopt_piece_fn)(struct iopt_area *area, unsigned long start,
			     unsigned long end, bool last_piece, void *arg);

/*
 * Hand [iova, last] to @fn area by area. The areas must cover it without a
 * gap (-ENOENT), be ready and not being unmapped (-EINVAL) and allow
 * @prot (-EPERM); @fn's error stops the walk. *@done is the first IOVA
 * not handed out. Caller holds iova_rwsem.
 */
static int iopt_walk_contig(struct io_pagetable *iopt, unsigned long iova,
			    unsigned long last, int prot, iopt_piece_fn fn,
			    void *arg, unsigned long *done)
{
	struct iopt_area *area;
	int rc = -ENOENT;

	*done = iova;
	for (area = area_first(iopt, iova, last); area;
	     area = area_next(area, iova, last)) {
		unsigned long end = min(last, area->node.last);

		rc = -ENOENT;
		if (area->node.start > *done || !area->ready)
			break;
		rc = -EINVAL;
		if (area->unmapping)
			break;
		rc = -EPERM;
		if (!(area->iommu_prot & prot))
			break;
		rc = fn(area, *done, end, end == last, arg);
		if (rc)
			break;
		if (end == last)
			return 0;
		*done = end + 1;
		rc = -ENOENT;
	}
	return rc;
}

static int iopt_pin_piece(struct iopt_area *area, unsigned long start,
			  unsigned long end, bool last_piece, void *arg)
{
	struct page ***out = arg;
	unsigned long first_index, last_index;
	int rc;

	/*
	 * Whole pages only: the piece must start on a page, and a piece
	 * that continues in the next area must end on one.
	 */
	if (area_start_byte(area, start) % PAGE_SIZE ||
	    (!last_piece &&
	     area_start_byte(area, end) % PAGE_SIZE != PAGE_SIZE - 1))
		return -EINVAL;
	area_indexes(area, start, end, &first_index, &last_index);
	rc = iopt_pages_pin(area->pages, first_index, last_index, *out);
	if (rc)
		return rc;
	atomic_inc(&area->num_pins);
	if (*out)
		*out += last_index - first_index + 1;
	return 0;
}

/* The last byte of a user's [@iova, @iova + @length): -EINVAL if empty. */
static int iopt_user_range_last(unsigned long iova, unsigned long length,
				unsigned long *last)
{
	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, last))
		return -EOVERFLOW;
	return 0;
}

/**
 * iopt_pin - pin the pages behind [iova, iova + length - 1]
 * @iopt: the address space
 * @iova: start
 * @length: bytes
 * @out: optional, receives one struct page per page index pinned
 * @write: the caller will write to the pages
 *
 * Returns -ENOENT if areas do not cover the range without a gap, -EINVAL
 * if it does not cover whole pages or is being unmapped, -EPERM when the
 * mapping does not allow the access, or the pages layer's error. All or
 * nothing.
 */
int iopt_pin(struct io_pagetable *iopt, unsigned long iova,
	     unsigned long length, struct page **out, bool write)
{
	unsigned long last, done;
	int rc;

	rc = iopt_user_range_last(iova, length, &last);
	if (rc)
		return rc;
	down_read(&iopt->iova_rwsem);
	rc = iopt_walk_contig(iopt, iova, last, write ? IOMMU_WRITE : IOMMU_READ,
			      iopt_pin_piece, &out, &done);
	if (rc && done > iova)
		iopt_unpin_locked(iopt, iova, done - 1);
	up_read(&iopt->iova_rwsem);
	return rc;
}

void iopt_unpin(struct io_pagetable *iopt, unsigned long iova,
		unsigned long length)
{
	unsigned long last;

	if (WARN_ON(!length || check_add_overflow(iova, length - 1, &last)))
		return;
	down_read(&iopt->iova_rwsem);
	iopt_unpin_locked(iopt, iova, last);
	up_read(&iopt->iova_rwsem);
}

struct iopt_rw_arg {
	void *data;
	unsigned int flags;
};

static int iopt_rw_piece(struct iopt_area *area, unsigned long start,
			 unsigned long end, bool last_piece, void *arg)
{
	struct iopt_rw_arg *rw = arg;
	int rc;

	rc = iopt_pages_rw(area->pages, area_start_byte(area, start), rw->data,
			   end - start + 1, rw->flags);
	rw->data += end - start + 1;
	return rc;
}

/**
 * iopt_rw - copy between a kernel buffer and the memory behind IOVA
 * @iopt: the address space
 * @iova: start
 * @data: the kernel buffer
 * @length: bytes
 * @flags: IOPT_RW_* flags
 *
 * Errors as iopt_pin(), plus -EFAULT when the memory is gone.
 */
int iopt_rw(struct io_pagetable *iopt, unsigned long iova, void *data,
	    unsigned long length, unsigned int flags)
{
	struct iopt_rw_arg rw = { .data = data, .flags = flags };
	unsigned long last, done;
	int rc;

	rc = iopt_user_range_last(iova, length, &last);
	if (rc)
		return rc;
	down_read(&iopt->iova_rwsem);
	rc = iopt_walk_contig(iopt, iova, last,
			      (flags & IOPT_RW_WRITE) ? IOMMU_WRITE : IOMMU_READ,
			      iopt_rw_piece, &rw, &done);
	up_read(&iopt->iova_rwsem);
	return rc;
}
