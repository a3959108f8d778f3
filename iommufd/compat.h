/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the kernels this module builds for
 * (Debian 12's 6.1 and 6.12). Everything version-dependent lives here so
 * that the rest of the module is written against one API.
 */
#ifndef IOMMUFD_COMPAT_H
#define IOMMUFD_COMPAT_H

#include <linux/version.h>
#include "../uapi/linux/iommufd.h"
#include <linux/iommu.h>
#include <linux/io_uring.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#include <linux/io_uring/cmd.h>
#endif
#include <linux/mm.h>
#include <linux/uaccess.h>
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
#include <linux/irqdomain.h>
#endif

/* 6.5 dropped the vmas argument of pin_user_pages_remote(). */
static inline long compat_pin_user_pages_remote(struct mm_struct *mm,
						unsigned long start,
						unsigned long nr_pages,
						unsigned int gup_flags,
						struct page **pages)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL);
#else
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL, NULL);
#endif
}

/*
 * The PFN behind @addr in @vma, a VM_IO/VM_PFNMAP mapping (a device BAR),
 * with the mmap lock held: 6.12 has follow_pfnmap_start(), 6.1
 * follow_pte(). -EFAULT if nothing is mapped there yet, or @write and the
 * mapping is read-only.
 */
static inline int compat_follow_pfn(struct vm_area_struct *vma,
				    unsigned long addr, bool write,
				    unsigned long *pfn)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	struct follow_pfnmap_args args = { .vma = vma, .address = addr };
	int rc;

	rc = follow_pfnmap_start(&args);
	if (rc)
		return rc;
	if (write && !args.writable)
		rc = -EFAULT;
	else
		*pfn = args.pfn;
	follow_pfnmap_end(&args);
	return rc;
#else
	spinlock_t *ptl; /* the PTE's lock, held until pte_unmap_unlock() */
	pte_t *ptep;
	int rc;

	rc = follow_pte(vma->vm_mm, addr, &ptep, &ptl);
	if (rc)
		return rc;
	if (write && !pte_write(*ptep))
		rc = -EFAULT;
	else
		*pfn = pte_pfn(*ptep);
	pte_unmap_unlock(ptep, ptl);
	return rc;
#endif
}

/* 6.12 reaches the SQE's command area through io_uring_sqe_cmd(). */
static inline const void *compat_uring_cmd_payload(struct io_uring_cmd *cmd)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	return io_uring_sqe_cmd(cmd->sqe);
#else
	return cmd->cmd;
#endif
}

/*
 * What a uring_cmd handler returns for result @res. 6.12 posts any result
 * as the CQE's res. 6.1's io-wq posts only errors: a positive result
 * (the ID an inline IOAS_ALLOC returns) from a command issued again in a
 * worker would never complete. There it is posted here, and the issue
 * reports the command as queued.
 */
static inline int compat_uring_cmd_result(struct io_uring_cmd *cmd, int res,
					  unsigned int issue_flags)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
	if (res > 0) {
		io_uring_cmd_done(cmd, res, 0, issue_flags);
		return -EIOCBQUEUED;
	}
#endif
	return res;
}

/* 6.3 added the gfp argument of iommu_map(). */
static inline int compat_iommu_map(struct iommu_domain *domain,
				   unsigned long iova, phys_addr_t paddr,
				   size_t size, int prot)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return iommu_map(domain, iova, paddr, size, prot, GFP_KERNEL_ACCOUNT);
#else
	return iommu_map(domain, iova, paddr, size, prot);
#endif
}

/*
 * Pin @nr_pages user pages of the current mm without sleeping: no page
 * fault, no wait for userfaultfd. Returns @nr_pages with all of them
 * pinned, or -EAGAIN with none pinned (the caller then pins on a path
 * that may sleep). Any failure is -EAGAIN: the sleeping path finds out
 * what is really wrong.
 *
 * 6.1 exports pin_user_pages_fast_only(): the lockless page-table walk
 * alone, which never faults and never takes mmap_lock. 6.12 does not
 * (FOLL_FAST_ONLY became internal to mm/). There, one read of each page
 * with page faults disabled checks that it is present (a missing page
 * fails at once, before the fault handler takes any lock), and
 * pin_user_pages_fast() with FOLL_NOFAULT pins: its lockless walk pins
 * present pages, and where it cannot (a page present but not writable,
 * such as a shared copy-on-write page, or one that must migrate to be
 * pinned long-term) its fallback fails rather than fault, though it
 * takes mmap_lock for read to look. Checking with a second lockless walk
 * instead (get_user_pages_fast_only()) cost a sixth of a batched
 * map+unmap pair.
 */
static inline int compat_pin_user_pages_nowait(unsigned long start,
					       int nr_pages,
					       unsigned int gup_flags,
					       struct page **pages)
{
	int got;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	int i;
	char c __maybe_unused;

	pagefault_disable();
	for (i = 0; i != nr_pages; i++)
		if (get_user(c, (const char __user *)start + i * PAGE_SIZE))
			break;
	pagefault_enable();
	if (i != nr_pages)
		return -EAGAIN;
	got = pin_user_pages_fast(start, nr_pages, gup_flags | FOLL_NOFAULT,
				  pages);
#else
	got = pin_user_pages_fast_only(start, nr_pages, gup_flags, pages);
#endif
	if (got == nr_pages)
		return got;
	if (got > 0)
		unpin_user_pages(pages, got);
	return -EAGAIN;
}

