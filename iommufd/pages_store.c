// SPDX-License-Identifier: GPL-2.0
/*
 * The run store of the pages layer: which page indexes of an iopt_pages
 * are pinned, and the PFNs behind them, recorded so that physically
 * contiguous runs are found in one lookup. It records batches that
 * pages_pin.c pinned and charged, answers the readers of runs
 * (iopt_pages_runs(), iopt_pages_contig()), and forgets ranges, unpinning
 * and uncharging them (iopt_pages_store_unpin()). It knows nothing of who
 * holds which range: pages_pin.c, above it, decides what to pin and
 * unpin.
 *
 * The PFN store: a maple tree of runs. A run is a range of page indexes
 * [start, last] whose pages are physically contiguous; its entry is the
 * PFN of index start, as xa_mk_value(). Each page index has at most one
 * run; indexes not pinned have none. Small ranges keep one PFN per index
 * in small_pfns instead, and their runs are found by looking at the
 * neighbours; the functions here hide which store a range uses.
 *
 * A batch of fragmented memory (4K pages with a physical break every few
 * pages) would make one tree entry per run, and storing thousands of
 * small entries is most of the cost of mapping such memory. Such a batch
 * is stored as one entry pointing at a struct pages_chunk, which holds
 * one PFN per index. An entry is a run when xa_is_value(), else a chunk.
 *
 * Locking: every change happens under the pages object's mutex (struct
 * iopt_pages); the maple tree's own lock orders them against readers,
 * which hold pins on what they read and so need no mutex.
 */
#include <linux/maple_tree.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "fault.h"
#include "pages_owner.h"
#include "pages_store.h"

/**
 * struct pages_chunk - the PFNs of one fragmented batch
 * @base: page index of @pfns[0]
 * @live: indexes of the chunk still in the tree; an unpin that erases
 *	part of the chunk's range leaves pieces that still point here, and
 *	the chunk is freed when the last index goes
 * @pfns: one PFN per index from @base
 *
 * Locking: made, stored and cut only under the pages object's mutex; the
 * tree's lock orders its stores against walkers. A chunk's @pfns never
 * change after it is stored. @live is changed only under the mutex, by
 * the unpin that takes indexes out of the tree (before it frees the
 * chunk at zero, so a walker, whose holder's pin keeps its own indexes in
 * the tree, never reaches a freed chunk).
 */
struct pages_chunk {
	unsigned long base;
	unsigned long live;
	unsigned long pfns[];
};

/* A batch becomes a chunk if it has more than one run per this many pages. */
#define PAGES_CHUNK_RUN_PAGES 4
/* ... and at least this many pages. */
#define PAGES_CHUNK_MIN 32
/* A chunk fills at most one page, so a batch may take two. */
#define PAGES_CHUNK_MAX ((PAGE_SIZE - sizeof(struct pages_chunk)) / \
			 sizeof(unsigned long))

static bool entry_is_chunk(void *entry)
{
	return entry && !xa_is_value(entry);
}

/*
 * @v holds one value per index, consecutive values for physically
 * contiguous pages and 0 for none (small_pfns stores PFN + 1, a chunk the
 * PFN). Widen @i to the contiguous stretch around it, within [min, max].
 */
static void pfns_stretch(const unsigned long *v, unsigned long i,
			 unsigned long min, unsigned long max,
			 unsigned long *lo, unsigned long *hi)
{
	*lo = i;
	*hi = i;
	while (*lo > min && v[*lo - 1] && v[*lo - 1] + 1 == v[*lo])
		(*lo)--;
	while (*hi < max && v[*hi + 1] && v[*hi + 1] == v[*hi] + 1)
		(*hi)++;
}

/*
 * The run view of a chunk entry covering [*start, *last]: narrow the range
 * to the physically contiguous stretch around @index; returns its entry as
 * a run would have it (the PFN of *start).
 */
static void *chunk_run_at(struct pages_chunk *chunk, unsigned long index,
			  unsigned long *start, unsigned long *last)
{
	unsigned long lo, hi;

	/* A PFN of 0 would only end a run early, never join two wrongly. */
	pfns_stretch(chunk->pfns, index - chunk->base, *start - chunk->base,
		     *last - chunk->base, &lo, &hi);
	*start = chunk->base + lo;
	*last = chunk->base + hi;
	return xa_mk_value(chunk->pfns[lo]);
}

