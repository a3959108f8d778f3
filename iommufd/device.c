// SPDX-License-Identifier: GPL-2.0
/*
 * Devices: DMA-capable devices bound to a context, and how they attach to
 * IOASes and HW page tables. Attaching straight to an IOAS uses an
 * automatic HW page table, shared with other devices whose IOMMU accepts
 * the same domain.
 */
#include <linux/iommu.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "fault.h"
#include "fault_queue.h"
#include "iommufd_private.h"

static void iommufd_device_destroy_object(struct iommufd_object *obj)
{
	struct iommufd_device *idev =
		container_of(obj, struct iommufd_device, obj);

	WARN_ON(idev->hwpt || idev->nested);
	kfree(idev->resv);
	mutex_destroy(&idev->lock);
}

static const struct iommufd_object_ops iommufd_device_object_ops = {
	.destroy = iommufd_device_destroy_object,
};

/**
 * iommufd_device_bind - make a device known to a context
 * @ictx: the context; the caller keeps it alive until unbind
 * @ops: the device's IOMMU driver
 * @drv_data: the driver's cookie, in idev->drv_data
 *
 * The device starts detached (blocked from DMA) and has an ID; the caller
 * owns it until iommufd_device_unbind().
 */
struct iommufd_device *iommufd_device_bind(struct iommufd_ctx *ictx,
					   const struct iommufd_device_ops *ops,
					   void *drv_data)
{
	struct iommufd_device *idev;

	idev = iommufd_object_alloc(ictx, idev, IOMMUFD_OBJ_DEVICE,
				    &iommufd_device_object_ops);
	if (IS_ERR(idev))
		return idev;
	idev->ictx = ictx;
	idev->ops = ops;
	idev->drv_data = drv_data;
	mutex_init(&idev->lock);
	INIT_LIST_HEAD(&idev->iopf_partial);
	/* The binder's reference: userspace cannot DESTROY a device. */
	refcount_inc(&idev->obj.users);
	iommufd_object_finalize(ictx, &idev->obj);
	return idev;
}

/* Detaches first if needed. */
void iommufd_device_unbind(struct iommufd_device *idev)
{
	iommufd_device_detach(idev);
	iommufd_object_destroy_owned(idev->ictx, &idev->obj);
}

static int device_reserve(struct iommufd_device *idev,
			  struct io_pagetable *iopt)
{
	unsigned int i;
	int rc;

	for (i = 0; i != idev->nresv; i++) {
		rc = iopt_reserve(iopt, idev->resv[i].start, idev->resv[i].last,
				  idev);
		if (rc) {
			iopt_unreserve_owner(iopt, idev);
			return rc;
		}
	}
	return 0;
}

/* The domain the device translates through now; it has a HWPT. */
static struct iommu_domain *device_domain(struct iommufd_device *idev)
{
	return idev->nested ? idev->nested->domain : idev->hwpt->domain;
}

/*
 * The device has just been attached to @hwpt's domain, which its driver
 * set up only now (struct iommufd_hwpt_paging's @unfilled): fill it. Its
 * DMA was blocked since the attach (the domain was empty), and is until
 * this returns. If the fill fails, the device goes back to the domain it
 * had, or, should even that fail, is left blocked and detached, with
 * *@old the HWPT it left for the caller to drop; either way the fill's
 * error is returned. Under @hwpt's IOAS mutex.
 */
static int device_fill_after_attach(struct iommufd_device *idev,
				    struct iommufd_hwpt_paging *hwpt,
				    struct iommufd_hwpt_paging **old)
{
	struct iommufd_hwpt_paging *cur = idev->hwpt;
	int rc;

	rc = iommufd_hwpt_fill_locked(hwpt);
	if (!rc)
		return 0;
	/* EINVAL would tell device_attach_ioas() to try another domain. */
	if (rc == -EINVAL)
		rc = -EADDRINUSE;
	if (!cur) {
		idev->ops->detach(idev);
		return rc;
	}
	if (!idev->ops->attach(idev, device_domain(idev)))
		return rc;
	/* Blocked, and on no HWPT: the caller drops the one it left. */
	idev->ops->detach(idev);
	iopt_unreserve_owner(&cur->ioas->iopt, idev);
	idev->hwpt = NULL;
	if (idev->nested) {
		iommufd_hwpt_nested_put(idev->nested);
		idev->nested = NULL;
	}
	*old = cur;
	return rc;
}

