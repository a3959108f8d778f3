// SPDX-License-Identifier: GPL-2.0
/*
 * The object table of a context: IDs, references, lookups, and the
 * removal of objects, by IOMMU_DESTROY, by their in-kernel owners and at
 * close.
 *
 * This is the bottom of the object model: every layer that makes or uses
 * objects calls it, and it calls none of them. What an object owns is
 * released through the struct iommufd_object_ops its type's file passed
 * at allocation; the table knows no type.
 */
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "fault.h"
#include "iommufd_private.h"

/* An empty table, for a new context. */
void iommufd_objects_init(struct iommufd_ctx *ictx)
{
	xa_init_flags(&ictx->objects, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	init_waitqueue_head(&ictx->destroy_wait);
}

/*
 * Reserve an ID and allocate the object. The ID's slot holds XA_ZERO_ENTRY
 * until iommufd_object_finalize(), so nobody can look the object up while
 * its constructor is still filling it in. @ops belongs to the file of the
 * object's type; the table only ever calls through it.
 */
struct iommufd_object *
iommufd_object_alloc_elm(struct iommufd_ctx *ictx, size_t size,
			 enum iommufd_object_type type,
			 const struct iommufd_object_ops *ops)
{
	struct iommufd_object *obj;
	int rc;

	obj = iommufd_kzalloc(size);
	if (!obj)
		return ERR_PTR(-ENOMEM);
	obj->type = type;
	obj->ops = ops;
	refcount_set(&obj->users, 1);
	refcount_set(&obj->shortterm_users, 1);

	rc = iommufd_fault_hit(IOMMUFD_FAULT_ALLOC) ? -ENOMEM :
		xa_alloc(&ictx->objects, &obj->id, XA_ZERO_ENTRY,
			 xa_limit_31b, GFP_KERNEL_ACCOUNT);
	if (rc) {
		kfree(obj);
		return ERR_PTR(rc);
	}
	return obj;
}

/* Publish a fully constructed object under its ID. */
void iommufd_object_finalize(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj)
{
	void *old;

	old = xa_store(&ictx->objects, obj->id, obj, GFP_KERNEL);
	/* The slot was reserved by xa_alloc(), so storing cannot allocate. */
	WARN_ON(old);
}

/* Give back the ID of an object that was never finalized, and free it. */
void iommufd_object_abort(struct iommufd_ctx *ictx,
			  struct iommufd_object *obj)
{
	void *old;

	old = xa_erase(&ictx->objects, obj->id);
	WARN_ON(old);
	kfree(obj);
}

/**
 * iommufd_get_object - look an object up by ID for one system call
 * @ictx: the context the ID belongs to
 * @id: the ID from userspace
 * @type: the type the caller needs, or IOMMUFD_OBJ_ANY
 *
 * Returns the object with a short-term reference, to be dropped with
 * iommufd_put_object() before the system call returns, or ERR_PTR(-ENOENT)
 * when no object of that type has that ID (including objects that are
 * being created or destroyed right now).
 */
struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx, u32 id,
					  enum iommufd_object_type type)
{
	XA_STATE(xas, &ictx->objects, id);
	struct iommufd_object *obj;

	/* Under xa_lock the walk needs neither RCU nor retries. */
	xa_lock(&ictx->objects);
	obj = xas_load(&xas);
	if (xa_is_zero(obj))
		obj = NULL;
	if (!obj || (type != IOMMUFD_OBJ_ANY && obj->type != type) ||
	    !refcount_inc_not_zero(&obj->shortterm_users))
		obj = ERR_PTR(-ENOENT);
	xa_unlock(&ictx->objects);
	return obj;
}

/* The object has left the table and has no user left: end it. */
static void iommufd_object_free(struct iommufd_object *obj)
{
	obj->ops->destroy(obj);
	kfree(obj);
}

/*
 * The slot of @obj has just changed, under xa_lock: drop the table's bias
 * and the caller's lookup reference together, unlock, and wait until no
 * other short-term user is left. Waiting DESTROYs are woken so that they
 * see the slot change and let go.
 */