/* small_pfns: the run around @index, as pages_run_at() reports it. */
static void *small_run_at(struct iopt_pages *pages, unsigned long index,
			  unsigned long *start, unsigned long *last)
{
	if (!pages->small_pfns[index])
		return NULL;
	pfns_stretch(pages->small_pfns, index, 0, pages->npages - 1, start,
		     last);
	return xa_mk_value(pages->small_pfns[*start] - 1);
}

/* The maple tree's entry holding @index, run or chunk, and its range. */
static void *tree_entry_at(struct iopt_pages *pages, unsigned long index,
			   unsigned long *start, unsigned long *last)
{
	MA_STATE(mas, &pages->runs, index, index);
	void *entry;

	mas_lock(&mas);
	entry = mas_walk(&mas);
	*start = mas.index;
	*last = mas.last;
	mas_unlock(&mas);
	return entry;
}

/**
 * iopt_pages_store_span - is an index of a large range recorded?
 * @pages: a range of more than IOPT_PAGES_SMALL pages; the caller holds
 *	its mutex
 * @index: the page index
 * @last: out: the last index of the recorded entry, or of the hole,
 *	that @index is in
 *
 * What a pin looks at to take up parked pins as they are.
 */
bool iopt_pages_store_span(struct iopt_pages *pages, unsigned long index,
			   unsigned long *last)
{
	unsigned long start;

	return tree_entry_at(pages, index, &start, last);
}

/* The maple tree's run holding @index, as pages_run_at() reports it. */
static void *tree_run_at(struct iopt_pages *pages, unsigned long index,
			 unsigned long *start, unsigned long *last)
{
	void *entry = tree_entry_at(pages, index, start, last);

	if (entry_is_chunk(entry))
		return chunk_run_at(entry, index, start, last);
	return entry;
}

/*
 * The maple tree's runs from @index to @last, clipped to that range, into
 * @runs (room for @max), with one walk of the tree.
 */
static unsigned int tree_runs(struct iopt_pages *pages, unsigned long index,
			      unsigned long last, struct iopt_run *runs,
			      unsigned int max)
{
	MA_STATE(mas, &pages->runs, index, index);
	unsigned int n = 0;
	void *entry;

	mas_lock(&mas);
	for (entry = mas_find(&mas, last); entry;
	     entry = mas_find(&mas, last)) {
		unsigned long end = min(mas.last, last);

		/* Pinned indexes have runs without a gap. */
		if (max(mas.index, index) != index)
			break;
		while (index <= end) {
			unsigned long start = mas.index, stop = end, pfn;
			void *run = entry;

			if (entry_is_chunk(entry))
				run = chunk_run_at(entry, index, &start, &stop);
			pfn = xa_to_value(run) + (index - start);
			/*
			 * Entries are not joined across a chunk's edge, so
			 * one physically contiguous stretch may span two:
			 * report it as one run, or a domain would cut its
			 * large IOPTEs there.
			 */
			if (n && runs[n - 1].pfn + runs[n - 1].npages == pfn) {
				runs[n - 1].npages += stop - index + 1;
			} else if (n == max) {
				goto out_unlock;
			} else {
				runs[n++] = (struct iopt_run){
					.index = index,
					.npages = stop - index + 1,
					.pfn = pfn,
				};
			}
			index = stop + 1;
		}
		if (index > last)
			break;
	}
out_unlock:
	mas_unlock(&mas);
	return n;
}

/* The run holding @index: its entry, with [*start, *last] filled in. */
static void *pages_run_at(struct iopt_pages *pages, unsigned long index,
			  unsigned long *start, unsigned long *last)
{
	if (iopt_pages_is_small(pages))
		return small_run_at(pages, index, start, last);
	return tree_run_at(pages, index, start, last);
}

