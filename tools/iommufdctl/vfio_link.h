/* SPDX-License-Identifier: GPL-2.0 */
/* vfio_link.c: the vfio-link command's handler. */
#ifndef IOMMUFDCTL_VFIO_LINK_H
#define IOMMUFDCTL_VFIO_LINK_H

#include "iommufdctl.h"

int cmd_vfio_link(struct ctl *ctl, struct ctl_args *a);

#endif /* IOMMUFDCTL_VFIO_LINK_H */
