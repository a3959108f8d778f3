// SPDX-License-Identifier: GPL-2.0
/*
 * STAND-IN for the l/vfio-compat branch's vfio_compat.c (issue 17), only
 * so that the VFIO backend (issue 18) builds and maps before that branch
 * lands: when it does, its vfio_compat.c replaces this file whole. Same
 * contract (vfio_compat.h), a fraction of the semantics: SET_IOMMU,
 * CHECK_EXTENSION, MAP_DMA and UNMAP_DMA (with UNMAP_ALL); nothing else.
 * The compat IOAS is the context's first IOAS, which is right for the
 * kernel-owned contexts of VFIO containers only.
 */
#include <linux/vfio.h>

#include "iommufd_private.h"
#include "vfio_compat.h"

static struct iommufd_ioas *compat_ioas_get(struct iommufd_ctx *ictx)
{
	u32 id;

	if (iommufd_vfio_compat_ioas_get_id(ictx, &id))
		return ERR_PTR(-ENODEV);
	return iommufd_get_ioas(ictx, id);
}

int iommufd_vfio_compat_ioas_get_id(struct iommufd_ctx *ictx,
				    u32 *out_ioas_id)
{
	struct iommufd_object *obj;
	unsigned long index;
	int rc = -ENODEV;

	xa_lock(&ictx->objects);
	xa_for_each(&ictx->objects, index, obj) {
		if (!xa_is_zero(obj) && obj->type == IOMMUFD_OBJ_IOAS) {
			*out_ioas_id = obj->id;
			rc = 0;
			break;
		}
	}
	xa_unlock(&ictx->objects);
	return rc;
}

int iommufd_vfio_compat_ioas_create(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;
	u32 id;

	if (!iommufd_vfio_compat_ioas_get_id(ictx, &id))
		return 0;
	ioas = iommufd_object_alloc(ictx, ioas, IOMMUFD_OBJ_IOAS);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	iopt_init(&ioas->iopt, false, &ictx->pages_cache);
	mutex_init(&ioas->mutex);
	INIT_LIST_HEAD(&ioas->auto_hwpts);
	iommufd_object_finalize(ictx, &ioas->obj);
	return 0;
}

static long compat_map_dma(struct iommufd_ctx *ictx, void __user *arg)
{
	struct vfio_iommu_type1_dma_map map;
	struct iommufd_ioas *ioas;
	unsigned long iova;
	int prot = IOMMU_CACHE;
	long rc;

	if (copy_from_user(&map, arg, sizeof(map)))
		return -EFAULT;
	if (map.argsz < sizeof(map) ||
	    map.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
		return -EINVAL;
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;
	iova = map.iova;
	ioas = compat_ioas_get(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = iopt_map_user(&ioas->iopt, &iova, u64_to_user_ptr(map.vaddr),
			   map.size, prot, 0, IOPT_ACCOUNT_MM);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

static long compat_unmap_dma(struct iommufd_ctx *ictx, void __user *arg)
{
	struct vfio_iommu_type1_dma_unmap unmap;
	unsigned long unmapped = 0;
	struct iommufd_ioas *ioas;
	long rc;

	if (copy_from_user(&unmap, arg, sizeof(unmap)))
		return -EFAULT;
	if (unmap.argsz < sizeof(unmap) ||
	    unmap.flags & ~VFIO_DMA_UNMAP_FLAG_ALL)
		return -EINVAL;
	ioas = compat_ioas_get(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL)
		rc = iopt_unmap_all(&ioas->iopt, &unmapped);
	else
		rc = iopt_unmap(&ioas->iopt, unmap.iova, unmap.size,
				&unmapped);
	iommufd_put_object(ictx, &ioas->obj);
	if (rc)
		return rc;
	unmap.size = unmapped;
	if (copy_to_user(arg, &unmap, sizeof(unmap)))
		return -EFAULT;
	return 0;
}

long iommufd_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd,
			unsigned long arg)
{
	switch (cmd) {
	case VFIO_CHECK_EXTENSION:
		return arg == VFIO_TYPE1_IOMMU || arg == VFIO_TYPE1v2_IOMMU ||
		       arg == VFIO_UNMAP_ALL;
	case VFIO_SET_IOMMU:
		if (arg != VFIO_TYPE1_IOMMU && arg != VFIO_TYPE1v2_IOMMU)
			return -EINVAL;
		return iommufd_vfio_compat_ioas_create(ictx);
	case VFIO_IOMMU_MAP_DMA:
		return compat_map_dma(ictx, (void __user *)arg);
	case VFIO_IOMMU_UNMAP_DMA:
		return compat_unmap_dma(ictx, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}
