// SPDX-License-Identifier: GPL-2.0
/*
 * Replies of command handlers: what every handler (ioas.c, device.c,
 * hw_pagetable.c, selftest.c, ...) calls to copy its struct back to the
 * caller. It sits below the handlers and knows nothing of the dispatcher
 * that runs them (main.c), which fills struct iommufd_ucmd in.
 */
#include <linux/minmax.h>

#include "fault.h"
#include "iommufd_private.h"

/*
 * The copy of iommufd_ucmd_respond(), for a struct in user memory: no
 * more than the caller's size, so an older binary's buffer is never
 * overrun.
 */
int iommufd_ucmd_copy_out(struct iommufd_ucmd *ucmd, size_t cmd_len)
{
	if (iommufd_copy_to_user(ucmd->ubuffer, ucmd->cmd,
				 min_t(size_t, ucmd->user_size, cmd_len)))
		return -EFAULT;
	return 0;
}
