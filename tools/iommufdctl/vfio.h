/* SPDX-License-Identifier: GPL-2.0 */
/* vfio.c: real devices through VFIO containers, and edu's DMA engine. */
#ifndef IOMMUFDCTL_VFIO_H
#define IOMMUFDCTL_VFIO_H

#include "iommufdctl.h"

extern const struct ctl_cmd vfio_cmds[];

#endif /* IOMMUFDCTL_VFIO_H */
