// SPDX-License-Identifier: GPL-2.0
/*
 * Accesses: in-kernel users of an IOAS, such as an emulated device that
 * reads and writes guest memory through the IOAS's IOVAs instead of
 * through an IOMMU. An access that pins pages must unpin them when asked
 * through its unmap callback, so userspace can always unmap.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/slab.h>

#include "fault.h"
#include "iommufd_private.h"
#include "pages.h"

static void access_iopt_unmap(struct iopt_user *user, unsigned long iova,
			      unsigned long last)
{
	struct iommufd_access *access = user->data;

	/* The whole address space has no length that fits: saturate. */
	unsigned long length = last - iova == ULONG_MAX ? ULONG_MAX :
			       last - iova + 1;

	if (access->ops->unmap)
		access->ops->unmap(access->data, iova, length);
}

/* A registration for the io_pagetable's unmap notifications. */
static struct iopt_user *access_new_user(struct iommufd_access *access)
{
	struct iopt_user *user = iommufd_kzalloc(sizeof(*user));

	if (!user)
		return NULL;
	user->unmap = access_iopt_unmap;
	user->data = access;
	/* Pinning works on whole pages, so IOVAs must be page aligned. */
	user->iova_alignment = access->ops->unmap ? PAGE_SIZE : 1;
	return user;
}

static void iommufd_access_destroy_object(struct iommufd_object *obj)
{
	struct iommufd_access *access =
		container_of(obj, struct iommufd_access, obj);

	iopt_remove_user(&access->ioas->iopt, access->user);
	kfree(access->user);
	refcount_dec(&access->ioas->obj.users);
	mutex_destroy(&access->replace_lock);
	mutex_destroy(&access->ioas_lock);
	iommufd_ctx_unref(access->ictx);
}

static const struct iommufd_object_ops iommufd_access_object_ops = {
	.destroy = iommufd_access_destroy_object,
};

/**
 * iommufd_access_create - start using an IOAS from the kernel
 * @ictx: the context that holds the IOAS
 * @ioas_id: the IOAS's ID in @ictx
 * @ops: the user's callbacks; @ops->unmap is required to pin pages
 * @data: passed back to @ops
 *
 * Returns the access, which holds the IOAS and the context until
 * iommufd_access_destroy(), or an ERR_PTR: -ENOENT if @ioas_id does not
 * name an IOAS of @ictx.
 */
struct iommufd_access *
iommufd_access_create(struct iommufd_ctx *ictx, u32 ioas_id,
		      const struct iommufd_access_ops *ops, void *data)
{
	struct iommufd_access *access;
	struct iommufd_ioas *ioas;
	int rc;

	ioas = iommufd_get_ioas(ictx, ioas_id);
	if (IS_ERR(ioas))
		return ERR_CAST(ioas);

	access = iommufd_object_alloc(ictx, access, IOMMUFD_OBJ_ACCESS,
				      &iommufd_access_object_ops);
	if (IS_ERR(access)) {
		iommufd_put_object(ictx, &ioas->obj);
		return access;
	}
	access->ictx = ictx;
	access->ops = ops;
	access->data = data;
	mutex_init(&access->ioas_lock);
	mutex_init(&access->replace_lock);
	access->user = access_new_user(access);
	rc = access->user ? iopt_add_user(&ioas->iopt, access->user) : -ENOMEM;
	if (rc) {
		kfree(access->user);
		mutex_destroy(&access->replace_lock);
		mutex_destroy(&access->ioas_lock);
		iommufd_object_abort(ictx, &access->obj);
		iommufd_put_object(ictx, &ioas->obj);
		return ERR_PTR(rc);
	}
	iommufd_ctx_ref(ictx);
	access->ioas = ioas;
	/* Long-term: the IOAS cannot be destroyed under the access. */
	refcount_inc(&ioas->obj.users);
	iommufd_put_object(ictx, &ioas->obj);

	/* The creator's reference: userspace cannot DESTROY an access. */
	refcount_inc(&access->obj.users);
	iommufd_object_finalize(ictx, &access->obj);
	return access;
}

/* The user must have unpinned everything first. */
void iommufd_access_destroy(struct iommufd_access *access)
{
	iommufd_object_destroy_owned(access->ictx, &access->obj);
}

/*
 * Stop or resume pinning for the length of a replace. Pins that land
 * while the user gives its pins back would belong to the IOAS being left.
 */
static void access_set_moving(struct iommufd_access *access, bool moving)
{
	mutex_lock(&access->ioas_lock);
	access->moving = moving;
	mutex_unlock(&access->ioas_lock);
}

/*
 * Have the user give back every pin, all of them on the IOAS being left.
 * Returns -EBUSY, still on that IOAS, if pins remain: a user that keeps
 * pins past its unmap callback must not see them unpinned elsewhere.
 */
static int access_drop_all_pins(struct iommufd_access *access)
{
	int rc;

	/* Unlocked: the callback takes the user's locks, then ioas_lock. */
	if (access->ops->unmap)
		access->ops->unmap(access->data, 0, ULONG_MAX);
	mutex_lock(&access->ioas_lock);
	rc = access->npins ? -EBUSY : 0;
	mutex_unlock(&access->ioas_lock);
	return rc;
}

