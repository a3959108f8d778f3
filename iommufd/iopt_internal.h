/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals of the io_pagetable layer, shared by io_pagetable.c (IOVA and
 * areas), iopt_domain.c (filling iommu_domains) and iopt_window.c (IOVA
 * windows). Nothing outside the layer includes this.
 */
#ifndef IOMMUFD_IOPT_INTERNAL_H
#define IOMMUFD_IOPT_INTERNAL_H

#include <linux/interval_tree.h>
#include <linux/list.h>

#include "io_pagetable.h"

struct iommu_domain;
struct iopt_pages;

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
	struct list_head free_node;
};

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

/* @owner: who reserved it, to remove all of one owner's ranges at once */
struct iopt_reserved {
	struct interval_tree_node node;
	void *owner;
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

/* iopt_domain.c */
int iopt_area_prepin(struct io_pagetable *iopt, struct iopt_area *area);
int iopt_area_prepin_nowait(struct io_pagetable *iopt, struct iopt_area *area);
void iopt_area_prepin_undo(struct io_pagetable *iopt, struct iopt_area *area);
int iopt_area_fill_domains(struct io_pagetable *iopt, struct iopt_area *area);
void iopt_area_unfill_domains(struct io_pagetable *iopt,
			      struct iopt_area *area);
int iopt_reserve_locked(struct io_pagetable *iopt, unsigned long start,
			unsigned long last, void *owner);
void iopt_unreserve_owner_locked(struct io_pagetable *iopt, void *owner);
bool iopt_areas_aligned(struct io_pagetable *iopt, unsigned long align);
int iopt_domain_accepts_windows(struct io_pagetable *iopt,
				struct iommu_domain *domain);

int iopt_unmap_range(struct io_pagetable *iopt, unsigned long start,
		     unsigned long last, unsigned long *unmapped);
int iopt_unmap_range_settled(struct io_pagetable *iopt, unsigned long start,
			     unsigned long last, unsigned long *unmapped);

/* iopt_window.c */
struct iopt_window *iopt_window_containing(struct io_pagetable *iopt,
					   unsigned long start,
					   unsigned long last);
int iopt_window_place(struct io_pagetable *iopt, unsigned long *iova,
		      unsigned long uaddr, unsigned long length, bool alloc,
		      const struct iopt_window_info *src,
		      struct iopt_window **out);
u32 iopt_window_ranges(struct io_pagetable *iopt, struct iopt_range *ranges,
		       u32 max);
bool iopt_windows_allow_alignment(struct io_pagetable *iopt,
				  unsigned long align);
bool iopt_has_exact_large_window(struct io_pagetable *iopt);
bool find_free_iova(struct io_pagetable *iopt, unsigned long lo,
		    unsigned long hi, unsigned long length,
		    unsigned long align, unsigned long *iova);
unsigned long iopt_min_alignment(struct io_pagetable *iopt);

#endif
