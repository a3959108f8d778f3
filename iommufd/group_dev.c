// SPDX-License-Identifier: GPL-2.0
/*
 * Real devices: the members of an iommu_group whose DMA another subsystem
 * (VFIO's container) has handed to a context. Each member becomes a
 * device object of the context; its HW page tables are paging domains of
 * the kernel's own IOMMU driver, which the core fills and drives through
 * iommu_map()/iommu_unmap() exactly as it does the mock's.
 *
 * The IOMMU translates whole groups, the core attaches devices. So the
 * first member to attach moves the group onto the domain, the others join
 * it, and a member can join no other domain (-EINVAL, "not this domain":
 * the core then tries the next automatic HW page table of the IOAS, which
 * is how groups whose IOMMU accepts one domain come to share it, and how a
 * member finds the domain its group is on). The group leaves its domain
 * with its last member, back to the blocking domain of its DMA owner.
 * A member that is attached moves (IOMMU_DEVICE_ATTACH through
 * IOMMU_VFIO_LINK) only if it is alone in its group, and then the group
 * is replaced onto the new domain atomically where the kernel can.
 */
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "compat.h"
#include "fault.h"
#include "group_dev.h"
#include "iommufd_private.h"

/* iommu_group_replace_domain()'s namespace, where the kernel has it. */
COMPAT_IMPORT_REPLACE_NS;

/**
 * struct iommufd_group_member - one device of a bound group
 * @igroup: the group
 * @dev: the device; a reference is held
 * @idev: its device object
 * @joined: the member translates through the group's domain; guarded by
 *	the group's lock
 */
struct iommufd_group_member {
	struct iommufd_group *igroup;
	struct device *dev;
	struct iommufd_device *idev;
	bool joined;
};

/**
 * struct iommufd_group - an iommu_group whose devices are objects of @ictx
 * @ictx: the context; its owner keeps it alive until unbind
 * @group: the group; a reference is held
 * @lock: guards @domain, @joined and the members' @joined. Taken inside
 *	a member's iommufd_device lock and its IOAS's mutex: it is the
 *	innermost of them.
 * @domain: the domain the group is attached to, or NULL (the DMA owner's
 *	blocking domain: no DMA)
 * @joined: members translating through @domain
 * @sw_msi: the group has a software MSI window; set at bind, read-only
 *	after
 * @sw_msi_start: where that window starts
 * @nmembers: entries of @members
 * @members: the devices the group had when it was bound
 */
struct iommufd_group {
	struct iommufd_ctx *ictx;
	struct iommu_group *group;
	struct mutex lock; /* domain, joined */
	struct iommu_domain *domain;
	unsigned int joined;
	bool sw_msi;
	phys_addr_t sw_msi_start;
	unsigned int nmembers;
	struct iommufd_group_member members[];
};

static struct iommufd_group_member *member_of(struct iommufd_device *idev)
{
	return idev->drv_data;
}

/*
 * @flags is always 0: real devices report no dirty capability, since the
 * kernels this builds for give the IOMMU drivers no bitmap to record
 * into (see struct iommufd_device_ops).
 */
static struct iommu_domain *
group_dev_domain_alloc_paging(struct iommufd_device *idev, u32 flags)
{
	struct iommu_domain *domain;

	if (iommufd_fault_hit(IOMMUFD_FAULT_ALLOC))
		return ERR_PTR(-ENOMEM);
	domain = compat_iommu_paging_domain_alloc(member_of(idev)->dev);
	if (IS_ERR(domain))
		return domain;
	/*
	 * Where the device's IOMMU can ignore its no-snoop attribute, make
	 * it: DMA is then always cache coherent, as VFIO type1 makes it (a
	 * KVM guest need not emulate cache flushes for the device). Only
	 * then: a domain that enforces refuses devices whose IOMMU cannot.
	 * The domain is new and empty, so nothing mapped stands in the way;
	 * it is shared only with groups whose IOMMU accepts it.
	 */
	if (domain->ops->enforce_cache_coherency &&
	    compat_dev_enforces_cache_coherency(member_of(idev)->dev))
		domain->ops->enforce_cache_coherency(domain);
	return domain;
}

static void group_dev_domain_free(struct iommu_domain *domain)
{
	iommu_domain_free(domain);
}

/*
 * Behind an IOMMU that translates MSI writes like any other DMA (ARM's
 * SMMU, virtio-iommu: a software MSI window), a device's MSIs arrive
 * only if the domain maps the interrupt controller's doorbell in that
 * window. The DMA layer does that, when MSIs are set up, for a domain
 * that carries an MSI cookie: give it one, as VFIO type1 does. A domain
 * shared with another group has one already (-EEXIST). The window is a
 * reserved region of the IOAS, so no mapping of ours can meet it.
 */