/*
 * A new paging domain for @dev from its IOMMU driver, or an ERR_PTR.
 * 6.11 added iommu_paging_domain_alloc(); before it, domains came from
 * the device's bus, and NULL meant failure.
 */
static inline struct iommu_domain *
compat_iommu_paging_domain_alloc(struct device *dev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	return iommu_paging_domain_alloc(dev);
#else
	struct iommu_domain *domain = iommu_domain_alloc(dev->bus);

	return domain ? domain : ERR_PTR(-ENOMEM);
#endif
}

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline int compat_dev_lacks_intr_remap(struct device *dev, void *data)
{
	return !device_iommu_capable(dev, IOMMU_CAP_INTR_REMAP);
}
#endif

/*
 * Whether the MSIs of every device of @group are isolated from other
 * devices' (interrupt remapping or an MSI controller that isolates), so
 * that a device's DMA cannot forge another's interrupts. 6.3 added
 * iommu_group_has_isolated_msi(); 6.1 asks the interrupt domains and
 * each device's IOMMU, as its VFIO type1 does.
 */
static inline bool compat_iommu_group_has_isolated_msi(struct iommu_group *group)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return iommu_group_has_isolated_msi(group);
#else
	return irq_domain_check_msi_remap() ||
	       !iommu_group_for_each_dev(group, NULL,
					 compat_dev_lacks_intr_remap);
#endif
}

/*
 * Whether @dev's IOMMU can make a domain ignore the device's no-snoop
 * attribute (domain ops' enforce_cache_coherency()). 6.3 added the
 * capability; before it there is no way to know for a device, and a
 * domain enforced for a device that cannot (QEMU's VT-d has no snoop
 * control) refuses that device, so 6.1 never enforces.
 */
static inline bool compat_dev_enforces_cache_coherency(struct device *dev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return device_iommu_capable(dev, IOMMU_CAP_ENFORCE_CACHE_COHERENCY);
#else
	return false;
#endif
}

/*
 * Move @group, attached to a domain, to @domain without a moment of no
 * translation. 6.12 exports iommu_group_replace_domain() (to iommufd, in
 * the IOMMUFD_INTERNAL namespace, which COMPAT_IMPORT_REPLACE_NS
 * imports, once, in group_dev.c); 6.1 has no way to do it atomically, so
 * it refuses: -EOPNOTSUPP.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#define COMPAT_HAS_GROUP_REPLACE 1
#define COMPAT_IMPORT_REPLACE_NS MODULE_IMPORT_NS(IOMMUFD_INTERNAL)
/*
 * Exported, but declared in drivers/iommu/iommu-priv.h, which no header
 * package ships; modversions checks the symbol's CRC at load.
 */
int iommu_group_replace_domain(struct iommu_group *group,
			       struct iommu_domain *new_domain);
#else
#define COMPAT_HAS_GROUP_REPLACE 0
#define COMPAT_IMPORT_REPLACE_NS
#endif

static inline int compat_iommu_group_replace_domain(struct iommu_group *group,
						    struct iommu_domain *domain)
{
#if COMPAT_HAS_GROUP_REPLACE
	return iommu_group_replace_domain(group, domain);
#else
	return -EOPNOTSUPP;
#endif
}

/*
 * What @dev's IOMMU driver tells IOMMU_GET_HW_INFO: kmalloc()ed data of
 * *@len bytes of type *@type (IOMMU_HW_INFO_TYPE_*), or NULL with type
 * NONE and length 0 where the driver has nothing to say (virtio-iommu)
 * or the kernel no way to ask (6.1: iommu_ops gained hw_info in 6.6).
 * An ERR_PTR for the driver's failure.
 */
static inline void *compat_dev_iommu_hw_info(struct device *dev, u32 *len,
					     u32 *type)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	/*
	 * dev_iommu_ops() is private to drivers/iommu; the path it takes is
	 * in <linux/iommu.h>, and stays valid while the device has its
	 * group, which its VFIO owner holds.
	 */
	const struct iommu_ops *ops =
		dev->iommu && dev->iommu->iommu_dev ?
			dev->iommu->iommu_dev->ops : NULL;

	if (ops && ops->hw_info)
		return ops->hw_info(dev, len, type);
#endif
	*len = 0;
	*type = IOMMU_HW_INFO_TYPE_NONE;
	return NULL;
}

/*
 * 6.1's struct vfio_iommu_driver_ops (VFIO's private interface, see
 * vfio_ops.h) ends with a notify callback, which 6.2 removed.
 */
#define COMPAT_VFIO_OPS_HAS_NOTIFY \
	(LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0))

/*
 * The domain type of a nested domain (Documentation/nesting.rst). 6.5
 * added IOMMU_DOMAIN_NESTED; 6.1 has no such type, and our mock's nested
 * domains, which never reach the kernel's IOMMU core, carry the same
 * bit, which no 6.1 domain type uses.
 */
#ifdef IOMMU_DOMAIN_NESTED
#define COMPAT_IOMMU_DOMAIN_NESTED IOMMU_DOMAIN_NESTED
#else
#define COMPAT_IOMMU_DOMAIN_NESTED BIT(6)
#endif

#endif
