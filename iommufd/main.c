// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/iommu: the character device, its per-open context, the command
 * dispatcher (ioctl and io_uring entries) and the module's init and exit.
 *
 * This is the top of the module: it calls every layer (the command
 * handlers through its table, the object table at open and close, the
 * lower layers' module hooks) and no file calls it. Every open of
 * /dev/iommu is an independent context; its objects live in the table of
 * object.c, and closing the fd destroys whatever is left there.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kernfs.h>
#include <linux/kobject.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "fault.h"
#include "fault_queue.h"
#include "iopte_stats.h"
#include "iommufd_private.h"
#include "pages.h"
#include "vfio_compat.h"
#ifdef CONFIG_IOMMUFD_OOT_TEST
#include "iommufd_test.h"
#endif

static int iommufd_fops_open(struct inode *inode, struct file *filp)
{
	struct iommufd_ctx *ictx = iommufd_ctx_alloc();

	if (!ictx)
		return -ENOMEM;
	filp->private_data = ictx;
	return 0;
}

static int iommufd_fops_release(struct inode *inode, struct file *filp)
{
	/* Objects in-kernel accesses still use go with their last one. */
	iommufd_ctx_unref(filp->private_data);
	return 0;
}

/*
 * The kernel copy of any command struct. Each command's handler casts
 * ucmd->cmd to its own struct; the union only provides the storage.
 */
union iommufd_cmd_buffer {
	struct iommu_destroy destroy;
	struct iommu_ioas_alloc ioas_alloc;
	struct iommu_ioas_allow_iovas allow_iovas;
	struct iommu_ioas_copy ioas_copy;
	struct iommu_ioas_iova_ranges iova_ranges;
	struct iommu_ioas_map map;
	struct iommu_ioas_unmap unmap;
	struct iommu_option option;
	struct iommu_vfio_ioas vfio_ioas;
	struct iommu_hwpt_alloc hwpt_alloc;
	struct iommu_hw_info hw_info;
	struct iommu_hwpt_set_dirty_tracking set_dirty_tracking;
	struct iommu_hwpt_get_dirty_bitmap get_dirty_bitmap;
	struct iommu_hwpt_invalidate hwpt_invalidate;
	struct iommu_ioas_create_window create_window;
	struct iommu_ioas_remove_window remove_window;
	struct iommu_ioas_list_windows list_windows;
	struct iommu_vfio_link vfio_link;
	struct iommu_device_attach device_attach;
	struct iommu_fault_alloc fault_alloc;
#ifdef CONFIG_IOMMUFD_OOT_TEST
	struct iommu_test_cmd test;
#endif
};

/*
 * What a command does on io_uring's nonblocking issue (IO_URING_F_NONBLOCK,
 * from io_uring_enter() or the SQPOLL thread, where sleeping would hold
 * up every later SQE): IOMMUFD_ISSUE_SLEEPS commands return -EAGAIN, and
 * io_uring issues them again from an io-wq worker, where they may sleep;
 * IOMMUFD_ISSUE_NOWAIT ones run with ucmd->nowait set and return -EAGAIN
 * themselves, having changed nothing, only where they would sleep;
 * IOMMUFD_ISSUE_ANY ones (the test command) run where they arrive.
 */
enum iommufd_issue {
	IOMMUFD_ISSUE_SLEEPS,
	IOMMUFD_ISSUE_NOWAIT,
	IOMMUFD_ISSUE_ANY,
};

/**
 * struct iommufd_ioctl_op - how one command is decoded
 * @size: the size of the command struct this module knows
 * @min_size: the smallest size a caller may declare: the end of the last
 *	field that existed when the command was introduced
 * @ioctl_num: the full ioctl number, to reject right index, wrong number
 * @issue: enum iommufd_issue
 * @inline_reply: enum iommufd_inline_reply
 * @execute: the handler
 */
struct iommufd_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	u8 issue;
	u8 inline_reply;
	int (*execute)(struct iommufd_ucmd *ucmd);
};

