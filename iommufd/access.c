// SPDX-License-Identifier: GPL-2.0
/*
 * Accesses: in-kernel users of an IOAS, such as an emulated device that
 * reads and writes guest memory through the IOAS's IOVAs instead of
 * through an IOMMU.
 */
#include <linux/file.h>
#include <linux/fs.h>

#include "iommufd_private.h"

/**
 * iommufd_access_create - start using an IOAS from the kernel
 * @ictx: the context that holds the IOAS
 * @ioas_id: the IOAS's ID in @ictx
 *
 * Returns the access, which holds the IOAS and the context until
 * iommufd_access_destroy(), or an ERR_PTR: -ENOENT if @ioas_id does not
 * name an IOAS of @ictx.
 */
struct iommufd_access *iommufd_access_create(struct iommufd_ctx *ictx,
					     u32 ioas_id)
{
	struct iommufd_access *access;
	struct iommufd_object *ioas_obj;

	ioas_obj = iommufd_get_object(ictx, ioas_id, IOMMUFD_OBJ_IOAS);
	if (IS_ERR(ioas_obj))
		return ERR_CAST(ioas_obj);

	access = iommufd_object_alloc(ictx, access, IOMMUFD_OBJ_ACCESS);
	if (IS_ERR(access)) {
		iommufd_put_object(ictx, ioas_obj);
		return access;
	}
	access->ictx = ictx;
	get_file(ictx->file);
	access->ioas = container_of(ioas_obj, struct iommufd_ioas, obj);
	/* Long-term: the IOAS cannot be destroyed under the access. */
	refcount_inc(&ioas_obj->users);
	iommufd_put_object(ictx, ioas_obj);

	/* The creator's reference: userspace cannot DESTROY an access. */
	refcount_inc(&access->obj.users);
	iommufd_object_finalize(ictx, &access->obj);
	return access;
}

void iommufd_access_destroy_object(struct iommufd_object *obj)
{
	struct iommufd_access *access =
		container_of(obj, struct iommufd_access, obj);

	refcount_dec(&access->ioas->obj.users);
	fput(access->ictx->file);
}

void iommufd_access_destroy(struct iommufd_access *access)
{
	iommufd_object_destroy_owned(access->ictx, &access->obj);
}
