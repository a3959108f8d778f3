// SPDX-License-Identifier: GPL-2.0
/*
 * The pages layer: pinning user memory once per iopt_pages, however many
 * users need it, and charging the pins to RLIMIT_MEMLOCK.
 *
 * Who needs what is recorded as struct iopt_pin nodes in an interval tree
 * of page indexes. Pinning a range pins only the indexes no node covers
 * yet; unpinning a range unpins only the indexes no remaining node covers.
 * So each page is pinned exactly once, and every pin is undone exactly once.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/highmem.h>
#include <linux/maple_tree.h>
#include <linux/sizes.h>
#include <linux/mm.h>
#include <linux/poison.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "fault.h"
#include "pages.h"

unsigned int iopt_pages_batch_bytes = SZ_64K;

/*
 * Objects of one-page ranges, with the caller's extra bytes: what every
 * one-page MAP allocates. A cache of their exact size, so a burst of maps
 * and unmaps recycles its objects through the slab's per-CPU lists
 * without the rounding of kmalloc(), with every slab debugging and
 * hardening option (KASAN, init_on_free, SLAB_FREELIST_HARDENED) applied.
 * Objects of other sizes come from kmalloc().
 */
static struct kmem_cache *iopt_pages_slab;
static size_t iopt_pages_slab_size;
/* Mixed into the links of the contexts' free lists: see pages_link(). */
static unsigned long iopt_pages_link_secret;

/* Pins of up to this many pages use a batch on the stack. */
#define PAGES_SMALL_BATCH 16

/**
 * struct iopt_pin - one holder's need for a range of pinned pages
 * @node: page indexes [start, last] within the iopt_pages
 * @users: how many holders asked for exactly this range
 */
struct iopt_pin {
	struct interval_tree_node node;
	unsigned int users;
};

/* How many small_pfns entries a range of @npages pages gets. */
static unsigned long pages_small_count(unsigned long npages)
{
	return npages <= IOPT_PAGES_SMALL ? npages : 0;
}

