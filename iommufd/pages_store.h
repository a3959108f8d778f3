/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The run store of the pages layer (pages_store.c), as the pages files
 * above it use it: record what was pinned, find what is recorded, forget
 * and unpin. Its readers' half, iopt_pages_runs() and
 * iopt_pages_contig(), is in pages.h, for the layers above the pages.
 * Every function here is called with the pages object's mutex held.
 */
#ifndef IOMMUFD_PAGES_STORE_H
#define IOMMUFD_PAGES_STORE_H

#include <linux/mm.h>

#include "pages.h"
#include "pages_owner.h"

/* pages_store.c */
int iopt_pages_store_batch(struct iopt_pages *pages, unsigned long index,
			   const unsigned long *batch, unsigned long n,
			   unsigned long *stored);
bool iopt_pages_store_span(struct iopt_pages *pages, unsigned long index,
			   unsigned long *last);
void iopt_pages_store_unpin(struct iopt_pages *pages, unsigned long first,
			    unsigned long last);

/*
 * The store of a one-page range, inline for the path of every one-page
 * map and unmap (pages_pin.c): record @page, pinned and charged, as its
 * only index.
 */
static __always_inline void iopt_pages_store_single(struct iopt_pages *pages,
						    struct page *page)
{
	lockdep_assert_held(&pages->mutex);
	pages->small_pfns[0] = page_to_pfn(page) + 1;
	pages->npinned = 1;
}

/* Forget, unpin and uncharge the page of a one-page range. */
static __always_inline void
iopt_pages_store_unpin_single(struct iopt_pages *pages)
{
	struct page *page = pfn_to_page(pages->small_pfns[0] - 1);

	lockdep_assert_held(&pages->mutex);
	pages->small_pfns[0] = 0;
	pages->npinned = 0;
	unpin_user_page_range_dirty_lock(page, 1, pages->writable);
	iopt_pages_uncharge(pages, 1);
}

#endif
