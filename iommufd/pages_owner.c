// SPDX-License-Identifier: GPL-2.0
/*
 * The owner of mapped memory, the bottom of the pages layer: struct
 * iopt_owner's life, charging pins to the owner's RLIMIT_MEMLOCK, and
 * pinning from its address space when the caller runs in another. The
 * inline halves (pages_owner.h) are on the one-page map path; what is
 * here runs when an owner is made or freed, and for each charge.
 *
 * It uses no other file of the module but the fault points.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>

#include "pages_owner.h"

void iopt_owner_free(struct iopt_owner *owner)
{
	put_task_struct(owner->task);
	mmdrop(owner->mm);
	put_cred(owner->cred);
	kfree(owner);
}

/*
 * A new owner for current, with a reference for the caller. With @cache
 * it becomes the context's last owner, with a second reference for the
 * cache's slot, and the owner it replaces loses the slot's reference.
 */
struct iopt_owner *iopt_owner_new(struct iopt_pages_cache *cache)
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
		iopt_owner_put(old);
	return owner;
}

/* user_struct::locked_vm, the accounting io_uring also uses. */
int iopt_owner_charge_user(struct iopt_owner *owner, unsigned long npages)
{
	unsigned long limit = task_rlimit(owner->task, RLIMIT_MEMLOCK) >>
			      PAGE_SHIFT;
	atomic_long_t *locked = &owner->cred->user->locked_vm;
	long cur = atomic_long_read(locked);

	do {
		if (cur + npages > limit)
			return -ENOMEM;
	} while (!atomic_long_try_cmpxchg(locked, &cur, cur + npages));
	return 0;
}

/*
 * mm_struct::locked_vm, as VFIO type1 charges (@inc) and uncharges. The
 * mm is only grabbed, not held, but its lock and counters stay valid
 * until mmdrop().
 */
int iopt_owner_charge_mm(struct iopt_owner *owner, unsigned long npages,
			 bool inc, bool nowait)
{
	int rc;

	/* The mm's lock has no write trylock: a caller that must not wait. */
	if (nowait)
		return -EAGAIN;
	mmap_write_lock(owner->mm);
	rc = __account_locked_vm(owner->mm, npages, inc, owner->task, false);
	mmap_write_unlock(owner->mm);
	return rc;
}

/* Pin from the owner's address space, which must still be alive. */
long iopt_owner_pin_remote(struct iopt_owner *owner, unsigned long addr,
			   unsigned long npages, unsigned int gup_flags,
			   struct page **out)
{
	struct mm_struct *mm = owner->mm;
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
 * The PFNs of device memory (a VM_IO/VM_PFNMAP mapping, such as a BAR
 * mmapped through VFIO) from @addr in the owner's address space: looked
 * up, not pinned, as VFIO type1 resolves them, faulting in what the
 * driver has not mapped yet. Returns how many of @npages it found from
 * @addr on (at least one), or -EFAULT.
 */
long iopt_owner_mmio_pfns(struct iopt_owner *owner, unsigned long addr,
			  unsigned long npages, bool write,
			  unsigned long *pfns)
{
	unsigned int fault_flags = write ? FAULT_FLAG_WRITE : 0;
	struct mm_struct *mm = owner->mm;
	unsigned long i = 0, faulted = ULONG_MAX;
	int rc = 0;

	if (!mmget_not_zero(mm))
		return -EFAULT;
	mmap_read_lock(mm);
	while (i != npages) {
		unsigned long va = addr + (i << PAGE_SHIFT);
		struct vm_area_struct *vma = vma_lookup(mm, va);
		bool unlocked = false;

		if (!vma || !(vma->vm_flags & (VM_IO | VM_PFNMAP))) {
			rc = -EFAULT;
			break;
		}
		rc = compat_follow_pfn(vma, va, write, &pfns[i]);
		if (!rc) {
			i++;
			continue;
		}
		/* Fault it in once; still nothing there is a hole. */
		if (faulted == i ||
		    fixup_user_fault(mm, va, fault_flags, &unlocked)) {
			rc = -EFAULT;
			break;
		}
		faulted = i;
		cond_resched();
	}
	mmap_read_unlock(mm);
	mmput(mm);
	return i ? i : rc;
}