static bool pages_is_small(struct iopt_pages *pages)
{
	return pages->npages <= IOPT_PAGES_SMALL;
}

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

	return ALIGN(struct_size(pages, small_pfns, pages_small_count(npages)),
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

static void owner_free(struct iopt_owner *owner)
{
	put_task_struct(owner->task);
	mmdrop(owner->mm);
	put_cred(owner->cred);
	kfree(owner);
}

/*
 * The helpers marked __always_inline in this file are on the path of
 * every one-page map and unmap, where a call and return cost about as
 * much as their work: on hardware too, where on CPUs that need the
 * retbleed or SRSO mitigations every return goes through a return thunk.
 */
static __always_inline void owner_put(struct iopt_owner *owner)
{
	if (refcount_dec_and_test(&owner->users))
		owner_free(owner);
}

/*
 * Committed credentials never change, and the owner's reference keeps
 * its credentials alive (their address is not reused while it exists),
 * so the same pointer means the same user and the same capabilities.
 */
static bool owner_is_current(struct iopt_owner *owner)
{
	return owner->task == current->group_leader &&
	       owner->mm == current->mm && owner->cred == current_cred();
}

/*
 * The context's last owner, with a new reference, if it is current's; or
 * NULL. The slot's own reference keeps it alive while @lock is held.
 */
static struct iopt_owner *owner_get_cached(struct iopt_pages_cache *cache)
{
	struct iopt_owner *owner = cache->owner;

	lockdep_assert_held(&cache->lock);
	if (!owner || !owner_is_current(owner))
		return NULL;
	refcount_inc(&owner->users);
	return owner;
}

/* A new owner for current, which becomes the context's last one. */
static struct iopt_owner *owner_new(struct iopt_pages_cache *cache)
{
	struct iopt_owner *owner, *old = NULL;

	owner = iommufd_kzalloc(sizeof(*owner));
	if (!owner)
		return NULL;
	refcount_set(&owner->users, cache ? 2 : 1);
	owner->task = current->group_leader;
	get_task_struct(owner->task);
	owner->mm = current->mm;
	mmgrab(owner->mm);
	owner->cred = get_current_cred();
	/* Whoever may lock memory anyway is not charged, as for mlock(). */
	owner->may_lock = capable(CAP_IPC_LOCK);
	if (cache) {
		spin_lock(&cache->lock);
		old = cache->owner;
		cache->owner = owner;
		spin_unlock(&cache->lock);
	}
	if (old)
		owner_put(old);
	return owner;
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
		owner_put(cache->owner);
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
		*owner = owner_get_cached(cache);
		spin_unlock(&cache->lock);
	}
	if (!*owner)
		*owner = owner_new(cache);
	if (!pages)
		pages = slab ? kmem_cache_alloc(iopt_pages_slab,
						GFP_KERNEL_ACCOUNT) :
			       kmalloc(size, GFP_KERNEL_ACCOUNT);
	if (pages && *owner)
		return pages;
	if (pages)
		pages_free_memory(cache, pages, npages, size);
	if (*owner)
		owner_put(*owner);
	return NULL;
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
 */
struct iopt_pages *iopt_pages_alloc(struct iopt_pages_cache *cache,
				    void __user *uptr, unsigned long length,
				    bool writable, enum iopt_account_mode mode,
				    size_t extra_size, void **extra)
{
	unsigned long start = (unsigned long)uptr;
	struct iopt_owner *owner;
	struct iopt_pages *pages;
	unsigned long end, npages;
	size_t size;

	if (!length)
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
	pages = pages_obtain(cache, npages, size + extra_size, &owner);
	if (!pages)
		return ERR_PTR(-ENOMEM);
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
	pages->account_mode = pages->owner->may_lock ? IOPT_ACCOUNT_NONE : mode;
	return pages;
}

static void pages_unpin_range(struct iopt_pages *pages, unsigned long first,
			      unsigned long last);

void iopt_pages_release(struct kref *kref)
{
	struct iopt_pages *pages = container_of(kref, struct iopt_pages, kref);

	WARN_ON(!RB_EMPTY_ROOT(&pages->pin_itree.rb_root) || pages->whole_pins);
	/*
	 * With no holder left, only pins an unpin had to park (see
	 * pages_unpin_tree()) can remain; letting go of the whole range
	 * needs no memory, so they go now.
	 */
	if (pages->npinned) {
		WARN_ON(!pages->parked);
		mutex_lock(&pages->mutex);
		pages_unpin_range(pages, 0, pages->npages - 1);
		mutex_unlock(&pages->mutex);
	}
	WARN_ON(pages->npinned);
	/* A small range never stores in the tree: skip its lock. */
	if (!mtree_empty(&pages->runs))
		mtree_destroy(&pages->runs);
	owner_put(pages->owner);
	mutex_destroy(&pages->mutex);
	pages_free_memory(pages->cache, pages, pages->npages, pages->alloc_size);
}

/* user_struct::locked_vm, the accounting io_uring also uses. */
static int charge_user(struct iopt_pages *pages, unsigned long npages)
{
	unsigned long limit = task_rlimit(pages->owner->task, RLIMIT_MEMLOCK) >>
			      PAGE_SHIFT;
	atomic_long_t *locked = &pages->owner->cred->user->locked_vm;
	long cur = atomic_long_read(locked);

	do {
		if (cur + npages > limit)
			return -ENOMEM;
	} while (!atomic_long_try_cmpxchg(locked, &cur, cur + npages));
	return 0;
}

/*
 * mm_struct::locked_vm, as VFIO type1 charges. The mm is only grabbed, not
 * held, but its lock and counters stay valid until mmdrop().
 */
static int charge_mm(struct iopt_pages *pages, unsigned long npages, bool inc,
		     bool nowait)
{
	int rc;

	/* The mm's lock has no write trylock: a caller that must not wait. */
	if (nowait)
		return -EAGAIN;
	mmap_write_lock(pages->owner->mm);
	rc = __account_locked_vm(pages->owner->mm, npages, inc,
				 pages->owner->task, false);
	mmap_write_unlock(pages->owner->mm);
	return rc;
}

/* With @nowait, -EAGAIN where charging would wait for the mm's lock. */
static __always_inline int pages_charge(struct iopt_pages *pages,
					unsigned long npages, bool nowait)
{
	int rc = 0;

	if (pages->account_mode == IOPT_ACCOUNT_USER)
		rc = charge_user(pages, npages);
	else if (pages->account_mode == IOPT_ACCOUNT_MM)
		rc = charge_mm(pages, npages, true, nowait);
	if (rc)
		return rc;
	atomic64_add(npages, &pages->owner->mm->pinned_vm);
	return 0;
}

static __always_inline void pages_uncharge(struct iopt_pages *pages,
					   unsigned long npages)
{
	if (!npages)
		return;
	if (pages->account_mode == IOPT_ACCOUNT_USER)
		atomic_long_sub(npages, &pages->owner->cred->user->locked_vm);
	else if (pages->account_mode == IOPT_ACCOUNT_MM)
		WARN_ON(charge_mm(pages, npages, false, false));
	atomic64_sub(npages, &pages->owner->mm->pinned_vm);
}

static unsigned long pages_index_addr(struct iopt_pages *pages,
				      unsigned long index)
{
	return (unsigned long)pages->uptr + (index << PAGE_SHIFT);
}

static long pages_gup_remote(struct mm_struct *mm, unsigned long addr,
			     unsigned long npages, unsigned int gup_flags,
			     struct page **out)
{
	long got;

	if (!mmget_not_zero(mm))
		return -EFAULT;
	mmap_read_lock(mm);
	got = compat_pin_user_pages_remote(mm, addr, npages, gup_flags, out);
	mmap_read_unlock(mm);
	mmput(mm);
	return got;
}

/*
 * Pin up to @npages pages from @index. Pins from the caller's own address
 * space go through the fast path; from another one (after fork, or from a
 * kernel thread) through the mm we recorded, which must still be alive.
 * With @nowait, all @npages or -EAGAIN, never sleeping: only the caller's
 * own address space, and only pages that are present (see
 * compat_pin_user_pages_nowait()).
 */
static __always_inline long pages_gup(struct iopt_pages *pages,
				      unsigned long index,
				      unsigned long npages,
				      unsigned int gup_flags,
				      struct page **out, bool nowait)
{
	unsigned long addr = pages_index_addr(pages, index);
	struct mm_struct *mm = pages->owner->mm;

	if (iommufd_fault_hit(IOMMUFD_FAULT_PIN))
		return -ENOMEM;
	if (nowait)
		return current->mm == mm ?
			compat_pin_user_pages_nowait(addr, npages, gup_flags,
						     out) : -EAGAIN;
	if (current->mm == mm)
		return pin_user_pages_fast(addr, npages, gup_flags, out);
	return pages_gup_remote(mm, addr, npages, gup_flags, out);
}

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
 * The PFN store: a maple tree of runs. A run is a range of page indexes
 * [start, last] whose pages are physically contiguous; its entry is the
 * PFN of index start, as xa_mk_value(). Each page index has at most one
 * run; indexes not pinned have none. Small ranges keep one PFN per index
 * in small_pfns instead, and their runs are found by looking at the
 * neighbours; the functions below hide which store a range uses.
 *
 * A batch of fragmented memory (4K pages with a physical break every few
 * pages) would make one tree entry per run, and storing thousands of
 * small entries is most of the cost of mapping such memory. Such a batch
 * is stored as one entry pointing at a struct pages_chunk, which holds
 * one PFN per index. An entry is a run when xa_is_value(), else a chunk.
 */

/**
 * struct pages_chunk - the PFNs of one fragmented batch
 * @base: page index of @pfns[0]
 * @live: indexes of the chunk still in the tree; an unpin that erases
 *	part of the chunk's range leaves pieces that still point here, and
 *	the chunk is freed when the last index goes
 * @pfns: one PFN per index from @base
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
	if (pages_is_small(pages))
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
		unpin_user_page_range_dirty_lock(pfn_to_page(i), npages,
						 pages->writable);
		return npages;
	}
	for (i = piece->first - chunk->base; i <= piece->last - chunk->base;
	     i = hi + 1) {
		pfns_stretch(chunk->pfns, i, i, piece->last - chunk->base,
			     &lo, &hi);
		unpin_user_page_range_dirty_lock(pfn_to_page(chunk->pfns[i]),
						 hi - i + 1, pages->writable);
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
	pages_uncharge(pages, npages);
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
		unpin_user_page_range_dirty_lock(pfn_to_page(pages->small_pfns[i] - 1),
						 hi - i + 1, pages->writable);
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
 * (pages_pin_missing()) or let go by the next unpin over them or by
 * iopt_pages_release(). So nothing is lost and no allocation has to
 * succeed. Unpinning the whole range erases nothing: the tree is
 * destroyed at the end, which needs no memory and never parks.
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

/* Unpin and forget whatever is pinned in [first, last]. */
static void pages_unpin_range(struct iopt_pages *pages, unsigned long first,
			      unsigned long last)
{
	lockdep_assert_held(&pages->mutex);
	if (pages_is_small(pages))
		pages_unpin_small(pages, first, last);
	else
		pages_unpin_tree(pages, first, last);
}

/*
 * How many pages from @batch[@i] on, up to @n, are physically contiguous
 * with it (at least 1). The only loop over every page of a pinned batch.
 */
static unsigned long batch_run_len(struct page **batch, unsigned long i,
				   unsigned long n)
{
	unsigned long pfn = page_to_pfn(batch[i]), len = 1;

	while (i + len != n && page_to_pfn(batch[i + len]) == pfn + len)
		len++;
	return len;
}

/* How many runs a batch of @n pages breaks into. */
static unsigned long batch_runs(struct page **batch, unsigned long n)
{
	unsigned long i, runs = 0;

	for (i = 0; i != n; i += batch_run_len(batch, i, n))
		runs++;
	return runs;
}

/* Store a fragmented batch as one chunk entry; see struct pages_chunk. */
static int pages_store_chunk(struct iopt_pages *pages, unsigned long index,
			     struct page **batch, unsigned long n)
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
		chunk->pfns[i] = page_to_pfn(batch[i]);
	rc = mtree_store_range(&pages->runs, index, index + n - 1, chunk,
			       GFP_KERNEL_ACCOUNT);
	if (rc)
		kfree(chunk);
	return rc;
}