/*
 * Whether a struct may come inline in an io_uring SQE, where its reply is
 * lost: always (IOMMUFD_INLINE_OK: nothing in the reply the caller lacks,
 * or the new ID travels in the CQE), never (the reply is what the caller
 * asked for), or depending on what the struct asks.
 */
enum iommufd_inline_reply {
	IOMMUFD_INLINE_OK,
	IOMMUFD_INLINE_NEVER,
	IOMMUFD_INLINE_FIXED_IOVA,	/* MAP, COPY: the IOVA comes back */
	IOMMUFD_INLINE_OPTION_SET,	/* a get's value comes back */
	IOMMUFD_INLINE_FIXED_WINDOW,	/* the base and page size come back */
	IOMMUFD_INLINE_VFIO_IOAS_NOT_GET, /* a get's ID comes back */
};

static bool iommufd_inline_ok(const struct iommufd_ioctl_op *op,
			      const union iommufd_cmd_buffer *buf)
{
	switch (op->inline_reply) {
	case IOMMUFD_INLINE_OK:
		return true;
	case IOMMUFD_INLINE_FIXED_IOVA:
		/* MAP and COPY keep their flags at the same offset. */
		BUILD_BUG_ON(offsetof(struct iommu_ioas_map, flags) !=
			     offsetof(struct iommu_ioas_copy, flags));
		return buf->map.flags & IOMMU_IOAS_MAP_FIXED_IOVA;
	case IOMMUFD_INLINE_OPTION_SET:
		return buf->option.op == IOMMU_OPTION_OP_SET;
	case IOMMUFD_INLINE_FIXED_WINDOW:
		return (buf->create_window.flags & IOMMU_WINDOW_FIXED_BASE) &&
		       buf->create_window.page_size;
	case IOMMUFD_INLINE_VFIO_IOAS_NOT_GET:
		return buf->vfio_ioas.op != IOMMU_VFIO_IOAS_GET;
	default:
		return false;
	}
}

#define IOCTL_OP(_nr, _ioctl, _fn, _struct, _last, ...)                      \
	[(_nr) - IOMMUFD_CMD_BASE] = {                                        \
		.size = sizeof(_struct) +                                     \
			BUILD_BUG_ON_ZERO(sizeof(union iommufd_cmd_buffer) <  \
					  sizeof(_struct)),                   \
		.min_size = offsetofend(_struct, _last),                      \
		.ioctl_num = _ioctl,                                          \
		.execute = _fn,                                               \
		__VA_ARGS__                                                   \
	}

/*
 * Inline in an SQE (IOMMU_URING_CMD_INLINE), as documented in the uAPI
 * header: IOAS_ALLOC and HWPT_ALLOC return the new ID as the CQE's res;
 * UNMAP and REMOVE_WINDOW drop the byte count (a success unmapped every
 * area in the range); the others whose reply matters are refused.
 */
