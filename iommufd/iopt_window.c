// SPDX-License-Identifier: GPL-2.0
/*
 * IOVA windows (an extension, not upstream): in a windowed io_pagetable
 * IOVA is usable only inside windows, each with its own page size. Every
 * mapping lies inside one window and is aligned to its page size, so a
 * window can be removed, or its IOMMUs re-checked, without looking at
 * anything but the areas inside it.
 *
 * Windows are a tree of struct io_pagetable, guarded by iova_rwsem. This
 * file reads the other trees and the domains but changes only windows;
 * placing a mapping uses the IOVA search of iopt_iova.c. Removing a
 * window, which unmaps what is in it, is orchestrated by io_pagetable.c.
 */
#include <linux/iommu.h>
#include <linux/log2.h>
#include <linux/overflow.h>
#include <linux/slab.h>

#include "../uapi/linux/iommufd.h"
#include "fault.h"
#include "iopt_internal.h"

/* The window that holds all of [start, last], if one does. */
struct iopt_window *iopt_window_containing(struct io_pagetable *iopt,
					   unsigned long start,
					   unsigned long last)
{
	struct iopt_window *win;

	lockdep_assert_held(&iopt->iova_rwsem);
	win = to_window(interval_tree_iter_first(&iopt->window_itree, start,
						 start));
	if (!win || win->node.last < last)
		return NULL;
	return win;
}

/* May a COPY from a window like @src land in @dst? */
static bool windows_compatible(const struct iopt_window_info *src,
			       struct iopt_window *dst)
{
	return !src ||
	       (src->page_size == dst->page_size && src->attrs == dst->attrs);
}

static bool window_accepts(struct iopt_window *win, unsigned long iova,
			   unsigned long length)
{
	return !win->removing && !(iova % win->page_size) &&
	       !(length % win->page_size);
}

/**
 * iopt_window_place - check or choose where a mapping goes in the windows
 * @iopt: a windowed address space, iova_rwsem held for write
 * @iova: in: the IOVA asked for (!@alloc); out: the IOVA chosen (@alloc)
 * @uaddr: the user address, whose alignment a chosen IOVA keeps
 * @length: bytes
 * @alloc: choose the IOVA
 * @src: for COPY out of a windowed address space, the source's window
 * @out: the window the mapping lies in
 *
 * Returns -EINVAL when the range is not inside one window or not aligned
 * to its page size, or the windows are incompatible; -EOVERFLOW when a
 * chosen IOVA is asked for half the IOVA space or more (as without
 * windows); -ENOSPC when no compatible window has room. Overlap with other mappings is the caller's
 * check.
 */
int iopt_window_place(struct io_pagetable *iopt, unsigned long *iova,
		      unsigned long uaddr, unsigned long length, bool alloc,
		      const struct iopt_window_info *src,
		      struct iopt_window **out)
{
	struct iopt_window *win;
	unsigned long last;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	if (!alloc) {
		if (check_add_overflow(*iova, length - 1, &last))
			return -EOVERFLOW;
		win = iopt_window_containing(iopt, *iova, last);
		if (!win || !window_accepts(win, *iova, length) ||
		    !windows_compatible(src, win))
			return -EINVAL;
		*out = win;
		return 0;
	}

	/*
	 * As iopt_alloc_iova(): half the IOVA space cannot be placed, and
	 * rounding it up to a power of two would not fit a long.
	 */
	if (length >= ULONG_MAX / 2)
		return -EOVERFLOW;
	for (win = window_first(iopt, 0, ULONG_MAX); win;
	     win = window_next(win, 0, ULONG_MAX)) {
		unsigned long align = roundup_pow_of_two(length);

		if (!window_accepts(win, 0, length) ||
		    !windows_compatible(src, win))
			continue;
		/* Keep the user address's alignment, within the window's. */
		if (uaddr)
			align = min(align, 1UL << __ffs(uaddr));
		align = max(align, win->page_size);
		if (iopt_find_free_iova(iopt, win->node.start, win->node.last,
					length, align, iova)) {
			*out = win;
			return 0;
		}
	}
	return -ENOSPC;
}

