// SPDX-License-Identifier: GPL-2.0
/*
 * Where IOVA may go: the reserved ranges (never mapped: outside a domain's
 * aperture, device reserved regions, test reservations), the allowed
 * ranges (where automatic allocation may look), and choosing a free IOVA
 * between them and the areas. Checking a given IOVA is iopt_check_iova()
 * in iopt_internal.h. Everything here reads the trees of struct
 * io_pagetable under iova_rwsem and calls only the allocator below.
 */
#include <linux/mm.h>
#include <linux/log2.h>
#include <linux/sched.h>

#include "fault.h"
#include "iopt_internal.h"

/* Free every node of an interval tree of any of our node types. */
void iopt_tree_free(struct rb_root_cached *tree)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_iter_first(tree, 0, ULONG_MAX))) {
		interval_tree_remove(node, tree);
		/* Every tree node is the first member of its struct. */
		kfree(node);
		/* A user's allowed list can be long. */
		cond_resched();
	}
}

/*
 * The lowest @align aligned IOVA in [lo, hi] where @length bytes fit
 * without touching a reserved range or an area.
 */
bool iopt_find_free_iova(struct io_pagetable *iopt, unsigned long lo,
			 unsigned long hi, unsigned long length,
			 unsigned long align, unsigned long *iova)
{
	unsigned long start, last;

	for (;;) {
		struct interval_tree_node *r, *a;

		if (check_add_overflow(lo, align - 1, &start))
			return false;
		start &= ~(align - 1);
		if (check_add_overflow(start, length - 1, &last) || last > hi)
			return false;
		r = interval_tree_iter_first(&iopt->reserved_itree, start, last);
		a = interval_tree_iter_first(&iopt->area_itree, start, last);
		if (!r && !a) {
			*iova = start;
			return true;
		}
		/* Jump past the obstacle that ends last and try again. */
		lo = max(r ? r->last : 0, a ? a->last : 0);
		if (lo >= hi)
			return false;
		lo++;
	}
}

/* First fit at or above @floor, inside the allowed ranges if any. */
static bool iopt_alloc_from(struct io_pagetable *iopt, unsigned long floor,
			    unsigned long length, unsigned long align,
			    unsigned long *iova)
{
	unsigned long hi = ULONG_MAX - PAGE_SIZE;
	struct interval_tree_node *node;

	if (RB_EMPTY_ROOT(&iopt->allowed_itree.rb_root))
		return iopt_find_free_iova(iopt, floor, hi, length, align,
					   iova);
	for (node = interval_tree_iter_first(&iopt->allowed_itree, floor, hi);
	     node; node = interval_tree_iter_next(node, floor, hi)) {
		if (iopt_find_free_iova(iopt, max(node->start, floor),
					min(node->last, hi), length, align,
					iova))
			return true;
	}
	return false;
}

/**
 * iopt_alloc_iova - choose an IOVA in an address space without windows
 * @iopt: the address space, iova_rwsem held for write
 * @iova: out: the IOVA chosen
 * @uaddr: the user address of the memory to map
 * @length: bytes
 *
 * The IOVA is aligned like the address, up to the length rounded to a
 * power of two and at most the huge page size: a THP- or hugetlbfs-backed
 * buffer gets an IOVA that a domain can map with large IOPTEs, while
 * small or unaligned buffers still pack densely. IOVA 0 and the last page
 * are never used. -EOVERFLOW for half the IOVA space or more, -EINVAL if
 * the address is less aligned than every IOVA must be, -ENOSPC.
 */
int iopt_alloc_iova(struct io_pagetable *iopt, unsigned long *iova,
		    unsigned long uaddr, unsigned long length)
{
	unsigned long max_align = IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) ?
				  HPAGE_PMD_SIZE : PAGE_SIZE;
	unsigned long align;

	lockdep_assert_held(&iopt->iova_rwsem);
	if (length >= ULONG_MAX / 2)
		return -EOVERFLOW;
	align = roundup_pow_of_two(length);
	if (uaddr)
		align = min(align, 1UL << __ffs(uaddr));
	align = min(align, max_align);
	if (align < iopt->iova_alignment)
		return -EINVAL;

	/*
	 * Next fit: start where the last allocation ended, so a VMM that
	 * maps buffer after buffer finds room at once instead of stepping
	 * over every area below it; only when nothing fits up there does
	 * the search start again from the bottom.
	 */
	if (iopt->alloc_hint > PAGE_SIZE &&
	    iopt_alloc_from(iopt, iopt->alloc_hint, length, align, iova))
		goto found;
	if (!iopt_alloc_from(iopt, PAGE_SIZE, length, align, iova))
		return -ENOSPC;
found:
	iopt->alloc_hint = *iova + length;
	return 0;
}

/*
 * IOVA_RANGES of an address space without windows: everything but the
 * reserved ranges. Fills up to @max, returns how many there are.
 */
u32 iopt_unreserved_ranges(struct io_pagetable *iopt,
			   struct iopt_range *ranges, u32 max)
{
	struct interval_tree_node *node;
	unsigned long cur = 0;
	u32 n = 0;

	lockdep_assert_held(&iopt->iova_rwsem);
	for (node = interval_tree_iter_first(&iopt->reserved_itree, 0,
					     ULONG_MAX);
	     node; node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		if (node->start > cur) {
			if (n < max)
				ranges[n] = (struct iopt_range){
					cur, node->start - 1 };
			n++;
		}
		if (node->last == ULONG_MAX)
			return n;
		cur = max(cur, node->last + 1);
	}
	if (n < max)
		ranges[n] = (struct iopt_range){ cur, ULONG_MAX };
	return n + 1;
}

