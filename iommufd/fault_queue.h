/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault queues (IOMMU_FAULT_QUEUE_ALLOC): an object and a file through
 * which userspace reads the I/O page faults (PCI page requests) of the
 * devices attached to HWPTs made with IOMMU_HWPT_FAULT_ID_VALID, and
 * writes the answers; only nested HWPTs take one, as in upstream 6.12.
 * fault_queue.c implements them; this header also gives the HWPT layers
 * below it (HWPT_ALLOC and nested HWPTs) the inline helpers they need to
 * hold a queue, so that they use no symbol of fault_queue.c.
 * Documentation/fault-queues.rst describes the design.
 */
#ifndef IOMMUFD_FAULT_QUEUE_H
#define IOMMUFD_FAULT_QUEUE_H

#include <linux/err.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "iommufd_private.h"

/*
 * The answer a device gets for a group the module could not queue (no
 * memory): the kernel's IOMMU_PAGE_RESP_FAILURE, next to the two codes
 * userspace may write (enum iommufd_page_response_code).
 */
#define IOMMUFD_PAGE_RESP_FAILURE 2

/* Most faults a device may have waiting for the last fault of a group. */
#define IOMMUFD_IOPF_MAX_PARTIAL 256

/**
 * struct iommufd_fault_queue - a fault queue object
 * @obj: the object header. Its file holds a long-term reference until it
 *	is closed, and so does every HWPT made with the queue's ID, so
 *	IOMMU_DESTROY fails with EBUSY while either exists.
 * @ictx: the context; the file holds a reference on it (its @users)
 * @mutex: guards @deliver, @response and @closed, and orders every answer
 *	to a group of this queue. Lock order: device lock -> @mutex; the
 *	devices' page_response callbacks run under it.
 * @deliver: struct iommufd_fault_group not yet read, oldest first
 * @response: groups read and not yet answered, by the cookie read with
 *	them (from 1)
 * @wait: poll() waits here for @deliver to fill
 * @closed: the file is gone: nobody can read or answer any more, so every
 *	group is answered IOMMUFD_PAGE_RESP_INVALID at once
 *
 * Every group of a device is in the queue its device's @fault names: a
 * device leaving the queue has its groups answered first, under @mutex.
 * So a group never outlives the attachment of its device.
 */
struct iommufd_fault_queue {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct mutex mutex; /* deliver, response, closed */
	struct list_head deliver;
	struct xarray response;
	wait_queue_head_t wait;
	bool closed;
};

static_assert(offsetof(struct iommufd_fault_queue, obj) == 0);

/**
 * iommufd_fault_queue_hold - the queue of IOMMU_HWPT_ALLOC's fault_id
 * @ictx: the context
 * @id: the fault_id
 * @out: the queue, with a long-term reference for the HWPT, which drops
 *	it with iommufd_fault_queue_release()
 *
 * For a nested HWPT's allocation, after the domain is made, as upstream
 * checks in that order. Returns -ENOENT if @id is no fault
 * queue of @ictx.
 */
static inline int iommufd_fault_queue_hold(struct iommufd_ctx *ictx, u32 id,
					   struct iommufd_fault_queue **out)
{
	struct iommufd_object *obj;

	obj = iommufd_get_object(ictx, id, IOMMUFD_OBJ_FAULT);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	refcount_inc(&obj->users);
	iommufd_put_object(ictx, obj);
	*out = container_of(obj, struct iommufd_fault_queue, obj);
	return 0;
}

/* Drop an HWPT's reference from iommufd_fault_queue_hold(); NULL is none. */
static inline void iommufd_fault_queue_release(struct iommufd_fault_queue *fq)
{
	if (fq)
		refcount_dec(&fq->obj.users);
}

int iommufd_fault_queue_alloc(struct iommufd_ucmd *ucmd);
int iommufd_fault_attach_prepare(struct iommufd_device *idev,
				 struct iommufd_fault_queue *fq);
void iommufd_fault_attach_abort(struct iommufd_device *idev,
				struct iommufd_fault_queue *fq);
void iommufd_fault_attach_commit(struct iommufd_device *idev,
				 struct iommufd_fault_queue *fq);
int iommufd_fault_report(struct iommufd_device *idev,
			 const struct iommu_hwpt_pgfault *fault);
long iommufd_fault_live(void);

#endif
