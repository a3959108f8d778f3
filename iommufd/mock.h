/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mock IOMMU driver (test builds only): paging iommu_domains with a
 * software page table, and mock devices bound through iommufd_device_ops.
 */
#ifndef IOMMUFD_MOCK_H
#define IOMMUFD_MOCK_H

#include <linux/spinlock.h>
#include <linux/types.h>

#include "iommufd_test.h"

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

/**
 * struct mock_dev - per-device state of a mock device (idev->drv_data)
 * @flags: MOCK_FLAGS_DEVICE_*
 * @domain: the domain it translates through, or NULL
 * @iopf_lock: guards the members below; a leaf lock, taken under fault
 *	queue mutexes (page responses) and the device's lock (IOPF on/off)
 * @iopf_on: the device may report I/O page faults (on an HWPT with a
 *	fault queue)
 * @log: the answers to its fault groups, oldest at @head, as
 *	IOMMU_TEST_OP_IOPF_RESPONSES returns them
 * @head: index of the oldest entry of @log
 * @count: entries in @log
 * @lost: answers that came while @log was full, and were counted only
 */
struct mock_dev {
	u32 flags;
	struct iommu_domain *domain;
	spinlock_t iopf_lock; /* the members below */
	bool iopf_on;
	struct iommu_test_iopf_response log[MOCK_IOPF_LOG_MAX];
	unsigned int head;
	unsigned int count;
	u32 lost;
};

extern const struct iommufd_device_ops mock_device_ops;

bool mock_domain_is_mock(struct iommu_domain *domain);
void mock_domain_set_limit(struct iommu_domain *domain, unsigned long limit);
void mock_domain_iopte_stats(struct iommu_domain *domain, unsigned long iova,
			     unsigned long last,
			     struct iommu_test_iopte_stats *stats);
bool mock_domain_tracking(struct iommu_domain *domain);
void mock_dev_init(struct mock_dev *mdev, u32 flags);
unsigned int mock_dev_iopf_take(struct mock_dev *mdev,
				struct iommu_test_iopf_response *out,
				unsigned int n, u32 *lost, bool *iopf_on);
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
