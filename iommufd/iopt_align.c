// SPDX-License-Identifier: GPL-2.0
/*
 * The IOVA alignment policy, in one place. Every IOVA and length mapped
 * must be a multiple of io_pagetable::iova_alignment, a power of two that
 * is the largest of:
 *
 * - the smallest page size of every attached domain (an IOPTE cannot be
 *   smaller),
 * - the alignment of every in-kernel user (PAGE_SIZE for users that pin
 *   whole pages),
 * - PAGE_SIZE while IOMMU_OPTION_HUGE_PAGES is 0 (PAGE_SIZE IOPTEs map
 *   whole pages only),
 * - 1 otherwise: with nothing attached any byte address can be mapped.
 *
 * A requirement may only be added (a domain attached, a user registered,
 * large pages turned off) if every existing area, and every window's page
 * size, already meets the raised alignment: iopt_areas_aligned(). Inside
 * windows the window's page size is the granularity on top of this.
 *
 * The alignment an automatic IOVA keeps from the user address is a
 * different matter, chosen where the IOVA is (iopt_alloc_iova(),
 * iopt_window_place()).
 *
 * Fields read and written here are guarded by iova_rwsem (and the users
 * list by users_lock), as struct io_pagetable says.
 */
#include <linux/iommu.h>

#include "../uapi/linux/iommufd.h"
#include "iopt_internal.h"

/* The IOVA alignment the option, the domains and the users require. */
unsigned long iopt_min_alignment(struct io_pagetable *iopt)
{
	unsigned long align = iopt->disable_large_pages ? PAGE_SIZE : 1;
	unsigned int i;

	align = max(align, iopt->users_alignment);
	for (i = 0; i != iopt->ndomains; i++)
		align = max(align, 1UL << __ffs(iopt->domains[i]->pgsize_bitmap));
	return align;
}

/* The largest alignment any registered in-kernel user needs. */
unsigned long iopt_users_alignment(struct io_pagetable *iopt)
{
	unsigned long align = 1;
	struct iopt_user *user;

	lockdep_assert_held(&iopt->users_lock);
	list_for_each_entry(user, &iopt->users, node)
		align = max(align, user->iova_alignment);
	return align;
}

/* Can every window keep working if IOVAs must be @align aligned? */
static bool iopt_windows_allow_alignment(struct io_pagetable *iopt,
					 unsigned long align)
{
	struct iopt_window *win;

	for (win = window_first(iopt, 0, ULONG_MAX); win;
	     win = window_next(win, 0, ULONG_MAX))
		if (win->page_size < align)
			return false;
	return true;
}

/*
 * Could every area (and every window's page size) stay as it is if IOVAs
 * had to be @align aligned?
 */
bool iopt_areas_aligned(struct io_pagetable *iopt, unsigned long align)
{
	struct iopt_area *area;

	if (!iopt_windows_allow_alignment(iopt, align))
		return false;
	for (area = area_first(iopt, 0, ULONG_MAX); area;
	     area = area_next(area, 0, ULONG_MAX))
		if (area->node.start % align || area_length(area) % align ||
		    (area->start_byte % PAGE_SIZE) % align)
			return false;
	return true;
}

/* Is there a window whose IOPTEs must be larger than PAGE_SIZE? */
static bool iopt_has_exact_large_window(struct io_pagetable *iopt)
{
	struct iopt_window *win;

	for (win = window_first(iopt, 0, ULONG_MAX); win;
	     win = window_next(win, 0, ULONG_MAX))
		if ((win->attrs & IOMMU_WINDOW_ATTR_EXACT_IOPTE) &&
		    win->page_size > PAGE_SIZE)
			return true;
	return false;
}

/**
 * iopt_set_large_pages - IOMMU_OPTION_HUGE_PAGES
 * @iopt: the address space
 * @enable: false to force PAGE_SIZE IOPTEs
 *
 * PAGE_SIZE IOPTEs can only map whole pages, so disabling large pages
 * raises the IOVA alignment to PAGE_SIZE; -EADDRINUSE if an existing area
 * could not be mapped that way. Domains already holding mappings cannot
 * be re-laid out, so disabling with both domains and areas is -EINVAL, as
 * is disabling with an exact-IOPTE window larger than PAGE_SIZE.
 */
int iopt_set_large_pages(struct io_pagetable *iopt, bool enable)
{
	bool old;
	int rc = 0;

	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	old = iopt->disable_large_pages;
	if (!enable && !old && iopt->ndomains &&
	    !RB_EMPTY_ROOT(&iopt->area_itree.rb_root)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (!enable && iopt_has_exact_large_window(iopt)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	iopt->disable_large_pages = !enable;
	if (!enable && !iopt_areas_aligned(iopt, iopt_min_alignment(iopt))) {
		iopt->disable_large_pages = old;
		rc = -EADDRINUSE;
		goto out_unlock;
	}
	iopt->iova_alignment = iopt_min_alignment(iopt);
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
	return rc;
}

bool iopt_large_pages_enabled(struct io_pagetable *iopt)
{
	return !READ_ONCE(iopt->disable_large_pages);
}
