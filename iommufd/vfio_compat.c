// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO type1 semantics on an IOAS. A program written for a VFIO type1
 * container (a VMM, DPDK) issues the container ioctls of
 * <uapi/linux/vfio.h>; they carry no IOAS ID, so each context designates
 * one IOAS for them, the compat IOAS, chosen with IOMMU_VFIO_IOAS or made
 * by the VFIO backend. The errnos and their order are those of upstream
 * Linux 6.12's iommufd for the same ioctls; the interface is described in
 * vfio_compat.h, what is supported and refused in
 * Documentation/vfio-compat.rst.
 *
 * This file sits above the IOAS layer: it uses the object table, the IOAS
 * object and the io_pagetable, and nothing uses it but the dispatcher and
 * the VFIO backend.
 */
#include <linux/iommu.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/vfio.h>

#include "dirty.h"
#include "fault.h"
#include "iommufd_private.h"
#include "vfio_compat.h"

static void compat_area_unmapped(struct io_pagetable *iopt,
				 unsigned long start, unsigned long last);

/*
 * The compat IOAS with a short-term reference, or ERR_PTR(-ENODEV). The
 * choice is read under xa_lock (see struct iommufd_ctx), the IOAS looked
 * up through the object table, and the choice checked again: if it
 * changed in between, the IOAS found may not be the one chosen (its ID
 * may even have been reused), so look again.
 */
static struct iommufd_ioas *compat_ioas_get(struct iommufd_ctx *ictx)
{
	for (;;) {
		struct iommufd_ioas *chosen, *ioas;
		bool same;
		u32 id;

		xa_lock(&ictx->objects);
		chosen = ictx->vfio_ioas;
		id = chosen ? chosen->obj.id : 0;
		xa_unlock(&ictx->objects);
		if (!chosen)
			return ERR_PTR(-ENODEV);
		/* Gone from the table: it is being destroyed. */
		ioas = iommufd_get_ioas(ictx, id);
		if (IS_ERR(ioas))
			return ERR_PTR(-ENODEV);
		xa_lock(&ictx->objects);
		same = ictx->vfio_ioas == ioas;
		xa_unlock(&ictx->objects);
		if (same)
			return ioas;
		iommufd_put_object(ictx, &ioas->obj);
		cond_resched();
	}
}

static void compat_ioas_put(struct iommufd_ctx *ictx,
			    struct iommufd_ioas *ioas)
{
	iommufd_put_object(ictx, &ioas->obj);
}

int iommufd_vfio_compat_ioas_get_id(struct iommufd_ctx *ictx,
				    u32 *out_ioas_id)
{
	struct iommufd_ioas *ioas = compat_ioas_get(ictx);

	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	*out_ioas_id = ioas->obj.id;
	compat_ioas_put(ictx, ioas);
	return 0;
}

int iommufd_vfio_compat_set_ioas(struct iommufd_ctx *ictx, u32 ioas_id)
{
	struct iommufd_ioas *ioas = iommufd_get_ioas(ictx, ioas_id);

	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	/*
	 * Our reference keeps a DESTROY of it waiting, so it is still in
	 * the table here; if one follows, its destroy clears the choice.
	 */
	WRITE_ONCE(ioas->iopt.unmapped, compat_area_unmapped);
	xa_lock(&ictx->objects);
	ictx->vfio_ioas = ioas;
	xa_unlock(&ictx->objects);
	compat_ioas_put(ictx, ioas);
	return 0;
}

/* Under xa_lock: is the chosen IOAS there and not being destroyed? */
static bool compat_ioas_live_locked(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *chosen = ictx->vfio_ioas;

	lockdep_assert_held(&ictx->objects.xa_lock);
	return chosen && xa_load(&ictx->objects, chosen->obj.id) == &chosen->obj;
}

int iommufd_vfio_compat_ioas_create(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;
	bool keep_old;

	ioas = iommufd_ioas_alloc(ictx, false);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	ioas->iopt.unmapped = compat_area_unmapped;
	xa_lock(&ictx->objects);
	keep_old = compat_ioas_live_locked(ictx);
	if (!keep_old)
		ictx->vfio_ioas = ioas;
	xa_unlock(&ictx->objects);
	if (keep_old) {
		iopt_destroy(&ioas->iopt);
		iommufd_object_abort(ictx, &ioas->obj);
		return 0;
	}
	/*
	 * Until this, lookups of the new IOAS fail and the compat ioctls
	 * answer ENODEV, as if they came before the create.
	 */
	iommufd_object_finalize(ictx, &ioas->obj);
	return 0;
}

