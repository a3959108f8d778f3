// SPDX-License-Identifier: GPL-2.0
/*
 * The core's in-kernel API for the VFIO module (iommufd_oot_vfio.ko):
 * a VFIO container is a context the kernel owns, with no /dev/iommu file,
 * holding one IOAS, its compat IOAS, which the container's ioctls act on
 * with VFIO type1 semantics (vfio_compat.c), and the iommu_groups
 * attached to the container as device objects (group_dev.c) translated
 * through that IOAS, and an access on that IOAS for the container's
 * emulated (mdev) devices. Everything here may sleep.
 */
#include <linux/iommu.h>
#include <linux/module.h>

#include "group_dev.h"
#include "iommufd_private.h"
#include "kapi.h"
#include "pages.h"
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

/* The emulated devices' dirtying, for the container's dirty pages. */
int iommufd_kapi_vfio_pinned(struct iommufd_ctx *ictx, unsigned long iova)
{
	return iommufd_vfio_compat_pinned(ictx, iova);
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_vfio_pinned, IOMMUFD_OOT);

void iommufd_kapi_vfio_unpinned(struct iommufd_ctx *ictx, unsigned long iova)
{
	iommufd_vfio_compat_unpinned(ictx, iova);
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_vfio_unpinned, IOMMUFD_OOT);

void iommufd_kapi_vfio_written(struct iommufd_ctx *ictx, unsigned long iova,
			       size_t length)
{
	iommufd_vfio_compat_written(ictx, iova, length);
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_vfio_written, IOMMUFD_OOT);

void iommufd_kapi_vfio_group_left(struct iommufd_ctx *ictx)
{
	iommufd_vfio_compat_group_left(ictx);
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_vfio_group_left, IOMMUFD_OOT);

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

/**
 * iommufd_kapi_access_create - an access on the compat IOAS of @ictx
 * @ictx: a context of iommufd_kapi_ctx_create()
 * @unmap: called before an unmap removes pages pinned through the access
 * @data: passed back to @unmap
 *
 * For a container's emulated devices, which pin pages and read and write
 * memory by IOVA with no IOMMU. The caller destroys it with
 * iommufd_kapi_access_destroy() before it destroys @ictx. Returns it or
 * an ERR_PTR: -ENOMEM, or -EINVAL if a mapping is not page aligned.
 */
struct iommufd_access *iommufd_kapi_access_create(struct iommufd_ctx *ictx,
						  iommufd_kapi_unmap_fn unmap,
						  void *data)
{
	struct iommufd_access_ops *ops;
	struct iommufd_access *access;
	u32 ioas_id;
	int rc;

	rc = iommufd_vfio_compat_ioas_get_id(ictx, &ioas_id);
	if (rc)
		return ERR_PTR(rc);
	/* The access keeps a pointer to its ops: one set per access. */
	ops = kzalloc(sizeof(*ops), GFP_KERNEL_ACCOUNT);
	if (!ops)
		return ERR_PTR(-ENOMEM);
	ops->unmap = unmap;
	access = iommufd_access_create(ictx, ioas_id, ops, data);
	if (IS_ERR(access)) {
		kfree(ops);
		return ERR_PTR(PTR_ERR(access) == -EADDRINUSE ? -EINVAL :
			       PTR_ERR(access));
	}
	return access;
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_access_create, IOMMUFD_OOT);

/* Every pin must have been undone. */
void iommufd_kapi_access_destroy(struct iommufd_access *access)
{
	const struct iommufd_access_ops *ops = access->ops;

	iommufd_access_destroy(access);
	kfree(ops);
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_access_destroy, IOMMUFD_OOT);

/**
 * iommufd_kapi_access_pin - pin the page at @iova
 * @access: an access of iommufd_kapi_access_create()
 * @iova: page aligned
 * @page: receives the page
 * @write: the caller will write to it
 *
 * One page a call, so that pins are undone page by page in any grouping,
 * as VFIO's emulated devices do. Returns -EINVAL if @iova is not mapped
 * (VFIO type1's errno), -EPERM if the mapping does not allow the access,
 * or the pages layer's error (-ENOMEM, over RLIMIT_MEMLOCK, -EFAULT).
 */
int iommufd_kapi_access_pin(struct iommufd_access *access, unsigned long iova,
			    struct page **page, bool write)
{
	int rc;

	rc = iommufd_access_pin_pages(access, iova, PAGE_SIZE, page, write);
	return rc == -ENOENT ? -EINVAL : rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_access_pin, IOMMUFD_OOT);

/* Undo one successful iommufd_kapi_access_pin() of @iova. */
void iommufd_kapi_access_unpin(struct iommufd_access *access,
			       unsigned long iova)
{
	iommufd_access_unpin_pages(access, iova, PAGE_SIZE);
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_access_unpin, IOMMUFD_OOT);

/*
 * Copy @length bytes between @data and the memory behind @iova, which
 * may belong to another process than current's. -EINVAL if the range is
 * not fully mapped or wraps (VFIO type1's errno), -EPERM if the mapping does not
 * allow the direction, -EFAULT if the memory is gone.
 */
int iommufd_kapi_access_rw(struct iommufd_access *access, unsigned long iova,
			   void *data, size_t length, bool write)
{
	int rc;

	rc = iommufd_access_rw(access, iova, data, length,
			       write ? IOPT_RW_WRITE : 0);
	/* Type1 finds no mapping at all for a range past the IOVA space. */
	return rc == -ENOENT || rc == -EOVERFLOW ? -EINVAL : rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_access_rw, IOMMUFD_OOT);
