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

/* IOPTE unit encoding: the unit's physical address and these flags. */
enum {
	MOCK_PTE_READ = 1 << 0,
	MOCK_PTE_WRITE = 1 << 1,
	/* First unit of its IOPTE. */
	MOCK_PTE_HEAD = 1 << 2,
	/* The IOPTE is MOCK_HUGE_PAGE_SIZE, not MOCK_IO_PAGE_SIZE. */
	MOCK_PTE_HUGE = 1 << 3,
	MOCK_PTE_FLAG_BITS = 4,
};

/**
 * struct mock_domain - a mock paging domain
 * @domain: the iommu_domain the core sees
 * @ptes: IOPTE units by IOVA / MOCK_IO_PAGE_SIZE; the xarray's lock
 *	guards it, the core never maps and unmaps the same IOVA at once
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

static unsigned long mock_pte(phys_addr_t paddr, unsigned int flags)
{
	return (paddr / MOCK_IO_PAGE_SIZE) << MOCK_PTE_FLAG_BITS | flags;
}

static phys_addr_t mock_pte_phys(unsigned long pte)
{
	return (phys_addr_t)(pte >> MOCK_PTE_FLAG_BITS) * MOCK_IO_PAGE_SIZE;
}

/* Remove the units of [iova, iova + size) that map_pages() stored. */
static void mock_erase(struct mock_domain *mock, unsigned long iova,
		       size_t size)
{
	unsigned long unit;

	for (unit = 0; unit != size / MOCK_IO_PAGE_SIZE; unit++)
		xa_erase(&mock->ptes, iova / MOCK_IO_PAGE_SIZE + unit);
}

static int mock_map_one(struct mock_domain *mock, unsigned long iova,
			phys_addr_t paddr, size_t pgsize, int prot)
{
	unsigned int flags = MOCK_PTE_HEAD;
	unsigned long unit;
	int rc;

	if (prot & IOMMU_READ)
		flags |= MOCK_PTE_READ;
	if (prot & IOMMU_WRITE)
		flags |= MOCK_PTE_WRITE;
	if (pgsize == MOCK_HUGE_PAGE_SIZE)
		flags |= MOCK_PTE_HUGE;

	for (unit = 0; unit != pgsize / MOCK_IO_PAGE_SIZE; unit++) {
		unsigned long off = unit * MOCK_IO_PAGE_SIZE;

		rc = xa_insert(&mock->ptes, (iova + off) / MOCK_IO_PAGE_SIZE,
			       xa_mk_value(mock_pte(paddr + off, flags)),
			       GFP_KERNEL_ACCOUNT);
		if (rc) {
			/* Mapping over a mapping is a core bug. */
			WARN_ON(rc == -EBUSY);
			mock_erase(mock, iova, off);
			return rc;
		}
		flags &= ~MOCK_PTE_HEAD;
	}
	return 0;
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
		void *entry = xa_load(&mock->ptes, cur / MOCK_IO_PAGE_SIZE);
		unsigned long pte, size;

		if (WARN(!entry, "mock: unmap of unmapped IOVA %#lx\n", cur))
			break;
		pte = xa_to_value(entry);
		size = (pte & MOCK_PTE_HUGE) ? MOCK_HUGE_PAGE_SIZE :
					       MOCK_IO_PAGE_SIZE;
		if (WARN(!(pte & MOCK_PTE_HEAD) || cur + size > end,
			 "mock: unmap of [%#lx, %#lx) cuts an IOPTE at %#lx\n",
			 iova, end, cur))
			break;
		mock_erase(mock, cur, size);
		atomic_long_dec(&mock->nr_ptes);
		cur += size;
	}
	return cur - iova;
}

static phys_addr_t mock_iova_to_phys(struct iommu_domain *domain,
				     dma_addr_t iova)
{
	void *entry = xa_load(&to_mock(domain)->ptes,
			      iova / MOCK_IO_PAGE_SIZE);

	if (!entry)
		return 0;
	return mock_pte_phys(xa_to_value(entry)) + iova % MOCK_IO_PAGE_SIZE;
}

static void mock_domain_free(struct iommu_domain *domain)
{
	struct mock_domain *mock = to_mock(domain);

	/* The core unmaps everything before it frees a domain. */
	WARN_ON(!xa_empty(&mock->ptes));
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
