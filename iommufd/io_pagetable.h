/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The io_pagetable: an I/O virtual address space as trees of intervals.
 * Areas map IOVA ranges onto slices of iopt_pages; the allowed tree limits
 * where automatic IOVA allocation may look; the reserved tree holds IOVA
 * that must never be mapped (outside a domain's aperture, device reserved
 * regions such as MSI windows, test reservations); in a windowed address
 * space the window tree holds the only IOVA that may be used.
 */
#ifndef IOMMUFD_IO_PAGETABLE_H
#define IOMMUFD_IO_PAGETABLE_H

#include <linux/interval_tree.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/types.h>

struct iommu_domain;
struct iommufd_dirty_bits;
struct iopt_pages;
struct iopt_pages_cache;
struct page;

/**
 * struct io_pagetable - one I/O address space
 * @domains_rwsem: guards @domains and @ndomains, with @iova_rwsem: both
 *	are held for write to attach or detach a domain. Held for read by
 *	every operation that maps or unmaps areas with iova_rwsem dropped
 *	in between (so the set of domains to fill cannot change under it);
 *	small maps and unmaps that keep iova_rwsem held for write throughout
 *	need not take it. Lock order: domains_rwsem -> iova_rwsem ->
 *	iopt_pages::mutex.
 * @domains: the attached struct iommu_domain, in the order of attaching;
 *	a plain array because every map and unmap walks it and attaching
 *	is rare
 * @ndomains: how many there are
 * @iova_rwsem: guards the three trees, @iova_alignment,
 *	@disable_large_pages and every area's state. Held for read to look
 *	areas up (access pin and rw, COPY's source walk), for write to
 *	change the trees.
 * @area_itree: struct iopt_area by IOVA, never overlapping
 * @allowed_itree: struct iopt_allowed; empty means everything is allowed
 * @reserved_itree: struct iopt_reserved, never overlapping any area
 * @window_itree: struct iopt_window, in a windowed address space
 * @pages_cache: the context's cache MAP takes its pages objects from
 *	(struct iopt_pages_cache); it outlives the io_pagetable
 * @windowed: IOVA is usable only inside windows (IOMMU_IOAS_ALLOC_WINDOWED);
 *	fixed at creation
 * @alloc_hint: where the next automatic IOVA search starts (next fit)
 * @iova_alignment: every IOVA and length mapped must be a multiple of it;
 *	a power of two, the largest of the domains' smallest page sizes,
 *	the users' alignments and PAGE_SIZE with HUGE_PAGES off
 * @disable_large_pages: IOMMU_OPTION_HUGE_PAGES was set to 0
 * @users: struct iopt_user, told before areas they pin are unmapped
 * @users_alignment: the largest iova_alignment of @users; written with
 *	users_lock and iova_rwsem held for write.
 * @users_lock: guards @users; held while calling their unmap callbacks.
 *	Lock order: users_lock -> (the user's own locks) -> iova_rwsem.
 * @unmapped: optional; called for each area unmapped, [start, last],
 *	after it left the tree and with iova_rwsem still held for write, so
 *	nothing can be mapped there before it returns. It may sleep but not
 *	take iova_rwsem. The VFIO compat sets it once, to forget what it
 *	keeps by IOVA; this is how the layer above learns of every unmap,
 *	whoever asked for it (a /dev/iommu fd linked to a container too).
 * @settled: bumped, with iova_rwsem held for write, whenever areas that
 *	others could see not ready (a large map or unmap between its two
 *	write sections) become ready or leave the tree; read without a
 *	lock. REMOVE_WINDOW sleeps on it (wait_var_event()) until the maps
 *	and unmaps in flight in its window are done.
 */
