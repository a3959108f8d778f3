// SPDX-License-Identifier: GPL-2.0
/*
 * The top of the io_pagetable layer: the operations that need the areas,
 * the reserved ranges, the windows and the domains at once. MAP and COPY
 * (choose or check the IOVA, insert the areas, fill the domains), UNMAP
 * (collect the areas, ask in-kernel users to let go, empty the domains),
 * attaching and detaching domains, removing windows, IOVA_RANGES, and the
 * life of the address space. The files below it (iopt_internal.h lists
 * them) never call up into this one; the layer above learns about unmaps
 * through the struct iopt_user callbacks it registered.
 */
#include <linux/iommu.h>
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

void iopt_destroy(struct io_pagetable *iopt)
{
	unsigned long unmapped;

	WARN_ON(!list_empty(&iopt->users));
	WARN_ON(iopt->ndomains);
	WARN_ON(iopt_unmap_all(iopt, &unmapped));
	kfree(iopt->domains);
	iopt_tree_free(&iopt->allowed_itree);
	iopt_tree_free(&iopt->reserved_itree);
	iopt_tree_free(&iopt->window_itree);
	mutex_destroy(&iopt->users_lock);
}

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
	/* Then each piece, in upstream's order: write access, alignment. */
	for (i = 0; i != n && !rc; i++) {
		if ((iommu_prot & IOMMU_WRITE) && !slices[i].pages->writable)
			rc = -EPERM;
		else if (!IS_ALIGNED(slices[i].start_byte % PAGE_SIZE,
				     iopt->iova_alignment))
			rc = -EINVAL;
	}
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
		/* A device BAR, by MAP or COPY: mapped as device memory. */
		if (iopt_pages_is_mmio(area->pages))
			area->iommu_prot |= IOMMU_MMIO;
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
	bool read_only = false;
	int rc, prepin_rc = 0;
	unsigned int i;

	/*
	 * Writing to read-only pages fails (EPERM) in the insert, after the
	 * IOVA checks as upstream orders them; pin nothing ahead for it.
	 */
	for (i = 0; i != n; i++)
		if ((iommu_prot & IOMMU_WRITE) && !slices[i].pages->writable)
			read_only = true;
	if (nowait && !one_section)
		return -EAGAIN;

	iopt_prepare_slice_areas(slices, n, iommu_prot);
	/* Pinned ahead: see iopt_area_prepin(). */
	if (read_only)
		prepin_rc = 0;
	else if (nowait)
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
		iopt_slices_prepin_undo(iopt, slices, n);
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
		iopt_slices_prepin_undo(iopt, slices, n);
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
				       &area_mem, flags & IOPT_NOWAIT);
	if (IS_ERR(slice.pages))
		return PTR_ERR(slice.pages);
	slice.area = area_mem;
	slice.area->with_pages = true;
	slice.start_byte = (unsigned long)uptr - (unsigned long)slice.pages->uptr;
	rc = iopt_map_slices(iopt, &slice, 1, length, iova, iommu_prot, flags,
			     NULL);
	iopt_slices_free(&slice, 1);
	return rc;
}

/*
 * Collect the slices of pages behind [iova, last] of @src for COPY (see
 * iopt_area_slices()). In a windowed address space the range must lie in
 * one window (-EINVAL), described in *@win_out.
 */
static int iopt_get_slices(struct io_pagetable *iopt, unsigned long iova,
			   unsigned long last, struct iopt_slice **out,
			   struct iopt_window_info *win_out)
{
	int n;

	down_read(&iopt->iova_rwsem);
	if (iopt->windowed) {
		struct iopt_window *win;

		win = iopt_window_containing(iopt, iova, last);
		if (!win) {
			n = -EINVAL;
			goto out_unlock;
		}
		win_out->page_size = win->page_size;
		win_out->attrs = win->attrs;
	}
	n = iopt_area_slices(iopt, iova, last, out);
out_unlock:
	up_read(&iopt->iova_rwsem);
	return n;
}

/**
 * iopt_copy_get - take the memory behind IOVA of an address space for COPY
 * @src: the source address space
 * @src_iova: start of the source range
 * @length: bytes, byte-granular
 * @cs: out: the source, for iopt_copy_map(); release it with
 *	iopt_copy_put() whatever happens next
 *
 * The source's pages are shared with the copy, so nothing is pinned or
 * charged again. -EINVAL for a length of 0 (or, with windows, a range
 * outside one window), -EOVERFLOW, -ENOENT when the range has a hole.
 */