static const struct iommufd_ioctl_op iommufd_ioctl_ops[] = {
	IOCTL_OP(IOMMUFD_CMD_DESTROY, IOMMU_DESTROY, iommufd_destroy,
		 struct iommu_destroy, id),
	IOCTL_OP(IOMMUFD_CMD_IOAS_ALLOC, IOMMU_IOAS_ALLOC,
		 iommufd_ioas_alloc_ioctl, struct iommu_ioas_alloc,
		 out_ioas_id),
	IOCTL_OP(IOMMUFD_CMD_IOAS_ALLOW_IOVAS, IOMMU_IOAS_ALLOW_IOVAS,
		 iommufd_ioas_allow_iovas, struct iommu_ioas_allow_iovas,
		 allowed_iovas),
	IOCTL_OP(IOMMUFD_CMD_IOAS_COPY, IOMMU_IOAS_COPY, iommufd_ioas_copy,
		 struct iommu_ioas_copy, src_iova,
		 .inline_reply = IOMMUFD_INLINE_FIXED_IOVA),
	IOCTL_OP(IOMMUFD_CMD_IOAS_IOVA_RANGES, IOMMU_IOAS_IOVA_RANGES,
		 iommufd_ioas_iova_ranges, struct iommu_ioas_iova_ranges,
		 out_iova_alignment,
		 .inline_reply = IOMMUFD_INLINE_NEVER),
	IOCTL_OP(IOMMUFD_CMD_IOAS_MAP, IOMMU_IOAS_MAP, iommufd_ioas_map,
		 struct iommu_ioas_map, iova,
		 .issue = IOMMUFD_ISSUE_NOWAIT,
		 .inline_reply = IOMMUFD_INLINE_FIXED_IOVA),
	IOCTL_OP(IOMMUFD_CMD_IOAS_UNMAP, IOMMU_IOAS_UNMAP, iommufd_ioas_unmap,
		 struct iommu_ioas_unmap, length,
		 .issue = IOMMUFD_ISSUE_NOWAIT),
	IOCTL_OP(IOMMUFD_CMD_OPTION, IOMMU_OPTION, iommufd_option,
		 struct iommu_option, val64,
		 .inline_reply = IOMMUFD_INLINE_OPTION_SET),
	IOCTL_OP(IOMMUFD_CMD_VFIO_IOAS, IOMMU_VFIO_IOAS, iommufd_vfio_ioas,
		 struct iommu_vfio_ioas, __reserved,
		 .inline_reply = IOMMUFD_INLINE_VFIO_IOAS_NOT_GET),
	IOCTL_OP(IOMMUFD_CMD_HWPT_ALLOC, IOMMU_HWPT_ALLOC, iommufd_hwpt_alloc,
		 struct iommu_hwpt_alloc, __reserved),
	IOCTL_OP(IOMMUFD_CMD_GET_HW_INFO, IOMMU_GET_HW_INFO,
		 iommufd_get_hw_info, struct iommu_hw_info, __reserved,
		 .inline_reply = IOMMUFD_INLINE_NEVER),
	IOCTL_OP(IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING,
		 IOMMU_HWPT_SET_DIRTY_TRACKING, iommufd_hwpt_set_dirty_tracking,
		 struct iommu_hwpt_set_dirty_tracking, __reserved),
	IOCTL_OP(IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP, IOMMU_HWPT_GET_DIRTY_BITMAP,
		 iommufd_hwpt_get_dirty_bitmap,
		 struct iommu_hwpt_get_dirty_bitmap, data),
	/*
	 * Inline, a failure does not say how many entries were handled:
	 * invalidating again is harmless, so the caller may just retry.
	 */
	IOCTL_OP(IOMMUFD_CMD_HWPT_INVALIDATE, IOMMU_HWPT_INVALIDATE,
		 iommufd_hwpt_invalidate, struct iommu_hwpt_invalidate,
		 __reserved),
	/* Its reply is the new fd and ID: by pointer only (fault_queue.c). */
	IOCTL_OP(IOMMUFD_CMD_FAULT_QUEUE_ALLOC, IOMMU_FAULT_QUEUE_ALLOC,
		 iommufd_fault_queue_alloc, struct iommu_fault_alloc,
		 out_fault_fd,
		 .inline_reply = IOMMUFD_INLINE_NEVER),
	/* Extensions (not upstream), from IOMMUFD_CMD_EXT_BASE. */
	IOCTL_OP(IOMMUFD_CMD_IOAS_CREATE_WINDOW, IOMMU_IOAS_CREATE_WINDOW,
		 iommufd_ioas_create_window, struct iommu_ioas_create_window,
		 page_size,
		 .inline_reply = IOMMUFD_INLINE_FIXED_WINDOW),
	IOCTL_OP(IOMMUFD_CMD_IOAS_REMOVE_WINDOW, IOMMU_IOAS_REMOVE_WINDOW,
		 iommufd_ioas_remove_window, struct iommu_ioas_remove_window,
		 base),
	IOCTL_OP(IOMMUFD_CMD_IOAS_LIST_WINDOWS, IOMMU_IOAS_LIST_WINDOWS,
		 iommufd_ioas_list_windows, struct iommu_ioas_list_windows,
		 windows,
		 .inline_reply = IOMMUFD_INLINE_NEVER),
	IOCTL_OP(IOMMUFD_CMD_VFIO_LINK, IOMMU_VFIO_LINK, iommufd_vfio_link,
		 struct iommu_vfio_link, devices,
		 .inline_reply = IOMMUFD_INLINE_NEVER),
	IOCTL_OP(IOMMUFD_CMD_DEVICE_ATTACH, IOMMU_DEVICE_ATTACH,
		 iommufd_device_attach_ioctl, struct iommu_device_attach,
		 __reserved),
#ifdef CONFIG_IOMMUFD_OOT_TEST
	/*
	 * Runs on whichever issue it arrives: its per-task state (fault
	 * points) must be the submitter's, not an io-wq worker's.
	 */
	IOCTL_OP(_IOC_NR(IOMMU_TEST_CMD), IOMMU_TEST_CMD, iommufd_test,
		 struct iommu_test_cmd, last,
		 .issue = IOMMUFD_ISSUE_ANY,
		 .inline_reply = IOMMUFD_INLINE_NEVER),
#endif
};

