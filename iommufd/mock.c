// SPDX-License-Identifier: GPL-2.0
/*
 * The mock IOMMU driver, compiled into test builds only.
 *
 * A mock domain is a real struct iommu_domain of type UNMANAGED with
 * map_pages/unmap_pages/iova_to_phys ops, so the core drives it through
 * the kernel's iommu_map()/iommu_unmap()/iommu_iova_to_phys() exactly as it
 * would drive hardware. Its page table is a two-level table like a real
 * IOMMU's, recording each IOPTE's physical address, permissions and size
 * (a huge IOPTE is a top-level entry, a small one a leaf entry). It refuses
 * misaligned, overlapping and unbalanced requests with a WARN: in this
 * driver a WARN means a core bug, and the VM runner fails the run on it.
 */
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "dirty.h"
#include "iommufd_private.h"
#include "iommufd_test.h"
#include "mock.h"
#include "user_data.h"

/*
 * The page table: two levels, like hardware. The top level has one entry
 * per MOCK_HUGE_PAGE_SIZE of IOVA, which is either empty, a huge IOPTE,
 * or a pointer to a leaf table of 512 IOPTEs of MOCK_IO_PAGE_SIZE. An
 * IOPTE holds the physical address and these flags. Mapping a huge IOPTE
 * is one store, a small one two at most, as in a real IOMMU.
 */
enum {
	MOCK_PTE_READ = 1 << 0,
	MOCK_PTE_WRITE = 1 << 1,
	MOCK_PTE_VALID = 1 << 2,
	/* In a top-level entry: a huge IOPTE, not a leaf table pointer. */
	MOCK_PTE_HUGE = 1 << 3,
	/* The device wrote through this IOPTE while tracking was on. */
	MOCK_PTE_DIRTY = 1 << 4,
	MOCK_PTE_FLAGS = 0x1f,
};

#define MOCK_LEAF_ENTRIES (MOCK_HUGE_PAGE_SIZE / MOCK_IO_PAGE_SIZE)

static_assert((unsigned long)MOCK_IO_PAGE_SIZE > MOCK_PTE_FLAGS);

/* @used: valid IOPTEs in @pte; the table is freed when it reaches 0 */
struct mock_leaf {
	u64 pte[MOCK_LEAF_ENTRIES];
	unsigned int used;
};

/**
 * struct mock_domain - a mock paging domain
 * @domain: the iommu_domain the core sees
 * @lock: guards @top and the leaf tables
 * @top: @nr_top top-level entries
 * @nr_top: the table spans IOVA [0, the aperture's end]; fixed
 * @nr_ptes: IOPTEs present
 * @limit: most IOPTEs this domain may hold, 0 for no limit
 * @can_track: made for a device that can track dirty pages; fixed
 * @enforce_dirty: allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING, so a
 *	device that cannot track may never attach; fixed
 * @tracking: writes set MOCK_PTE_DIRTY (IOMMU_TEST_OP_DIRTY); under @lock
 * @untracked_devs: attached devices made with MOCK_FLAGS_DEVICE_NO_DIRTY,
 *	whose writes the domain could not see: tracking cannot start while
 *	there is one, and none attaches while tracking; under @lock
 */
struct mock_domain {
	struct iommu_domain domain;
	spinlock_t lock; /* see above */
	unsigned long *top;
	unsigned long nr_top;
	unsigned long nr_ptes;
	unsigned long limit;
	bool can_track;
	bool enforce_dirty;
	bool tracking;
	unsigned int untracked_devs;
};

static struct mock_domain *to_mock(struct iommu_domain *domain)
{
	return container_of(domain, struct mock_domain, domain);
}

static unsigned long mock_top_index(unsigned long iova)
{
	return iova / MOCK_HUGE_PAGE_SIZE;
}

static unsigned long mock_leaf_index(unsigned long iova)
{
	return (iova % MOCK_HUGE_PAGE_SIZE) / MOCK_IO_PAGE_SIZE;
}