int iopt_copy_get(struct io_pagetable *src, unsigned long src_iova,
		  unsigned long length, struct iopt_copy_src *cs)
{
	unsigned long last;
	int n;

	*cs = (struct iopt_copy_src){ .length = length };
	if (!length)
		return -EINVAL;
	if (check_add_overflow(src_iova, length - 1, &last))
		return -EOVERFLOW;
	n = iopt_get_slices(src, src_iova, last, &cs->slices, &cs->win);
	if (n < 0)
		return n;
	cs->n = n;
	cs->windowed = src->windowed;
	return 0;
}

/**
 * iopt_copy_map - map a source taken with iopt_copy_get() into @dst
 * @dst: the destination address space, may be the source
 * @cs: the source
 * @dst_iova: in: the IOVA with !IOPT_ALLOC_IOVA; out: the IOVA used
 * @iommu_prot: IOMMU_READ and/or IOMMU_WRITE
 * @flags: IOPT_ALLOC_IOVA to have the IOVA chosen
 */
int iopt_copy_map(struct io_pagetable *dst, struct iopt_copy_src *cs,
		  unsigned long *dst_iova, int iommu_prot, unsigned int flags)
{
	int rc;

	rc = iopt_slices_alloc_areas(cs->slices, cs->n);
	if (!rc)
		rc = iopt_map_slices(dst, cs->slices, cs->n, cs->length,
				     dst_iova, iommu_prot, flags,
				     cs->windowed ? &cs->win : NULL);
	return rc;
}

