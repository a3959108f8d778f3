// SPDX-License-Identifier: GPL-2.0
/*
 * HW page tables: iommu_domains that mirror an IOAS. A paging HWPT's
 * domain is in its IOAS's io_pagetable from creation to destruction, so it
 * always maps exactly what the IOAS maps.
 */
#include <linux/iommu.h>
#include <linux/slab.h>

#include "fault_queue.h"
#include "iommufd_private.h"
#include "user_data.h"

/* Under the IOAS's mutex: the HWPT no longer counts for VFIO_DMA_CC_IOMMU. */
static void iommufd_hwpt_paging_uncount(struct iommufd_hwpt_paging *hwpt)
{
	lockdep_assert_held(&hwpt->ioas->mutex);
	if (!hwpt->enforce_cache_coherency)
		hwpt->ioas->noncoherent_hwpts--;
}

/* Take the domain out of the IOAS and free it. */
static void iommufd_hwpt_paging_teardown(struct iommufd_hwpt_paging *hwpt)
{
	if (!hwpt->unfilled)
		iopt_table_remove_domain(&hwpt->ioas->iopt, hwpt->domain);
	hwpt->ops->domain_free(hwpt->domain);
	refcount_dec(&hwpt->ioas->obj.users);
}

static void iommufd_hwpt_paging_destroy(struct iommufd_object *obj)
{
	struct iommufd_hwpt_paging *hwpt =
		container_of(obj, struct iommufd_hwpt_paging, obj);

	/* Its last device may have taken it off the list already. */
	mutex_lock(&hwpt->ioas->mutex);
	list_del_init(&hwpt->auto_node);
	list_del(&hwpt->ioas_node);
	iommufd_hwpt_paging_uncount(hwpt);
	mutex_unlock(&hwpt->ioas->mutex);
	iommufd_hwpt_paging_teardown(hwpt);
}

static const struct iommufd_object_ops iommufd_hwpt_paging_ops = {
	.destroy = iommufd_hwpt_paging_destroy,
};

/**
 * iommufd_hwpt_paging_alloc - make a paging HWPT for a device on an IOAS
 * @ictx: the context
 * @ioas: the IOAS to mirror; the caller holds its mutex
 * @idev: the device whose IOMMU allocates the domain
 * @flags: 0 or IOMMU_HWPT_ALLOC_DIRTY_TRACKING, which the caller checked
 *	the device can do
 * @auto_domain: made implicitly by attaching @idev straight to @ioas
 * @attach_first: attach @idev to the new domain before it is filled.
 *	Some IOMMU drivers (virtio-iommu) set a domain's aperture only at
 *	its first attach, so filling it first would find an aperture of
 *	IOVA 0 only. Only for a device translating through nothing yet:
 *	the empty domain blocks its DMA as its owner's blocking domain did.
 *	On success the device stays attached, on failure it is detached.
 *
 * The HWPT is not yet visible to userspace: the caller finalizes it with
 * iommufd_object_finalize() or drops it with iommufd_hwpt_paging_abort().
 * Fails with the driver's error, or with iopt_table_add_domain()'s
 * (-EADDRINUSE when the IOAS holds mappings the domain cannot translate).
 */
