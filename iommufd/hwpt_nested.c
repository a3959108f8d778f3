// SPDX-License-Identifier: GPL-2.0
/*
 * Nested HW page tables (Documentation/nesting.rst): a first stage that
 * userspace owns, typically a guest's own IOMMU page table, which the
 * IOMMU walks itself and then translates through a second stage, a
 * nest-parent paging HWPT that mirrors an IOAS. A nested HWPT maps
 * nothing of its own here: the driver's nested domain records what
 * userspace described, the parent holds the mappings, and userspace tells
 * the driver when its first stage changed (IOMMU_HWPT_INVALIDATE).
 *
 * The nested HWPT holds its parent, so the parent, and the parent's IOAS,
 * outlive it; devices attached to it hold it the same way.
 */
#include <linux/bits.h>
#include <linux/iommu.h>
#include <linux/mutex.h>

#include "fault_queue.h"
#include "iommufd_private.h"
#include "user_data.h"

/*
 * Upstream's bound on one IOMMU_HWPT_INVALIDATE, so that a single call
 * cannot keep a CPU busy for long; entries are at most a page each.
 */
#define IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX BIT(19)

static void hwpt_nested_teardown(struct iommufd_hwpt_nested *nested)
{
	nested->ops->domain_free(nested->domain);
	refcount_dec(&nested->parent->obj.users);
	iommufd_fault_queue_release(nested->fault);
}

static void iommufd_hwpt_nested_destroy(struct iommufd_object *obj)
{
	hwpt_nested_teardown(container_of(obj, struct iommufd_hwpt_nested,
					  obj));
}

static const struct iommufd_object_ops iommufd_hwpt_nested_ops = {
	.destroy = iommufd_hwpt_nested_destroy,
};

/*
 * Can @parent be the second stage of a nested domain for @idev? Upstream
 * refuses an automatic HWPT (it goes with its last device), one not
 * allocated as a nest parent and one of another driver with EINVAL. A
 * parent whose driver has not set it up yet (struct iommufd_hwpt_paging's
 * @unfilled) is refused the same way: it has no second stage to give.
 */
static bool hwpt_nested_parent_ok(struct iommufd_hwpt_paging *parent,
				  struct iommufd_device *idev)
{
	bool unfilled;

	if (parent->auto_domain || !parent->nest_parent ||
	    parent->ops != idev->ops)
		return false;
	mutex_lock(&parent->ioas->mutex);
	unfilled = parent->unfilled;
	mutex_unlock(&parent->ioas->mutex);
	return !unfilled;
}

/**
 * iommufd_hwpt_nested_alloc - make a nested HWPT on a nest parent
 * @ictx: the context
 * @parent: the second stage; the caller holds a reference for the call
 * @idev: the device whose driver makes the nested domain
 * @flags: IOMMU_HWPT_ALLOC's flags: 0 or IOMMU_HWPT_FAULT_ID_VALID, whose
 *	fault queue the caller holds in the HWPT's @fault
 * @data: the driver's description of the first stage, from userspace
 *
 * Upstream's checks in upstream's order: another flag, no data, or a
 * device whose driver cannot nest (EOPNOTSUPP), then the parent
 * (EINVAL, hwpt_nested_parent_ok()), then the driver's own checks of
 * @data. The HWPT is not yet visible to userspace: the caller finalizes
 * it with iommufd_object_finalize() or drops it with
 * iommufd_hwpt_nested_abort().
 */