int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd)
{
	struct iommu_vfio_ioas *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	u32 id;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	switch (cmd->op) {
	case IOMMU_VFIO_IOAS_GET:
		rc = iommufd_vfio_compat_ioas_get_id(ictx, &id);
		if (rc)
			return rc;
		cmd->ioas_id = id;
		return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	case IOMMU_VFIO_IOAS_SET:
	case IOMMU_VFIO_IOAS_CLEAR:
		/*
		 * A VFIO container's context, reached through IOMMU_VFIO_LINK:
		 * its groups are attached to its IOAS, which stays its own.
		 */
		if (ictx->vfio_type1_exact)
			return -EBUSY;
		if (cmd->op == IOMMU_VFIO_IOAS_SET)
			return iommufd_vfio_compat_set_ioas(ictx, cmd->ioas_id);
		xa_lock(&ictx->objects);
		ictx->vfio_ioas = NULL;
		xa_unlock(&ictx->objects);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * VFIO_DMA_CC_IOMMU: do all domains of the compat IOAS enforce cache
 * coherency (no DMA snooping can be bypassed)? Trivially so with none.
 */
static int compat_cache_coherent(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas = compat_ioas_get(ictx);
	int rc;

	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	mutex_lock(&ioas->mutex);
	rc = !ioas->noncoherent_hwpts;
	mutex_unlock(&ioas->mutex);
	compat_ioas_put(ictx, ioas);
	return rc;
}

static int compat_check_extension(struct iommufd_ctx *ictx,
				  unsigned long type)
{
	switch (type) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_DMA_CC_IOMMU:
		return compat_cache_coherent(ictx);
	/*
	 * TYPE1_NESTING was never usable and is gone from VFIO; UPDATE_VADDR
	 * (re-pointing a live mapping at new memory) cannot be done safely
	 * on pinned, shared pages; NOIOMMU needs VFIO's unsafe mode. All are
	 * refused, as upstream refuses them.
	 */
	default:
		return 0;
	}
}

/*
 * VFIO_SET_IOMMU. TYPE1 (v1) lets userspace unmap any part of a mapping,
 * which a large IOPTE would forbid; turning large IOPTEs off for the IOAS
 * keeps every part unmappable, so v1 costs only IOTLB reach. That cannot
 * be changed once domains map something: EINVAL.
 */
static int compat_set_iommu(struct iommufd_ctx *ictx, unsigned long type)
{
	struct iommufd_ioas *ioas;
	int rc = 0;

	if (type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU)
		return -EINVAL;
	ioas = compat_ioas_get(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (type == VFIO_TYPE1_IOMMU)
		rc = iopt_set_large_pages(&ioas->iopt, false);
	if (!rc)
		ictx->vfio_v1 = type == VFIO_TYPE1_IOMMU;
	compat_ioas_put(ictx, ioas);
	return rc;
}

/**
 * struct compat_info - VFIO_IOMMU_GET_INFO's reply being laid out
 * @uinfo: the caller's struct vfio_iommu_type1_info
 * @argsz: the room the caller has there, in bytes
 * @end: where the next capability goes: the size the whole reply needs
 *	so far
 * @last_cap: offset of the last capability placed, 0 before the first
 *
 * Capabilities follow the struct, each 8-byte aligned, linked by offset.
 * What does not fit in @argsz is not written, but still counted, so the
 * caller learns the size it needs.
 */
struct compat_info {
	void __user *uinfo;
	u32 argsz;
	u32 end;
	u32 last_cap;
};

/* Copy @len bytes to offset @off of the reply, if they fit. */
static int compat_info_put(struct compat_info *info, u32 off, const void *src,
			   size_t len)
{
	if (info->argsz < off || info->argsz - off < len)
		return 0;
	return iommufd_copy_to_user(info->uinfo + off, src, len) ? -EFAULT : 0;
}

/*
 * Account for a capability of @size bytes at info->end (already written
 * if it fitted) and link the previous one to it, when the previous one
 * was written whole.
 */
static int compat_info_link(struct compat_info *info, u32 size)
{
	u32 next = info->end;
	int rc;

	if (info->last_cap && info->argsz >= next) {
		rc = compat_info_put(info, info->last_cap +
				     offsetof(struct vfio_info_cap_header, next),
				     &next, sizeof(next));
		if (rc)
			return rc;
	}
	info->last_cap = next;
	info->end += ALIGN(size, sizeof(u64));
	return 0;
}

static int compat_info_dma_avail(struct compat_info *info)
{
	struct vfio_iommu_type1_info_dma_avail cap = {
		.header = {
			.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
			.version = 1,
		},
		/*
		 * No count of mappings limits us (memory and its cgroup
		 * do); VFIO's default is U16_MAX, and some VMMs (s390's
		 * QEMU) size their use by it, so say as much as fits.
		 */
		.avail = U32_MAX,
	};
	int rc;

	rc = compat_info_put(info, info->end, &cap, sizeof(cap));
	if (rc)
		return rc;
	return compat_info_link(info, sizeof(cap));
}

/* The usable IOVA ranges, in a buffer sized for all of them. */
static struct iopt_range *compat_usable_ranges(struct io_pagetable *iopt,
					       u32 *count)
{
	unsigned long alignment;
	struct iopt_range *ranges;
	u32 room = iopt_usable_ranges(iopt, NULL, 0, &alignment);

	for (;;) {
		ranges = iommufd_kvcalloc(max_t(u32, room, 1), sizeof(*ranges));
		if (!ranges)
			return ERR_PTR(-ENOMEM);
		*count = iopt_usable_ranges(iopt, ranges, room, &alignment);
		if (*count <= room)
			return ranges;
		/* Reserved ranges changed in between: try with the new count. */
		kvfree(ranges);
		room = *count;
		cond_resched();
	}
}

static int compat_info_iova_ranges(struct compat_info *info,
				   struct iommufd_ioas *ioas)
{
	struct vfio_iommu_type1_info_cap_iova_range cap = {
		.header = {
			.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
			.version = 1,
		},
	};
	struct iopt_range *ranges;
	u32 n, i, size;
	int rc = 0;

	ranges = compat_usable_ranges(&ioas->iopt, &n);
	if (IS_ERR(ranges))
		return PTR_ERR(ranges);
	/* Every range that fits is written, as upstream writes them. */
	for (i = 0; i != n && !rc; i++) {
		struct vfio_iova_range out = {
			.start = ranges[i].start,
			.end = ranges[i].last,
		};

		rc = compat_info_put(info, info->end +
				     struct_size(&cap, iova_ranges, i),
				     &out, sizeof(out));
	}
	kvfree(ranges);
	if (rc)
		return rc;
	cap.nr_iovas = n;
	size = struct_size(&cap, iova_ranges, n);
	/* The header only when the whole capability fits. */
	if (info->argsz >= info->end && info->argsz - info->end >= size)
		rc = compat_info_put(info, info->end, &cap, sizeof(cap));
	if (rc)
		return rc;
	return compat_info_link(info, size);
}

/* type1's largest dirty bitmap: one bit for each of INT_MAX pages. */
#define COMPAT_DIRTY_PAGES_MAX ((u64)INT_MAX)
#define COMPAT_DIRTY_BYTES(n) (ALIGN((u64)(n), 64) / BITS_PER_BYTE)
#define COMPAT_DIRTY_SIZE_MAX COMPAT_DIRTY_BYTES(COMPAT_DIRTY_PAGES_MAX)

/* The page size of dirty bitmaps: the smallest the container maps. */
static unsigned long compat_dirty_pgsize(struct iommufd_ioas *ioas)
{
	unsigned long sizes = iopt_page_sizes(&ioas->iopt);

	return sizes & -sizes;
}

/* VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION: dirty tracking, as type1 offers. */
static int compat_info_migration(struct compat_info *info,
				 struct iommufd_ioas *ioas)
{
	struct vfio_iommu_type1_info_cap_migration cap = {
		.header = {
			.id = VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION,
			.version = 1,
		},
		.pgsize_bitmap = compat_dirty_pgsize(ioas),
		.max_dirty_bitmap_size = COMPAT_DIRTY_SIZE_MAX,
	};
	int rc;

	rc = compat_info_put(info, info->end, &cap, sizeof(cap));
	if (rc)
		return rc;
	return compat_info_link(info, sizeof(cap));
}

static int compat_get_info(struct iommufd_ctx *ictx, void __user *arg)
{
	const u32 minsz = offsetofend(struct vfio_iommu_type1_info,
				      iova_pgsizes);
	struct vfio_iommu_type1_info reply = {};
	struct compat_info info = { .uinfo = arg };
	struct iommufd_ioas *ioas;
	int rc;

	if (iommufd_copy_from_user(&reply, arg, minsz))
		return -EFAULT;
	if (reply.argsz < minsz)
		return -EINVAL;
	ioas = compat_ioas_get(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	info.argsz = reply.argsz;
	info.end = sizeof(reply);
	reply.flags = VFIO_IOMMU_INFO_PGSIZES;
	reply.iova_pgsizes = iopt_page_sizes(&ioas->iopt);
	rc = compat_info_dma_avail(&info);
	if (!rc)
		rc = compat_info_iova_ranges(&info, ioas);
	if (!rc)
		rc = compat_info_migration(&info, ioas);
	compat_ioas_put(ictx, ioas);
	if (rc)
		return rc;

	/* Short of room: no capability is offered, argsz says what it takes. */
	reply.flags |= VFIO_IOMMU_INFO_CAPS;
	reply.cap_offset = info.argsz >= info.end ? sizeof(reply) : 0;
	reply.argsz = info.end;
	if (iommufd_copy_to_user(arg, &reply,
				 min_t(u32, info.argsz, sizeof(reply))))
		return -EFAULT;
	return 0;
}

/*
 * VFIO_IOMMU_MAP_DMA: a fixed IOVA, memory charged per mm (see
 * vfio_compat.h). VADDR (re-pointing a mapping) is refused with the other
 * unknown flags.
 */
static int compat_map_dma(struct iommufd_ctx *ictx, void __user *arg)
{
	const u32 minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct vfio_iommu_type1_dma_map map;
	int prot = IOMMU_CACHE;
	struct iommufd_ioas *ioas;
	unsigned long iova;
	int rc;

	if (iommufd_copy_from_user(&map, arg, minsz))
		return -EFAULT;
	if (map.argsz < minsz ||
	    (map.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)))
		return -EINVAL;
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;

	/*
	 * type1 refuses a mapping with neither READ nor WRITE, and a range
	 * that wraps, with EINVAL; upstream compat maps the first and says
	 * EOVERFLOW to the second.
	 */
	if (ictx->vfio_type1_exact &&
	    (!(prot & (IOMMU_READ | IOMMU_WRITE)) ||
	     (map.size && (map.iova + map.size - 1 < map.iova ||
			   map.vaddr + map.size - 1 < map.vaddr))))
		return -EINVAL;

	ioas = compat_ioas_get(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	iova = map.iova;
	rc = iopt_map_user(&ioas->iopt, &iova, u64_to_user_ptr(map.vaddr),
			   map.size, prot, 0, IOPT_ACCOUNT_MM);
	compat_ioas_put(ictx, ioas);
	return rc;
}

/*
 * A TYPE1 (v1) container may unmap part of a mapping: cut the areas at
 * both ends of the range first. v2 refuses such an unmap with ENOENT.
 */
static int compat_cut_ends(struct io_pagetable *iopt, unsigned long iova,
			   unsigned long size)
{
	const unsigned long ends[] = { iova + size - 1, iova - 1 };

	if (iopt_large_pages_enabled(iopt))
		return 0;
	/* Nothing ends before IOVA 0. */
	return iopt_cut_iova(iopt, ends, iova ? 2 : 1);
}

/*
 * VFIO type1's own TYPE1 (v1) rule, for the backend's containers: a
 * range that starts inside a mapping unmaps nothing, successfully; one
 * that starts at or before a mapping's first IOVA unmaps that mapping
 * whole, even past the range's end. Narrows or widens [@iova, *@size)
 * to what is to be unmapped.
 */
static void compat_type1_v1_range(struct io_pagetable *iopt,
				  unsigned long iova, unsigned long *size)
{
	unsigned long start, last;

	if (!*size)
		return;
	if (iopt_area_bounds(iopt, iova, &start, &last) && start < iova) {
		*size = 0;
		return;
	}
	if (iopt_area_bounds(iopt, iova + *size - 1, &start, &last) &&
	    last > iova + *size - 1)
		*size = last - iova + 1;
}

/*
 * A range unmapped as VFIO type1 does it, for the backend's containers:
 * EINVAL for a range that wraps and for a TYPE1v2 range that cuts a
 * mapping (upstream compat: ENOENT), TYPE1's own rule above.
 */
static int compat_type1_unmap(struct iommufd_ctx *ictx,
			      struct io_pagetable *iopt, unsigned long iova,
			      unsigned long size, unsigned long *unmapped)
{
	int rc;

	if (size && iova + size - 1 < iova)
		return -EINVAL;
	if (ictx->vfio_v1) {
		compat_type1_v1_range(iopt, iova, &size);
		if (!size)
			return 0;
	}
	rc = iopt_unmap(iopt, iova, size, unmapped);
	return rc == -ENOENT ? -EINVAL : rc;
}

/*
 * type1's checks of a struct vfio_bitmap for @size bytes of IOVA, before
 * the container is looked at: a bitmap in user space (EINVAL), at least
 * one page and one byte, at most COMPAT_DIRTY_SIZE_MAX bytes, and room
 * for every page's bit (EINVAL). A page size of 0 has no pages.
 */
static int compat_check_bitmap(const struct vfio_bitmap *bitmap, u64 size)
{
	u64 npages;

	if (!access_ok(bitmap->data, bitmap->size))
		return -EINVAL;
	npages = bitmap->pgsize ? size >> __ffs64(bitmap->pgsize) : 0;
	if (!npages || !bitmap->size ||
	    bitmap->size > COMPAT_DIRTY_SIZE_MAX ||
	    bitmap->size < COMPAT_DIRTY_BYTES(npages))
		return -EINVAL;
	return 0;
}

/*
 * type1's rule for a range whose dirty pages are asked for: it may hold
 * several mappings and holes, but cut none (EINVAL).
 */
static int compat_dirty_range_whole(struct io_pagetable *iopt,
				    unsigned long iova, unsigned long size)
{
	unsigned long start, last;

	if (iopt_area_bounds(iopt, iova, &start, &last) && start != iova)
		return -EINVAL;
	if (iopt_area_bounds(iopt, iova + size - 1, &start, &last) &&
	    last != iova + size - 1)
		return -EINVAL;
	return 0;
}

/*
 * The dirty pages no IOMMU sees (struct iommufd_ctx's vfio_soft_dirty),
 * type1's pinned page scope: a page is reported while an emulated device
 * holds it pinned, and once after it was pinned or written through
 * dma_rw while tracking, even if unpinned since. Each page's value:
 */
enum {
	COMPAT_SOFT_PINNED = 1 << 0,	/* an emulated device holds a pin */
	COMPAT_SOFT_MARKED = 1 << 1,	/* dirtied since the last read */
};

/* Set and clear bits of the page at @index. vfio_dirty_lock held. */
static int compat_soft_update(struct iommufd_ctx *ictx, unsigned long index,
			      unsigned long set, unsigned long clear)
{
	void *old = xa_load(&ictx->vfio_soft_dirty, index);
	unsigned long val = old ? xa_to_value(old) : 0;

	lockdep_assert_held(&ictx->vfio_dirty_lock);
	val = (val | set) & ~clear;
	if (!val) {
		xa_erase(&ictx->vfio_soft_dirty, index);
		return 0;
	}
	return xa_err(xa_store(&ictx->vfio_soft_dirty, index, xa_mk_value(val),
			       GFP_KERNEL_ACCOUNT));
}

/* Forget the marks of the pages of [@first, @last]. vfio_dirty_lock held. */
static void compat_soft_unmark(struct iommufd_ctx *ictx, unsigned long first,
			       unsigned long last)
{
	unsigned long index;
	void *entry;

	xa_for_each_range(&ictx->vfio_soft_dirty, index, entry,
			  first >> PAGE_SHIFT, last >> PAGE_SHIFT) {
		/* Only shrinks or erases an entry: cannot fail. */
		compat_soft_update(ictx, index, 0, COMPAT_SOFT_MARKED);
		cond_resched();
	}
}

/*
 * io_pagetable::unmapped of the container's IOAS: type1's marks go with
 * the mappings, however they were unmapped (the container, or a
 * /dev/iommu fd linked to it), so a new mapping there starts clean. It
 * runs before anything can be mapped there again. Only pages wholly
 * inside the area: a neighbour keeps the marks of a page it shares.
 */
static void compat_area_unmapped(struct io_pagetable *iopt,
				 unsigned long start, unsigned long last)
{
	struct iommufd_ioas *ioas = container_of(iopt, struct iommufd_ioas,
						 iopt);
	struct iommufd_ctx *ictx = ioas->ictx;
	unsigned long first = ALIGN(start, PAGE_SIZE);

	/*
	 * Marks are the chosen IOAS's; another IOAS of the fd has none. With
	 * no marks at all (no page pinned by an emulated device, none marked),
	 * an unmap takes no lock here, as compat_soft_read() does not.
	 */
	if (READ_ONCE(ictx->vfio_ioas) != ioas || first > last ||
	    last - first + 1 < PAGE_SIZE || xa_empty(&ictx->vfio_soft_dirty))
		return;
	mutex_lock(&ictx->vfio_dirty_lock);
	compat_soft_unmark(ictx, first,
			   ALIGN_DOWN(last - first + 1, PAGE_SIZE) + first - 1);
	mutex_unlock(&ictx->vfio_dirty_lock);
}

int iommufd_vfio_compat_pinned(struct iommufd_ctx *ictx, unsigned long iova)
{
	int rc;

	mutex_lock(&ictx->vfio_dirty_lock);
	rc = compat_soft_update(ictx, iova >> PAGE_SHIFT,
				COMPAT_SOFT_PINNED |
				(ictx->vfio_dirty_on ? COMPAT_SOFT_MARKED : 0),
				0);
	mutex_unlock(&ictx->vfio_dirty_lock);
	return rc;
}

/*
 * A page pinned at the last read stays dirty until the next one, as
 * type1 keeps its bit until read: unpinning while tracking marks it.
 * The pin made the page's entry, so changing it allocates nothing.
 */
void iommufd_vfio_compat_unpinned(struct iommufd_ctx *ictx,
				  unsigned long iova)
{
	mutex_lock(&ictx->vfio_dirty_lock);
	compat_soft_update(ictx, iova >> PAGE_SHIFT,
			   ictx->vfio_dirty_on ? COMPAT_SOFT_MARKED : 0,
			   COMPAT_SOFT_PINNED);
	mutex_unlock(&ictx->vfio_dirty_lock);
}

/*
 * type1 marks what dma_rw wrote while tracking. With no memory for a mark
 * every page becomes dirty instead: never report less than was written.
 */
void iommufd_vfio_compat_written(struct iommufd_ctx *ictx, unsigned long iova,
				 size_t length)
{
	unsigned long index, last;

	if (!length || check_add_overflow(iova, length - 1, &last))
		return;
	mutex_lock(&ictx->vfio_dirty_lock);
	for (index = iova >> PAGE_SHIFT;
	     ictx->vfio_dirty_on && index <= last >> PAGE_SHIFT; index++) {
		if (compat_soft_update(ictx, index, COMPAT_SOFT_MARKED, 0)) {
			ictx->vfio_dirty_all = true;
			break;
		}
		cond_resched();
	}
	mutex_unlock(&ictx->vfio_dirty_lock);
}

/*
 * type1's rule when a group that could write unseen leaves while
 * tracking: every mapping it had is dirty whole, once: each is reported
 * whole by the next clearing read that covers it (or an unmap with a
 * bitmap), after which its pages are back to the pinned page scope.
 * Mappings made later start clean.
 */
void iommufd_vfio_compat_group_left(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas = compat_ioas_get(ictx);

	if (IS_ERR(ioas))
		return;
	mutex_lock(&ioas->mutex);
	if (ioas->container_dirty)
		iopt_dirty_mark_all(&ioas->iopt, true);
	mutex_unlock(&ioas->mutex);
	compat_ioas_put(ictx, ioas);
}

/* Tracking starts or stops: no marks, nothing dirty from before. */
static void compat_soft_restart(struct iommufd_ctx *ictx, bool on)
{
	mutex_lock(&ictx->vfio_dirty_lock);
	ictx->vfio_dirty_on = on;
	ictx->vfio_dirty_all = false;
	compat_soft_unmark(ictx, 0, ULONG_MAX);
	mutex_unlock(&ictx->vfio_dirty_lock);
}

/*
 * An iopt_dirty_read_fn: the pages of [@iova, @iova + @length) pinned
 * now or marked, their marks cleared unless @flags has NO_CLEAR.
 */
static int compat_soft_read(void *ctx, unsigned long iova,
			    unsigned long length, unsigned long flags,
			    struct iommufd_dirty_bits *dirty)
{
	struct iommufd_ctx *ictx = ctx;
	unsigned long last = iova + length - 1, index;
	void *entry;

	/*
	 * Nothing pinned or marked, as with real devices only: no lock. A
	 * mark made meanwhile is one made after this read.
	 */
	if (xa_empty(&ictx->vfio_soft_dirty))
		return 0;
	mutex_lock(&ictx->vfio_dirty_lock);
	xa_for_each_range(&ictx->vfio_soft_dirty, index, entry,
			  iova >> PAGE_SHIFT, last >> PAGE_SHIFT) {
		unsigned long start = max(index << PAGE_SHIFT, iova);
		unsigned long end = min((index << PAGE_SHIFT) + PAGE_SIZE - 1,
					last);

		iommufd_dirty_record(dirty, start, end - start + 1);
		if (!(flags & IOPT_DIRTY_NO_CLEAR))
			compat_soft_update(ictx, index, 0, COMPAT_SOFT_MARKED);
		cond_resched();
	}
	mutex_unlock(&ictx->vfio_dirty_lock);
	return 0;
}

/*
 * Does every HW page table of @ioas track for the container? Then their
 * bits are the truth. A HWPT that does not (its IOMMU cannot, a device
 * that cannot track is attached, it joined and could not start, or
 * userspace turned it off) makes every mapped page dirty, as type1
 * reports every page pinned for an IOMMU domain.
 */
static bool compat_dirty_hw(struct iommufd_ioas *ioas)
{
	struct iommufd_hwpt_paging *hwpt;

	lockdep_assert_held(&ioas->mutex);
	list_for_each_entry(hwpt, &ioas->hwpts, ioas_node)
		if (!hwpt->container_dirty)
			return false;
	return true;
}

/**
 * struct compat_dirty_read - what one container read asks each area
 * @ioas: the compat IOAS; its mutex is held
 * @all: every mapped page is dirty
 */
struct compat_dirty_read {
	struct iommufd_ioas *ioas;
	bool all;
};

/*
 * An iopt_dirty_read_fn for the container, so one walk writes each word
 * once: every page where @all (type1's answer where a group with an IOMMU
 * domain cannot say what it wrote), else the bits of every HW page
 * table; then the pages the emulated devices dirtied, whose marks are
 * read either way.
 */
static int compat_dirty_read_fn(void *ctx, unsigned long iova,
				unsigned long length, unsigned long flags,
				struct iommufd_dirty_bits *dirty)
{
	struct compat_dirty_read *read = ctx;
	struct iommufd_hwpt_paging *hwpt;
	int rc;

	if (read->all) {
		iommufd_dirty_record(dirty, iova, length);
	} else {
		list_for_each_entry(hwpt, &read->ioas->hwpts, ioas_node) {
			rc = iommufd_hwpt_dirty_read_fn(hwpt, iova, length,
							flags, dirty);
			if (rc)
				return rc;
		}
	}
	return compat_soft_read(read->ioas->ictx, iova, length, flags, dirty);
}

/**
 * compat_read_dirty - the container's dirty bitmap of a range
 * @ioas: the compat IOAS; the caller holds its mutex
 * @iova: IOVA of bit 0, checked
 * @size: bytes, checked
 * @pgsize: bytes per bit, the container's smallest page size
 * @data: the user's bitmap
 * @clear: start afresh for the range (GET_BITMAP), or not (an unmap)
 *
 * Holes are fine, and the user's words are written as type1 writes them
 * (IOPT_DIRTY_OVERWRITE). Where every HW page table tracks (or there is
 * none), their bits and the pages the emulated devices dirtied, type1's
 * pinned page scope; otherwise every mapped page.
 */
static int compat_read_dirty(struct iommufd_ioas *ioas, unsigned long iova,
			     unsigned long size, unsigned long pgsize,
			     u64 __user *data, bool clear)
{
	unsigned int flags = IOPT_DIRTY_HOLES_OK | IOPT_DIRTY_OVERWRITE |
			     IOPT_DIRTY_AREA_ALL |
			     (clear ? 0 : IOPT_DIRTY_NO_CLEAR);
	struct compat_dirty_read read = {
		.ioas = ioas,
		.all = READ_ONCE(ioas->ictx->vfio_dirty_all) ||
		       !compat_dirty_hw(ioas),
	};

	lockdep_assert_held(&ioas->mutex);
	return iopt_read_dirty(&ioas->iopt, compat_dirty_read_fn, &read, iova,
			       size, pgsize, data, flags);
}

/*
 * The dirty pages of an unmap's range, before it is unmapped, in type1's
 * order: tracking on and the bitmap's page size the container's
 * (EINVAL), a v2 range cutting no mapping (EINVAL). Read without
 * clearing: the mappings are about to go.
 */
static int compat_unmap_dirty(struct iommufd_ioas *ioas,
			      const struct vfio_iommu_type1_dma_unmap *unmap,
			      const struct vfio_bitmap *bitmap)
{
	unsigned long pgsize = compat_dirty_pgsize(ioas);
	int rc = -EINVAL;

	if (unmap->iova & (pgsize - 1) || !unmap->size ||
	    unmap->size & (pgsize - 1) ||
	    unmap->iova + unmap->size - 1 < unmap->iova)
		return -EINVAL;
	mutex_lock(&ioas->mutex);
	if (!ioas->container_dirty || bitmap->pgsize != pgsize)
		goto out_unlock;
	rc = compat_dirty_range_whole(&ioas->iopt, unmap->iova, unmap->size);
	if (!rc)
		rc = compat_read_dirty(ioas, unmap->iova, unmap->size, pgsize,
				       bitmap->data, false);
out_unlock:
	mutex_unlock(&ioas->mutex);
	return rc;
}

/*
 * VFIO_IOMMU_UNMAP_DMA. Once the unmap ran, the size unmapped is written
 * back whether it succeeded or not (0 on failure: ours change nothing
 * when they fail); refusals before that write nothing. With
 * GET_DIRTY_BITMAP the bitmap's checks come first, as type1's.
 */
static int compat_unmap_dma(struct iommufd_ctx *ictx, void __user *arg)
{
	const u32 minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	struct vfio_iommu_type1_dma_unmap unmap;
	struct vfio_bitmap bitmap = {};
	unsigned long unmapped = 0;
	struct iommufd_ioas *ioas;
	int rc;

	if (iommufd_copy_from_user(&unmap, arg, minsz))
		return -EFAULT;
	/* VADDR is refused. */
	if (unmap.argsz < minsz ||
	    (unmap.flags & ~(VFIO_DMA_UNMAP_FLAG_ALL |
			     VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP)))
		return -EINVAL;
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
		if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL ||
		    unmap.argsz < minsz + sizeof(bitmap))
			return -EINVAL;
		if (iommufd_copy_from_user(&bitmap, arg + minsz,
					   sizeof(bitmap)))
			return -EFAULT;
		rc = compat_check_bitmap(&bitmap, unmap.size);
		if (rc)
			return rc;
	}

	ioas = compat_ioas_get(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
		rc = compat_unmap_dirty(ioas, &unmap, &bitmap);
		if (rc)
			goto out_put;
	}
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		rc = -EINVAL;
		if (unmap.iova || unmap.size)
			goto out_put;
		rc = iopt_unmap_all(&ioas->iopt, &unmapped);
	} else if (ictx->vfio_type1_exact) {
		/* type1 writes nothing back when it fails. */
		rc = compat_type1_unmap(ictx, &ioas->iopt, unmap.iova,
					unmap.size, &unmapped);
		if (rc)
			goto out_put;
	} else {
		rc = compat_cut_ends(&ioas->iopt, unmap.iova, unmap.size);
		if (rc)
			goto out_put;
		rc = iopt_unmap(&ioas->iopt, unmap.iova, unmap.size,
				&unmapped);
	}
	unmap.size = unmapped;
	if (iommufd_copy_to_user(arg, &unmap, minsz))
		rc = -EFAULT;
out_put:
	compat_ioas_put(ictx, ioas);
	return rc;
}

