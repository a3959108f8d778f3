/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault points (test builds only). Every allocation, pin, copy to or from
 * user memory and iommu_map() of the module asks iommufd_fault_hit()
 * first; the selftests use IOMMU_TEST_OP_FAIL_NTH to make the Nth such
 * event of the calling task fail, then check that the operation unwound
 * completely. In a release build every check is a constant false.
 */
#ifndef IOMMUFD_FAULT_H
#define IOMMUFD_FAULT_H

#include <linux/jump_label.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "iommufd_test.h"

struct iommufd_ctx;

enum iommufd_fault {
	IOMMUFD_FAULT_ALLOC = MOCK_FAULT_ALLOC,
	IOMMUFD_FAULT_PIN = MOCK_FAULT_PIN,
	IOMMUFD_FAULT_USER_COPY = MOCK_FAULT_USER_COPY,
	IOMMUFD_FAULT_IOMMU_MAP = MOCK_FAULT_IOMMU_MAP,
};

#ifdef CONFIG_IOMMUFD_OOT_TEST
/**
 * struct iommufd_fault_report - what IOMMU_TEST_OP_FAIL_NTH reports
 * @fired: the task's previous setting made an event fail
 * @seen: how many events the previous setting counted
 * @armed_tasks: tasks with fault points armed, after the change
 */
struct iommufd_fault_report {
	bool fired;
	unsigned long seen;
	unsigned long armed_tasks;
};

/* fault.c. Enabled while at least one task has a fault state. */
DECLARE_STATIC_KEY_FALSE(iommufd_faults_armed);
bool iommufd_fault_hit_slow(enum iommufd_fault kind);
int iommufd_fault_set_current(struct iommufd_ctx *ictx, u32 nth, u32 kinds,
			      struct iommufd_fault_report *report);
void iommufd_fault_ctx_closed(struct iommufd_ctx *ictx);
bool iommufd_fault_armed_current_slow(void);
void iommufd_fault_exit(void);

/*
 * The map and unmap paths pass a dozen fault points per call; until a
 * test arms one they cost a patched-out jump, not a call and a lookup,
 * so test builds measure like release builds in make bench.
 */
static inline bool iommufd_fault_hit(enum iommufd_fault kind)
{
	if (!static_branch_unlikely(&iommufd_faults_armed))
		return false;
	return iommufd_fault_hit_slow(kind);
}

/* Has the calling task fault points armed (IOMMU_TEST_OP_FAIL_NTH)? */
static inline bool iommufd_fault_armed_current(void)
{
	if (!static_branch_unlikely(&iommufd_faults_armed))
		return false;
	return iommufd_fault_armed_current_slow();
}
#else
static inline bool iommufd_fault_hit(enum iommufd_fault kind)
{
	return false;
}

static inline void iommufd_fault_ctx_closed(struct iommufd_ctx *ictx)
{
}

static inline bool iommufd_fault_armed_current(void)
{
	return false;
}

static inline void iommufd_fault_exit(void)
{
}
#endif

/* Allocation and user-copy helpers with their fault point built in. */
static inline void *iommufd_kzalloc(size_t size)
{
	if (iommufd_fault_hit(IOMMUFD_FAULT_ALLOC))
		return NULL;
	return kzalloc(size, GFP_KERNEL_ACCOUNT);
}

static inline void *iommufd_kvcalloc(size_t n, size_t size)
{
	if (iommufd_fault_hit(IOMMUFD_FAULT_ALLOC))
		return NULL;
	return kvcalloc(n, size, GFP_KERNEL_ACCOUNT);
}

/* Not zeroed: for buffers every user writes before it reads. */
static inline void *iommufd_kvmalloc_array(size_t n, size_t size)
{
	if (iommufd_fault_hit(IOMMUFD_FAULT_ALLOC))
		return NULL;
	return kvmalloc_array(n, size, GFP_KERNEL_ACCOUNT);
}

static inline void *iommufd_krealloc_array(void *p, size_t n, size_t size)
{
	if (iommufd_fault_hit(IOMMUFD_FAULT_ALLOC))
		return NULL;
	return krealloc_array(p, n, size, GFP_KERNEL_ACCOUNT);
}

static inline unsigned long iommufd_copy_to_user(void __user *to,
						 const void *from,
						 unsigned long n)
{
	if (iommufd_fault_hit(IOMMUFD_FAULT_USER_COPY))
		return n;
	return copy_to_user(to, from, n);
}

static inline unsigned long iommufd_copy_from_user(void *to,
						   const void __user *from,
						   unsigned long n)
{
	if (iommufd_fault_hit(IOMMUFD_FAULT_USER_COPY))
		return n;
	return copy_from_user(to, from, n);
}

#endif
