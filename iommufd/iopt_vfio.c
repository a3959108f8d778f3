// SPDX-License-Identifier: GPL-2.0
/*
 * What the VFIO type1 semantics (vfio_compat.c) need of an io_pagetable
 * beyond what IOAS commands use: cutting areas in two, so that a TYPE1
 * container can unmap any part of a mapping, and the page sizes every
 * attached domain can map, for VFIO_IOMMU_GET_INFO. It is part of the
 * io_pagetable layer and calls only the pages layer below it.
 */
#include <linux/iommu.h>
#include <linux/slab.h>

#include "fault.h"
#include "iopt_internal.h"
#include "pages.h"

/* The page indexes [*first, *last] of the pages behind IOVA [start, last]. */
static void cut_indexes(struct iopt_area *area, unsigned long start,
			unsigned long last, unsigned long *first_index,
			unsigned long *last_index)
{
	*first_index = area_start_byte(area, start) >> PAGE_SHIFT;
	*last_index = area_start_byte(area, last) >> PAGE_SHIFT;
}

/*
 * Does the area's pin for its domains cover all of its pages? Then it
 * was taken with iopt_pages_pin_whole() (see iopt_domain.c), else as a
 * range pin of the area's own page indexes.
 */
static bool cut_area_pins_whole(struct iopt_area *area)
{
	unsigned long first, last;

	cut_indexes(area, area->node.start, area->node.last, &first, &last);
	return !first && last == area->pages->npages - 1;
}

/*
 * Move the domain pin of @area, about to become [start, split - 1] and
 * @rhs [split, last], onto the two pieces: pin each piece's pages (they
 * are pinned already, so this only records the holders), then drop the
 * old holder. Neither piece maps all the pages, so both hold range pins,
 * as iopt_domain.c expects of such areas. Nothing changes on failure.
 */
static int cut_move_domain_pin(struct iopt_area *area, unsigned long split)
{
	unsigned long lf, ll, rf, rl;
	int rc;

	cut_indexes(area, area->node.start, split - 1, &lf, &ll);
	cut_indexes(area, split, area->node.last, &rf, &rl);
	rc = iopt_pages_pin(area->pages, lf, ll, NULL);
	if (rc)
		return rc;
	rc = iopt_pages_pin(area->pages, rf, rl, NULL);
	if (rc) {
		iopt_pages_unpin(area->pages, lf, ll);
		return rc;
	}
	if (cut_area_pins_whole(area)) {
		iopt_pages_unpin_whole(area->pages);
	} else {
		cut_indexes(area, area->node.start, area->node.last, &lf, &ll);
		iopt_pages_unpin(area->pages, lf, ll);
	}
	return 0;
}

/*
 * May @area be cut so that @split is the first IOVA of its second piece?
 * Errors as upstream's: EBUSY for an area a map or unmap is working on,
 * EINVAL for a cut the alignment forbids, for an area an access pins,
 * and where a domain may hold IOPTEs larger than the pieces.
 */
static int cut_check(struct io_pagetable *iopt, struct iopt_area *area,
		     unsigned long split)
{
	unsigned long align = iopt->iova_alignment;

	if (!area->ready || area->unmapping)
		return -EBUSY;
	if ((split & (align - 1)) ||
	    (area_start_byte(area, split) & (align - 1)) ||
	    (area->exact_pgsize && split % area->exact_pgsize))
		return -EINVAL;
	if (atomic_read(&area->num_pins))
		return -EINVAL;
	if (iopt->ndomains && !iopt->disable_large_pages)
		return -EINVAL;
	/* Pieces of a pinned area must not share a page: see above. */
	if (area->domain_pinned && area_start_byte(area, split) % PAGE_SIZE)
		return -EINVAL;
	return 0;
}