/*
 * START: every HW page table of the IOAS starts tracking where it can
 * (after forgetting what was written before), and those made later start
 * as they join (iommufd_hwpt_paging_alloc()). Starting twice changes
 * nothing, as in type1.
 */
static void compat_dirty_start(struct iommufd_ioas *ioas)
{
	struct iommufd_hwpt_paging *hwpt;

	mutex_lock(&ioas->mutex);
	if (!ioas->container_dirty) {
		ioas->container_dirty = true;
		list_for_each_entry(hwpt, &ioas->hwpts, ioas_node)
			hwpt->container_dirty =
				!iommufd_hwpt_dirty_enable_locked(hwpt, true);
		compat_soft_restart(ioas->ictx, true);
		iopt_dirty_mark_all(&ioas->iopt, false);
	}
	mutex_unlock(&ioas->mutex);
}

/* STOP: the HW page tables the container started stop. */
static void compat_dirty_stop(struct iommufd_ioas *ioas)
{
	struct iommufd_hwpt_paging *hwpt;

	mutex_lock(&ioas->mutex);
	if (ioas->container_dirty) {
		ioas->container_dirty = false;
		list_for_each_entry(hwpt, &ioas->hwpts, ioas_node) {
			if (hwpt->container_dirty)
				iommufd_hwpt_dirty_enable_locked(hwpt, false);
			hwpt->container_dirty = false;
		}
		compat_soft_restart(ioas->ictx, false);
		iopt_dirty_mark_all(&ioas->iopt, false);
	}
	mutex_unlock(&ioas->mutex);
}

