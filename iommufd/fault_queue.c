// SPDX-License-Identifier: GPL-2.0
/*
 * Fault queues: I/O page faults of devices, handed to userspace.
 *
 * An HWPT made with IOMMU_HWPT_FAULT_ID_VALID names a fault queue; a
 * device attached to it reports page requests, which are gathered into
 * groups (the faults of one page request group, closed by the one with
 * IOMMU_PGFAULT_FLAGS_LAST_PAGE) and queued here; userspace reads them
 * from the queue's file as struct iommu_hwpt_pgfault records and writes
 * one struct iommu_hwpt_page_response per group, which goes back to the
 * device.
 *
 * In the kernel, the IOMMU driver reports faults to the iopf core
 * (iommu_report_device_fault()), which needs an iopf queue of a real
 * IOMMU device and whose API differs between 6.1 and 6.12. Our devices
 * are reached without one (the mock devices of test builds are not on a
 * bus; real ones come through VFIO's container), so this file plays the
 * iopf core's part itself: a device's driver (struct iommufd_device_ops)
 * reports faults here and receives the answers through its page_response
 * callback, the same on every kernel. Real devices have no such callback,
 * so they never attach to an HWPT with a fault queue (-ENODEV).
 *
 * Above the HWPTs (which hold queues through fault_queue.h's inline
 * helpers) and below the devices, which call in when they attach and
 * detach.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>

#include "fault.h"
#include "fault_queue.h"
#include "iommufd_private.h"

/**
 * struct iommufd_fault_group - the faults of one page request group
 * @node: in the queue's deliver list until read
 * @idev: the device that reported it; attached to the queue's HWPT for
 *	as long as the group exists
 * @nfaults: entries in @faults, the last one with
 *	IOMMU_PGFAULT_FLAGS_LAST_PAGE
 * @faults: the records userspace reads, in the order the device reported
 *	them; dev_id is filled in at report, cookie at read
 */
struct iommufd_fault_group {
	struct list_head node;
	struct iommufd_device *idev;
	unsigned int nfaults;
	struct iommu_hwpt_pgfault faults[];
};

/* A fault waiting for the last fault of its group; on idev->iopf_partial. */
struct iommufd_fault_partial {
	struct list_head node;
	struct iommu_hwpt_pgfault fault;
};

/*
 * Groups and partial faults alive, module-wide: a leak check for the
 * tests (IOMMU_TEST_OP_IOPF_RESPONSES), which read it when no fault of
 * theirs may be left.
 */
static atomic_long_t fault_live = ATOMIC_LONG_INIT(0);

long iommufd_fault_live(void)
{
	return atomic_long_read(&fault_live);
}

static void fault_free(void *p)
{
	kfree(p);
	atomic_long_dec(&fault_live);
}

/* Answer the device directly: the fault went into no group. */
static void fault_respond(struct iommufd_device *idev,
			  const struct iommu_hwpt_pgfault *last, u32 code)
{
	if (idev->ops->page_response)
		idev->ops->page_response(idev, last, code);
}

/* Answer a group and free it; it is on no list and in no xarray. */
static void fault_group_answer(struct iommufd_fault_group *group, u32 code)
{
	fault_respond(group->idev, &group->faults[group->nfaults - 1], code);
	fault_free(group);
}

/*
 * Answer IOMMUFD_PAGE_RESP_INVALID to every group of @idev in @fq, or to
 * every group when @idev is NULL, read or not.
 */
static void fault_queue_answer_all(struct iommufd_fault_queue *fq,
				   struct iommufd_device *idev)
{
	struct iommufd_fault_group *group, *next;
	unsigned long index;

	lockdep_assert_held(&fq->mutex);
	list_for_each_entry_safe(group, next, &fq->deliver, node) {
		if (idev && group->idev != idev)
			continue;
		list_del(&group->node);
		fault_group_answer(group, IOMMUFD_PAGE_RESP_INVALID);
	}
	xa_for_each(&fq->response, index, group) {
		if (idev && group->idev != idev)
			continue;
		xa_erase(&fq->response, index);
		fault_group_answer(group, IOMMUFD_PAGE_RESP_INVALID);
		cond_resched();
	}
}

/*
 * The object goes: its file is closed and no HWPT names it, so no device
 * can have a group here any more; answer anything left all the same.
 */
static void fault_queue_destroy(struct iommufd_object *obj)
{
	struct iommufd_fault_queue *fq =
		container_of(obj, struct iommufd_fault_queue, obj);

	mutex_lock(&fq->mutex);
	fault_queue_answer_all(fq, NULL);
	mutex_unlock(&fq->mutex);
	xa_destroy(&fq->response);
	mutex_destroy(&fq->mutex);
}

