// SPDX-License-Identifier: GPL-2.0
/*
 * The io_pagetable: choosing and checking IOVA, inserting and removing
 * areas, and walking areas for in-kernel users. It calls only the pages
 * layer below it; the layer above learns about unmaps through the
 * struct iopt_user callbacks it registered.
 */
#include <linux/iommu.h>
#include <linux/log2.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

#include "../uapi/linux/iommufd.h"
#include "fault.h"
#include "io_pagetable.h"
#include "iopt_internal.h"
#include "pages.h"

/*
 * How many times unmap asks pinning users to let go before giving up
 * with -EDEADLOCK, as upstream does.
 */
#define IOPT_UNMAP_TRIES 100

/*
 * Maps and unmaps of at most this many bytes fill or empty the domains
 * inside their iova_rwsem write section instead of outside it.
 */
#define IOPT_ONE_SECTION_BYTES (IOPT_PAGES_SMALL * PAGE_SIZE)

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

void iopt_init(struct io_pagetable *iopt, bool windowed,
	       struct iopt_pages_cache *pages_cache)
{
	iopt->pages_cache = pages_cache;
	init_rwsem(&iopt->domains_rwsem);
	init_rwsem(&iopt->iova_rwsem);
	iopt->area_itree = RB_ROOT_CACHED;
	iopt->allowed_itree = RB_ROOT_CACHED;
	iopt->reserved_itree = RB_ROOT_CACHED;
	iopt->window_itree = RB_ROOT_CACHED;
	iopt->windowed = windowed;
	/* With no domain attached any byte address can be mapped. */
	iopt->iova_alignment = 1;
	iopt->users_alignment = 1;
	INIT_LIST_HEAD(&iopt->users);
	mutex_init(&iopt->users_lock);
}

static void free_tree(struct rb_root_cached *tree)
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

void iopt_destroy(struct io_pagetable *iopt)
{
	unsigned long unmapped;

	WARN_ON(!list_empty(&iopt->users));
	WARN_ON(iopt->ndomains);
	WARN_ON(iopt_unmap_all(iopt, &unmapped));
	kfree(iopt->domains);
	free_tree(&iopt->allowed_itree);
	free_tree(&iopt->reserved_itree);
	free_tree(&iopt->window_itree);
	mutex_destroy(&iopt->users_lock);
}

/* Is [start, start + length - 1] free of reserved ranges and areas? */
static int iopt_check_iova(struct io_pagetable *iopt, unsigned long iova,
			   unsigned long length)
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

/*
 * The lowest @align aligned IOVA in [lo, hi] where @length bytes fit
 * without touching a reserved range or an area.
 */
bool find_free_iova(struct io_pagetable *iopt, unsigned long lo,
		    unsigned long hi, unsigned long length, unsigned long align,
		    unsigned long *iova)
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

/*
 * Choose an IOVA for @length bytes at user address @uaddr. The IOVA is
 * aligned like the address, up to the length rounded to a power of two and
 * at most the huge page size: a THP- or hugetlbfs-backed buffer gets an
 * IOVA that a domain can map with large IOPTEs, while small or unaligned
 * buffers still pack densely. IOVA 0 and the last page are never used.
 */
/* First fit at or above @floor, inside the allowed ranges if any. */
static bool iopt_alloc_from(struct io_pagetable *iopt, unsigned long floor,
			    unsigned long length, unsigned long align,
			    unsigned long *iova)
{
	unsigned long hi = ULONG_MAX - PAGE_SIZE;
	struct interval_tree_node *node;

	if (RB_EMPTY_ROOT(&iopt->allowed_itree.rb_root))
		return find_free_iova(iopt, floor, hi, length, align, iova);
	for (node = interval_tree_iter_first(&iopt->allowed_itree, floor, hi);
	     node; node = interval_tree_iter_next(node, floor, hi)) {
		if (find_free_iova(iopt, max(node->start, floor),
				   min(node->last, hi), length, align, iova))
			return true;
	}
	return false;
}