struct iommufd_hwpt_paging *
iommufd_hwpt_paging_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			  struct iommufd_device *idev, u32 flags,
			  bool auto_domain, bool attach_first)
{
	struct iommufd_hwpt_paging *hwpt;
	int rc;

	lockdep_assert_held(&ioas->mutex);
	hwpt = iommufd_object_alloc(ictx, hwpt, IOMMUFD_OBJ_HWPT_PAGING,
				    &iommufd_hwpt_paging_ops);
	if (IS_ERR(hwpt))
		return hwpt;
	hwpt->ictx = ictx;
	hwpt->ops = idev->ops;
	hwpt->auto_domain = auto_domain;
	hwpt->dirty_tracking = flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	INIT_LIST_HEAD(&hwpt->auto_node);
	hwpt->domain = idev->ops->domain_alloc_paging(idev, flags);
	if (IS_ERR(hwpt->domain)) {
		rc = PTR_ERR(hwpt->domain);
		goto err_abort;
	}
	hwpt->enforce_cache_coherency =
		idev->ops->enforce_cache_coherency &&
		idev->ops->enforce_cache_coherency(idev, hwpt->domain);
	if (attach_first) {
		rc = idev->ops->attach(idev, hwpt->domain);
		if (rc)
			goto err_free_domain;
	}
	/*
	 * A domain with no page size or no aperture yet (an aperture that
	 * ends at IOVA 0) is one its driver sets up at its first attach:
	 * virtio-iommu on 6.12, whose domains the core gives the driver's
	 * page sizes but which learn their aperture only then. Its first
	 * attach fills it (iommufd_hwpt_fill_locked()).
	 */
	if (!attach_first && (!hwpt->domain->pgsize_bitmap ||
			      !hwpt->domain->geometry.aperture_end)) {
		hwpt->unfilled = true;
	} else {
		rc = iopt_table_add_domain(&ioas->iopt, hwpt->domain);
		if (rc)
			goto err_detach;
	}
	hwpt->ioas = ioas;
	refcount_inc(&ioas->obj.users);
	if (!hwpt->enforce_cache_coherency)
		ioas->noncoherent_hwpts++;
	if (auto_domain)
		list_add_tail(&hwpt->auto_node, &ioas->auto_hwpts);
	list_add_tail(&hwpt->ioas_node, &ioas->hwpts);
	/*
	 * The VFIO container tracks: the new domain joins at once, while it
	 * is empty, so its bits are complete; if it cannot, the container
	 * reports everything mapped as dirty from now on.
	 */
	if (ioas->container_dirty)
		hwpt->container_dirty =
			!iommufd_hwpt_dirty_enable_locked(hwpt, true);
	return hwpt;

err_detach:
	if (attach_first)
		idev->ops->detach(idev);
err_free_domain:
	idev->ops->domain_free(hwpt->domain);
err_abort:
	iommufd_object_abort(ictx, &hwpt->obj);
	return ERR_PTR(rc);
}

/**
 * iommufd_hwpt_fill_locked - put an unfilled HWPT's domain into its IOAS
 * @hwpt: the HWPT; the caller holds its IOAS's mutex and has just
 *	attached a device to its domain, which made the driver set it up
 *
 * Maps everything the IOAS maps. Returns 0 (also for a filled HWPT), or
 * iopt_table_add_domain()'s error (-EADDRINUSE when the domain's aperture
 * leaves out mappings), and then the HWPT stays unfilled.
 */
int iommufd_hwpt_fill_locked(struct iommufd_hwpt_paging *hwpt)
{
	int rc;

	lockdep_assert_held(&hwpt->ioas->mutex);
	if (!hwpt->unfilled)
		return 0;
	rc = iopt_table_add_domain(&hwpt->ioas->iopt, hwpt->domain);
	if (!rc)
		hwpt->unfilled = false;
	return rc;
}

/*
 * Undo iommufd_hwpt_paging_alloc() of a HWPT that was never finalized;
 * the caller still holds the IOAS's mutex.
 */
void iommufd_hwpt_paging_abort(struct iommufd_hwpt_paging *hwpt)
{
	lockdep_assert_held(&hwpt->ioas->mutex);
	list_del(&hwpt->auto_node);
	list_del(&hwpt->ioas_node);
	iommufd_hwpt_paging_uncount(hwpt);
	iommufd_hwpt_paging_teardown(hwpt);
	iommufd_object_abort(hwpt->ictx, &hwpt->obj);
}

/**
 * iommufd_hwpt_get_locked - give a device a reference on @hwpt
 * @hwpt: the HWPT; the caller holds its IOAS's mutex
 *
 * Returns false for an automatic HWPT whose last device has left: it is
 * on its way out and must take no one new. A new automatic HWPT, still on
 * the IOAS's list with no device yet, is its creator's to take.
 */
bool iommufd_hwpt_get_locked(struct iommufd_hwpt_paging *hwpt)
{
	lockdep_assert_held(&hwpt->ioas->mutex);
	if (hwpt->auto_domain && list_empty(&hwpt->auto_node))
		return false;
	hwpt->devices++;
	refcount_inc(&hwpt->obj.users);
	return true;
}

/*
 * Undo iommufd_hwpt_get_locked() within the same hold of the IOAS's
 * mutex, for an attach that failed: the HWPT keeps the devices it had.
 */
void iommufd_hwpt_unget_locked(struct iommufd_hwpt_paging *hwpt)
{
	lockdep_assert_held(&hwpt->ioas->mutex);
	hwpt->devices--;
	refcount_dec(&hwpt->obj.users);
}

/* Keep @hwpt, which a device holds, past that device's leaving. */
void iommufd_hwpt_hold(struct iommufd_hwpt_paging *hwpt)
{
	mutex_lock(&hwpt->ioas->mutex);
	/* Its device holds it, so it cannot be on its way out. */
	WARN_ON(!iommufd_hwpt_get_locked(hwpt));
	mutex_unlock(&hwpt->ioas->mutex);
}