static const struct iommufd_object_ops fault_queue_ops = {
	.destroy = fault_queue_destroy,
};

/*
 * Queue a new group, or answer it at once if nobody can read it any more.
 */
static void fault_queue_add(struct iommufd_fault_queue *fq,
			    struct iommufd_fault_group *group)
{
	mutex_lock(&fq->mutex);
	if (fq->closed) {
		fault_group_answer(group, IOMMUFD_PAGE_RESP_INVALID);
	} else {
		list_add_tail(&group->node, &fq->deliver);
		wake_up_interruptible_poll(&fq->wait, EPOLLIN | EPOLLRDNORM);
	}
	mutex_unlock(&fq->mutex);
}

/*
 * Move the first group from @deliver to @response under a new cookie and
 * copy its records to @buf. The group stays first in @deliver if that
 * fails. Returns the bytes copied or -errno.
 */
static ssize_t fault_queue_read_group(struct iommufd_fault_queue *fq,
				      struct iommufd_fault_group *group,
				      char __user *buf)
{
	size_t len = group->nfaults * sizeof(group->faults[0]);
	unsigned int i;
	u32 cookie;
	int rc;

	if (iommufd_fault_hit(IOMMUFD_FAULT_ALLOC))
		return -ENOMEM;
	rc = xa_alloc(&fq->response, &cookie, group, xa_limit_32b,
		      GFP_KERNEL_ACCOUNT);
	if (rc)
		return rc;
	for (i = 0; i != group->nfaults; i++)
		group->faults[i].cookie = cookie;
	if (iommufd_copy_to_user(buf, group->faults, len)) {
		xa_erase(&fq->response, cookie);
		return -EFAULT;
	}
	list_del(&group->node);
	return len;
}

/*
 * read(): as many whole groups as fit, each as its records. Upstream's
 * rules: a file position or a size that is not a multiple of the record
 * gives ESPIPE; a first group that does not fit gives EINVAL; an empty
 * queue gives 0 at once (there is no blocking read: poll() first).
 */
static ssize_t fault_queue_fops_read(struct file *file, char __user *buf,
				     size_t count, loff_t *ppos)
{
	struct iommufd_fault_queue *fq = file->private_data;
	const size_t rec = sizeof(struct iommu_hwpt_pgfault);
	struct iommufd_fault_group *group;
	ssize_t done = 0, rc = 0;

	if (*ppos || count % rec)
		return -ESPIPE;
	mutex_lock(&fq->mutex);
	while ((group = list_first_entry_or_null(&fq->deliver,
						 struct iommufd_fault_group,
						 node))) {
		if (group->nfaults * rec > count - done) {
			if (!done)
				rc = -EINVAL;
			break;
		}
		rc = fault_queue_read_group(fq, group, buf + done);
		if (rc < 0)
			break;
		done += rc;
	}
	mutex_unlock(&fq->mutex);
	return done ? done : rc;
}

/*
 * write(): answers, in order, each to the group read with its cookie.
 * Upstream's rules: ESPIPE as for read(); an answer with a code userspace
 * may not give, or a cookie of no group awaiting one, stops the write
 * with EINVAL; the result is the bytes of the answers that went through,
 * or the error if the first did not.
 */
static ssize_t fault_queue_fops_write(struct file *file,
				      const char __user *buf, size_t count,
				      loff_t *ppos)
{
	struct iommufd_fault_queue *fq = file->private_data;
	struct iommu_hwpt_page_response resp;
	struct iommufd_fault_group *group;
	ssize_t done = 0;
	int rc = 0;

	if (*ppos || count % sizeof(resp))
		return -ESPIPE;
	mutex_lock(&fq->mutex);
	while (done < count) {
		if (iommufd_copy_from_user(&resp, buf + done, sizeof(resp))) {
			rc = -EFAULT;
			break;
		}
		if (resp.code != IOMMUFD_PAGE_RESP_SUCCESS &&
		    resp.code != IOMMUFD_PAGE_RESP_INVALID) {
			rc = -EINVAL;
			break;
		}
		group = xa_erase(&fq->response, resp.cookie);
		if (!group) {
			rc = -EINVAL;
			break;
		}
		fault_group_answer(group, resp.code);
		done += sizeof(resp);
		cond_resched();
	}
	mutex_unlock(&fq->mutex);
	return done ? done : rc;
}

/* Writable always (answers are never refused for room); readable when a
 * group waits.
 */
static __poll_t fault_queue_fops_poll(struct file *file,
				      struct poll_table_struct *wait)
{
	struct iommufd_fault_queue *fq = file->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &fq->wait, wait);
	mutex_lock(&fq->mutex);
	if (!list_empty(&fq->deliver))
		mask |= EPOLLIN | EPOLLRDNORM;
	mutex_unlock(&fq->mutex);
	return mask;
}