/* Store the run [start, last] from @pfn; the caller holds the tree lock. */
static int tree_store_locked(struct ma_state *mas, unsigned long start,
			     unsigned long last, unsigned long pfn)
{
	if (iommufd_fault_hit(IOMMUFD_FAULT_ALLOC))
		return -ENOMEM;
	mas_set_range(mas, start, last);
	return mas_store_gfp(mas, xa_mk_value(pfn), GFP_KERNEL_ACCOUNT);
}

/*
 * Record the run [start, last] from @pfn, joining the runs that end right
 * before it (@join_before) and start right after it (@join_after) when
 * they are physically contiguous with it, so runs break neither at batch
 * boundaries nor where pages were pinned earlier by another holder.
 */
static int pages_store_run(struct iopt_pages *pages, unsigned long start,
			   unsigned long last, unsigned long pfn,
			   bool join_before, bool join_after)
{
	unsigned long run_start, run_last, last_pfn = pfn + (last - start);
	void *run;

	/* A chunk's indexes stay in their chunk: only runs are joined. */
	if (join_before && start) {
		run = tree_entry_at(pages, start - 1, &run_start, &run_last);
		if (xa_is_value(run) &&
		    xa_to_value(run) + (start - run_start) == pfn) {
			pfn = xa_to_value(run);
			start = run_start;
		}
	}
	if (join_after && last != ULONG_MAX) {
		run = tree_entry_at(pages, last + 1, &run_start, &run_last);
		if (xa_is_value(run) && run_start == last + 1 &&
		    xa_to_value(run) == last_pfn + 1)
			last = run_last;
	}
	if (iommufd_fault_hit(IOMMUFD_FAULT_ALLOC))
		return -ENOMEM;
	return mtree_store_range(&pages->runs, start, last, xa_mk_value(pfn),
				 GFP_KERNEL_ACCOUNT);
}

/* Store @entry over [first, last] of the tree; 0 or -ENOMEM. */
static int tree_store(struct iopt_pages *pages, unsigned long first,
		      unsigned long last, void *entry)
{
	if (iommufd_fault_hit(IOMMUFD_FAULT_ALLOC))
		return -ENOMEM;
	return mtree_store_range(&pages->runs, first, last, entry,
				 GFP_KERNEL_ACCOUNT);
}

/*
 * A run's entry is the PFN of its first index. If an unpin that ends at
 * @last cuts off the head of a run, the tail that stays gets a new first
 * index: give it its own entry, with the PFN of that index, before the
 * head is erased. Returns 0 or -ENOMEM, with nothing changed.
 */
static int tree_split_after(struct iopt_pages *pages, unsigned long last)
{
	unsigned long start, end;
	void *run;

	if (last == pages->npages - 1)
		return 0;
	run = tree_entry_at(pages, last + 1, &start, &end);
	if (!xa_is_value(run) || start > last)
		return 0;
	return tree_store(pages, last + 1, end,
			  xa_mk_value(xa_to_value(run) + (last + 1 - start)));
}

/*
 * One tree entry, or its part inside a range being unpinned: @entry (a
 * run or a chunk) covers [@entry_start, ...]; the part is [@first, @last].
 */
struct pages_piece {
	void *entry;
	unsigned long entry_start;
	unsigned long first;
	unsigned long last;
};

/* How many entries an unpin reads, forgets and unpins at a time. */
#define PAGES_UNPIN_PIECES 8

/* The tree's entries from @index on, clipped to [index, last]: up to @max. */
static unsigned int tree_pieces(struct iopt_pages *pages, unsigned long index,
				unsigned long last, struct pages_piece *pieces,
				unsigned int max)
{
	MA_STATE(mas, &pages->runs, index, index);
	unsigned int n = 0;
	void *entry;

	mas_lock(&mas);
	mas_for_each(&mas, entry, last) {
		pieces[n] = (struct pages_piece){
			.entry = entry,
			.entry_start = mas.index,
			.first = max(mas.index, index),
			.last = min(mas.last, last),
		};
		if (++n == max)
			break;
	}
	mas_unlock(&mas);
	return n;
}

