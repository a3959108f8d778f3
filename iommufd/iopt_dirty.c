// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty tracking over the IOVA space: the range checks of
 * IOMMU_HWPT_GET_DIRTY_BITMAP and the walk that turns what a domain's
 * driver reports into the caller's bitmap.
 *
 * The walk follows the areas, not the range: it visits the IOVA that is
 * mapped, window by window of the bitmap (four pages of bits each), and
 * skips the windows nothing is mapped in, so its cost grows with what is
 * mapped. The driver records into a kernel window (dirty.h), which is
 * then written to the user's bitmap in one of two ways:
 *  - upstream iommufd's (the default): bits are only ever set. The
 *    window's user words are read, ORed into and the words from the
 *    first to the last that got a bit written back;
 *  - VFIO type1's (IOPT_DIRTY_OVERWRITE): every word an area's bits fall
 *    in is written whole, as type1 copies each mapping's bitmap out, so
 *    the bits of such a word that no area covers become 0; but a word an
 *    area starts inside of, with no earlier area in it, is ORed with the
 *    user's word, as type1 ORs in the whole word it reads there. Words no
 *    area touches are left alone. Only those first words are read: the
 *    rest is built in the kernel and written with one copy per run of
 *    words. (type1 also keeps the bits it ORed in for later reads of
 *    that mapping; that is a bug of type1's this does not copy.)
 * Either way every user word that will be written is proved writable
 * before the driver is asked, so a bad bitmap pointer fails before that
 * window's dirty state is cleared; a failure in a later window leaves the
 * earlier ones reported and cleared, as upstream's walk does.
 */
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

#include "../uapi/linux/iommufd.h"
#include "dirty.h"
#include "fault.h"
#include "iopt_internal.h"

/*
 * A window: four pages of bitmap (512 MiB of IOVA at 4 KiB a bit), so the
 * fixed cost of a window (looking the areas up, proving the words
 * writable, asking the reader) is small beside the bits themselves.
 */
#define DIRTY_WINDOW_BYTES (4 * PAGE_SIZE)
#define DIRTY_WINDOW_BITS (DIRTY_WINDOW_BYTES * BITS_PER_BYTE)
#define DIRTY_WINDOW_WORDS (DIRTY_WINDOW_BYTES / sizeof(u64))

/**
 * iopt_check_dirty_range - upstream's checks of a dirty bitmap request
 * @iopt: the address space, for its IOVA alignment
 * @iova: first IOVA
 * @length: bytes
 * @page_size: bytes per bit
 *
 * In upstream 6.12's order: EINVAL for a zero @length, EOVERFLOW if the
 * range wraps or does not fit an unsigned long, EINVAL if it is not
 * aligned to the IOVA alignment, EINVAL for a zero @page_size or a range
 * not aligned to it. Last, ours: EINVAL for a @page_size that is not a
 * power of two, which upstream would silently read as its lowest bit.
 */
int iopt_check_dirty_range(struct io_pagetable *iopt, u64 iova, u64 length,
			   u64 page_size)
{
	u64 align = READ_ONCE(iopt->iova_alignment);
	u64 last;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if (iova > ULONG_MAX || last > ULONG_MAX)
		return -EOVERFLOW;
	if ((iova & (align - 1)) || ((last + 1) & (align - 1)))
		return -EINVAL;
	if (!page_size)
		return -EINVAL;
	if ((iova & (page_size - 1)) || ((last + 1) & (page_size - 1)))
		return -EINVAL;
	if (!is_power_of_2(page_size))
		return -EINVAL;
	return 0;
}

/* Every IOVA of [iova, last] is in a ready area; holes are EINVAL. */
static int dirty_check_covered(struct io_pagetable *iopt, unsigned long iova,
			       unsigned long last)
{
	unsigned long cur = iova;
	struct iopt_area *area;

	for (area = area_first(iopt, iova, last); area;
	     area = area_next(area, iova, last)) {
		if (!area->ready || area->node.start > cur)
			return -EINVAL;
		if (area->node.last >= last)
			return 0;
		cur = area->node.last + 1;
		cond_resched();
	}
	return -EINVAL;
}

/* The first ready area at or after @cur, up to @last. */
static struct iopt_area *dirty_next_area(struct io_pagetable *iopt,
					 unsigned long cur, unsigned long last)
{
	struct iopt_area *area;

	for (area = area_first(iopt, cur, last); area;
	     area = area_next(area, cur, last))
		if (area->ready)
			return area;
	return NULL;
}

/**
 * struct dirty_walk - one GET_DIRTY_BITMAP-style read in progress
 * @read: the domain's reader
 * @ctx: its first argument
 * @flags: passed to @read (IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR)
 * @iova: IOVA of bit 0 of the user's bitmap
 * @data: the user's bitmap
 * @win: the current window; @win.bits is DIRTY_WINDOW_BYTES
 * @words: DIRTY_WINDOW_BYTES: the user's words to merge with (OR), or, for the
 *	words in @kept, the user's word to OR in (IOPT_DIRTY_OVERWRITE)
 * @overwrite: IOPT_DIRTY_OVERWRITE
 * @area_all: IOPT_DIRTY_AREA_ALL
 * @touched: the words of the window an area's bits fall in: read and
 *	written back (OR), or written whole (IOPT_DIRTY_OVERWRITE)
 * @kept: IOPT_DIRTY_OVERWRITE: the words of @words that were read
 */
struct dirty_walk {
	iopt_dirty_read_fn read;
	void *ctx;
	unsigned long flags;
	unsigned long iova;
	u64 __user *data;
	struct iommufd_dirty_bits win;
	unsigned long *words;
	bool overwrite;
	bool area_all;
	DECLARE_BITMAP(touched, DIRTY_WINDOW_WORDS);
	DECLARE_BITMAP(kept, DIRTY_WINDOW_WORDS);
};

/*
 * Write back, unchanged, one word in each page that @nwords words at
 * @uwords span: that proves them all writable (fault_in_writeable()
 * would not do here: it stores zeroes), at a word a page instead of a
 * copy of them all. A word across a page boundary proves both pages.
 */
static int dirty_prove_writable(u64 __user *uwords, const unsigned long *words,
				unsigned long nwords)
{
	unsigned long i = 0;

	while (i < nwords) {
		unsigned long off = offset_in_page(uwords + i);

		if (iommufd_copy_to_user(uwords + i, &words[i], sizeof(u64)))
			return -EFAULT;
		i += DIV_ROUND_UP(PAGE_SIZE - off, sizeof(u64));
	}
	return 0;
}

/*
 * [start, end] of @area, marked all dirty: record it, and a clearing read
 * that reaches the area's last byte ends the mark, as type1 reports a
 * mapping's full bitmap once.
 */
static void dirty_area_all(struct dirty_walk *walk, struct iopt_area *area,
			   unsigned long start, unsigned long end)
{
	iommufd_dirty_record(&walk->win, start, end - start + 1);
	if (!(walk->flags & IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) &&
	    end == area->node.last)
		area->dirty_all = false;
}

/* Ask the reader about every ready area inside the window. */
static int dirty_read_areas(struct io_pagetable *iopt, struct dirty_walk *walk)
{
	unsigned long first = walk->win.iova, last = walk->win.last;
	struct iopt_area *area;
	int rc;

	walk->win.any = false;
	for (area = area_first(iopt, first, last); area;
	     area = area_next(area, first, last)) {
		unsigned long start = max(area->node.start, first);
		unsigned long end = min(area->node.last, last);

		if (!area->ready)
			continue;
		if (walk->area_all && area->dirty_all)
			dirty_area_all(walk, area, start, end);
		rc = walk->read(walk->ctx, start, end - start + 1, walk->flags,
				&walk->win);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Before the reader: the words of the window the ready areas' bits fall
 * in (@touched; no bit can land elsewhere), and with IOPT_DIRTY_OVERWRITE,
 * for a word an area starts inside of with no earlier area in it, the
 * user's word (@kept: read now, ORed in later, as type1 does).
 */
static int dirty_plan(struct io_pagetable *iopt, struct dirty_walk *walk,
		      u64 __user *uwords, unsigned long nwords)
{
	unsigned long first = walk->win.iova, last = walk->win.last;
	unsigned int pgshift = walk->win.pgshift;
	struct iopt_area *area;

	bitmap_zero(walk->touched, nwords);
	bitmap_zero(walk->kept, nwords);
	for (area = area_first(iopt, first, last); area;
	     area = area_next(area, first, last)) {
		unsigned long fbit, lbit, fword;
		u64 user;

		if (!area->ready)
			continue;
		fbit = (max(area->node.start, first) - first) >> pgshift;
		lbit = (min(area->node.last, last) - first) >> pgshift;
		fword = fbit / 64;
		if (walk->overwrite && fbit % 64 &&
		    !test_bit(fword, walk->touched)) {
			if (iommufd_copy_from_user(&user, uwords + fword,
						   sizeof(user)))
				return -EFAULT;
			walk->words[fword] = user;
			__set_bit(fword, walk->kept);
		}
		bitmap_set(walk->touched, fword, lbit / 64 - fword + 1);
	}
	return 0;
}

/* The next run of touched words at or after @from: its start and end. */
static bool dirty_next_run(struct dirty_walk *walk, unsigned long nwords,
			   unsigned long from, unsigned long *start,
			   unsigned long *end)
{
	*start = find_next_bit(walk->touched, nwords, from);
	if (*start >= nwords)
		return false;
	*end = find_next_zero_bit(walk->touched, nwords, *start);
	return true;
}

/*
 * Everything that can fail comes before the driver clears anything, so a
 * failed window leaves its dirty state for the next read: each run of
 * touched words is read (to OR into) and proved writable, or, to be
 * overwritten, faulted in writable (fault_in_writeable() stores zeroes,
 * but only into words about to be written whole, after the kept words
 * were read). The runs are zeroed in the window for the reader.
 */
static int dirty_prepare_runs(struct dirty_walk *walk, u64 __user *uwords,
			      unsigned long nwords)
{
	unsigned long start, end = 0, n;

	while (dirty_next_run(walk, nwords, end, &start, &end)) {
		n = end - start;
		if (walk->overwrite) {
			if (fault_in_writeable((char __user *)(uwords + start),
					       n * sizeof(u64)))
				return -EFAULT;
		} else if (iommufd_copy_from_user(walk->words + start,
						  uwords + start,
						  n * sizeof(u64)) ||
			   dirty_prove_writable(uwords + start,
						walk->words + start, n)) {
			return -EFAULT;
		}
		memset(walk->win.bits + start, 0, n * sizeof(u64));
	}
	return 0;
}

/*
 * After the reader: OR in the user's words (all of them, or the kept
 * ones) and write each run of touched words with one copy. The memory
 * was proved writable, so this fails only if the caller unmapped or
 * protected its bitmap during the call.
 */
static int dirty_write_runs(struct dirty_walk *walk, u64 __user *uwords,
			    unsigned long nwords)
{
	unsigned long *bits = walk->win.bits, start, end = 0, i;

	if (walk->overwrite) {
		for_each_set_bit(i, walk->kept, nwords)
			bits[i] |= walk->words[i];
	} else if (!walk->win.any) {
		return 0;
	}
	while (dirty_next_run(walk, nwords, end, &start, &end)) {
		if (!walk->overwrite)
			for (i = start; i != end; i++)
				bits[i] |= walk->words[i];
		if (copy_to_user(uwords + start, bits + start,
				 (end - start) * sizeof(u64)))
			return -EFAULT;
	}
	return 0;
}

/* Read every ready area inside the window and write what it reports. */
static int dirty_read_window(struct io_pagetable *iopt,
			     struct dirty_walk *walk, unsigned long nbits)
{
	unsigned long first_bit = (walk->win.iova - walk->iova) >>
				  walk->win.pgshift;
	unsigned long nwords = BITS_TO_LONGS(nbits);
	u64 __user *uwords = walk->data + first_bit / 64;
	int rc;

	rc = dirty_plan(iopt, walk, uwords, nwords);
	if (!rc)
		rc = dirty_prepare_runs(walk, uwords, nwords);
	if (!rc)
		rc = dirty_read_areas(iopt, walk);
	if (!rc)
		rc = dirty_write_runs(walk, uwords, nwords);
	return rc;
}

/**
 * iopt_read_dirty - collect a domain's dirty state into a user bitmap
 * @iopt: the address space
 * @read: reads and clears the dirty state of part of one area
 * @ctx: @read's first argument (the domain, or the caller's own)
 * @iova: IOVA of bit 0, checked by iopt_check_dirty_range()
 * @length: bytes, likewise
 * @page_size: bytes per bit, likewise
 * @data: the user's bitmap of u64 words
 * @flags: IOPT_DIRTY_* bits
 *
 * With IOPT_DIRTY_OVERWRITE the user's words are written as VFIO type1
 * writes them (see the top of this file), else bits are only set.
 * Without IOPT_DIRTY_HOLES_OK every IOVA of the range must be mapped
 * (EINVAL otherwise, before anything is read), as upstream requires; with
 * it, holes are skipped, as VFIO type1 allows. @read is called with
 * iova_rwsem held for read, so no area in the range can be unmapped under
 * it. Returns 0, -ENOMEM, -EFAULT or @read's error.
 */
int iopt_read_dirty(struct io_pagetable *iopt, iopt_dirty_read_fn read,
		    void *ctx, unsigned long iova, unsigned long length,
		    unsigned long page_size, u64 __user *data,
		    unsigned int flags)
{
	unsigned long last = iova + length - 1, cur = iova;
	struct dirty_walk walk = {
		.read = read,
		.ctx = ctx,
		.flags = (flags & IOPT_DIRTY_NO_CLEAR) ?
				 IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR : 0,
		.iova = iova,
		.data = data,
		.overwrite = flags & IOPT_DIRTY_OVERWRITE,
		.area_all = flags & IOPT_DIRTY_AREA_ALL,
		.win.pgshift = __ffs(page_size),
	};
	unsigned int pgshift = walk.win.pgshift;
	struct iopt_area *area;
	unsigned long nwords;
	int rc = 0;

	/*
	 * The window and the user's words: up to 32 KiB, less for a range
	 * with fewer bits (its one window is no bigger), not zeroed (each
	 * window zeroes what it uses); @touched and @kept are on the stack.
	 */
	nwords = min_t(unsigned long, DIRTY_WINDOW_WORDS,
		       ((last - iova) >> pgshift) / BITS_PER_LONG + 1);
	walk.win.bits = iommufd_kvmalloc_array(2 * nwords,
					       sizeof(unsigned long));
	if (!walk.win.bits)
		return -ENOMEM;
	walk.words = walk.win.bits + nwords;

	down_read(&iopt->iova_rwsem);
	if (!(flags & IOPT_DIRTY_HOLES_OK)) {
		rc = dirty_check_covered(iopt, iova, last);
		if (rc)
			goto out_unlock;
	}
	while ((area = dirty_next_area(iopt, cur, last))) {
		unsigned long bit, nbits;

		/* Skip to the window holding the next mapped IOVA. */
		if (area->node.start > cur) {
			bit = (area->node.start - iova) >> pgshift;
			cur = iova + ((bit - bit % DIRTY_WINDOW_BITS) << pgshift);
		}
		nbits = min(DIRTY_WINDOW_BITS, ((last - cur) >> pgshift) + 1);
		walk.win.iova = cur;
		walk.win.last = cur + (nbits << pgshift) - 1;
		rc = dirty_read_window(iopt, &walk, nbits);
		if (rc || walk.win.last == last)
			break;
		cur = walk.win.last + 1;
		cond_resched();
	}
out_unlock:
	up_read(&iopt->iova_rwsem);
	kvfree(walk.win.bits);
	return rc;
}

/**
 * iopt_clear_dirty - forget the dirty state of everything mapped
 * @iopt: the address space
 * @read: as for iopt_read_dirty(); called with no bitmap
 * @ctx: its first argument
 *
 * Before tracking starts, so the first read reports only what was written
 * since. Returns @read's error.
 */
int iopt_clear_dirty(struct io_pagetable *iopt, iopt_dirty_read_fn read,
		     void *ctx)
{
	struct iopt_area *area;
	int rc = 0;

	down_read(&iopt->iova_rwsem);
	for (area = area_first(iopt, 0, ULONG_MAX); area && !rc;
	     area = area_next(area, 0, ULONG_MAX)) {
		if (area->ready)
			rc = read(ctx, area->node.start, area_length(area), 0,
				  NULL);
		cond_resched();
	}
	up_read(&iopt->iova_rwsem);
	return rc;
}

/**
 * iopt_dirty_mark_all - mark every area all dirty, or no area
 * @iopt: the address space
 * @dirty: mark (reads with IOPT_DIRTY_AREA_ALL report each area whole
 *	until a clearing read covered it), or unmark every area
 *
 * The caller serializes this with its reads (see iopt_area::dirty_all).
 * Areas mapped later start unmarked; unmapped ones take their mark along.
 */
void iopt_dirty_mark_all(struct io_pagetable *iopt, bool dirty)
{
	struct iopt_area *area;

	down_read(&iopt->iova_rwsem);
	for (area = area_first(iopt, 0, ULONG_MAX); area;
	     area = area_next(area, 0, ULONG_MAX)) {
		area->dirty_all = dirty;
		cond_resched();
	}
	up_read(&iopt->iova_rwsem);
}
