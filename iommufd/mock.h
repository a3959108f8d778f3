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
struct iommufd_user_array;
struct iommufd_user_data;

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

/* Nested domains, mock_nested.c (Documentation/nesting.rst). */
bool mock_domain_is_nested(struct iommu_domain *domain);
struct iommu_domain *mock_nested_parent(struct iommu_domain *domain);
struct iommu_domain *mock_nested_alloc(struct iommu_domain *parent,
				       const struct iommufd_user_data *data);
void mock_nested_free(struct iommu_domain *domain);
int mock_nested_invalidate(struct iommu_domain *domain,
			   struct iommufd_user_array *array);
int mock_nested_check_iotlb(struct iommu_domain *domain, u32 id, u32 value);

#endif
