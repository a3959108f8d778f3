/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals of the io_pagetable layer. Nothing outside the layer includes
 * this. The layer is a stack of files, each calling only those below it:
 *
 *   io_pagetable.c  the top: every operation that needs the areas, the
 *                   reserved ranges, the windows and the domains at once
 *                   (MAP, COPY, UNMAP, attaching and detaching domains,
 *                   removing windows, IOVA_RANGES)
 *   iopt_user.c     in-kernel users: registration, pin, unpin, rw
 *   iopt_align.c    the IOVA alignment policy and IOMMU_OPTION_HUGE_PAGES
 *   iopt_window.c   the windows extension
 *   iopt_iova.c     reserved and allowed ranges; checking and choosing IOVA
 *   iopt_domain.c   filling and emptying the attached iommu_domains
 *   iopt_area.c     the area store: slices, areas in and out of the tree
 *
 * A file lower down never calls one higher up; what it needs from above
 * comes as an argument. Every structure below says which lock guards it;
 * the locks themselves and their order are described with struct
 * io_pagetable (io_pagetable.h).
 */
#ifndef IOMMUFD_IOPT_INTERNAL_H
#define IOMMUFD_IOPT_INTERNAL_H

#include <linux/interval_tree.h>
#include <linux/list.h>
#include <linux/overflow.h>
#include <linux/slab.h>

#include "io_pagetable.h"
#include "pages.h"

struct iommu_domain;

/**
 * struct iopt_area - a mapping of IOVA onto a slice of an iopt_pages
 * @node: the IOVA range [start, last] in io_pagetable::area_itree
 * @pages: the memory; the area holds a reference
 * @start_byte: offset of @node.start's byte from @pages->uptr
 * @iommu_prot: IOMMU_READ / IOMMU_WRITE
 * @num_pins: iopt_pin() calls on this area not yet undone. Changed with
 *	iova_rwsem held for read, so it is atomic; read with it held for
 *	write, when it cannot change.
 * @ready: the area is in every attached domain. A new area is inserted
 *	not ready (reserving its IOVA), filled into the domains without
 *	iova_rwsem, then made ready. Lookups treat an area that is not ready
 *	as absent; unmap refuses it with EBUSY. Written under iova_rwsem
 *	held for write.
 * @unmapping: an unmap is waiting for the pins to go; refuse new ones.
 *	Written with iova_rwsem held for write.
 * @domain_pinned: the area holds a pin on its pages for the domains
 *	(there is at least one domain). Guarded by domains_rwsem: changed
 *	with it held for write, or for read by the thread that owns a not
 *	yet ready area; or by iova_rwsem held for write (see
 *	iopt_lock_change()); or by nothing while the area is private to
 *	its creator, before the insert (see iopt_area_prepin()).
 * @exact_pgsize: the area lies in a window with
 *	IOMMU_WINDOW_ATTR_EXACT_IOPTE: every IOPTE is exactly this size.
 *	0 otherwise.
 * @free_node: on a private list while the area is being freed
 * @with_pages: allocated along with @pages by MAP; its memory goes when
 *	@pages goes, which may be later than the area (COPY shares @pages)
 * @dirty_all: every page is dirty for reads with IOPT_DIRTY_AREA_ALL (the
 *	VFIO container's, after a group nobody tracked left), until such a
 *	clearing read reaches @node.last. Set and cleared with iova_rwsem
 *	held for read, by callers that serialize among themselves (the
 *	container holds its IOAS's mutex); a cut copies it to both pieces.
 */
struct iopt_area {
	struct interval_tree_node node;
	struct iopt_pages *pages;
	unsigned long start_byte;
	unsigned long exact_pgsize;
	int iommu_prot;
	atomic_t num_pins;
	bool ready;
	bool unmapping;
	bool domain_pinned;
	bool with_pages;
	bool dirty_all;
	struct list_head free_node;
};

/*
 * struct iopt_allowed - one range of io_pagetable::allowed_itree, where
 * automatic IOVA allocation may look. Guarded by iova_rwsem.
 */
struct iopt_allowed {
	struct interval_tree_node node;
};