static u64 mock_pte(phys_addr_t paddr, int prot)
{
	u64 pte = paddr | MOCK_PTE_VALID;

	if (prot & IOMMU_READ)
		pte |= MOCK_PTE_READ;
	if (prot & IOMMU_WRITE)
		pte |= MOCK_PTE_WRITE;
	return pte;
}

/*
 * The IOPTE translating @iova, and its size, or 0. The caller holds the
 * lock or knows the IOVA cannot change under it.
 */
static u64 mock_lookup(struct mock_domain *mock, unsigned long iova,
		       unsigned long *size)
{
	unsigned long top;
	struct mock_leaf *leaf;

	if (mock_top_index(iova) >= mock->nr_top)
		return 0;
	top = mock->top[mock_top_index(iova)];
	if (top & MOCK_PTE_HUGE) {
		*size = MOCK_HUGE_PAGE_SIZE;
		return top;
	}
	leaf = (struct mock_leaf *)top;
	*size = MOCK_IO_PAGE_SIZE;
	return leaf ? leaf->pte[mock_leaf_index(iova)] : 0;
}

/* One huge IOPTE at @iova: returns 1, the IOPTEs mapped, or -errno. */
static long mock_map_huge(struct mock_domain *mock, unsigned long iova,
			  phys_addr_t paddr, int prot)
{
	unsigned long *top = &mock->top[mock_top_index(iova)];
	struct mock_leaf *empty = NULL;

	spin_lock(&mock->lock);
	/* Mapping over a mapping is a core bug. */
	if (WARN(*top & MOCK_PTE_HUGE ||
		 (*top && ((struct mock_leaf *)*top)->used),
		 "mock: map over a mapped IOVA %#lx\n", iova)) {
		spin_unlock(&mock->lock);
		return -EEXIST;
	}
	empty = (struct mock_leaf *)*top;
	*top = mock_pte(paddr, prot) | MOCK_PTE_HUGE;
	mock->nr_ptes++;
	spin_unlock(&mock->lock);
	kfree(empty);
	return 1;
}

/*
 * Map up to @count small IOPTEs from @iova, stopping at the end of the
 * leaf table: the whole run is one lock section, as a real driver writes
 * a run of PTEs in one table at once. Returns how many were mapped.
 */
static long mock_map_small(struct mock_domain *mock, unsigned long iova,
			   phys_addr_t paddr, int prot, unsigned long count)
{
	unsigned long *top = &mock->top[mock_top_index(iova)];
	unsigned long first = mock_leaf_index(iova), i;
	struct mock_leaf *leaf, *spare = NULL;

	count = min(count, MOCK_LEAF_ENTRIES - first);
	if (mock->limit)
		count = 1;
	/* A leaf table is allocated outside the lock, before it is needed. */
	if (!READ_ONCE(*top)) {
		spare = kzalloc(sizeof(*spare), GFP_KERNEL_ACCOUNT);
		if (!spare)
			return -ENOMEM;
	}
	spin_lock(&mock->lock);
	if (!*top && spare) {
		*top = (unsigned long)spare;
		spare = NULL;
	}
	leaf = (struct mock_leaf *)*top;
	if (!leaf) {
		/* Lost a race with an unmap that freed the table: retry. */
		spin_unlock(&mock->lock);
		return 0;
	}
	for (i = 0; i != count; i++) {
		u64 *pte = &leaf->pte[first + i];

		if (WARN((*top & MOCK_PTE_HUGE) || *pte,
			 "mock: map over a mapped IOVA %#lx\n",
			 iova + i * MOCK_IO_PAGE_SIZE)) {
			/* Leave nothing behind: the caller sees one error. */
			while (i--)
				leaf->pte[first + i] = 0;
			spin_unlock(&mock->lock);
			kfree(spare);
			return -EEXIST;
		}
		*pte = mock_pte(paddr + i * MOCK_IO_PAGE_SIZE, prot);
	}
	leaf->used += count;
	mock->nr_ptes += count;
	spin_unlock(&mock->lock);
	/* Only a lost race leaves a spare; most maps skip the call. */
	if (unlikely(spare))
		kfree(spare);
	return count;
}

