// SPDX-License-Identifier: GPL-2.0
/*
 * The session's own state, which every other file may use and which
 * uses none of them: why the last usage error happened, the fd and its
 * io_uring, opened on first use, and what a name may look like.
 */
#include <ctype.h>
#include <stdarg.h>

#include "iommufdctl.h"
#include "session.h"

int ctl_usage(struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctl->usage_msg, sizeof(ctl->usage_msg), fmt, ap);
	va_end(ap);
	return CTL_USAGE;
}

/* The session's fd, opened on first use; -errno if it cannot be. */
int ctl_fd(struct ctl *ctl)
{
	if (ctl->fd < 0)
		ctl->fd = iommufd_open(ctl->dev_path);
	return ctl->fd;
}

/*
 * The session's io_uring on its fd, made on first use (--uring, "batch");
 * 0 or -errno.
 */
int ctl_ring(struct ctl *ctl)
{
	if (ctl->ring)
		return 0;
	return iommufd_uring_init(ctl->fd, CTL_MAX_WORDS, &ctl->ring);
}

/* A variable's or a buffer's name: a letter or _, then letters, digits, _. */
bool is_name(const char *s, size_t len)
{
	size_t i;

	if (!len || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (i = 1; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}