static int iopt_alloc_iova(struct io_pagetable *iopt, unsigned long *iova,
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
	/* The address is less aligned than every IOVA must be. */
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

struct iopt_slice {
	struct iopt_pages *pages;
	unsigned long start_byte;
	unsigned long length;
	struct iopt_area *area;
	bool inserted;
};

/*
 * Insert one area per slice, back to back from *@iova (chosen here with
 * IOPT_ALLOC_IOVA), not ready yet. The areas are preallocated in the
 * slices. On success the areas own the slices' page references; on
 * failure nothing changed.
 */
static int iopt_insert_slices_locked(struct io_pagetable *iopt,
				     struct iopt_slice *slices, unsigned int n,
				     unsigned long length, unsigned long *iova,
				     int iommu_prot, unsigned int flags,
				     const struct iopt_window_info *src_win)
{
	unsigned long uaddr = (unsigned long)slices[0].pages->uptr +
			      slices[0].start_byte;
	struct iopt_window *win = NULL;
	unsigned long cur;
	unsigned int i;
	int rc;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	/* The alignment is a power of two: a mask, not a 64-bit division. */
	if (!length || !IS_ALIGNED(length, iopt->iova_alignment))
		return -EINVAL;
	for (i = 0; i != n; i++)
		if (!IS_ALIGNED(slices[i].start_byte % PAGE_SIZE,
				iopt->iova_alignment))
			return -EINVAL;
	if (iopt->windowed)
		rc = iopt_window_place(iopt, iova, uaddr, length,
				       flags & IOPT_ALLOC_IOVA, src_win, &win);
	else if (flags & IOPT_ALLOC_IOVA)
		rc = iopt_alloc_iova(iopt, iova, uaddr, length);
	else
		rc = 0;
	/* A chosen IOVA is free by construction; check it all the same. */
	if (!rc)
		rc = iopt_check_iova(iopt, *iova, length);
	if (rc)
		return rc;

	cur = *iova;
	for (i = 0; i != n; i++) {
		struct iopt_area *area = slices[i].area;

		if (win && (win->attrs & IOMMU_WINDOW_ATTR_EXACT_IOPTE))
			area->exact_pgsize = win->page_size;
		area->node.start = cur;
		area->node.last = cur + slices[i].length - 1;
		/* Not ready: the IOVA is taken, the domains come next. */
		interval_tree_insert(&area->node, &iopt->area_itree);
		slices[i].inserted = true;
		cur += slices[i].length;
		/* COPY brings one slice per source area: maybe millions. */
		cond_resched();
	}
	return 0;
}

/*
 * Point each slice's area at its pages, with its length, ahead of the
 * insert: enough for iopt_area_prepin(). The IOVA comes with the insert.
 */
static void iopt_prepare_slice_areas(struct iopt_slice *slices,
				     unsigned int n, int iommu_prot)
{
	unsigned int i;

	for (i = 0; i != n; i++) {
		struct iopt_area *area = slices[i].area;

		area->pages = slices[i].pages;
		area->start_byte = slices[i].start_byte;
		area->iommu_prot = iommu_prot;
		area->node.start = 0;
		area->node.last = slices[i].length - 1;
	}
}

/*
 * Apply @step to the slices' areas in order, all or nothing: when one
 * fails, @undo is applied to those before it, in reverse. Inlined, so
 * every step is a direct call: this runs twice in every MAP.
 */
static __always_inline int
iopt_slices_all(struct io_pagetable *iopt, struct iopt_slice *slices,
		unsigned int n,
		int (*step)(struct io_pagetable *iopt, struct iopt_area *area),
		void (*undo)(struct io_pagetable *iopt, struct iopt_area *area))
{
	unsigned int done;
	int rc = 0;

	for (done = 0; done != n; done++) {
		rc = step(iopt, slices[done].area);
		if (rc)
			break;
		cond_resched();
	}
	if (rc)
		while (done--) {
			undo(iopt, slices[done].area);
			cond_resched();
		}
	return rc;
}

/* Did the pin ahead pin every slice's area for the domains? */
static bool iopt_slices_prepinned(struct iopt_slice *slices, unsigned int n)
{
	unsigned int i;

	for (i = 0; i != n; i++)
		if (!slices[i].area->domain_pinned)
			return false;
	return true;
}

/* Drop the pins taken ahead for areas that were never filled. */
static void iopt_prepin_slices_undo(struct io_pagetable *iopt,
				    struct iopt_slice *slices, unsigned int n)
{
	unsigned int i;

	for (i = 0; i != n; i++) {
		iopt_area_prepin_undo(iopt, slices[i].area);
		cond_resched();
	}
}

static int alloc_slice_areas(struct iopt_slice *slices, unsigned int n)
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

/*
 * Free an area that is in no tree and drop the page reference it or its
 * slice held. An area allocated along with its pages (by MAP) is freed
 * with them, so this reads nothing of it after the put.
 */
static __always_inline void area_free(struct iopt_area *area,
				      struct iopt_pages *pages)
{
	if (area && !area->with_pages)
		kfree(area);
	if (pages)
		iopt_pages_put(pages);
}

/* Drop whatever the slices still own after iopt_map_slices(). */
static void free_slices(struct iopt_slice *slices, unsigned int n)
{
	unsigned int i;

	for (i = 0; i != n; i++) {
		if (!slices[i].inserted)
			area_free(slices[i].area, slices[i].pages);
		cond_resched();
	}
}

/*
 * Locking for a map or an unmap. The set of domains changes only with
 * both domains_rwsem and iova_rwsem held for write, so an operation that
 * keeps iova_rwsem held for write from start to end (@one_section) has a
 * stable set without taking domains_rwsem at all.
 */
static void iopt_lock_change(struct io_pagetable *iopt, bool one_section)
{
	if (!one_section)
		down_read(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
}

/* iopt_lock_change() for a caller that must not sleep: false if busy. */
static bool iopt_trylock_change(struct io_pagetable *iopt, bool one_section)
{
	if (!one_section && !down_read_trylock(&iopt->domains_rwsem))
		return false;
	if (down_write_trylock(&iopt->iova_rwsem))
		return true;
	if (!one_section)
		up_read(&iopt->domains_rwsem);
	return false;
}

static void iopt_unlock_change(struct io_pagetable *iopt, bool one_section)
{
	up_write(&iopt->iova_rwsem);
	if (!one_section)
		up_read(&iopt->domains_rwsem);
}

/*
 * Areas others could see not ready became ready or left the tree: let
 * whoever waits for that (iopt_unmap_range_settled()) look again. Called
 * with iova_rwsem held for write; the wake-up comes after the unlock.
 */
static void iopt_note_settled_locked(struct io_pagetable *iopt)
{
	lockdep_assert_held_write(&iopt->iova_rwsem);
	WRITE_ONCE(iopt->settled, iopt->settled + 1);
}

static void iopt_wake_settled(struct io_pagetable *iopt)
{
	/* Order the bump before the check for sleepers in wake_up_var(). */
	smp_mb();
	wake_up_var(&iopt->settled);
}

/*
 * Make the filled areas ready, or take them out again after a failed
 * fill; the slices then own their areas and references again.
 */
static void iopt_finish_slices_locked(struct io_pagetable *iopt,
				      struct iopt_slice *slices,
				      unsigned int n, int rc)
{
	unsigned int i;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	for (i = 0; i != n; i++) {
		if (!rc) {
			slices[i].area->ready = true;
			continue;
		}
		interval_tree_remove(&slices[i].area->node,
				     &iopt->area_itree);
		slices[i].inserted = false;
		cond_resched();
	}
}

/*
 * Insert the slices' areas, fill them into every domain, and make them
 * ready. On failure nothing is left in the tree or the domains, and the
 * slices own their areas and references again.
 *
 * A large mapping is filled outside iova_rwsem, so pinning and mapping
 * many pages holds up nobody who only looks areas up; the areas sit in
 * the tree not ready meanwhile. A small one (the common case of a VMM
 * mapping page by page) is filled inside the write section: that takes
 * less time than a second round trip through the lock. Its pages are
 * pinned before the lock is taken, so a fault that blocks holds up no
 * other operation either.
 *
 * With IOPT_NOWAIT only a small mapping is made, pinning without
 * sleeping and taking the locks with trylocks; -EAGAIN, with everything
 * undone, wherever it would have waited.
 */
static int iopt_map_slices(struct io_pagetable *iopt,
			   struct iopt_slice *slices, unsigned int n,
			   unsigned long length, unsigned long *iova,
			   int iommu_prot, unsigned int flags,
			   const struct iopt_window_info *src_win)
{
	bool one_section = length <= IOPT_ONE_SECTION_BYTES;
	bool nowait = flags & IOPT_NOWAIT;
	int rc, prepin_rc = 0;
	unsigned int i;

	for (i = 0; i != n; i++)
		if ((iommu_prot & IOMMU_WRITE) && !slices[i].pages->writable)
			return -EPERM;
	if (nowait && !one_section)
		return -EAGAIN;

	iopt_prepare_slice_areas(slices, n, iommu_prot);
	/* Pinned ahead: see iopt_area_prepin(). */
	if (nowait)
		prepin_rc = iopt_slices_all(iopt, slices, n,
					    iopt_area_prepin_nowait,
					    iopt_area_prepin_undo);
	else if (one_section)
		prepin_rc = iopt_slices_all(iopt, slices, n, iopt_area_prepin,
					    iopt_area_prepin_undo);
	if (prepin_rc == -EAGAIN)
		return prepin_rc;

	if (!nowait) {
		iopt_lock_change(iopt, one_section);
	} else if (!iopt_trylock_change(iopt, one_section)) {
		iopt_prepin_slices_undo(iopt, slices, n);
		return -EAGAIN;
	}
	rc = iopt_insert_slices_locked(iopt, slices, n, length, iova,
				       iommu_prot, flags, src_win);
	if (rc)
		goto out_unlock;
	/*
	 * A pin that failed ahead fails the MAP now that the IOVA checks,
	 * whose errors come first, have passed; unless no domain needs the
	 * pages any more.
	 */
	if (prepin_rc && iopt->ndomains) {
		rc = prepin_rc;
	} else if (nowait && iopt->ndomains &&
		   !iopt_slices_prepinned(slices, n)) {
		/* A domain came after the pin ahead: pinning now may sleep. */
		rc = -EAGAIN;
	} else {
		if (!one_section)
			up_write(&iopt->iova_rwsem);
		rc = iopt_slices_all(iopt, slices, n, iopt_area_fill_domains,
				     iopt_area_unfill_domains);
		if (!one_section)
			down_write(&iopt->iova_rwsem);
	}
	iopt_finish_slices_locked(iopt, slices, n, rc);
	if (!one_section)
		iopt_note_settled_locked(iopt);
out_unlock:
	iopt_unlock_change(iopt, one_section);
	if (!one_section)
		iopt_wake_settled(iopt);
	/* A failed fill unpinned what it reached; drop the rest. */
	if (rc)
		iopt_prepin_slices_undo(iopt, slices, n);
	return rc;
}

/**
 * iopt_map_user - map user memory at an IOVA
 * @iopt: the address space
 * @iova: in: the IOVA with !IOPT_ALLOC_IOVA; out: the IOVA used
 * @uptr: the user address
 * @length: bytes
 * @iommu_prot: IOMMU_READ and/or IOMMU_WRITE
 * @flags: IOPT_ALLOC_IOVA to have the IOVA chosen
 * @account_mode: enum iopt_account_mode for the new pages
 *
 * Nothing is pinned here; pinning happens when a user needs the pages.
 */
int iopt_map_user(struct io_pagetable *iopt, unsigned long *iova,
		  void __user *uptr, unsigned long length, int iommu_prot,
		  unsigned int flags, int account_mode)
{
	struct iopt_slice slice = { .length = length };
	void *area_mem;
	int rc;

	slice.pages = iopt_pages_alloc(iopt->pages_cache, uptr, length,
				       iommu_prot & IOMMU_WRITE,
				       account_mode, sizeof(*slice.area),
				       &area_mem);
	if (IS_ERR(slice.pages))
		return PTR_ERR(slice.pages);
	slice.area = area_mem;
	slice.area->with_pages = true;
	slice.start_byte = (unsigned long)uptr - (unsigned long)slice.pages->uptr;
	rc = iopt_map_slices(iopt, &slice, 1, length, iova, iommu_prot, flags,
			     NULL);
	free_slices(&slice, 1);
	return rc;
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
 * covered by areas without a gap. Takes a page reference per slice. In a
 * windowed address space the range must lie in one window, described in
 * *@win_out. Returns the number of slices, -ENOENT, -EINVAL or -ENOMEM.
 *
 * The areas are counted first and the array allocated once, under the
 * same read section, so the cost is linear in the number of areas and the
 * array is as large as what is really there, never more.
 */
static int iopt_get_slices(struct io_pagetable *iopt, unsigned long iova,
			   unsigned long last, struct iopt_slice **out,
			   struct iopt_window_info *win_out)
{
	struct iopt_slice *slices;
	long n;

	down_read(&iopt->iova_rwsem);
	if (iopt->windowed) {
		struct iopt_window *win;

		/* A windowed source range lies in one window, too. */
		win = iopt_window_containing(iopt, iova, last);
		if (!win) {
			n = -EINVAL;
			goto out_unlock;
		}
		win_out->page_size = win->page_size;
		win_out->attrs = win->attrs;
	}
	n = iopt_walk_slices(iopt, iova, last, NULL);
	if (n < 0)
		goto out_unlock;
	/* The slice count travels as an int (and areas cost far more). */
	if (n > INT_MAX) {
		n = -ENOMEM;
		goto out_unlock;
	}
	slices = iommufd_kvcalloc(n, sizeof(*slices));
	if (!slices) {
		n = -ENOMEM;
		goto out_unlock;
	}
	/* The tree cannot change while the lock is held: same count. */
	n = iopt_walk_slices(iopt, iova, last, slices);
	*out = slices;
out_unlock:
	up_read(&iopt->iova_rwsem);
	return n;
}

/**
 * iopt_copy - map the memory behind IOVA of one address space into another
 * @dst: the destination address space
 * @src: the source address space, may be @dst
 * @src_iova: start of the source range
 * @length: bytes, byte-granular
 * @dst_iova: in: the IOVA with !IOPT_ALLOC_IOVA; out: the IOVA used
 * @iommu_prot: IOMMU_READ and/or IOMMU_WRITE
 * @flags: IOPT_ALLOC_IOVA to have the IOVA chosen
 *
 * The new areas share the source's iopt_pages, so nothing is pinned or
 * charged again. -ENOENT when the source range has a hole.
 */
int iopt_copy(struct io_pagetable *dst, struct io_pagetable *src,
	      unsigned long src_iova, unsigned long length,
	      unsigned long *dst_iova, int iommu_prot, unsigned int flags)
{
	struct iopt_window_info src_win = {};
	struct iopt_slice *slices;
	unsigned long last;
	int n, rc;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(src_iova, length - 1, &last))
		return -EOVERFLOW;
	n = iopt_get_slices(src, src_iova, last, &slices, &src_win);
	if (n < 0)
		return n;
	rc = alloc_slice_areas(slices, n);
	if (!rc)
		rc = iopt_map_slices(dst, slices, n, length, dst_iova,
				     iommu_prot, flags,
				     src->windowed ? &src_win : NULL);
	free_slices(slices, n);
	kvfree(slices);
	return rc;
}

static void iopt_notify_users(struct io_pagetable *iopt, unsigned long start,
			      unsigned long last)
{
	struct iopt_user *user;

	mutex_lock(&iopt->users_lock);
	list_for_each_entry(user, &iopt->users, node)
		user->unmap(user, start, last);
	mutex_unlock(&iopt->users_lock);
}

/*
 * Check that every area in [start, last] lies inside it and is ready, and
 * that none is pinned, collecting them on @freed and their bytes in
 * *@bytes. Pinned areas are marked (with @mark) so no new pins start, and
 * -EAGAIN tells the caller to ask the users to let go. Nothing is marked
 * unless the whole range can be unmapped. Without pins this walks the
 * tree once.
 */
static int iopt_collect_unmap(struct io_pagetable *iopt, unsigned long start,
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

static void iopt_clear_unmapping(struct io_pagetable *iopt,
				 unsigned long start, unsigned long last)
{
	struct iopt_area *area;

	for (area = area_first(iopt, start, last); area;
	     area = area_next(area, start, last))
		area->unmapping = false;
}

/*
 * Can the collected areas, which no user pins, be unmapped without
 * sleeping? See iopt_pages_unpin_never_waits().
 */
static bool iopt_unmap_never_waits(struct list_head *freed)
{
	struct iopt_area *area;

	list_for_each_entry(area, freed, free_node)
		if (!iopt_pages_unpin_never_waits(area->pages))
			return false;
	return true;
}

/*
 * With @nowait (a caller that must not sleep), -EAGAIN, with nothing
 * changed, where the unmap would wait: for a lock, for users to unpin, or
 * outside the one write section.
 */
static __always_inline int __iopt_unmap_range(struct io_pagetable *iopt,
					      unsigned long start,
					      unsigned long last,
					      unsigned long *unmapped,
					      bool nowait)
{
	/* A small range can only hold small areas: see iopt_lock_change(). */
	bool small = last - start < IOPT_ONE_SECTION_BYTES;
	struct iopt_area *area, *next;
	unsigned int tries = 0;
	struct list_head freed;
	unsigned long bytes;
	bool one_section;
	int rc;

	*unmapped = 0;
	if (nowait && !iopt_trylock_change(iopt, small))
		return -EAGAIN;
again:
	if (!nowait)
		iopt_lock_change(iopt, small);
	rc = iopt_collect_unmap(iopt, start, last, &freed, &bytes, !nowait);
	if (!rc && nowait &&
	    ((!small && bytes > IOPT_ONE_SECTION_BYTES) ||
	     !iopt_unmap_never_waits(&freed)))
		rc = -EAGAIN;
	if (rc == -EAGAIN && !nowait) {
		iopt_unlock_change(iopt, small);
		if (++tries <= IOPT_UNMAP_TRIES) {
			iopt_notify_users(iopt, start, last);
			goto again;
		}
		/* A user did not let go of its pins: refuse, change nothing. */
		iopt_lock_change(iopt, small);
		iopt_clear_unmapping(iopt, start, last);
		rc = -EDEADLOCK;
	}
	if (rc) {
		iopt_unlock_change(iopt, small);
		return rc;
	}
	/*
	 * Large unmaps empty the domains outside the lock, as large maps
	 * fill them (iopt_map_slices()). The areas stay in the tree, not
	 * ready, so their IOVA is not handed out again before the domains
	 * stop translating it.
	 */
	*unmapped = bytes;
	one_section = small || bytes <= IOPT_ONE_SECTION_BYTES;
	if (!one_section) {
		list_for_each_entry(area, &freed, free_node)
			area->ready = false;
		up_write(&iopt->iova_rwsem);
	}

	list_for_each_entry(area, &freed, free_node) {
		iopt_area_unfill_domains(iopt, area);
		cond_resched();
	}

	if (!one_section)
		down_write(&iopt->iova_rwsem);
	list_for_each_entry(area, &freed, free_node) {
		interval_tree_remove(&area->node, &iopt->area_itree);
		cond_resched();
	}
	if (!one_section)
		iopt_note_settled_locked(iopt);
	iopt_unlock_change(iopt, small);
	if (!one_section)
		iopt_wake_settled(iopt);

	/* No lock is held here; an unmap of everything may free millions. */
	list_for_each_entry_safe(area, next, &freed, free_node) {
		area_free(area, area->pages);
		cond_resched();
	}
	return 0;
}

/**
 * iopt_unmap_range_settled - iopt_unmap_range(), waiting out maps in flight
 * @iopt: the address space
 * @start: first IOVA
 * @last: last IOVA
 * @unmapped: out: bytes unmapped
 *
 * For a caller that has already stopped new maps into the range (a window
 * being removed): a map or unmap that started before is waited for,
 * sleeping until it is done rather than failing with EBUSY. The sleep
 * ends with -EINTR on a fatal signal, with nothing unmapped.
 */
int iopt_unmap_range_settled(struct io_pagetable *iopt, unsigned long start,
			     unsigned long last, unsigned long *unmapped)
{
	for (;;) {
		unsigned int seen = READ_ONCE(iopt->settled);
		int rc;

		/* Whatever settles after this read changes @settled. */
		rc = iopt_unmap_range(iopt, start, last, unmapped);
		if (rc != -EINPROGRESS)
			return rc;
		if (wait_var_event_killable(&iopt->settled,
					    READ_ONCE(iopt->settled) != seen))
			return -EINTR;
	}
}

int iopt_unmap_range(struct io_pagetable *iopt, unsigned long start,
		     unsigned long last, unsigned long *unmapped)
{
	return __iopt_unmap_range(iopt, start, last, unmapped, false);
}

/* Userspace racing its own map or unmap of the same IOVA gets EBUSY. */
static __always_inline int iopt_unmap_user_range(struct io_pagetable *iopt,
						 unsigned long start,
						 unsigned long last,
						 unsigned long *unmapped,
						 bool nowait)
{
	int rc = __iopt_unmap_range(iopt, start, last, unmapped, nowait);

	return rc == -EINPROGRESS ? -EBUSY : rc;
}

/* Inlined into its two callers, each with its @nowait a constant. */
static __always_inline int __iopt_unmap(struct io_pagetable *iopt,
					unsigned long iova,
					unsigned long length,
					unsigned long *unmapped, bool nowait)
{
	unsigned long last;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if (iopt->windowed) {
		struct iopt_window *win;
		bool ok;

		/* Windows only change under the write lock; a peek will do. */
		if (!nowait)
			down_read(&iopt->iova_rwsem);
		else if (!down_read_trylock(&iopt->iova_rwsem))
			return -EAGAIN;
		win = iopt_window_containing(iopt, iova, last);
		ok = win && !(iova % win->page_size) &&
		     !(length % win->page_size);
		up_read(&iopt->iova_rwsem);
		if (!ok)
			return -EINVAL;
	}
	return iopt_unmap_user_range(iopt, iova, last, unmapped, nowait);
}

/**
 * iopt_unmap - unmap every area inside [iova, iova + length - 1]
 * @iopt: the address space
 * @iova: start
 * @length: bytes
 * @unmapped: out: bytes unmapped
 *
 * Areas are never split: an area that crosses either end of the range
 * fails the whole call with -ENOENT. In-kernel users pinning pages of
 * the areas are asked to unpin first; -EDEADLOCK if they do not.
 */
int iopt_unmap(struct io_pagetable *iopt, unsigned long iova,
	       unsigned long length, unsigned long *unmapped)
{
	return __iopt_unmap(iopt, iova, length, unmapped, false);
}

/*
 * iopt_unmap() for a caller that must not sleep (an io_uring command on
 * its nonblocking issue): -EAGAIN, with nothing changed, wherever it
 * would wait: a busy lock, users to ask to unpin, more than the one write
 * section's worth of areas, pages whose unpinning may wait.
 */
int iopt_unmap_nowait(struct io_pagetable *iopt, unsigned long iova,
		      unsigned long length, unsigned long *unmapped)
{
	return __iopt_unmap(iopt, iova, length, unmapped, true);
}

int iopt_unmap_all(struct io_pagetable *iopt, unsigned long *unmapped)
{
	return iopt_unmap_user_range(iopt, 0, ULONG_MAX, unmapped, false);
}

/**
 * iopt_usable_ranges - the IOVA ranges that are not reserved
 * @iopt: the address space
 * @ranges: filled with up to @max ranges, ascending
 * @max: room in @ranges
 * @alignment: out: the required IOVA alignment
 *
 * Returns the total number of ranges, which may exceed @max.
 */
u32 iopt_usable_ranges(struct io_pagetable *iopt, struct iopt_range *ranges,
		       u32 max, unsigned long *alignment)
{
	struct interval_tree_node *node;
	unsigned long cur = 0;
	bool done = false;
	u32 n = 0;

	down_read(&iopt->iova_rwsem);
	*alignment = iopt->iova_alignment;
	if (iopt->windowed) {
		n = iopt_window_ranges(iopt, ranges, max);
		up_read(&iopt->iova_rwsem);
		return n;
	}
	for (node = interval_tree_iter_first(&iopt->reserved_itree, 0,
					     ULONG_MAX);
	     node; node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		if (node->start > cur) {
			if (n < max)
				ranges[n] = (struct iopt_range){
					cur, node->start - 1 };
			n++;
		}
		if (node->last == ULONG_MAX) {
			done = true;
			break;
		}
		cur = max(cur, node->last + 1);
	}
	if (!done) {
		if (n < max)
			ranges[n] = (struct iopt_range){ cur, ULONG_MAX };
		n++;
	}
	up_read(&iopt->iova_rwsem);
	return n;
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
	free_tree(list);
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

int iopt_reserve_locked(struct io_pagetable *iopt, unsigned long start,
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

void iopt_unreserve_owner(struct io_pagetable *iopt, void *owner)
{
	down_write(&iopt->iova_rwsem);
	iopt_unreserve_owner_locked(iopt, owner);
	up_write(&iopt->iova_rwsem);
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

/**
 * iopt_set_large_pages - IOMMU_OPTION_HUGE_PAGES
 * @iopt: the address space
 * @enable: false to force PAGE_SIZE IOPTEs
 *
 * PAGE_SIZE IOPTEs can only map whole pages, so disabling large pages
 * raises the IOVA alignment to PAGE_SIZE; -EADDRINUSE if an existing area
 * could not be mapped that way. Domains already holding mappings cannot
 * be re-laid out, so disabling with both domains and areas is -EINVAL.
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

static unsigned long iopt_users_alignment(struct io_pagetable *iopt)
{
	unsigned long align = 1;
	struct iopt_user *user;

	lockdep_assert_held(&iopt->users_lock);
	list_for_each_entry(user, &iopt->users, node)
		align = max(align, user->iova_alignment);
	return align;
}

/**
 * iopt_add_user - register an in-kernel user of the address space
 * @iopt: the address space
 * @user: the user, with @user->unmap and @user->iova_alignment set
 *
 * A user that pins whole pages raises the IOVA alignment of the address
 * space to its own; -EADDRINUSE if an existing area is not aligned so.
 */
int iopt_add_user(struct io_pagetable *iopt, struct iopt_user *user)
{
	unsigned long align;
	int rc = 0;

	mutex_lock(&iopt->users_lock);
	down_write(&iopt->iova_rwsem);
	align = max(iopt->iova_alignment, user->iova_alignment);
	if (!iopt_areas_aligned(iopt, align)) {
		rc = -EADDRINUSE;
	} else {
		list_add_tail(&user->node, &iopt->users);
		iopt->users_alignment = iopt_users_alignment(iopt);
		iopt->iova_alignment = align;
	}
	up_write(&iopt->iova_rwsem);
	mutex_unlock(&iopt->users_lock);
	return rc;
}

void iopt_remove_user(struct io_pagetable *iopt, struct iopt_user *user)
{
	mutex_lock(&iopt->users_lock);
	down_write(&iopt->iova_rwsem);
	list_del(&user->node);
	iopt->users_alignment = iopt_users_alignment(iopt);
	iopt->iova_alignment = iopt_min_alignment(iopt);
	up_write(&iopt->iova_rwsem);
	mutex_unlock(&iopt->users_lock);
}

/* Page indexes within the area's pages that back IOVA [start, last]. */
static void area_indexes(struct iopt_area *area, unsigned long start,
			 unsigned long last, unsigned long *first_index,
			 unsigned long *last_index)
{
	*first_index = area_start_byte(area, start) >> PAGE_SHIFT;
	*last_index = area_start_byte(area, last) >> PAGE_SHIFT;
}

/* Undo iopt_pin() for [iova, last], which must have been pinned. */
static void iopt_unpin_locked(struct io_pagetable *iopt, unsigned long iova,
			      unsigned long last)
{
	struct iopt_area *area;

	for (area = area_first(iopt, iova, last); area;
	     area = area_next(area, iova, last)) {
		unsigned long s = max(iova, area->node.start);
		unsigned long e = min(last, area->node.last);
		unsigned long first_index, last_index;

		area_indexes(area, s, e, &first_index, &last_index);
		iopt_pages_unpin(area->pages, first_index, last_index);
		WARN_ON(atomic_dec_if_positive(&area->num_pins) < 0);
	}
}

/*
 * One area's share of a walk over [iova, last]: IOVA [start, end] of
 * @area; @last_piece says whether the walk ends inside this area.
 */
typedef int (*iopt_piece_fn)(struct iopt_area *area, unsigned long start,
			     unsigned long end, bool last_piece, void *arg);

/*
 * Hand [iova, last] to @fn area by area. The areas must cover it without a
 * gap (-ENOENT), be ready and not being unmapped (-EINVAL) and allow
 * @prot (-EPERM); @fn's error stops the walk. *@done is the first IOVA
 * not handed out. Caller holds iova_rwsem.
 */
static int iopt_walk_contig(struct io_pagetable *iopt, unsigned long iova,
			    unsigned long last, int prot, iopt_piece_fn fn,
			    void *arg, unsigned long *done)
{
	struct iopt_area *area;
	int rc = -ENOENT;

	*done = iova;
	for (area = area_first(iopt, iova, last); area;
	     area = area_next(area, iova, last)) {
		unsigned long end = min(last, area->node.last);

		rc = -ENOENT;
		if (area->node.start > *done || !area->ready)
			break;
		rc = -EINVAL;
		if (area->unmapping)
			break;
		rc = -EPERM;
		if (!(area->iommu_prot & prot))
			break;
		rc = fn(area, *done, end, end == last, arg);
		if (rc)
			break;
		if (end == last)
			return 0;
		*done = end + 1;
		rc = -ENOENT;
	}
	return rc;
}

static int iopt_pin_piece(struct iopt_area *area, unsigned long start,
			  unsigned long end, bool last_piece, void *arg)
{
	struct page ***out = arg;
	unsigned long first_index, last_index;
	int rc;

	/*
	 * Whole pages only: the piece must start on a page, and a piece
	 * that continues in the next area must end on one.
	 */
	if (area_start_byte(area, start) % PAGE_SIZE ||
	    (!last_piece &&
	     area_start_byte(area, end) % PAGE_SIZE != PAGE_SIZE - 1))
		return -EINVAL;
	area_indexes(area, start, end, &first_index, &last_index);
	rc = iopt_pages_pin(area->pages, first_index, last_index, *out);
	if (rc)
		return rc;
	atomic_inc(&area->num_pins);
	if (*out)
		*out += last_index - first_index + 1;
	return 0;
}

/**
 * iopt_pin - pin the pages behind [iova, iova + length - 1]
 * @iopt: the address space
 * @iova: start
 * @length: bytes
 * @out: optional, receives one struct page per page index pinned
 * @write: the caller will write to the pages
 *
 * Returns -ENOENT if areas do not cover the range without a gap, -EINVAL
 * if it does not cover whole pages or is being unmapped, -EPERM when the
 * mapping does not allow the access, or the pages layer's error. All or
 * nothing.
 */
int iopt_pin(struct io_pagetable *iopt, unsigned long iova,
	     unsigned long length, struct page **out, bool write)
{
	unsigned long last, done;
	int rc;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;

	down_read(&iopt->iova_rwsem);
	rc = iopt_walk_contig(iopt, iova, last, write ? IOMMU_WRITE : IOMMU_READ,
			      iopt_pin_piece, &out, &done);
	if (rc && done > iova)
		iopt_unpin_locked(iopt, iova, done - 1);
	up_read(&iopt->iova_rwsem);
	return rc;
}

void iopt_unpin(struct io_pagetable *iopt, unsigned long iova,
		unsigned long length)
{
	unsigned long last;

	if (WARN_ON(!length || check_add_overflow(iova, length - 1, &last)))
		return;
	down_read(&iopt->iova_rwsem);
	iopt_unpin_locked(iopt, iova, last);
	up_read(&iopt->iova_rwsem);
}

struct iopt_rw_arg {
	void *data;
	unsigned int flags;
};

static int iopt_rw_piece(struct iopt_area *area, unsigned long start,
			 unsigned long end, bool last_piece, void *arg)
{
	struct iopt_rw_arg *rw = arg;
	int rc;

	rc = iopt_pages_rw(area->pages, area_start_byte(area, start), rw->data,
			   end - start + 1, rw->flags);
	rw->data += end - start + 1;
	return rc;
}

/**
 * iopt_rw - copy between a kernel buffer and the memory behind IOVA
 * @iopt: the address space
 * @iova: start
 * @data: the kernel buffer
 * @length: bytes
 * @flags: IOPT_RW_* flags
 *
 * Errors as iopt_pin(), plus -EFAULT when the memory is gone.
 */
int iopt_rw(struct io_pagetable *iopt, unsigned long iova, void *data,
	    unsigned long length, unsigned int flags)
{
	struct iopt_rw_arg rw = { .data = data, .flags = flags };
	unsigned long last, done;
	int rc;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;

	down_read(&iopt->iova_rwsem);
	rc = iopt_walk_contig(iopt, iova, last,
			      (flags & IOPT_RW_WRITE) ? IOMMU_WRITE : IOMMU_READ,
			      iopt_rw_piece, &rw, &done);
	up_read(&iopt->iova_rwsem);
	return rc;
}
