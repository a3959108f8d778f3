// SPDX-License-Identifier: GPL-2.0
/*
 * IOAS commands: the I/O address space object and the ioctls that act on
 * it. User input is validated here; the address space itself is managed
 * by the io_pagetable layer below.
 */
#include <linux/capability.h>
#include <linux/iommu.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "fault.h"
#include "iommufd_private.h"
#include "pages.h"

struct iommufd_ioas *iommufd_get_ioas(struct iommufd_ctx *ictx, u32 id)
{
	struct iommufd_object *obj;

	obj = iommufd_get_object(ictx, id, IOMMUFD_OBJ_IOAS);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct iommufd_ioas, obj);
}

static void iommufd_put_ioas(struct iommufd_ctx *ictx,
			     struct iommufd_ioas *ioas)
{
	iommufd_put_object(ictx, &ioas->obj);
}

static void iommufd_ioas_destroy(struct iommufd_object *obj)
{
	struct iommufd_ioas *ioas = container_of(obj, struct iommufd_ioas, obj);
	struct iommufd_ctx *ictx = ioas->ictx;

	/* Destroying the VFIO compat IOAS forgets the choice (vfio_compat.c). */
	xa_lock(&ictx->objects);
	if (ictx->vfio_ioas == ioas)
		ictx->vfio_ioas = NULL;
	xa_unlock(&ictx->objects);
	WARN_ON(!list_empty(&ioas->auto_hwpts));
	WARN_ON(!list_empty(&ioas->hwpts));
	mutex_destroy(&ioas->mutex);
	iopt_destroy(&ioas->iopt);
}

static const struct iommufd_object_ops iommufd_ioas_ops = {
	.destroy = iommufd_ioas_destroy,
};

/**
 * iommufd_ioas_alloc - a new, empty IOAS, not yet in the object table
 * @ictx: the context
 * @windowed: IOMMU_IOAS_ALLOC_WINDOWED
 *
 * The caller publishes it with iommufd_object_finalize(), or gives it up
 * with iopt_destroy() and iommufd_object_abort().
 */
struct iommufd_ioas *iommufd_ioas_alloc(struct iommufd_ctx *ictx,
					bool windowed)
{
	struct iommufd_ioas *ioas;

	ioas = iommufd_object_alloc(ictx, ioas, IOMMUFD_OBJ_IOAS,
				    &iommufd_ioas_ops);
	if (IS_ERR(ioas))
		return ioas;
	ioas->ictx = ictx;
	iopt_init(&ioas->iopt, windowed, &ictx->pages_cache);
	mutex_init(&ioas->mutex);
	INIT_LIST_HEAD(&ioas->auto_hwpts);
	INIT_LIST_HEAD(&ioas->hwpts);
	return ioas;
}

int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_alloc *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->flags & ~IOMMU_IOAS_ALLOC_WINDOWED)
		return -EOPNOTSUPP;

	ioas = iommufd_ioas_alloc(ucmd->ictx,
				  cmd->flags & IOMMU_IOAS_ALLOC_WINDOWED);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	cmd->out_ioas_id = ioas->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		iopt_destroy(&ioas->iopt);
		iommufd_object_abort(ucmd->ictx, &ioas->obj);
		return rc;
	}
	iommufd_object_finalize(ucmd->ictx, &ioas->obj);
	return iommufd_ucmd_new_id(ucmd, ioas->obj.id);
}

#define IOAS_MAP_FLAGS                                                         \
	(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |               \
	 IOMMU_IOAS_MAP_READABLE)

/*
 * Checks shared by MAP and COPY, in upstream's order: unknown flags
 * (EOPNOTSUPP), an IOVA or length that does not fit (@overflow,
 * EOVERFLOW), then no access at all (EINVAL). Returns the IOMMU_*
 * protection bits.
 */
static int ioas_map_prot(u32 flags, bool overflow)
{
	int prot = 0;

	if (flags & ~IOAS_MAP_FLAGS)
		return -EOPNOTSUPP;
	if (overflow)
		return -EOVERFLOW;
	if (flags & IOMMU_IOAS_MAP_WRITEABLE)
		prot |= IOMMU_WRITE;
	if (flags & IOMMU_IOAS_MAP_READABLE)
		prot |= IOMMU_READ;
	/* A mapping nobody may access is a mistake, not a request. */
	if (!prot)
		return -EINVAL;
	/* No cache-maintenance uAPI exists, so DMA must be coherent. */
	return prot | IOMMU_CACHE;
}

