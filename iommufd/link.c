// SPDX-License-Identifier: GPL-2.0
/*
 * IOMMU_VFIO_LINK: a /dev/iommu file takes a VFIO container of the
 * backend as proof of access and from then on serves the container's own
 * context (kapi.c): its IOAS and its groups' devices become objects the
 * file's commands act on, with no copy and nothing moved, so what either
 * side maps the other sees. The lifetime rules are in the uAPI header.
 *
 * Only the VFIO module can tell its containers, and the core never calls
 * into it (iommufd/LAYERS): it registers struct iommufd_link_ops here,
 * and the core holds the module across each call.
 */
#include <linux/file.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "fault.h"
#include "iommufd_private.h"
#include "kapi.h"
#include "vfio_compat.h"

/* Guards link_ops; a caller takes a module reference under it. */
static DEFINE_MUTEX(link_ops_lock);
static const struct iommufd_link_ops *link_ops;

int iommufd_kapi_link_register(const struct iommufd_link_ops *ops)
{
	int rc = 0;

	mutex_lock(&link_ops_lock);
	if (link_ops)
		rc = -EBUSY;
	else
		link_ops = ops;
	mutex_unlock(&link_ops_lock);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_link_register, IOMMUFD_OOT);

/* A call in progress holds the module, so it cannot be unloading then. */
void iommufd_kapi_link_unregister(const struct iommufd_link_ops *ops)
{
	mutex_lock(&link_ops_lock);
	if (link_ops == ops)
		link_ops = NULL;
	mutex_unlock(&link_ops_lock);
}
EXPORT_SYMBOL_NS_GPL(iommufd_kapi_link_unregister, IOMMUFD_OOT);

/*
 * The context of the container open as fd @fd, with a reference:
 * -EBADF for no open fd, -ENODEV with no VFIO backend loaded, -EINVAL
 * for anything but a container the backend serves.
 */
static struct iommufd_ctx *link_container_ctx(int fd)
{
	const struct iommufd_link_ops *ops;
	struct iommufd_ctx *ictx;
	struct file *file;

	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	mutex_lock(&link_ops_lock);
	ops = link_ops;
	if (ops && !try_module_get(ops->owner))
		ops = NULL;
	mutex_unlock(&link_ops_lock);
	if (ops) {
		ictx = ops->container_ctx(file);
		module_put(ops->owner);
	} else {
		ictx = ERR_PTR(-ENODEV);
	}
	fput(file);
	return ictx;
}

/*
 * The IDs of every device object of @ictx, ascending, in a new array of
 * *@count entries (NULL for none). The table may change meanwhile (a
 * group attached to the container): the count is taken and the array
 * filled under one hold of xa_lock, after an allocation sized by a first
 * count, and the whole is tried again if the table grew in between.
 */
static int link_device_ids(struct iommufd_ctx *ictx, u32 **ids, u32 *count)
{
	struct iommufd_object *obj;
	unsigned long index;
	u32 n = 0, room = 0, *arr = NULL;

	for (;;) {
		n = 0;
		xa_lock(&ictx->objects);
		xa_for_each(&ictx->objects, index, obj) {
			if (obj->type != IOMMUFD_OBJ_DEVICE)
				continue;
			if (n < room)
				arr[n] = obj->id;
			n++;
		}
		xa_unlock(&ictx->objects);
		if (n <= room)
			break;
		kfree(arr);
		room = n;
		arr = iommufd_kzalloc(array_size(room, sizeof(*arr)));
		if (!arr)
			return -ENOMEM;
		cond_resched();
	}
	*ids = arr;
	*count = n;
	return 0;
}

/*
 * Make @own, a /dev/iommu file's own context, serve @target. Only a new
 * context may link, and only once; linking to the same container again is
 * a no-op. A command that raced with the link on the file's own context
 * leaves its object there, hidden, until the file is closed.
 */
static int link_commit(struct iommufd_ctx *own, struct iommufd_ctx *target)
{
	struct iommufd_ctx *cur;
	bool empty;

	/* Acquire: pairs with the cmpxchg_release() below, of another link. */
	cur = smp_load_acquire(&own->linked);
	if (cur)
		return cur == target ? 0 : -EBUSY;
	xa_lock(&own->objects);
	empty = xa_empty(&own->objects);
	xa_unlock(&own->objects);
	if (!empty)
		return -EBUSY;
	/* Publishes @target, made long ago; pairs with iommufd_ctx_serving(). */
	iommufd_ctx_ref(target);
	cur = cmpxchg_release(&own->linked, NULL, target);
	if (!cur)
		return 0;
	iommufd_ctx_unref(target);
	return cur == target ? 0 : -EBUSY;
}

int iommufd_vfio_link(struct iommufd_ucmd *ucmd)
{
	struct iommu_vfio_link *cmd = ucmd->cmd;
	struct iommufd_ctx *target;
	u32 *ids = NULL, count;
	u32 ioas_id;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	/*
	 * Cheap refusal first: a file with objects of its own. Only a peek
	 * (READ_ONCE suffices): link_commit() decides.
	 */
	target = READ_ONCE(ucmd->own_ictx->linked);
	if (!target && !xa_empty(&ucmd->own_ictx->objects))
		return -EBUSY;

	target = link_container_ctx(cmd->container_fd);
	if (IS_ERR(target))
		return PTR_ERR(target);
	rc = iommufd_vfio_compat_ioas_get_id(target, &ioas_id);
	if (rc)
		goto out_put;
	rc = link_device_ids(target, &ids, &count);
	if (rc)
		goto out_put;
	if (count > cmd->num_devices) {
		cmd->num_devices = count;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
		if (!rc)
			rc = -EMSGSIZE;
		goto out_free;
	}
	if (count && iommufd_copy_to_user(u64_to_user_ptr(cmd->devices), ids,
					  array_size(count, sizeof(*ids)))) {
		rc = -EFAULT;
		goto out_free;
	}
	cmd->num_devices = count;
	cmd->out_ioas_id = ioas_id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (!rc)
		rc = link_commit(ucmd->own_ictx, target);
out_free:
	kfree(ids);
out_put:
	iommufd_ctx_unref(target);
	return rc;
}