/**
 * struct iopt_window - a window of usable IOVA in a windowed address space
 * @node: the IOVA range [start, last] in io_pagetable::window_itree
 * @page_size: IOVAs and lengths mapped inside are multiples of it
 * @attrs: IOMMU_WINDOW_ATTR_* bits
 * @removing: REMOVE_WINDOW is emptying it; nothing new may be mapped
 *
 * Guarded by iova_rwsem like the other trees. Areas never cross a window
 * boundary, and a window is removed only once no area is left inside.
 */
struct iopt_window {
	struct interval_tree_node node;
	unsigned long page_size;
	u32 attrs;
	bool removing;
};

/*
 * struct iopt_reserved - one range of io_pagetable::reserved_itree, IOVA
 * that is never mapped. @owner: who reserved it, to remove all of one
 * owner's ranges at once. Guarded by iova_rwsem.
 */
struct iopt_reserved {
	struct interval_tree_node node;
	void *owner;
};

/**
 * struct iopt_slice - a piece of memory on its way to becoming an area
 * @pages: the pages object; the slice holds a reference until the area
 *	is inserted, then the area holds it
 * @start_byte: offset of the first byte from @pages->uptr
 * @length: bytes
 * @area: the area preallocated for it
 * @inserted: @area is in the area tree and owns the reference
 *
 * MAP makes one slice, COPY one per source area. Private to the thread
 * making the mapping: no lock.
 */
struct iopt_slice {
	struct iopt_pages *pages;
	unsigned long start_byte;
	unsigned long length;
	struct iopt_area *area;
	bool inserted;
};

static inline unsigned long area_length(struct iopt_area *area)
{
	return area->node.last - area->node.start + 1;
}

static inline struct iopt_area *area_first(struct io_pagetable *iopt,
					   unsigned long start,
					   unsigned long last)
{
	struct interval_tree_node *node;

	node = interval_tree_iter_first(&iopt->area_itree, start, last);
	return node ? container_of(node, struct iopt_area, node) : NULL;
}

static inline struct iopt_area *area_next(struct iopt_area *area,
					  unsigned long start,
					  unsigned long last)
{
	struct interval_tree_node *node;

	node = interval_tree_iter_next(&area->node, start, last);
	return node ? container_of(node, struct iopt_area, node) : NULL;
}

static inline bool tree_overlaps(struct rb_root_cached *tree,
				 unsigned long start, unsigned long last)
{
	return interval_tree_iter_first(tree, start, last);
}

/* Byte offset within the area's pages of the byte at @iova. */
static inline unsigned long area_start_byte(struct iopt_area *area,
					    unsigned long iova)
{
	return area->start_byte + (iova - area->node.start);
}

/*
 * The set of domains cannot change: domains_rwsem is held, or iova_rwsem
 * for write (changing the set takes both for write).
 */
static inline void iopt_assert_domains_stable(struct io_pagetable *iopt)
{
	lockdep_assert(lockdep_is_held(&iopt->domains_rwsem) ||
		       lockdep_is_held_type(&iopt->iova_rwsem, 0));
}

/* iopt_area.c: the area store */

/*
 * Free an area that is in no tree and drop the page reference it or its
 * slice held. An area allocated along with its pages (by MAP) is freed
 * with them, so this reads nothing of it after the put. Inline: every
 * UNMAP ends with it.
 */
static __always_inline void area_free(struct iopt_area *area,
				      struct iopt_pages *pages)
{
	if (area && !area->with_pages)
		kfree(area);
	if (pages)
		iopt_pages_put(pages);
}

int iopt_slices_alloc_areas(struct iopt_slice *slices, unsigned int n);
void iopt_slices_free(struct iopt_slice *slices, unsigned int n);
int iopt_area_slices(struct io_pagetable *iopt, unsigned long iova,
		     unsigned long last, struct iopt_slice **out);
int iopt_areas_collect_unmap(struct io_pagetable *iopt, unsigned long start,
			     unsigned long last, struct list_head *freed,
			     unsigned long *bytes, bool mark);
void iopt_areas_clear_unmapping(struct io_pagetable *iopt,
				unsigned long start, unsigned long last);

/*
 * Can the collected areas, which no user pins, be unmapped without
 * sleeping? See iopt_pages_unpin_never_waits(). Inline: every UNMAP from
 * io_uring's nonblocking issue asks.
 */
static inline bool iopt_areas_unpin_never_waits(struct list_head *freed)
{
	struct iopt_area *area;

	list_for_each_entry(area, freed, free_node)
		if (!iopt_pages_unpin_never_waits(area->pages))
			return false;
	return true;
}