/* A fragmented batch, as chunks of at most a page each. */
static int pages_store_chunks(struct iopt_pages *pages, unsigned long index,
			      struct page **batch, unsigned long n,
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
			    struct page **batch, unsigned long n,
			    unsigned long *stored)
{
	MA_STATE(mas, &pages->runs, 0, 0);
	bool locked = false;
	unsigned long i = 0;
	int rc = 0;

	while (i != n) {
		unsigned long pfn = page_to_pfn(batch[i]);
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

/*
 * Record @n freshly pinned and charged pages from @index: in small_pfns,
 * as chunks, or as runs. On failure the pages not recorded are unpinned
 * and uncharged here; *@stored says how many were recorded, which the
 * caller still owns.
 */
static int pages_store_batch(struct iopt_pages *pages, unsigned long index,
			     struct page **batch, unsigned long n,
			     unsigned long *stored)
{
	unsigned long i;
	int rc = 0;

	if (pages_is_small(pages)) {
		for (i = 0; i != n; i++)
			pages->small_pfns[index + i] = page_to_pfn(batch[i]) + 1;
		*stored = n;
	} else if (n >= PAGES_CHUNK_MIN &&
		   batch_runs(batch, n) * PAGES_CHUNK_RUN_PAGES > n) {
		rc = pages_store_chunks(pages, index, batch, n, stored);
	} else {
		rc = pages_store_runs(pages, index, batch, n, stored);
	}
	if (rc) {
		unpin_user_pages(batch + *stored, n - *stored);
		pages_uncharge(pages, n - *stored);
	}
	pages->npinned += *stored;
	return rc;
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
	unsigned long capacity, stored, index = first;
	struct page *small[PAGES_SMALL_BATCH] __uninitialized, **batch = small;
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

	while (index <= last) {
		unsigned long want = min(capacity, last - index + 1);
		long got;

		rc = pages_charge(pages, want, nowait);
		if (rc)
			break;
		got = pages_gup(pages, index, want, gup_flags, batch, nowait);
		if (got <= 0) {
			pages_uncharge(pages, want);
			rc = got ? got : -EFAULT;
			break;
		}
		pages_uncharge(pages, want - got);
		rc = pages_store_batch(pages, index, batch, got, &stored);
		index += stored;
		if (rc)
			break;
	}
	if (batch != small)
		kfree(batch);
	if (rc && index > first)
		pages_unpin_range(pages, first, index - 1);
	return rc;
}

/*
 * Pin the indexes of [first, last] that are not pinned yet: all of them,
 * unless an unpin parked some (see pages_unpin_tree()); those are pinned
 * and charged already, and are taken up as they are. All or nothing; with
 * @nowait, -EAGAIN (and nothing new pinned) where it would sleep.
 */
static __always_inline int __pages_pin_missing(struct iopt_pages *pages,
					       unsigned long first,
					       unsigned long last, bool nowait)
{
	unsigned long index = first, start, end;
	int rc = 0;

	if (!pages->parked)
		return __pages_pin_range(pages, first, last, nowait);
	while (index <= last) {
		/* The entry or the hole around @index, whichever it is. */
		void *entry = tree_entry_at(pages, index, &start, &end);

		end = min(end, last);
		if (!entry) {
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
		pages_unpin_range(pages, first, index - 1);
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
	pages_unpin_range(pages, first, last);
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
 * runs out, -EFAULT when the memory is gone; on failure nothing changes.
 */
int iopt_pages_pin(struct iopt_pages *pages, unsigned long first,
		   unsigned long last, struct page **out)
{
	struct iopt_pin *pin;
	int rc = 0;

	if (WARN_ON(first > last || last >= pages->npages))
		return -EINVAL;

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
	rc = pages_charge(pages, 1, nowait);
	if (rc)
		return rc;
	got = pages_gup(pages, 0, 1, gup_flags, &page, nowait);
	if (got != 1) {
		pages_uncharge(pages, 1);
		return got < 0 ? got : -EFAULT;
	}
	pages->small_pfns[0] = page_to_pfn(page) + 1;
	pages->npinned = 1;
	return 0;
}

static void pages_unpin_single(struct iopt_pages *pages)
{
	struct page *page = pfn_to_page(pages->small_pfns[0] - 1);

	lockdep_assert_held(&pages->mutex);
	pages->small_pfns[0] = 0;
	pages->npinned = 0;
	unpin_user_page_range_dirty_lock(page, 1, pages->writable);
	pages_uncharge(pages, 1);
}

static __always_inline int __iopt_pages_pin_whole(struct iopt_pages *pages,
						  bool nowait)
{
	int rc;

	if (!nowait)
		mutex_lock(&pages->mutex);
	else if (!mutex_trylock(&pages->mutex))
		return -EAGAIN;
	if (pages->npages == 1 && !pages->npinned)
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
	if (pages->npages == 1 && RB_EMPTY_ROOT(&pages->pin_itree.rb_root))
		pages_unpin_single(pages);
	else
		pages_walk_uncovered(pages, 0, pages->npages - 1,
				     pages_unpin_range_fn, &done);
out_unlock:
	mutex_unlock(&pages->mutex);
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

	if (!pages_is_small(pages))
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
	while (!pages_is_small(pages) && n < max) {
		entry = pages_run_at(pages, index + n, &start, &last);
		if (!entry || xa_to_value(entry) + (index + n - start) != *pfn + n)
			break;
		n = last - index + 1;
	}
	return min(max, n);
}

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
	got = pages_gup(pages, index, 1, write ? FOLL_WRITE : 0, &page,
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
 * sleep. Returns 0 or -EFAULT if the memory is not there (any more).
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
	if (!(flags & IOPT_RW_REMOTE) && current->mm == pages->owner->mm) {
		if (write ? iommufd_copy_to_user(uaddr, data, length) :
			    iommufd_copy_from_user(data, uaddr, length))
			return -EFAULT;
		return 0;
	}
	return pages_rw_remote(pages, start_byte, data, length, write);
}
