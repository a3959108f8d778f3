/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pages layer: one refcounted object per range of user memory that was
 * mapped into an IOAS. It pins the memory lazily, once, whatever the number
 * of areas (through COPY) and users, and charges the pins to the owner's
 * RLIMIT_MEMLOCK. It knows nothing about IOVAs; callers speak in page
 * indexes into the range.
 *
 * Its files, each using only those listed before it (and the fault
 * points):
 *   pages_owner.c  who mapped the memory: charging, reaching its mm
 *		    (pages_owner.h, for the pages files only)
 *   pages_store.c  the run store: which indexes are pinned, their PFNs
 *		    (pages_store.h, for the pages files only)
 *   pages.c        the object: alloc and release, the kmem_cache and
 *		    the per-context cache of freed objects
 *   pages_pin.c    holders of ranges, pinning in batches
 *   pages_rw.c     copying to and from the memory
 * This header is what the layers above use; its declarations are grouped
 * under the file that defines them.
 */
#ifndef IOMMUFD_PAGES_H
#define IOMMUFD_PAGES_H

#include <linux/interval_tree.h>
#include <linux/kref.h>
#include <linux/maple_tree.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct iopt_owner;
struct page;

/* How pins are charged; chosen per context with IOMMU_OPTION_RLIMIT_MODE. */
enum iopt_account_mode {
	/* The task had CAP_IPC_LOCK when the memory was mapped. */
	IOPT_ACCOUNT_NONE,
	/* user_struct::locked_vm, shared by every process of the user. */
	IOPT_ACCOUNT_USER,
	/* mm_struct::locked_vm, as VFIO type1 does. */
	IOPT_ACCOUNT_MM,
};

/**
 * struct iopt_pages - a range of user memory and its pins
 * @kref: one reference per area that maps a slice of the range, plus
 *	transient ones held by COPY while it builds new areas
 * @alloc_size: the size of the object's allocation, with the extra bytes
 * @mutex: guards @pin_itree, @whole_pins and @npinned, and serialises
 *	changes to @runs and @small_pfns. Taken inside the io_pagetable's
 *	iova_rwsem, never the other way round.
 * @uptr: page-aligned start of the range in @owner's address space
 * @npages: length of the range in pages
 * @writable: whether the range may be pinned for device writes
 * @mmio: the range is device memory (a VM_IO/VM_PFNMAP mapping, such as
 *	a BAR mmapped through VFIO): its PFNs are looked up, not pinned,
 *	charged to nobody, mapped with IOMMU_MMIO, and the CPU-side paths
 *	(access pins, reads and writes) refuse it
 * @mmio_file: with @mmio, a reference on the mapping's file (the VFIO
 *	device fd), so that the device and its BAR stay while IOPTEs point
 *	at it, even after the VMA is gone; NULL otherwise
 * @account_mode: how pins are charged, fixed at creation
 * @owner: who mapped the memory (struct iopt_owner, pages_owner.h); a
 *	reference is held
 * @cache: the context's cache, where the object goes when freed if it is
 *	a one-page object and there is room (NULL: straight to the slab)
 * @pin_itree: struct iopt_pin nodes by page index: who needs which pages
 *	pinned. A page is pinned while any node covers it.
 * @runs: the pinned pages as runs of physically contiguous pages: a maple
 *	tree of index ranges, each entry xa_mk_value(PFN of its first index)
 *	or a chunk of PFNs (pages_store.c). An index is in the tree exactly
 *	when it is pinned: when some node of @pin_itree covers it, or
 *	@whole_pins is not 0, and, with @parked, when an unpin could not take
 *	it out. The tree's own lock guards its structure, so holders may
 *	read their runs without @mutex.
 * @whole_pins: holders of the whole range (iopt_pages_pin_whole()),
 *	counted instead of stored in @pin_itree; while there is one, every
 *	index is pinned
 * @parked: an unpin found no memory to take entries out of @runs and left
 *	their pages pinned, charged and recorded with no holder; a pin takes
 *	them up, a later unpin or the release lets them go. False again
 *	when nothing is pinned. Never set for small ranges.
 * @npinned: number of indexes pinned (in @runs or @small_pfns), all of
 *	them charged
 * @small_pfns: for a range of at most IOPT_PAGES_SMALL pages, the PFN
 *	store instead of @runs: PFN + 1 of each pinned index, 0 when not
 *	pinned. A VMM mapping page-sized buffers one by one pays neither a
 *	tree store nor a tree lookup per page. Guarded by @mutex; read
 *	without it only by holders, whose pins keep their entries in place.
 *
 * Which file changes what: pages.c sets everything up at allocation and
 * nothing after; pages_pin.c keeps @pin_itree and @whole_pins; the run
 * store, pages_store.c, keeps @runs, @small_pfns, @npinned and @parked.
 */