static int group_dev_msi_cookie(struct iommufd_group *igroup,
				struct iommu_domain *domain)
{
	int rc;

	if (!igroup->sw_msi)
		return 0;
	rc = iommu_get_msi_cookie(domain, igroup->sw_msi_start);
	return rc == -EEXIST ? 0 : rc;
}

/*
 * Move an attached group to @domain (a replace through IOMMU_VFIO_LINK)
 * with no moment of no translation. The IOMMU moves whole groups: moving
 * one member would move the others under their HW page tables, so only a
 * group of one device moves (-EBUSY otherwise). -EOPNOTSUPP where the
 * kernel cannot replace (6.1), -EINVAL if the group cannot use @domain.
 */
static int group_dev_replace(struct iommufd_group *igroup,
			     struct iommu_domain *domain)
{
	int rc;

	lockdep_assert_held(&igroup->lock);
	if (igroup->nmembers != 1)
		return -EBUSY;
	rc = group_dev_msi_cookie(igroup, domain);
	if (rc)
		return rc;
	rc = compat_iommu_group_replace_domain(igroup->group, domain);
	if (rc == -EMEDIUMTYPE)
		rc = -EINVAL;
	if (!rc)
		igroup->domain = domain;
	return rc;
}

static int group_dev_attach(struct iommufd_device *idev,
			    struct iommu_domain *domain)
{
	struct iommufd_group_member *member = member_of(idev);
	struct iommufd_group *igroup = member->igroup;
	int rc = 0;

	mutex_lock(&igroup->lock);
	if (member->joined) {
		if (igroup->domain != domain)
			rc = group_dev_replace(igroup, domain);
		goto out_unlock;
	}
	if (!igroup->domain) {
		rc = group_dev_msi_cookie(igroup, domain);
		if (rc)
			goto out_unlock;
		rc = iommu_attach_group(domain, igroup->group);
		/* 6.1's drivers say "incompatible domain" with EMEDIUMTYPE. */
		if (rc == -EMEDIUMTYPE)
			rc = -EINVAL;
		if (rc)
			goto out_unlock;
		igroup->domain = domain;
	} else if (igroup->domain != domain) {
		rc = -EINVAL;
		goto out_unlock;
	}
	member->joined = true;
	igroup->joined++;
out_unlock:
	mutex_unlock(&igroup->lock);
	return rc;
}

/*
 * A member leaves. Its own DMA is blocked only once the whole group has
 * left: the IOMMU cannot block one device of a group.
 */
static void group_dev_detach(struct iommufd_device *idev)
{
	struct iommufd_group_member *member = member_of(idev);
	struct iommufd_group *igroup = member->igroup;

	mutex_lock(&igroup->lock);
	if (member->joined) {
		member->joined = false;
		if (!--igroup->joined) {
			iommu_detach_group(igroup->domain, igroup->group);
			igroup->domain = NULL;
		}
	}
	mutex_unlock(&igroup->lock);
}

/* IOMMU_GET_HW_INFO: what the device's own IOMMU driver reports. */
static void *group_dev_hw_info(struct iommufd_device *idev, u32 *len,
			       u32 *type)
{
	return compat_dev_iommu_hw_info(member_of(idev)->dev, len, type);
}

static const struct iommufd_device_ops group_dev_ops = {
	.domain_alloc_paging = group_dev_domain_alloc_paging,
	.domain_free = group_dev_domain_free,
	.attach = group_dev_attach,
	.detach = group_dev_detach,
	.hw_info = group_dev_hw_info,
};

static int group_dev_count(struct device *dev, void *data)
{
	(*(unsigned int *)data)++;
	return 0;
}

/* Take @dev as the next member, while there is room (the group grew). */
static int group_dev_collect(struct device *dev, void *data)
{
	struct iommufd_group *igroup = data;
	struct iommufd_group_member *member;

	if (igroup->nmembers == igroup->joined)
		return -ENOSPC;
	member = &igroup->members[igroup->nmembers++];
	member->igroup = igroup;
	member->dev = get_device(dev);
	return 0;
}

/*
 * Give every member the group's reserved regions (the MSI window,
 * firmware's direct-mapped ranges): the IOAS can never map them while
 * the group is attached. Regions that are direct-mapped only until the
 * device is assigned (DIRECT_RELAXABLE) are left usable, as by type1.
 */
