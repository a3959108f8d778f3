// SPDX-License-Identifier: GPL-2.0
/*
 * IOAS commands: the I/O address space object and the ioctls that act on
 * it. Validation of user input happens here; the address space itself is
 * managed by the io_pagetable layer below.
 */
#include <linux/slab.h>

#include "iommufd_private.h"

void iommufd_ioas_destroy(struct iommufd_object *obj)
{
}

int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_alloc *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;

	ioas = iommufd_object_alloc(ucmd->ictx, ioas, IOMMUFD_OBJ_IOAS);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	cmd->out_ioas_id = ioas->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		iommufd_object_abort(ucmd->ictx, &ioas->obj);
		return rc;
	}
	iommufd_object_finalize(ucmd->ictx, &ioas->obj);
	return 0;
}
