/* SPDX-License-Identifier: GPL-2.0 */
/* session.c: the session's own state, and names. */
#ifndef IOMMUFDCTL_SESSION_H
#define IOMMUFDCTL_SESSION_H

#include "iommufdctl.h"

int ctl_usage(struct ctl *ctl, const char *fmt, ...) CTL_PRINTF(2, 3);
int ctl_fd(struct ctl *ctl);
int ctl_ring(struct ctl *ctl);
bool is_name(const char *s, size_t len);

#endif /* IOMMUFDCTL_SESSION_H */
