/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the core module exports to the VFIO module (symbol namespace
 * IOMMUFD_OOT, GPL only): contexts the kernel owns, one per VFIO
 * container, whose compat IOAS the container's ioctls act on, and real
 * iommu_groups as device objects of such a context.
 */
#ifndef IOMMUFD_KAPI_H
#define IOMMUFD_KAPI_H

#include <linux/types.h>

struct file;
struct iommu_group;
struct iommufd_access;
struct iommufd_ctx;
struct iommufd_group;
struct module;
struct page;

/**
 * struct iommufd_link_ops - how IOMMU_VFIO_LINK finds a container's context
 * @owner: the module that provides @container_ctx; held across each call
 * @container_ctx: the context of the VFIO container open as @file, with a
 *	reference taken by iommufd_kapi_ctx_get(), or ERR_PTR(-EINVAL) if
 *	@file is not a container this backend serves (another errno for
 *	other failures)
 *
 * The VFIO module registers it: only it can tell its containers, and the
 * core never calls into it otherwise (iommufd/LAYERS).
 */
struct iommufd_link_ops {
	struct module *owner;
	struct iommufd_ctx *(*container_ctx)(struct file *file);
};

int iommufd_kapi_link_register(const struct iommufd_link_ops *ops);
void iommufd_kapi_link_unregister(const struct iommufd_link_ops *ops);
struct iommufd_ctx *iommufd_kapi_ctx_get(struct iommufd_ctx *ictx);

struct iommufd_ctx *iommufd_kapi_ctx_create(void);
void iommufd_kapi_ctx_destroy(struct iommufd_ctx *ictx);
long iommufd_kapi_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd,
			     unsigned long arg);
int iommufd_kapi_vfio_pinned(struct iommufd_ctx *ictx, unsigned long iova);
void iommufd_kapi_vfio_unpinned(struct iommufd_ctx *ictx, unsigned long iova);
void iommufd_kapi_vfio_written(struct iommufd_ctx *ictx, unsigned long iova,
			       size_t length);
void iommufd_kapi_vfio_group_left(struct iommufd_ctx *ictx);
struct iommufd_group *iommufd_kapi_group_attach(struct iommufd_ctx *ictx,
						struct iommu_group *group);
void iommufd_kapi_group_detach(struct iommufd_group *igroup);
phys_addr_t iommufd_kapi_group_iova_to_phys(struct iommufd_group *igroup,
					    unsigned long iova);

/*
 * Called before an unmap removes [iova, iova + length - 1] while pages
 * there may be pinned through the access: unpin them before returning.
 */
typedef void (*iommufd_kapi_unmap_fn)(void *data, unsigned long iova,
				      unsigned long length);

struct iommufd_access *iommufd_kapi_access_create(struct iommufd_ctx *ictx,
						  iommufd_kapi_unmap_fn unmap,
						  void *data);
void iommufd_kapi_access_destroy(struct iommufd_access *access);
int iommufd_kapi_access_pin(struct iommufd_access *access, unsigned long iova,
			    struct page **page, bool write);
void iommufd_kapi_access_unpin(struct iommufd_access *access,
			       unsigned long iova);
int iommufd_kapi_access_rw(struct iommufd_access *access, unsigned long iova,
			   void *data, size_t length, bool write);

#endif
