// SPDX-License-Identifier: GPL-2.0
/*
 * The pages object: making and freeing struct iopt_pages, the description
 * of a range of user memory that the pages layer pins. Its memory comes
 * from a kmem_cache of the exact size of one-page objects (what a VMM
 * mapping page by page allocates), kept per context in a small cache of
 * freed objects (struct iopt_pages_cache), or from kmalloc() for other
 * sizes.
 *
 * It uses the owner (pages_owner.c) and the run store (pages_store.c),
 * to let go of parked pins at release; pages.h has the order of the
 * pages files.
 */
#include <linux/file.h>
#include <linux/kref.h>
#include <linux/maple_tree.h>
#include <linux/mm.h>
#include <linux/poison.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "fault.h"
#include "pages_owner.h"
#include "pages_store.h"

/*
 * Objects of one-page ranges, with the caller's extra bytes: what every
 * one-page MAP allocates. A cache of their exact size, so a burst of maps
 * and unmaps recycles its objects through the slab's per-CPU lists
 * without the rounding of kmalloc(), with every slab debugging and
 * hardening option (KASAN, init_on_free, SLAB_FREELIST_HARDENED) applied.
 * Objects of other sizes come from kmalloc(). These three are set at
 * module load and only read after.
 */
static struct kmem_cache *iopt_pages_slab;
static size_t iopt_pages_slab_size;
/* Mixed into the links of the contexts' free lists: see pages_link(). */
static unsigned long iopt_pages_link_secret;

void iopt_pages_cache_init(struct iopt_pages_cache *cache)
{
	spin_lock_init(&cache->lock);
	cache->free = NULL;
	cache->count = 0;
	cache->owner = NULL;
}

/* The bytes of a pages object for @npages pages, before any extra. */
static size_t pages_object_size(unsigned long npages)
{
	struct iopt_pages *pages;

	return ALIGN(struct_size(pages, small_pfns,
				 iopt_pages_small_count(npages)),
		     ARCH_KMALLOC_MINALIGN);
}

/**
 * iopt_pages_init - set up the pages layer, at module load
 * @one_page_extra: the extra bytes the caller allocates with a one-page
 *	object (see iopt_pages_alloc()); such objects get a cache of their own
 */
int iopt_pages_init(size_t one_page_extra)
{
	iopt_pages_slab_size = pages_object_size(1) + one_page_extra;
	iopt_pages_link_secret = get_random_long();
	iopt_pages_slab = kmem_cache_create("iommufd_pages",
					    iopt_pages_slab_size, 0,
					    SLAB_ACCOUNT, NULL);
	return iopt_pages_slab ? 0 : -ENOMEM;
}

/* At module unload, once every object is gone. */
void iopt_pages_exit(void)
{
	kmem_cache_destroy(iopt_pages_slab);
}

/* Whether an object of @npages pages and @size bytes uses the cache. */
static bool pages_use_slab(unsigned long npages, size_t size)
{
	return npages == 1 && size <= iopt_pages_slab_size;
}

/*
 * A cached object's first word links it to the next one. As the slab
 * does with SLAB_FREELIST_HARDENED, the link is stored mixed with the
 * object's address and a random secret, so that a write after free
 * cannot plant a pointer the next allocation would follow.
 */
static unsigned long pages_link(void *obj, void *next)
{
	return (unsigned long)next ^ (unsigned long)obj ^ iopt_pages_link_secret;
}

static void *pages_unlink(void *obj)
{
	return (void *)(*(unsigned long *)obj ^ (unsigned long)obj ^
			iopt_pages_link_secret);
}

/*
 * KASAN cannot see a use after free of an object that went to the cache
 * instead of the slab (its mempool hooks are not exported to modules), so
 * under KASAN every cached object is filled with POISON_FREE after its
 * link and checked when taken again: a write after free is reported and
 * the object is not reused. The cache itself runs in KASAN builds like
 * everywhere else.
 */
static void pages_cache_poison(void *obj)
{
	if (IS_ENABLED(CONFIG_KASAN))
		memset(obj + sizeof(long), POISON_FREE,
		       iopt_pages_slab_size - sizeof(long));
}

static bool pages_cache_intact(void *obj)
{
	void *bad;

	if (!IS_ENABLED(CONFIG_KASAN))
		return true;
	bad = memchr_inv(obj + sizeof(long), POISON_FREE,
			 iopt_pages_slab_size - sizeof(long));
	if (bad)
		pr_err("iommufd: pages object %p written at +%td after free\n",
		       obj, bad - obj);
	return !bad;
}