/* Make @new, where @new_user is registered, the IOAS of the access. */
static void access_swap_ioas(struct iommufd_access *access,
			     struct iommufd_ioas *new,
			     struct iopt_user *new_user)
{
	struct iommufd_ioas *old = access->ioas;
	struct iopt_user *old_user = access->user;

	refcount_inc(&new->obj.users);
	mutex_lock(&access->ioas_lock);
	access->ioas = new;
	access->user = new_user;
	mutex_unlock(&access->ioas_lock);
	/*
	 * Still moving: no pin lands on @new before the old IOAS's unmap
	 * notifications, which would drop it, have stopped.
	 */
	iopt_remove_user(&old->iopt, old_user);
	kfree(old_user);
	refcount_dec(&old->obj.users);
}

/**
 * iommufd_access_replace - move an access to another IOAS
 * @access: the access
 * @ioas_id: the new IOAS in the access's context
 *
 * Once the new IOAS accepted the access, the user's unmap callback is
 * asked to drop every pin, which belonged to the old IOAS; pinning fails
 * with -EBUSY from then until the access works on the new IOAS. Replaces
 * of one access are serialised. Returns -ENOENT if @ioas_id names no
 * IOAS, -EADDRINUSE if the new IOAS has areas a pinning user cannot work
 * with, -EBUSY if the user kept pins through its callback; on failure the
 * access stays where it was. The caller must not hold locks its unmap
 * callback takes.
 */
int iommufd_access_replace(struct iommufd_access *access, u32 ioas_id)
{
	struct iopt_user *new_user;
	struct iommufd_ioas *new;
	int rc = 0;

	new = iommufd_get_ioas(access->ictx, ioas_id);
	if (IS_ERR(new))
		return PTR_ERR(new);
	mutex_lock(&access->replace_lock);
	if (access->ioas == new)
		goto out_unlock;

	/* The new IOAS may refuse; then nothing has changed. */
	new_user = access_new_user(access);
	rc = new_user ? iopt_add_user(&new->iopt, new_user) : -ENOMEM;
	if (rc) {
		kfree(new_user);
		goto out_unlock;
	}
	access_set_moving(access, true);
	rc = access_drop_all_pins(access);
	if (rc) {
		iopt_remove_user(&new->iopt, new_user);
		kfree(new_user);
	} else {
		access_swap_ioas(access, new, new_user);
	}
	access_set_moving(access, false);
out_unlock:
	mutex_unlock(&access->replace_lock);
	iommufd_put_object(access->ictx, &new->obj);
	return rc;
}

/**
 * iommufd_access_pin_pages - pin the pages behind an IOVA range
 * @access: an access whose ops have an unmap callback
 * @iova: start, on a page boundary
 * @length: bytes
 * @out: receives one struct page per page
 * @write: the caller will write to the pages
 *
 * Errors as iopt_pin(), and -EBUSY while iommufd_access_replace() moves
 * the access. Each successful call is undone by one
 * iommufd_access_unpin_pages() with the same range.
 */
int iommufd_access_pin_pages(struct iommufd_access *access,
			     unsigned long iova, unsigned long length,
			     struct page **out, bool write)
{
	int rc = -EBUSY;

	/* Pins are only safe for users that give them back on unmap. */
	if (WARN_ON(!access->ops->unmap))
		return -EINVAL;
	mutex_lock(&access->ioas_lock);
	if (!access->moving) {
		rc = iopt_pin(&access->ioas->iopt, iova, length, out, write);
		if (!rc)
			access->npins++;
	}
	mutex_unlock(&access->ioas_lock);
	return rc;
}

/*
 * Every outstanding pin is on access->ioas: a replace changes it only
 * once npins is zero, and no pin starts while it runs.
 */
void iommufd_access_unpin_pages(struct iommufd_access *access,
				unsigned long iova, unsigned long length)
{
	mutex_lock(&access->ioas_lock);
	if (!WARN_ON(!access->npins)) {
		iopt_unpin(&access->ioas->iopt, iova, length);
		access->npins--;
	}
	mutex_unlock(&access->ioas_lock);
}

/**
 * iommufd_access_rw - copy between a kernel buffer and IOVA
 * @access: the access
 * @iova: start
 * @data: the kernel buffer
 * @length: bytes
 * @flags: IOPT_RW_* flags
 *
 * -ENOENT when the range is not fully mapped, -EPERM when writing to a
 * read-only mapping, -EFAULT when the memory behind it is gone.
 */
int iommufd_access_rw(struct iommufd_access *access, unsigned long iova,
		      void *data, unsigned long length, unsigned int flags)
{
	int rc;

	mutex_lock(&access->ioas_lock);
	rc = iopt_rw(&access->ioas->iopt, iova, data, length, flags);
	mutex_unlock(&access->ioas_lock);
	return rc;
}
