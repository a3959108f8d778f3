/* SPDX-License-Identifier: GPL-2.0 */
/* mem.c: buffers to map. */
#ifndef IOMMUFDCTL_MEM_H
#define IOMMUFDCTL_MEM_H

#include "iommufdctl.h"

struct ctl_mem *mem_find(struct ctl *ctl, const char *name);
int mem_alloc(struct ctl *ctl, const char *name, __u64 size,
	      const char *kind, struct ctl_mem **memp);

#endif /* IOMMUFDCTL_MEM_H */