/* IOVA_RANGES of a windowed address space: windows less reserved IOVA. */
u32 iopt_window_ranges(struct io_pagetable *iopt, struct iopt_range *ranges,
		       u32 max)
{
	struct iopt_window *win;
	u32 n = 0;

	lockdep_assert_held(&iopt->iova_rwsem);
	for (win = window_first(iopt, 0, ULONG_MAX); win;
	     win = window_next(win, 0, ULONG_MAX)) {
		unsigned long cur = win->node.start, last = win->node.last;
		struct interval_tree_node *res;

		/* Windows never overlap reserved IOVA, but be exact. */
		for (res = interval_tree_iter_first(&iopt->reserved_itree, cur,
						    last);
		     res; res = interval_tree_iter_next(res, cur, last)) {
			if (res->start > cur) {
				if (n < max)
					ranges[n] = (struct iopt_range){
						cur, res->start - 1 };
				n++;
			}
			if (res->last >= last)
				goto next;
			cur = max(cur, res->last + 1);
		}
		if (n < max)
			ranges[n] = (struct iopt_range){ cur, last };
		n++;
next:;
	}
	return n;
}

/* Does every attached domain support a window of @page_size, @attrs? */
static bool domains_support(struct io_pagetable *iopt, unsigned long page_size,
			    u32 attrs)
{
	unsigned int i;

	for (i = 0; i != iopt->ndomains; i++) {
		unsigned long bitmap = iopt->domains[i]->pgsize_bitmap;

		/* A supported IOPTE size, or a multiple of the smallest. */
		if (page_size % (1UL << __ffs(bitmap)))
			return false;
		if ((attrs & IOMMU_WINDOW_ATTR_EXACT_IOPTE) &&
		    !(bitmap & page_size))
			return false;
	}
	return true;
}

/**
 * iopt_domain_accepts_windows - may @domain join, as far as windows go?
 * @iopt: the address space, both locks held for write
 * @domain: the domain about to be attached
 *
 * Returns -EINVAL if a window has a page size the domain cannot map.
 * Placement (aperture, reserved regions) is checked by reserving them.
 */
int iopt_domain_accepts_windows(struct io_pagetable *iopt,
				struct iommu_domain *domain)
{
	unsigned long bitmap = domain->pgsize_bitmap;
	struct iopt_window *win;

	for (win = window_first(iopt, 0, ULONG_MAX); win;
	     win = window_next(win, 0, ULONG_MAX)) {
		if (win->page_size % (1UL << __ffs(bitmap)))
			return -EINVAL;
		if ((win->attrs & IOMMU_WINDOW_ATTR_EXACT_IOPTE) &&
		    !(bitmap & win->page_size))
			return -EINVAL;
	}
	return 0;
}

/* The page size a window gets when userspace leaves it to the kernel. */
static unsigned long default_page_size(struct io_pagetable *iopt)
{
	unsigned long size = iopt->ndomains ? 1 : PAGE_SIZE;
	unsigned int i;

	for (i = 0; i != iopt->ndomains; i++)
		size = max(size, 1UL << __ffs(iopt->domains[i]->pgsize_bitmap));
	return max(size, iopt->iova_alignment);
}

static int window_check(struct io_pagetable *iopt,
			struct iopt_window_info *info)
{
	unsigned long last;

	if (!is_power_of_2(info->page_size) || !info->length ||
	    info->page_size < iopt->iova_alignment ||
	    info->length % info->page_size ||
	    !domains_support(iopt, info->page_size, info->attrs))
		return -EINVAL;
	/* Forcing PAGE_SIZE IOPTEs rules out exact larger ones. */
	if (iopt->disable_large_pages && info->page_size > PAGE_SIZE &&
	    (info->attrs & IOMMU_WINDOW_ATTR_EXACT_IOPTE))
		return -EINVAL;
	if (check_add_overflow(info->base, info->length - 1, &last))
		return -EOVERFLOW;
	if (info->base % info->page_size)
		return -EINVAL;
	if (tree_overlaps(&iopt->window_itree, info->base, last))
		return -EEXIST;
	if (tree_overlaps(&iopt->reserved_itree, info->base, last))
		return -EADDRINUSE;
	return 0;
}