static unsigned int ioas_map_iopt_flags(u32 flags)
{
	return (flags & IOMMU_IOAS_MAP_FIXED_IOVA) ? 0 : IOPT_ALLOC_IOVA;
}

/* MAP and UNMAP can run on io_uring's nonblocking issue; see main.c. */
static unsigned int ioas_nowait_flag(struct iommufd_ucmd *ucmd)
{
	return ucmd->nowait ? IOPT_NOWAIT : 0;
}

/*
 * Reply to a MAP or COPY that created [iova, iova + length). If the reply
 * cannot be written the caller never learns the IOVA, so take it back.
 */
static int ioas_respond_mapped(struct iommufd_ucmd *ucmd, size_t cmd_len,
			       struct iommufd_ioas *ioas, unsigned long iova,
			       unsigned long length)
{
	unsigned long unmapped;
	int rc;

	rc = iommufd_ucmd_respond(ucmd, cmd_len);
	if (rc)
		iopt_unmap(&ioas->iopt, iova, length, &unmapped);
	return rc;
}

int iommufd_ioas_map(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map *cmd = ucmd->cmd;
	unsigned long iova = cmd->iova;
	struct iommufd_ioas *ioas;
	bool overflow;
	int prot, rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	overflow = cmd->iova >= ULONG_MAX || cmd->length >= ULONG_MAX;
	prot = ioas_map_prot(cmd->flags, overflow);
	if (prot < 0)
		return prot;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = iopt_map_user(&ioas->iopt, &iova, u64_to_user_ptr(cmd->user_va),
			   cmd->length, prot,
			   ioas_map_iopt_flags(cmd->flags) | ioas_nowait_flag(ucmd),
			   READ_ONCE(ucmd->ictx->account_mode));
	if (rc)
		goto out_put;
	cmd->iova = iova;
	rc = ioas_respond_mapped(ucmd, sizeof(*cmd), ioas, iova, cmd->length);
out_put:
	iommufd_put_ioas(ucmd->ictx, ioas);
	return rc;
}

int iommufd_ioas_copy(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_copy *cmd = ucmd->cmd;
	unsigned long iova = cmd->dst_iova;
	struct iommufd_ioas *src, *dst;
	struct iopt_copy_src cs;
	bool overflow;
	int prot, rc;

	overflow = cmd->length >= ULONG_MAX || cmd->src_iova >= ULONG_MAX ||
		   cmd->dst_iova >= ULONG_MAX;
	prot = ioas_map_prot(cmd->flags, overflow);
	if (prot < 0)
		return prot;

	/*
	 * As upstream: the source and its range first, then the
	 * destination, so a bad source range wins over a bad dst_ioas_id.
	 * The source's pages stay referenced by @cs, not by the IOAS.
	 */
	src = iommufd_get_ioas(ucmd->ictx, cmd->src_ioas_id);
	if (IS_ERR(src))
		return PTR_ERR(src);
	rc = iopt_copy_get(&src->iopt, cmd->src_iova, cmd->length, &cs);
	iommufd_put_ioas(ucmd->ictx, src);
	if (rc)
		goto out_cs;
	dst = iommufd_get_ioas(ucmd->ictx, cmd->dst_ioas_id);
	if (IS_ERR(dst)) {
		rc = PTR_ERR(dst);
		goto out_cs;
	}
	rc = iopt_copy_map(&dst->iopt, &cs, &iova, prot,
			   ioas_map_iopt_flags(cmd->flags));
	if (!rc) {
		cmd->dst_iova = iova;
		rc = ioas_respond_mapped(ucmd, sizeof(*cmd), dst, iova,
					 cmd->length);
	}
	iommufd_put_ioas(ucmd->ictx, dst);
out_cs:
	iopt_copy_put(&cs);
	return rc;
}