/*
 * The last close of the file. Nobody can read or answer any more, so
 * every group waiting, read or not, is answered INVALID now, and so is
 * every later one (upstream leaves them until the object is destroyed,
 * which the devices would wait for in vain). Then the object may be
 * destroyed, and the context may go.
 */
static int fault_queue_fops_release(struct inode *inode, struct file *file)
{
	struct iommufd_fault_queue *fq = file->private_data;
	struct iommufd_ctx *ictx = fq->ictx;

	mutex_lock(&fq->mutex);
	fq->closed = true;
	fault_queue_answer_all(fq, NULL);
	mutex_unlock(&fq->mutex);
	/* The object may be freed from here on. */
	refcount_dec(&fq->obj.users);
	iommufd_ctx_unref(ictx);
	return 0;
}

static const struct file_operations fault_queue_fops = {
	.owner = THIS_MODULE,
	.read = fault_queue_fops_read,
	.write = fault_queue_fops_write,
	.poll = fault_queue_fops_poll,
	.release = fault_queue_fops_release,
	.llseek = noop_llseek,
};

/*
 * IOMMU_FAULT_QUEUE_ALLOC, in upstream's order: flags (EOPNOTSUPP), the
 * object (ENOMEM), the fd (EMFILE), the reply (EFAULT), the file. Through
 * io_uring it runs from an io-wq worker (it may sleep), a thread of the
 * task the ring serves that shares its file table, so the fd lands where
 * io_uring's own IORING_OP_OPENAT puts one; the reply goes to the struct
 * at the SQE's pointer (never inline: the fd and ID are the reply).
 */
int iommufd_fault_queue_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_fault_alloc *cmd = ucmd->cmd;
	struct iommufd_fault_queue *fq;
	struct file *file;
	int fd, rc;

	if (cmd->flags)
		return -EOPNOTSUPP;
	fq = iommufd_object_alloc(ucmd->ictx, fq, IOMMUFD_OBJ_FAULT,
				  &fault_queue_ops);
	if (IS_ERR(fq))
		return PTR_ERR(fq);
	fq->ictx = ucmd->ictx;
	mutex_init(&fq->mutex);
	INIT_LIST_HEAD(&fq->deliver);
	xa_init_flags(&fq->response, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	init_waitqueue_head(&fq->wait);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		rc = fd;
		goto err_abort;
	}
	/*
	 * Reply first: from the file's creation on, undoing would mean a
	 * release that runs only later, from the task's work.
	 */
	cmd->out_fault_id = fq->obj.id;
	cmd->out_fault_fd = fd;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto err_fd;
	file = iommufd_fault_hit(IOMMUFD_FAULT_ALLOC) ? ERR_PTR(-ENOMEM) :
	       anon_inode_getfile("[iommufd-pgfault]", &fault_queue_fops, fq,
				  O_RDWR);
	if (IS_ERR(file)) {
		rc = PTR_ERR(file);
		goto err_fd;
	}
	/* The file's references; its release drops them. */
	refcount_inc(&fq->obj.users);
	iommufd_ctx_ref(fq->ictx);
	iommufd_object_finalize(ucmd->ictx, &fq->obj);
	fd_install(fd, file);
	return 0;

err_fd:
	put_unused_fd(fd);
err_abort:
	xa_destroy(&fq->response);
	mutex_destroy(&fq->mutex);
	iommufd_object_abort(ucmd->ictx, &fq->obj);
	return rc;
}

/*
 * Before a device attaches to an HWPT whose queue is @fq (NULL: none):
 * turn its IOPF on if it was off. -ENODEV for a device that cannot.
 */
int iommufd_fault_attach_prepare(struct iommufd_device *idev,
				 struct iommufd_fault_queue *fq)
{
	lockdep_assert_held(&idev->lock);
	if (!fq || idev->fault)
		return 0;
	if (!idev->ops->iopf_enable)
		return -ENODEV;
	return idev->ops->iopf_enable(idev);
}

/* Drop every fault of @idev waiting for its group's last one. */
static void fault_drop_partial(struct iommufd_device *idev)
{
	struct iommufd_fault_partial *p, *next;

	list_for_each_entry_safe(p, next, &idev->iopf_partial, node) {
		list_del(&p->node);
		fault_free(p);
	}
	idev->iopf_npartial = 0;
}

/* IOPF off: the device reports no more faults. Under its lock. */
static void fault_iopf_off(struct iommufd_device *idev)
{
	fault_drop_partial(idev);
	idev->ops->iopf_disable(idev);
}