/* Unpin @npages pages from @pfn on; device memory was never pinned. */
static void pages_unpin_pfns(struct iopt_pages *pages, unsigned long pfn,
			     unsigned long npages)
{
	if (!pages->mmio)
		unpin_user_page_range_dirty_lock(pfn_to_page(pfn), npages,
						 pages->writable);
}

/*
 * Unpin the pages of a piece that has left the tree (or whose tree is
 * about to be destroyed), whole physically contiguous stretches at a
 * time, and free its chunk with the chunk's last index. Returns how many
 * pages it unpinned.
 */
static unsigned long pages_unpin_piece(struct iopt_pages *pages,
				       const struct pages_piece *piece)
{
	unsigned long npages = piece->last - piece->first + 1;
	struct pages_chunk *chunk = piece->entry;
	unsigned long i, lo, hi;

	if (!entry_is_chunk(piece->entry)) {
		i = xa_to_value(piece->entry) +
		    (piece->first - piece->entry_start);
		pages_unpin_pfns(pages, i, npages);
		return npages;
	}
	for (i = piece->first - chunk->base; i <= piece->last - chunk->base;
	     i = hi + 1) {
		pfns_stretch(chunk->pfns, i, i, piece->last - chunk->base,
			     &lo, &hi);
		pages_unpin_pfns(pages, chunk->pfns[i], hi - i + 1);
	}
	/* Nothing else points at it once its last index goes. */
	chunk->live -= npages;
	if (!chunk->live)
		kfree(chunk);
	return npages;
}

static void pages_unpinned(struct iopt_pages *pages, unsigned long npages)
{
	pages->npinned -= npages;
	iopt_pages_uncharge(pages, npages);
	if (!pages->npinned)
		pages->parked = false;
}

/* small_pfns: unpin what is pinned in [first, last] and clear it. */
static void pages_unpin_small(struct iopt_pages *pages, unsigned long first,
			      unsigned long last)
{
	unsigned long i = first, lo, hi, total = 0;

	while (i <= last) {
		if (!pages->small_pfns[i]) {
			i++;
			continue;
		}
		pfns_stretch(pages->small_pfns, i, i, last, &lo, &hi);
		pages_unpin_pfns(pages, pages->small_pfns[i] - 1, hi - i + 1);
		total += hi - i + 1;
		i = hi + 1;
	}
	memset(&pages->small_pfns[first], 0,
	       (last - first + 1) * sizeof(*pages->small_pfns));
	pages_unpinned(pages, total);
}

/*
 * The tree: unpin what is pinned in [first, last] and forget it, a few
 * entries at a time. Each group leaves the tree before its pages are
 * unpinned: taking entries out of a maple tree may need memory (cutting
 * one in two takes a node), and an unpin has no way to fail. When that
 * memory cannot be had, the rest of the range stays pinned, charged and
 * recorded: "parked", taken up again by the next pin of those indexes
 * (pages_pin.c, which finds them with iopt_pages_store_span()) or let go
 * by the next unpin over them or by iopt_pages_release(). So nothing is
 * lost and no allocation has to succeed. Unpinning the whole range
 * erases nothing: the tree is destroyed at the end, which needs no memory
 * and never parks.
 */
static void pages_unpin_tree(struct iopt_pages *pages, unsigned long first,
			     unsigned long last)
{
	bool whole = !first && last == pages->npages - 1;
	struct pages_piece pieces[PAGES_UNPIN_PIECES];
	unsigned long index = first, total = 0;
	unsigned int n, i;

	if (!whole && tree_split_after(pages, last)) {
		pages->parked = true;
		return;
	}
	while (index <= last) {
		n = tree_pieces(pages, index, last, pieces, ARRAY_SIZE(pieces));
		if (!n)
			break;
		if (!whole && tree_store(pages, index, pieces[n - 1].last,
					 NULL)) {
			pages->parked = true;
			break;
		}
		for (i = 0; i != n; i++)
			total += pages_unpin_piece(pages, &pieces[i]);
		index = pieces[n - 1].last + 1;
		/* Only pages->mutex is held: see iopt_pages_unpin(). */
		cond_resched();
	}
	if (whole)
		mtree_destroy(&pages->runs);
	pages_unpinned(pages, total);
}