struct io_pagetable {
	struct rw_semaphore domains_rwsem;
	struct iommu_domain **domains;
	unsigned int ndomains;
	struct rw_semaphore iova_rwsem;
	struct rb_root_cached area_itree;
	struct rb_root_cached allowed_itree;
	struct rb_root_cached reserved_itree;
	struct rb_root_cached window_itree;
	struct iopt_pages_cache *pages_cache;
	bool windowed;
	unsigned long alloc_hint;
	unsigned long iova_alignment;
	bool disable_large_pages;
	struct list_head users;
	unsigned long users_alignment;
	struct mutex users_lock; /* see above: the users list */
	void (*unmapped)(struct io_pagetable *iopt, unsigned long start,
			 unsigned long last);
	unsigned int settled;
};

/**
 * struct iopt_user - an in-kernel user that pins pages of areas
 * @node: in io_pagetable::users
 * @iova_alignment: PAGE_SIZE for users that pin pages, else 1
 * @data: the user's cookie
 * @unmap: asks the user to unpin everything it pinned in [iova, last];
 *	called without any io_pagetable lock held. This is how the
 *	io_pagetable tells the layer above it about an unmap without
 *	calling up into it.
 */
struct iopt_user {
	struct list_head node;
	unsigned long iova_alignment;
	void *data;
	void (*unmap)(struct iopt_user *user, unsigned long iova,
		      unsigned long last);
};

/*
 * Flags for iopt_map_user() and iopt_copy_map(). IOPT_NOWAIT (iopt_map_user()
 * only): the caller must not sleep (an io_uring command on its nonblocking issue); where the map
 * would wait for a lock, a page fault or a migration it fails with
 * -EAGAIN instead, with nothing changed.
 */
enum {
	IOPT_ALLOC_IOVA = 1 << 0,
	IOPT_NOWAIT = 1 << 1,
};

/* A window as the layer above sees it. */
struct iopt_window_info {
	unsigned long base;
	unsigned long length;
	unsigned long page_size;
	u32 attrs;
};

/**
 * struct iopt_copy_src - the source of a COPY, taken before the
 * destination is looked up (upstream's order: the source range's errors
 * come first)
 * @slices: the pieces of pages behind the range, each with a reference
 * @n: how many
 * @length: bytes
 * @windowed: the source has windows; @win is the one holding the range
 * @win: its page size and attributes
 */
struct iopt_copy_src {
	struct iopt_slice *slices;
	unsigned int n;
	unsigned long length;
	bool windowed;
	struct iopt_window_info win;
};

/*
 * Fill @ranges (room for @max) with the usable IOVA ranges in ascending
 * order; returns how many there are, which may be more than @max.
 */
struct iopt_range {
	unsigned long start;
	unsigned long last;
};

/*
 * The functions of the layer, under the file that defines each. The
 * files and the order they call each other in are listed in
 * iopt_internal.h.
 */

/* io_pagetable.c: the operations that need everything at once */
void iopt_init(struct io_pagetable *iopt, bool windowed,
	       struct iopt_pages_cache *pages_cache);
void iopt_destroy(struct io_pagetable *iopt);
int iopt_map_user(struct io_pagetable *iopt, unsigned long *iova,
		  void __user *uptr, unsigned long length, int iommu_prot,
		  unsigned int flags, int account_mode);
int iopt_copy_get(struct io_pagetable *src, unsigned long src_iova,
		  unsigned long length, struct iopt_copy_src *cs);
int iopt_copy_map(struct io_pagetable *dst, struct iopt_copy_src *cs,
		  unsigned long *dst_iova, int iommu_prot, unsigned int flags);
void iopt_copy_put(struct iopt_copy_src *cs);
int iopt_unmap(struct io_pagetable *iopt, unsigned long iova,
	       unsigned long length, unsigned long *unmapped);
int iopt_unmap_nowait(struct io_pagetable *iopt, unsigned long iova,
		      unsigned long length, unsigned long *unmapped);
int iopt_unmap_all(struct io_pagetable *iopt, unsigned long *unmapped);
u32 iopt_usable_ranges(struct io_pagetable *iopt, struct iopt_range *ranges,
		       u32 max, unsigned long *alignment);