static const struct iommufd_ioctl_op *iommufd_find_op(unsigned int cmd)
{
	unsigned int nr = _IOC_NR(cmd);
	const struct iommufd_ioctl_op *op;

	if (_IOC_TYPE(cmd) != IOMMUFD_TYPE || nr < IOMMUFD_CMD_BASE ||
	    nr - IOMMUFD_CMD_BASE >= ARRAY_SIZE(iommufd_ioctl_ops))
		return NULL;
	op = &iommufd_ioctl_ops[nr - IOMMUFD_CMD_BASE];
	if (!op->execute || op->ioctl_num != cmd)
		return NULL;
	return op;
}

/*
 * Copy a command struct that sits inline in a 128-byte io_uring SQE, with
 * the size rules of copy_struct_from_user(): zero-extend a short struct,
 * refuse a longer one whose unknown tail is not zero. The SQE is shared
 * with userspace, so @src_size was read once by the caller and is what
 * the copy obeys and what the struct's size field says afterwards,
 * whatever the SQE says by now.
 */
static int iommufd_copy_inline(void *dst, size_t size, const void *src,
			       u32 src_size)
{
	if (src_size > size && memchr_inv(src + size, 0, src_size - size))
		return -E2BIG;
	memcpy(dst, src, min_t(size_t, size, src_size));
	if (src_size < size)
		memset(dst + src_size, 0, size - src_size);
	*(u32 *)dst = src_size;
	return 0;
}

/*
 * Copy the command struct in from user memory. On io_uring's nonblocking
 * issue a page fault must not be taken (the page may be on swap, or held
 * by userfaultfd): the copy runs with page faults disabled, and a fault
 * becomes -EAGAIN, so the worker's issue copies again and reports the
 * real error. An injected fault stays -EFAULT.
 */
static int iommufd_copy_in(struct iommufd_ucmd *ucmd, void *dst, size_t size,
			   unsigned int min_size)
{
	bool faulted = false;
	int rc;

	if (iommufd_fault_hit(IOMMUFD_FAULT_USER_COPY))
		return -EFAULT;
	if (ucmd->nowait)
		pagefault_disable();
	if (get_user(ucmd->user_size, (u32 __user *)ucmd->ubuffer)) {
		faulted = true;
		rc = -EFAULT;
	} else if (ucmd->user_size < min_size) {
		rc = -EINVAL;
	} else if (iommufd_fault_hit(IOMMUFD_FAULT_USER_COPY)) {
		rc = -EFAULT;
	} else {
		/* Zero-extends a short struct; E2BIG for a non-zero tail. */
		rc = copy_struct_from_user(dst, size, ucmd->ubuffer,
					   ucmd->user_size);
		faulted = rc == -EFAULT;
	}
	if (ucmd->nowait) {
		pagefault_enable();
		if (faulted)
			rc = -EAGAIN;
	}
	return rc;
}

