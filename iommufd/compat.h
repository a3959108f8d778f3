/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the kernels this module builds for
 * (Debian 12's 6.1 and 6.12). Everything version-dependent lives here so
 * that the rest of the module is written against one API.
 */
#ifndef IOMMUFD_COMPAT_H
#define IOMMUFD_COMPAT_H

#include <linux/version.h>
#include <linux/iommu.h>
#include <linux/io_uring.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#include <linux/io_uring/cmd.h>
#endif
#include <linux/mm.h>

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

/* 6.12 reaches the SQE's command area through io_uring_sqe_cmd(). */
static inline const void *compat_uring_cmd_payload(struct io_uring_cmd *cmd)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	return io_uring_sqe_cmd(cmd->sqe);
#else
	return cmd->cmd;
#endif
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

#endif
