/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The owner of mapped memory (pages_owner.c), the bottom of the pages
 * layer: who mapped it, charging its pins to RLIMIT_MEMLOCK and
 * pinned_vm, and reaching its address space. Only the pages files use
 * this header; the layers above see pages.h.
 *
 * The helpers marked __always_inline here are on the path of every
 * one-page map and unmap, where a call and return cost about as much as
 * their work: on hardware too, where on CPUs that need the retbleed or
 * SRSO mitigations every return goes through a return thunk. They stay
 * inline in the files that use them, as they were when the pages layer
 * was one file.
 */
#ifndef IOMMUFD_PAGES_OWNER_H
#define IOMMUFD_PAGES_OWNER_H

#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/refcount.h>
#include <linux/sched.h>

#include "compat.h"
#include "fault.h"
#include "pages.h"

/**
 * struct iopt_owner - the task, address space and user that map memory,
 *	shared by the pages objects they map through one context
 * @users: a reference per pages object, and one for the context's slot
 *	(iopt_pages_cache::owner)
 * @task: the thread group leader, for its RLIMIT_MEMLOCK; referenced
 * @mm: the address space of the memory; mmgrab()bed, so the struct stays
 *	but the address space may already be gone (after exit)
 * @cred: the mapping thread's credentials; referenced. Their user is
 *	the one charged in IOPT_ACCOUNT_USER mode.
 * @may_lock: @cred holds CAP_IPC_LOCK: memory mapped by this owner is
 *	not charged (IOPT_ACCOUNT_NONE), as for mlock()
 *
 * Every field but @users is set when the owner is made and never changes
 * after, so an owner needs no lock: whoever holds a reference reads it.
 *
 * Taking three references and running capable() (the LSM hooks) for
 * every map, and dropping the references for every unmap, was a visible
 * part of a one-page map. A VMM maps from one process, so each context
 * keeps the last owner that mapped through it, and every map from the
 * same thread group, address space and credentials shares it, with one
 * reference and the capability verdict taken when it was made. A task
 * that drops the capability (capset(), setuid()) has new credentials and
 * so gets a new owner and a fresh check.
 */
struct iopt_owner {
	refcount_t users;
	struct task_struct *task;
	struct mm_struct *mm;
	const struct cred *cred;
	bool may_lock;
};

/* pages_owner.c */
struct iopt_owner *iopt_owner_new(struct iopt_pages_cache *cache);
void iopt_owner_free(struct iopt_owner *owner);
int iopt_owner_charge_user(struct iopt_owner *owner, unsigned long npages);
int iopt_owner_charge_mm(struct iopt_owner *owner, unsigned long npages,
			 bool inc, bool nowait);
long iopt_owner_pin_remote(struct iopt_owner *owner, unsigned long addr,
			   unsigned long npages, unsigned int gup_flags,
			   struct page **out);
long iopt_owner_mmio_pfns(struct iopt_owner *owner, unsigned long addr,
			  unsigned long npages, bool write,
			  unsigned long *pfns);

static __always_inline void iopt_owner_put(struct iopt_owner *owner)
{
	if (refcount_dec_and_test(&owner->users))
		iopt_owner_free(owner);
}

/*
 * Committed credentials never change, and the owner's reference keeps
 * its credentials alive (their address is not reused while it exists),
 * so the same pointer means the same user and the same capabilities.
 */
static __always_inline bool iopt_owner_is_current(struct iopt_owner *owner)
{
	return owner->task == current->group_leader &&
	       owner->mm == current->mm && owner->cred == current_cred();
}

/*
 * The context's last owner, with a new reference, if it is current's; or
 * NULL. The slot's own reference keeps it alive while @cache's lock is
 * held.
 */
static __always_inline struct iopt_owner *
iopt_owner_get_cached(struct iopt_pages_cache *cache)
{
	struct iopt_owner *owner = cache->owner;

	lockdep_assert_held(&cache->lock);
	if (!owner || !iopt_owner_is_current(owner))
		return NULL;
	refcount_inc(&owner->users);
	return owner;
}

/*
 * Charge @npages pins of @pages to its owner, as its account mode says,
 * and to the owner's pinned_vm. With @nowait, -EAGAIN where charging
 * would wait for the mm's lock.
 */
static __always_inline int iopt_pages_charge(struct iopt_pages *pages,
					     unsigned long npages, bool nowait)
{
	int rc = 0;

	/* Device memory is no RAM anyone locks: nothing to charge. */
	if (pages->mmio)
		return 0;
	if (pages->account_mode == IOPT_ACCOUNT_USER)
		rc = iopt_owner_charge_user(pages->owner, npages);
	else if (pages->account_mode == IOPT_ACCOUNT_MM)
		rc = iopt_owner_charge_mm(pages->owner, npages, true, nowait);
	if (rc)
		return rc;
	atomic64_add(npages, &pages->owner->mm->pinned_vm);
	return 0;
}

static __always_inline void iopt_pages_uncharge(struct iopt_pages *pages,
						unsigned long npages)
{
	if (!npages || pages->mmio)
		return;
	if (pages->account_mode == IOPT_ACCOUNT_USER)
		atomic_long_sub(npages, &pages->owner->cred->user->locked_vm);
	else if (pages->account_mode == IOPT_ACCOUNT_MM)
		WARN_ON(iopt_owner_charge_mm(pages->owner, npages, false,
					     false));
	atomic64_sub(npages, &pages->owner->mm->pinned_vm);
}

/*
 * Pin up to @npages pages of @pages from @index. Pins from the caller's
 * own address space go through the fast path; from another one (after
 * fork, or from a kernel thread) through the mm the owner recorded, which
 * must still be alive. With @nowait, all @npages or -EAGAIN, never
 * sleeping: only the caller's own address space, and only pages that are
 * present (see compat_pin_user_pages_nowait()).
 */
static __always_inline long iopt_pages_gup(struct iopt_pages *pages,
					   unsigned long index,
					   unsigned long npages,
					   unsigned int gup_flags,
					   struct page **out, bool nowait)
{
	unsigned long addr = (unsigned long)pages->uptr + (index << PAGE_SHIFT);
	struct mm_struct *mm = pages->owner->mm;

	if (iommufd_fault_hit(IOMMUFD_FAULT_PIN))
		return -ENOMEM;
	if (nowait)
		return current->mm == mm ?
			compat_pin_user_pages_nowait(addr, npages, gup_flags,
						     out) : -EAGAIN;
	if (current->mm == mm)
		return pin_user_pages_fast(addr, npages, gup_flags, out);
	return iopt_owner_pin_remote(pages->owner, addr, npages, gup_flags,
				     out);
}

/*
 * The PFNs of @npages pages of device memory (@pages->mmio) from @index:
 * how many it found, or -EFAULT; -EAGAIN with @nowait, as looking them
 * up takes the mm's lock.
 */
static inline long iopt_pages_mmio_pfns(struct iopt_pages *pages,
					unsigned long index,
					unsigned long npages,
					unsigned long *pfns, bool nowait)
{
	unsigned long addr = (unsigned long)pages->uptr + (index << PAGE_SHIFT);

	if (nowait)
		return -EAGAIN;
	if (iommufd_fault_hit(IOMMUFD_FAULT_PIN))
		return -ENOMEM;
	return iopt_owner_mmio_pfns(pages->owner, addr, npages,
				    pages->writable, pfns);
}

#endif