struct iopt_pages {
	struct kref kref;
	/* In the hole after @kref: a MAP's object stays within 256 bytes. */
	u32 alloc_size;
	struct mutex mutex; /* see above: pins and runs */
	void __user *uptr;
	unsigned long npages;
	bool writable;
	bool mmio;
	enum iopt_account_mode account_mode;
	struct iopt_owner *owner;
	struct file *mmio_file;
	struct iopt_pages_cache *cache;
	struct rb_root_cached pin_itree;
	struct maple_tree runs;
	/* From here to the end of the allocation: zeroed when made. */
	unsigned int whole_pins;
	bool parked;
	unsigned long npinned;
	unsigned long small_pfns[];
};

/* Ranges up to this many pages keep their PFNs in iopt_pages::small_pfns. */
#define IOPT_PAGES_SMALL 16

/* How many small_pfns entries a range of @npages pages gets. */
static inline unsigned long iopt_pages_small_count(unsigned long npages)
{
	return npages <= IOPT_PAGES_SMALL ? npages : 0;
}

static inline bool iopt_pages_is_mmio(struct iopt_pages *pages)
{
	return pages->mmio;
}

static inline bool iopt_pages_is_small(struct iopt_pages *pages)
{
	return pages->npages <= IOPT_PAGES_SMALL;
}

/**
 * struct iopt_pages_cache - the context's state for making pages objects:
 *	freed one-page objects kept for reuse, and the last owner
 * @lock: guards @free, @count and @owner
 * @free: the cached objects, each linked through its first word (the
 *	link is stored hardened: pages.c, pages_link())
 * @count: how many there are, at most IOPT_PAGES_CACHE_MAX
 * @owner: the last struct iopt_owner made, with a reference. A map takes
 *	its object and its owner's reference in one section of @lock.
 *
 * One-page objects, each allocated with its area (what a vIOMMU mapping
 * page by page allocates), come from a kmem_cache of their exact size
 * (pages.c); other sizes from kmalloc(). A vIOMMU maps and unmaps single
 * pages in bursts, and a burst of frees empties whole slabs, which SLUB
 * gives back to the page allocator and the next burst takes again (with
 * a freshly shuffled freelist and every object zeroed by init_on_alloc):
 * measured with QEMU's -icount, about 400 instructions of a 4.7k
 * instruction map+unmap pair (Documentation/benchmarks.rst). So a context
 * keeps up to IOPT_PAGES_CACHE_MAX freed one-page objects, as io_uring
 * keeps bounded caches per ring: at most 64 KiB, still charged to the
 * memory cgroup that first allocated them, back to the slab with the
 * context. Under KASAN the cache runs as well, with every cached object
 * poisoned and checked on reuse (pages.c, pages_cache_poison()).
 */
struct iopt_pages_cache {
	spinlock_t lock; /* see above */
	void *free;
	unsigned int count;
	struct iopt_owner *owner;
};

#define IOPT_PAGES_CACHE_MAX 256

/* pages.c */
int iopt_pages_init(size_t one_page_extra);
void iopt_pages_exit(void);
void iopt_pages_cache_init(struct iopt_pages_cache *cache);
void iopt_pages_cache_drain(struct iopt_pages_cache *cache);