static int mock_map_pages(struct iommu_domain *domain, unsigned long iova,
			  phys_addr_t paddr, size_t pgsize, size_t pgcount,
			  int prot, gfp_t gfp, size_t *mapped)
{
	struct mock_domain *mock = to_mock(domain);
	long done;

	/* pgsize is one bit of the bitmap: a mask, not a division. */
	if (WARN_ON(!(domain->pgsize_bitmap & pgsize) ||
		    !IS_ALIGNED(iova | paddr, pgsize) ||
		    mock_top_index(iova + pgsize * pgcount - 1) >=
			    mock->nr_top))
		return -EINVAL;
	while (pgcount) {
		if (mock->limit && READ_ONCE(mock->nr_ptes) >= mock->limit)
			return -ENOMEM;
		if (pgsize == MOCK_HUGE_PAGE_SIZE)
			done = mock_map_huge(mock, iova, paddr, prot);
		else
			done = mock_map_small(mock, iova, paddr, prot, pgcount);
		if (done < 0)
			return done;
		iova += pgsize * done;
		paddr += pgsize * done;
		*mapped += pgsize * done;
		pgcount -= done;
	}
	return 0;
}

/*
 * Remove the IOPTEs from @iova below @end, up to the end of @iova's top
 * level entry: one huge IOPTE, or a run of small ones in one lock
 * section. Returns the bytes removed, or 0 (with a WARN: a core bug) if
 * there is nothing at @iova or the huge IOPTE would be cut.
 */
static unsigned long mock_unmap_one(struct mock_domain *mock,
				    unsigned long iova, unsigned long end)
{
	unsigned long *top = &mock->top[mock_top_index(iova)];
	unsigned long index = mock_leaf_index(iova), n = 0;
	struct mock_leaf *freed = NULL, *leaf;
	unsigned long size = 0;

	spin_lock(&mock->lock);
	if (*top & MOCK_PTE_HUGE) {
		if (!WARN(iova % MOCK_HUGE_PAGE_SIZE ||
			  iova + MOCK_HUGE_PAGE_SIZE > end,
			  "mock: unmap up to %#lx cuts the IOPTE at %#lx\n",
			  end, iova)) {
			*top = 0;
			mock->nr_ptes--;
			size = MOCK_HUGE_PAGE_SIZE;
		}
		goto out_unlock;
	}
	leaf = (struct mock_leaf *)*top;
	while (leaf && index + n != MOCK_LEAF_ENTRIES &&
	       iova + n * MOCK_IO_PAGE_SIZE < end && leaf->pte[index + n]) {
		leaf->pte[index + n] = 0;
		n++;
	}
	if (WARN(!n, "mock: unmap of unmapped IOVA %#lx\n", iova))
		goto out_unlock;
	leaf->used -= n;
	mock->nr_ptes -= n;
	if (!leaf->used) {
		*top = 0;
		freed = leaf;
	}
	size = n * MOCK_IO_PAGE_SIZE;
out_unlock:
	spin_unlock(&mock->lock);
	/* Most unmaps leave the leaf in use: skip the call then. */
	if (unlikely(freed))
		kfree(freed);
	return size;
}

/*
 * Unmap whole IOPTEs covering [iova, iova + pgsize * pgcount). Like a real
 * page table, one request may remove several smaller IOPTEs; it may never
 * cut one, and every unit in the range must be mapped.
 */
static size_t mock_unmap_pages(struct iommu_domain *domain, unsigned long iova,
			       size_t pgsize, size_t pgcount,
			       struct iommu_iotlb_gather *gather)
{
	struct mock_domain *mock = to_mock(domain);
	unsigned long end = iova + pgsize * pgcount;
	unsigned long cur = iova;

	if (WARN_ON(mock_top_index(end - 1) >= mock->nr_top))
		return 0;
	while (cur < end) {
		unsigned long size = mock_unmap_one(mock, cur, end);

		if (!size)
			break;
		cur += size;
	}
	return cur - iova;
}

