// SPDX-License-Identifier: GPL-2.0
/*
 * Pinning in the pages layer: who needs which pages of an iopt_pages
 * pinned, and pinning each page once however many holders need it.
 *
 * Who needs what is recorded as struct iopt_pin nodes in an interval tree
 * of page indexes, or counted as whole-range pins. Pinning a range pins
 * only the indexes no node covers yet, in batches (charge, pin, record in
 * the run store of pages_store.c); unpinning a range
 * unpins only the indexes no remaining node covers. So each page is
 * pinned exactly once, and every pin is undone exactly once.
 *
 * Above the run store and the owner (pages_owner.h), which it uses; below
 * the IOVA layer, which calls it. Everything here runs under the pages
 * object's mutex (struct iopt_pages), taken here.
 */
#include <linux/interval_tree.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "fault.h"
#include "pages_owner.h"
#include "pages_store.h"

unsigned int iopt_pages_batch_bytes = SZ_64K;

/* Pins of up to this many pages use a batch on the stack. */
#define PAGES_SMALL_BATCH 16

/**
 * struct iopt_pin - one holder's need for a range of pinned pages
 * @node: page indexes [start, last] within the iopt_pages
 * @users: how many holders asked for exactly this range
 *
 * In the pages object's pin_itree; both fields and the tree are guarded
 * by the pages object's mutex.
 */
struct iopt_pin {
	struct interval_tree_node node;
	unsigned int users;
};

static struct page **pages_alloc_batch(unsigned long *capacity)
{
	unsigned long n = max_t(unsigned long, 1,
				READ_ONCE(iopt_pages_batch_bytes) /
					sizeof(struct page *));

	*capacity = min_t(unsigned long, n, PAGE_SIZE / sizeof(struct page *));
	if (iommufd_fault_hit(IOMMUFD_FAULT_ALLOC))
		return NULL;
	return kmalloc_array(*capacity, sizeof(struct page *), GFP_KERNEL);
}

/*
 * Pin [first, last], none of which is pinned yet. All or nothing. With
 * @nowait, -EAGAIN (and nothing pinned) where it would sleep.
 */
static __always_inline int __pages_pin_range(struct iopt_pages *pages,
					     unsigned long first,
					     unsigned long last, bool nowait)
{
	unsigned int gup_flags = FOLL_LONGTERM |
				 (pages->writable ? FOLL_WRITE : 0);
	unsigned long capacity, stored, i, index = first;
	struct page *small[PAGES_SMALL_BATCH] __uninitialized, **batch = small;
	unsigned long *pfns;
	int rc = 0;

	lockdep_assert_held(&pages->mutex);
	/* A few pages (a VMM mapping one buffer) need no allocation. */
	capacity = min_t(unsigned long, PAGES_SMALL_BATCH,
			 max_t(unsigned long, 1,
			       READ_ONCE(iopt_pages_batch_bytes) /
				       sizeof(struct page *)));
	if (last - first >= capacity) {
		batch = pages_alloc_batch(&capacity);
		if (!batch)
			return -ENOMEM;
	}
	/* The same slots, as PFNs once pinned (or looked up, for MMIO). */
	static_assert(sizeof(*batch) == sizeof(*pfns));
	pfns = (unsigned long *)batch;

	while (index <= last) {
		unsigned long want = min(capacity, last - index + 1);
		long got;

		rc = iopt_pages_charge(pages, want, nowait);
		if (rc)
			break;
		if (pages->mmio)
			got = iopt_pages_mmio_pfns(pages, index, want, pfns,
						   nowait);
		else
			got = iopt_pages_gup(pages, index, want, gup_flags,
					     batch, nowait);
		if (got <= 0) {
			iopt_pages_uncharge(pages, want);
			rc = got ? got : -EFAULT;
			break;
		}
		iopt_pages_uncharge(pages, want - got);
		/* The store keeps PFNs: each slot becomes its page's PFN. */
		for (i = 0; !pages->mmio && i != got; i++)
			pfns[i] = page_to_pfn(batch[i]);
		rc = iopt_pages_store_batch(pages, index, pfns, got, &stored);
		index += stored;
		if (rc)
			break;
	}
	if (batch != small)
		kfree(batch);
	if (rc && index > first)
		iopt_pages_store_unpin(pages, first, index - 1);
	return rc;
}

/*
 * Pin the indexes of [first, last] that are not pinned yet: all of them,
 * unless an unpin parked some (pages_store.c, pages_unpin_tree()); those
 * are pinned and charged already, and are taken up as they are. All or
 * nothing; with @nowait, -EAGAIN (and nothing new pinned) where it would
 * sleep.
 */
static __always_inline int __pages_pin_missing(struct iopt_pages *pages,
					       unsigned long first,
					       unsigned long last, bool nowait)
{
	unsigned long index = first, end;
	int rc = 0;

	if (!pages->parked)
		return __pages_pin_range(pages, first, last, nowait);
	while (index <= last) {
		/* The entry or the hole around @index, whichever it is. */
		bool stored = iopt_pages_store_span(pages, index, &end);

		end = min(end, last);
		if (!stored) {
			rc = __pages_pin_range(pages, index, end, nowait);
			if (rc)
				break;
		}
		if (end == last)
			return 0;
		index = end + 1;
	}
	/* Everything here is uncovered: parked pins may go as well. */
	if (index > first)
		iopt_pages_store_unpin(pages, first, index - 1);
	return rc;
}