struct iopt_pages *iopt_pages_alloc(struct iopt_pages_cache *cache,
				    void __user *uptr, unsigned long length,
				    bool writable, enum iopt_account_mode mode,
				    size_t extra_size, void **extra,
				    bool nowait);
void iopt_pages_release(struct kref *kref);

static inline void iopt_pages_put(struct iopt_pages *pages)
{
	kref_put(&pages->kref, iopt_pages_release);
}

/* pages_pin.c */
int iopt_pages_pin(struct iopt_pages *pages, unsigned long first,
		   unsigned long last, struct page **out);
void iopt_pages_unpin(struct iopt_pages *pages, unsigned long first,
		      unsigned long last);
int iopt_pages_pin_whole(struct iopt_pages *pages);
int iopt_pages_pin_whole_nowait(struct iopt_pages *pages);
void iopt_pages_unpin_whole(struct iopt_pages *pages);

/*
 * Upper bound, in bytes, of the temporary page array used to pin in
 * batches. Test builds shrink it (IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT) to
 * push every range through many batches. A test may change it while
 * another task pins, so it is read with READ_ONCE() and written with
 * WRITE_ONCE(); a pin may see two values, and any value works.
 */
extern unsigned int iopt_pages_batch_bytes;

/*
 * Can the unpins of an area that holds the only reference to @pages run
 * without sleeping? Only holders of a reference (an access through a
 * COPY of the pages, a domain being filled from them) can hold @mutex
 * meanwhile, and IOPT_ACCOUNT_MM uncharges under the mm's lock. Marking
 * written pages dirty takes each page's lock, held by others only
 * briefly; that wait is not avoided.
 */
static inline bool iopt_pages_unpin_never_waits(struct iopt_pages *pages)
{
	return kref_read(&pages->kref) == 1 &&
	       pages->account_mode != IOPT_ACCOUNT_MM;
}

/* pages_store.c: reading the runs of what a holder pinned */

/*
 * How many runs callers of iopt_pages_runs() read per call: enough to
 * amortise the walk over fragmented memory, few enough to keep the array
 * on the stack of every map and unmap cheap to set up.
 */
#define IOPT_RUNS_CHUNK 4

/* A physically contiguous run of pinned pages: @npages from @index. */
struct iopt_run {
	unsigned long index;
	unsigned long npages;
	unsigned long pfn;
};

unsigned int __iopt_pages_runs(struct iopt_pages *pages, unsigned long index,
			       unsigned long last, struct iopt_run *runs,
			       unsigned int max);

/*
 * iopt_pages_runs - read the runs of pinned pages over a range; see
 * __iopt_pages_runs(). A one-page range, what every one-page map fills
 * into its domains, is answered here without a call: the holder's pin
 * keeps small_pfns[0] set (0 would mean not pinned: no run).
 */
static inline unsigned int iopt_pages_runs(struct iopt_pages *pages,
					   unsigned long index,
					   unsigned long last,
					   struct iopt_run *runs,
					   unsigned int max)
{
	if (pages->npages == 1 && max) {
		if (!pages->small_pfns[0])
			return 0;
		runs[0] = (struct iopt_run){ .index = 0, .npages = 1,
					     .pfn = pages->small_pfns[0] - 1 };
		return 1;
	}
	return __iopt_pages_runs(pages, index, last, runs, max);
}

unsigned long iopt_pages_contig(struct iopt_pages *pages, unsigned long index,
				unsigned long max, unsigned long *pfn);

/* pages_rw.c */

/* Flags for iopt_pages_rw() */
enum {
	IOPT_RW_WRITE = 1 << 0,
	/* Never copy straight to or from current's address space. */
	IOPT_RW_REMOTE = 1 << 1,
};

int iopt_pages_rw(struct iopt_pages *pages, unsigned long start_byte,
		  void *data, unsigned long length, unsigned int flags);

#endif