/*
 * Drop a device's reference. An automatic HWPT goes with its last
 * device: once that one leaves, under the IOAS's mutex, it is off the
 * list and no attach can take it, so nothing can keep it alive. One
 * userspace made stays until userspace destroys it. Takes the IOAS's
 * mutex: call it holding no IOAS lock.
 */
void iommufd_hwpt_put(struct iommufd_hwpt_paging *hwpt)
{
	bool last;

	mutex_lock(&hwpt->ioas->mutex);
	last = !--hwpt->devices && hwpt->auto_domain;
	/*
	 * Every other holder's reference goes under the mutex too, so the
	 * last one finds nothing but its own and the table's: its removal
	 * cannot fail with EBUSY and leave the HWPT behind.
	 */
	if (last)
		list_del_init(&hwpt->auto_node);
	else
		refcount_dec(&hwpt->obj.users);
	mutex_unlock(&hwpt->ioas->mutex);
	if (last)
		iommufd_object_put_owned(hwpt->ictx, &hwpt->obj);
}

/*
 * What 6.12's HWPT_ALLOC refuses on an IOAS once both objects are found,
 * all EOPNOTSUPP: driver data, and every flag but NEST_PARENT and
 * DIRTY_TRACKING (FAULT_ID_VALID among them: 6.12 gives fault queues to
 * nested HWPTs only, so a fault_id is never looked up here); NEST_PARENT
 * for a device whose driver cannot nest; DIRTY_TRACKING for a device
 * whose IOMMU cannot track.
 */
static int hwpt_alloc_paging_check(const struct iommu_hwpt_alloc *cmd,
				   struct iommufd_device *idev)
{
	const u32 paging_flags = IOMMU_HWPT_ALLOC_NEST_PARENT |
				 IOMMU_HWPT_ALLOC_DIRTY_TRACKING;

	if ((cmd->flags & ~paging_flags) ||
	    cmd->data_type != IOMMU_HWPT_DATA_NONE)
		return -EOPNOTSUPP;
	if ((cmd->flags & IOMMU_HWPT_ALLOC_NEST_PARENT) &&
	    !idev->ops->domain_alloc_nested)
		return -EOPNOTSUPP;
	if ((cmd->flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) &&
	    !(idev->ops->dirty_capable &&
	      idev->ops->dirty_capable(idev)))
		return -EOPNOTSUPP;
	return 0;
}

/* A paging HWPT on @ioas for HWPT_ALLOC; its object is not finalized. */
static struct iommufd_object *hwpt_alloc_paging(struct iommufd_ucmd *ucmd,
						struct iommufd_ioas *ioas,
						struct iommufd_device *idev)
{
	struct iommu_hwpt_alloc *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt;
	int rc;

	rc = hwpt_alloc_paging_check(cmd, idev);
	if (rc)
		return ERR_PTR(rc);
	mutex_lock(&ioas->mutex);
	/* The driver is asked for dirty tracking only: nesting is ours. */
	hwpt = iommufd_hwpt_paging_alloc(ucmd->ictx, ioas, idev,
					 cmd->flags &
					 IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
					 false, false);
	if (!IS_ERR(hwpt))
		hwpt->nest_parent = cmd->flags & IOMMU_HWPT_ALLOC_NEST_PARENT;
	mutex_unlock(&ioas->mutex);
	return IS_ERR(hwpt) ? ERR_CAST(hwpt) : &hwpt->obj;
}

/*
 * A nested HWPT on @parent for HWPT_ALLOC (hwpt_nested.c has the checks);
 * its object is not finalized.
 */
static struct iommufd_object *
hwpt_alloc_nested(struct iommufd_ucmd *ucmd,
		  struct iommufd_hwpt_paging *parent,
		  struct iommufd_device *idev)
{
	struct iommu_hwpt_alloc *cmd = ucmd->cmd;
	const struct iommufd_user_data data = {
		.type = cmd->data_type,
		.uptr = u64_to_user_ptr(cmd->data_uptr),
		.len = cmd->data_len,
	};
	struct iommufd_hwpt_nested *nested;

	nested = iommufd_hwpt_nested_alloc(ucmd->ictx, parent, idev,
					   cmd->flags, &data);
	if (IS_ERR(nested))
		return ERR_CAST(nested);
	return &nested->obj;
}

static struct iommufd_ioas *to_ioas(struct iommufd_object *obj)
{
	return container_of(obj, struct iommufd_ioas, obj);
}

