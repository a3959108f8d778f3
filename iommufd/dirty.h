/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Dirty tracking: how an IOMMU driver hands the written IOPTEs of a range
 * to the core. The core lends the driver a kernel bitmap covering one
 * window of IOVA, one bit per page of the size the caller asked for, and
 * the driver marks what it found dirty with iommufd_dirty_record(). The
 * core then merges the window into the user's bitmap (iopt_dirty.c). The
 * driver never sees user memory, so it may record under its own spinlock.
 */
#ifndef IOMMUFD_DIRTY_H
#define IOMMUFD_DIRTY_H

#include <linux/bitmap.h>
#include <linux/minmax.h>
#include <linux/types.h>

/**
 * struct iommufd_dirty_bits - one window of a dirty bitmap
 * @iova: IOVA of bit 0
 * @last: last IOVA the window covers
 * @pgshift: log2 of the bytes each bit stands for
 * @bits: the bitmap, (@last - @iova + 1) >> @pgshift bits
 * @any: a bit was recorded
 */
struct iommufd_dirty_bits {
	unsigned long iova;
	unsigned long last;
	unsigned int pgshift;
	unsigned long *bits;
	bool any;
};

/*
 * Mark [iova, iova + length - 1] written: every bit whose page overlaps
 * it, so a large IOPTE sets the bit of every page under it and an IOPTE
 * smaller than a page sets its page's bit. The part outside the window is
 * ignored. @dirty NULL: the caller only clears the IOPTEs' dirty state.
 */
static inline void iommufd_dirty_record(struct iommufd_dirty_bits *dirty,
					unsigned long iova,
					unsigned long length)
{
	unsigned long last = iova + length - 1, first_bit, last_bit;

	if (!dirty || last < dirty->iova || iova > dirty->last)
		return;
	iova = max(iova, dirty->iova);
	last = min(last, dirty->last);
	first_bit = (iova - dirty->iova) >> dirty->pgshift;
	last_bit = (last - dirty->iova) >> dirty->pgshift;
	bitmap_set(dirty->bits, first_bit, last_bit - first_bit + 1);
	dirty->any = true;
}

#endif