static phys_addr_t mock_iova_to_phys(struct iommu_domain *domain,
				     dma_addr_t iova)
{
	struct mock_domain *mock = to_mock(domain);
	unsigned long size;
	u64 pte;

	spin_lock(&mock->lock);
	pte = mock_lookup(mock, iova, &size);
	spin_unlock(&mock->lock);
	if (!pte)
		return 0;
	return (pte & ~(u64)MOCK_PTE_FLAGS & ~(u64)(MOCK_IO_PAGE_SIZE - 1)) +
	       (iova & (size - 1));
}

/*
 * Add to @stats the IOPTEs of one top-level entry over [first, last], two
 * IOVAs inside that entry. A leaf table wholly inside the range is
 * counted from its @used, so a walk costs one step per top-level entry.
 */
static void mock_stats_one_top(struct mock_domain *mock, unsigned long first,
			       unsigned long last,
			       struct iommu_test_iopte_stats *stats)
{
	unsigned long top = mock->top[mock_top_index(first)];
	unsigned long i = mock_leaf_index(first), end = mock_leaf_index(last);
	struct mock_leaf *leaf = (struct mock_leaf *)top;

	lockdep_assert_held(&mock->lock);
	if (top & MOCK_PTE_HUGE) {
		stats->huge++;
		return;
	}
	if (!leaf) {
		stats->unmapped += last - first + 1;
		return;
	}
	if (i == 0 && end == MOCK_LEAF_ENTRIES - 1) {
		stats->small += leaf->used;
		stats->unmapped += (MOCK_LEAF_ENTRIES - leaf->used) *
				   MOCK_IO_PAGE_SIZE;
		return;
	}
	for (; i <= end; i++) {
		if (leaf->pte[i])
			stats->small++;
		else
			stats->unmapped += MOCK_IO_PAGE_SIZE;
	}
}

/**
 * mock_domain_iopte_stats - count the IOPTEs over an IOVA range
 * @domain: a mock domain
 * @iova: start, a multiple of MOCK_IO_PAGE_SIZE
 * @last: last IOVA, one below a multiple of MOCK_IO_PAGE_SIZE
 * @stats: out: IOPTEs of each size overlapping the range, unmapped bytes
 *
 * The range may be as large as the IOVA space: the walk follows the page
 * table, one top-level entry at a time with the lock dropped in between,
 * and counts the IOVA beyond the table as unmapped in one step.
 */
void mock_domain_iopte_stats(struct iommu_domain *domain, unsigned long iova,
			     unsigned long last,
			     struct iommu_test_iopte_stats *stats)
{
	struct mock_domain *mock = to_mock(domain);
	unsigned long cur = iova;

	memset(stats, 0, sizeof(*stats));
	while (mock_top_index(cur) < mock->nr_top) {
		unsigned long top_last = min(last, ALIGN_DOWN(cur,
					MOCK_HUGE_PAGE_SIZE) + MOCK_HUGE_PAGE_SIZE - 1);

		spin_lock(&mock->lock);
		mock_stats_one_top(mock, cur, top_last, stats);
		spin_unlock(&mock->lock);
		if (top_last == last)
			return;
		cur = top_last + 1;
		cond_resched();
	}
	stats->unmapped += last - cur + 1;
}

/*
 * Record, and clear unless @clear is false, the dirty IOPTEs of one
 * top-level entry over [first, last], two IOVAs inside it. A huge IOPTE
 * is one dirty bit for all of it, as in hardware.
 */
static void mock_dirty_one_top(struct mock_domain *mock, unsigned long first,
			       unsigned long last, bool clear,
			       struct iommufd_dirty_bits *dirty)
{
	unsigned long *top = &mock->top[mock_top_index(first)];
	unsigned long base = ALIGN_DOWN(first, MOCK_HUGE_PAGE_SIZE);
	unsigned long i = mock_leaf_index(first), end = mock_leaf_index(last);
	struct mock_leaf *leaf;