static struct iommufd_hwpt_paging *to_hwpt_paging(struct iommufd_object *obj)
{
	return container_of(obj, struct iommufd_hwpt_paging, obj);
}

static struct iommufd_hwpt_nested *to_hwpt_nested(struct iommufd_object *obj)
{
	return container_of(obj, struct iommufd_hwpt_nested, obj);
}

/* Drop a HWPT of HWPT_ALLOC that was never finalized. */
static void hwpt_alloc_abort(struct iommufd_object *obj)
{
	struct iommufd_hwpt_paging *hwpt;

	if (obj->type == IOMMUFD_OBJ_HWPT_NESTED) {
		struct iommufd_hwpt_nested *nested =
			container_of(obj, struct iommufd_hwpt_nested, obj);

		iommufd_hwpt_nested_abort(nested);
		return;
	}
	hwpt = container_of(obj, struct iommufd_hwpt_paging, obj);
	mutex_lock(&hwpt->ioas->mutex);
	iommufd_hwpt_paging_abort(hwpt);
	mutex_unlock(&hwpt->ioas->mutex);
}

/*
 * IOMMU_HWPT_ALLOC, in upstream's order: a non-zero __reserved
 * (EOPNOTSUPP; __reserved2 is ignored, as upstream), data_len against
 * data_type (EINVAL), the device (ENOENT), the page table (EINVAL if it
 * names nothing, or neither an IOAS nor a paging HWPT: a nested HWPT is
 * no parent), then the paging or the nested HWPT's own checks.
 */
int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_alloc *cmd = ucmd->cmd;
	struct iommufd_object *pt_obj, *hwpt_obj;
	struct iommufd_device *idev;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	/* Driver data and its length come together or not at all. */
	if (!cmd->data_len != !(cmd->data_type != IOMMU_HWPT_DATA_NONE))
		return -EINVAL;

	pt_obj = iommufd_get_object(ucmd->ictx, cmd->dev_id,
				    IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(pt_obj))
		return PTR_ERR(pt_obj);
	idev = container_of(pt_obj, struct iommufd_device, obj);

	pt_obj = iommufd_get_object(ucmd->ictx, cmd->pt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(pt_obj)) {
		/* Upstream reports a bad page table ID as EINVAL. */
		rc = -EINVAL;
		goto out_put_idev;
	}
	switch (pt_obj->type) {
	case IOMMUFD_OBJ_IOAS:
		hwpt_obj = hwpt_alloc_paging(ucmd, to_ioas(pt_obj), idev);
		break;
	case IOMMUFD_OBJ_HWPT_PAGING:
		hwpt_obj = hwpt_alloc_nested(ucmd, to_hwpt_paging(pt_obj),
					     idev);
		break;
	default:
		hwpt_obj = ERR_PTR(-EINVAL);
	}
	if (IS_ERR(hwpt_obj)) {
		rc = PTR_ERR(hwpt_obj);
		goto out_put_pt;
	}
	/*
	 * After the domain, as upstream: a bad fault_id is ENOENT. Only a
	 * nested HWPT gets this far with FAULT_ID_VALID.
	 */
	rc = 0;
	if (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID)
		rc = iommufd_fault_queue_hold(ucmd->ictx, cmd->fault_id,
					      &to_hwpt_nested(hwpt_obj)->fault);
	cmd->out_hwpt_id = hwpt_obj->id;
	if (!rc)
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		hwpt_alloc_abort(hwpt_obj);
	} else {
		iommufd_object_finalize(ucmd->ictx, hwpt_obj);
		rc = iommufd_ucmd_new_id(ucmd, cmd->out_hwpt_id);
	}
out_put_pt:
	iommufd_put_object(ucmd->ictx, pt_obj);
out_put_idev:
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}

/*
 * The domain's driver as an iopt_dirty_read_fn; @ctx is the HWPT. The
 * VFIO container reads its HWPTs through it, inside its own walk.
 */
int iommufd_hwpt_dirty_read_fn(void *ctx, unsigned long iova,
			       unsigned long length, unsigned long flags,
			       struct iommufd_dirty_bits *dirty)
{
	struct iommufd_hwpt_paging *hwpt = ctx;

	return hwpt->ops->read_and_clear_dirty(hwpt->domain, iova, length,
					       flags, dirty);
}

/**
 * iommufd_hwpt_dirty_enable_locked - start or stop recording writes
 * @hwpt: the HWPT; the caller holds its IOAS's mutex
 * @enable: start (after forgetting what was recorded before) or stop
 *
 * Starting clears the dirty state of everything mapped first, as
 * upstream does, so the first read reports only writes from now on.
 * Returns -EOPNOTSUPP if the domain cannot track, or the driver's error.
 */
