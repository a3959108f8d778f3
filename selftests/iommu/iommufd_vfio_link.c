// SPDX-License-Identifier: GPL-2.0
/*
 * IOMMU_VFIO_LINK with real DMA: the link fixture of iommufd_vfio_edu.c
 * (its edu helpers), run alone. See the tests there.
 */
#define EDU_LINK_ONLY
#include "iommufd_vfio_edu.c"