	lockdep_assert_held(&mock->lock);
	if (*top & MOCK_PTE_HUGE) {
		if (*top & MOCK_PTE_DIRTY) {
			iommufd_dirty_record(dirty, base, MOCK_HUGE_PAGE_SIZE);
			if (clear)
				*top &= ~(unsigned long)MOCK_PTE_DIRTY;
		}
		return;
	}
	leaf = (struct mock_leaf *)*top;
	if (!leaf)
		return;
	for (; i <= end; i++) {
		if (!(leaf->pte[i] & MOCK_PTE_DIRTY))
			continue;
		iommufd_dirty_record(dirty, base + i * MOCK_IO_PAGE_SIZE,
				     MOCK_IO_PAGE_SIZE);
		if (clear)
			leaf->pte[i] &= ~(u64)MOCK_PTE_DIRTY;
	}
}

/*
 * Walk [iova, iova + length - 1] one top-level entry at a time, the lock
 * dropped in between; only what lies inside the table.
 */
static void mock_walk_tops(struct mock_domain *mock, unsigned long iova,
			   unsigned long length,
			   void (*fn)(struct mock_domain *mock, unsigned long first,
				      unsigned long last, void *arg),
			   void *arg)
{
	unsigned long last = iova + length - 1, cur = iova;

	while (mock_top_index(cur) < mock->nr_top) {
		unsigned long top_last = min(last, ALIGN_DOWN(cur,
					MOCK_HUGE_PAGE_SIZE) + MOCK_HUGE_PAGE_SIZE - 1);

		spin_lock(&mock->lock);
		fn(mock, cur, top_last, arg);
		spin_unlock(&mock->lock);
		if (top_last == last)
			return;
		cur = top_last + 1;
		cond_resched();
	}
}

struct mock_read_arg {
	bool clear;
	struct iommufd_dirty_bits *dirty;
};

static void mock_read_top(struct mock_domain *mock, unsigned long first,
			  unsigned long last, void *arg)
{
	struct mock_read_arg *read = arg;

	mock_dirty_one_top(mock, first, last, read->clear, read->dirty);
}

static int mock_read_and_clear_dirty(struct iommu_domain *domain,
				     unsigned long iova, unsigned long length,
				     unsigned long flags,
				     struct iommufd_dirty_bits *dirty)
{
	struct mock_domain *mock = to_mock(domain);
	struct mock_read_arg read = {
		.clear = !(flags & IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR),
		.dirty = dirty,
	};

	/* Reading with tracking off is EINVAL, as upstream's drivers say. */
	if (dirty && !READ_ONCE(mock->tracking))
		return -EINVAL;
	mock_walk_tops(mock, iova, length, mock_read_top, &read);
	return 0;
}

static int mock_set_dirty_tracking(struct iommu_domain *domain, bool enable)
{
	struct mock_domain *mock = to_mock(domain);
	int rc = 0;

	spin_lock(&mock->lock);
	if (enable && (!mock->can_track || mock->untracked_devs))
		rc = -EOPNOTSUPP;
	else
		mock->tracking = enable;
	spin_unlock(&mock->lock);
	return rc;
}

bool mock_domain_tracking(struct iommu_domain *domain)
{
	return READ_ONCE(to_mock(domain)->tracking);
}

/* Set MOCK_PTE_DIRTY on every IOPTE of one top-level entry in range. */
static void mock_mark_top(struct mock_domain *mock, unsigned long first,
			  unsigned long last, void *arg)
{
	unsigned long *top = &mock->top[mock_top_index(first)];
	unsigned long i = mock_leaf_index(first), end = mock_leaf_index(last);
	struct mock_leaf *leaf = (struct mock_leaf *)*top;
	bool *marked = arg;

	if (*top & MOCK_PTE_HUGE) {
		*top |= MOCK_PTE_DIRTY;
		*marked = true;
		return;
	}
	for (; leaf && i <= end; i++) {
		if (leaf->pte[i]) {
			leaf->pte[i] |= MOCK_PTE_DIRTY;
			*marked = true;
		}
	}
}