/**
 * iopt_pages_store_unpin - unpin and forget whatever is pinned in a range
 * @pages: the range of user memory; the caller holds its mutex
 * @first: first page index
 * @last: last page index
 *
 * The pages are unpinned and uncharged. Never fails: where the tree
 * needs memory it cannot have, the pins are parked (pages_unpin_tree()).
 */
void iopt_pages_store_unpin(struct iopt_pages *pages, unsigned long first,
			    unsigned long last)
{
	lockdep_assert_held(&pages->mutex);
	if (iopt_pages_is_small(pages))
		pages_unpin_small(pages, first, last);
	else
		pages_unpin_tree(pages, first, last);
}

/*
 * How many pages from @batch[@i] on, up to @n, are physically contiguous
 * with it (at least 1). The only loop over every page of a pinned batch.
 */
static unsigned long batch_run_len(const unsigned long *batch,
				   unsigned long i, unsigned long n)
{
	unsigned long pfn = batch[i], len = 1;

	while (i + len != n && batch[i + len] == pfn + len)
		len++;
	return len;
}

/* How many runs a batch of @n pages breaks into. */
static unsigned long batch_runs(const unsigned long *batch, unsigned long n)
{
	unsigned long i, runs = 0;

	for (i = 0; i != n; i += batch_run_len(batch, i, n))
		runs++;
	return runs;
}

/* Store a fragmented batch as one chunk entry; see struct pages_chunk. */
static int pages_store_chunk(struct iopt_pages *pages, unsigned long index,
			     const unsigned long *batch, unsigned long n)
{
	struct pages_chunk *chunk;
	unsigned long i;
	int rc;

	chunk = iommufd_fault_hit(IOMMUFD_FAULT_ALLOC) ? NULL :
		kmalloc(struct_size(chunk, pfns, n), GFP_KERNEL_ACCOUNT);
	if (!chunk)
		return -ENOMEM;
	chunk->base = index;
	chunk->live = n;
	for (i = 0; i != n; i++)
		chunk->pfns[i] = batch[i];
	rc = mtree_store_range(&pages->runs, index, index + n - 1, chunk,
			       GFP_KERNEL_ACCOUNT);
	if (rc)
		kfree(chunk);
	return rc;
}

/* A fragmented batch, as chunks of at most a page each. */
static int pages_store_chunks(struct iopt_pages *pages, unsigned long index,
			      const unsigned long *batch, unsigned long n,
			      unsigned long *stored)
{
	unsigned long i, len;
	int rc = 0;

	for (i = 0; i != n; i += len) {
		len = min(n - i, PAGES_CHUNK_MAX);
		rc = pages_store_chunk(pages, index + i, batch + i, len);
		if (rc)
			break;
	}
	*stored = i;
	return rc;
}

/* A batch of few runs, one tree entry per run. */
static int pages_store_runs(struct iopt_pages *pages, unsigned long index,
			    const unsigned long *batch, unsigned long n,
			    unsigned long *stored)
{
	MA_STATE(mas, &pages->runs, 0, 0);
	bool locked = false;
	unsigned long i = 0;
	int rc = 0;

	while (i != n) {
		unsigned long pfn = batch[i];
		unsigned long len = batch_run_len(batch, i, n);
		bool edge;

		/*
		 * Only the first and the last run of a batch can join a
		 * stored one: inside the batch, the pages on either side of
		 * a run are what ended it. So the runs in between go into
		 * the tree in one lock section, without looking around.
		 */
		edge = !i || i + len == n;
		if (edge && locked) {
			mas_unlock(&mas);
			locked = false;
		}
		if (edge) {
			rc = pages_store_run(pages, index + i,
					     index + i + len - 1, pfn, !i,
					     i + len == n);
		} else {
			if (!locked) {
				mas_lock(&mas);
				locked = true;
			}
			rc = tree_store_locked(&mas, index + i,
					       index + i + len - 1, pfn);
		}
		if (rc)
			break;
		i += len;
	}
	if (locked)
		mas_unlock(&mas);
	*stored = i;
	return rc;
}

