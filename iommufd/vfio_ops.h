/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VFIO's interface for IOMMU drivers of its container, as each kernel we
 * build for has it. VFIO keeps it in its private drivers/vfio/vfio.h,
 * which no header package ships, so its layout is written out here per
 * kernel version and checked at build time against the BTF of the very
 * vfio.ko the module is built for (tools/vfio-btf.sh generates
 * vfio_ops_btf.h from it): a member added, removed, moved or retyped
 * stops the build with a static_assert naming it, never the kernel.
 *
 * Used only by the VFIO module (vfio_iommu.c).
 */
#ifndef IOMMUFD_VFIO_OPS_H
#define IOMMUFD_VFIO_OPS_H

#include <linux/build_bug.h>
#include <linux/iommu.h>
#include <linux/types.h>
#include <linux/version.h>
#include <linux/vfio.h>

struct module;
struct page;

/* What kind of group VFIO hands to attach_group (drivers/vfio/vfio.h). */
enum vfio_group_type {
	VFIO_IOMMU,
	VFIO_EMULATED_IOMMU,
	VFIO_NO_IOMMU,
};

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
/* 6.1 tells its IOMMU driver when the container file is closed. */
enum vfio_iommu_notify_type {
	VFIO_IOMMU_CONTAINER_CLOSE = 0,
};
#endif

/*
 * The layout of both kernels; 6.1 has one more callback at the end. The
 * names and types are VFIO's, as the BTF check compares them.
 */
struct vfio_iommu_driver_ops {
	char *name;
	struct module *owner;
	void *(*open)(unsigned long arg);
	void (*release)(void *iommu_data);
	long (*ioctl)(void *iommu_data, unsigned int cmd, unsigned long arg);
	int (*attach_group)(void *iommu_data, struct iommu_group *group,
			    enum vfio_group_type type);
	void (*detach_group)(void *iommu_data, struct iommu_group *group);
	int (*pin_pages)(void *iommu_data, struct iommu_group *group,
			 dma_addr_t user_iova, int npage, int prot,
			 struct page **pages);
	void (*unpin_pages)(void *iommu_data, dma_addr_t user_iova, int npage);
	void (*register_device)(void *iommu_data, struct vfio_device *vdev);
	void (*unregister_device)(void *iommu_data, struct vfio_device *vdev);
	int (*dma_rw)(void *iommu_data, dma_addr_t user_iova, void *data,
		      size_t count, bool write);
	struct iommu_domain *(*group_iommu_domain)(void *iommu_data,
						   struct iommu_group *group);
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
	void (*notify)(void *iommu_data, enum vfio_iommu_notify_type event);
#endif
};

/* Exported by vfio.ko on both kernels. */
int vfio_register_iommu_driver(const struct vfio_iommu_driver_ops *ops);
void vfio_unregister_iommu_driver(const struct vfio_iommu_driver_ops *ops);

/*
 * The build-time check. vfio_ops_btf.h defines VFIO_OPS_BTF_SIZE and
 * VFIO_OPS_BTF_MEMBERS(X), which calls X(member, offset, type) for every
 * member of the BTF's struct, the type written as a type name (the
 * member's declaration without its name). Every member at its offset with
 * its type, and the same size, leave no room for a member of ours that
 * VFIO lacks.
 */
#include "vfio_ops_btf.h"

#define VFIO_OPS_CHECK_MEMBER(member, offset, type)                           \
	static_assert(offsetof(struct vfio_iommu_driver_ops, member) ==        \
		      (offset),                                                \
		      "vfio_iommu_driver_ops." #member " is at another offset " \
		      "in this kernel's vfio.ko: update iommufd/vfio_ops.h");  \
	static_assert(__builtin_types_compatible_p(                            \
			      typeof(((struct vfio_iommu_driver_ops *)0)->member), \
			      type),                                           \
		      "vfio_iommu_driver_ops." #member " has another type "    \
		      "in this kernel's vfio.ko: update iommufd/vfio_ops.h");

VFIO_OPS_BTF_MEMBERS(VFIO_OPS_CHECK_MEMBER)

static_assert(sizeof(struct vfio_iommu_driver_ops) == VFIO_OPS_BTF_SIZE,
	      "vfio_iommu_driver_ops has another size in this kernel's "
	      "vfio.ko (a member added or removed): update iommufd/vfio_ops.h");

#define VFIO_GROUP_TYPE_CHECK(name, value)                                    \
	static_assert(name == (value),                                         \
		      "enum vfio_group_type's " #name " has another value in " \
		      "this kernel's vfio.ko: update iommufd/vfio_ops.h");

VFIO_GROUP_TYPE_BTF_VALUES(VFIO_GROUP_TYPE_CHECK)

#endif