int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_unmap *cmd = ucmd->cmd;
	unsigned long unmapped = 0;
	struct iommufd_ioas *ioas;
	int rc;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	if (cmd->iova == 0 && cmd->length == U64_MAX) {
		/* Unmapping everything succeeds even when nothing is mapped. */
		rc = ucmd->nowait ? -EAGAIN :
				    iopt_unmap_all(&ioas->iopt, &unmapped);
	} else if (cmd->iova >= ULONG_MAX || cmd->length >= ULONG_MAX) {
		rc = -EOVERFLOW;
	} else if (ucmd->nowait) {
		rc = iopt_unmap_nowait(&ioas->iopt, cmd->iova, cmd->length,
				       &unmapped);
		if (!rc && !unmapped)
			rc = -ENOENT;
	} else {
		rc = iopt_unmap(&ioas->iopt, cmd->iova, cmd->length,
				&unmapped);
		if (!rc && !unmapped)
			rc = -ENOENT;
	}
	if (!rc) {
		cmd->length = unmapped;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_ioas(ucmd->ictx, ioas);
	return rc;
}

/**
 * struct ioas_list - how one list command reports its elements
 * @elem_size: size of the io_pagetable's element
 * @fetch: fill up to @max elements into @buf and return how many exist
 * @put: convert element @elem and copy it to user element @i of @uarray
 *
 * IOVA_RANGES and LIST_WINDOWS report the same way: fill what the caller
 * has room for, say how many there are, fail with EMSGSIZE when the room
 * was short.
 */
struct ioas_list {
	size_t elem_size;
	u32 (*fetch)(struct io_pagetable *iopt, void *buf, u32 max, void *arg);
	int (*put)(void __user *uarray, u32 i, const void *elem);
};

/*
 * Fetch up to @room elements into a new buffer sized for @have of them
 * (the count seen last, with slack for growth), never more than the
 * caller has room for. *@total gets the count at the time of the fetch.
 */
static void *ioas_fetch_list(struct io_pagetable *iopt,
			     const struct ioas_list *list, void *arg, u32 have,
			     u32 *room, u32 *total)
{
	void *buf = NULL;

	*room = min_t(u64, (u64)have + have / 4 + 1, *room);
	if (*room) {
		/* Only a list that big in kernel memory already gets here. */
		if (*room > INT_MAX / list->elem_size)
			return ERR_PTR(-ENOMEM);
		buf = iommufd_kvcalloc(*room, list->elem_size);
		if (!buf)
			return ERR_PTR(-ENOMEM);
	}
	*total = list->fetch(iopt, buf, *room, arg);
	return buf;
}

/*
 * Copy out up to @room elements to @uptr; *@total gets the count. The
 * list can grow between sizing the buffer and filling it: fetch again
 * until the count agrees with what was filled, so the count reported
 * is always what the caller got, or more than its room (EMSGSIZE).
 */
static int ioas_report_list(struct io_pagetable *iopt,
			    const struct ioas_list *list, void *arg, u64 uptr,
			    u32 room, u32 *total)
{
	u32 have = list->fetch(iopt, NULL, 0, arg);
	u32 filled, i;
	void *buf;
	int rc = 0;

	for (;;) {
		filled = room;
		buf = ioas_fetch_list(iopt, list, arg, have, &filled, total);
		if (IS_ERR(buf))
			return PTR_ERR(buf);
		/* All of it fitted, or the caller's room is full anyway. */
		if (*total <= filled || filled == room)
			break;
		kvfree(buf);
		have = *total;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	for (i = 0; i != min(*total, filled) && !rc; i++) {
		rc = list->put(u64_to_user_ptr(uptr), i,
			       buf + i * list->elem_size);
		cond_resched();
	}
	kvfree(buf);
	return rc;
}

static u32 ioas_fetch_ranges(struct io_pagetable *iopt, void *buf, u32 max,
			     void *alignment)
{
	return iopt_usable_ranges(iopt, buf, max, alignment);
}

static int ioas_put_range(void __user *uarray, u32 i, const void *elem)
{
	const struct iopt_range *range = elem;
	struct iommu_iova_range out = {
		.start = range->start,
		.last = range->last,
	};
	struct iommu_iova_range __user *uranges = uarray;

	return iommufd_copy_to_user(&uranges[i], &out, sizeof(out)) ?
		       -EFAULT : 0;
}

static const struct ioas_list ioas_ranges_list = {
	.elem_size = sizeof(struct iopt_range),
	.fetch = ioas_fetch_ranges,
	.put = ioas_put_range,
};

int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_iova_ranges *cmd = ucmd->cmd;
	unsigned long alignment;
	struct iommufd_ioas *ioas;
	u32 total;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = ioas_report_list(&ioas->iopt, &ioas_ranges_list, &alignment,
			      cmd->allowed_iovas, cmd->num_iovas, &total);
	if (rc)
		goto out_put;
	/* Tell the caller how much room it needs even when it had too little. */
	rc = total > cmd->num_iovas ? -EMSGSIZE : 0;
	cmd->num_iovas = total;
	cmd->out_iova_alignment = alignment;
	if (iommufd_ucmd_respond(ucmd, sizeof(*cmd)))
		rc = -EFAULT;
out_put:
	iommufd_put_ioas(ucmd->ictx, ioas);
	return rc;
}