/*
 * Move the device onto @hwpt, for which the caller gave the device a
 * reference (iommufd_hwpt_get_locked(), under @hwpt's IOAS mutex), with
 * @domain attached: @hwpt's own, or that of a nested HWPT whose parent
 * @hwpt is, and @fault the fault queue of the one attached. The device is
 * never without translation: the new domain is attached before anything
 * of the old one is let go. On success *@old is the HWPT the device
 * leaves, whose reference the caller drops once it holds no IOAS lock;
 * the caller sets idev->nested.
 */
static int device_attach_domain(struct iommufd_device *idev,
				struct iommufd_hwpt_paging *hwpt,
				struct iommu_domain *domain,
				struct iommufd_fault_queue *fault,
				struct iommufd_hwpt_paging **old)
{
	struct iommufd_hwpt_paging *cur = idev->hwpt;
	bool same_ioas = cur && cur->ioas == hwpt->ioas;
	int rc;

	lockdep_assert_held(&idev->lock);
	if (!same_ioas) {
		rc = device_reserve(idev, &hwpt->ioas->iopt);
		if (rc)
			return rc;
	}
	/* IOPF on before the device can fault in the new domain. */
	rc = iommufd_fault_attach_prepare(idev, fault);
	if (!rc) {
		rc = idev->ops->attach(idev, domain);
		if (!rc && hwpt->unfilled)
			rc = device_fill_after_attach(idev, hwpt, old);
		if (rc) {
			iommufd_fault_attach_abort(idev, fault);
			/* device_fill_after_attach() left it on no HWPT. */
			if (cur && !idev->hwpt)
				iommufd_fault_attach_commit(idev, NULL);
		}
	}
	if (rc) {
		if (!same_ioas)
			iopt_unreserve_owner(&hwpt->ioas->iopt, idev);
		return rc;
	}
	if (cur && !same_ioas)
		iopt_unreserve_owner(&cur->ioas->iopt, idev);
	/* The faults for the old translation are answered: it is gone. */
	iommufd_fault_attach_commit(idev, fault);
	idev->hwpt = hwpt;
	*old = cur;
	return 0;
}

static int device_attach_hwpt(struct iommufd_device *idev,
			      struct iommufd_hwpt_paging *hwpt,
			      struct iommufd_hwpt_paging **old)
{
	/* Only nested HWPTs take fault queues (6.12's HWPT_ALLOC). */
	return device_attach_domain(idev, hwpt, hwpt->domain, NULL, old);
}

/*
 * Attach to an IOAS: reuse an automatic HWPT the device's IOMMU accepts,
 * or make one. The IOAS mutex makes the search and creation atomic, and
 * keeps every listed HWPT's last device from leaving meanwhile.
 */
static int device_attach_ioas(struct iommufd_device *idev,
			      struct iommufd_ioas *ioas,
			      struct iommufd_hwpt_paging **new,
			      struct iommufd_hwpt_paging **old)
{
	struct iommufd_hwpt_paging *hwpt;
	bool attach_first;
	int rc;

	mutex_lock(&ioas->mutex);
	list_for_each_entry(hwpt, &ioas->auto_hwpts, auto_node) {
		/* Listed, so it has a device: it takes this one too. */
		if (hwpt->ops != idev->ops || !iommufd_hwpt_get_locked(hwpt))
			continue;
		rc = device_attach_hwpt(idev, hwpt, old);
		if (!rc)
			goto out_found;
		iommufd_hwpt_unget_locked(hwpt);
		/* EINVAL means "not this domain"; anything else is final. */
		if (rc != -EINVAL)
			goto out_unlock;
	}

	/*
	 * A device translating through nothing yet joins the new domain
	 * before it is filled (see iommufd_hwpt_paging_alloc()); one that
	 * moves from another domain keeps it until the new one is full.
	 */
	attach_first = !idev->hwpt;
	hwpt = iommufd_hwpt_paging_alloc(idev->ictx, ioas, idev, 0, true,
					 attach_first);
	if (IS_ERR(hwpt)) {
		rc = PTR_ERR(hwpt);
		goto out_unlock;
	}
	iommufd_hwpt_get_locked(hwpt);
	rc = device_attach_hwpt(idev, hwpt, old);
	if (rc) {
		if (attach_first)
			idev->ops->detach(idev);
		iommufd_hwpt_paging_abort(hwpt);
		goto out_unlock;
	}
	iommufd_object_finalize(idev->ictx, &hwpt->obj);
out_found:
	*new = hwpt;
	rc = 0;
out_unlock:
	mutex_unlock(&ioas->mutex);
	return rc;
}

