// SPDX-License-Identifier: GPL-2.0
/*
 * The reader of the pages layer: copies between a kernel buffer and the
 * user memory of an iopt_pages (an access's read and write), whether or
 * not the pages are pinned. It needs nothing of the pins: it copies
 * through the owner's address space (pages_owner.h), pinning each page
 * only for the length of its copy.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/uaccess.h>

#include "fault.h"
#include "pages_owner.h"

static void pages_copy_page(struct page *page, unsigned long offset,
			    void *data, unsigned long len, bool write)
{
	void *vaddr = kmap_local_page(page);

	if (write)
		memcpy(vaddr + offset, data, len);
	else
		memcpy(data, vaddr + offset, len);
	kunmap_local(vaddr);
}

/*
 * Copy through the page at @index if it is pinned (for a domain or an
 * access): @mutex keeps it pinned meanwhile. A write dirties it for the
 * unpin, which marks writable pages dirty. -ENOENT if it is not pinned.
 */
static int pages_rw_pinned(struct iopt_pages *pages, unsigned long index,
			   unsigned long offset, void *data, unsigned long len,
			   bool write)
{
	unsigned long pfn;
	int rc = -ENOENT;

	mutex_lock(&pages->mutex);
	if (iopt_pages_contig(pages, index, 1, &pfn)) {
		pages_copy_page(pfn_to_page(pfn), offset, data, len, write);
		rc = 0;
	}
	mutex_unlock(&pages->mutex);
	return rc;
}

/*
 * Copy one page's part from the pinned page if there is one, which still
 * works after the process that mapped the memory has exited, as
 * upstream; else through a temporary (short-term) pin, which fails with
 * -EFAULT once that address space is gone.
 */
static int pages_rw_page(struct iopt_pages *pages, unsigned long index,
			 unsigned long offset, void *data, unsigned long len,
			 bool write)
{
	struct page *page;
	long got;
	int rc;

	rc = pages_rw_pinned(pages, index, offset, data, len, write);
	if (rc != -ENOENT)
		return rc;
	got = iopt_pages_gup(pages, index, 1, write ? FOLL_WRITE : 0, &page,
			     false);
	if (got != 1)
		return got < 0 ? got : -EFAULT;
	pages_copy_page(page, offset, data, len, write);
	unpin_user_pages_dirty_lock(&page, 1, write);
	return 0;
}

static int pages_rw_remote(struct iopt_pages *pages, unsigned long start_byte,
			   void *data, unsigned long length, bool write)
{
	while (length) {
		unsigned long offset = start_byte % PAGE_SIZE;
		unsigned long len = min(length, PAGE_SIZE - offset);
		int rc;

		rc = pages_rw_page(pages, start_byte >> PAGE_SHIFT, offset,
				   data, len, write);
		if (rc)
			return rc;
		start_byte += len;
		data += len;
		length -= len;
	}
	return 0;
}

/**
 * iopt_pages_rw - copy between a kernel buffer and the user memory
 * @pages: the range of user memory
 * @start_byte: offset of the first byte from @pages->uptr
 * @data: the kernel buffer
 * @length: bytes to copy
 * @flags: IOPT_RW_* flags
 *
 * Works whether or not the pages are pinned, from any context that may
 * sleep. Returns 0 or -EFAULT if the memory is not there (any more) or
 * is device memory.
 */
int iopt_pages_rw(struct iopt_pages *pages, unsigned long start_byte,
		  void *data, unsigned long length, unsigned int flags)
{
	void __user *uaddr = pages->uptr + start_byte;
	bool write = flags & IOPT_RW_WRITE;

	if (WARN_ON(start_byte + length > pages->npages << PAGE_SHIFT))
		return -EINVAL;
	if (write && !pages->writable)
		return -EPERM;
	/* Device memory: no pages to copy through (as for access pins). */
	if (pages->mmio)
		return -EFAULT;
	if (!(flags & IOPT_RW_REMOTE) && current->mm == pages->owner->mm) {
		if (write ? iommufd_copy_to_user(uaddr, data, length) :
			    iommufd_copy_from_user(data, uaddr, length))
			return -EFAULT;
		return 0;
	}
	return pages_rw_remote(pages, start_byte, data, length, write);
}