/* The attach after iommufd_fault_attach_prepare() failed: undo it. */
void iommufd_fault_attach_abort(struct iommufd_device *idev,
				struct iommufd_fault_queue *fq)
{
	lockdep_assert_held(&idev->lock);
	if (fq && !idev->fault)
		fault_iopf_off(idev);
}

/**
 * iommufd_fault_attach_commit - the device now translates through an HWPT
 *	whose queue is @fq, or through none (@fq NULL: detached, or an HWPT
 *	without a queue)
 * @idev: the device; the caller holds its lock
 * @fq: the new queue
 *
 * Leaving a queue, the device's groups in it, read or not, are answered
 * IOMMUFD_PAGE_RESP_INVALID, as upstream does: the faults were for the
 * translation the device had. Leaving the last one turns IOPF off.
 */
void iommufd_fault_attach_commit(struct iommufd_device *idev,
				 struct iommufd_fault_queue *fq)
{
	struct iommufd_fault_queue *old = idev->fault;

	lockdep_assert_held(&idev->lock);
	if (old && old != fq) {
		mutex_lock(&old->mutex);
		fault_queue_answer_all(old, idev);
		mutex_unlock(&old->mutex);
	}
	if (old && !fq)
		fault_iopf_off(idev);
	idev->fault = fq;
}

/* Keep a fault until the last fault of its group comes. */
static int fault_add_partial(struct iommufd_device *idev,
			     const struct iommu_hwpt_pgfault *fault)
{
	struct iommufd_fault_partial *p;

	if (idev->iopf_npartial >= IOMMUFD_IOPF_MAX_PARTIAL)
		return -ENOSPC;
	p = iommufd_kzalloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	atomic_long_inc(&fault_live);
	p->fault = *fault;
	list_add_tail(&p->node, &idev->iopf_partial);
	idev->iopf_npartial++;
	return 0;
}

/*
 * The group that @last closes: the device's partial faults of the same
 * group index, in the order they came, then @last. They leave the
 * partial list whether or not the group could be made.
 */
static struct iommufd_fault_group *
fault_group_make(struct iommufd_device *idev,
		 const struct iommu_hwpt_pgfault *last)
{
	struct iommufd_fault_partial *p, *next;
	struct iommufd_fault_group *group;
	unsigned int n = 1;

	list_for_each_entry(p, &idev->iopf_partial, node)
		n += p->fault.grpid == last->grpid;
	group = iommufd_kzalloc(struct_size(group, faults, n));
	if (group) {
		atomic_long_inc(&fault_live);
		group->idev = idev;
		group->nfaults = n;
		n = 0;
	}
	list_for_each_entry_safe(p, next, &idev->iopf_partial, node) {
		if (p->fault.grpid != last->grpid)
			continue;
		if (group)
			group->faults[n++] = p->fault;
		list_del(&p->node);
		idev->iopf_npartial--;
		fault_free(p);
	}
	if (group)
		group->faults[n] = *last;
	return group;
}

/**
 * iommufd_fault_report - a device reports an I/O page fault
 * @idev: the device
 * @fault: the fault as userspace will read it: flags (PASID_VALID,
 *	LAST_PAGE), pasid, grpid, perm, addr, length; dev_id and cookie are
 *	filled in here and at read
 *
 * As the kernel's iopf core does: a device on no HWPT with a fault queue
 * is answered IOMMUFD_PAGE_RESP_INVALID at once; a fault that is not its
 * group's last waits for it; the last one queues the whole group. When
 * the group cannot be made, the device is answered
 * IOMMUFD_PAGE_RESP_FAILURE, and the error is returned (-ENOMEM; -ENOSPC
 * for a device with too many partial faults, whose fault is dropped).
 */
int iommufd_fault_report(struct iommufd_device *idev,
			 const struct iommu_hwpt_pgfault *fault)
{
	struct iommu_hwpt_pgfault rec = *fault;
	struct iommufd_fault_group *group;
	int rc = 0;

	rec.dev_id = idev->obj.id;
	rec.cookie = 0;
	mutex_lock(&idev->lock);
	if (!idev->fault) {
		fault_respond(idev, &rec, IOMMUFD_PAGE_RESP_INVALID);
		goto out_unlock;
	}
	if (!(rec.flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE)) {
		rc = fault_add_partial(idev, &rec);
		goto out_unlock;
	}
	group = fault_group_make(idev, &rec);
	if (!group) {
		fault_respond(idev, &rec, IOMMUFD_PAGE_RESP_FAILURE);
		rc = -ENOMEM;
		goto out_unlock;
	}
	fault_queue_add(idev->fault, group);
out_unlock:
	mutex_unlock(&idev->lock);
	return rc;
}