/*
 * On the nonblocking issue, make sure the reply can be written before
 * the command changes anything: write the struct back as it was read,
 * with page faults disabled (-EAGAIN on a fault, as for the copy in). The
 * reply itself then faults only if the page went away in between.
 */
static int iommufd_probe_reply(struct iommufd_ucmd *ucmd, const void *cmd,
			       size_t size)
{
	unsigned long left;

	pagefault_disable();
	left = copy_to_user(ucmd->ubuffer, cmd,
			    min_t(size_t, size, ucmd->user_size));
	pagefault_enable();
	return left ? -EAGAIN : 0;
}

/*
 * The one path every command takes, whichever entry it came through:
 * look the command up, apply the size rules, copy the struct in, run it.
 * @inline_cmd is NULL when the struct is at ucmd->ubuffer in user memory.
 */
static long iommufd_dispatch(struct iommufd_ucmd *ucmd, unsigned int cmd,
			     const void *inline_cmd, size_t inline_room)
{
	const struct iommufd_ioctl_op *op;
	/*
	 * Not pre-zeroed: both copies below write all op->size bytes the
	 * handler reads (zero-extending), and this runs for every command.
	 */
	union iommufd_cmd_buffer buf __uninitialized;
	int rc;

	op = iommufd_find_op(cmd);
	if (!op)
		return -ENOTTY;
	if (ucmd->nowait && op->issue == IOMMUFD_ISSUE_SLEEPS)
		return -EAGAIN;
	if (op->issue == IOMMUFD_ISSUE_ANY)
		ucmd->nowait = false;

	if (inline_cmd) {
		ucmd->user_size = READ_ONCE(*(const u32 *)inline_cmd);
		if (ucmd->user_size < op->min_size ||
		    ucmd->user_size > inline_room)
			return -EINVAL;
		rc = iommufd_copy_inline(&buf, op->size, inline_cmd,
					 ucmd->user_size);
		/* Its reply would be lost: see struct iommufd_ioctl_op. */
		if (!rc && op->inline_reply != IOMMUFD_INLINE_OK &&
		    !iommufd_inline_ok(op, &buf))
			rc = -EOPNOTSUPP;
	} else {
		rc = iommufd_copy_in(ucmd, &buf, op->size, op->min_size);
		if (!rc && ucmd->nowait)
			rc = iommufd_probe_reply(ucmd, &buf, op->size);
	}
	if (rc)
		return rc;
	ucmd->cmd = &buf;
	return op->execute(ucmd);
}

static long iommufd_fops_ioctl(struct file *filp, unsigned int cmd,
			       unsigned long arg)
{
	struct iommufd_ucmd ucmd = {
		.ictx = iommufd_ctx_serving(filp->private_data),
		.own_ictx = filp->private_data,
		.ubuffer = (void __user *)arg,
	};

	/*
	 * A number no command has goes to the VFIO container ioctls (all
	 * below IOMMUFD_CMD_BASE), as upstream routes them; ENOTTY there
	 * for anything else. They take ioctl() only, not io_uring.
	 */
	if (!iommufd_find_op(cmd)) {
		/*
		 * A fd linked to a container (IOMMU_VFIO_LINK) leaves those
		 * to the container's own fd: VFIO_SET_IOMMU here would change
		 * the container's semantics under it.
		 */
		if (ucmd.ictx != ucmd.own_ictx)
			return -ENOTTY;
		return iommufd_vfio_ioctl(ucmd.ictx, cmd, arg);
	}
	return iommufd_dispatch(&ucmd, cmd, NULL, 0);
}