/*
 * GET_BITMAP, in type1's order: the range's size and the bitmap's checks
 * (EINVAL, EFAULT for the struct), then, against the container, the page
 * size, alignment, tracking on and a range cutting no mapping (EINVAL).
 */
static int compat_dirty_get(struct iommufd_ctx *ictx,
			    struct iommufd_ioas *ioas, void __user *arg,
			    u32 data_size)
{
	struct vfio_iommu_type1_dirty_bitmap_get range;
	unsigned long pgsize;
	int rc;

	if (data_size < sizeof(range))
		return -EINVAL;
	if (iommufd_copy_from_user(&range, arg, sizeof(range)))
		return -EFAULT;
	if (range.iova + range.size < range.iova)
		return -EINVAL;
	rc = compat_check_bitmap(&range.bitmap, range.size);
	if (rc)
		return rc;

	mutex_lock(&ioas->mutex);
	pgsize = compat_dirty_pgsize(ioas);
	rc = -EINVAL;
	if (range.bitmap.pgsize != pgsize || range.iova & (pgsize - 1) ||
	    !range.size || range.size & (pgsize - 1) || !ioas->container_dirty)
		goto out_unlock;
	rc = compat_dirty_range_whole(&ioas->iopt, range.iova, range.size);
	if (!rc)
		rc = compat_read_dirty(ioas, range.iova, range.size, pgsize,
				       range.bitmap.data,
				       true);
out_unlock:
	mutex_unlock(&ioas->mutex);
	return rc;
}

