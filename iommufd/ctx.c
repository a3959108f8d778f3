// SPDX-License-Identifier: GPL-2.0
/*
 * Contexts: what one open of /dev/iommu holds, or what the kernel holds
 * for one VFIO container (kapi.c). Both entries, the file's open and
 * release (main.c) and the container's create and destroy (kapi.c), make
 * and end a context here, so neither calls the other.
 */
#include <linux/slab.h>

#include "fault.h"
#include "iommufd_private.h"
#include "pages.h"

/*
 * A new, empty context. @filp is the /dev/iommu file it belongs to, or
 * NULL for a context the kernel owns (a VFIO container's).
 */
struct iommufd_ctx *iommufd_ctx_alloc(struct file *filp)
{
	struct iommufd_ctx *ictx;

	ictx = iommufd_kzalloc(sizeof(*ictx));
	if (!ictx)
		return NULL;
	iommufd_objects_init(ictx);
	ictx->account_mode = IOPT_ACCOUNT_USER;
	iopt_pages_cache_init(&ictx->pages_cache);
	ictx->file = filp;
	return ictx;
}

/* Destroy every object of @ictx, then @ictx itself. */
void iommufd_ctx_free(struct iommufd_ctx *ictx)
{
	iommufd_fault_ctx_closed(ictx);
	iommufd_objects_destroy_all(ictx);
	iopt_pages_cache_drain(&ictx->pages_cache);
	kfree(ictx);
}