/*
 * The lowest page-size aligned base where the window fits between the
 * reserved ranges and the other windows.
 */
static int window_choose_base(struct io_pagetable *iopt,
			      struct iopt_window_info *info)
{
	unsigned long cur = 0, start, last;

	for (;;) {
		struct interval_tree_node *r, *w;

		if (check_add_overflow(cur, info->page_size - 1, &start))
			return -ENOSPC;
		start &= ~(info->page_size - 1);
		if (check_add_overflow(start, info->length - 1, &last))
			return -ENOSPC;
		r = interval_tree_iter_first(&iopt->reserved_itree, start, last);
		w = interval_tree_iter_first(&iopt->window_itree, start, last);
		if (!r && !w) {
			info->base = start;
			return 0;
		}
		cur = max(r ? r->last : 0, w ? w->last : 0);
		if (cur == ULONG_MAX)
			return -ENOSPC;
		cur++;
	}
}

/**
 * iopt_create_window - IOMMU_IOAS_CREATE_WINDOW
 * @iopt: the address space
 * @info: in: length, attrs, and base (@fixed_base) and page_size (0 for
 *	the kernel's choice); out: base and page_size used
 * @fixed_base: @info->base is given
 *
 * Errors as documented for IOMMU_IOAS_CREATE_WINDOW.
 */
int iopt_create_window(struct io_pagetable *iopt,
		       struct iopt_window_info *info, bool fixed_base)
{
	struct iopt_window *win;
	int rc;

	if (!iopt->windowed)
		return -EINVAL;
	win = iommufd_kzalloc(sizeof(*win));
	if (!win)
		return -ENOMEM;

	/* Domains and windows are checked against each other under both. */
	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	if (!info->page_size)
		info->page_size = default_page_size(iopt);
	rc = -EINVAL;
	if (!is_power_of_2(info->page_size) || !info->length)
		goto out_unlock;
	if (!fixed_base) {
		rc = window_choose_base(iopt, info);
		if (rc)
			goto out_unlock;
	}
	rc = window_check(iopt, info);
	if (rc)
		goto out_unlock;
	win->node.start = info->base;
	win->node.last = info->base + info->length - 1;
	win->page_size = info->page_size;
	win->attrs = info->attrs;
	interval_tree_insert(&win->node, &iopt->window_itree);
	win = NULL;
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
	kfree(win);
	return rc;
}

/*
 * The first step of REMOVE_WINDOW: mark the window at @base removing, so
 * nothing new is mapped into it, while the caller unmaps what is there.
 * NULL if there is no window at @base or it is being removed already.
 */
struct iopt_window *iopt_window_start_removal(struct io_pagetable *iopt,
					      unsigned long base)
{
	struct iopt_window *win;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	win = to_window(interval_tree_iter_first(&iopt->window_itree, base,
						 base));
	if (!win || win->node.start != base || win->removing)
		return NULL;
	win->removing = true;
	return win;
}

/*
 * The last step: remove and free the window once it is @emptied, else
 * open it to maps again.
 */
void iopt_window_end_removal(struct io_pagetable *iopt,
			     struct iopt_window *win, bool emptied)
{
	lockdep_assert_held_write(&iopt->iova_rwsem);
	if (!emptied) {
		win->removing = false;
		return;
	}
	interval_tree_remove(&win->node, &iopt->window_itree);
	kfree(win);
}

/* IOMMU_IOAS_LIST_WINDOWS: fill up to @max, return how many there are. */
u32 iopt_list_windows(struct io_pagetable *iopt,
		      struct iopt_window_info *windows, u32 max)
{
	struct iopt_window *win;
	u32 n = 0;

	down_read(&iopt->iova_rwsem);
	for (win = window_first(iopt, 0, ULONG_MAX); win;
	     win = window_next(win, 0, ULONG_MAX)) {
		if (n < max)
			windows[n] = (struct iopt_window_info){
				.base = win->node.start,
				.length = win->node.last - win->node.start + 1,
				.page_size = win->page_size,
				.attrs = win->attrs,
			};
		n++;
	}
	up_read(&iopt->iova_rwsem);
	return n;
}
