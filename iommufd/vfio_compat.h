/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VFIO type1 semantics on an IOAS: the container ioctls of VFIO
 * (<uapi/linux/vfio.h>) acted out on one designated IOAS of a context,
 * the "compat IOAS" (struct iommufd_ctx::vfio_ioas).
 *
 * Two entries use it: the /dev/iommu dispatcher, which hands every ioctl
 * number it does not know to iommufd_vfio_ioctl(), as upstream does, and
 * the VFIO IOMMU backend (the container ops of /dev/vfio/vfio), which
 * makes or picks the compat IOAS with the helpers below and then passes
 * the container's ioctls to iommufd_vfio_ioctl() unchanged.
 *
 * Contract with callers:
 *  - Every function may sleep. None holds a lock across calls; the compat
 *    IOAS is looked up afresh by each ioctl, so IOMMU_VFIO_IOAS SET or
 *    CLEAR, or destroying the IOAS, takes effect for the next ioctl.
 *  - The compat IOAS is an ordinary object of the context: userspace sees
 *    its ID (IOMMU_VFIO_IOAS GET) and may destroy it, which clears the
 *    choice; it goes away at the latest when the context is closed.
 *  - Memory mapped with VFIO_IOMMU_MAP_DMA is charged to the mapping
 *    process's mm (locked_vm against its RLIMIT_MEMLOCK, nothing with
 *    CAP_IPC_LOCK), as VFIO type1 charges, whatever the context's
 *    IOMMU_OPTION_RLIMIT_MODE says.
 */
#ifndef IOMMUFD_VFIO_COMPAT_H
#define IOMMUFD_VFIO_COMPAT_H

#include <linux/types.h>

struct iommufd_ctx;
struct iommufd_ucmd;

/**
 * iommufd_vfio_ioctl - run one VFIO container ioctl on the compat IOAS
 * @ictx: the context
 * @cmd: the ioctl number
 * @arg: the ioctl's argument, a user pointer or a value as VFIO defines
 *
 * Handles VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU,
 * VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA and VFIO_IOMMU_UNMAP_DMA with
 * upstream iommufd's errnos; -ENOTTY for every other number. Returns what
 * the ioctl returns to userspace.
 */
long iommufd_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd,
			unsigned long arg);

/* IOMMU_VFIO_IOAS, the dispatcher's handler. */
int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd);

/**
 * iommufd_vfio_compat_ioas_create - make sure a compat IOAS exists
 * @ictx: the context
 *
 * Creates a plain IOAS and makes it the compat one, unless there is one
 * already, which is then kept. The new IOAS is a user-visible object.
 * Returns 0 or -ENOMEM.
 */
int iommufd_vfio_compat_ioas_create(struct iommufd_ctx *ictx);

/**
 * iommufd_vfio_compat_set_ioas - make IOAS @ioas_id the compat one
 * @ictx: the context
 * @ioas_id: an IOAS of @ictx
 *
 * Returns 0, or -ENOENT if @ioas_id names no IOAS of @ictx.
 */
int iommufd_vfio_compat_set_ioas(struct iommufd_ctx *ictx, u32 ioas_id);

/**
 * iommufd_vfio_compat_ioas_get_id - the ID of the compat IOAS
 * @ictx: the context
 * @out_ioas_id: out: its ID
 *
 * Returns 0, or -ENODEV if there is none.
 */
int iommufd_vfio_compat_ioas_get_id(struct iommufd_ctx *ictx,
				    u32 *out_ioas_id);

/*
 * What emulated devices do that dirties pages no IOMMU sees, told by the
 * VFIO backend so that VFIO_IOMMU_DIRTY_PAGES reports it as type1 does:
 * the page at @iova got its first pin (-ENOMEM: nothing recorded, the
 * caller undoes the pin), lost its last pin, or [@iova, @iova + @length)
 * was written by dma_rw; a group with an IOMMU domain left.
 */
int iommufd_vfio_compat_pinned(struct iommufd_ctx *ictx, unsigned long iova);
void iommufd_vfio_compat_unpinned(struct iommufd_ctx *ictx,
				  unsigned long iova);
void iommufd_vfio_compat_written(struct iommufd_ctx *ictx, unsigned long iova,
				 size_t length);
void iommufd_vfio_compat_group_left(struct iommufd_ctx *ictx);

#endif
