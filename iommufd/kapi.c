// SPDX-License-Identifier: GPL-2.0
/*
 * The core's in-kernel API for the VFIO module (iommufd_oot_vfio.ko):
 * a VFIO container is a context the kernel owns, with no /dev/iommu file,
 * holding one IOAS, its compat IOAS, which the container's ioctls act on
 * with VFIO type1 semantics (vfio_compat.c), and the iommu_groups
 * attached to the container as device objects (group_dev.c) translated
 * through that IOAS. Everything here may sleep.
 */
#include <linux/iommu.h>
#include <linux/module.h>

#include "group_dev.h"
#include "iommufd_private.h"
#include "kapi.h"
#include "vfio_compat.h"

/**
 * iommufd_kapi_ctx_create - a context for one VFIO container
 *
 * With its compat IOAS made (VFIO_SET_IOMMU makes one anyway). Returns
 * the context, to end with iommufd_kapi_ctx_destroy(), or ERR_PTR(-ENOMEM).
 */
struct iommufd_ctx *iommufd_kapi_ctx_create(void)
{
	struct iommufd_ctx *ictx;
	int rc;

	ictx = iommufd_ctx_alloc();
	if (!ictx)
		return ERR_PTR(-ENOMEM);
	/* Programs behind VFIO's container expect type1's very answers. */
	ictx->vfio_type1_exact = true;
	rc = iommufd_vfio_compat_ioas_create(ictx);
	if (rc) {
		iommufd_ctx_unref(ictx);
		return ERR_PTR(rc);
	}
	return ictx;
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_ctx_create, IOMMUFD_OOT);

/*
 * The container is gone: every group must have been detached (the
 * groups' owners hold them). The context, its IOAS and what was made on
 * it through IOMMU_VFIO_LINK live on while a linked /dev/iommu file does.
 */
void iommufd_kapi_ctx_destroy(struct iommufd_ctx *ictx)
{
	iommufd_ctx_unref(ictx);
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_ctx_destroy, IOMMUFD_OOT);

/*
 * A reference on a container's context for IOMMU_VFIO_LINK (a callback of
 * struct iommufd_link_ops), taken while the caller keeps the container
 * from being released.
 */
struct iommufd_ctx *iommufd_kapi_ctx_get(struct iommufd_ctx *ictx)
{
	iommufd_ctx_ref(ictx);
	return ictx;
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_ctx_get, IOMMUFD_OOT);

/* A container ioctl, with VFIO type1's semantics (vfio_compat.h). */
long iommufd_kapi_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd,
			     unsigned long arg)
{
	return iommufd_vfio_ioctl(ictx, cmd, arg);
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_vfio_ioctl, IOMMUFD_OOT);

/**
 * iommufd_kapi_group_attach - make @group translate through the compat IOAS
 * @ictx: a context of iommufd_kapi_ctx_create()
 * @group: a group whose DMA ownership the caller holds
 *
 * Its devices become device objects of @ictx, attached to the compat
 * IOAS: the group shares a domain of another group of @ictx that its
 * IOMMU accepts, or gets a new paging domain filled with every mapping.
 * Returns the handle for iommufd_kapi_group_detach(), or an ERR_PTR:
 * -EINVAL if the group's reserved regions or the domain's aperture clash
 * with existing mappings (VFIO type1's errno), -ENODEV, -ENOMEM or the
 * IOMMU driver's error. Nothing changes on failure.
 */
struct iommufd_group *iommufd_kapi_group_attach(struct iommufd_ctx *ictx,
						struct iommu_group *group)
{
	struct iommufd_group *igroup;
	u32 ioas_id;
	int rc;

	rc = iommufd_vfio_compat_ioas_get_id(ictx, &ioas_id);
	if (rc)
		return ERR_PTR(rc);
	igroup = iommufd_group_bind(ictx, group);
	if (IS_ERR(igroup)) {
		rc = PTR_ERR(igroup);
		goto err;
	}
	rc = iommufd_group_attach(igroup, ioas_id);
	if (rc) {
		iommufd_group_unbind(igroup);
		goto err;
	}
	return igroup;
err:
	return ERR_PTR(rc == -EADDRINUSE ? -EINVAL : rc);
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_group_attach, IOMMUFD_OOT);

/* Undo iommufd_kapi_group_attach(): the group's DMA is blocked again. */
void iommufd_kapi_group_detach(struct iommufd_group *igroup)
{
	iommufd_group_unbind(igroup);
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_group_detach, IOMMUFD_OOT);

/*
 * What the group's domain translates @iova to, 0 if nothing or if the
 * group is detached; for tests, which compare it with the page mapped.
 */
phys_addr_t iommufd_kapi_group_iova_to_phys(struct iommufd_group *igroup,
					    unsigned long iova)
{
	struct iommu_domain *domain = iommufd_group_domain(igroup);

	return domain ? iommu_iova_to_phys(domain, iova) : 0;
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_group_iova_to_phys, IOMMUFD_OOT);