/*
 * Read the @num user ranges at @uptr into @list, one at a time: the count
 * is only a claim, so nothing is allocated for it up front, and a count
 * far beyond the real array ends in EFAULT where the array does. As
 * upstream, the first bad element ends the read: an element that is
 * malformed or overlaps an earlier one gives EINVAL even when a later one
 * could not be read.
 */
static int ioas_read_allowed(u64 uptr, u32 num, struct rb_root_cached *list)
{
	struct iommu_iova_range __user *uranges = u64_to_user_ptr(uptr);
	int rc;
	u32 i;

	for (i = 0; i != num; i++) {
		struct iommu_iova_range in;

		if (fatal_signal_pending(current))
			return -EINTR;
		if (iommufd_copy_from_user(&in, &uranges[i], sizeof(in)))
			return -EFAULT;
		rc = iopt_allowed_add(list, in.start, in.last);
		if (rc)
			return rc;
		cond_resched();
	}
	return 0;
}

int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_allow_iovas *cmd = ucmd->cmd;
	struct rb_root_cached list = RB_ROOT_CACHED;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = ioas_read_allowed(cmd->allowed_iovas, cmd->num_iovas, &list);
	/* A windowed IOAS refuses any list, after the list's own errors. */
	if (!rc)
		rc = iopt_set_allowed(&ioas->iopt, &list);
	iopt_allowed_free(&list);
	iommufd_put_ioas(ucmd->ictx, ioas);
	return rc;
}

/* IOMMU_OPTION_RLIMIT_MODE: global to the context, object_id must be 0. */
static int option_rlimit_mode(struct iommu_option *cmd,
			      struct iommufd_ctx *ictx)
{
	int rc = 0;

	if (cmd->object_id)
		return -EOPNOTSUPP;
	if (cmd->op == IOMMU_OPTION_OP_GET) {
		cmd->val64 = READ_ONCE(ictx->account_mode) == IOPT_ACCOUNT_MM;
		return 0;
	}
	if (cmd->op != IOMMU_OPTION_OP_SET)
		return -EOPNOTSUPP;
	if (!capable(CAP_SYS_RESOURCE))
		return -EPERM;

	/*
	 * Memory already mapped keeps its mode, so only an empty context;
	 * as upstream, that is checked before the value (EBUSY first).
	 */
	xa_lock(&ictx->objects);
	if (!xa_empty(&ictx->objects))
		rc = -EBUSY;
	else if (cmd->val64 > 1)
		rc = -EINVAL;
	else
		WRITE_ONCE(ictx->account_mode, cmd->val64 ? IOPT_ACCOUNT_MM :
							    IOPT_ACCOUNT_USER);
	xa_unlock(&ictx->objects);
	return rc;
}