/*
 * Attach to a HWPT by its ID. An automatic HWPT whose last device has
 * just left is gone for this purpose: -ENOENT, as once it is destroyed.
 */
static int device_attach_paging(struct iommufd_device *idev,
				struct iommufd_hwpt_paging *hwpt,
				struct iommufd_hwpt_paging **old)
{
	int rc = -ENOENT;

	if (hwpt->ops != idev->ops)
		return -EINVAL;
	mutex_lock(&hwpt->ioas->mutex);
	if (iommufd_hwpt_get_locked(hwpt)) {
		rc = device_attach_hwpt(idev, hwpt, old);
		if (rc)
			iommufd_hwpt_unget_locked(hwpt);
	}
	mutex_unlock(&hwpt->ioas->mutex);
	return rc;
}

/*
 * Attach to a nested HWPT: its domain is attached, and the device holds
 * its parent as if attached to that (it translates through the parent's
 * IOAS, where its reserved regions go) and the nested HWPT itself. A nest
 * parent is never automatic, so it always takes the device.
 */
static int device_attach_nested(struct iommufd_device *idev,
				struct iommufd_hwpt_nested *nested,
				struct iommufd_hwpt_paging **old)
{
	struct iommufd_hwpt_paging *parent = nested->parent;
	int rc = -ENOENT;

	if (nested->ops != idev->ops)
		return -EINVAL;
	mutex_lock(&parent->ioas->mutex);
	if (iommufd_hwpt_get_locked(parent)) {
		rc = device_attach_domain(idev, parent, nested->domain,
					  nested->fault, old);
		if (rc)
			iommufd_hwpt_unget_locked(parent);
	}
	mutex_unlock(&parent->ioas->mutex);
	if (!rc)
		iommufd_hwpt_nested_get(nested);
	return rc;
}

/**
 * iommufd_device_attach - attach or move a device to an IOAS or HWPT
 * @idev: the device
 * @pt_id: an IOAS (an automatic HWPT is used), a paging or a nested HWPT
 * @out_hwpt_id: out: the HWPT the device now translates through
 *
 * Attaching an attached device replaces its translation atomically.
 * Returns -ENOENT for an unknown @pt_id, -EINVAL if it names another kind
 * of object or a domain the device cannot use, -EADDRINUSE if the
 * device's reserved regions or the domain's aperture clash with mappings
 * or allowed ranges of the IOAS, -ENODEV if the HWPT has a fault queue
 * and the device cannot report I/O page faults. Nothing changes on
 * failure. Leaving an HWPT with a fault queue answers the device's
 * faults waiting there (fault_queue.c).
 */
int iommufd_device_attach(struct iommufd_device *idev, u32 pt_id,
			  u32 *out_hwpt_id)
{
	struct iommufd_hwpt_paging *hwpt = NULL, *old = NULL;
	struct iommufd_hwpt_nested *nested = NULL, *old_nested = NULL;
	struct iommufd_object *pt_obj;
	int rc;

	pt_obj = iommufd_get_object(idev->ictx, pt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(pt_obj))
		return PTR_ERR(pt_obj);

	mutex_lock(&idev->lock);
	switch (pt_obj->type) {
	case IOMMUFD_OBJ_IOAS:
		rc = device_attach_ioas(idev,
					container_of(pt_obj,
						     struct iommufd_ioas, obj),
					&hwpt, &old);
		break;
	case IOMMUFD_OBJ_HWPT_PAGING:
		hwpt = container_of(pt_obj, struct iommufd_hwpt_paging, obj);
		rc = device_attach_paging(idev, hwpt, &old);
		break;
	case IOMMUFD_OBJ_HWPT_NESTED:
		nested = container_of(pt_obj, struct iommufd_hwpt_nested, obj);
		rc = device_attach_nested(idev, nested, &old);
		break;
	default:
		rc = -EINVAL;
	}
	if (!rc) {
		*out_hwpt_id = nested ? nested->obj.id : hwpt->obj.id;
		old_nested = idev->nested;
		idev->nested = nested;
	}
	mutex_unlock(&idev->lock);
	iommufd_put_object(idev->ictx, pt_obj);
	if (old_nested)
		iommufd_hwpt_nested_put(old_nested);
	if (old)
		iommufd_hwpt_put(old);
	return rc;
}