static int group_dev_add_resv(struct iommufd_group *igroup)
{
	struct iommu_resv_region *region, *next;
	LIST_HEAD(regions);
	unsigned int i;
	int rc;

	rc = iommu_get_group_resv_regions(igroup->group, &regions);
	list_for_each_entry(region, &regions, list) {
		if (rc)
			break;
		if (region->type == IOMMU_RESV_DIRECT_RELAXABLE ||
		    !region->length)
			continue;
		if (region->type == IOMMU_RESV_SW_MSI) {
			igroup->sw_msi = true;
			igroup->sw_msi_start = region->start;
		}
		for (i = 0; i != igroup->nmembers && !rc; i++)
			rc = iommufd_device_add_resv(igroup->members[i].idev,
						     region->start,
						     region->start +
							     region->length - 1);
	}
	/* The list holds copies the caller frees. */
	list_for_each_entry_safe(region, next, &regions, list)
		kfree(region);
	return rc;
}

/* Undo whatever iommufd_group_bind() did so far. */
static void group_dev_free(struct iommufd_group *igroup)
{
	unsigned int i;

	for (i = 0; i != igroup->nmembers; i++) {
		if (igroup->members[i].idev)
			iommufd_device_unbind(igroup->members[i].idev);
		put_device(igroup->members[i].dev);
	}
	if (igroup->group)
		iommu_group_put(igroup->group);
	mutex_destroy(&igroup->lock);
	kfree(igroup);
}

/**
 * iommufd_group_bind - make the devices of @group device objects of @ictx
 * @ictx: a context its owner keeps alive until iommufd_group_unbind()
 * @group: a group whose DMA ownership the caller holds (VFIO claimed it)
 *
 * Every member starts detached; the group keeps its owner's blocking
 * domain until iommufd_group_attach(). Returns -ENODEV for a group
 * without devices, -ENOMEM.
 */
struct iommufd_group *iommufd_group_bind(struct iommufd_ctx *ictx,
					 struct iommu_group *group)
{
	struct iommufd_group *igroup;
	unsigned int n = 0, i;
	int rc;

	iommu_group_for_each_dev(group, &n, group_dev_count);
	if (!n)
		return ERR_PTR(-ENODEV);
	igroup = iommufd_kzalloc(struct_size(igroup, members, n));
	if (!igroup)
		return ERR_PTR(-ENOMEM);
	igroup->ictx = ictx;
	mutex_init(&igroup->lock);
	/* @joined bounds the collection until a member joins. */
	igroup->joined = n;
	iommu_group_for_each_dev(group, igroup, group_dev_collect);
	igroup->joined = 0;
	rc = -ENODEV;
	if (!igroup->nmembers)
		goto err_free;
	/* A reference of our own, which any member's device gives. */
	igroup->group = iommu_group_get(igroup->members[0].dev);
	if (igroup->group != group)
		goto err_free;

	for (i = 0; i != igroup->nmembers; i++) {
		struct iommufd_device *idev;

		idev = iommufd_device_bind(ictx, &group_dev_ops,
					   &igroup->members[i]);
		if (IS_ERR(idev)) {
			rc = PTR_ERR(idev);
			goto err_free;
		}
		igroup->members[i].idev = idev;
	}
	rc = group_dev_add_resv(igroup);
	if (rc)
		goto err_free;
	return igroup;

err_free:
	group_dev_free(igroup);
	return ERR_PTR(rc);
}

/**
 * iommufd_group_attach - attach every member to an IOAS
 * @igroup: a bound group, detached
 * @ioas_id: the IOAS, in the group's context
 *
 * The group shares an automatic HW page table of the IOAS whose domain
 * its IOMMU accepts, or gets a new domain filled with the IOAS's
 * mappings. Returns -EADDRINUSE if the group's reserved regions or the
 * new domain's aperture clash with the IOAS's mappings, -EPERM, -ENOMEM
 * or the IOMMU driver's error; nothing changes on failure.
 */
int iommufd_group_attach(struct iommufd_group *igroup, u32 ioas_id)
{
	unsigned int i;
	u32 hwpt_id;
	int rc;

	for (i = 0; i != igroup->nmembers; i++) {
		rc = iommufd_device_attach(igroup->members[i].idev, ioas_id,
					   &hwpt_id);
		if (rc)
			goto err_detach;
	}
	return 0;

err_detach:
	while (i--)
		iommufd_device_detach(igroup->members[i].idev);
	return rc;
}

/**
 * iommufd_group_unbind - end what iommufd_group_bind() began
 * @igroup: the group; freed
 *
 * Detaches the members first: the group is back on its owner's blocking
 * domain, and a domain no other group shares is emptied and freed.
 */
void iommufd_group_unbind(struct iommufd_group *igroup)
{
	group_dev_free(igroup);
}

/* The group's domain, NULL while detached; for tests and the link. */
struct iommu_domain *iommufd_group_domain(struct iommufd_group *igroup)
{
	struct iommu_domain *domain;

	mutex_lock(&igroup->lock);
	domain = igroup->domain;
	mutex_unlock(&igroup->lock);
	return domain;
}

struct iommu_group *iommufd_group_iommu_group(struct iommufd_group *igroup)
{
	return igroup->group;
}