struct iommufd_hwpt_nested *
iommufd_hwpt_nested_alloc(struct iommufd_ctx *ictx,
			  struct iommufd_hwpt_paging *parent,
			  struct iommufd_device *idev, u32 flags,
			  const struct iommufd_user_data *data)
{
	struct iommufd_hwpt_nested *nested;
	int rc;

	if ((flags & ~IOMMU_HWPT_FAULT_ID_VALID) || !data->len ||
	    !idev->ops->domain_alloc_nested)
		return ERR_PTR(-EOPNOTSUPP);
	if (!hwpt_nested_parent_ok(parent, idev))
		return ERR_PTR(-EINVAL);

	nested = iommufd_object_alloc(ictx, nested, IOMMUFD_OBJ_HWPT_NESTED,
				      &iommufd_hwpt_nested_ops);
	if (IS_ERR(nested))
		return nested;
	nested->ictx = ictx;
	nested->ops = idev->ops;
	nested->parent = parent;
	nested->domain = idev->ops->domain_alloc_nested(idev, parent->domain,
				flags & ~IOMMU_HWPT_FAULT_ID_VALID, data);
	if (IS_ERR(nested->domain)) {
		rc = PTR_ERR(nested->domain);
		iommufd_object_abort(ictx, &nested->obj);
		return ERR_PTR(rc);
	}
	/* Pairs with hwpt_nested_teardown(). */
	refcount_inc(&parent->obj.users);
	return nested;
}

/* Undo iommufd_hwpt_nested_alloc() of a HWPT that was never finalized. */
void iommufd_hwpt_nested_abort(struct iommufd_hwpt_nested *nested)
{
	hwpt_nested_teardown(nested);
	iommufd_object_abort(nested->ictx, &nested->obj);
}

/*
 * A device's long-term reference, taken when it attaches and dropped
 * when it leaves; while one is held, IOMMU_DESTROY of the HWPT is EBUSY.
 * The caller holds a reference already (the lookup's, or the device's).
 */
void iommufd_hwpt_nested_get(struct iommufd_hwpt_nested *nested)
{
	refcount_inc(&nested->obj.users);
}

void iommufd_hwpt_nested_put(struct iommufd_hwpt_nested *nested)
{
	/* The object table's reference stays: this is never the last. */
	refcount_dec(&nested->obj.users);
}

/*
 * The checks of IOMMU_HWPT_INVALIDATE before the HWPT is looked up, in
 * upstream's order: a non-zero __reserved (EOPNOTSUPP), then a non-empty
 * array with no pointer, an entry length of 0 or beyond a page, or more
 * than IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX entries (EINVAL). An empty
 * array needs none of them: it asks only whether the data type is known.
 */
static int hwpt_invalidate_check(const struct iommu_hwpt_invalidate *cmd)
{
	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->entry_num &&
	    (!cmd->data_uptr || !cmd->entry_len ||
	     cmd->entry_len > PAGE_SIZE ||
	     cmd->entry_num > IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX))
		return -EINVAL;
	return 0;
}

/*
 * IOMMU_HWPT_INVALIDATE: hand the array to the nested HWPT's driver.
 * Whatever happens, entry_num is written back with the entries handled
 * (0 when the command failed before the driver ran), so userspace knows
 * where a failing array stopped; a reply that cannot be written is
 * EFAULT, whatever the driver said. A HWPT ID that names no nested HWPT,
 * a paging one included, is ENOENT.
 */
int iommufd_hwpt_invalidate(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_invalidate *cmd = ucmd->cmd;
	struct iommufd_user_array array = {
		.type = cmd->data_type,
		.uptr = u64_to_user_ptr(cmd->data_uptr),
		.entry_len = cmd->entry_len,
		.entry_num = cmd->entry_num,
	};
	struct iommufd_hwpt_nested *nested;
	struct iommufd_object *obj;
	u32 done = 0;
	int rc;

	rc = hwpt_invalidate_check(cmd);
	if (rc)
		goto out;
	obj = iommufd_get_object(ucmd->ictx, cmd->hwpt_id,
				 IOMMUFD_OBJ_HWPT_NESTED);
	if (IS_ERR(obj)) {
		rc = PTR_ERR(obj);
		goto out;
	}
	nested = container_of(obj, struct iommufd_hwpt_nested, obj);
	rc = nested->ops->cache_invalidate(nested->domain, &array);
	done = array.entry_num;
	iommufd_put_object(ucmd->ictx, obj);
out:
	cmd->entry_num = done;
	if (iommufd_ucmd_respond(ucmd, sizeof(*cmd)))
		return -EFAULT;
	return rc;
}