static int pages_pin_missing(struct iopt_pages *pages, unsigned long first,
			     unsigned long last)
{
	return __pages_pin_missing(pages, first, last, false);
}

static int pages_pin_missing_nowait(struct iopt_pages *pages,
				    unsigned long first, unsigned long last)
{
	return __pages_pin_missing(pages, first, last, true);
}

typedef int (*pages_range_fn)(struct iopt_pages *pages, unsigned long first,
			      unsigned long last);

/*
 * Call @fn on every maximal sub-range of [first, last] that no pin node
 * covers. Stops at the first error; *@done is then the start of the
 * sub-range that failed, everything before it was handled.
 */
static int pages_walk_uncovered(struct iopt_pages *pages,
				unsigned long first, unsigned long last,
				pages_range_fn fn, unsigned long *done)
{
	struct interval_tree_node *node;
	unsigned long cur = first;
	int rc;

	*done = first;
	if (pages->whole_pins)
		return 0;
	/* The common case, a range nobody else pins: no tree walk at all. */
	if (RB_EMPTY_ROOT(&pages->pin_itree.rb_root))
		return fn(pages, first, last);
	for (node = interval_tree_iter_first(&pages->pin_itree, first, last);
	     node; node = interval_tree_iter_next(node, first, last)) {
		if (node->start > cur) {
			*done = cur;
			rc = fn(pages, cur, node->start - 1);
			if (rc)
				return rc;
		}
		if (node->last >= last)
			return 0;
		cur = max(cur, node->last + 1);
	}
	*done = cur;
	return fn(pages, cur, last);
}

static int pages_unpin_range_fn(struct iopt_pages *pages, unsigned long first,
				unsigned long last)
{
	iopt_pages_store_unpin(pages, first, last);
	return 0;
}

static struct iopt_pin *pages_find_pin(struct iopt_pages *pages,
				       unsigned long first, unsigned long last)
{
	struct interval_tree_node *node;

	for (node = interval_tree_iter_first(&pages->pin_itree, first, first);
	     node; node = interval_tree_iter_next(node, first, first))
		if (node->start == first && node->last == last)
			return container_of(node, struct iopt_pin, node);
	return NULL;
}

/* The struct page of each index of [first, last]; -EFAULT at a hole. */
static int pages_fill_out(struct iopt_pages *pages, unsigned long first,
			  unsigned long last, struct page **out)
{
	unsigned long index = first;

	if (!out)
		return 0;
	while (index <= last) {
		unsigned long pfn, n, i;

		n = iopt_pages_contig(pages, index, last - index + 1, &pfn);
		if (!n)
			return -EFAULT;
		for (i = 0; i != n; i++)
			*out++ = pfn_to_page(pfn + i);
		index += n;
	}
	return 0;
}

/* Pin what no holder covers in [first, last]. All or nothing. */
static int pages_pin_uncovered(struct iopt_pages *pages, unsigned long first,
			       unsigned long last, bool nowait)
{
	unsigned long done, ignored;
	int rc;

	rc = pages_walk_uncovered(pages, first, last,
				  nowait ? pages_pin_missing_nowait :
					   pages_pin_missing, &done);
	if (rc && done > first)
		pages_walk_uncovered(pages, first, done - 1,
				     pages_unpin_range_fn, &ignored);
	return rc;
}

/*
 * Add @pin for [first, last], pinning what no other holder covers yet.
 * All or nothing.
 */
static int pages_add_pin_locked(struct iopt_pages *pages, struct iopt_pin *pin,
				unsigned long first, unsigned long last)
{
	int rc;

	lockdep_assert_held(&pages->mutex);
	rc = pages_pin_uncovered(pages, first, last, false);
	if (rc)
		return rc;
	pin->node.start = first;
	pin->node.last = last;
	interval_tree_insert(&pin->node, &pages->pin_itree);
	return 0;
}

/* Drop one user of @pin; its last unpins what no other holder covers. */
static void pages_drop_pin_locked(struct iopt_pages *pages,
				  struct iopt_pin *pin)
{
	unsigned long done;

	lockdep_assert_held(&pages->mutex);
	if (--pin->users)
		return;
	interval_tree_remove(&pin->node, &pages->pin_itree);
	pages_walk_uncovered(pages, pin->node.start, pin->node.last,
			     pages_unpin_range_fn, &done);
	kfree(pin);
}

/**
 * iopt_pages_pin - make sure pages [first, last] are pinned
 * @pages: the range of user memory
 * @first: first page index
 * @last: last page index, inclusive
 * @out: if not NULL, receives the struct page of each index
 *
 * Adds one holder for exactly [first, last]; iopt_pages_unpin() with the
 * same range drops it. Returns 0, or -ENOMEM when RLIMIT_MEMLOCK or memory
 * runs out, -EFAULT when the memory is gone or, with @out, is device
 * memory; on failure nothing changes.
 */