/* Block the device's DMA and leave its HWPT. */
void iommufd_device_detach(struct iommufd_device *idev)
{
	struct iommufd_hwpt_nested *nested;
	struct iommufd_hwpt_paging *hwpt;

	mutex_lock(&idev->lock);
	hwpt = idev->hwpt;
	nested = idev->nested;
	if (hwpt) {
		idev->ops->detach(idev);
		iopt_unreserve_owner(&hwpt->ioas->iopt, idev);
		iommufd_fault_attach_commit(idev, NULL);
		idev->hwpt = NULL;
		idev->nested = NULL;
	}
	mutex_unlock(&idev->lock);
	if (nested)
		iommufd_hwpt_nested_put(nested);
	if (hwpt)
		iommufd_hwpt_put(hwpt);
}

/**
 * iommufd_device_add_resv - give the device a reserved IOVA region
 * @idev: the device
 * @start: first IOVA
 * @last: last IOVA
 *
 * Applies at once if the device is attached: -EADDRINUSE if the IOAS has
 * mappings or allowed ranges there, and then nothing changes.
 */
int iommufd_device_add_resv(struct iommufd_device *idev, unsigned long start,
			    unsigned long last)
{
	struct iopt_range *grown;
	int rc = 0;

	if (start > last)
		return -EINVAL;
	mutex_lock(&idev->lock);
	grown = iommufd_krealloc_array(idev->resv, idev->nresv + 1,
				       sizeof(*grown));
	if (!grown) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	idev->resv = grown;
	if (idev->hwpt)
		rc = iopt_reserve(&idev->hwpt->ioas->iopt, start, last, idev);
	if (!rc)
		idev->resv[idev->nresv++] = (struct iopt_range){ start, last };
out_unlock:
	mutex_unlock(&idev->lock);
	return rc;
}

/* IOMMU_DEVICE_ATTACH: iommufd_device_attach() for userspace. */
int iommufd_device_attach_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_device_attach *cmd = ucmd->cmd;
	struct iommufd_device *idev;
	struct iommufd_object *obj;
	u32 hwpt_id;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	obj = iommufd_get_object(ucmd->ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	idev = container_of(obj, struct iommufd_device, obj);
	rc = iommufd_device_attach(idev, cmd->pt_id, &hwpt_id);
	if (!rc) {
		/* The attach stands even if the reply cannot be written. */
		cmd->out_hwpt_id = hwpt_id;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}

static int hw_info_copy_out(struct iommu_hw_info *cmd, void *data, u32 len)
{
	void __user *udata = u64_to_user_ptr(cmd->data_uptr);
	u32 copy = min(cmd->data_len, len);

	if (iommufd_copy_to_user(udata, data, copy))
		return -EFAULT;
	/* A bigger user buffer gets zeroes past what the driver reported. */
	if (cmd->data_len > copy && clear_user(udata + copy, cmd->data_len - copy))
		return -EFAULT;
	return 0;
}

int iommufd_get_hw_info(struct iommufd_ucmd *ucmd)
{
	struct iommu_hw_info *cmd = ucmd->cmd;
	struct iommufd_device *idev;
	struct iommufd_object *obj;
	void *data = NULL;
	u32 len = 0, type = IOMMU_HW_INFO_TYPE_NONE;
	int rc;

	if (cmd->flags || cmd->__reserved[0] || cmd->__reserved[1] ||
	    cmd->__reserved[2])
		return -EOPNOTSUPP;
	obj = iommufd_get_object(ucmd->ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	idev = container_of(obj, struct iommufd_device, obj);

	if (idev->ops->hw_info) {
		data = idev->ops->hw_info(idev, &len, &type);
		if (IS_ERR(data)) {
			rc = PTR_ERR(data);
			goto out_put;
		}
	}
	rc = hw_info_copy_out(cmd, data, len);
	if (rc)
		goto out_free;
	cmd->data_len = len;
	cmd->out_data_type = type;
	/*
	 * The PASID capability bits are for PCI devices only, as upstream
	 * sets them; none is one yet.
	 */
	cmd->out_capabilities = 0;
	if (idev->ops->dirty_capable && idev->ops->dirty_capable(idev))
		cmd->out_capabilities |= IOMMU_HW_CAP_DIRTY_TRACKING;
	cmd->out_max_pasid_log2 = idev->ops->max_pasid_log2 ?
				  idev->ops->max_pasid_log2(idev) : 0;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_free:
	kfree(data);
out_put:
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}