int iopt_table_add_domain(struct io_pagetable *iopt,
			  struct iommu_domain *domain);
void iopt_table_remove_domain(struct io_pagetable *iopt,
			      struct iommu_domain *domain);
int iopt_remove_window(struct io_pagetable *iopt, unsigned long base,
		       unsigned long *unmapped);

/* iopt_user.c: in-kernel users */
int iopt_add_user(struct io_pagetable *iopt, struct iopt_user *user);
void iopt_remove_user(struct io_pagetable *iopt, struct iopt_user *user);
int iopt_pin(struct io_pagetable *iopt, unsigned long iova,
	     unsigned long length, struct page **out, bool write);
void iopt_unpin(struct io_pagetable *iopt, unsigned long iova,
		unsigned long length);
int iopt_rw(struct io_pagetable *iopt, unsigned long iova, void *data,
	    unsigned long length, unsigned int flags);

/* iopt_align.c: the IOVA alignment policy */
int iopt_set_large_pages(struct io_pagetable *iopt, bool enable);
bool iopt_large_pages_enabled(struct io_pagetable *iopt);

/* iopt_window.c: the windows extension */
int iopt_create_window(struct io_pagetable *iopt,
		       struct iopt_window_info *info, bool fixed_base);
u32 iopt_list_windows(struct io_pagetable *iopt,
		      struct iopt_window_info *windows, u32 max);

/* iopt_iova.c: reserved and allowed ranges */
int iopt_allowed_add(struct rb_root_cached *list, unsigned long start,
		     unsigned long last);
void iopt_allowed_free(struct rb_root_cached *list);
int iopt_set_allowed(struct io_pagetable *iopt, struct rb_root_cached *list);
int iopt_reserve(struct io_pagetable *iopt, unsigned long start,
		 unsigned long last, void *owner);
void iopt_unreserve_owner(struct io_pagetable *iopt, void *owner);

/* iopt_vfio.c: what VFIO type1's semantics need of the IOVA space */
int iopt_cut_iova(struct io_pagetable *iopt, const unsigned long *iovas,
		  unsigned int num);
unsigned long iopt_page_sizes(struct io_pagetable *iopt);
bool iopt_area_bounds(struct io_pagetable *iopt, unsigned long iova,
		      unsigned long *start, unsigned long *last);

/*
 * iopt_dirty.c: dirty tracking. A reader records the written pages of
 * [iova, iova + length - 1], part of one area, into @dirty (dirty.h) and
 * clears their dirty state unless @flags has
 * IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR; with @dirty NULL it only clears.
 */
typedef int (*iopt_dirty_read_fn)(void *ctx, unsigned long iova,
				  unsigned long length, unsigned long flags,
				  struct iommufd_dirty_bits *dirty);

enum {
	IOPT_DIRTY_NO_CLEAR = 1 << 0,
	IOPT_DIRTY_HOLES_OK = 1 << 1,
	/* Write whole words as VFIO type1 does (iopt_dirty.c), not OR. */
	IOPT_DIRTY_OVERWRITE = 1 << 2,
	/* Report, and clear, areas marked by iopt_dirty_mark_all(). */
	IOPT_DIRTY_AREA_ALL = 1 << 3,
};

int iopt_check_dirty_range(struct io_pagetable *iopt, u64 iova, u64 length,
			   u64 page_size);
int iopt_read_dirty(struct io_pagetable *iopt, iopt_dirty_read_fn read,
		    void *ctx, unsigned long iova, unsigned long length,
		    unsigned long page_size, u64 __user *data,
		    unsigned int flags);
int iopt_clear_dirty(struct io_pagetable *iopt, iopt_dirty_read_fn read,
		     void *ctx);
void iopt_dirty_mark_all(struct io_pagetable *iopt, bool dirty);

/* iopt_area.c: the area store */
int iopt_module_init(void);
void iopt_module_exit(void);

#endif