/* Decode the SQE's struct iommu_uring_cmd and run the command. */
static int iommufd_uring_dispatch(struct iommufd_ucmd *ucmd,
				  struct io_uring_cmd *ioucmd,
				  unsigned int issue_flags)
{
	const struct iommu_uring_cmd *hdr = compat_uring_cmd_payload(ioucmd);
	size_t room = (issue_flags & IO_URING_F_SQE128) ?
			      IOMMU_URING_CMD_INLINE_MAX : 0;
	u32 flags = READ_ONCE(hdr->flags);

	if ((flags & ~IOMMU_URING_CMD_INLINE) || READ_ONCE(hdr->__reserved))
		return -EOPNOTSUPP;
	if (flags & IOMMU_URING_CMD_INLINE) {
		if (!room)
			return -EINVAL;
		/* Copied straight from the SQE, its size read once. */
		return iommufd_dispatch(ucmd, ioucmd->cmd_op, hdr + 1, room);
	}
	ucmd->ubuffer = u64_to_user_ptr(READ_ONCE(hdr->arg));
	return iommufd_dispatch(ucmd, ioucmd->cmd_op, NULL, 0);
}

/*
 * io_uring entry: IORING_OP_URING_CMD with cmd_op set to the ioctl number.
 * The SQE's command area holds struct iommu_uring_cmd: a pointer to the
 * ioctl struct, or (IOMMU_URING_CMD_INLINE, 128-byte SQEs) the struct
 * itself right after the header. The command runs through
 * iommufd_dispatch(), so validation, errors and locking are the ioctl's;
 * the CQE's res is the ioctl's return value (or a new ID, inline). On the
 * nonblocking issue a command that would sleep returns -EAGAIN and
 * io_uring issues it again from an io-wq worker (see enum iommufd_issue).
 *
 * Only the LSMs' uring_cmd hook, which io_uring calls before this, checks
 * these commands: security_file_ioctl() is never called for them.
 */
static int iommufd_fops_uring_cmd(struct io_uring_cmd *ioucmd,
				  unsigned int issue_flags)
{
	struct iommufd_ucmd ucmd = {
		.ictx = iommufd_ctx_serving(ioucmd->file->private_data),
		.own_ictx = ioucmd->file->private_data,
		.from_uring = true,
		.nowait = issue_flags & IO_URING_F_NONBLOCK,
	};
	int rc;

	rc = iommufd_uring_dispatch(&ucmd, ioucmd, issue_flags);
	/*
	 * In test builds, a submitter with fault points armed gets the
	 * sleeping issue at once instead of a punt: its fault points are
	 * its own and would not fire in an io-wq worker.
	 */
	if (rc == -EAGAIN && ucmd.nowait && iommufd_fault_armed_current()) {
		ucmd.nowait = false;
		rc = iommufd_uring_dispatch(&ucmd, ioucmd, issue_flags);
	}
	return compat_uring_cmd_result(ioucmd, rc, issue_flags);
}

static const struct file_operations iommufd_fops = {
	.owner = THIS_MODULE,
	.open = iommufd_fops_open,
	.release = iommufd_fops_release,
	.unlocked_ioctl = iommufd_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.uring_cmd = iommufd_fops_uring_cmd,
};

/*
 * The test and release builds are two modules (iommufd_oot_test and
 * iommufd_oot) that both want /dev/iommu. Both export this marker
 * symbol, so the module loader refuses whichever comes second before its
 * init runs: "exports duplicate symbol iommufd_oot_dev_iommu (owned by
 * ...)", or iommufd_ctx_get where the marker below exists (the loader
 * names the first duplicate it finds).
 * misc_register() would otherwise get as far as sysfs, which reports the
 * duplicate device with a stack dump.
 */
const char *const iommufd_oot_dev_iommu = "iommu";
EXPORT_SYMBOL_GPL(iommufd_oot_dev_iommu);