/* Drop what iopt_copy_get() took; the mapped copy keeps its own. */
void iopt_copy_put(struct iopt_copy_src *cs)
{
	if (!cs->slices)
		return;
	iopt_slices_free(cs->slices, cs->n);
	kvfree(cs->slices);
	cs->slices = NULL;
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
	void (*unmapped_fn)(struct io_pagetable *iopt, unsigned long start,
			    unsigned long last);
	struct iopt_area *area, *next;
	unsigned int tries = 0;
	struct list_head freed;
	unsigned long bytes;
	bool one_section;
	int rc;

	*unmapped = 0;
	/* io_pagetable::unmapped may sleep: leave it to a caller that can. */
	if (nowait && (READ_ONCE(iopt->unmapped) ||
		       !iopt_trylock_change(iopt, small)))
		return -EAGAIN;
again:
	if (!nowait)
		iopt_lock_change(iopt, small);
	rc = iopt_areas_collect_unmap(iopt, start, last, &freed, &bytes,
				      !nowait);
	if (!rc && nowait &&
	    ((!small && bytes > IOPT_ONE_SECTION_BYTES) ||
	     !iopt_areas_unpin_never_waits(&freed)))
		rc = -EAGAIN;
	if (rc == -EAGAIN && !nowait) {
		iopt_unlock_change(iopt, small);
		if (++tries <= IOPT_UNMAP_TRIES) {
			iopt_notify_users(iopt, start, last);
			goto again;
		}
		/* A user did not let go of its pins: refuse, change nothing. */
		iopt_lock_change(iopt, small);
		iopt_areas_clear_unmapping(iopt, start, last);
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
	unmapped_fn = READ_ONCE(iopt->unmapped);
	list_for_each_entry(area, &freed, free_node) {
		interval_tree_remove(&area->node, &iopt->area_itree);
		if (unmapped_fn)
			unmapped_fn(iopt, area->node.start, area->node.last);
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

static int iopt_unmap_range(struct io_pagetable *iopt, unsigned long start,
			    unsigned long last, unsigned long *unmapped)
{
	return __iopt_unmap_range(iopt, start, last, unmapped, false);
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
static int iopt_unmap_range_settled(struct io_pagetable *iopt,
				    unsigned long start, unsigned long last,
				    unsigned long *unmapped)
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
 * iopt_usable_ranges - the IOVA ranges that may be mapped
 * @iopt: the address space
 * @ranges: filled with up to @max ranges, ascending
 * @max: room in @ranges
 * @alignment: out: the required IOVA alignment
 *
 * The windows less reserved IOVA in a windowed address space, else
 * everything not reserved. Returns the total number of ranges, which may
 * exceed @max.
 */
u32 iopt_usable_ranges(struct io_pagetable *iopt, struct iopt_range *ranges,
		       u32 max, unsigned long *alignment)
{
	u32 n;

	down_read(&iopt->iova_rwsem);
	*alignment = iopt->iova_alignment;
	if (iopt->windowed)
		n = iopt_window_ranges(iopt, ranges, max);
	else
		n = iopt_unreserved_ranges(iopt, ranges, max);
	up_read(&iopt->iova_rwsem);
	return n;
}

/**
 * iopt_table_add_domain - attach a domain to the address space
 * @iopt: the address space
 * @domain: a paging domain mapping nothing yet
 *
 * Maps every existing area into @domain and keeps it filled from then
 * on. Returns -EINVAL if the domain's smallest page size exceeds
 * PAGE_SIZE, or a window's page size is one the domain cannot map;
 * -EADDRINUSE if an area, allowed range or window lies outside the
 * domain's aperture, or an area is not aligned to its smallest page size;
 * -ENOMEM and pinning errors as mapping would. Nothing changes on failure.
 */
int iopt_table_add_domain(struct io_pagetable *iopt,
			  struct iommu_domain *domain)
{
	unsigned long align;
	int rc;

	/*
	 * Pinned memory is only known to be contiguous page by page, so
	 * the smallest IOPTE must fit in one page. Windows do not change
	 * that: their page size is IOVA granularity, and the memory mapped
	 * into a window page may still be scattered page by page.
	 */
	if (!domain->pgsize_bitmap ||
	    __ffs(domain->pgsize_bitmap) > PAGE_SHIFT)
		return -EINVAL;
	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	align = max(iopt->iova_alignment, 1UL << __ffs(domain->pgsize_bitmap));
	/* A window page size the domain cannot map is the clearer error. */
	rc = iopt_domain_accepts_windows(iopt, domain);
	if (rc)
		goto out_unlock;
	rc = -EADDRINUSE;
	if (!iopt_areas_aligned(iopt, align))
		goto out_unlock;
	rc = iopt_domains_make_room(iopt);
	if (rc)
		goto out_unlock;
	rc = iopt_reserve_outside_locked(iopt,
					 domain->geometry.aperture_start,
					 domain->geometry.aperture_end, domain);
	if (rc)
		goto err_unreserve;
	rc = iopt_domain_join(iopt, domain);
	if (rc)
		goto err_unreserve;
	iopt->iova_alignment = align;
	goto out_unlock;

err_unreserve:
	iopt_unreserve_owner_locked(iopt, domain);
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
	return rc;
}

/**
 * iopt_table_remove_domain - detach a domain from the address space
 * @iopt: the address space
 * @domain: a domain added with iopt_table_add_domain()
 *
 * Unmaps every area from @domain, gives up the IOVA it reserved, and
 * lowers the IOVA alignment if the domain was what raised it.
 */
void iopt_table_remove_domain(struct io_pagetable *iopt,
			      struct iommu_domain *domain)
{
	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	if (WARN_ON(!iopt_domain_leave(iopt, domain)))
		goto out_unlock;
	iopt_unreserve_owner_locked(iopt, domain);
	iopt->iova_alignment = iopt_min_alignment(iopt);
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
}

/**
 * iopt_remove_window - IOMMU_IOAS_REMOVE_WINDOW
 * @iopt: the address space
 * @base: the base of the window
 * @unmapped: out: bytes that were mapped in it
 *
 * New mappings into the window are refused from the start; those already
 * in flight are waited for. On failure of the unmap (-EBUSY: an in-kernel
 * user kept its pins; -EINTR: a fatal signal ended the wait) the window
 * and everything in it stay. -ENOENT without a window at @base.
 */
int iopt_remove_window(struct io_pagetable *iopt, unsigned long base,
		       unsigned long *unmapped)
{
	unsigned long start, last;
	struct iopt_window *win;
	int rc;

	*unmapped = 0;
	if (!iopt->windowed)
		return -EINVAL;
	down_write(&iopt->iova_rwsem);
	win = iopt_window_start_removal(iopt, base);
	if (!win) {
		up_write(&iopt->iova_rwsem);
		return -ENOENT;
	}
	start = win->node.start;
	last = win->node.last;
	up_write(&iopt->iova_rwsem);

	/*
	 * Maps that started before the window was marked may still be
	 * filling their areas (pinning can wait on a page fault for as long
	 * as userspace likes); no new one can start, so sleep until they are
	 * done, or the caller is killed.
	 */
	rc = iopt_unmap_range_settled(iopt, start, last, unmapped);

	down_write(&iopt->iova_rwsem);
	iopt_window_end_removal(iopt, win, !rc);
	up_write(&iopt->iova_rwsem);
	return rc;
}
