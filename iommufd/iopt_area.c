// SPDX-License-Identifier: GPL-2.0
/*
 * The area store: areas and the slices of pages they are made from, in
 * and out of io_pagetable::area_itree. Allocating areas for slices and
 * freeing what is left of them, collecting the slices behind a range for
 * COPY, and collecting the areas of a range for UNMAP. The fields of an
 * area and the locks that guard them are described with struct iopt_area
 * (iopt_internal.h); this file calls only the pages layer.
 */
#include <linux/iommu.h>
#include <linux/sched.h>

#include "fault.h"
#include "iopt_internal.h"
#include "pages.h"

/*
 * At module load: a MAP allocates its first area along with its pages
 * object (iopt_map_user()), so the pages layer sizes its cache of
 * one-page objects to hold one.
 */
int iopt_module_init(void)
{
	return iopt_pages_init(sizeof(struct iopt_area));
}

void iopt_module_exit(void)
{
	iopt_pages_exit();
}

/*
 * Give every slice an area of its own (COPY; MAP allocates its one area
 * along with its pages).
 */
int iopt_slices_alloc_areas(struct iopt_slice *slices, unsigned int n)
{
	unsigned int i;

	for (i = 0; i != n; i++) {
		slices[i].area = iommufd_kzalloc(sizeof(*slices[i].area));
		if (!slices[i].area)
			return -ENOMEM;
		cond_resched();
	}
	return 0;
}

/* Drop whatever the slices still own after iopt_map_slices(). */
void iopt_slices_free(struct iopt_slice *slices, unsigned int n)
{
	unsigned int i;

	for (i = 0; i != n; i++) {
		if (!slices[i].inserted)
			area_free(slices[i].area, slices[i].pages);
		cond_resched();
	}
}

/*
 * Walk the areas behind [iova, last] of @iopt, which must be covered from
 * @iova on without a gap by ready areas. With @slices NULL only count
 * them; else fill one slice per area, taking a page reference each.
 * Returns the count, or -ENOENT at a hole.
 */
static long iopt_walk_slices(struct io_pagetable *iopt, unsigned long iova,
			     unsigned long last, struct iopt_slice *slices)
{
	unsigned long cur = iova;
	struct iopt_area *area;
	long n = 0;

	lockdep_assert_held(&iopt->iova_rwsem);
	for (area = area_first(iopt, iova, last); area;
	     area = area_next(area, iova, last)) {
		unsigned long piece_last = min(last, area->node.last);

		if (area->node.start > cur || !area->ready)
			return -ENOENT;
		if (slices) {
			kref_get(&area->pages->kref);
			slices[n] = (struct iopt_slice){
				.pages = area->pages,
				.start_byte = area_start_byte(area, cur),
				.length = piece_last - cur + 1,
			};
		}
		n++;
		if (piece_last == last)
			return n;
		cur = piece_last + 1;
		/* A source may have millions of areas; iova_rwsem may sleep. */
		cond_resched();
	}
	return -ENOENT;
}

/*
 * Collect the slices of pages behind [iova, last] of @iopt, which must be
 * covered by ready areas without a gap. Takes a page reference per slice.
 * Returns the number of slices in *@out, -ENOENT or -ENOMEM. Caller holds
 * iova_rwsem.
 *
 * The areas are counted first and the array allocated once, under the
 * caller's same read section, so the cost is linear in the number of
 * areas and the array is as large as what is really there, never more.
 */
int iopt_area_slices(struct io_pagetable *iopt, unsigned long iova,
		     unsigned long last, struct iopt_slice **out)
{
	struct iopt_slice *slices;
	long n;

	lockdep_assert_held(&iopt->iova_rwsem);
	n = iopt_walk_slices(iopt, iova, last, NULL);
	if (n < 0)
		return n;
	/* The slice count travels as an int (and areas cost far more). */
	if (n > INT_MAX)
		return -ENOMEM;
	slices = iommufd_kvcalloc(n, sizeof(*slices));
	if (!slices)
		return -ENOMEM;
	/* The tree cannot change while the lock is held: same count. */
	n = iopt_walk_slices(iopt, iova, last, slices);
	*out = slices;
	return n;
}

/*
 * Check that every area in [start, last] lies inside it and is ready, and
 * that none is pinned, collecting them on @freed and their bytes in
 * *@bytes. Pinned areas are marked (with @mark) so no new pins start, and
 * -EAGAIN tells the caller to ask the users to let go. Nothing is marked
 * unless the whole range can be unmapped. Without pins this walks the
 * tree once.
 */
int iopt_areas_collect_unmap(struct io_pagetable *iopt, unsigned long start,
			     unsigned long last, struct list_head *freed,
			     unsigned long *bytes, bool mark)
{
	struct iopt_area *area;
	bool pinned = false;

	*bytes = 0;
	INIT_LIST_HEAD(freed);
	for (area = area_first(iopt, start, last); area;
	     area = area_next(area, start, last)) {
		/*
		 * A map or unmap of this IOVA is in flight: -EINPROGRESS,
		 * which callers report as EBUSY or wait out.
		 */
		if (!area->ready)
			return -EINPROGRESS;
		if (area->node.start < start || area->node.last > last)
			return -ENOENT;
		if (atomic_read(&area->num_pins))
			pinned = true;
		*bytes += area_length(area);
		list_add_tail(&area->free_node, freed);
		/* Areas never overlap: none after this one is in range. */
		if (area->node.last >= last)
			break;
		cond_resched();
	}
	if (!pinned)
		return 0;
	if (!mark)
		return -EAGAIN;
	list_for_each_entry(area, freed, free_node)
		if (atomic_read(&area->num_pins))
			area->unmapping = true;
	return -EAGAIN;
}

/* Undo the marks of iopt_areas_collect_unmap() once the unmap gives up. */
void iopt_areas_clear_unmapping(struct io_pagetable *iopt,
				unsigned long start, unsigned long last)
{
	struct iopt_area *area;

	for (area = area_first(iopt, start, last); area;
	     area = area_next(area, start, last))
		area->unmapping = false;
}