/* iopt_domain.c: filling and emptying the domains */
int iopt_area_prepin(struct io_pagetable *iopt, struct iopt_area *area);
int iopt_area_prepin_nowait(struct io_pagetable *iopt, struct iopt_area *area);
void iopt_area_prepin_undo(struct io_pagetable *iopt, struct iopt_area *area);
void iopt_slices_prepin_undo(struct io_pagetable *iopt,
			     struct iopt_slice *slices, unsigned int n);
int iopt_area_fill_domains(struct io_pagetable *iopt, struct iopt_area *area);
void iopt_area_unfill_domains(struct io_pagetable *iopt,
			      struct iopt_area *area);
int iopt_domains_make_room(struct io_pagetable *iopt);
int iopt_domain_join(struct io_pagetable *iopt, struct iommu_domain *domain);
bool iopt_domain_leave(struct io_pagetable *iopt, struct iommu_domain *domain);

/* iopt_iova.c: reserved and allowed ranges, checking and choosing IOVA */

/*
 * Is [iova, iova + length - 1] aligned and free of reserved ranges and
 * areas? Inline: every MAP runs it.
 */
static inline int iopt_check_iova(struct io_pagetable *iopt,
				  unsigned long iova, unsigned long length)
{
	unsigned long last;

	lockdep_assert_held(&iopt->iova_rwsem);
	if (!IS_ALIGNED(iova, iopt->iova_alignment))
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if (tree_overlaps(&iopt->reserved_itree, iova, last))
		return -EINVAL;
	if (tree_overlaps(&iopt->area_itree, iova, last))
		return -EEXIST;
	return 0;
}

void iopt_tree_free(struct rb_root_cached *tree);
bool iopt_find_free_iova(struct io_pagetable *iopt, unsigned long lo,
			 unsigned long hi, unsigned long length,
			 unsigned long align, unsigned long *iova);
int iopt_alloc_iova(struct io_pagetable *iopt, unsigned long *iova,
		    unsigned long uaddr, unsigned long length);
u32 iopt_unreserved_ranges(struct io_pagetable *iopt,
			   struct iopt_range *ranges, u32 max);
int iopt_reserve_outside_locked(struct io_pagetable *iopt,
				unsigned long start, unsigned long end,
				void *owner);
void iopt_unreserve_owner_locked(struct io_pagetable *iopt, void *owner);

/* iopt_window.c: the windows extension */
static inline struct iopt_window *to_window(struct interval_tree_node *node)
{
	return node ? container_of(node, struct iopt_window, node) : NULL;
}

static inline struct iopt_window *window_first(struct io_pagetable *iopt,
					       unsigned long start,
					       unsigned long last)
{
	return to_window(interval_tree_iter_first(&iopt->window_itree, start,
						  last));
}

static inline struct iopt_window *window_next(struct iopt_window *win,
					      unsigned long start,
					      unsigned long last)
{
	return to_window(interval_tree_iter_next(&win->node, start, last));
}

struct iopt_window *iopt_window_containing(struct io_pagetable *iopt,
					   unsigned long start,
					   unsigned long last);
int iopt_window_place(struct io_pagetable *iopt, unsigned long *iova,
		      unsigned long uaddr, unsigned long length, bool alloc,
		      const struct iopt_window_info *src,
		      struct iopt_window **out);
u32 iopt_window_ranges(struct io_pagetable *iopt, struct iopt_range *ranges,
		       u32 max);
int iopt_domain_accepts_windows(struct io_pagetable *iopt,
				struct iommu_domain *domain);
struct iopt_window *iopt_window_start_removal(struct io_pagetable *iopt,
					      unsigned long base);
void iopt_window_end_removal(struct io_pagetable *iopt,
			     struct iopt_window *win, bool emptied);

/* iopt_align.c: the IOVA alignment policy */
unsigned long iopt_min_alignment(struct io_pagetable *iopt);
unsigned long iopt_users_alignment(struct io_pagetable *iopt);
bool iopt_areas_aligned(struct io_pagetable *iopt, unsigned long align);

/* iopt_user.c: in-kernel users */
void iopt_notify_users(struct io_pagetable *iopt, unsigned long start,
		       unsigned long last);

#endif