/**
 * iopt_allowed_add - add one range to an allowed list being built
 * @list: the new list, not yet in force (start from RB_ROOT_CACHED)
 * @start: first IOVA
 * @last: last IOVA, above @start
 *
 * ALLOW_IOVAS builds its list one element at a time as it reads them, so
 * what it allocates follows what userspace really supplied, never the
 * count it claims. Returns -EINVAL for an empty or backwards range or one
 * that overlaps an earlier one, -ENOMEM.
 */
int iopt_allowed_add(struct rb_root_cached *list, unsigned long start,
		     unsigned long last)
{
	struct iopt_allowed *allowed;

	if (start >= last || tree_overlaps(list, start, last))
		return -EINVAL;
	allowed = iommufd_kzalloc(sizeof(*allowed));
	if (!allowed)
		return -ENOMEM;
	allowed->node.start = start;
	allowed->node.last = last;
	interval_tree_insert(&allowed->node, list);
	return 0;
}

/* Free a list built with iopt_allowed_add(), or one handed back. */
void iopt_allowed_free(struct rb_root_cached *list)
{
	iopt_tree_free(list);
}

/**
 * iopt_set_allowed - replace the allowed ranges
 * @iopt: the address space
 * @list: in: the new list, empty to allow everything again; out: what the
 *	caller must free with iopt_allowed_free(): the old list on success,
 *	the new one on failure
 *
 * Returns -EINVAL on a windowed address space, -EADDRINUSE if an allowed
 * range would cover reserved IOVA; the old list stays on any failure.
 */
int iopt_set_allowed(struct io_pagetable *iopt, struct rb_root_cached *list)
{
	struct interval_tree_node *node;
	int rc = 0;

	/* Windows already say which IOVA may be used. */
	if (iopt->windowed)
		return -EINVAL;

	down_write(&iopt->iova_rwsem);
	for (node = interval_tree_iter_first(list, 0, ULONG_MAX); node;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		if (tree_overlaps(&iopt->reserved_itree, node->start,
				  node->last)) {
			rc = -EADDRINUSE;
			break;
		}
	}
	if (!rc) {
		swap(*list, iopt->allowed_itree);
		/* A new allowed list starts the next-fit search afresh. */
		iopt->alloc_hint = 0;
	}
	up_write(&iopt->iova_rwsem);
	return rc;
}

/* iopt_reserve() with iova_rwsem already held for write. */
static int iopt_reserve_locked(struct io_pagetable *iopt, unsigned long start,
			       unsigned long last, void *owner)
{
	struct iopt_reserved *reserved;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	if (tree_overlaps(&iopt->area_itree, start, last) ||
	    tree_overlaps(&iopt->allowed_itree, start, last) ||
	    tree_overlaps(&iopt->window_itree, start, last))
		return -EADDRINUSE;
	reserved = iommufd_kzalloc(sizeof(*reserved));
	if (!reserved)
		return -ENOMEM;
	reserved->node.start = start;
	reserved->node.last = last;
	reserved->owner = owner;
	interval_tree_insert(&reserved->node, &iopt->reserved_itree);
	return 0;
}

/*
 * Reserve what lies outside [start, end] (a domain's aperture; an @end of
 * 0 means no upper limit), owned by @owner. On failure the caller removes
 * what was reserved with iopt_unreserve_owner_locked().
 */
int iopt_reserve_outside_locked(struct io_pagetable *iopt,
				unsigned long start, unsigned long end,
				void *owner)
{
	int rc;

	if (start) {
		rc = iopt_reserve_locked(iopt, 0, start - 1, owner);
		if (rc)
			return rc;
	}
	/* As upstream: an aperture that ends at 0 holds IOVA 0 only. */
	if (end < ULONG_MAX) {
		rc = iopt_reserve_locked(iopt, end + 1, ULONG_MAX, owner);
		if (rc)
			return rc;
	}
	return 0;
}

/**
 * iopt_reserve - make [start, last] unmappable
 * @iopt: the address space
 * @start: first reserved IOVA
 * @last: last reserved IOVA
 * @owner: tag for iopt_unreserve_owner()
 *
 * -EADDRINUSE if an area, an allowed range or a window is there already.
 */
int iopt_reserve(struct io_pagetable *iopt, unsigned long start,
		 unsigned long last, void *owner)
{
	int rc;

	down_write(&iopt->iova_rwsem);
	rc = iopt_reserve_locked(iopt, start, last, owner);
	up_write(&iopt->iova_rwsem);
	return rc;
}

void iopt_unreserve_owner_locked(struct io_pagetable *iopt, void *owner)
{
	struct interval_tree_node *node, *next;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	for (node = interval_tree_iter_first(&iopt->reserved_itree, 0,
					     ULONG_MAX);
	     node; node = next) {
		next = interval_tree_iter_next(node, 0, ULONG_MAX);
		if (container_of(node, struct iopt_reserved, node)->owner !=
		    owner)
			continue;
		interval_tree_remove(node, &iopt->reserved_itree);
		kfree(node);
	}
}

/* Remove every range @owner reserved. */
void iopt_unreserve_owner(struct io_pagetable *iopt, void *owner)
{
	down_write(&iopt->iova_rwsem);
	iopt_unreserve_owner_locked(iopt, owner);
	up_write(&iopt->iova_rwsem);
}