/* IOMMU_OPTION_HUGE_PAGES: per IOAS. */
static int option_huge_pages(struct iommu_option *cmd,
			     struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;
	int rc = 0;

	/* As upstream: the IOAS is looked up before the op is checked. */
	ioas = iommufd_get_ioas(ictx, cmd->object_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (cmd->op == IOMMU_OPTION_OP_GET)
		cmd->val64 = iopt_large_pages_enabled(&ioas->iopt);
	else if (cmd->op != IOMMU_OPTION_OP_SET)
		rc = -EOPNOTSUPP;
	else if (cmd->val64 > 1)
		rc = -EINVAL;
	else
		rc = iopt_set_large_pages(&ioas->iopt, cmd->val64);
	iommufd_put_ioas(ictx, ioas);
	return rc;
}

int iommufd_option(struct iommufd_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	struct iommu_option __user *uopt = ucmd->ubuffer;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	switch (cmd->option_id) {
	case IOMMU_OPTION_RLIMIT_MODE:
		rc = option_rlimit_mode(cmd, ucmd->ictx);
		break;
	case IOMMU_OPTION_HUGE_PAGES:
		rc = option_huge_pages(cmd, ucmd->ictx);
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (rc)
		return rc;
	/*
	 * Only a get has an output, val64; write back nothing else. A set
	 * writes nothing, so it cannot fail after it took effect.
	 */
	if (cmd->op == IOMMU_OPTION_OP_GET && uopt &&
	    iommufd_copy_to_user(&uopt->val64, &cmd->val64, sizeof(cmd->val64)))
		return -EFAULT;
	return 0;
}

#define CREATE_WINDOW_FLAGS IOMMU_WINDOW_FIXED_BASE
#define WINDOW_ATTRS IOMMU_WINDOW_ATTR_EXACT_IOPTE

/* Extension (not upstream): IOMMU_IOAS_CREATE_WINDOW. */
int iommufd_ioas_create_window(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_create_window *cmd = ucmd->cmd;
	struct iopt_window_info info;
	struct iommufd_ioas *ioas;
	int rc;

	if ((cmd->flags & ~CREATE_WINDOW_FLAGS) || (cmd->attrs & ~WINDOW_ATTRS))
		return -EOPNOTSUPP;
	if (cmd->base >= ULONG_MAX || cmd->length >= ULONG_MAX ||
	    cmd->page_size >= ULONG_MAX)
		return -EOVERFLOW;
	info = (struct iopt_window_info){
		.base = (cmd->flags & IOMMU_WINDOW_FIXED_BASE) ? cmd->base : 0,
		.length = cmd->length,
		.page_size = cmd->page_size,
		.attrs = cmd->attrs,
	};
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = iopt_create_window(&ioas->iopt, &info,
				cmd->flags & IOMMU_WINDOW_FIXED_BASE);
	if (rc)
		goto out_put;
	cmd->base = info.base;
	cmd->page_size = info.page_size;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		unsigned long unmapped;

		iopt_remove_window(&ioas->iopt, info.base, &unmapped);
	}
out_put:
	iommufd_put_ioas(ucmd->ictx, ioas);
	return rc;
}

/* Extension (not upstream): IOMMU_IOAS_REMOVE_WINDOW. */
int iommufd_ioas_remove_window(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_remove_window *cmd = ucmd->cmd;
	unsigned long unmapped;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->base >= ULONG_MAX)
		return -ENOENT;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = iopt_remove_window(&ioas->iopt, cmd->base, &unmapped);
	if (!rc) {
		cmd->out_unmapped = unmapped;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_ioas(ucmd->ictx, ioas);
	return rc;
}

static u32 ioas_fetch_windows(struct io_pagetable *iopt, void *buf, u32 max,
			      void *unused)
{
	return iopt_list_windows(iopt, buf, max);
}

static int ioas_put_window(void __user *uarray, u32 i, const void *elem)
{
	const struct iopt_window_info *win = elem;
	struct iommu_ioas_window out = {
		.base = win->base,
		.length = win->length,
		.page_size = win->page_size,
		.attrs = win->attrs,
	};
	struct iommu_ioas_window __user *uwin = uarray;

	return iommufd_copy_to_user(&uwin[i], &out, sizeof(out)) ? -EFAULT : 0;
}

static const struct ioas_list ioas_windows_list = {
	.elem_size = sizeof(struct iopt_window_info),
	.fetch = ioas_fetch_windows,
	.put = ioas_put_window,
};

/* Extension (not upstream): IOMMU_IOAS_LIST_WINDOWS. */
int iommufd_ioas_list_windows(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_list_windows *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	u32 total;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = -EINVAL;
	if (!ioas->iopt.windowed)
		goto out_put;
	rc = ioas_report_list(&ioas->iopt, &ioas_windows_list, NULL,
			      cmd->windows, cmd->num_windows, &total);
	if (rc)
		goto out_put;
	rc = total > cmd->num_windows ? -EMSGSIZE : 0;
	cmd->num_windows = total;
	if (iommufd_ucmd_respond(ucmd, sizeof(*cmd)))
		rc = -EFAULT;
out_put:
	iommufd_put_ioas(ucmd->ictx, ioas);
	return rc;
}