int iopt_pages_pin(struct iopt_pages *pages, unsigned long first,
		   unsigned long last, struct page **out)
{
	struct iopt_pin *pin;
	int rc = 0;

	if (WARN_ON(first > last || last >= pages->npages))
		return -EINVAL;
	/* Device memory has no struct page to hand out. */
	if (out && pages->mmio)
		return -EFAULT;

	mutex_lock(&pages->mutex);
	pin = pages_find_pin(pages, first, last);
	if (pin) {
		pin->users++;
		goto out_fill;
	}
	pin = iommufd_kzalloc(sizeof(*pin));
	if (!pin) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	rc = pages_add_pin_locked(pages, pin, first, last);
	if (rc) {
		kfree(pin);
		goto out_unlock;
	}
	pin->users = 1;
out_fill:
	/* Cannot fail while the pin holds the pages; if it did, undo. */
	rc = pages_fill_out(pages, first, last, out);
	if (rc)
		pages_drop_pin_locked(pages, pin);
out_unlock:
	mutex_unlock(&pages->mutex);
	return rc;
}

/**
 * iopt_pages_unpin - drop one holder added by iopt_pages_pin()
 * @pages: the range of user memory
 * @first: first page index, as given to iopt_pages_pin()
 * @last: last page index, as given to iopt_pages_pin()
 *
 * Pages that no other holder needs are unpinned and uncharged.
 */
void iopt_pages_unpin(struct iopt_pages *pages, unsigned long first,
		      unsigned long last)
{
	struct iopt_pin *pin;

	mutex_lock(&pages->mutex);
	pin = pages_find_pin(pages, first, last);
	if (!WARN_ON(!pin))
		pages_drop_pin_locked(pages, pin);
	mutex_unlock(&pages->mutex);
}

/*
 * Pin the page of a one-page range that nothing pins yet, and unpin it
 * when the last holder goes: what every one-page MAP and UNMAP in an IOAS
 * with a domain does, so it skips the batch set-up, the walk of holders
 * and the run store of the general path. Same charging, same result.
 */
static __always_inline int pages_pin_single(struct iopt_pages *pages,
					    bool nowait)
{
	unsigned int gup_flags = FOLL_LONGTERM |
				 (pages->writable ? FOLL_WRITE : 0);
	struct page *page;
	long got;
	int rc;

	lockdep_assert_held(&pages->mutex);
	rc = iopt_pages_charge(pages, 1, nowait);
	if (rc)
		return rc;
	got = iopt_pages_gup(pages, 0, 1, gup_flags, &page, nowait);
	if (got != 1) {
		iopt_pages_uncharge(pages, 1);
		return got < 0 ? got : -EFAULT;
	}
	iopt_pages_store_single(pages, page);
	return 0;
}

static __always_inline int __iopt_pages_pin_whole(struct iopt_pages *pages,
						  bool nowait)
{
	int rc;

	if (!nowait)
		mutex_lock(&pages->mutex);
	else if (!mutex_trylock(&pages->mutex))
		return -EAGAIN;
	/* Device memory takes the general path, which looks PFNs up. */
	if (pages->npages == 1 && !pages->npinned && !pages->mmio)
		rc = pages_pin_single(pages, nowait);
	else
		/* With a whole pin already there, nothing is left uncovered. */
		rc = pages_pin_uncovered(pages, 0, pages->npages - 1, nowait);
	if (!rc)
		pages->whole_pins++;
	mutex_unlock(&pages->mutex);
	return rc;
}

/**
 * iopt_pages_pin_whole - make sure every page of the range is pinned
 * @pages: the range of user memory
 *
 * Like iopt_pages_pin() of the whole range, for a holder that keeps it
 * for as long as it lives (an area's pin for its domains, when the area
 * maps all of its pages, which is every area MAP creates). Such holders
 * are only counted: no holder to allocate, no tree to update, and while
 * there is one nobody walks the tree. Undo with iopt_pages_unpin_whole().
 */
int iopt_pages_pin_whole(struct iopt_pages *pages)
{
	return __iopt_pages_pin_whole(pages, false);
}

/*
 * iopt_pages_pin_whole() for a caller that must not sleep (an io_uring
 * command on its nonblocking issue): -EAGAIN, with nothing changed,
 * wherever the pin would wait for a lock, a page fault or a migration.
 */
int iopt_pages_pin_whole_nowait(struct iopt_pages *pages)
{
	return __iopt_pages_pin_whole(pages, true);
}

void iopt_pages_unpin_whole(struct iopt_pages *pages)
{
	unsigned long done;

	mutex_lock(&pages->mutex);
	if (WARN_ON(!pages->whole_pins) || --pages->whole_pins)
		goto out_unlock;
	if (pages->npages == 1 && RB_EMPTY_ROOT(&pages->pin_itree.rb_root) &&
	    !pages->mmio)
		iopt_pages_store_unpin_single(pages);
	else
		pages_walk_uncovered(pages, 0, pages->npages - 1,
				     pages_unpin_range_fn, &done);
out_unlock:
	mutex_unlock(&pages->mutex);
}
