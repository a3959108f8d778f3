// SPDX-License-Identifier: GPL-2.0
/*
 * The mock IOMMU driver, compiled into test builds only.
 *
 * A mock domain is a real struct iommu_domain of type UNMANAGED with
 * map_pages/unmap_pages/iova_to_phys ops, so the core drives it through
 * the kernel's iommu_map()/iommu_unmap()/iommu_iova_to_phys() exactly as it
 * would drive hardware. Its page table is an xarray with one entry per
 * MOCK_IO_PAGE_SIZE unit of IOVA recording the physical address, the
 * permissions and the size of the IOPTE the unit belongs to. It refuses
 * misaligned, overlapping and unbalanced requests with a WARN: in this
 * driver a WARN means a core bug, and the VM runner fails the run on it.
 */
#include <linux/iommu.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "iommufd_private.h"
#include "iommufd_test.h"
#include "mock.h"

/*
 * IOPTE encoding: the IOPTE's physical address in MOCK_IO_PAGE_SIZE units,
 * shifted above these flags. One entry covers all the MOCK_IO_PAGE_SIZE
 * units of its IOPTE (a multi-index entry for a huge one), so a huge
 * IOPTE costs one store, as it would in hardware.
 */
enum {
	MOCK_PTE_READ = 1 << 0,
	MOCK_PTE_WRITE = 1 << 1,
	/* The IOPTE is MOCK_HUGE_PAGE_SIZE, not MOCK_IO_PAGE_SIZE. */
	MOCK_PTE_HUGE = 1 << 2,
	MOCK_PTE_FLAG_BITS = 3,
};

/**
 * struct mock_domain - a mock paging domain
 * @domain: the iommu_domain the core sees
 * @ptes: IOPTEs by IOVA / MOCK_IO_PAGE_SIZE; the xarray's lock guards it
 * @nr_ptes: IOPTEs present
 * @limit: most IOPTEs this domain may hold, 0 for no limit
 */
struct mock_domain {
	struct iommu_domain domain;
	struct xarray ptes;
	atomic_long_t nr_ptes;
	unsigned long limit;
};

static struct mock_domain *to_mock(struct iommu_domain *domain)
{
	return container_of(domain, struct mock_domain, domain);
}

static unsigned long mock_unit(unsigned long iova)
{
	return iova / MOCK_IO_PAGE_SIZE;
}

static unsigned long mock_pte_size(unsigned long pte)
{
	return (pte & MOCK_PTE_HUGE) ? MOCK_HUGE_PAGE_SIZE : MOCK_IO_PAGE_SIZE;
}

/* The IOPTE translating @iova: its encoding, or 0 if none. */
static unsigned long mock_pte_at(struct mock_domain *mock, unsigned long iova)
{
	void *entry = xa_load(&mock->ptes, mock_unit(iova));

	return entry ? xa_to_value(entry) : 0;
}

static int mock_map_one(struct mock_domain *mock, unsigned long iova,
			phys_addr_t paddr, size_t pgsize, int prot)
{
	unsigned long first = mock_unit(iova);
	unsigned long last = mock_unit(iova + pgsize - 1);
	unsigned long pte, index = first;

	/* Mapping over a mapping is a core bug. */
	if (WARN(xa_find(&mock->ptes, &index, last, XA_PRESENT),
		 "mock: map over a mapped IOVA %#lx\n", index * MOCK_IO_PAGE_SIZE))
		return -EEXIST;
	pte = (paddr / MOCK_IO_PAGE_SIZE) << MOCK_PTE_FLAG_BITS;
	if (prot & IOMMU_READ)
		pte |= MOCK_PTE_READ;
	if (prot & IOMMU_WRITE)
		pte |= MOCK_PTE_WRITE;
	if (pgsize == MOCK_HUGE_PAGE_SIZE)
		pte |= MOCK_PTE_HUGE;
	return xa_err(xa_store_range(&mock->ptes, first, last, xa_mk_value(pte),
				     GFP_KERNEL_ACCOUNT));
}

static int mock_map_pages(struct iommu_domain *domain, unsigned long iova,
			  phys_addr_t paddr, size_t pgsize, size_t pgcount,
			  int prot, gfp_t gfp, size_t *mapped)
{
	struct mock_domain *mock = to_mock(domain);
	int rc;

	if (WARN_ON(!(domain->pgsize_bitmap & pgsize) || iova % pgsize ||
		    paddr % pgsize))
		return -EINVAL;
	for (; pgcount; pgcount--) {
		if (mock->limit &&
		    atomic_long_read(&mock->nr_ptes) >= mock->limit)
			return -ENOMEM;
		rc = mock_map_one(mock, iova, paddr, pgsize, prot);
		if (rc)
			return rc;
		atomic_long_inc(&mock->nr_ptes);
		iova += pgsize;
		paddr += pgsize;
		*mapped += pgsize;
	}
	return 0;
}

/*
 * Unmap whole IOPTEs covering [iova, iova + pgsize * pgcount). Like a real
 * page table, one request may remove several smaller IOPTEs; it may never
 * cut one, and every unit in the range must be mapped.
 */
static size_t mock_unmap_pages(struct iommu_domain *domain, unsigned long iova,
			       size_t pgsize, size_t pgcount,
			       struct iommu_iotlb_gather *gather)
{
	struct mock_domain *mock = to_mock(domain);
	unsigned long end = iova + pgsize * pgcount;
	unsigned long cur = iova;

