/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Driver data from userspace: the blob IOMMU_HWPT_ALLOC hands a driver
 * for a nested HWPT, and the array of entries IOMMU_HWPT_INVALIDATE hands
 * it. The core knows neither layout; the driver copies what it defines
 * with the helpers here, which apply upstream's length rules so that
 * every driver answers the same errnos (Documentation/nesting.rst).
 */
#ifndef IOMMUFD_USER_DATA_H
#define IOMMUFD_USER_DATA_H

#include <linux/types.h>
#include <linux/uaccess.h>

#include "fault.h"

/**
 * struct iommufd_user_data - one blob of driver data in user memory
 * @type: the caller's data_type; the driver checks it is its own
 * @uptr: where the blob is
 * @len: its length as the caller gave it, never 0 when passed to a driver
 */
struct iommufd_user_data {
	u32 type;
	void __user *uptr;
	size_t len;
};

/**
 * struct iommufd_user_array - an array of driver entries in user memory
 * @type: the caller's data_type of every entry
 * @uptr: the first entry
 * @entry_len: bytes per entry, as the caller lays them out; 1 to
 *	PAGE_SIZE when @entry_num is not 0 (the core checked it)
 * @entry_num: in: entries in the array; out: entries the driver handled,
 *	counted from the first, also when it fails on the next one
 */
struct iommufd_user_array {
	u32 type;
	void __user *uptr;
	u32 entry_len;
	u32 entry_num;
};

/**
 * iommufd_user_data_copy - copy a driver struct in from a user blob
 * @dst: the driver's struct, @size bytes
 * @size: sizeof the driver's struct as this module knows it
 * @min_size: the end of the last field of the struct's first version
 * @type: the data type the driver is copying
 * @src: the blob
 *
 * Upstream 6.12's rules: another type, a blob shorter than @min_size or
 * longer than @size is EINVAL (longer even with a zero tail: the driver
 * cannot tell a newer layout's meaning); a shorter one is zero-extended;
 * a fault is EFAULT.
 */
static inline int iommufd_user_data_copy(void *dst, size_t size,
					 size_t min_size, u32 type,
					 const struct iommufd_user_data *src)
{
	if (src->type != type)
		return -EINVAL;
	if (src->len < min_size || src->len > size)
		return -EINVAL;
	if (iommufd_fault_hit(IOMMUFD_FAULT_USER_COPY))
		return -EFAULT;
	return copy_struct_from_user(dst, size, src->uptr, src->len);
}

/*
 * iommufd_user_data_copy() of entry @index of @array: the entry is
 * entry_len bytes at uptr + index * entry_len. EINVAL past the end.
 */
static inline int iommufd_user_array_copy(void *dst, size_t size,
					  size_t min_size, u32 type,
					  const struct iommufd_user_array *array,
					  u32 index)
{
	struct iommufd_user_data one = {
		.type = array->type,
		.uptr = array->uptr + (size_t)array->entry_len * index,
		.len = array->entry_len,
	};

	if (index >= array->entry_num)
		return -EINVAL;
	return iommufd_user_data_copy(dst, size, min_size, type, &one);
}

#endif