/**
 * iopt_pages_store_batch - record a batch of freshly pinned pages
 * @pages: the range of user memory; the caller holds its mutex
 * @index: the page index of @batch[0]; none of the @n indexes is stored
 * @batch: the PFNs of the pinned pages, charged to @pages' owner (of
 *	device memory, looked up: neither pinned nor charged)
 * @n: how many
 * @stored: out: how many were recorded, from @index on
 *
 * Records them in small_pfns, as chunks, or as runs. On failure the
 * pages not recorded are unpinned and uncharged here; the *@stored that
 * were recorded are the caller's to unpin (iopt_pages_store_unpin()).
 */
int iopt_pages_store_batch(struct iopt_pages *pages, unsigned long index,
			   const unsigned long *batch, unsigned long n,
			   unsigned long *stored)
{
	unsigned long i;
	int rc = 0;

	if (iopt_pages_is_small(pages)) {
		for (i = 0; i != n; i++)
			pages->small_pfns[index + i] = batch[i] + 1;
		*stored = n;
	} else if (n >= PAGES_CHUNK_MIN &&
		   batch_runs(batch, n) * PAGES_CHUNK_RUN_PAGES > n) {
		rc = pages_store_chunks(pages, index, batch, n, stored);
	} else {
		rc = pages_store_runs(pages, index, batch, n, stored);
	}
	if (rc) {
		for (i = *stored; i != n; i++)
			pages_unpin_pfns(pages, batch[i], 1);
		iopt_pages_uncharge(pages, n - *stored);
	}
	pages->npinned += *stored;
	return rc;
}

/**
 * __iopt_pages_runs - read the runs of pinned pages over a range
 * @pages: the range of user memory
 * @index: first page index; [index, last] must be pinned by a holder the
 *	caller owns
 * @last: last page index
 * @runs: out: the runs from @index on, in order, clipped to [index, last]
 * @max: room in @runs
 *
 * Returns how many runs were stored: fewer than @max only when they reach
 * @last, or stop at an index that is not pinned (0 if @index is not: the
 * caller fails rather than map anything). Reading many runs this way
 * costs one walk of the store, where iopt_pages_contig() costs one per
 * run; fragmented 4K memory has a run every few pages.
 */
unsigned int __iopt_pages_runs(struct iopt_pages *pages, unsigned long index,
			       unsigned long last, struct iopt_run *runs,
			       unsigned int max)
{
	unsigned int n = 0;

	if (!iopt_pages_is_small(pages))
		return tree_runs(pages, index, last, runs, max);
	while (n != max && index <= last) {
		unsigned long start, end;
		void *entry = small_run_at(pages, index, &start, &end);

		if (!entry)
			break;
		runs[n] = (struct iopt_run){
			.index = index,
			.npages = min(end, last) - index + 1,
			.pfn = xa_to_value(entry) + (index - start),
		};
		index += runs[n++].npages;
	}
	return n;
}

/**
 * iopt_pages_contig - find a physically contiguous run of pinned pages
 * @pages: the range of user memory
 * @index: first page index; must be pinned by a holder the caller owns
 * @max: look at most this many pages far
 * @pfn: out: the PFN of @index
 *
 * Returns how many pages from @index on (at most @max) have consecutive
 * PFNs: the rest of the stored run, found in one lookup. The caller's pin
 * keeps the run in place. 0 if @index is not pinned after all, so the
 * caller fails instead of using a PFN that means nothing.
 */
unsigned long iopt_pages_contig(struct iopt_pages *pages, unsigned long index,
				unsigned long max, unsigned long *pfn)
{
	unsigned long start, last, n;
	void *entry;

	*pfn = 0;
	entry = pages_run_at(pages, index, &start, &last);
	if (!entry)
		return 0;
	*pfn = xa_to_value(entry) + (index - start);
	n = last - index + 1;
	/*
	 * In the tree the run may go on in the next entry, past a chunk's
	 * edge; small_pfns' stretch is already whole.
	 */
	while (!iopt_pages_is_small(pages) && n < max) {
		entry = pages_run_at(pages, index + n, &start, &last);
		if (!entry || xa_to_value(entry) + (index + n - start) != *pfn + n)
			break;
		n = last - index + 1;
	}
	return min(max, n);
}
