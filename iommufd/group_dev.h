/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real devices (group_dev.c): the members of an iommu_group as device
 * objects of a context, translated by the IOMMU driver's own domains.
 */
#ifndef IOMMUFD_GROUP_DEV_H
#define IOMMUFD_GROUP_DEV_H

#include <linux/types.h>

struct iommu_domain;
struct iommu_group;
struct iommufd_ctx;
struct iommufd_group;

struct iommufd_group *iommufd_group_bind(struct iommufd_ctx *ictx,
					 struct iommu_group *group);
int iommufd_group_attach(struct iommufd_group *igroup, u32 ioas_id);
void iommufd_group_unbind(struct iommufd_group *igroup);
struct iommu_domain *iommufd_group_domain(struct iommufd_group *igroup);
struct iommu_group *iommufd_group_iommu_group(struct iommufd_group *igroup);

#endif