/*
 * The kernel's own iommufd (CONFIG_IOMMUFD) registers /dev/iommu too.
 * Neither Debian kernel builds it, but one built for such a kernel out of
 * its source tree would come as iommufd.ko; like any module it exports
 * iommufd_ctx_ref() (every version since 6.2 does). So do we, in our own
 * namespace, so that nothing can bind to it by mistake: the module loader
 * then refuses whichever of the two comes second, before its init runs,
 * with "exports duplicate symbol iommufd_ctx_get (owned by ...)". Without
 * it, the in-tree module loaded after us would get as far as
 * misc_register(), which reports the duplicate with a stack dump.
 *
 * A kernel that does build iommufd (as a module, or in) gets no such
 * marker: depmod would see two exporters of one name, and could make
 * vfio.ko depend on us. There, and against any other driver holding
 * /dev/iommu, iommufd_misc_name_taken() refuses us at init.
 */
#if !IS_ENABLED(CONFIG_IOMMUFD)
const char *const iommufd_ctx_get = "iommu";
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_get, IOMMUFD_OOT);
#endif

/*
 * Is a misc device named @name registered already? misc_register() does
 * not check names: a second "iommu" gets as far as sysfs, which warns
 * with a stack dump. So look for /sys/class/misc/@name first, in sysfs's
 * own tree (kernfs), which needs no mounted sysfs. kernel_kobj is
 * /sys/kernel; its parent is the root of sysfs, and a node's parent
 * never changes once it is added (kernfs.h).
 */
static bool iommufd_misc_name_taken(const char *name)
{
	struct kernfs_node *class, *misc, *dev;

	class = kernfs_find_and_get(kernel_kobj->sd->parent, "class");
	if (!class)
		return false;
	misc = kernfs_find_and_get(class, "misc");
	kernfs_put(class);
	if (!misc)
		return false;
	dev = kernfs_find_and_get(misc, name);
	kernfs_put(misc);
	kernfs_put(dev);
	return dev;
}

static struct miscdevice iommufd_misc_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "iommu",
	.nodename = "iommu",
	.fops = &iommufd_fops,
	.mode = 0660,
};

static int __init iommufd_init(void)
{
	int rc;

	/*
	 * Another driver's /dev/iommu (the kernel's own iommufd, built in):
	 * refuse before anything is registered. There is a window until
	 * misc_register() below; against a module that exports what the
	 * in-tree iommufd does, the loader closes it (see above).
	 */
	if (iommufd_misc_name_taken(iommufd_misc_dev.name)) {
		pr_err("/dev/iommu is already registered (is the in-tree iommufd loaded?); not loading\n");
		return -EBUSY;
	}
	rc = iopt_module_init();
	if (rc)
		return rc;
	rc = misc_register(&iommufd_misc_dev);
	if (rc == -EBUSY || rc == -EEXIST)
		pr_err("/dev/iommu is already registered (is the in-tree iommufd loaded?)\n");
	if (rc) {
		iopt_module_exit();
		return rc;
	}
	iommufd_iopte_stats_init();
	if (IS_ENABLED(CONFIG_IOMMUFD_OOT_TEST))
		pr_info("test build: IOMMU_TEST_CMD is enabled\n");
	return 0;
}

static void __exit iommufd_exit(void)
{
	misc_deregister(&iommufd_misc_dev);
	iommufd_iopte_stats_exit();
	iopt_module_exit();
	iommufd_fault_exit();
}

module_init(iommufd_init);
module_exit(iommufd_exit);

#ifdef CONFIG_IOMMUFD_OOT_TEST
MODULE_DESCRIPTION("I/O address space management for userspace through /dev/iommu (TEST BUILD: test command, mock driver, fault points)");
MODULE_INFO(build, "test");
#else
MODULE_DESCRIPTION("I/O address space management for userspace through /dev/iommu");
MODULE_INFO(build, "release");
#endif
MODULE_VERSION(IOMMUFD_OOT_VERSION);
MODULE_LICENSE("GPL");