/**
 * mock_domain_mark_dirty - act as if the device wrote [iova, iova + length)
 * @domain: a mock domain
 * @iova: first IOVA
 * @length: bytes, not 0; the range may wrap or leave the table, whose
 *	part outside is ignored
 *
 * Marks every IOPTE overlapping the range dirty (a huge IOPTE as a
 * whole). Returns whether any IOPTE was there.
 */
bool mock_domain_mark_dirty(struct iommu_domain *domain, unsigned long iova,
			    unsigned long length)
{
	bool marked = false;

	if (iova + length - 1 < iova)
		length = -iova;
	mock_walk_tops(to_mock(domain), iova, length, mock_mark_top, &marked);
	return marked;
}

static void mock_domain_free(struct iommu_domain *domain)
{
	struct mock_domain *mock = to_mock(domain);
	unsigned long i;

	/* The core unmaps everything before it frees a domain. */
	WARN_ON(mock->nr_ptes);
	for (i = 0; i != mock->nr_top; i++) {
		if (mock->top[i] && !(mock->top[i] & MOCK_PTE_HUGE))
			kfree((void *)mock->top[i]);
		/* A wide aperture's table is a million entries long. */
		if (!(i % MOCK_LEAF_ENTRIES))
			cond_resched();
	}
	kvfree(mock->top);
	kfree(mock);
}

static const struct iommu_domain_ops mock_domain_ops = {
	.map_pages = mock_map_pages,
	.unmap_pages = mock_unmap_pages,
	.iova_to_phys = mock_iova_to_phys,
	.free = mock_domain_free,
};

bool mock_domain_is_mock(struct iommu_domain *domain)
{
	return domain->ops == &mock_domain_ops;
}

void mock_domain_set_limit(struct iommu_domain *domain, unsigned long limit)
{
	to_mock(domain)->limit = limit;
}

/* The IOPTE sizes of the domains a mock device makes; it takes no other. */
static unsigned long mock_dev_pgsizes(const struct mock_dev *mdev)
{
	if (mdev->flags & MOCK_FLAGS_DEVICE_HUGE_IOPTE_ONLY)
		return MOCK_HUGE_PAGE_SIZE;
	if (mdev->flags & MOCK_FLAGS_DEVICE_HUGE_IOVA)
		return MOCK_IO_PAGE_SIZE | MOCK_HUGE_PAGE_SIZE;
	return MOCK_IO_PAGE_SIZE;
}

/* The aperture of the domains a mock device makes; it takes no other. */
static void mock_dev_aperture(const struct mock_dev *mdev,
			      dma_addr_t *start, dma_addr_t *end)
{
	if (mdev->flags & MOCK_FLAGS_DEVICE_APERTURE_AT_0) {
		*start = 0;
		*end = 0;
		return;
	}
	*start = MOCK_APERTURE_START;
	*end = (mdev->flags & MOCK_FLAGS_DEVICE_WIDE_APERTURE) ?
		       MOCK_WIDE_APERTURE_LAST : MOCK_APERTURE_LAST;
}

static bool mock_dev_aperture_is(const struct mock_dev *mdev,
				 const struct iommu_domain *domain)
{
	dma_addr_t start, end;

	mock_dev_aperture(mdev, &start, &end);
	return domain->geometry.aperture_start == start &&
	       domain->geometry.aperture_end == end;
}

static bool mock_dirty_capable(struct iommufd_device *idev)
{
	struct mock_dev *mdev = idev->drv_data;

	return !(mdev->flags & MOCK_FLAGS_DEVICE_NO_DIRTY);
}