int iommufd_hwpt_dirty_enable_locked(struct iommufd_hwpt_paging *hwpt,
				     bool enable)
{
	int rc;

	lockdep_assert_held(&hwpt->ioas->mutex);
	if (!hwpt->ops->set_dirty_tracking)
		return -EOPNOTSUPP;
	if (enable) {
		rc = iopt_clear_dirty(&hwpt->ioas->iopt, iommufd_hwpt_dirty_read_fn,
				      hwpt);
		if (rc)
			return rc;
	}
	rc = hwpt->ops->set_dirty_tracking(hwpt->domain, enable);
	if (rc)
		return rc;
	hwpt->dirty_enabled = enable;
	if (!enable)
		hwpt->container_dirty = false;
	return 0;
}

/**
 * iommufd_hwpt_read_dirty - the dirty bitmap of a range of @hwpt's domain
 * @hwpt: the HWPT; the caller holds a reference
 * @iova: IOVA of bit 0; the range passed iopt_check_dirty_range()
 * @length: bytes
 * @page_size: bytes per bit
 * @data: the user's bitmap, whose bits are only ever set
 * @flags: IOPT_DIRTY_* (iopt_read_dirty())
 */
static int iommufd_hwpt_read_dirty(struct iommufd_hwpt_paging *hwpt,
				   unsigned long iova, unsigned long length,
				   unsigned long page_size, u64 __user *data,
				   unsigned int flags)
{
	if (!hwpt->ops->read_and_clear_dirty)
		return -EOPNOTSUPP;
	return iopt_read_dirty(&hwpt->ioas->iopt, iommufd_hwpt_dirty_read_fn,
			       hwpt, iova, length, page_size, data, flags);
}

static struct iommufd_hwpt_paging *hwpt_get(struct iommufd_ucmd *ucmd,
					    u32 id)
{
	struct iommufd_object *obj;

	obj = iommufd_get_object(ucmd->ictx, id, IOMMUFD_OBJ_HWPT_PAGING);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct iommufd_hwpt_paging, obj);
}

/*
 * IOMMU_HWPT_SET_DIRTY_TRACKING, in upstream's order: unknown flags
 * (EOPNOTSUPP; __reserved is not checked, as upstream), the HWPT (ENOENT),
 * a HWPT not allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING (EOPNOTSUPP).
 */
int iommufd_hwpt_set_dirty_tracking(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_set_dirty_tracking *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt;
	int rc = -EOPNOTSUPP;

	if (cmd->flags & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE)
		return -EOPNOTSUPP;
	hwpt = hwpt_get(ucmd, cmd->hwpt_id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	if (hwpt->dirty_tracking) {
		mutex_lock(&hwpt->ioas->mutex);
		rc = iommufd_hwpt_dirty_enable_locked(hwpt, cmd->flags &
				IOMMU_HWPT_DIRTY_TRACKING_ENABLE);
		/* Userspace turned it: the container's view is broken. */
		hwpt->container_dirty = false;
		mutex_unlock(&hwpt->ioas->mutex);
	}
	iommufd_put_object(ucmd->ictx, &hwpt->obj);
	return rc;
}

/*
 * IOMMU_HWPT_GET_DIRTY_BITMAP, in upstream's order: unknown flags or a
 * non-zero __reserved (EOPNOTSUPP), the HWPT (ENOENT), the range
 * (iopt_check_dirty_range()), a HWPT that cannot track (EOPNOTSUPP), then
 * the read: a hole in the range or tracking off (EINVAL), the bitmap
 * (EFAULT).
 */
int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_get_dirty_bitmap *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt;
	unsigned int flags = 0;
	int rc;

	if ((cmd->flags & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) ||
	    cmd->__reserved)
		return -EOPNOTSUPP;
	hwpt = hwpt_get(ucmd, cmd->hwpt_id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	rc = iopt_check_dirty_range(&hwpt->ioas->iopt, cmd->iova, cmd->length,
				    cmd->page_size);
	if (!rc && !hwpt->dirty_tracking)
		rc = -EOPNOTSUPP;
	if (cmd->flags & IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR)
		flags = IOPT_DIRTY_NO_CLEAR;
	if (!rc)
		rc = iommufd_hwpt_read_dirty(hwpt, cmd->iova, cmd->length,
					     cmd->page_size,
					     u64_to_user_ptr(cmd->data), flags);
	iommufd_put_object(ucmd->ictx, &hwpt->obj);
	return rc;
}
