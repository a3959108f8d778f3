// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-link CONTAINER_FD: IOMMU_VFIO_LINK (an extension) on the session's
 * /dev/iommu fd. CONTAINER_FD is a file descriptor of this process that
 * holds a /dev/vfio/vfio container whose IOMMU is our VFIO backend: one
 * inherited from the shell (iommufdctl 5<>/dev/vfio/vfio, set up by
 * another program), or one a container command of this tool opened. The
 * device count is asked first (an empty array: EMSGSIZE with the count),
 * so the array is sized by the kernel's answer, never guessed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "../lib/libiommufd.h"
#include "iommufdctl.h"
#include "output.h"
#include "parse.h"
#include "vfio_link.h"

/* Bounds the retries when groups join the container between the calls. */
#define LINK_TRIES 8

static int link_once(struct ctl *ctl, __u32 container, __u32 *ioas_id,
		     __u32 *ids, __u32 *num)
{
	struct iommu_vfio_link cmd = {
		.size = sizeof(cmd),
		.container_fd = (__s32)container,
		.num_devices = *num,
		.devices = (__u64)(uintptr_t)ids,
	};
	int rc = iommufd_ioctl(ctl->fd, IOMMU_VFIO_LINK, &cmd);

	if (!rc || rc == -EMSGSIZE)
		*num = cmd.num_devices;
	if (!rc)
		*ioas_id = cmd.out_ioas_id;
	return rc;
}

int cmd_vfio_link(struct ctl *ctl, struct ctl_args *a)
{
	__u32 container, ioas_id = 0, num = 0, room = 0, *ids = NULL, i;
	int rc, tries;

	if (parse_u32(ctl, "CONTAINER_FD", a->argv[0], &container))
		return CTL_USAGE;
	for (tries = 0; tries < LINK_TRIES; tries++) {
		num = room;
		rc = link_once(ctl, container, &ioas_id, ids, &num);
		if (rc != -EMSGSIZE)
			break;
		free(ids);
		room = num;
		ids = calloc(room ? room : 1, sizeof(*ids));
		if (!ids)
			return -ENOMEM;
	}
	if (!rc) {
		out_dec(ctl, "ioas", ioas_id);
		out_dec(ctl, "count", num);
		out_list(ctl, "device");
		for (i = 0; i < num; i++) {
			out_item(ctl);
			out_dec(ctl, "id", ids[i]);
		}
	}
	free(ids);
	return rc;
}
