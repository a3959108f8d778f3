// SPDX-License-Identifier: GPL-2.0
/*
 * Contexts: what one open of /dev/iommu holds, or what the kernel holds
 * for one VFIO container (kapi.c). Both entries, the file's open and
 * release (main.c) and the container's create and destroy (kapi.c), make
 * and drop a context here, so neither calls the other. A context is
 * refcounted (struct iommufd_ctx's @users): a container's context may
 * outlive the container while a /dev/iommu file linked to it is open,
 * and the other way round.
 */
#include <linux/slab.h>

#include "fault.h"
#include "iommufd_private.h"
#include "pages.h"

/* A new, empty context, with one reference for its creator. */
struct iommufd_ctx *iommufd_ctx_alloc(void)
{
	struct iommufd_ctx *ictx;

	ictx = iommufd_kzalloc(sizeof(*ictx));
	if (!ictx)
		return NULL;
	refcount_set(&ictx->users, 1);
	iommufd_objects_init(ictx);
	ictx->account_mode = IOPT_ACCOUNT_USER;
	iopt_pages_cache_init(&ictx->pages_cache);
	mutex_init(&ictx->vfio_dirty_lock);
	xa_init(&ictx->vfio_soft_dirty);
	return ictx;
}

/* Another holder of a context someone holds already. */
void iommufd_ctx_ref(struct iommufd_ctx *ictx)
{
	refcount_inc(&ictx->users);
}

/*
 * Drop a holder's reference; the last one destroys every object of the
 * context, then the context, and lets go of the context it was linked to.
 */
void iommufd_ctx_unref(struct iommufd_ctx *ictx)
{
	struct iommufd_ctx *linked;

	if (!refcount_dec_and_test(&ictx->users))
		return;
	linked = ictx->linked;
	iommufd_fault_ctx_closed(ictx);
	iommufd_objects_destroy_all(ictx);
	iopt_pages_cache_drain(&ictx->pages_cache);
	xa_destroy(&ictx->vfio_soft_dirty);
	mutex_destroy(&ictx->vfio_dirty_lock);
	kfree(ictx);
	/* A file's context only: a container's is never linked. */
	if (linked)
		iommufd_ctx_unref(linked);
}