static void iommufd_object_unlock_and_drain(struct iommufd_ctx *ictx,
					    struct iommufd_object *obj)
	__releases(&ictx->objects.xa_lock)
{
	bool idle = refcount_sub_and_test(2, &obj->shortterm_users);

	xa_unlock(&ictx->objects);
	if (idle)
		return;
	wake_up_all(&ictx->destroy_wait);
	wait_event(ictx->destroy_wait, !refcount_read(&obj->shortterm_users));
}

/*
 * Take @obj out of the table if nothing but the table holds it long-term:
 * the removal by an owner (iommufd_object_put_owned()), which must finish.
 * The caller holds one short-term reference, which this consumes. The
 * slot holds XA_ZERO_ENTRY while we wait for in-flight system calls to
 * finish with the object (and for waiting user DESTROYs, woken here, to
 * see it gone), so no new lookup can start. If a long-term user appeared
 * meanwhile (a command that had the object looked up made something that
 * depends on it) the object is put back and the caller gets EBUSY.
 */
static int iommufd_object_remove_owned(struct iommufd_ctx *ictx,
				       struct iommufd_object *obj)
{
	int rc = 0;

	xa_lock(&ictx->objects);
	if (xa_load(&ictx->objects, obj->id) != obj) {
		/* A user's DESTROY got here first. */
		rc = -ENOENT;
	} else {
		/*
		 * The owner lets go of its reference under the lock, so a
		 * racing user DESTROY either saw it (EBUSY) or sees the
		 * slot emptied (ENOENT), never a half-released object.
		 */
		refcount_dec(&obj->users);
		if (refcount_read(&obj->users) != 1)
			rc = -EBUSY;
	}
	if (rc) {
		xa_unlock(&ictx->objects);
		iommufd_put_object(ictx, obj);
		return rc;
	}
	__xa_store(&ictx->objects, obj->id, XA_ZERO_ENTRY, GFP_ATOMIC);
	iommufd_object_unlock_and_drain(ictx, obj);

	xa_lock(&ictx->objects);
	if (refcount_read(&obj->users) != 1) {
		rc = -EBUSY;
		/*
		 * Put the bias back. A reader may still hold a reference,
		 * so add to the count rather than set it; with the slot
		 * still zeroed, no new reader can race with the set.
		 */
		if (!refcount_inc_not_zero(&obj->shortterm_users))
			refcount_set(&obj->shortterm_users, 1);
		__xa_store(&ictx->objects, obj->id, obj, GFP_ATOMIC);
	} else {
		__xa_erase(&ictx->objects, obj->id);
	}
	xa_unlock(&ictx->objects);
	return rc;
}

/*
 * Where a user's DESTROY of @obj stands, under xa_lock: -ENOENT if the
 * object left its slot (another remover won), -EBUSY if something depends
 * on it, 0 once only the table's bias and the references of waiting
 * DESTROYs are left, -EAGAIN while other commands still use it.
 */
static int iommufd_destroy_state(struct iommufd_ctx *ictx,
				 struct iommufd_object *obj)
{
	lockdep_assert_held(&ictx->objects.xa_lock);
	if (xa_load(&ictx->objects, obj->id) != obj)
		return -ENOENT;
	if (refcount_read(&obj->users) != 1)
		return -EBUSY;
	if (refcount_read(&obj->shortterm_users) > 1 + obj->destroyers)
		return -EAGAIN;
	return 0;
}

/* The unlocked peek of the wait; the verdict is taken under xa_lock. */
static bool iommufd_destroy_may_go_on(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj)
{
	return xa_load(&ictx->objects, obj->id) != obj ||
	       refcount_read(&obj->users) != 1 ||
	       refcount_read(&obj->shortterm_users) <=
		       1 + READ_ONCE(obj->destroyers);
}

/*
 * A user's IOMMU_DESTROY of @obj, looked up with a short-term reference,
 * which this consumes. Commands already using the object are waited for
 * (interruptibly) with the object left in its slot: commands issued
 * meanwhile still find it, and if one of them makes something that
 * depends on it the DESTROY ends in EBUSY as if it came after. Once only
 * waiting DESTROYs hold it, the first to take xa_lock empties the slot
 * and waits for the others, woken by the change, to drop their references;
 * they report ENOENT, as a DESTROY of a destroyed object does.
 */
