/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test builds: which IOPTE sizes the IOMMU core gives what the module
 * maps into any domain, real or mock (iopte_stats.c). Release builds
 * compile the calls away.
 */
#ifndef IOMMUFD_IOPTE_STATS_H
#define IOMMUFD_IOPTE_STATS_H

#include <linux/iommu.h>

#ifdef CONFIG_IOMMUFD_OOT_TEST
void iommufd_iopte_stats_note(struct iommu_domain *domain, unsigned long iova,
			      phys_addr_t paddr, size_t size);
void iommufd_iopte_stats_init(void);
void iommufd_iopte_stats_exit(void);
#else
static inline void iommufd_iopte_stats_note(struct iommu_domain *domain,
					    unsigned long iova,
					    phys_addr_t paddr, size_t size)
{
}

static inline void iommufd_iopte_stats_init(void)
{
}

static inline void iommufd_iopte_stats_exit(void)
{
}
#endif

#endif
