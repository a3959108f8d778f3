/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mock IOMMU driver (test builds only): paging iommu_domains with a
 * software page table, and mock devices bound through iommufd_device_ops.
 */
#ifndef IOMMUFD_MOCK_H
#define IOMMUFD_MOCK_H

#include <linux/types.h>

struct iommu_domain;
struct iommu_test_iopte_stats;
struct iommufd_device_ops;

enum {
	/* Smallest IOPTE: half a CPU page, so the core must not assume 4K. */
	MOCK_IO_PAGE_SIZE = PAGE_SIZE / 2,
	/* The large IOPTE of devices made with MOCK_FLAGS_DEVICE_HUGE_IOVA. */
	MOCK_HUGE_PAGE_SIZE = 512 * MOCK_IO_PAGE_SIZE,
};

/* Per-device state of a mock device; iommufd_device::drv_data. */
struct mock_dev {
	u32 flags;
	struct iommu_domain *domain;
};

extern const struct iommufd_device_ops mock_device_ops;

bool mock_domain_is_mock(struct iommu_domain *domain);
void mock_domain_set_limit(struct iommu_domain *domain, unsigned long limit);
void mock_domain_iopte_stats(struct iommu_domain *domain, unsigned long iova,
			     unsigned long last,
			     struct iommu_test_iopte_stats *stats);
bool mock_domain_tracking(struct iommu_domain *domain);
bool mock_domain_mark_dirty(struct iommu_domain *domain, unsigned long iova,
			    unsigned long length);

#endif