static struct iommu_domain *mock_alloc_paging(struct iommufd_device *idev,
					      u32 flags)
{
	struct mock_dev *mdev = idev->drv_data;
	struct mock_domain *mock;

	if ((flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) &&
	    !mock_dirty_capable(idev))
		return ERR_PTR(-EOPNOTSUPP);

	mock = kzalloc(sizeof(*mock), GFP_KERNEL_ACCOUNT);
	if (!mock)
		return ERR_PTR(-ENOMEM);
	mock_dev_aperture(mdev, &mock->domain.geometry.aperture_start,
			  &mock->domain.geometry.aperture_end);
	mock->nr_top = mock_top_index(mock->domain.geometry.aperture_end) + 1;
	/* vmalloc for a wide aperture: 8 MiB of table, not contiguous. */
	mock->top = kvcalloc(mock->nr_top, sizeof(*mock->top),
			     GFP_KERNEL_ACCOUNT);
	if (!mock->top) {
		kfree(mock);
		return ERR_PTR(-ENOMEM);
	}
	spin_lock_init(&mock->lock);
	mock->can_track = mock_dirty_capable(idev);
	mock->enforce_dirty = flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	mock->domain.type = IOMMU_DOMAIN_UNMANAGED;
	mock->domain.ops = &mock_domain_ops;
	mock->domain.pgsize_bitmap = mock_dev_pgsizes(mdev);
	mock->domain.geometry.force_aperture = true;
	return &mock->domain;
}

/*
 * The paging domain a device attached to @domain translates through:
 * @domain, or a nested domain's parent, whose dirty tracking then sees
 * (or misses) the device's writes.
 */
static struct iommu_domain *mock_paging_of(struct iommu_domain *domain)
{
	return mock_domain_is_nested(domain) ? mock_nested_parent(domain) :
					       domain;
}

/* A device that cannot track leaves its domain. */
static void mock_untracked_leave(struct mock_dev *mdev)
{
	struct mock_domain *mock;

	if (!mdev->domain || !(mdev->flags & MOCK_FLAGS_DEVICE_NO_DIRTY))
		return;
	mock = to_mock(mock_paging_of(mdev->domain));
	spin_lock(&mock->lock);
	mock->untracked_devs--;
	spin_unlock(&mock->lock);
}

/*
 * A nested domain is attached as its parent would be: the device's DMA
 * goes through the parent's page table, so the parent must suit the
 * device, and the parent's dirty tracking rules apply.
 */
static int mock_attach(struct iommufd_device *idev,
		       struct iommu_domain *domain)
{
	struct iommu_domain *paging = mock_paging_of(domain);
	struct mock_dev *mdev = idev->drv_data;

	if (!mock_domain_is_mock(paging))
		return -EINVAL;
	/*
	 * Only a domain of its own IOPTE sizes: a huge-IOVA device wants its
	 * own large IOPTEs, not a shared table.
	 */
	if (paging->pgsize_bitmap != mock_dev_pgsizes(mdev))
		return -EINVAL;
	if (!mock_dev_aperture_is(mdev, paging))
		return -EINVAL;
	if (!mock_dirty_capable(idev)) {
		struct mock_domain *mock = to_mock(paging);

		/* Its writes would go unseen: not where they are tracked. */
		spin_lock(&mock->lock);
		if (mock->enforce_dirty || mock->tracking) {
			spin_unlock(&mock->lock);
			return -EINVAL;
		}
		mock->untracked_devs++;
		spin_unlock(&mock->lock);
		mock_untracked_leave(mdev);
	}
	mdev->domain = domain;
	return 0;
}

static void mock_detach(struct iommufd_device *idev)
{
	struct mock_dev *mdev = idev->drv_data;

	mock_untracked_leave(mdev);
	mdev->domain = NULL;
}

static void *mock_hw_info(struct iommufd_device *idev, u32 *len, u32 *type)
{
	struct iommu_test_hw_info *info;

	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return ERR_PTR(-ENOMEM);
	info->test_reg = IOMMU_HW_INFO_SELFTEST_REGVAL;
	*len = sizeof(*info);
	*type = IOMMU_HW_INFO_TYPE_SELFTEST;
	return info;
}

/* A MOCK_FLAGS_DEVICE_PASID device has upstream's mock PASID width. */
static u8 mock_max_pasid_log2(struct iommufd_device *idev)
{
	struct mock_dev *mdev = idev->drv_data;

	return (mdev->flags & MOCK_FLAGS_DEVICE_PASID) ? MOCK_PASID_WIDTH : 0;
}

void mock_dev_init(struct mock_dev *mdev, u32 flags)
{
	mdev->flags = flags;
	spin_lock_init(&mdev->iopf_lock);
}