/* Cut the area holding @iova after @iova, if @iova is inside one. */
static int iopt_cut_after(struct io_pagetable *iopt, unsigned long iova)
{
	struct iopt_area *area, *rhs;
	unsigned long split;
	int rc;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	area = area_first(iopt, iova, iova);
	if (!area || iova == area->node.last)
		return 0;
	split = iova + 1;
	rc = cut_check(iopt, area, split);
	if (rc)
		return rc;

	rhs = iommufd_kzalloc(sizeof(*rhs));
	if (!rhs)
		return -ENOMEM;
	if (area->domain_pinned) {
		rc = cut_move_domain_pin(area, split);
		if (rc) {
			kfree(rhs);
			return rc;
		}
	}
	kref_get(&area->pages->kref);
	rhs->pages = area->pages;
	rhs->start_byte = area_start_byte(area, split);
	rhs->exact_pgsize = area->exact_pgsize;
	rhs->iommu_prot = area->iommu_prot;
	rhs->domain_pinned = area->domain_pinned;
	rhs->dirty_all = area->dirty_all;
	rhs->ready = true;
	rhs->node.start = split;
	rhs->node.last = area->node.last;

	/*
	 * The domains keep their IOPTEs: none spans the cut (see
	 * cut_check()), so each piece unmaps exactly its own.
	 */
	interval_tree_remove(&area->node, &iopt->area_itree);
	area->node.last = iova;
	interval_tree_insert(&area->node, &iopt->area_itree);
	interval_tree_insert(&rhs->node, &iopt->area_itree);
	return 0;
}

/**
 * iopt_cut_iova - cut areas so that each IOVA given ends an area
 * @iopt: the address space
 * @iovas: IOVAs that must be the last byte of an area or unmapped
 * @num: how many
 *
 * The pieces share the pages, pins and IOPTEs of the area they came
 * from, so nothing is pinned, charged or mapped again. Stops at the first
 * cut that cannot be made; the cuts made before it stay, which changes
 * nothing anyone can see but how later unmaps may split. Returns 0,
 * -EBUSY, -EINVAL (see cut_check()) or -ENOMEM.
 */
int iopt_cut_iova(struct io_pagetable *iopt, const unsigned long *iovas,
		  unsigned int num)
{
	unsigned int i;
	int rc = 0;

	down_write(&iopt->iova_rwsem);
	for (i = 0; i != num && !rc; i++)
		rc = iopt_cut_after(iopt, iovas[i]);
	up_write(&iopt->iova_rwsem);
	return rc;
}

/**
 * iopt_page_sizes - the IOPTE sizes every attached domain can map
 * @iopt: the address space
 *
 * What a VFIO type1 container reports as iova_pgsizes: the page sizes
 * all domains share, sizes below PAGE_SIZE folded into PAGE_SIZE (memory
 * is only mapped in whole CPU pages through this interface), and never
 * less than the address space's IOVA alignment. With no domain, every
 * size from PAGE_SIZE up.
 */
unsigned long iopt_page_sizes(struct io_pagetable *iopt)
{
	unsigned long sizes = ULONG_MAX;
	unsigned int i;

	down_read(&iopt->domains_rwsem);
	for (i = 0; i != iopt->ndomains; i++)
		sizes &= iopt->domains[i]->pgsize_bitmap;
	if (sizes & ~PAGE_MASK)
		sizes = (sizes & PAGE_MASK) | PAGE_SIZE;
	sizes = max(sizes, READ_ONCE(iopt->iova_alignment));
	up_read(&iopt->domains_rwsem);
	return sizes;
}

/**
 * iopt_area_bounds - the mapping that holds an IOVA
 * @iopt: the address space
 * @iova: the IOVA
 * @start: its first IOVA, if there is one
 * @last: its last IOVA
 *
 * For VFIO type1's TYPE1 unmap rule, which depends on where the mappings
 * at both ends of a range begin and end. A snapshot: a concurrent map or
 * unmap may change it right after. Returns false if nothing (ready) is
 * mapped at @iova.
 */
bool iopt_area_bounds(struct io_pagetable *iopt, unsigned long iova,
		      unsigned long *start, unsigned long *last)
{
	struct iopt_area *area;

	down_read(&iopt->iova_rwsem);
	area = area_first(iopt, iova, iova);
	if (area && !area->ready)
		area = NULL;
	if (area) {
		*start = area->node.start;
		*last = area->node.last;
	}
	up_read(&iopt->iova_rwsem);
	return area;
}