/* Free the cached objects and the owner; nothing may use the cache any more. */
void iopt_pages_cache_drain(struct iopt_pages_cache *cache)
{
	if (cache->owner)
		iopt_owner_put(cache->owner);
	cache->owner = NULL;
	while (cache->free) {
		void *obj = cache->free;

		cache->free = pages_unlink(obj);
		kmem_cache_free(iopt_pages_slab, obj);
	}
	cache->count = 0;
}

/* A cached object, not zeroed, or NULL. */
static void *pages_cache_pop(struct iopt_pages_cache *cache)
{
	void *obj = cache->free;

	lockdep_assert_held(&cache->lock);
	if (!obj)
		return NULL;
	cache->free = pages_unlink(obj);
	cache->count--;
	if (pages_cache_intact(obj))
		return obj;
	/* Corrupted: never hand it out again (nor free what may be live). */
	return NULL;
}

/*
 * Keep a freed one-page object for the context's next map if there is
 * room; false if it must go back to the slab.
 */
static bool pages_cache_put(struct iopt_pages_cache *cache, void *obj)
{
	bool kept = false;

	spin_lock(&cache->lock);
	if (cache->count < IOPT_PAGES_CACHE_MAX) {
		pages_cache_poison(obj);
		*(unsigned long *)obj = pages_link(obj, cache->free);
		cache->free = obj;
		cache->count++;
		kept = true;
	}
	spin_unlock(&cache->lock);
	return kept;
}

static void pages_free_memory(struct iopt_pages_cache *cache, void *obj,
			      unsigned long npages, size_t size)
{
	if (!pages_use_slab(npages, size))
		kfree(obj);
	else if (!cache || !pages_cache_put(cache, obj))
		kmem_cache_free(iopt_pages_slab, obj);
}

/*
 * Memory for a pages object of @npages pages, @size bytes, and its
 * owner's reference: from the context's cache, in one lock section, when
 * it has them; else freshly made.
 */
static struct iopt_pages *pages_obtain(struct iopt_pages_cache *cache,
				       unsigned long npages, size_t size,
				       struct iopt_owner **owner)
{
	bool slab = pages_use_slab(npages, size);
	struct iopt_pages *pages = NULL;

	*owner = NULL;
	if (cache) {
		spin_lock(&cache->lock);
		if (slab)
			pages = pages_cache_pop(cache);
		*owner = iopt_owner_get_cached(cache);
		spin_unlock(&cache->lock);
	}
	if (!*owner)
		*owner = iopt_owner_new(cache);
	if (!pages)
		pages = slab ? kmem_cache_alloc(iopt_pages_slab,
						GFP_KERNEL_ACCOUNT) :
			       kmalloc(size, GFP_KERNEL_ACCOUNT);
	if (pages && *owner)
		return pages;
	if (pages)
		pages_free_memory(cache, pages, npages, size);
	if (*owner)
		iopt_owner_put(*owner);
	return NULL;
}

/*
 * Whether [@start, @end) of current's address space is device memory:
 * a VM_IO or VM_PFNMAP mapping (a BAR mmapped through VFIO), which has
 * no struct page to pin. Its file comes back with a reference in *@file.
 * Such a mapping that does not cover the whole range: -EFAULT, as
 * memory that is not there. With @nowait, -EAGAIN rather than wait for
 * the mm's lock.
 */
static int pages_probe_mmio(unsigned long start, unsigned long end,
			    bool nowait, bool *mmio, struct file **file)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	int rc = 0;

	*mmio = false;
	*file = NULL;
	if (!mm)
		return 0;
	if (!nowait)
		mmap_read_lock(mm);
	else if (!mmap_read_trylock(mm))
		return -EAGAIN;
	vma = vma_lookup(mm, start);
	if (vma && (vma->vm_flags & (VM_IO | VM_PFNMAP))) {
		if (end > vma->vm_end) {
			rc = -EFAULT;
		} else {
			*mmio = true;
			if (vma->vm_file)
				*file = get_file(vma->vm_file);
		}
	}
	mmap_read_unlock(mm);
	return rc;
}