/* Every mock device can report I/O page faults, as upstream's can. */
static int mock_iopf_enable(struct iommufd_device *idev)
{
	struct mock_dev *mdev = idev->drv_data;

	spin_lock(&mdev->iopf_lock);
	mdev->iopf_on = true;
	spin_unlock(&mdev->iopf_lock);
	return 0;
}

static void mock_iopf_disable(struct iommufd_device *idev)
{
	struct mock_dev *mdev = idev->drv_data;

	spin_lock(&mdev->iopf_lock);
	mdev->iopf_on = false;
	spin_unlock(&mdev->iopf_lock);
}

/* The device receives the answer to a group: log it for the tests. */
static void mock_page_response(struct iommufd_device *idev,
			       const struct iommu_hwpt_pgfault *last, u32 code)
{
	struct mock_dev *mdev = idev->drv_data;
	struct iommu_test_iopf_response *r;

	spin_lock(&mdev->iopf_lock);
	if (mdev->count == MOCK_IOPF_LOG_MAX) {
		mdev->lost++;
	} else {
		r = &mdev->log[(mdev->head + mdev->count) % MOCK_IOPF_LOG_MAX];
		r->flags = last->flags;
		r->pasid = last->pasid;
		r->grpid = last->grpid;
		r->code = code;
		mdev->count++;
	}
	spin_unlock(&mdev->iopf_lock);
}

/**
 * mock_dev_iopf_take - take the oldest answers the device received
 * @mdev: the device
 * @out: room for @n answers
 * @n: how many to take at most
 * @lost: out: answers dropped because the log was full (then reset)
 * @iopf_on: out: whether the device may report faults now
 *
 * Returns how many were taken into @out.
 */
unsigned int mock_dev_iopf_take(struct mock_dev *mdev,
				struct iommu_test_iopf_response *out,
				unsigned int n, u32 *lost, bool *iopf_on)
{
	unsigned int i;

	spin_lock(&mdev->iopf_lock);
	n = min(n, mdev->count);
	for (i = 0; i != n; i++)
		out[i] = mdev->log[(mdev->head + i) % MOCK_IOPF_LOG_MAX];
	mdev->head = (mdev->head + n) % MOCK_IOPF_LOG_MAX;
	mdev->count -= n;
	*lost = mdev->lost;
	mdev->lost = 0;
	*iopf_on = mdev->iopf_on;
	spin_unlock(&mdev->iopf_lock);
	return n;
}

static void mock_free_domain(struct iommu_domain *domain)
{
	if (mock_domain_is_nested(domain))
		mock_nested_free(domain);
	else
		mock_domain_free(domain);
}

/*
 * Upstream's mock: another data type or any flag is EOPNOTSUPP, a parent
 * that is no mock paging domain EINVAL, then the blob's own checks.
 */
static struct iommu_domain *
mock_alloc_nested(struct iommufd_device *idev, struct iommu_domain *parent,
		  u32 flags, const struct iommufd_user_data *data)
{
	if (data->type != IOMMU_HWPT_DATA_SELFTEST || flags)
		return ERR_PTR(-EOPNOTSUPP);
	if (!mock_domain_is_mock(parent))
		return ERR_PTR(-EINVAL);
	return mock_nested_alloc(parent, data);
}

const struct iommufd_device_ops mock_device_ops = {
	.domain_alloc_paging = mock_alloc_paging,
	.domain_free = mock_free_domain,
	.attach = mock_attach,
	.detach = mock_detach,
	.hw_info = mock_hw_info,
	.max_pasid_log2 = mock_max_pasid_log2,
	.dirty_capable = mock_dirty_capable,
	.set_dirty_tracking = mock_set_dirty_tracking,
	.read_and_clear_dirty = mock_read_and_clear_dirty,
	.domain_alloc_nested = mock_alloc_nested,
	.cache_invalidate = mock_nested_invalidate,
	.iopf_enable = mock_iopf_enable,
	.iopf_disable = mock_iopf_disable,
	.page_response = mock_page_response,
};
