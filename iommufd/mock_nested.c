// SPDX-License-Identifier: GPL-2.0
/*
 * The mock IOMMU's nested domains (test builds only;
 * Documentation/nesting.rst). A real nested domain points the IOMMU at a
 * guest's first-stage page table and caches its translations in an IOTLB
 * tagged by the guest; the mock has no first stage to walk, so it keeps
 * only what the tests can observe: its parent, the mock paging domain
 * its DMA is translated through, and a small IOTLB whose entries
 * userspace sets at allocation (struct iommu_hwpt_selftest) and clears by
 * invalidation (struct iommu_hwpt_invalidate_selftest), read back with
 * IOMMU_TEST_OP_MD_CHECK_IOTLB.
 */
#include <linux/iommu.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "compat.h"
#include "fault.h"
#include "iommufd_test.h"
#include "mock.h"
#include "user_data.h"

/**
 * struct mock_nested - a mock nested domain
 * @domain: the iommu_domain the core sees, of type
 *	COMPAT_IOMMU_DOMAIN_NESTED; it has no map ops: it maps nothing
 * @parent: the mock paging domain of the nest-parent HWPT; the core keeps
 *	that HWPT alive as long as this domain. Fixed.
 * @lock: guards @iotlb
 * @iotlb: the IOTLB entries, by ID
 */
struct mock_nested {
	struct iommu_domain domain;
	struct iommu_domain *parent;
	spinlock_t lock; /* iotlb */
	u32 iotlb[MOCK_NESTED_DOMAIN_IOTLB_NUM];
};

static struct mock_nested *to_mock_nested(struct iommu_domain *domain)
{
	return container_of(domain, struct mock_nested, domain);
}

static void mock_nested_free_op(struct iommu_domain *domain)
{
	kfree(to_mock_nested(domain));
}

static const struct iommu_domain_ops mock_nested_ops = {
	.free = mock_nested_free_op,
};

bool mock_domain_is_nested(struct iommu_domain *domain)
{
	return domain->ops == &mock_nested_ops;
}

struct iommu_domain *mock_nested_parent(struct iommu_domain *domain)
{
	return to_mock_nested(domain)->parent;
}

void mock_nested_free(struct iommu_domain *domain)
{
	mock_nested_free_op(domain);
}

/**
 * mock_nested_alloc - a mock nested domain on @parent
 * @parent: a mock paging domain (the caller checked)
 * @data: userspace's IOMMU_HWPT_DATA_SELFTEST blob (the caller checked
 *	the type): every IOTLB entry starts with its iotlb value
 *
 * Returns the domain, or iommufd_user_data_copy()'s error for the blob,
 * or -ENOMEM.
 */
struct iommu_domain *mock_nested_alloc(struct iommu_domain *parent,
				       const struct iommufd_user_data *data)
{
	struct iommu_hwpt_selftest cfg;
	struct mock_nested *nested;
	unsigned int i;
	int rc;

	rc = iommufd_user_data_copy(&cfg, sizeof(cfg),
				    offsetofend(struct iommu_hwpt_selftest,
						iotlb),
				    IOMMU_HWPT_DATA_SELFTEST, data);
	if (rc)
		return ERR_PTR(rc);
	nested = iommufd_kzalloc(sizeof(*nested));
	if (!nested)
		return ERR_PTR(-ENOMEM);
	nested->domain.type = COMPAT_IOMMU_DOMAIN_NESTED;
	nested->domain.ops = &mock_nested_ops;
	nested->parent = parent;
	spin_lock_init(&nested->lock);
	for (i = 0; i != MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
		nested->iotlb[i] = cfg.iotlb;
	return &nested->domain;
}

/*
 * One invalidation entry, as upstream's mock: unknown flags are
 * EOPNOTSUPP, an IOTLB ID beyond the last is EINVAL (also with
 * IOMMU_TEST_INVALIDATE_FLAG_ALL, which otherwise ignores it).
 */
static int mock_nested_invalidate_one(struct mock_nested *nested,
				      const struct iommu_hwpt_invalidate_selftest *inv)
{
	unsigned int i;

	if (inv->flags & ~IOMMU_TEST_INVALIDATE_FLAG_ALL)
		return -EOPNOTSUPP;
	if (inv->iotlb_id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX)
		return -EINVAL;
	spin_lock(&nested->lock);
	if (inv->flags & IOMMU_TEST_INVALIDATE_FLAG_ALL) {
		for (i = 0; i != MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
			nested->iotlb[i] = 0;
	} else {
		nested->iotlb[inv->iotlb_id] = 0;
	}
	spin_unlock(&nested->lock);
	return 0;
}

/**
 * mock_nested_invalidate - the mock's cache_invalidate
 * @domain: a mock nested domain
 * @array: IOMMU_HWPT_INVALIDATE_DATA_SELFTEST entries
 *
 * Another data type is EINVAL before any entry, even in an empty array
 * (how userspace probes the type). Entries run in order until one fails;
 * @array->entry_num becomes the count that succeeded.
 */
int mock_nested_invalidate(struct iommu_domain *domain,
			   struct iommufd_user_array *array)
{
	struct mock_nested *nested = to_mock_nested(domain);
	const size_t min_size =
		offsetofend(struct iommu_hwpt_invalidate_selftest, iotlb_id);
	struct iommu_hwpt_invalidate_selftest inv;
	u32 done;
	int rc = 0;

	if (array->type != IOMMU_HWPT_INVALIDATE_DATA_SELFTEST) {
		array->entry_num = 0;
		return -EINVAL;
	}
	for (done = 0; done != array->entry_num; done++) {
		rc = iommufd_user_array_copy(&inv, sizeof(inv), min_size,
					     IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					     array, done);
		if (!rc)
			rc = mock_nested_invalidate_one(nested, &inv);
		if (rc)
			break;
		cond_resched();
	}
	array->entry_num = done;
	return rc;
}

/* IOMMU_TEST_OP_MD_CHECK_IOTLB: 0 if entry @id holds @value, else EINVAL. */
int mock_nested_check_iotlb(struct iommu_domain *domain, u32 id, u32 value)
{
	struct mock_nested *nested = to_mock_nested(domain);
	int rc = 0;

	if (id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX)
		return -EINVAL;
	spin_lock(&nested->lock);
	if (nested->iotlb[id] != value)
		rc = -EINVAL;
	spin_unlock(&nested->lock);
	return rc;
}