	while (cur < end) {
		unsigned long pte = mock_pte_at(mock, cur), size;

		if (WARN(!pte, "mock: unmap of unmapped IOVA %#lx\n", cur))
			break;
		size = mock_pte_size(pte);
		if (WARN(cur % size || cur + size > end,
			 "mock: unmap of [%#lx, %#lx) cuts an IOPTE at %#lx\n",
			 iova, end, cur))
			break;
		xa_store_range(&mock->ptes, mock_unit(cur),
			       mock_unit(cur + size - 1), NULL, GFP_KERNEL);
		atomic_long_dec(&mock->nr_ptes);
		cur += size;
	}
	return cur - iova;
}

static phys_addr_t mock_iova_to_phys(struct iommu_domain *domain,
				     dma_addr_t iova)
{
	unsigned long pte = mock_pte_at(to_mock(domain), iova);

	if (!pte)
		return 0;
	return (phys_addr_t)(pte >> MOCK_PTE_FLAG_BITS) * MOCK_IO_PAGE_SIZE +
	       iova % mock_pte_size(pte);
}

/**
 * mock_domain_iopte_stats - count the IOPTEs over an IOVA range
 * @domain: a mock domain
 * @iova: start, a multiple of MOCK_IO_PAGE_SIZE
 * @length: bytes, a multiple of MOCK_IO_PAGE_SIZE
 * @stats: out: IOPTEs of each size overlapping the range, unmapped bytes
 */
void mock_domain_iopte_stats(struct iommu_domain *domain, unsigned long iova,
			     unsigned long length,
			     struct iommu_test_iopte_stats *stats)
{
	struct mock_domain *mock = to_mock(domain);
	unsigned long cur = iova, end = iova + length;

	memset(stats, 0, sizeof(*stats));
	while (cur < end) {
		unsigned long pte = mock_pte_at(mock, cur), size;

		if (!pte) {
			stats->unmapped += MOCK_IO_PAGE_SIZE;
			cur += MOCK_IO_PAGE_SIZE;
			continue;
		}
		size = mock_pte_size(pte);
		if (size == MOCK_HUGE_PAGE_SIZE)
			stats->huge++;
		else
			stats->small++;
		cur = ALIGN_DOWN(cur, size) + size;
	}
}

static void mock_domain_free(struct iommu_domain *domain)
{
	struct mock_domain *mock = to_mock(domain);

	/* The core unmaps everything before it frees a domain. */
	WARN_ON(atomic_long_read(&mock->nr_ptes) || !xa_empty(&mock->ptes));
	xa_destroy(&mock->ptes);
	kfree(mock);
}

static const struct iommu_domain_ops mock_domain_ops = {
	.map_pages = mock_map_pages,
	.unmap_pages = mock_unmap_pages,
	.iova_to_phys = mock_iova_to_phys,
	.free = mock_domain_free,
};

bool mock_domain_is_mock(struct iommu_domain *domain)
{
	return domain->ops == &mock_domain_ops;
}

void mock_domain_set_limit(struct iommu_domain *domain, unsigned long limit)
{
	to_mock(domain)->limit = limit;
}

static struct iommu_domain *mock_alloc_paging(struct iommufd_device *idev)
{
	struct mock_dev *mdev = idev->drv_data;
	struct mock_domain *mock;

	mock = kzalloc(sizeof(*mock), GFP_KERNEL_ACCOUNT);
	if (!mock)
		return ERR_PTR(-ENOMEM);
	xa_init_flags(&mock->ptes, XA_FLAGS_ACCOUNT);
	mock->domain.type = IOMMU_DOMAIN_UNMANAGED;
	mock->domain.ops = &mock_domain_ops;
	mock->domain.pgsize_bitmap = MOCK_IO_PAGE_SIZE;
	if (mdev->flags & MOCK_FLAGS_DEVICE_HUGE_IOVA)
		mock->domain.pgsize_bitmap |= MOCK_HUGE_PAGE_SIZE;
	mock->domain.geometry.aperture_start = MOCK_APERTURE_START;
	mock->domain.geometry.aperture_end = MOCK_APERTURE_LAST;
	mock->domain.geometry.force_aperture = true;
	return &mock->domain;
}

static int mock_attach(struct iommufd_device *idev,
		       struct iommu_domain *domain)
{
	struct mock_dev *mdev = idev->drv_data;

	if (!mock_domain_is_mock(domain))
		return -EINVAL;
	/* A huge-IOVA device wants its own large IOPTEs, not a shared table. */
	if (!(mdev->flags & MOCK_FLAGS_DEVICE_HUGE_IOVA) !=
	    !(domain->pgsize_bitmap & MOCK_HUGE_PAGE_SIZE))
		return -EINVAL;
	mdev->domain = domain;
	return 0;
}

static void mock_detach(struct iommufd_device *idev)
{
	struct mock_dev *mdev = idev->drv_data;

	mdev->domain = NULL;
}

static void *mock_hw_info(struct iommufd_device *idev, u32 *len, u32 *type)
{
	struct iommu_test_hw_info *info;

	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return ERR_PTR(-ENOMEM);
	info->test_reg = IOMMU_HW_INFO_SELFTEST_REGVAL;
	*len = sizeof(*info);
	*type = IOMMU_HW_INFO_TYPE_SELFTEST;
	return info;
}

static void mock_free_domain(struct iommu_domain *domain)
{
	mock_domain_free(domain);
}

const struct iommufd_device_ops mock_device_ops = {
	.domain_alloc_paging = mock_alloc_paging,
	.domain_free = mock_free_domain,
	.attach = mock_attach,
	.detach = mock_detach,
	.hw_info = mock_hw_info,
};
