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
#include <linux/vfio.h>

#include "compat.h"

struct module;
struct page;

/* What kind of group VFIO hands to attach_group (drivers/vfio/vfio.h). */
enum vfio_group_type {
	VFIO_IOMMU,
	VFIO_EMULATED_IOMMU,
	VFIO_NO_IOMMU,
};

#if COMPAT_VFIO_OPS_HAS_NOTIFY
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
#if COMPAT_VFIO_OPS_HAS_NOTIFY
	void (*notify)(void *iommu_data, enum vfio_iommu_notify_type event);
#endif
};

/* Exported by vfio.ko on both kernels. */
int vfio_register_iommu_driver(const struct vfio_iommu_driver_ops *ops);
void vfio_unregister_iommu_driver(const struct vfio_iommu_driver_ops *ops);

/*
 * The build-time check. vfio_ops_btf.h defines VFIO_OPS_BTF_SIZE, and
 * X-macro lists: VFIO_OPS_BTF_OFFSETS(X), "X(member, offset);", and
 * VFIO_OPS_BTF_TYPES(X), "X(member, type);", for every member of the
 * BTF's struct, the type written as a type name (the member's declaration
 * without its name); VFIO_GROUP_TYPE_BTF_VALUES(X), "X(name, value);"
 * for every value of the enum. Every member at its offset with its type,
 * and the same size, leave no room for a member of ours that VFIO lacks.
 */
#include "vfio_ops_btf.h"

#define VFIO_OPS_CHECK_OFFSET(member, offset)                                 \
	static_assert(offsetof(struct vfio_iommu_driver_ops, member) ==        \
		      (offset),                                                \
		      "vfio_iommu_driver_ops." #member " moved: fix vfio_ops.h")

#define VFIO_OPS_CHECK_TYPE(member, type)                                     \
	static_assert(__builtin_types_compatible_p(                            \
			typeof_member(struct vfio_iommu_driver_ops, member),   \
			type),                                                 \
		      "vfio_iommu_driver_ops." #member " retyped: fix vfio_ops.h")

#define VFIO_GROUP_TYPE_CHECK(name, value)                                    \
	static_assert((name) == (value),                                       \
		      "enum vfio_group_type: " #name " renumbered: fix vfio_ops.h")

VFIO_OPS_BTF_OFFSETS(VFIO_OPS_CHECK_OFFSET)
VFIO_OPS_BTF_TYPES(VFIO_OPS_CHECK_TYPE)
VFIO_GROUP_TYPE_BTF_VALUES(VFIO_GROUP_TYPE_CHECK)
static_assert(sizeof(struct vfio_iommu_driver_ops) == VFIO_OPS_BTF_SIZE,
	      "vfio_iommu_driver_ops grew or shrank: fix vfio_ops.h");

#endif