static int iommufd_object_remove_user(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj)
{
	int rc;

	xa_lock(&ictx->objects);
	obj->destroyers++;
	while ((rc = iommufd_destroy_state(ictx, obj)) == -EAGAIN) {
		xa_unlock(&ictx->objects);
		rc = wait_event_interruptible(ictx->destroy_wait,
					      iommufd_destroy_may_go_on(ictx,
									obj));
		xa_lock(&ictx->objects);
		if (rc)
			break;
	}
	obj->destroyers--;
	if (rc) {
		xa_unlock(&ictx->objects);
		iommufd_put_object(ictx, obj);
		return rc;
	}
	__xa_erase(&ictx->objects, obj->id);
	iommufd_object_unlock_and_drain(ictx, obj);
	return 0;
}

/*
 * IOMMU_DESTROY: the table's own command, which the dispatcher above
 * runs like any other. It needs nothing of the layers that own the
 * objects; their destroy operation is reached through obj->ops.
 */
int iommufd_destroy(struct iommufd_ucmd *ucmd)
{
	struct iommu_destroy *cmd = ucmd->cmd;
	struct iommufd_object *obj;
	int rc;

	obj = iommufd_get_object(ucmd->ictx, cmd->id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	rc = iommufd_object_remove_user(ucmd->ictx, obj);
	/*
	 * An interrupted wait asks for a restart of the system call, which
	 * means nothing to an io_uring completion: say what it became.
	 */
	if (rc == -ERESTARTSYS && ucmd->from_uring)
		return -EINTR;
	if (rc)
		return rc;
	iommufd_object_free(obj);
	return 0;
}

/*
 * Drop an owner's reference (several owners may share an object, like
 * devices sharing an automatic HW page table); the last one removes and
 * frees the object. Returns true if it did.
 */
bool iommufd_object_put_owned(struct iommufd_ctx *ictx,
			      struct iommufd_object *obj)
{
	xa_lock(&ictx->objects);
	if (xa_load(&ictx->objects, obj->id) != obj) {
		/*
		 * Someone is removing it and waits for its short-term users
		 * (the count may be at zero right now). Just let go: the
		 * remover re-checks the long-term users before it frees.
		 */
		refcount_dec(&obj->users);
		xa_unlock(&ictx->objects);
		return false;
	}
	/* In its slot, the object holds its bias: the count is not zero. */
	refcount_inc(&obj->shortterm_users);
	xa_unlock(&ictx->objects);
	if (iommufd_object_remove_owned(ictx, obj))
		return false;
	iommufd_object_free(obj);
	return true;
}

/**
 * iommufd_object_destroy_owned - destroy an object owned by the kernel
 * @ictx: the context of the object
 * @obj: an object whose owner holds one extra long-term reference
 *
 * Some objects (accesses) are in the table so they have IDs, but their
 * lifetime belongs to an in-kernel owner, not to userspace: the owner's
 * reference makes a user's IOMMU_DESTROY fail with EBUSY. The owner ends
 * the object here, dropping its reference and removing it for good.
 */
void iommufd_object_destroy_owned(struct iommufd_ctx *ictx,
				  struct iommufd_object *obj)
{
	/* Nothing may depend on an owned object; if it does, leak it. */
	WARN_ON(!iommufd_object_put_owned(ictx, obj));
}

/*
 * Destroy every object that nothing else depends on; repeat until the
 * table is empty. Objects only ever depend on objects created before
 * them, so every pass frees at least one object unless there is a
 * reference leak, which we report instead of spinning forever. A context
 * may hold millions of objects, each of which may unmap and unpin much:
 * the loop reschedules after each, holding no lock there (xa_for_each()
 * takes the RCU read lock only inside each step). At close, when no
 * system call can run on the context any more.
 */
void iommufd_objects_destroy_all(struct iommufd_ctx *ictx)
{
	struct iommufd_object *obj;
	unsigned long index;
	bool progress;

	do {
		progress = false;
		xa_for_each(&ictx->objects, index, obj) {
			if (refcount_read(&obj->users) != 1)
				continue;
			xa_erase(&ictx->objects, index);
			iommufd_object_free(obj);
			progress = true;
			cond_resched();
		}
	} while (progress);
	WARN(!xa_empty(&ictx->objects), "iommufd: objects leaked at close\n");
	xa_destroy(&ictx->objects);
}