/*
 * VFIO_IOMMU_DIRTY_PAGES, with type1's rules: a v2 container only
 * (EACCES), exactly one known flag (EINVAL). Upstream's iommufd compat
 * has no dirty tracking and answers ENOTTY; here both entries have it.
 */
static int compat_dirty_pages(struct iommufd_ctx *ictx, void __user *arg)
{
	const u32 minsz = offsetofend(struct vfio_iommu_type1_dirty_bitmap,
				      flags);
	const u32 mask = VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
			 VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP |
			 VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	struct vfio_iommu_type1_dirty_bitmap dirty;
	struct iommufd_ioas *ioas;
	int rc = 0;

	if (ictx->vfio_v1)
		return -EACCES;
	if (iommufd_copy_from_user(&dirty, arg, minsz))
		return -EFAULT;
	if (dirty.argsz < minsz || (dirty.flags & ~mask) ||
	    hweight32(dirty.flags) != 1)
		return -EINVAL;
	ioas = compat_ioas_get(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (dirty.flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_START)
		compat_dirty_start(ioas);
	else if (dirty.flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP)
		compat_dirty_stop(ioas);
	else
		rc = compat_dirty_get(ictx, ioas, arg + minsz,
				      dirty.argsz - minsz);
	compat_ioas_put(ictx, ioas);
	return rc;
}

long iommufd_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd,
			unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return compat_check_extension(ictx, arg);
	case VFIO_SET_IOMMU:
		return compat_set_iommu(ictx, arg);
	case VFIO_IOMMU_GET_INFO:
		return compat_get_info(ictx, uarg);
	case VFIO_IOMMU_MAP_DMA:
		return compat_map_dma(ictx, uarg);
	case VFIO_IOMMU_UNMAP_DMA:
		return compat_unmap_dma(ictx, uarg);
	case VFIO_IOMMU_DIRTY_PAGES:
		return compat_dirty_pages(ictx, uarg);
	default:
		return -ENOTTY;
	}
}