/**
 * iopt_pages_alloc - describe a range of user memory, pinning nothing yet
 * @cache: the context's cache, where the object is taken from and goes
 *	back to when it fits, and whose last owner is reused when it is
 *	current's (NULL: straight from and back to the slab, a new owner)
 * @uptr: start of the range in current's address space
 * @length: bytes
 * @writable: whether the range may be pinned for device writes
 * @mode: how its pins are charged
 * @extra_size: bytes the caller wants allocated along with the object
 * @extra: out: the caller's @extra_size bytes, zeroed; they live exactly
 *	as long as the object. This saves the layer above a second
 *	allocation for what it creates with every new range (its first
 *	area), which matters to VMMs mapping page after page.
 * @nowait: the caller must not sleep: -EAGAIN where it would wait for the
 *	mm's lock (to tell device memory from RAM)
 */
struct iopt_pages *iopt_pages_alloc(struct iopt_pages_cache *cache,
				    void __user *uptr, unsigned long length,
				    bool writable, enum iopt_account_mode mode,
				    size_t extra_size, void **extra,
				    bool nowait)
{
	unsigned long start = (unsigned long)uptr;
	struct file *mmio_file;
	struct iopt_owner *owner;
	struct iopt_pages *pages;
	unsigned long end, npages;
	size_t size;
	bool mmio;
	int rc;

	/* As upstream: a length no size_t of pages can hold is EINVAL. */
	if (!length || length > SIZE_MAX - PAGE_SIZE)
		return ERR_PTR(-EINVAL);
	if (check_add_overflow(start, length, &end) ||
	    end > ULONG_MAX - PAGE_SIZE)
		return ERR_PTR(-EOVERFLOW);

	npages = (ALIGN(end, PAGE_SIZE) - ALIGN_DOWN(start, PAGE_SIZE)) >>
		 PAGE_SHIFT;
	size = pages_object_size(npages);
	/* One fault event per object and owner. */
	if (iommufd_fault_hit(IOMMUFD_FAULT_ALLOC))
		return ERR_PTR(-ENOMEM);
	rc = pages_probe_mmio(start, end, nowait, &mmio, &mmio_file);
	if (rc)
		return ERR_PTR(rc);
	pages = pages_obtain(cache, npages, size + extra_size, &owner);
	if (!pages) {
		if (mmio_file)
			fput(mmio_file);
		return ERR_PTR(-ENOMEM);
	}
	/*
	 * Every field before @whole_pins is set below; zero the rest, with
	 * the caller's extra bytes, and not the whole object twice over.
	 */
	memset(&pages->whole_pins, 0,
	       size + extra_size - offsetof(struct iopt_pages, whole_pins));
	pages->owner = owner;
	pages->cache = cache;
	*extra = extra_size ? (void *)pages + size : NULL;
	pages->alloc_size = size + extra_size;
	kref_init(&pages->kref);
	mutex_init(&pages->mutex);
	mt_init(&pages->runs);
	pages->pin_itree = RB_ROOT_CACHED;
	pages->uptr = (void __user *)ALIGN_DOWN(start, PAGE_SIZE);
	pages->npages = npages;
	pages->writable = writable;
	pages->mmio = mmio;
	pages->mmio_file = mmio_file;
	pages->account_mode = pages->owner->may_lock ? IOPT_ACCOUNT_NONE : mode;
	return pages;
}

void iopt_pages_release(struct kref *kref)
{
	struct iopt_pages *pages = container_of(kref, struct iopt_pages, kref);

	WARN_ON(!RB_EMPTY_ROOT(&pages->pin_itree.rb_root) || pages->whole_pins);
	/*
	 * With no holder left, only pins an unpin had to park (see
	 * pages_store.c, pages_unpin_tree()) can remain; letting go of the whole range
	 * needs no memory, so they go now.
	 */
	if (pages->npinned) {
		WARN_ON(!pages->parked);
		mutex_lock(&pages->mutex);
		iopt_pages_store_unpin(pages, 0, pages->npages - 1);
		mutex_unlock(&pages->mutex);
	}
	WARN_ON(pages->npinned);
	/* A small range never stores in the tree: skip its lock. */
	if (!mtree_empty(&pages->runs))
		mtree_destroy(&pages->runs);
	iopt_owner_put(pages->owner);
	if (pages->mmio_file)
		fput(pages->mmio_file);
	mutex_destroy(&pages->mutex);
	pages_free_memory(pages->cache, pages, pages->npages, pages->alloc_size);
}
